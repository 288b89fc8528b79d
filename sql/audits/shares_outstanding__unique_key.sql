-- Audit: staging.shares_outstanding has one row per cik, concept, as_of_date. Returns each duplicated key with its row count; no
-- rows = pass.
select
    cik, concept, as_of_date,
    count(*) as row_count
from staging.shares_outstanding
group by all
having count(*) > 1
