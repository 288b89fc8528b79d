-- Circular deals: money that leaves a company and comes back to it through others, found in
-- the graph of publicly reported AI deals (data/deals.csv: equity investments, purchase
-- commitments, warrants; each edge points the way money or value flows). One row per distinct
-- directed cycle of 2 to 6 companies, written from its alphabetically smallest company, so
-- A → B → A and B → A → B are one row (A → B → C → A and A → C → B → A are two: the money
-- goes round in opposite directions). Parallel deals between the same ordered pair are one
-- edge whose amount is the SUM of their headline amounts (these are often ceilings, "up to",
-- and a later tranche can repeat part of an earlier headline: read totals as an order of
-- magnitude, not cash that moved). Each public company's latest annual revenue (from
-- marts.fundamentals_annual, by CIK) gives the scale; private companies have none.
-- Grain: one directed cycle.
with recursive deals as (
    select
        deal_id,
        from_company,
        to_company,
        -- seeds load as text (aiwatch.seeds): type them here
        cast(amount_usd as double) as amount_usd,
        cast(from_cik as bigint) as from_cik,
        cast(to_cik as bigint) as to_cik
    from raw.deals
    where from_company is not null
      and to_company is not null
      and from_company <> to_company
),

edges as (
    -- one edge per ordered pair; sum() skips unknown amounts and is NULL when all are unknown
    select
        from_company,
        to_company,
        sum(amount_usd) as amount_usd,
        list(deal_id order by deal_id) as deal_ids
    from deals
    group by from_company, to_company
),

open_paths as (
    -- simple paths that start at their smallest company and never revisit one; a path of
    -- at most 5 edges plus the closing edge keeps cycles to 6 companies
    select
        from_company as start_company,
        to_company as last_company,
        [from_company, to_company] as companies,
        [amount_usd] as edge_amounts,
        deal_ids
    from edges
    where to_company > from_company
    union all
    select
        p.start_company,
        e.to_company,
        list_append(p.companies, e.to_company),
        list_append(p.edge_amounts, e.amount_usd),
        list_concat(p.deal_ids, e.deal_ids)
    from open_paths as p
    inner join edges as e on e.from_company = p.last_company
    where e.to_company > p.start_company
      and not list_contains(p.companies, e.to_company)
      and len(p.companies) < 6
),

cycles as (
    select
        array_to_string(p.companies, ' > ') as cycle_id,
        p.companies,
        list_append(p.edge_amounts, e.amount_usd) as edge_amounts,
        list_sort(list_concat(p.deal_ids, e.deal_ids)) as deal_ids
    from open_paths as p
    inner join edges as e
        on e.from_company = p.last_company and e.to_company = p.start_company
),

company_ciks as (
    select from_company as company, max(from_cik) as cik from deals group by from_company
    union
    select to_company as company, max(to_cik) as cik from deals group by to_company
),

latest_revenue as (
    select
        cast(cik as bigint) as cik,
        max(fiscal_year) as fiscal_year,
        arg_max(revenue, fiscal_year) as revenue
    from marts.fundamentals_annual
    where revenue is not null
    group by cik
),

company_revenue as (
    select c.company, r.fiscal_year, r.revenue
    from (select company, max(cik) as cik from company_ciks group by company) as c
    left join latest_revenue as r on r.cik = c.cik
),

cycle_revenue as (
    select
        cy.cycle_id,
        sum(cr.revenue) as public_revenue_usd,
        count(cr.revenue) as companies_with_revenue,
        string_agg(
            cr.company || ' FY' || cr.fiscal_year || ' $' || round(cr.revenue / 1e9, 1) || 'bn',
            '; ' order by cr.company
        ) as revenue_by_company
    from cycles as cy
    cross join unnest(cy.companies) as member(company)
    left join company_revenue as cr on cr.company = member.company
    group by cy.cycle_id
),

final as (
    select
        cy.cycle_id,
        array_to_string(list_append(cy.companies, cy.companies[1]), ' → ') as path,
        cy.companies,
        len(cy.companies) as length,
        list_sum(cy.edge_amounts) as total_amount_usd,
        list_aggregate(cy.edge_amounts, 'count') as edges_with_amount,
        list_min(cy.edge_amounts) as min_edge_amount_usd,
        cy.deal_ids,
        r.public_revenue_usd,
        r.companies_with_revenue,
        r.revenue_by_company
    from cycles as cy
    inner join cycle_revenue as r on r.cycle_id = cy.cycle_id
)

select
    cycle_id, -- the cycle's companies from its alphabetically smallest, joined by ' > ': stable while the deals on it change
    path, -- the cycle written out, back to where it started: 'Microsoft → OpenAI → Microsoft'
    companies, -- the companies in cycle order (list), starting at the alphabetically smallest
    length, -- number of companies (= number of edges) on the cycle, 2 to 6
    total_amount_usd, -- sum of the edges' headline amounts in USD (ceilings included, parallel deals
    -- summed); only edges with a reported amount count; NULL when none has one
    edges_with_amount, -- how many of the cycle's edges have a reported amount (equal to length: fully priced)
    min_edge_amount_usd, -- the smallest reported edge amount in USD: the most that can go all the way round,
    -- when edges_with_amount = length; NULL when no edge has an amount
    deal_ids, -- the data/deals.csv rows behind the cycle's edges (list, sorted)
    public_revenue_usd, -- sum of the latest annual revenue (USD, fundamentals_annual) of the cycle's companies
    -- that have one; NULL when none does (private companies never do)
    companies_with_revenue, -- how many of the cycle's companies contribute to public_revenue_usd
    revenue_by_company -- 'Company FYyyyy $x.xbn' per company with a latest annual revenue, '; '-joined
from final
order by length, cycle_id
