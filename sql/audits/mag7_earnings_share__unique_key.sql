-- Audit: marts.mag7_earnings_share has one row per calendar_quarter. Returns each duplicated key with its
-- row count; no rows = pass.
select
    calendar_quarter,
    count(*) as row_count
from marts.mag7_earnings_share
group by calendar_quarter
having count(*) > 1
