-- The metric -> ordered us-gaap concept list: the one place that says which XBRL tags mean
-- "revenue", "net income", "capex", "depreciation & amortization" and "operating cash flow".
-- Grain: one row per metric and concept; concept_rank 1 is preferred.
-- How a concept is chosen (staging.facts_selected): for each company and period, the concept
-- reported in the newest 10-K/10-Q that covers the period wins, and concept_rank breaks ties
-- within that filing. So a company's switch of tags (NVIDIA and Alphabet moving revenue to
-- `Revenues`, NVIDIA and Amazon moving capex to `PaymentsToAcquireProductiveAssets`) is
-- followed, because filers restate comparatives under the new tag.
-- Lists surveyed from the real companyfacts payloads of AAPL, MSFT, NVDA, GOOGL, AMZN, META,
-- NFLX, MRVL (snapshot/); the lower-ranked tags are common filer fallbacks.
with concepts (metric, concept_rank, concept, note) as (
    values
        -- Revenues is the income-statement total; Alphabet's RevenueFromContract... omits
        -- hedging gains, so the total ranks first.
        ('revenue', 1, 'Revenues', 'total revenues; NVDA all years, GOOGL from 2025, NFLX'),
        ('revenue', 2, 'RevenueFromContractWithCustomerExcludingAssessedTax', 'ASC 606 tag; AAPL, MSFT, AMZN, META'),
        ('revenue', 3, 'RevenueFromContractWithCustomerIncludingAssessedTax', 'ASC 606 tag incl. sales taxes'),
        ('revenue', 4, 'SalesRevenueNet', 'pre-2018 tag (AAPL, MSFT, AMZN)'),
        ('revenue', 5, 'RevenuesNetOfInterestExpense', 'banks and brokers'),
        ('revenue', 6, 'RegulatedAndUnregulatedOperatingRevenue', 'utilities'),
        -- Net income attributable to the parent; ProfitLoss (incl. noncontrolling interests)
        -- only when nothing closer is reported.
        ('net_income', 1, 'NetIncomeLoss', 'net income attributable to the parent'),
        ('net_income', 2, 'NetIncomeLossAvailableToCommonStockholdersBasic', 'after preferred dividends'),
        ('net_income', 3, 'ProfitLoss', 'incl. noncontrolling interests; last resort'),
        -- Cash capex as reported on the cash-flow statement.
        ('capex', 1, 'PaymentsToAcquirePropertyPlantAndEquipment', 'most filers'),
        ('capex', 2, 'PaymentsToAcquireProductiveAssets', 'NVDA since FY2020, AMZN since 2017, AAPL before 2015'),
        ('capex', 3, 'PaymentsForCapitalImprovements', 'REITs'),
        ('depreciation_amortization', 1, 'DepreciationDepletionAndAmortization', 'AAPL, AMZN, NVDA, META, NFLX'),
        ('depreciation_amortization', 2, 'DepreciationAmortizationAndAccretionNet', 'AAPL before 2018'),
        ('depreciation_amortization', 3, 'DepreciationAndAmortization', 'NVDA before FY2022, AMZN before 2017'),
        ('depreciation_amortization', 4, 'OtherDepreciationAndAmortization', 'MRVL'),
        -- Depreciation alone (no amortization): Alphabet reports only this tag; MSFT's
        -- cash-flow line is an extension tag that companyfacts does not carry.
        ('depreciation_amortization', 5, 'Depreciation', 'depreciation only; GOOGL'),
        ('operating_cash_flow', 1, 'NetCashProvidedByUsedInOperatingActivities', 'all surveyed filers'),
        ('operating_cash_flow', 2, 'NetCashProvidedByUsedInOperatingActivitiesContinuingOperations', 'continuing operations only')
)

select
    metric,
    concept_rank,
    concept,
    note
from concepts
