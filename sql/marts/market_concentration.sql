-- How concentrated is the S&P 500 in the Magnificent Seven, per trading day: the Mag7's
-- market cap, the index's market cap (the sum over that day's point-in-time members with a
-- price and a checked share count, counted once by CIK) and the Mag7's share of it.
-- Market caps are close as traded x shares outstanding as of the day (staging.market_caps).
-- The share is NULL, never a guess, unless all Mag7 members and at least 90% of the index's
-- members (the default AIWATCH_COVERAGE_FLOOR) have a market cap that day: a share of a
-- partial sum is not the index's. The bundled snapshot prices only the Mag7 and holds
-- companyfacts for 8 companies, so offline the share stays NULL and the coverage columns
-- say why. S&P's own weights use float-adjusted caps; this is full market cap.
-- Grain: trading day (days with at least one price).
with membership as (
    select * from raw.sp500_membership
),

mag7 as (
    select distinct cik from raw.mag7
),

market_caps as (
    select * from staging.market_caps
),

prices as (
    select * from raw.prices_daily
),

trading_days as (
    select distinct "date" from prices
),

members as (
    -- members on the day: start_date <= day < end_date (NULL end: still a member at as_of)
    select distinct
        d."date",
        coalesce(cast(m.cik as varchar), 'ticker:' || m.ticker) as member_key,
        m.cik
    from trading_days as d
    inner join membership as m
        on m.start_date <= d."date" and (m.end_date is null or d."date" < m.end_date)
),

member_values as (
    select
        m."date",
        m.member_key,
        g.cik is not null as is_mag7,
        c.market_cap
    from members as m
    left join mag7 as g on m.cik = g.cik
    left join market_caps as c on m.cik = c.cik and m."date" = c."date"
),

by_day as (
    select
        "date",
        count(*) as members,
        count(market_cap) as members_covered,
        count(*) filter (where is_mag7) as mag7_members,
        count(market_cap) filter (where is_mag7) as mag7_members_covered,
        sum(market_cap) as covered_market_cap,
        sum(market_cap) filter (where is_mag7) as mag7_covered_market_cap
    from member_values
    group by "date"
)

-- final: column comments become COMMENT ON COLUMN
select
    "date", -- Trading day (a day with at least one price in raw.prices_daily)
    members, -- S&P 500 members on the day, point in time, counted once by CIK (members without a CIK counted by ticker)
    members_covered, -- Members with a market cap on the day (a close and a checked share count at most 185 days old)
    mag7_members, -- Mag7 companies among the day's members (Alphabet once)
    mag7_members_covered, -- Mag7 members with a market cap on the day
    case when mag7_members_covered = mag7_members and mag7_members > 0
        then mag7_covered_market_cap end as mag7_market_cap, -- Sum of the Mag7 members' market caps, USD; NULL unless every Mag7 member is covered
    case when members > 0 and members_covered >= getvariable('coverage_floor') * members
        then covered_market_cap end as sp500_market_cap, -- Sum of the covered members' market caps (full, not float-adjusted), USD; NULL below the coverage floor (AIWATCH_COVERAGE_FLOOR, default 90%) of members
    covered_market_cap, -- Sum of the covered members' market caps whatever the coverage, USD: a partial sum, not the index's cap
    case when mag7_members_covered = mag7_members and mag7_members > 0
            and members_covered >= getvariable('coverage_floor') * members and covered_market_cap > 0
        then mag7_covered_market_cap / covered_market_cap end as mag7_share -- mag7_market_cap / sp500_market_cap (0.3 = 30%); NULL unless all Mag7 members and at least the coverage floor (AIWATCH_COVERAGE_FLOOR, default 90%) of members are covered
from by_day
order by "date"
