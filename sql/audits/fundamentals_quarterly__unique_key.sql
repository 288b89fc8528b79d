-- Audit: marts.fundamentals_quarterly has one row per cik x fiscal_year x fiscal_period. Returns each duplicated key with its
-- row count; no rows = pass.
-- A duplicated key double-counts a figure, so this check blocks what reads the table (and
-- the publish):
-- severity: error
select
    cik, fiscal_year, fiscal_period,
    count(*) as row_count
from marts.fundamentals_quarterly
group by cik, fiscal_year, fiscal_period
having count(*) > 1
