-- Point-in-time S&P 500 membership by calendar quarter: one row per quarter and member
-- company. Rule: a company counts in a quarter if it was a member on the quarter's last day
-- (start_date <= quarter_end < end_date; end_date is the first day it was no longer a member,
-- as in the source's FB 2022-06-09 / META 2022-06-09 hand-over; NULL = still a member at
-- the source's as_of, assumed to continue for quarters after as_of).
-- Members are counted once by CIK (Alphabet's GOOGL+GOOG, FB+META are one company); a member
-- without a CIK mapping is kept under its ticker (member_key 'ticker:XYZ') so it counts as a
-- member that cannot report, which lowers coverage instead of hiding it.
-- Quarters run from getvariable('window_start') (default 2019-01-01) to the quarter of the
-- membership source's as_of. Grain: calendar_quarter x member_key.
with membership as (
    select * from raw.sp500_membership
),

mag7 as (
    select distinct cik from raw.mag7
),

bounds as (
    select
        date_trunc('quarter', coalesce(getvariable('window_start'), date '2019-01-01')) as first_quarter,
        date_trunc('quarter', max(as_of)) as last_quarter
    from membership
),

calendar_quarters as (
    select
        cast(q.quarter_start as date) as quarter_start,
        cast(q.quarter_start + interval 3 month - interval 1 day as date) as quarter_end
    from bounds as b,
        unnest(generate_series(b.first_quarter, b.last_quarter, interval 3 month)) as q(quarter_start)
),

members as (
    select
        strftime(q.quarter_start, '%Y') || 'Q' || cast(quarter(q.quarter_start) as varchar)
            as calendar_quarter,
        q.quarter_start,
        q.quarter_end,
        coalesce(cast(m.cik as varchar), 'ticker:' || m.ticker) as member_key,
        m.cik,
        min(m.ticker) as ticker
    from calendar_quarters as q
    inner join membership as m
        on m.start_date <= q.quarter_end
        and (m.end_date is null or q.quarter_end < m.end_date)
    group by all
),

final as (
    select
        s.calendar_quarter,
        s.quarter_start,
        s.quarter_end,
        s.member_key,
        s.cik,
        s.ticker,
        g.cik is not null as is_mag7
    from members as s
    left join mag7 as g on s.cik = g.cik
)

select * from final
