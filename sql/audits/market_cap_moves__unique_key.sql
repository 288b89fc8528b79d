-- Audit: marts.market_cap_moves has one row per cik, move_rank. Returns each duplicated key with its row count; no
-- rows = pass.
select
    cik, move_rank,
    count(*) as row_count
from marts.market_cap_moves
group by all
having count(*) > 1
