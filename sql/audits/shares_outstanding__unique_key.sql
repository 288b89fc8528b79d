-- Audit: staging.shares_outstanding has one row per cik, concept, as_of_date. Returns each duplicated key with its row count; no
-- rows = pass.
-- A duplicated key double-counts a figure, so this check blocks what reads the table (and
-- the publish):
-- severity: error
select
    cik, concept, as_of_date,
    count(*) as row_count
from staging.shares_outstanding
group by all
having count(*) > 1
