"""marts.deal_cycles on hand-made deal graphs (all companies and figures SYNTHETIC).

The graph of the main test, money flowing along the arrows:

    Acme ──x1 10bn──▶ Bolt ──x4 7bn──▶ Cog ──x7 5bn──▶ Echo   (dead end: Echo pays no one)
      ▲                │ ▲               │
      └─x2 4bn, x3 ?───┘ └──x6 3bn─ Dyn ◀┘ x5 (no amount)

Two cycles: Acme → Bolt → Acme (two parallel deals back, one without an amount) and
Bolt → Cog → Dyn → Bolt. Echo's self-deal (x8) is no cycle. Expected rows are worked out by hand
from the picture, not by running the SQL.
"""

from __future__ import annotations

import duckdb
import pytest

from aiwatch import seeds, sqlmodels
from aiwatch.settings import REPO_ROOT

MODEL_PATH = REPO_ROOT / "sql" / "marts" / "deal_cycles.sql"
BN = 1e9

# deal_id, from, to, relation, amount_usd, from_cik, to_cik (SYNTHETIC)
SYNTHETIC_DEALS = [
    ("x1", "Acme", "Bolt", "equity_investment", 10 * BN, 1, None),
    ("x2", "Bolt", "Acme", "purchase_commitment", 4 * BN, None, 1),
    ("x3", "Bolt", "Acme", "purchase_commitment", None, None, 1),
    ("x4", "Bolt", "Cog", "purchase_commitment", 7 * BN, None, 3),
    ("x5", "Cog", "Dyn", "equity_investment", None, 3, 4),
    ("x6", "Dyn", "Bolt", "purchase_commitment", 3 * BN, 4, None),
    ("x7", "Cog", "Echo", "purchase_commitment", 5 * BN, 3, None),
    ("x8", "Echo", "Echo", "purchases", 1 * BN, None, None),
]
# cik, fiscal_year, revenue (SYNTHETIC): Acme's latest year wins; Dyn reports no revenue.
SYNTHETIC_FUNDAMENTALS = [
    (1, 2024, 100 * BN),
    (1, 2025, 120 * BN),
    (3, 2024, 50.5 * BN),
    (4, 2025, None),
]


def _run(deals: list[tuple], fundamentals: list[tuple]) -> list[dict]:
    con = duckdb.connect()
    con.execute("create schema raw; create schema marts")
    con.execute(
        """
        create table raw.deals (
            deal_id varchar, from_company varchar, to_company varchar, relation varchar,
            amount_usd varchar, announced varchar, description varchar, source varchar,
            from_ticker varchar, to_ticker varchar, from_cik varchar, to_cik varchar
        )
        """
    )
    con.executemany(
        "insert into raw.deals values (?, ?, ?, ?, ?, '2025-01-01', 'synthetic', "
        "'https://example.invalid/synthetic', null, null, ?, ?)",
        deals,
    )
    con.execute(
        "create table marts.fundamentals_annual "
        "(cik bigint, ticker varchar, fiscal_year integer, revenue double)"
    )
    if fundamentals:
        con.executemany(
            "insert into marts.fundamentals_annual values (?, null, ?, ?)", fundamentals
        )
    model = sqlmodels.load_model(MODEL_PATH)
    sqlmodels.run_model(con, model, {})
    cursor = con.execute("select * from marts.deal_cycles order by cycle_id")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_two_cycles_and_a_dead_end() -> None:
    rows = _run(SYNTHETIC_DEALS, SYNTHETIC_FUNDAMENTALS)
    assert rows == [
        {
            "cycle_id": "Acme > Bolt",
            "path": "Acme → Bolt → Acme",
            "companies": ["Acme", "Bolt"],
            "length": 2,
            # x1 10bn + (x2 4bn + x3 unknown, one parallel edge of 4bn)
            "total_amount_usd": 14 * BN,
            "edges_with_amount": 2,
            "min_edge_amount_usd": 4 * BN,
            "deal_ids": ["x1", "x2", "x3"],
            # Acme's FY2025 revenue; Bolt is private (no CIK)
            "public_revenue_usd": 120 * BN,
            "companies_with_revenue": 1,
            "revenue_by_company": "Acme FY2025 $120.0bn",
        },
        {
            "cycle_id": "Bolt > Cog > Dyn",
            "path": "Bolt → Cog → Dyn → Bolt",
            "companies": ["Bolt", "Cog", "Dyn"],
            "length": 3,
            # x4 7bn + x5 unknown + x6 3bn
            "total_amount_usd": 10 * BN,
            "edges_with_amount": 2,
            "min_edge_amount_usd": 3 * BN,
            "deal_ids": ["x4", "x5", "x6"],
            "public_revenue_usd": 50.5 * BN,
            "companies_with_revenue": 1,
            "revenue_by_company": "Cog FY2024 $50.5bn",
        },
    ]


def test_a_cycle_is_one_row_whatever_company_it_is_entered_from() -> None:
    # The same 2-cycle and 3-cycle, listed so the first deal starts at the largest name.
    reordered = list(reversed(SYNTHETIC_DEALS))
    assert [r["cycle_id"] for r in _run(reordered, [])] == ["Acme > Bolt", "Bolt > Cog > Dyn"]


def test_opposite_directions_are_two_cycles() -> None:
    deals = [
        ("y1", "A", "B", "purchases", 1 * BN, None, None),
        ("y2", "B", "C", "purchases", 1 * BN, None, None),
        ("y3", "C", "A", "purchases", 1 * BN, None, None),
        ("y4", "A", "C", "purchases", 2 * BN, None, None),
        ("y5", "C", "B", "purchases", 2 * BN, None, None),
        ("y6", "B", "A", "purchases", 2 * BN, None, None),
    ]
    paths = sorted(r["path"] for r in _run(deals, []))
    # 3 two-company cycles (A-B, A-C, B-C) and the two directions of the triangle
    assert paths == [
        "A → B → A",
        "A → B → C → A",
        "A → C → A",
        "A → C → B → A",
        "B → C → B",
    ]


@pytest.mark.parametrize(("ring_size", "expected_rows"), [(6, 1), (7, 0)])
def test_cycles_longer_than_six_companies_are_not_listed(ring_size: int, expected_rows: int) -> None:
    names = [f"N{i}" for i in range(ring_size)]
    deals = [
        (f"r{i}", names[i], names[(i + 1) % ring_size], "purchases", 1 * BN, None, None)
        for i in range(ring_size)
    ]
    rows = _run(deals, [])
    assert len(rows) == expected_rows
    if rows:
        assert rows[0]["length"] == 6
        assert rows[0]["public_revenue_usd"] is None
        assert rows[0]["revenue_by_company"] is None


def test_an_edge_without_any_amount_leaves_the_total_null() -> None:
    deals = [
        ("z1", "P", "Q", "equity_warrant", None, None, None),
        ("z2", "Q", "P", "purchase_commitment", None, None, None),
    ]
    (row,) = _run(deals, [])
    assert row["total_amount_usd"] is None
    assert row["min_edge_amount_usd"] is None
    assert row["edges_with_amount"] == 0


def test_the_bundled_deals_file_loads_and_has_cycles() -> None:
    """The real seed runs through the same SQL (no expected figures: only that it works)."""
    con = duckdb.connect()
    con.execute("create schema raw; create schema marts")
    # as the pipeline loads it: every column text, unsourced rows refused
    deals = seeds.load_seed(REPO_ROOT / "data" / "deals.csv")
    con.register("deals_seed", deals.to_arrow())
    con.execute("create table raw.deals as select * from deals_seed")
    con.execute(
        "create table marts.fundamentals_annual (cik bigint, fiscal_year integer, revenue double)"
    )
    sqlmodels.run_model(con, sqlmodels.load_model(MODEL_PATH), {})
    ((cycles, longest),) = con.execute(
        "select count(*), max(length) from marts.deal_cycles"
    ).fetchall()
    assert cycles > 0
    assert longest <= 6
    # every deal row has a source
    ((unsourced,),) = con.execute(
        "select count(*) from raw.deals where source not like 'https://%'"
    ).fetchall()
    assert unsourced == 0
