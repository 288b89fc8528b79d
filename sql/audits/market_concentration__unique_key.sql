-- Audit: marts.market_concentration has one row per "date". Returns each duplicated key with its row count; no
-- rows = pass.
select
    "date",
    count(*) as row_count
from marts.market_concentration
group by all
having count(*) > 1
