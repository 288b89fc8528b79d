-- Audit: the Mag7's share of S&P 500 TTM earnings lies within [0, 1]. Returns the quarters
-- where it does not (a sign error, a unit mix-up, or a negative index total slipping through).
-- The share of GROWTH is not checked: it exceeds 1 legitimately when the other members'
-- earnings fall.
select
    calendar_quarter,
    mag7_net_income_ttm,
    sp500_net_income_ttm,
    mag7_share
from marts.mag7_earnings_share
where mag7_share < 0 or mag7_share > 1
