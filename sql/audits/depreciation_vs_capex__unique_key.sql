-- Audit: marts.depreciation_vs_capex has one row per cik, calendar_year. Returns each duplicated key with its row count; no
-- rows = pass.
-- A duplicated key double-counts a figure, so this check blocks what reads the table (and
-- the publish):
-- severity: error
select
    cik, calendar_year,
    count(*) as row_count
from marts.depreciation_vs_capex
group by all
having count(*) > 1
