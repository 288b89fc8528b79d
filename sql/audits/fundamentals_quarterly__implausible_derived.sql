-- Audit: implausible derived quarters. Returns each derived quarter (a difference of two
-- year-to-date facts) of a metric that cannot be negative (revenue, capex, depreciation &
-- amortization) that came out negative, with both inputs, so a reviewer can see whether a
-- restatement, a tag switch or a mismatched pair caused it.
select
    q.cik,
    q.metric,
    q.fiscal_year,
    'Q' || cast(q.fiscal_quarter as varchar) as fiscal_period,
    q.period_start,
    q.period_end,
    q.val,
    q.concept,
    q.minuend_val,
    q.minuend_accn,
    q.subtrahend_val,
    q.subtrahend_accn,
    q.subtrahend_concept
from staging.quarters as q
where q.method = 'derived'
  and q.metric in ('revenue', 'capex', 'depreciation_amortization')
  and q.val < 0
order by q.cik, q.metric, q.fiscal_year, q.fiscal_quarter
