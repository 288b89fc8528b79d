-- Audit: marts.market_concentration has one row per "date". Returns each duplicated key with its row count; no
-- rows = pass.
-- A duplicated key double-counts a figure, so this check blocks what reads the table (and
-- the publish):
-- severity: error
select
    "date",
    count(*) as row_count
from marts.market_concentration
group by all
having count(*) > 1
