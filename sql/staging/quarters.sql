-- Discrete fiscal quarters per company and metric. A quarter is the reported 80-100-day fact,
-- or else the difference of two year-to-date facts of the SAME fiscal year (same first day):
-- Q2 = H1 - Q1, Q3 = 9M - H1, Q4 = FY - 9M. Cash-flow items are year-to-date only in most
-- 10-Qs, so derivation is the normal case. A prior year's Q1 is never borrowed (edgartools
-- #1197), and where Q4 cannot be derived it is missing, never the full-year figure
-- (edgartools #1179). fiscal_quarter is the quarter's position in its fiscal year
-- (round(days since the year's first day / 91.3)).
-- Derived rows keep their inputs (minuend = the longer YTD fact, subtrahend = the shorter) so
-- the audit of implausible derived quarters can show them. concept/accn of a derived quarter
-- are the minuend's; when the two inputs used different concepts, concept reads 'A - B'.
-- Grain: cik x metric x fiscal_year x fiscal_quarter.
with facts_selected as (
    select * from staging.facts_selected
),

reported as (
    select
        cik,
        metric,
        fiscal_year,
        fiscal_year_start,
        cast(least(4, greatest(1, round(datediff('day', fiscal_year_start, "end") / 91.3))) as integer)
            as fiscal_quarter,
        start as period_start,
        "end" as period_end,
        val,
        concept,
        accn,
        filed
    from facts_selected
    where duration_class = 'quarter'
    qualify row_number() over (
        partition by cik, metric, fiscal_year, fiscal_quarter
        order by filed desc, "end" desc
    ) = 1
),

year_to_date as (
    select
        cik,
        metric,
        fiscal_year,
        fiscal_year_start,
        case duration_class
            when 'quarter' then 1 when 'half' then 2 when 'nine_months' then 3 when 'year' then 4
        end as ytd_quarters,
        "end",
        val,
        concept,
        accn,
        filed
    from facts_selected
    where start = fiscal_year_start
    qualify row_number() over (
        partition by cik, metric, fiscal_year, ytd_quarters
        order by filed desc, "end" desc
    ) = 1
),

derived as (
    select
        cur.cik,
        cur.metric,
        cur.fiscal_year,
        cur.fiscal_year_start,
        cur.ytd_quarters as fiscal_quarter,
        prev."end" + 1 as period_start,
        cur."end" as period_end,
        cur.val - prev.val as val,
        case when cur.concept = prev.concept then cur.concept
            else cur.concept || ' - ' || prev.concept end as concept,
        cur.accn,
        cur.val as minuend_val,
        cur.accn as minuend_accn,
        prev.val as subtrahend_val,
        prev.accn as subtrahend_accn,
        prev.concept as subtrahend_concept
    from year_to_date as cur
    inner join year_to_date as prev
        on cur.cik = prev.cik
        and cur.metric = prev.metric
        and cur.fiscal_year = prev.fiscal_year
        and cur.fiscal_year_start = prev.fiscal_year_start
        and prev.ytd_quarters = cur.ytd_quarters - 1
    where cur.ytd_quarters >= 2
),

final as (
    select
        coalesce(r.cik, d.cik) as cik,
        coalesce(r.metric, d.metric) as metric,
        coalesce(r.fiscal_year, d.fiscal_year) as fiscal_year,
        coalesce(r.fiscal_year_start, d.fiscal_year_start) as fiscal_year_start,
        coalesce(r.fiscal_quarter, d.fiscal_quarter) as fiscal_quarter,
        coalesce(r.period_start, d.period_start) as period_start,
        coalesce(r.period_end, d.period_end) as period_end,
        coalesce(r.val, d.val) as val,
        coalesce(r.concept, d.concept) as concept,
        coalesce(r.accn, d.accn) as accn,
        case when r.val is not null then 'reported' else 'derived' end as method,
        case when r.val is null then d.minuend_val end as minuend_val,
        case when r.val is null then d.minuend_accn end as minuend_accn,
        case when r.val is null then d.subtrahend_val end as subtrahend_val,
        case when r.val is null then d.subtrahend_accn end as subtrahend_accn,
        case when r.val is null then d.subtrahend_concept end as subtrahend_concept
    from reported as r
    full outer join derived as d
        on r.cik = d.cik
        and r.metric = d.metric
        and r.fiscal_year = d.fiscal_year
        and r.fiscal_quarter = d.fiscal_quarter
)

select * from final
