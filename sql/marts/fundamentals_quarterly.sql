-- Fundamentals per company and discrete fiscal quarter, as filed with the SEC: revenue, net
-- income, capex, depreciation & amortization and operating cash flow, each with its trailing
-- twelve months and its provenance (concept, accession, reported or derived).
-- Answers "what did company X earn / spend in a fiscal quarter, and which filing says so".
-- Quarters are reported 80-100-day facts or derived from year-to-date facts of the same fiscal
-- year (Q2 = H1 - Q1, Q3 = 9M - H1, Q4 = FY - 9M); fiscal_year is the company's own label;
-- calendar_quarter is the calendar quarter holding the period's midpoint, so off-calendar
-- filers (Apple, NVIDIA) line up with calendar-year filers.
-- Grain: cik x fiscal_year x fiscal_period (one row per discrete fiscal quarter).
with quarters as (
    select * from staging.quarters
),

companies as (
    select * from staging.companies
),

pivoted as (
    select
        cik,
        fiscal_year,
        fiscal_quarter,
        max(case when metric = 'revenue' then val end) as revenue,
        max(case when metric = 'revenue' then concept end) as revenue_concept,
        max(case when metric = 'revenue' then accn end) as revenue_accn,
        max(case when metric = 'revenue' then method end) as revenue_method,
        max(case when metric = 'revenue' then period_start end) as revenue_period_start,
        max(case when metric = 'revenue' then period_end end) as revenue_period_end,
        max(case when metric = 'net_income' then val end) as net_income,
        max(case when metric = 'net_income' then concept end) as net_income_concept,
        max(case when metric = 'net_income' then accn end) as net_income_accn,
        max(case when metric = 'net_income' then method end) as net_income_method,
        max(case when metric = 'net_income' then period_start end) as net_income_period_start,
        max(case when metric = 'net_income' then period_end end) as net_income_period_end,
        max(case when metric = 'capex' then val end) as capex,
        max(case when metric = 'capex' then concept end) as capex_concept,
        max(case when metric = 'capex' then accn end) as capex_accn,
        max(case when metric = 'capex' then method end) as capex_method,
        max(case when metric = 'capex' then period_start end) as capex_period_start,
        max(case when metric = 'capex' then period_end end) as capex_period_end,
        max(case when metric = 'depreciation_amortization' then val end) as depreciation_amortization,
        max(case when metric = 'depreciation_amortization' then concept end) as depreciation_amortization_concept,
        max(case when metric = 'depreciation_amortization' then accn end) as depreciation_amortization_accn,
        max(case when metric = 'depreciation_amortization' then method end) as depreciation_amortization_method,
        max(case when metric = 'depreciation_amortization' then period_start end) as depreciation_amortization_period_start,
        max(case when metric = 'depreciation_amortization' then period_end end) as depreciation_amortization_period_end,
        max(case when metric = 'operating_cash_flow' then val end) as operating_cash_flow,
        max(case when metric = 'operating_cash_flow' then concept end) as operating_cash_flow_concept,
        max(case when metric = 'operating_cash_flow' then accn end) as operating_cash_flow_accn,
        max(case when metric = 'operating_cash_flow' then method end) as operating_cash_flow_method,
        max(case when metric = 'operating_cash_flow' then period_start end) as operating_cash_flow_period_start,
        max(case when metric = 'operating_cash_flow' then period_end end) as operating_cash_flow_period_end
    from quarters
    group by cik, fiscal_year, fiscal_quarter
),

periods as (
    select
        *,
        coalesce(net_income_period_start, revenue_period_start, operating_cash_flow_period_start,
            capex_period_start, depreciation_amortization_period_start) as period_start,
        coalesce(net_income_period_end, revenue_period_end, operating_cash_flow_period_end,
            capex_period_end, depreciation_amortization_period_end) as period_end,
        fiscal_year * 4 + fiscal_quarter as quarter_ordinal
    from pivoted
),

with_ttm as (
    select
        *,
        case when count(revenue) over four_quarters = 4 then sum(revenue) over four_quarters end
            as revenue_ttm,
        case when count(net_income) over four_quarters = 4 then sum(net_income) over four_quarters end
            as net_income_ttm,
        case when count(capex) over four_quarters = 4 then sum(capex) over four_quarters end
            as capex_ttm,
        case when count(depreciation_amortization) over four_quarters = 4 then sum(depreciation_amortization) over four_quarters end
            as depreciation_amortization_ttm,
        case when count(operating_cash_flow) over four_quarters = 4 then sum(operating_cash_flow) over four_quarters end
            as operating_cash_flow_ttm,
        period_start + cast(datediff('day', period_start, period_end) // 2 as integer)
            as period_midpoint
    from periods
    window four_quarters as (
        partition by cik order by quarter_ordinal range between 3 preceding and current row
    )
)

-- final: column comments become COMMENT ON COLUMN
select
    p.cik, -- SEC Central Index Key: the company, counted once across share classes and ticker changes
    c.ticker, -- Ticker shown for the company (Mag7 seed first, Alphabet = GOOGL; else S&P 500 membership; else SEC list)
    p.fiscal_year, -- The company's own fiscal-year label: the fy of the filing in which the period is current (NVIDIA's year ending 2026-01-25 = 2026)
    'Q' || cast(p.fiscal_quarter as varchar) as fiscal_period, -- Discrete fiscal quarter Q1..Q4 within the company's fiscal year
    p.period_start, -- First day of the discrete quarter (derived quarters: the day after the shorter year-to-date period ends)
    p.period_end, -- Last day of the discrete quarter
    strftime(p.period_midpoint, '%Y') || 'Q' || cast(quarter(p.period_midpoint) as varchar) as calendar_quarter, -- Calendar quarter holding the period's midpoint, e.g. '2025Q4'
    p.revenue, -- Revenue in the discrete fiscal quarter, USD
    p.revenue_ttm, -- Trailing twelve months revenue: sum of this and the three preceding consecutive discrete quarters, USD; NULL if any of the four is missing
    p.revenue_concept, -- us-gaap concept the revenue figure comes from ('A - B' when a derived quarter's two inputs used different concepts)
    p.revenue_accn, -- Accession number of the filing the revenue figure comes from (derived quarter: the filing of the longer year-to-date fact)
    p.revenue_method, -- 'reported' (an 80-100-day fact) or 'derived' (difference of two year-to-date facts of the same fiscal year)
    p.net_income, -- Net income attributable to the parent in the discrete fiscal quarter, USD
    p.net_income_ttm, -- Trailing twelve months net_income: sum of this and the three preceding consecutive discrete quarters, USD; NULL if any of the four is missing
    p.net_income_concept, -- us-gaap concept the net_income figure comes from ('A - B' when a derived quarter's two inputs used different concepts)
    p.net_income_accn, -- Accession number of the filing the net_income figure comes from (derived quarter: the filing of the longer year-to-date fact)
    p.net_income_method, -- 'reported' (an 80-100-day fact) or 'derived' (difference of two year-to-date facts of the same fiscal year)
    p.capex, -- Cash capital expenditures (payments for property and equipment / productive assets) in the discrete fiscal quarter, USD
    p.capex_ttm, -- Trailing twelve months capex: sum of this and the three preceding consecutive discrete quarters, USD; NULL if any of the four is missing
    p.capex_concept, -- us-gaap concept the capex figure comes from ('A - B' when a derived quarter's two inputs used different concepts)
    p.capex_accn, -- Accession number of the filing the capex figure comes from (derived quarter: the filing of the longer year-to-date fact)
    p.capex_method, -- 'reported' (an 80-100-day fact) or 'derived' (difference of two year-to-date facts of the same fiscal year)
    p.depreciation_amortization, -- Depreciation and amortization as reported on the cash-flow statement (Alphabet: depreciation only) in the discrete fiscal quarter, USD
    p.depreciation_amortization_ttm, -- Trailing twelve months depreciation_amortization: sum of this and the three preceding consecutive discrete quarters, USD; NULL if any of the four is missing
    p.depreciation_amortization_concept, -- us-gaap concept the depreciation_amortization figure comes from ('A - B' when a derived quarter's two inputs used different concepts)
    p.depreciation_amortization_accn, -- Accession number of the filing the depreciation_amortization figure comes from (derived quarter: the filing of the longer year-to-date fact)
    p.depreciation_amortization_method, -- 'reported' (an 80-100-day fact) or 'derived' (difference of two year-to-date facts of the same fiscal year)
    p.operating_cash_flow, -- Net cash from operating activities in the discrete fiscal quarter, USD
    p.operating_cash_flow_ttm, -- Trailing twelve months operating_cash_flow: sum of this and the three preceding consecutive discrete quarters, USD; NULL if any of the four is missing
    p.operating_cash_flow_concept, -- us-gaap concept the operating_cash_flow figure comes from ('A - B' when a derived quarter's two inputs used different concepts)
    p.operating_cash_flow_accn, -- Accession number of the filing the operating_cash_flow figure comes from (derived quarter: the filing of the longer year-to-date fact)
    p.operating_cash_flow_method -- 'reported' (an 80-100-day fact) or 'derived' (difference of two year-to-date facts of the same fiscal year)
from with_ttm as p
left join companies as c on p.cik = c.cik
order by p.cik, p.fiscal_year, p.fiscal_quarter
