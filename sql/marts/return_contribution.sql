-- Who delivered the S&P 500's market-cap gain since the base date (getvariable('base_date'),
-- default 2022-11-30, ChatGPT's launch): per company and per group, the market cap at the
-- start (the last trading day on or before the base date) and at the end (the latest trading
-- day), the contribution (the change) and its share of the index's gain.
-- Basis: the members on the end day with a market cap at both ends (same companies at both
-- ends: an addition to the index brings its own change, not its whole cap; companies that
-- left the index before the end day are not in it). Groups: 'mag7', 'ai_basket' (raw.ai_basket,
-- the configurable AI-related list; it includes the Mag7), 'other' (members not in the Mag7)
-- and 'sp500' (all). Shares of the gain are NULL unless at least 90% of the end day's members
-- are in the basis (the default AIWATCH_COVERAGE_FLOOR): offline (the snapshot prices only
-- the Mag7) they are NULL and members_covered says why.
-- Grain: one row per company in the basis (group_name 'company') plus one row per group.
with market_caps as (
    select * from staging.market_caps
),

membership as (
    select * from raw.sp500_membership
),

mag7 as (
    select distinct cik from raw.mag7
),

ai_basket as (
    select distinct cik from raw.ai_basket
),

prices as (
    select * from raw.prices_daily
),

bounds as (
    select
        max("date") filter (where "date" <= getvariable('base_date')) as start_date,
        max("date") as end_date
    from prices
),

end_members as (
    select distinct coalesce(cast(m.cik as varchar), 'ticker:' || m.ticker) as member_key, m.cik
    from membership as m, bounds as b
    where m.start_date <= b.end_date and (m.end_date is null or b.end_date < m.end_date)
),

company_values as (
    select
        m.member_key,
        m.cik,
        e.ticker,
        g.cik is not null as is_mag7,
        a.cik is not null as in_ai_basket,
        s.market_cap as market_cap_start,
        e.market_cap as market_cap_end
    from end_members as m
    cross join bounds as b
    left join market_caps as s on m.cik = s.cik and s."date" = b.start_date
    left join market_caps as e on m.cik = e.cik and e."date" = b.end_date
    left join mag7 as g on m.cik = g.cik
    left join ai_basket as a on m.cik = a.cik
),

basis as (
    select * from company_values
    where market_cap_start is not null and market_cap_end is not null
),

coverage as (
    select
        (select count(*) from company_values) as members,
        (select count(*) from basis) as members_covered,
        (select sum(market_cap_end - market_cap_start) from basis) as index_gain
),

groups as (
    select
        g.group_name,
        count(*) filter (where c.member_key is not null) as members,
        count(*) filter (where c.market_cap_start is not null and c.market_cap_end is not null)
            as members_covered,
        sum(c.market_cap_start) filter (where c.market_cap_end is not null) as market_cap_start,
        sum(c.market_cap_end) filter (where c.market_cap_start is not null) as market_cap_end
    from (values ('mag7'), ('ai_basket'), ('other'), ('sp500')) as g(group_name)
    left join company_values as c
        on g.group_name = 'sp500'
        or (g.group_name = 'mag7' and c.is_mag7)
        or (g.group_name = 'ai_basket' and c.in_ai_basket)
        or (g.group_name = 'other' and not c.is_mag7)
    group by g.group_name
),

rows_out as (
    select cik, ticker, 'company' as group_name, 1 as members, 1 as members_covered,
        market_cap_start, market_cap_end
    from basis
    union all
    select null, null, group_name, members, members_covered, market_cap_start, market_cap_end
    from groups
)

-- final: column comments become COMMENT ON COLUMN
select
    r.cik, -- SEC Central Index Key of the company; NULL on group rows
    r.ticker, -- Ticker of the company's primary listing (Alphabet: GOOGL); NULL on group rows
    r.group_name, -- 'company' for a company row; else the group: 'mag7', 'ai_basket' (raw.ai_basket, includes the Mag7), 'other' (members not in the Mag7), 'sp500' (all members)
    b.start_date, -- First day: the last trading day on or before getvariable('base_date') (default 2022-11-30)
    b.end_date, -- Last day: the latest trading day with a price
    r.members, -- Members of the group on end_date, counted once by CIK (1 on company rows)
    r.members_covered, -- Members of the group with a market cap on both days: the only ones summed
    r.market_cap_start, -- Market cap on start_date (close as traded x shares as of the day), USD; groups: sum over members_covered
    r.market_cap_end, -- Market cap on end_date, USD; groups: sum over members_covered
    r.market_cap_end - r.market_cap_start as contribution, -- Contribution to the index's market-cap gain: market_cap_end - market_cap_start, USD
    case when c.members > 0 and c.members_covered >= getvariable('coverage_floor') * c.members and c.index_gain <> 0
        then (r.market_cap_end - r.market_cap_start) / c.index_gain
    end as share_of_index_gain -- contribution / the gain of all covered members (0.75 = 75%); NULL unless at least the coverage floor (AIWATCH_COVERAGE_FLOOR, default 90%) of end_date's members are covered
from rows_out as r
cross join bounds as b
cross join coverage as c
order by r.group_name = 'company', r.group_name, r.market_cap_end - r.market_cap_start desc
