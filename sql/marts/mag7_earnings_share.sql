-- The Magnificent Seven's share of S&P 500 earnings, per calendar quarter: trailing-twelve-
-- month net income (attributable to the parent) of the Mag7 and of the whole index, with
-- coverage, plus the Mag7's share of the index's TTM earnings GROWTH since 2022Q4 (the
-- quarter of ChatGPT's launch, 2022-11-30).
-- Membership is point-in-time (members on the quarter's last day, staging.membership_quarterly),
-- companies counted once by CIK (Alphabet's two tickers are one company). A company's TTM for
-- a calendar quarter is the TTM of its fiscal quarter whose midpoint falls in that calendar
-- quarter (marts.fundamentals_calendar_quarter), so Apple's and NVIDIA's off-calendar quarters count
-- where most of their days lie. Shares are NULL, never 0 or guessed, when a Mag7 member's
-- figure is missing; the coverage floor for the whole index is applied downstream from
-- members / members_reporting.
-- Grain: calendar_quarter (from window_start to the latest quarter any member reports).
with membership as (
    select * from staging.membership_quarterly
),

company_quarter as (
    select cik, calendar_quarter, net_income_ttm from marts.fundamentals_calendar_quarter
),

member_values as (
    select
        m.calendar_quarter,
        m.quarter_end,
        m.member_key,
        m.is_mag7,
        q.net_income_ttm,
        base.net_income_ttm as base_net_income_ttm
    from membership as m
    left join company_quarter as q
        on m.cik = q.cik and m.calendar_quarter = q.calendar_quarter
    left join company_quarter as base
        on m.cik = base.cik and base.calendar_quarter = '2022Q4'
),

by_quarter as (
    select
        calendar_quarter,
        any_value(quarter_end) as quarter_end,
        count(*) as members,
        count(net_income_ttm) as members_reporting,
        count(*) filter (where is_mag7) as mag7_members,
        count(net_income_ttm) filter (where is_mag7) as mag7_members_reporting,
        sum(net_income_ttm) as sp500_net_income_ttm,
        sum(net_income_ttm) filter (where is_mag7) as mag7_net_income_ttm,
        sum(net_income_ttm) filter (where not is_mag7) as other_net_income_ttm,
        -- growth basis: members on the quarter's last day with a TTM both now and in 2022Q4
        count(*) filter (where net_income_ttm is not null and base_net_income_ttm is not null)
            as growth_basis_companies,
        count(*) filter (where is_mag7 and net_income_ttm is not null
            and base_net_income_ttm is not null) as mag7_growth_basis_companies,
        sum(net_income_ttm - base_net_income_ttm)
            filter (where net_income_ttm is not null and base_net_income_ttm is not null)
            as sp500_net_income_ttm_growth,
        sum(net_income_ttm - base_net_income_ttm)
            filter (where is_mag7 and net_income_ttm is not null
                and base_net_income_ttm is not null)
            as mag7_net_income_ttm_growth
    from member_values
    group by calendar_quarter
),

latest_reported as (
    select max(calendar_quarter) as calendar_quarter from by_quarter where members_reporting > 0
)

-- final: column comments become COMMENT ON COLUMN
select
    q.calendar_quarter, -- Calendar quarter, e.g. '2025Q4'; companies' fiscal quarters are placed by their midpoint
    q.quarter_end, -- Last day of the calendar quarter: the day S&P 500 membership is taken
    q.members, -- S&P 500 members on quarter_end, counted once by CIK (unmapped members counted by ticker; they cannot report)
    q.members_reporting, -- Members with a TTM net income for this quarter (four consecutive discrete quarters on file)
    q.mag7_members, -- Mag7 companies among the members on quarter_end, by CIK (7 once Tesla joined on 2020-12-21; Alphabet once)
    q.mag7_members_reporting, -- Mag7 members with a TTM net income for this quarter
    q.mag7_net_income_ttm, -- Sum of TTM net income (attributable to the parent) of the reporting Mag7 members, USD
    q.other_net_income_ttm, -- Sum of TTM net income of the reporting members other than the Mag7, USD
    q.sp500_net_income_ttm, -- Sum of TTM net income of all reporting members (Mag7 included), USD
    case
        when q.mag7_members_reporting = q.mag7_members and q.mag7_members > 0
            and q.sp500_net_income_ttm > 0
            then q.mag7_net_income_ttm / q.sp500_net_income_ttm
    end as mag7_share, -- mag7_net_income_ttm / sp500_net_income_ttm; NULL when any Mag7 member lacks a TTM or the index total is not positive
    q.growth_basis_companies, -- Members on quarter_end with a TTM net income both in this quarter and in 2022Q4: the basis of the growth columns
    q.mag7_growth_basis_companies, -- Mag7 members in the growth basis
    q.mag7_net_income_ttm_growth as mag7_net_income_ttm_growth_since_2022q4, -- Change in the Mag7's TTM net income from 2022Q4 to this quarter, same companies at both ends, USD
    q.sp500_net_income_ttm_growth as sp500_net_income_ttm_growth_since_2022q4, -- Change in TTM net income from 2022Q4 to this quarter of this quarter's members with figures at both ends (same-company basis: an index addition brings its growth, not its whole earnings), USD
    case
        when q.calendar_quarter > '2022Q4'
            and q.mag7_growth_basis_companies = q.mag7_members and q.mag7_members > 0
            and q.sp500_net_income_ttm_growth <> 0
            then q.mag7_net_income_ttm_growth / q.sp500_net_income_ttm_growth
    end as mag7_share_of_growth_since_2022q4 -- Mag7 TTM NI growth since 2022Q4 / S&P 500 TTM NI growth since 2022Q4, both over this quarter's members with figures at both ends; above 1 when the other members' earnings fell; NULL when a Mag7 member lacks either figure or the index growth is 0
from by_quarter as q
cross join latest_reported as l
where q.calendar_quarter <= l.calendar_quarter
order by q.calendar_quarter
