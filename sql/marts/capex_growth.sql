-- Capital expenditure growth per calendar year and group: the Mag7, the other S&P 500 members
-- ("other"), and the whole index ("sp500"). Answers "how fast did the Mag7's capex grow
-- compared with everyone else's".
-- A company's calendar-year capex is the sum of its four discrete fiscal quarters whose
-- midpoints fall in that year (so June and January year-ends compare fairly with December
-- ones); a year with any quarter missing is not reported. Members are those of the S&P 500 on
-- the year's last day (point in time, counted once by CIK). Growth compares the same
-- companies in both years: only members with capex in both the year and the prior year count
-- toward capex, capex_prior and growth.
-- Grain: calendar_year x group_name. The TTM-by-calendar-quarter view is marts.capex_growth_ttm.
with membership as (
    select * from staging.membership_quarterly
),

company_year as (
    select cik, calendar_year, capex from marts.fundamentals_calendar_year
),

year_end_members as (
    select
        cast(left(calendar_quarter, 4) as integer) as calendar_year,
        member_key,
        cik,
        is_mag7
    from membership
    where calendar_quarter like '%Q4'
),

member_values as (
    select
        m.calendar_year,
        m.member_key,
        g.group_name,
        cur.capex,
        prior.capex as capex_prior
    from year_end_members as m
    cross join (values ('mag7'), ('other'), ('sp500')) as g(group_name)
    left join company_year as cur
        on m.cik = cur.cik and cur.calendar_year = m.calendar_year
    left join company_year as prior
        on m.cik = prior.cik and prior.calendar_year = m.calendar_year - 1
    where g.group_name = 'sp500'
        or (g.group_name = 'mag7' and m.is_mag7)
        or (g.group_name = 'other' and not m.is_mag7)
),

by_group as (
    select
        calendar_year,
        group_name,
        count(*) as companies,
        count(*) filter (where capex is not null and capex_prior is not null)
            as companies_reporting,
        sum(capex) filter (where capex is not null and capex_prior is not null) as capex,
        sum(capex_prior) filter (where capex is not null and capex_prior is not null)
            as capex_prior
    from member_values
    group by calendar_year, group_name
),

latest_reported as (
    select max(calendar_year) as calendar_year from by_group where companies_reporting > 0
)

-- final: column comments become COMMENT ON COLUMN
select
    b.calendar_year, -- Calendar year; each company's year is the sum of its four fiscal quarters whose midpoints fall in it
    b.group_name, -- 'mag7', 'other' (S&P 500 members other than the Mag7) or 'sp500' (all members)
    b.companies, -- Group members in the S&P 500 on the year's last day, counted once by CIK
    b.companies_reporting, -- Members with all four quarters of capex in both this and the prior calendar year: only these count toward capex, capex_prior and growth
    b.capex, -- Cash capex of the reporting members in this calendar year, USD
    b.capex_prior, -- Cash capex of the same reporting members in the prior calendar year, USD
    case when b.capex_prior > 0 then b.capex / b.capex_prior - 1 end as growth -- capex / capex_prior - 1 over the same companies (0.5 = +50%); NULL when no member reports both years
from by_group as b
cross join latest_reported as l
where b.calendar_year <= l.calendar_year
order by b.calendar_year, b.group_name
