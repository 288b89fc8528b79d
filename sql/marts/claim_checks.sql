-- Each claim of the source article (raw.claims, data/claims.csv) held against the recomputed
-- figure: the number, the period it is as of, how much of the universe it covers, a verdict
-- and the method in words. Nothing here is written per claim: the claim's `metric` names the
-- table and column that recompute it, with optional selectors in brackets
-- (`marts.capex_growth.growth[group_name=mag7;calendar_year=2024]`), and one CTE per metric
-- family reads them. Change the data (or the claim) and the figure and verdict change.
-- Metric families: marts.mag7_earnings_share.<column>[calendar_quarter=],
-- marts.capex_growth.<column>[group_name=;calendar_year=],
-- marts.return_contribution.<column>[group_name=],
-- marts.depreciation_vs_capex.capex[basket=ai_basket|mag7;base_year=] (the basket's share of
-- the S&P 500 members' calendar-year capex increase since base_year, same companies at both
-- ends), marts.ai_capex_vs_gdp.<column>[per=gdp_ttm_prior_year] (per: divided by the prior
-- year's trailing GDP, i.e. a contribution to GDP growth) and
-- staging.market_caps.market_cap[ticker=;change_on=] (the one-day change on that day).
-- Without a period selector a family takes its latest period whose coverage reaches the floor
-- and whose figure is not NULL, else its latest period with any data. The floor is
-- getvariable('coverage_floor'): AIWATCH_COVERAGE_FLOOR (Settings.coverage_floor, default 0.9,
-- i.e. 90% of the universe), the same floor the market marts and the report apply.
-- Verdicts: 'not computable from public filings' (computable = false); 'insufficient data'
-- (aiwatch's own addition: no figure, or coverage below the floor: the data present cannot
-- answer yet, and a guess from a partial sum would look like an answer); otherwise by the rule
-- in `comparison`: 'about' is supported within tolerance of the cited figure, partly within
-- twice the tolerance, contradicted beyond; 'greater_than' is supported above the cited figure,
-- partly within tolerance below it (10% of the cited figure when no tolerance is given),
-- contradicted below that.
-- Grain: claim_id.
with claims as (
    select * from raw.claims
),

params as (
    -- the share of a universe that must report before a figure is trusted (AIWATCH_COVERAGE_FLOOR)
    select cast(getvariable('coverage_floor') as double) as coverage_floor
),

parsed as (
    select
        c.*,
        nullif(regexp_extract(c.metric, '^([a-z_]+\.[a-z0-9_]+)\.', 1), '') as metric_table,
        nullif(regexp_extract(c.metric, '^[a-z_]+\.[a-z0-9_]+\.([a-z0-9_]+)', 1), '')
            as metric_column,
        nullif(regexp_extract(c.metric, '[\[;]group_name=([^;\]]+)', 1), '') as sel_group,
        try_cast(nullif(regexp_extract(c.metric, '[\[;]calendar_year=([^;\]]+)', 1), '') as integer)
            as sel_year,
        nullif(regexp_extract(c.metric, '[\[;]calendar_quarter=([^;\]]+)', 1), '') as sel_quarter,
        nullif(regexp_extract(c.metric, '[\[;]basket=([^;\]]+)', 1), '') as sel_basket,
        try_cast(nullif(regexp_extract(c.metric, '[\[;]base_year=([^;\]]+)', 1), '') as integer)
            as sel_base_year,
        nullif(regexp_extract(c.metric, '[\[;]per=([^;\]]+)', 1), '') as sel_per,
        nullif(regexp_extract(c.metric, '[\[;]ticker=([^;\]]+)', 1), '') as sel_ticker,
        try_cast(nullif(regexp_extract(c.metric, '[\[;]change_on=([^;\]]+)', 1), '') as date)
            as sel_change_on
    from claims as c
),

-- family: marts.mag7_earnings_share -----------------------------------------------------------
earnings_long as (
    unpivot (
        select
            calendar_quarter, members, members_reporting, growth_basis_companies,
            mag7_share, mag7_share_of_growth_since_2022q4
        from marts.mag7_earnings_share
    )
    on mag7_share, mag7_share_of_growth_since_2022q4
    into name metric_column value metric_value
),

earnings_rows as (
    -- unpivot drops NULL values: bring back every quarter so 'no figure' stays visible
    select
        q.calendar_quarter,
        q.members,
        -- the growth share's basis is the members with a TTM at both ends
        case when m.metric_column like '%growth%' then q.growth_basis_companies
            else q.members_reporting end as covered,
        m.metric_column,
        l.metric_value
    from marts.mag7_earnings_share as q
    cross join (values ('mag7_share'), ('mag7_share_of_growth_since_2022q4')) as m(metric_column)
    left join earnings_long as l
        on l.calendar_quarter = q.calendar_quarter and l.metric_column = m.metric_column
),

earnings_checks as (
    select
        p.claim_id,
        e.metric_value as recomputed_figure,
        e.calendar_quarter as as_of,
        e.covered,
        e.members as universe,
        'S&P 500 members with a TTM net income' as covered_what,
        p.metric_column || ' of ' || p.metric_table || ': the Mag7''s trailing-twelve-month net'
        || ' income (10-K/10-Q, attributable to the parent) against all S&P 500 members'','
        || ' point-in-time membership' as method_detail
    from parsed as p
    inner join earnings_rows as e
        on p.metric_table = 'marts.mag7_earnings_share' and e.metric_column = p.metric_column
        and (p.sel_quarter is null or e.calendar_quarter = p.sel_quarter)
    cross join params as pr
    qualify row_number() over (
        partition by p.claim_id
        order by (e.metric_value is not null and e.covered >= pr.coverage_floor * e.members) desc,
            e.covered > 0 desc, e.calendar_quarter desc
    ) = 1
),

-- family: marts.capex_growth ------------------------------------------------------------------
capex_rows as (
    select
        g.calendar_year, g.group_name, g.companies, g.companies_reporting, m.metric_column,
        case m.metric_column
            when 'growth' then g.growth when 'capex' then g.capex when 'capex_prior' then g.capex_prior
        end as metric_value
    from marts.capex_growth as g
    cross join (values ('growth'), ('capex'), ('capex_prior')) as m(metric_column)
),

capex_checks as (
    select
        p.claim_id,
        c.metric_value as recomputed_figure,
        cast(c.calendar_year as varchar) || ' vs ' || cast(c.calendar_year - 1 as varchar)
            as as_of,
        c.companies_reporting as covered,
        c.companies as universe,
        'group members with four quarters of capex in both years' as covered_what,
        p.metric_column || ' of group ''' || c.group_name || ''' in ' || p.metric_table
        || ': calendar-year cash capex (sum of four fiscal quarters, 10-K/10-Q) over the prior'
        || ' year, same companies in both years, members on the year''s last day' as method_detail
    from parsed as p
    inner join capex_rows as c
        on p.metric_table = 'marts.capex_growth' and c.metric_column = p.metric_column
        and c.group_name = coalesce(p.sel_group, 'sp500')
        and (p.sel_year is null or c.calendar_year = p.sel_year)
    cross join params as pr
    qualify row_number() over (
        partition by p.claim_id
        order by (c.metric_value is not null and c.companies_reporting >= pr.coverage_floor * c.companies) desc,
            c.companies_reporting > 0 desc, c.calendar_year desc
    ) = 1
),

-- family: marts.return_contribution -----------------------------------------------------------
return_index as (
    -- the index's coverage decides whether any share of its gain means anything
    select members, members_covered from marts.return_contribution where group_name = 'sp500'
),

return_checks as (
    select
        p.claim_id,
        case p.metric_column
            when 'share_of_index_gain' then r.share_of_index_gain
            when 'contribution' then r.contribution
        end as recomputed_figure,
        cast(r.start_date as varchar) || ' to ' || cast(r.end_date as varchar) as as_of,
        i.members_covered as covered,
        i.members as universe,
        'S&P 500 members priced on both days' as covered_what,
        p.metric_column || ' of group ''' || r.group_name || ''' in ' || p.metric_table
        || ': change in market cap (close as traded x shares outstanding) over the gain of'
        || ' all members priced at both ends' as method_detail
    from parsed as p
    inner join marts.return_contribution as r
        on p.metric_table = 'marts.return_contribution'
        and r.group_name = coalesce(p.sel_group, 'ai_basket')
    cross join return_index as i
),

-- family: marts.depreciation_vs_capex (a basket's share of the index's capex increase) ------
capex_years as (
    select cik, calendar_year, capex from marts.depreciation_vs_capex where capex is not null
),

year_end_members as (
    select distinct
        cast(left(calendar_quarter, 4) as integer) as calendar_year,
        member_key,
        cik,
        is_mag7
    from staging.membership_quarterly
    where calendar_quarter like '%Q4'
),

basket_claims as (
    select * from parsed where metric_table = 'marts.depreciation_vs_capex'
),

basket_years as (
    select
        b.claim_id,
        m.calendar_year,
        coalesce(b.sel_base_year, 2022) as base_year,
        count(*) as members,
        count(*) filter (where cur.capex is not null and base.capex is not null) as covered,
        sum(cur.capex - base.capex) as index_increase,
        sum(cur.capex - base.capex) filter (
            where (b.sel_basket = 'mag7' and m.is_mag7)
               or (coalesce(b.sel_basket, 'ai_basket') = 'ai_basket'
                   and m.cik in (select cik from raw.ai_basket))
        ) as basket_increase
    from basket_claims as b
    inner join year_end_members as m on m.calendar_year > coalesce(b.sel_base_year, 2022)
    left join capex_years as cur on cur.cik = m.cik and cur.calendar_year = m.calendar_year
    left join capex_years as base
        on base.cik = m.cik and base.calendar_year = coalesce(b.sel_base_year, 2022)
    group by b.claim_id, m.calendar_year, base_year
),

basket_checks as (
    select
        y.claim_id,
        case when y.index_increase > 0 then coalesce(y.basket_increase, 0) / y.index_increase
        end as recomputed_figure,
        cast(y.calendar_year as varchar) || ' vs ' || cast(y.base_year as varchar) as as_of,
        y.covered,
        y.members as universe,
        'S&P 500 members with calendar-year capex at both ends' as covered_what,
        'the ' || coalesce(b.sel_basket, 'ai_basket') || ' basket''s share of the S&P 500 members'''
        || ' increase in calendar-year cash capex (' || b.metric_table || '.capex, 10-K/10-Q) since '
        || cast(y.base_year as varchar) || ', same companies at both ends, members on the'
        || ' year''s last day; NULL unless the increase is positive' as method_detail
    from basket_years as y
    inner join basket_claims as b on b.claim_id = y.claim_id
    cross join params as pr
    qualify row_number() over (
        partition by y.claim_id
        order by (y.index_increase > 0 and y.covered >= pr.coverage_floor * y.members) desc,
            y.covered > 0 desc, y.calendar_year desc
    ) = 1
),

-- family: marts.ai_capex_vs_gdp ---------------------------------------------------------------
gdp_rows as (
    select
        calendar_quarter, hyperscalers, companies_reporting_ttm,
        capex_ttm_share_of_gdp, capex_change_share_of_gdp_change, capex_ttm_change_yoy,
        gdp_ttm - gdp_ttm_change_yoy as gdp_ttm_prior_year
    from marts.ai_capex_vs_gdp
),

gdp_checks as (
    select
        p.claim_id,
        case
            when p.metric_column = 'capex_ttm_share_of_gdp' then g.capex_ttm_share_of_gdp
            when p.metric_column = 'capex_change_share_of_gdp_change'
                then g.capex_change_share_of_gdp_change
            when p.metric_column = 'capex_ttm_change_yoy' and p.sel_per = 'gdp_ttm_prior_year'
                then case when g.gdp_ttm_prior_year > 0
                    then g.capex_ttm_change_yoy / g.gdp_ttm_prior_year end
            when p.metric_column = 'capex_ttm_change_yoy' and p.sel_per is null
                then g.capex_ttm_change_yoy
        end as recomputed_figure,
        g.calendar_quarter as as_of,
        g.companies_reporting_ttm as covered,
        g.hyperscalers as universe,
        'hyperscalers with a TTM capex' as covered_what,
        p.metric_column
        || coalesce(' / ' || p.sel_per || ' (the change as a contribution to nominal GDP growth)', '')
        || ' in ' || p.metric_table || ': hyperscalers'' (raw.hyperscalers) trailing-twelve-month'
        || ' cash capex from 10-K/10-Q against FRED nominal GDP; all capex, not only AI'
            as method_detail
    from parsed as p
    inner join gdp_rows as g
        on p.metric_table = 'marts.ai_capex_vs_gdp'
        and p.metric_column in (
            'capex_ttm_share_of_gdp', 'capex_change_share_of_gdp_change', 'capex_ttm_change_yoy'
        )
),

gdp_ranked as (
    select gc.*
    from gdp_checks as gc
    cross join params as pr
    qualify row_number() over (
        partition by gc.claim_id
        order by (gc.recomputed_figure is not null and gc.covered >= pr.coverage_floor * gc.universe) desc,
            gc.covered > 0 desc, gc.as_of desc
    ) = 1
),

-- family: staging.market_caps (one day's change) -------------------------------------------
cap_claims as (
    select * from parsed where metric_table = 'staging.market_caps'
),

cap_days as (
    select
        b.claim_id,
        max(c."date") filter (where c."date" = b.sel_change_on) as day_on,
        max(c."date") filter (where c."date" < b.sel_change_on) as day_before
    from cap_claims as b
    left join staging.market_caps as c
        on c.ticker = b.sel_ticker and c.market_cap is not null
    group by b.claim_id
),

cap_checks as (
    select
        b.claim_id,
        after.market_cap - before.market_cap as recomputed_figure,
        cast(b.sel_change_on as varchar) || ' vs '
            || coalesce(cast(d.day_before as varchar), 'the previous trading day') as as_of,
        (after.market_cap is not null and before.market_cap is not null)::integer as covered,
        1 as universe,
        'day pairs with a market cap for ' || coalesce(b.sel_ticker, '?') as covered_what,
        'change of ' || coalesce(b.sel_ticker, '?') || '''s market cap (close as traded x shares'
        || ' outstanding as of the day, ' || b.metric_table || ') from the previous trading day'
        || ' to ' || coalesce(cast(b.sel_change_on as varchar), '?') as method_detail
    from cap_claims as b
    left join cap_days as d on d.claim_id = b.claim_id
    left join staging.market_caps as after
        on after.ticker = b.sel_ticker and after."date" = d.day_on
    left join staging.market_caps as before
        on before.ticker = b.sel_ticker and before."date" = d.day_before
),

recomputed as (
    select * from earnings_checks
    union all by name select * from capex_checks
    union all by name select * from return_checks
    union all by name select * from basket_checks
    union all by name select * from gdp_ranked
    union all by name select * from cap_checks
),

judged as (
    select
        p.*,
        r.recomputed_figure,
        r.as_of,
        r.covered,
        r.universe,
        r.covered_what,
        r.method_detail,
        pr.coverage_floor,
        case when r.universe > 0 then r.covered / r.universe end as coverage_ratio,
        -- tolerance of a greater_than rule without one: 10% of the cited figure
        coalesce(p.tolerance, 0.1 * abs(p.cited_figure)) as band,
        case
            when not coalesce(p.computable, false) then 'not computable from public filings'
            when r.claim_id is null or r.recomputed_figure is null then 'insufficient data'
            when r.universe is null or r.universe = 0
                or r.covered < pr.coverage_floor * r.universe then 'insufficient data'
            when p.comparison = 'about' and abs(r.recomputed_figure - p.cited_figure) <= p.tolerance
                then 'supported'
            when p.comparison = 'about'
                and abs(r.recomputed_figure - p.cited_figure) <= 2 * p.tolerance then 'partly'
            when p.comparison = 'about' then 'contradicted'
            when p.comparison = 'greater_than' and r.recomputed_figure > p.cited_figure
                then 'supported'
            when p.comparison = 'greater_than'
                and r.recomputed_figure > p.cited_figure - coalesce(p.tolerance, 0.1 * abs(p.cited_figure))
                then 'partly'
            when p.comparison = 'greater_than' then 'contradicted'
            else 'unknown rule: ' || coalesce(p.comparison, 'none')
        end as verdict
    from parsed as p
    cross join params as pr
    left join recomputed as r on r.claim_id = p.claim_id
)

-- final: column comments become COMMENT ON COLUMN
select
    claim_id, -- Claim identifier from data/claims.csv
    claim, -- The claim as the source article makes it
    cited_by, -- Who the article cites for it
    source, -- URL of the public page the claim and figure come from
    cited_figure, -- The figure as cited, in cited_unit (share and growth as fractions: 0.4 = 40%)
    cited_unit, -- 'share', 'growth' (fractions), 'usd' or 'ratio'
    comparison, -- The rule: 'about' (within tolerance) or 'greater_than' (above the cited figure)
    tolerance, -- Allowed distance from the cited figure for 'about', in cited_unit; for 'greater_than' the 'partly' band below it (NULL: 10% of the cited figure)
    metric, -- The table.column[selectors] that recomputes the claim (NULL when not computable)
    recomputed_figure, -- The figure recomputed from filings and prices, in cited_unit; NULL when there is none
    recomputed_figure - cited_figure as difference, -- recomputed_figure - cited_figure, in cited_unit
    as_of, -- The period the recomputed figure is for (calendar quarter, 'year vs year' or 'day to day')
    covered, -- Units of the universe that the figure covers (see coverage)
    universe, -- Size of the universe the claim speaks of (S&P 500 members, group members, hyperscalers, day pairs)
    coverage_ratio, -- covered / universe; below the coverage floor (AIWATCH_COVERAGE_FLOOR, default 0.9) the verdict is 'insufficient data'
    case when universe is not null
        then cast(covered as varchar) || '/' || cast(universe as varchar) || ' ' || covered_what
    end as coverage, -- covered/universe in words, e.g. '3/7 group members with four quarters of capex in both years'
    verdict, -- 'supported', 'partly', 'contradicted', 'not computable from public filings', or 'insufficient data' (no figure, or coverage below the floor: the data cannot answer yet)
    case
        when not coalesce(computable, false) then 'none: not computable'
        when comparison = 'about' then 'supported if |recomputed - cited| <= ' || printf('%g', tolerance)
            || ', partly if <= ' || printf('%g', 2 * tolerance) || ', else contradicted'
        when comparison = 'greater_than' then 'supported if recomputed > ' || printf('%g', cited_figure)
            || ', partly if > ' || printf('%g', cited_figure - band) || ', else contradicted'
    end || case when computable
        then '; insufficient data below ' || printf('%g', 100 * coverage_floor) || '% coverage'
        else '' end
        as rule, -- The verdict rule in words, from comparison, tolerance and the coverage floor in force
    case
        when not coalesce(computable, false) then 'Not recomputed: ' || coalesce(note, 'no public filing carries the figure')
        when method_detail is null then 'No rows of ' || coalesce(metric_table, metric, '?') || ' for ' || coalesce(metric, '?')
        else 'Recomputed as ' || method_detail
    end as method, -- How the figure was recomputed, in words, built from the claim's metric
    claim_period, -- The period the claim speaks of, as written in data/claims.csv
    note -- What differs between the claim and what filings can show
from judged
order by claim_id
