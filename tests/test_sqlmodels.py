"""SQL models: dependencies parsed from SQL, comments read from the file, atomic runs.

Every model and row here is synthetic, written to tmp_path for the test.
"""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from aiwatch.sqlmodels import (
    SqlModelError,
    discover,
    discover_audits,
    load_model,
    run_all,
    run_model,
)
from aiwatch.warehouse import replace_table


def write_models(root: Path, files: dict[str, str]) -> Path:
    """Write {'staging/x.sql': sql} under root/sql and return that folder."""
    sql_dir = root / "sql"
    for relative, text in files.items():
        path = sql_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return sql_dir


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for schema in ("raw", "staging", "marts"):
        con.execute(f"CREATE SCHEMA {schema}")
    # Synthetic facts: two companies, four quarters each.
    replace_table(
        con,
        "raw.sec_companyfacts",
        pl.DataFrame(
            {
                "cik": [1] * 4 + [2] * 4,
                "period_end": [date(2024, m, 28) for m in (3, 6, 9, 12)] * 2,
                "val": [10.0, 20.0, 30.0, 40.0, 1.0, 2.0, 3.0, 4.0],
            }
        ),
    )
    replace_table(con, "raw.companies", pl.DataFrame({"cik": [1, 2], "ticker": ["AAA", "BBB"]}))
    yield con
    con.close()


FACTS = """
    -- Facts per company and quarter end (synthetic test model).
    -- Second line of the description.
    with facts as (
        select cik, period_end, val from raw.sec_companyfacts
    ),
    companies as (select * from raw.companies)
    select cik, ticker, period_end, val
    from facts
    join companies using (cik)
"""

TTM = """
    -- Trailing twelve months per company.
    with quarters as (select * from staging.facts)
    select
        cik, -- SEC central index key
        ticker,  -- exchange ticker
        sum(val) as net_income_ttm, -- TTM net income: the sum of four
                                    -- discrete quarters
        count(*) as quarters /* quarters summed */
    from quarters
    group by all
"""


def test_dependencies_come_from_the_sql_not_from_ctes_or_functions(tmp_path: Path) -> None:
    sql_dir = write_models(
        tmp_path,
        {
            "staging/facts.sql": FACTS,
            "staging/misc.sql": """
                select r.range as n, c.x
                from range(3) r
                cross join (select unnest([1, 2]) as x) c
                join staging.facts f on f.cik = r.range
                left join raw.membership m using (cik)
            """,
        },
    )
    facts, misc = discover(sql_dir)
    # JOIN … USING, which DuckDB's get_table_names cannot parse, and two CTEs.
    assert facts.deps == ("raw.companies", "raw.sec_companyfacts")
    assert misc.deps == ("raw.membership", "staging.facts")
    assert facts.table == "staging.facts"
    assert facts.description == (
        "Facts per company and quarter end (synthetic test model).\nSecond line of the description."
    )
    assert facts.sql.startswith("with facts as (")
    assert facts.columns == ("cik", "ticker", "period_end", "val")


def test_discover_orders_dependencies_first(tmp_path: Path) -> None:
    sql_dir = write_models(
        tmp_path,
        {
            "marts/a_ttm.sql": TTM,  # sorts first by name, but reads staging.facts
            "staging/facts.sql": FACTS,
            "staging/z_other.sql": "select 1 as one",
        },
    )
    # Dependencies first; among models that are ready together, table name order.
    assert [m.table for m in discover(sql_dir)] == [
        "staging.facts",
        "marts.a_ttm",
        "staging.z_other",
    ]


def test_column_comments_follow_lines_not_commas(tmp_path: Path) -> None:
    sql_dir = write_models(tmp_path, {"staging/facts.sql": FACTS, "marts/ttm.sql": TTM})
    ttm = discover(sql_dir)[-1]
    # The continuation line belongs to net_income_ttm (sqlglot alone would give it to the next
    # column), and the comment after a comma to the column before the comma.
    assert ttm.column_comments == {
        "cik": "SEC central index key",
        "ticker": "exchange ticker",
        "net_income_ttm": "TTM net income: the sum of four discrete quarters",
        "quarters": "quarters summed",
    }


def test_comment_placements(tmp_path: Path) -> None:
    path = (
        write_models(
            tmp_path,
            {
                "staging/x.sql": """
                select -- about the select itself, not a column
                    -- leads a (own line before it)
                    a,
                    b -- trailing b, no comma

                    -- leads c after a blank line
                    , c
                    , 'x -- not a comment' as d -- d's comment
                from raw.t
                -- after the list: nobody's
            """
            },
        )
        / "staging"
        / "x.sql"
    )
    model = load_model(path)
    assert model.column_comments == {
        "a": "leads a (own line before it)",
        "b": "trailing b, no comma",
        "c": "leads c after a blank line",
        "d": "d's comment",
    }


def test_marts_require_a_comment_on_every_column(tmp_path: Path) -> None:
    sql_dir = write_models(
        tmp_path,
        {
            "marts/undocumented.sql": """
                -- A mart with gaps in its documentation.
                select
                    cik, -- documented
                    ticker,
                    val * 2 as doubled
                from raw.companies
            """
        },
    )
    with pytest.raises(SqlModelError, match="columns without a comment: ticker, doubled"):
        discover(sql_dir)


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("select * from raw.companies -- all", "star"),
        ("select count(*) -- n\nfrom raw.companies", "has no alias"),
    ],
)
def test_marts_columns_must_be_named(tmp_path: Path, sql: str, message: str) -> None:
    sql_dir = write_models(tmp_path, {"marts/m.sql": "-- A mart.\n" + sql})
    with pytest.raises(SqlModelError, match=message):
        discover(sql_dir)


def test_marts_require_a_header(tmp_path: Path) -> None:
    sql_dir = write_models(tmp_path, {"marts/m.sql": "select 1 as one -- one\n"})
    with pytest.raises(SqlModelError, match="no header comment"):
        discover(sql_dir)


def test_cycle_is_an_error_naming_the_tables(tmp_path: Path) -> None:
    sql_dir = write_models(
        tmp_path,
        {
            "staging/a.sql": "select * from staging.c",
            "staging/b.sql": "select * from staging.a",
            "staging/c.sql": "select * from staging.b",
            "staging/ok.sql": "select 1 as x",
        },
    )
    with pytest.raises(SqlModelError, match=r"cycle: staging\.\w -> staging\.\w -> staging\.\w"):
        discover(sql_dir)


def test_missing_upstream_file_is_an_error(tmp_path: Path) -> None:
    sql_dir = write_models(
        tmp_path, {"marts/m.sql": "-- A mart.\nselect x -- x\nfrom staging.gone"}
    )
    with pytest.raises(SqlModelError, match="marts.m reads staging.gone"):
        discover(sql_dir)


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("select 1; select 2", "exactly one SELECT"),
        ("create table staging.x as select 1", "exactly one SELECT"),
        ("-- only a comment", "exactly one SELECT"),
        ("select 1 from", "cannot parse"),
        ("select * from not_a_cte", "neither a CTE nor schema-qualified"),
        ("select * from staging.x", "reads itself"),
    ],
)
def test_bad_files_are_rejected_with_the_path(tmp_path: Path, sql: str, message: str) -> None:
    sql_dir = write_models(tmp_path, {"staging/x.sql": sql})
    with pytest.raises(SqlModelError, match=message) as info:
        discover(sql_dir)
    assert "x.sql" in str(info.value)


def test_trailing_semicolon_and_union(tmp_path: Path) -> None:
    path = (
        write_models(
            tmp_path,
            {
                "staging/u.sql": "select 1 as n -- first\nunion all\nselect 2 -- not read\n; -- end\n"
            },
        )
        / "staging"
        / "u.sql"
    )
    model = load_model(path)
    assert model.sql == "select 1 as n -- first\nunion all\nselect 2"
    assert model.column_comments == {"n": "first"}


def test_code_version_is_a_stable_hash_of_the_file(tmp_path: Path) -> None:
    sql_dir = write_models(tmp_path, {"staging/facts.sql": FACTS})
    first = discover(sql_dir)[0].code_version
    assert first == discover(sql_dir)[0].code_version
    assert len(first) == 64
    (sql_dir / "staging" / "facts.sql").write_text(FACTS + "\n-- edited\n")
    assert discover(sql_dir)[0].code_version != first


def test_run_all_builds_tables_with_comments(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    sql_dir = write_models(tmp_path, {"staging/facts.sql": FACTS, "marts/ttm.sql": TTM})
    rows = run_all(con, discover(sql_dir))
    assert rows == {"staging.facts": 8, "marts.ttm": 2}
    assert con.execute(
        "SELECT ticker, net_income_ttm, quarters FROM marts.ttm ORDER BY cik"
    ).fetchall() == [("AAA", 100.0, 4), ("BBB", 10.0, 4)]
    table_comment = con.execute(
        "SELECT comment FROM duckdb_tables() WHERE schema_name = 'marts' AND table_name = 'ttm'"
    ).fetchall()
    assert table_comment == [("Trailing twelve months per company.",)]
    column_comments = dict(
        con.execute(
            "SELECT column_name, comment FROM duckdb_columns() "
            "WHERE schema_name = 'marts' AND table_name = 'ttm'"
        ).fetchall()
    )
    assert column_comments["net_income_ttm"] == "TTM net income: the sum of four discrete quarters"
    assert all(column_comments.values())


def test_failing_model_leaves_the_previous_table(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    sql_dir = write_models(tmp_path, {"staging/facts.sql": FACTS})
    (model,) = discover(sql_dir)
    assert run_model(con, model) == 8
    # Same table, now with a runtime error (a cast that fails on every row).
    broken_dir = write_models(
        tmp_path / "v2",
        {
            "staging/facts.sql": "-- broken\nselect cast(ticker as integer) as cik from raw.companies"
        },
    )
    (broken,) = discover(broken_dir)
    with pytest.raises(duckdb.Error):
        run_model(con, broken)
    assert con.execute("SELECT count(*) FROM staging.facts").fetchall() == [(8,)]
    comment = con.execute(
        "SELECT comment FROM duckdb_tables() WHERE table_name = 'facts'"
    ).fetchall()
    assert comment == [(load_model(sql_dir / "staging" / "facts.sql").description,)]


def test_getvariable_parameters_are_typed(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    sql_dir = write_models(
        tmp_path,
        {
            "staging/recent.sql": """
                select cik, period_end, val
                from raw.sec_companyfacts
                where period_end >= getvariable('window_start')
                  and val >= getvariable('min_val')
                  and cik in (select cik from raw.companies where ticker <> getvariable('skip'))
            """
        },
    )
    (model,) = discover(sql_dir)
    assert model.variables == ("min_val", "skip", "window_start")
    variables = {"window_start": date(2024, 7, 1), "min_val": 3, "skip": "BBB", "unused": 1}
    assert run_model(con, model, variables) == 2  # AAA's Sep and Dec quarters
    assert con.execute("SELECT typeof(getvariable('window_start'))").fetchall() == [("DATE",)]
    with pytest.raises(SqlModelError, match="window_start"):
        run_model(con, model, {"min_val": 3, "skip": "BBB"})


def test_only_model_folders_are_models(tmp_path: Path) -> None:
    sql_dir = write_models(
        tmp_path,
        {
            "staging/facts.sql": FACTS,
            # An audit returns offending rows; it is not a table, so discover skips it.
            "audits/no_negative.sql": "select * from staging.facts where val < 0",
        },
    )
    assert [m.table for m in discover(sql_dir)] == ["staging.facts"]


def test_audits_name_their_table_and_check(tmp_path: Path) -> None:
    sql_dir = write_models(
        tmp_path,
        {
            "staging/facts.sql": FACTS,
            "marts/ttm.sql": TTM,
            "audits/ttm__unique_key.sql": """
                -- Audit: one row per cik. Returns duplicated keys; no rows = pass.
                -- severity: error
                select cik, count(*) as n from marts.ttm group by cik having count(*) > 1
            """,
            "audits/staging.facts__no_negative.sql": (
                "-- Negative values.\nselect * from staging.facts where val < 0;\n"
            ),
        },
    )
    ttm_check, facts_check = discover_audits(sql_dir)  # sorted by table
    assert (ttm_check.table, ttm_check.name, ttm_check.blocking) == (
        "marts.ttm",
        "unique_key",
        True,
    )
    assert ttm_check.deps == ("marts.ttm",)
    assert ttm_check.description.startswith("Audit: one row per cik.")
    assert (facts_check.table, facts_check.name, facts_check.blocking) == (
        "staging.facts",
        "no_negative",
        False,  # warns unless the header says severity: error
    )
    assert facts_check.sql == "select * from staging.facts where val < 0"


def test_audit_of_an_unknown_table_is_an_error(tmp_path: Path) -> None:
    sql_dir = write_models(tmp_path, {"audits/nothing__x.sql": "select 1"})
    with pytest.raises(SqlModelError, match="no model nothing.sql"):
        discover_audits(sql_dir)
