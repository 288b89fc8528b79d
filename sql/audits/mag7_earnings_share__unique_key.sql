-- Audit: marts.mag7_earnings_share has one row per calendar_quarter. Returns each duplicated key with its
-- row count; no rows = pass.
-- A duplicated key double-counts a figure, so this check blocks what reads the table (and
-- the publish):
-- severity: error
select
    calendar_quarter,
    count(*) as row_count
from marts.mag7_earnings_share
group by calendar_quarter
having count(*) > 1
