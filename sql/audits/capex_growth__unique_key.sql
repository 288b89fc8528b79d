-- Audit: marts.capex_growth has one row per calendar_year x group_name. Returns each duplicated key with its
-- row count; no rows = pass.
-- A duplicated key double-counts a figure, so this check blocks what reads the table (and
-- the publish):
-- severity: error
select
    calendar_year, group_name,
    count(*) as row_count
from marts.capex_growth
group by calendar_year, group_name
having count(*) > 1
