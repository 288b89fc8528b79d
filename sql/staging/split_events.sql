-- Stock splits per company, with the cumulative split index: the product of the ratios of the
-- company's splits up to and including split_date (1 before the first known split). A share
-- count in units of day A is in units of day B after multiplying by index(B) / index(A).
-- Sources: the sourced split table (raw.splits, data/splits.csv) and the split days a price
-- source reports (raw.prices_daily.split_ratio, Yahoo's split events); symbols map to a CIK
-- through the Mag7 seed, the S&P 500 membership and SEC's ticker list. One event per company
-- and day: Alphabet's GOOGL and GOOG rows of the same split are one split of the company.
-- Grain: cik x split_date.
with splits as (
    select * from raw.splits
),

prices as (
    select * from raw.prices_daily
),

mag7 as (
    select * from raw.mag7
),

membership as (
    select * from raw.sp500_membership
),

sec_tickers as (
    select * from raw.sec_tickers
),

listings as (
    select distinct ticker as symbol, cik from mag7
    union
    select distinct ticker, cik from membership where cik is not null
    union
    select distinct ticker, cik from sec_tickers
),

symbol_cik as (
    -- a ticker that named two companies over time is ambiguous: its split rows are dropped
    select symbol, min(cik) as cik from listings group by symbol having count(distinct cik) = 1
),

reported as (
    select symbol, cast("date" as date) as split_date,
        cast(numerator as double) / cast(denominator as double) as split_ratio
    from splits
    union all
    select symbol, "date", split_ratio from prices where split_ratio is not null
),

by_company as (
    select l.cik, r.split_date, max(r.split_ratio) as split_ratio,
        string_agg(distinct r.symbol, ',' order by r.symbol) as symbols
    from reported as r
    inner join symbol_cik as l on r.symbol = l.symbol
    group by l.cik, r.split_date
)

select
    cik,
    split_date,
    split_ratio,
    symbols,
    exp(sum(ln(split_ratio)) over (partition by cik order by split_date)) as split_index
from by_company
