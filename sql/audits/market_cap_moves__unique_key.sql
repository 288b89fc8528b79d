-- Audit: marts.market_cap_moves has one row per cik, move_rank. Returns each duplicated key with its row count; no
-- rows = pass.
-- A duplicated key double-counts a figure, so this check blocks what reads the table (and
-- the publish):
-- severity: error
select
    cik, move_rank,
    count(*) as row_count
from marts.market_cap_moves
group by all
having count(*) > 1
