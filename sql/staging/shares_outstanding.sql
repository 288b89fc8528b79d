-- Shares outstanding per company and as-of date, from companyfacts, each count checked before
-- any market cap uses it.
-- Preferred: dei:EntityCommonStockSharesOutstanding, the cover-page count (taxonomy 'dei',
-- unit 'shares', an instant fact: start NULL), dated shortly before the filing. Fallback:
-- us-gaap:CommonStockSharesOutstanding (the balance-sheet count at period end); market_caps
-- uses it only where no dei count is current. Multi-class issuers tag their cover counts per
-- class (an XBRL dimension), which companyfacts drops, so Alphabet has no dei count at all;
-- its us-gaap count is the total of classes A, B and C (12,155,000,000 on 2025-03-31, 10-Q
-- 0001652044-25-000043), so no per-class sum is needed (nor possible: companyfacts carries no
-- per-class counts). Meta's bundled 2022Q1-vintage payload has neither concept undimensioned:
-- it has no shares and counts as uncovered.
-- Units: a count is in the share units of its units_date: a dei count's own date; a us-gaap
-- count's filing date, since statements issued after a split are restated for it (NVIDIA's
-- 2024-01-28 count: 2.464bn as first filed, 24.643bn in the FY2025 10-K).
-- shares_split_normalized divides by the split index at units_date, so market_caps can bring
-- any count to any day's units (splits: data/splits.csv and the split days in the prices).
-- Checks (reject_reason not NULL = never used): 'placeholder' (under 1,000,000 shares: 1, 100,
-- 1000 are tagging errors, not share counts), 'jump' (after splits, more than 3x away from
-- every neighbouring count of the same concept), 'absurd_market_cap' (times the close nearest
-- its date above $10 trillion or below $10 million).
-- Grain: cik x concept x as_of_date (the first-filed value for that date).
with companyfacts as (
    select * from raw.sec_companyfacts
),

companies as (
    select * from staging.companies
),

split_events as (
    select * from staging.split_events
),

prices as (
    select * from raw.prices_daily
),

candidates as (
    select
        cik,
        taxonomy,
        concept,
        case when taxonomy = 'dei' then 1 else 2 end as concept_rank,
        "end" as as_of_date,
        val as shares,
        accn,
        form,
        filed,
        case when taxonomy = 'dei' then "end" else filed end as units_date
    from companyfacts
    where unit = 'shares'
        and start is null
        and form in ('10-K', '10-K/A', '10-Q', '10-Q/A', '10-KT', '10-KT/A', '10-QT', '10-QT/A')
        and ((taxonomy = 'dei' and concept = 'EntityCommonStockSharesOutstanding')
            or (taxonomy = 'us-gaap' and concept = 'CommonStockSharesOutstanding'))
    -- the first filing of a date: the count as the company saw it then (later copies may be
    -- restated for a split; the units_date rule covers both)
    qualify row_number() over (partition by cik, taxonomy, concept, "end" order by filed, accn) = 1
),

normalized as (
    select
        c.*,
        c.shares / coalesce(s.split_index, 1) as shares_split_normalized
    from candidates as c
    asof left join split_events as s
        on c.cik = s.cik and c.units_date >= s.split_date
),

neighbours as (
    select
        *,
        lag(shares_split_normalized) over w as prev_normalized,
        lead(shares_split_normalized) over w as next_normalized
    from normalized
    where shares >= 1000000
    window w as (partition by cik, concept order by as_of_date)
),

priced as (
    -- the close of the company's primary listing nearest the count's date (on or before it,
    -- else after it, within 31 days), in that date's units
    select
        n.cik,
        n.as_of_date,
        n.concept,
        coalesce(
            case when n.as_of_date - before.date <= 31 then before.close end,
            case when after.date - n.as_of_date <= 31 then after.close end
        ) * n.shares_split_normalized * coalesce(s.split_index, 1) as implied_market_cap
    from normalized as n
    inner join companies as co on n.cik = co.cik
    asof left join prices as before
        on before.symbol = co.ticker and n.as_of_date >= before.date
    asof left join prices as after
        on after.symbol = co.ticker and n.as_of_date <= after.date
    asof left join split_events as s
        on n.cik = s.cik and n.as_of_date >= s.split_date
),

final as (
    select
        n.cik,
        co.ticker,
        n.taxonomy,
        n.concept,
        n.concept_rank,
        n.as_of_date,
        n.shares,
        n.shares_split_normalized,
        n.units_date,
        n.accn,
        n.form,
        n.filed,
        p.implied_market_cap,
        case
            when n.shares < 1000000 then 'placeholder'
            when coalesce(b.prev_normalized, b.next_normalized) is not null
                and coalesce(greatest(b.prev_normalized, b.shares_split_normalized)
                    / least(b.prev_normalized, b.shares_split_normalized) > 3, true)
                and coalesce(greatest(b.next_normalized, b.shares_split_normalized)
                    / least(b.next_normalized, b.shares_split_normalized) > 3, true)
                then 'jump'
            when p.implied_market_cap > 10e12 or p.implied_market_cap < 10e6
                then 'absurd_market_cap'
        end as reject_reason
    from normalized as n
    left join neighbours as b
        on n.cik = b.cik and n.concept = b.concept and n.as_of_date = b.as_of_date
    left join priced as p
        on n.cik = p.cik and n.concept = p.concept and n.as_of_date = p.as_of_date
    left join companies as co on n.cik = co.cik
)

select * from final
