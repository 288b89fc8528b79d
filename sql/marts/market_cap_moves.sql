-- The largest one-day market-cap moves per company (the article cites Oracle's +$330bn day
-- in September 2025): the 10 largest absolute changes from one trading day's market cap to
-- the next, with the day, the caps before and after and the change.
-- Market caps are close as traded x shares as of the day (staging.market_caps), so a split
-- day is not a move (the share count follows the split index); a change of share count
-- between filings moves the cap on the day the new count takes effect, which this mart
-- shows as it is: share_count_changed says so. Consecutive rows of the company's primary
-- listing only; previous_date says which day the change is measured from.
-- Grain: cik x move_rank (1..10).
with market_caps as (
    select * from staging.market_caps where market_cap is not null
),

changes as (
    select
        cik,
        ticker,
        "date",
        lag("date") over w as previous_date,
        lag(market_cap) over w as market_cap_before,
        market_cap as market_cap_after,
        market_cap - lag(market_cap) over w as change,
        shares_as_of is distinct from lag(shares_as_of) over w as share_count_changed
    from market_caps
    window w as (partition by cik order by "date")
),

ranked as (
    select
        *,
        row_number() over (partition by cik order by abs(change) desc, "date") as move_rank
    from changes
    where change is not null
)

-- final: column comments become COMMENT ON COLUMN
select
    cik, -- SEC Central Index Key of the company
    ticker, -- Ticker of the company's primary listing (Alphabet: GOOGL)
    move_rank, -- 1 = the largest absolute one-day change of the company's market cap
    "date", -- Trading day of the move
    previous_date, -- The company's previous trading day with a market cap: the change is measured from it
    market_cap_before, -- Market cap on previous_date, USD
    market_cap_after, -- Market cap on date, USD
    change, -- market_cap_after - market_cap_before, USD
    change / market_cap_before as change_pct, -- change / market_cap_before (0.1 = +10%)
    share_count_changed -- True when a different share count applies on date than on previous_date: part of the change is the count, not the price
from ranked
where move_rank <= 10
order by cik, move_rank
