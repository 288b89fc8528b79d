-- Current SEC facts for the metric concepts: one row per cik, concept, unit, start and end,
-- the copy from the latest filing. Amendments (10-K/A) and restatements arrive as new rows in
-- companyfacts; nothing is overwritten there, so "latest filed wins" is applied here.
-- Only 10-K/10-Q family forms count (proxy statements and 8-Ks repeat figures but are not
-- the financial statements), only USD duration facts (flows), only concepts in
-- staging.metric_concepts. duration_class buckets the period length:
-- quarter 80-100 days, half 165-195, nine_months 255-285, year 350-380 (52/53-week years fit).
-- Grain: cik x concept x unit x start x end.
with companyfacts as (
    select * from raw.sec_companyfacts
),

metric_concepts as (
    select distinct concept from staging.metric_concepts
),

statement_facts as (
    select
        f.cik,
        f.taxonomy,
        f.concept,
        f.unit,
        f.start,
        f."end",
        f.val,
        f.accn,
        f.fy,
        f.fp,
        f.form,
        f.filed
    from companyfacts as f
    inner join metric_concepts as m on f.concept = m.concept
    where f.taxonomy = 'us-gaap'
      and f.unit = 'USD'
      and f.start is not null
      and f.form in ('10-K', '10-K/A', '10-Q', '10-Q/A', '10-KT', '10-KT/A', '10-QT', '10-QT/A')
),

latest as (
    select *
    from statement_facts
    qualify row_number() over (
        partition by cik, concept, unit, start, "end"
        order by filed desc, accn desc
    ) = 1
),

final as (
    select
        cik,
        taxonomy,
        concept,
        unit,
        start,
        "end",
        datediff('day', start, "end") + 1 as duration_days,
        case
            when datediff('day', start, "end") + 1 between 80 and 100 then 'quarter'
            when datediff('day', start, "end") + 1 between 165 and 195 then 'half'
            when datediff('day', start, "end") + 1 between 255 and 285 then 'nine_months'
            when datediff('day', start, "end") + 1 between 350 and 380 then 'year'
        end as duration_class,
        val,
        accn,
        fy,
        fp,
        form,
        filed
    from latest
)

select * from final
