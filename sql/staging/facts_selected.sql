-- One value per company, metric and period: the concept chosen from staging.metric_concepts,
-- with its fiscal year. Rule: among the metric's concepts present for the period, the one
-- from the newest 10-K/10-Q wins (filers restate comparatives under a new tag, so this follows
-- a tag switch); within one filing the lower concept_rank wins. The row records the concept
-- and the accession it came from.
-- fiscal_year / fiscal_year_start: the company's fiscal year whose first day is the latest on
-- or before the period's start (staging.fiscal_years); periods before the first known fiscal
-- year drop out.
-- Grain: cik x metric x start x end.
with facts_current as (
    select * from staging.facts_current
),

metric_concepts as (
    select * from staging.metric_concepts
),

fiscal_years as (
    select * from staging.fiscal_years
),

candidates as (
    select f.*, m.metric, m.concept_rank
    from facts_current as f
    inner join metric_concepts as m on f.concept = m.concept
    where f.duration_class is not null
),

chosen as (
    select *
    from candidates
    qualify row_number() over (
        partition by cik, metric, start, "end"
        order by filed desc, concept_rank, accn desc
    ) = 1
),

final as (
    select
        c.cik,
        c.metric,
        y.fiscal_year,
        y.fiscal_year_start,
        c.start,
        c."end",
        c.duration_days,
        c.duration_class,
        c.val,
        c.concept,
        c.accn,
        c.form,
        c.filed
    from chosen as c
    asof inner join fiscal_years as y
        on c.cik = y.cik and c.start >= y.fiscal_year_start
)

select * from final
