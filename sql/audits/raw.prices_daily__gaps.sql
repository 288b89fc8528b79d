-- Audit: gaps. Returns each symbol and trading day between the symbol's first and last price
-- day on which at least half of all symbols have a price but this one has none (a missing
-- row, not a market holiday). No rows = no gaps.
with prices as (
    select * from raw.prices_daily
),

symbols as (
    select symbol, min("date") as first_day, max("date") as last_day from prices group by symbol
),

trading_days as (
    select "date" from prices group by "date"
    having count(*) >= 0.5 * (select count(*) from symbols)
)

select s.symbol, d."date" as missing_day
from symbols as s
inner join trading_days as d on d."date" between s.first_day and s.last_day
anti join prices as p on p.symbol = s.symbol and p."date" = d."date"
order by s.symbol, missing_day
