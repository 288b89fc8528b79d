-- Market capitalization per company and trading day: close as traded x shares outstanding as
-- of that day.
-- Price: the close AS TRADED (raw.prices_daily; the sources' split-adjusted closes are
-- un-adjusted on load, data/README.md), of the company's primary listing (staging.companies'
-- ticker). Alphabet: companyfacts has only the total of classes A, B and C (no per-class
-- counts: dimensions are dropped), so every Alphabet share is valued at the class A (GOOGL)
-- close: class B is unlisted and converts 1:1 into A, its closest listed class; class C
-- (GOOG) trades within a few percent of A but is valued at A's close too, for want of a class
-- C count. The bundled price file has no GOOG at all.
-- Shares: the latest checked count (staging.shares_outstanding, reject_reason NULL) dated on
-- or before the day and at most 185 days before it (two missed quarterly filings: an older
-- count is stale, and the day has no market cap rather than a guess); a dei cover count wins
-- over the us-gaap balance-sheet count when both are current. The count is brought to the
-- day's share units with the split index (staging.split_events), so a pre-split count is
-- multiplied by the split ratio from the split day on.
-- A day whose cap comes out above $10 trillion is dropped (market_cap NULL, flagged).
-- Grain: cik x date (days the primary listing traded).
with prices as (
    select * from raw.prices_daily
),

companies as (
    select * from staging.companies
),

shares_outstanding as (
    select * from staging.shares_outstanding where reject_reason is null
),

split_events as (
    select * from staging.split_events
),

days as (
    select co.cik, co.ticker, co.is_mag7, p."date", p.close
    from prices as p
    inner join companies as co on p.symbol = co.ticker
),

dei_count as (
    select * from shares_outstanding where concept_rank = 1
),

gaap_count as (
    select * from shares_outstanding where concept_rank = 2
),

with_counts as (
    select
        d.*,
        s.split_index as day_split_index,
        dc.as_of_date as dei_as_of, dc.shares_split_normalized as dei_normalized,
        dc.accn as dei_accn,
        gc.as_of_date as gaap_as_of, gc.shares_split_normalized as gaap_normalized,
        gc.accn as gaap_accn
    from days as d
    asof left join split_events as s on d.cik = s.cik and d."date" >= s.split_date
    asof left join dei_count as dc on d.cik = dc.cik and d."date" >= dc.as_of_date
    asof left join gaap_count as gc on d.cik = gc.cik and d."date" >= gc.as_of_date
),

chosen as (
    select
        *,
        case
            when "date" - dei_as_of <= 185 then 'dei:EntityCommonStockSharesOutstanding'
            when "date" - gaap_as_of <= 185 then 'us-gaap:CommonStockSharesOutstanding'
        end as shares_concept
    from with_counts
),

valued as (
    select
        cik,
        ticker,
        is_mag7,
        "date",
        close,
        case when shares_concept like 'dei:%' then dei_normalized
            when shares_concept like 'us-gaap:%' then gaap_normalized end
            * coalesce(day_split_index, 1) as shares,
        shares_concept,
        case when shares_concept like 'dei:%' then dei_as_of
            when shares_concept like 'us-gaap:%' then gaap_as_of end as shares_as_of,
        case when shares_concept like 'dei:%' then dei_accn
            when shares_concept like 'us-gaap:%' then gaap_accn end as shares_accn
    from chosen
)

select
    cik,
    ticker,
    is_mag7,
    "date",
    close,
    shares,
    shares_concept,
    shares_as_of,
    shares_accn,
    case when close * shares <= 10e12 then close * shares end as market_cap,
    close * shares > 10e12 as absurd_market_cap
from valued
