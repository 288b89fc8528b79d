-- Audit: price and share coverage. Returns each S&P 500 member on the latest trading day that
-- has no market cap that day, with what it lacks (no price for its primary listing, or no
-- checked share count at most 185 days old); no rows = every member is covered. Offline the
-- snapshot prices only the Mag7, so this warns by design.
with membership as (
    select * from raw.sp500_membership
),

companies as (
    select * from staging.companies
),

market_caps as (
    select * from staging.market_caps
),

prices as (
    select * from raw.prices_daily
),

latest as (
    select max("date") as "date" from prices
),

members as (
    select distinct m.cik, coalesce(c.ticker, m.ticker) as ticker
    from membership as m
    cross join latest as l
    left join companies as c on m.cik = c.cik
    where m.start_date <= l."date" and (m.end_date is null or l."date" < m.end_date)
)

select
    m.cik,
    m.ticker,
    l."date",
    case when mc.cik is null then 'no price' else 'no current share count' end as lacks
from members as m
cross join latest as l
left join market_caps as mc on m.cik = mc.cik and mc."date" = l."date"
where mc.market_cap is null
order by m.ticker
