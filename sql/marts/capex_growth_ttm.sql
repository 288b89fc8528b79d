-- Trailing-twelve-month capital expenditure growth per calendar quarter and group (the Mag7,
-- the other S&P 500 members, the whole index): the quarterly companion of marts.capex_growth.
-- Answers "how fast is capex growing right now, year over year".
-- A company's TTM capex for a calendar quarter is that of its fiscal quarter whose midpoint
-- falls in the calendar quarter (marts.fundamentals_calendar_quarter.capex_ttm); growth compares it
-- with the TTM four calendar quarters earlier. Members are those of the S&P 500 on the
-- quarter's last day, counted once by CIK; only members with a TTM at both ends count toward
-- capex_ttm, capex_ttm_prior and growth.
-- Grain: calendar_quarter x group_name.
with membership as (
    select * from staging.membership_quarterly
),

company_quarter as (
    select cik, calendar_quarter, quarter_ordinal, capex_ttm
    from marts.fundamentals_calendar_quarter
),

member_values as (
    select
        m.calendar_quarter,
        g.group_name,
        cur.capex_ttm,
        prior.capex_ttm as capex_ttm_prior
    from membership as m
    cross join (values ('mag7'), ('other'), ('sp500')) as g(group_name)
    left join company_quarter as cur
        on m.cik = cur.cik and m.calendar_quarter = cur.calendar_quarter
    left join company_quarter as prior
        on m.cik = prior.cik and prior.quarter_ordinal = cur.quarter_ordinal - 4
    where g.group_name = 'sp500'
        or (g.group_name = 'mag7' and m.is_mag7)
        or (g.group_name = 'other' and not m.is_mag7)
),

by_group as (
    select
        calendar_quarter,
        group_name,
        count(*) as companies,
        count(*) filter (where capex_ttm is not null and capex_ttm_prior is not null)
            as companies_reporting,
        sum(capex_ttm) filter (where capex_ttm is not null and capex_ttm_prior is not null)
            as capex_ttm,
        sum(capex_ttm_prior) filter (where capex_ttm is not null and capex_ttm_prior is not null)
            as capex_ttm_prior
    from member_values
    group by calendar_quarter, group_name
),

latest_reported as (
    select max(calendar_quarter) as calendar_quarter from by_group where companies_reporting > 0
)

-- final: column comments become COMMENT ON COLUMN
select
    b.calendar_quarter, -- Calendar quarter, e.g. '2025Q4'; companies' fiscal quarters are placed by their midpoint
    b.group_name, -- 'mag7', 'other' (S&P 500 members other than the Mag7) or 'sp500' (all members)
    b.companies, -- Group members in the S&P 500 on the quarter's last day, counted once by CIK
    b.companies_reporting, -- Members with a TTM capex both in this quarter and four calendar quarters earlier: only these count toward the figures
    b.capex_ttm, -- TTM cash capex of the reporting members at this quarter, USD
    b.capex_ttm_prior, -- TTM cash capex of the same members four calendar quarters earlier, USD
    case when b.capex_ttm_prior > 0 then b.capex_ttm / b.capex_ttm_prior - 1 end as growth -- capex_ttm / capex_ttm_prior - 1 over the same companies; NULL when no member reports both
from by_group as b
cross join latest_reported as l
where b.calendar_quarter <= l.calendar_quarter
order by b.calendar_quarter, b.group_name
