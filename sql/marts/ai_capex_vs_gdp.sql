-- How big is the hyperscalers' capex against the US economy, per calendar quarter: the
-- capex of the hyperscaler seed list (raw.hyperscalers: MSFT, AMZN, GOOGL, META, ORCL) in the
-- quarter and over the trailing twelve months, as % of nominal GDP, and the year-over-year
-- change in TTM capex against the change in GDP over the same span (the article cites Citi:
-- AI capex above 1% of US GDP growth).
-- Units: capex in USD (10-K/10-Q cash capex, marts.fundamentals_calendar_quarter, companies' fiscal
-- quarters placed in the calendar quarter holding their midpoint). GDP: FRED 'GDP', nominal,
-- quarterly, seasonally adjusted at annual rates, billions of USD (x 1e9 here); a trailing
-- year's GDP is the mean of its four quarters' annual rates. Capex is all capex, not only AI.
-- TTM sums are NULL unless every hyperscaler has a TTM figure for the quarter.
-- Grain: calendar_quarter (quarters with a capex figure from any hyperscaler).
with hyperscalers as (
    select distinct cik from raw.hyperscalers
),

fred_series as (
    select * from raw.fred_series
),

company_quarter as (
    select f.cik, f.calendar_quarter, f.capex, f.capex_ttm
    from marts.fundamentals_calendar_quarter as f
    inner join hyperscalers as h on f.cik = h.cik
),

capex_by_quarter as (
    select
        calendar_quarter,
        count(capex) as companies_reporting,
        count(capex_ttm) as companies_reporting_ttm,
        sum(capex) as capex,
        case when count(capex_ttm) = (select count(*) from hyperscalers)
            then sum(capex_ttm) end as capex_ttm
    from company_quarter
    group by calendar_quarter
),

gdp as (
    select
        strftime("date", '%Y') || 'Q' || cast(quarter("date") as varchar) as calendar_quarter,
        value * 1e9 as gdp_saar,
        avg(value * 1e9) over (order by "date" rows between 3 preceding and current row)
            as gdp_ttm,
        count(value) over (order by "date" rows between 3 preceding and current row)
            as gdp_quarters
    from fred_series
    where series_id = 'GDP' and value is not null
),

joined as (
    select
        c.calendar_quarter,
        c.companies_reporting,
        c.companies_reporting_ttm,
        c.capex,
        c.capex_ttm,
        g.gdp_saar,
        case when g.gdp_quarters = 4 then g.gdp_ttm end as gdp_ttm
    from capex_by_quarter as c
    left join gdp as g on c.calendar_quarter = g.calendar_quarter
),

with_prior as (
    select
        *,
        lag(capex_ttm, 4) over (order by calendar_quarter) as capex_ttm_prior_year,
        lag(gdp_ttm, 4) over (order by calendar_quarter) as gdp_ttm_prior_year,
        lag(calendar_quarter, 4) over (order by calendar_quarter) as prior_year_quarter
    from joined
)

-- final: column comments become COMMENT ON COLUMN
select
    calendar_quarter, -- Calendar quarter, e.g. '2025Q3'
    (select count(*) from hyperscalers) as hyperscalers, -- Companies in the hyperscaler seed list (raw.hyperscalers), by CIK
    companies_reporting, -- Hyperscalers with a discrete-quarter capex figure for this quarter
    companies_reporting_ttm, -- Hyperscalers with a TTM capex figure for this quarter
    capex, -- Sum of the reporting hyperscalers' cash capex in the quarter, USD (not annualized)
    capex_ttm, -- Sum of the hyperscalers' trailing-twelve-month capex, USD; NULL unless every hyperscaler has one
    gdp_saar, -- US nominal GDP in the quarter at a seasonally adjusted annual rate (FRED GDP), USD
    gdp_ttm, -- US nominal GDP over the trailing year: mean of the four quarters' annual rates, USD
    capex_ttm / gdp_ttm as capex_ttm_share_of_gdp, -- capex_ttm / gdp_ttm (0.01 = 1% of GDP)
    capex_ttm - capex_ttm_prior_year as capex_ttm_change_yoy, -- capex_ttm minus capex_ttm four quarters earlier, USD
    gdp_ttm - gdp_ttm_prior_year as gdp_ttm_change_yoy, -- gdp_ttm minus gdp_ttm four quarters earlier (nominal), USD
    case when gdp_ttm - gdp_ttm_prior_year <> 0
        then (capex_ttm - capex_ttm_prior_year) / (gdp_ttm - gdp_ttm_prior_year)
    end as capex_change_share_of_gdp_change -- capex_ttm_change_yoy / gdp_ttm_change_yoy (0.01 = the capex increase equals 1% of the GDP increase); NULL where either is missing
from with_prior
order by calendar_quarter
