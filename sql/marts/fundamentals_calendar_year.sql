-- Each company's fundamentals per calendar year: the sum of its four calendar quarters
-- (marts.fundamentals_calendar_quarter), so a June or January year-end compares fairly with a
-- December one. A metric with any of the four quarters missing is NULL for the year, never a
-- sum of three.
-- Grain: cik x calendar_year.
with calendar_quarters as (
    select * from marts.fundamentals_calendar_quarter
)

-- final: column comments become COMMENT ON COLUMN
select
    cik, -- SEC Central Index Key of the company
    any_value(ticker) as ticker, -- Ticker shown for the company (Alphabet = GOOGL)
    calendar_year, -- Calendar year
    count(*) as quarters, -- Calendar quarters of the year with a fiscal quarter on file (4 for a complete year)
    case when count(revenue) = 4 then sum(revenue) end as revenue, -- Revenue, sum of the four calendar quarters, USD; NULL unless all four are reported
    case when count(net_income) = 4 then sum(net_income) end as net_income, -- Net income attributable to the parent, sum of four quarters, USD; NULL unless all four are reported
    case when count(capex) = 4 then sum(capex) end as capex, -- Cash capex, sum of four quarters, USD; NULL unless all four are reported
    case when count(depreciation_amortization) = 4 then sum(depreciation_amortization) end as depreciation_amortization, -- D&A (cash-flow statement), sum of four quarters, USD; NULL unless all four are reported
    case when count(operating_cash_flow) = 4 then sum(operating_cash_flow) end as operating_cash_flow -- Operating cash flow, sum of four quarters, USD; NULL unless all four are reported
from calendar_quarters
group by cik, calendar_year
order by cik, calendar_year
