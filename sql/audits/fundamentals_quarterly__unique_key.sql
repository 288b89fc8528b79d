-- Audit: marts.fundamentals_quarterly has one row per cik x fiscal_year x fiscal_period. Returns each duplicated key with its
-- row count; no rows = pass.
select
    cik, fiscal_year, fiscal_period,
    count(*) as row_count
from marts.fundamentals_quarterly
group by cik, fiscal_year, fiscal_period
having count(*) > 1
