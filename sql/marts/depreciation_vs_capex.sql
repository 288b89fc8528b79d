-- Are the big spenders investing faster than their assets wear out, per company and calendar
-- year: cash capex, depreciation and amortization, capex/D&A, capex/operating cash flow and
-- capex/revenue, for the Mag7 and every other company on file ('other').
-- A company's calendar year sums its four discrete fiscal quarters whose midpoints fall in
-- it (marts.fundamentals_calendar_year); a metric with a quarter missing is NULL for that year,
-- and so are the ratios that need it. D&A is as reported on the cash-flow statement
-- (Alphabet: depreciation only). Ratios above 1 mean capex exceeds the denominator.
-- Grain: cik x calendar_year.
with companies as (
    select * from staging.companies
),

company_year as (
    select * from marts.fundamentals_calendar_year
)

-- final: column comments become COMMENT ON COLUMN
select
    y.cik, -- SEC Central Index Key of the company
    c.ticker, -- Ticker shown for the company (Alphabet: GOOGL)
    case when c.is_mag7 then 'mag7' else 'other' end as group_name, -- 'mag7' or 'other' (every other company with fundamentals on file)
    y.calendar_year, -- Calendar year: the sum of the company's four fiscal quarters whose midpoints fall in it
    y.quarters, -- Discrete fiscal quarters on file in the year (4 for a complete year)
    y.capex, -- Cash capital expenditures in the calendar year, USD; NULL unless all four quarters have it
    y.depreciation_amortization, -- Depreciation and amortization (cash-flow statement add-back) in the year, USD; NULL unless all four quarters have it
    y.operating_cash_flow, -- Net cash from operating activities in the year, USD; NULL unless all four quarters have it
    y.revenue, -- Revenue in the year, USD; NULL unless all four quarters have it
    case when y.depreciation_amortization > 0 then y.capex / y.depreciation_amortization end as capex_to_depreciation, -- capex / depreciation_amortization (above 1: the asset base grows)
    case when y.operating_cash_flow > 0 then y.capex / y.operating_cash_flow end as capex_to_operating_cash_flow, -- capex / operating_cash_flow (share of operating cash spent on capex); NULL when operating cash flow is not positive
    case when y.revenue > 0 then y.capex / y.revenue end as capex_to_revenue -- capex / revenue (capital intensity)
from company_year as y
left join companies as c on y.cik = c.cik
order by y.cik, y.calendar_year
