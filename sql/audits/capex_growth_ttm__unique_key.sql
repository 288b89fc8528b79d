-- Audit: marts.capex_growth_ttm has one row per calendar_quarter x group_name. Returns each duplicated key with its
-- row count; no rows = pass.
-- A duplicated key double-counts a figure, so this check blocks what reads the table (and
-- the publish):
-- severity: error
select
    calendar_quarter, group_name,
    count(*) as row_count
from marts.capex_growth_ttm
group by calendar_quarter, group_name
having count(*) > 1
