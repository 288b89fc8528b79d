-- Audit: the Mag7 are all present, counted by CIK (Alphabet once), in the latest calendar
-- quarter in which any Mag7 member reports a TTM net income. Returns that quarter when fewer
-- or more than 7 Mag7 members are counted or reporting (a broken CIK mapping, Alphabet counted
-- twice, a Mag7 company whose quarter is missing); no rows = pass.
with shares as (
    select * from marts.mag7_earnings_share
),

latest as (
    select max(calendar_quarter) as calendar_quarter
    from shares
    where mag7_members_reporting > 0
)

select
    s.calendar_quarter,
    s.mag7_members,
    s.mag7_members_reporting,
    s.mag7_net_income_ttm
from shares as s
inner join latest as l on s.calendar_quarter = l.calendar_quarter
where s.mag7_members <> 7 or s.mag7_members_reporting <> 7
