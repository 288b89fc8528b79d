-- Fundamentals per company and fiscal year, as filed in 10-Ks: revenue, net income, capex,
-- depreciation & amortization and operating cash flow, each the full-year fact of the
-- company's fiscal year (not a sum of quarters), with provenance (concept, accession).
-- Answers "what did the 10-K say for company X's fiscal year N". fiscal_year is the company's
-- own label (the fy of the 10-K in which the year is current); when a later filing restated
-- the year, the restated (latest filed) figure is shown and its accession says which.
-- Grain: cik x fiscal_year.
with facts_selected as (
    select * from staging.facts_selected
),

companies as (
    select * from staging.companies
),

annual_facts as (
    select *
    from facts_selected
    where duration_class = 'year'
      and start = fiscal_year_start
),

pivoted as (
    select
        cik,
        fiscal_year,
        min(start) as period_start,
        max("end") as period_end,
        max(case when metric = 'revenue' then val end) as revenue,
        max(case when metric = 'revenue' then concept end) as revenue_concept,
        max(case when metric = 'revenue' then accn end) as revenue_accn,
        max(case when metric = 'net_income' then val end) as net_income,
        max(case when metric = 'net_income' then concept end) as net_income_concept,
        max(case when metric = 'net_income' then accn end) as net_income_accn,
        max(case when metric = 'capex' then val end) as capex,
        max(case when metric = 'capex' then concept end) as capex_concept,
        max(case when metric = 'capex' then accn end) as capex_accn,
        max(case when metric = 'depreciation_amortization' then val end) as depreciation_amortization,
        max(case when metric = 'depreciation_amortization' then concept end) as depreciation_amortization_concept,
        max(case when metric = 'depreciation_amortization' then accn end) as depreciation_amortization_accn,
        max(case when metric = 'operating_cash_flow' then val end) as operating_cash_flow,
        max(case when metric = 'operating_cash_flow' then concept end) as operating_cash_flow_concept,
        max(case when metric = 'operating_cash_flow' then accn end) as operating_cash_flow_accn
    from annual_facts
    group by cik, fiscal_year
)

-- final: column comments become COMMENT ON COLUMN
select
    a.cik, -- SEC Central Index Key: the company, counted once across share classes and ticker changes
    c.ticker, -- Ticker shown for the company (Mag7 seed first, Alphabet = GOOGL; else S&P 500 membership; else SEC list)
    a.fiscal_year, -- The company's own fiscal-year label: the fy of the 10-K in which the year is current (NVIDIA's year ending 2026-01-25 = 2026, Apple's ending 2025-09-27 = 2025)
    a.period_start, -- First day of the fiscal year
    a.period_end, -- Last day of the fiscal year
    a.revenue, -- Revenue for the fiscal year: the full-year (350-380-day) fact, USD
    a.revenue_concept, -- us-gaap concept the revenue figure comes from
    a.revenue_accn, -- Accession number of the filing the revenue figure comes from (the latest 10-K or 10-K/A reporting the year)
    a.net_income, -- Net income attributable to the parent for the fiscal year: the full-year (350-380-day) fact, USD
    a.net_income_concept, -- us-gaap concept the net_income figure comes from
    a.net_income_accn, -- Accession number of the filing the net_income figure comes from (the latest 10-K or 10-K/A reporting the year)
    a.capex, -- Cash capital expenditures (payments for property and equipment / productive assets) for the fiscal year: the full-year (350-380-day) fact, USD
    a.capex_concept, -- us-gaap concept the capex figure comes from
    a.capex_accn, -- Accession number of the filing the capex figure comes from (the latest 10-K or 10-K/A reporting the year)
    a.depreciation_amortization, -- Depreciation and amortization as reported on the cash-flow statement (Alphabet: depreciation only) for the fiscal year: the full-year (350-380-day) fact, USD
    a.depreciation_amortization_concept, -- us-gaap concept the depreciation_amortization figure comes from
    a.depreciation_amortization_accn, -- Accession number of the filing the depreciation_amortization figure comes from (the latest 10-K or 10-K/A reporting the year)
    a.operating_cash_flow, -- Net cash from operating activities for the fiscal year: the full-year (350-380-day) fact, USD
    a.operating_cash_flow_concept, -- us-gaap concept the operating_cash_flow figure comes from
    a.operating_cash_flow_accn -- Accession number of the filing the operating_cash_flow figure comes from (the latest 10-K or 10-K/A reporting the year)
from pivoted as a
left join companies as c on a.cik = c.cik
order by a.cik, a.fiscal_year
