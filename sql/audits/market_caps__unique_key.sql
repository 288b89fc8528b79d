-- Audit: staging.market_caps has one row per cik, "date". Returns each duplicated key with its row count; no
-- rows = pass.
-- A duplicated key double-counts a figure, so this check blocks what reads the table (and
-- the publish):
-- severity: error
select
    cik, "date",
    count(*) as row_count
from staging.market_caps
group by all
having count(*) > 1
