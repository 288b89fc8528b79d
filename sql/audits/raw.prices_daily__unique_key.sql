-- Audit: raw.prices_daily has one row per symbol, "date". Returns each duplicated key with its row count; no
-- rows = pass.
-- A duplicated key double-counts a figure, so this check blocks what reads the table (and
-- the publish):
-- severity: error
select
    symbol, "date",
    count(*) as row_count
from raw.prices_daily
group by all
having count(*) > 1
