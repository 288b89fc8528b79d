-- Each company's fundamentals on the calendar: one row per company and calendar quarter, the
-- discrete fiscal quarter whose midpoint falls in it (marts.fundamentals_quarterly), so
-- companies with June, September or January year-ends line up with December ones. Where a
-- fiscal-calendar change maps two fiscal quarters to one calendar quarter, the later-ending
-- one counts. Every aggregate "per calendar quarter" or "per calendar year" starts here.
-- Grain: cik x calendar_quarter.
with fundamentals_quarterly as (
    select * from marts.fundamentals_quarterly
),

one_per_calendar_quarter as (
    select *
    from fundamentals_quarterly
    qualify row_number() over (partition by cik, calendar_quarter order by period_end desc) = 1
)

-- final: column comments become COMMENT ON COLUMN
select
    cik, -- SEC Central Index Key of the company
    ticker, -- Ticker shown for the company (Alphabet = GOOGL)
    calendar_quarter, -- Calendar quarter holding the fiscal quarter's midpoint, e.g. '2025Q4'
    cast(left(calendar_quarter, 4) as integer) as calendar_year, -- Calendar year of calendar_quarter
    cast(left(calendar_quarter, 4) as integer) * 4 + cast(right(calendar_quarter, 1) as integer) as quarter_ordinal, -- calendar_year * 4 + quarter number: consecutive quarters differ by 1 (for year-ago and since-base comparisons)
    fiscal_year, -- The company's own fiscal-year label of the fiscal quarter used
    fiscal_period, -- The fiscal quarter used, Q1..Q4
    period_end, -- Last day of the fiscal quarter used
    revenue, -- Revenue in the fiscal quarter, USD
    revenue_ttm, -- Trailing twelve months revenue, USD; NULL if one of the four quarters is missing
    net_income, -- Net income attributable to the parent in the fiscal quarter, USD
    net_income_ttm, -- Trailing twelve months net income, USD; NULL if one of the four quarters is missing
    capex, -- Cash capital expenditures in the fiscal quarter, USD
    capex_ttm, -- Trailing twelve months capex, USD; NULL if one of the four quarters is missing
    depreciation_amortization, -- Depreciation and amortization (cash-flow statement) in the fiscal quarter, USD
    depreciation_amortization_ttm, -- Trailing twelve months D&A, USD; NULL if one of the four quarters is missing
    operating_cash_flow, -- Net cash from operating activities in the fiscal quarter, USD
    operating_cash_flow_ttm -- Trailing twelve months operating cash flow, USD; NULL if one of the four quarters is missing
from one_per_calendar_quarter
order by cik, calendar_quarter
