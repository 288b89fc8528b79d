-- Audit: freshness. Returns each symbol whose last price day is more than 3 business days
-- (Monday-Friday; exchange holidays not excluded) behind the newest price day of any symbol:
-- a symbol the source stopped answering, or delisted. No rows = every symbol is current.
with prices as (
    select * from raw.prices_daily
),

last_days as (
    select symbol, max("date") as last_day from prices group by symbol
),

newest as (
    select max("date") as newest_day from prices
)

select
    l.symbol,
    l.last_day,
    n.newest_day,
    (select count(*) from generate_series(l.last_day + 1, n.newest_day, interval 1 day) as g(d)
        where isodow(g.d) < 6) as business_days_behind
from last_days as l
cross join newest as n
where (select count(*) from generate_series(l.last_day + 1, n.newest_day, interval 1 day) as g(d)
        where isodow(g.d) < 6) > 3
order by business_days_behind desc, l.symbol
