-- Audit: stale concepts. Returns each company and metric whose newest fact was filed more
-- than 185 days before the company's newest 10-K/10-Q: the company probably moved the metric
-- to a tag our list lacks (as NVIDIA and Amazon did with capex), leaving old years behind
-- (edgartools #893). 185 days: two quarterly filings missed. The newest filing comes from
-- raw.sec_filings, or from companyfacts' own newest `filed` when the company has no filings
-- rows.
with facts_selected as (
    select * from staging.facts_selected
),

companyfacts as (
    select * from raw.sec_companyfacts
),

sec_filings as (
    select * from raw.sec_filings
),

companies as (
    select * from staging.companies
),

newest_fact as (
    select cik, metric, max(filed) as newest_fact_filed, max("end") as newest_fact_end,
        arg_max(concept, filed) as newest_concept
    from facts_selected
    group by cik, metric
),

filings_newest as (
    select cik, max(filed) as newest_filing_filed
    from sec_filings
    where form in ('10-K', '10-K/A', '10-Q', '10-Q/A', '10-KT', '10-QT')
    group by cik
),

companyfacts_newest as (
    select cik, max(filed) as newest_filing_filed
    from companyfacts
    where form in ('10-K', '10-K/A', '10-Q', '10-Q/A', '10-KT', '10-QT')
    group by cik
),

newest_filing as (
    select c.cik, coalesce(f.newest_filing_filed, c.newest_filing_filed) as newest_filing_filed
    from companyfacts_newest as c
    left join filings_newest as f on c.cik = f.cik
)

select
    n.cik,
    co.ticker,
    n.metric,
    n.newest_concept,
    n.newest_fact_end,
    n.newest_fact_filed,
    f.newest_filing_filed,
    datediff('day', n.newest_fact_filed, f.newest_filing_filed) as days_behind
from newest_fact as n
inner join newest_filing as f on n.cik = f.cik
left join companies as co on n.cik = co.cik
where datediff('day', n.newest_fact_filed, f.newest_filing_filed) > 185
order by n.cik, n.metric
