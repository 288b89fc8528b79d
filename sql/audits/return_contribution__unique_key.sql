-- Audit: marts.return_contribution has one row per cik, group_name. Returns each duplicated key with its row count; no
-- rows = pass.
-- A duplicated key double-counts a figure, so this check blocks what reads the table (and
-- the publish):
-- severity: error
select
    cik, group_name,
    count(*) as row_count
from marts.return_contribution
group by all
having count(*) > 1
