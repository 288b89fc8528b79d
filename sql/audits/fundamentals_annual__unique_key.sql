-- Audit: marts.fundamentals_annual has one row per cik x fiscal_year. Returns each duplicated key with its
-- row count; no rows = pass.
-- A duplicated key double-counts a figure, so this check blocks what reads the table (and
-- the publish):
-- severity: error
select
    cik, fiscal_year,
    count(*) as row_count
from marts.fundamentals_annual
group by cik, fiscal_year
having count(*) > 1
