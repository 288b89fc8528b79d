-- Every company the marts can name: one row per CIK, with the ticker shown in the marts and
-- whether it is one of the Magnificent Seven. Companies are counted once by CIK: Alphabet's
-- two share classes (GOOGL, GOOG) and renamed tickers (FB -> META) collapse to one row.
-- Ticker preference: the Mag7 seed (Alphabet shows 'GOOGL'), then the latest S&P 500
-- membership interval, then SEC's company_tickers list.
-- Grain: cik.
with mag7 as (
    select * from raw.mag7
),

membership as (
    select * from raw.sp500_membership
),

sec_tickers as (
    select * from raw.sec_tickers
),

companyfacts_ciks as (
    select distinct cik from raw.sec_companyfacts
),

mag7_company as (
    select
        cik,
        -- Alphabet: the class A ticker, the one the index and the press quote first
        arg_min(ticker, (ticker <> 'GOOGL', ticker)) as ticker,
        any_value(company) as company_name
    from mag7
    group by cik
),

member_ticker as (
    select cik, arg_max(ticker, (coalesce(end_date, date '9999-12-31'), start_date)) as ticker,
        arg_max(name, (coalesce(end_date, date '9999-12-31'), start_date)) as company_name
    from membership
    where cik is not null
    group by cik
),

sec_ticker as (
    select cik, min(ticker) as ticker, any_value(title) as company_name
    from sec_tickers
    group by cik
),

all_ciks as (
    select cik from companyfacts_ciks
    union
    select cik from mag7_company
    union
    select cik from member_ticker
),

final as (
    select
        a.cik,
        coalesce(g.ticker, m.ticker, s.ticker) as ticker,
        coalesce(g.company_name, m.company_name, s.company_name) as company_name,
        g.cik is not null as is_mag7
    from all_ciks as a
    left join mag7_company as g on a.cik = g.cik
    left join member_ticker as m on a.cik = m.cik
    left join sec_ticker as s on a.cik = s.cik
)

select * from final
