-- Each company's fiscal years, labelled the company's own way: one row per cik and fiscal
-- year with the year's first day (and last day once the 10-K is in).
-- The label is the `fy` of the filing in which the year is the CURRENT period, never the `fy`
-- of a later filing repeating it as a comparative (edgartools #460/#588 were off by a year
-- from trusting that). A filing's current period is the period end most of its duration
-- facts share; the fiscal year's first day is the start of its year-to-date facts ending
-- there (3 months for Q1, 6 for Q2, 9 for Q3, 12 for FY). The 10-K's label wins over the
-- 10-Qs', the earliest filing over amendments.
-- Examples: NVIDIA's year 2025-01-27..2026-01-25 is FY2026; Apple's 2024-09-29..2025-09-27 is
-- FY2025. Grain: cik x fiscal_year.
with companyfacts as (
    select * from raw.sec_companyfacts
),

filing_facts as (
    select cik, accn, fy, fp, form, filed, start, "end"
    from companyfacts
    where start is not null
      and fy is not null
      and fp in ('Q1', 'Q2', 'Q3', 'FY')
      and form in ('10-K', '10-K/A', '10-Q', '10-Q/A', '10-KT', '10-KT/A', '10-QT', '10-QT/A')
),

filing_periods as (
    -- ONE pass over the facts (every concept, so the current period is voted on by the whole
    -- filing) down to a few rows per filing, which the steps below read instead of the facts.
    -- (Joining the facts back to their filing's period end made DuckDB hold all of them in
    -- memory: ~2.8 GB per 13M facts.)
    select
        cik,
        accn,
        "end",
        start,
        fy,
        fp,
        form,
        count(*) as n_facts,
        min(filed) as filed,
        -- a year-to-date fact: its length fits the filing's fiscal period (3, 6, 9, 12 months)
        datediff('day', start, "end") + 1 between
            case fp when 'Q1' then 80 when 'Q2' then 165 when 'Q3' then 255 else 350 end
            and case fp when 'Q1' then 100 when 'Q2' then 195 when 'Q3' then 285 else 380 end
            as is_year_to_date
    from filing_facts
    group by cik, accn, "end", start, fy, fp, form
),

filing_period_end as (
    -- the current period: the end date shared by most facts (later date on a tie)
    select cik, accn, arg_max("end", n_facts) as period_end
    from (
        select cik, accn, "end", sum(n_facts) + 0.000001 * epoch("end") / 86400 as n_facts
        from filing_periods
        group by cik, accn, "end"
    )
    group by cik, accn
),

filing_year_start as (
    select
        cik,
        accn,
        any_value(fy) as fy,
        any_value(fp) as fp,
        any_value(form) as form,
        min(filed) as filed,
        any_value(period_end) as period_end,
        -- the most common start of the year-to-date facts (the earlier start on a tie)
        arg_max(start, (n_facts, -epoch(start))) as fiscal_year_start
    from (
        select
            f.cik,
            f.accn,
            f.start,
            any_value(f.fy) as fy,
            any_value(f.fp) as fp,
            any_value(f.form) as form,
            min(f.filed) as filed,
            any_value(p.period_end) as period_end,
            sum(f.n_facts) as n_facts
        from filing_periods as f
        inner join filing_period_end as p
            on f.cik = p.cik and f.accn = p.accn and f."end" = p.period_end
        where f.is_year_to_date
        group by f.cik, f.accn, f.start
    )
    group by cik, accn
),

labelled as (
    select
        cik,
        fiscal_year_start,
        arg_min(fy, (form not like '10-K%', form like '%/A', filed)) as fiscal_year,
        arg_min(accn, (form not like '10-K%', form like '%/A', filed)) as label_accn,
        max(case when fp = 'FY' then period_end end) as fiscal_year_end
    from filing_year_start
    group by cik, fiscal_year_start
),

final as (
    select
        cik,
        fiscal_year,
        fiscal_year_start,
        fiscal_year_end,
        label_accn
    from labelled
    -- a mislabelled filing can repeat a label; the year whose 10-K carries it keeps it
    qualify row_number() over (
        partition by cik, fiscal_year
        order by fiscal_year_end is null, fiscal_year_start desc
    ) = 1
)

select * from final
