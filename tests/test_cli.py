"""The `aiwatch` CLI on a small published database built in the test's home (SYNTHETIC rows).

Each test runs `main([...])` in-process and reads what a person would see on stdout/stderr.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from aiwatch.cli import main
from aiwatch.settings import Settings


@pytest.fixture
def published(aiwatch_env: dict[str, str]) -> Path:
    """A published database at the env contract's db_path with a few SYNTHETIC tables."""
    path = Settings.from_env().db_path
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute("create schema raw; create schema marts")
    con.execute(
        "create table raw.deals as select * from (values "
        "('x1', 'Acme', 'Bolt', 10e9), ('x2', 'Bolt', 'Acme', 4e9)) "
        "as t(deal_id, from_company, to_company, amount_usd)"
    )
    con.execute(
        "create table marts.deal_cycles as select 'Acme > Bolt' as cycle_id, "
        "'Acme → Bolt → Acme' as path, 2 as length, 14e9 as total_amount_usd"
    )
    con.close()
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _assert_one_clear_error(stderr: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 2, stderr
    assert lines[0].startswith("error: ")
    assert lines[1].startswith("hint: ")
    assert "Traceback" not in stderr


def test_sql_prints_the_rows(published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["sql", "select deal_id, from_company, amount_usd from raw.deals order by 1"])
    out, err = capsys.readouterr()
    assert code == 0
    assert err == ""
    for text in ("deal_id", "x1", "Acme", "x2", "Bolt", "10000000000.0", "2 rows"):
        assert text in out


def test_sql_reads_describe_and_show(published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sql", "show all tables"]) == 0
    out = capsys.readouterr().out
    assert "deal_cycles" in out and "deals" in out


def test_sql_caps_the_rows_printed(published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sql", "select * from range(10)", "--max-rows", "3"]) == 0
    assert "3 rows (first 3" in capsys.readouterr().out


@pytest.mark.parametrize(
    "query",
    [
        "selec * from raw.deals",  # parser error
        "select * from raw.no_such_table",  # catalog error
        "select no_such_column from raw.deals",  # binder error
    ],
)
def test_bad_sql_is_one_clear_error_and_exit_2(
    published: Path, capsys: pytest.CaptureFixture[str], query: str
) -> None:
    assert main(["sql", query]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    _assert_one_clear_error(err)


@pytest.mark.parametrize(
    "query",
    [
        "insert into raw.deals values ('x3', 'Cog', 'Acme', 1e9)",
        "update raw.deals set amount_usd = 0",
        "delete from raw.deals",
        "drop table marts.deal_cycles",
        "create table marts.evil as select 1 as a",
        "alter table raw.deals add column b int",
        "copy raw.deals to '{out}'",
        "copy (select * from raw.deals) to '{out}'",
        "export database '{out_dir}'",
        "attach '{out_dir}/other.duckdb' as other",
        "install httpfs",
        "load httpfs",
        "set threads = 1",
        "pragma enable_profiling",
        "checkpoint",
        "select 1; drop table raw.deals",
    ],
)
def test_a_write_attempt_is_refused_and_changes_nothing(
    published: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], query: str
) -> None:
    out_file, out_dir = tmp_path / "leak.csv", tmp_path / "export"
    before = _digest(published)
    code = main(["sql", query.format(out=out_file, out_dir=out_dir)])
    out, err = capsys.readouterr()
    assert code == 2
    _assert_one_clear_error(err)
    assert "refused" in err or "statements given" in err
    assert _digest(published) == before
    assert not out_file.exists()
    assert not out_dir.exists()


def test_a_query_cannot_read_files(published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outside = published.parent / "outside.csv"
    outside.write_text("a\n1\n")
    assert main(["sql", f"select * from read_csv('{outside}')"]) == 2
    _, err = capsys.readouterr()
    _assert_one_clear_error(err)
    assert "refused" in err


def test_missing_database_says_to_run_make_run(
    aiwatch_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sql", "select 1"]) == 2
    _, err = capsys.readouterr()
    _assert_one_clear_error(err)
    assert "no published database" in err and "make run" in err


def test_an_unknown_command_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["frobnicate"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def _write_meta(raw_dir: Path, host: str, name: str, fetched_at: datetime) -> None:
    folder = raw_dir / host / "files"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("{}")
    meta = {"url": f"https://{host}/files/{name}", "status": 200,
            "fetched_at": fetched_at.isoformat()}
    (folder / f"{name}.meta.json").write_text(json.dumps(meta))


def test_status_lists_tables_and_flags_stale_sources(
    published: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings.from_env()
    now = datetime.now(UTC)
    _write_meta(settings.raw_dir, "data.sec.gov", "a.json", now - timedelta(hours=3))
    _write_meta(settings.raw_dir, "data.sec.gov", "b.json", now - timedelta(days=30))
    _write_meta(settings.raw_dir, "fred.stlouisfed.org", "gdp.csv", now - timedelta(days=5))
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "last run published" in out
    assert "raw.deals" in out and "marts.deal_cycles" in out
    lines = {line.split()[1]: line for line in out.splitlines() if line.startswith("│ ")}
    # the newest of SEC's two responses counts: fresh; FRED's only one is 5 days old
    assert "fresh" in lines["sec_data"] and "2" in lines["sec_data"]
    assert "STALE" in lines["fred"]
    assert "never fetched" in lines["prices"]
    stale_line = next(line for line in out.splitlines() if line.startswith("stale"))
    assert "fred" in stale_line and "sec_data" not in stale_line


def test_status_without_a_database_still_reports_sources(
    aiwatch_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "no published database yet" in out
    assert "sec_data" in out


def test_claims_prints_each_claim_with_its_verdict(
    published: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    con = duckdb.connect(str(published))
    con.execute(
        """
        create table marts.claim_checks as select * from (values
            ('c02', 'Mag7 capex grew about 40%', 0.40, 'growth', 0.396, '2024', 1.0,
             'supported', 'capex growth of the Mag7, calendar 2024 vs 2023'),
            ('c08', 'Oracle gained about $330bn in one day', 330e9, 'usd', 247e9,
             '2025-09-10', 1.0, 'contradicted', 'market cap change, close to close'),
            ('c09', 'OpenAI lost about $5bn', 5e9, 'usd', null, null, null,
             'not computable from public filings', 'OpenAI is private')
        ) as t(claim_id, claim, cited_figure, cited_unit, recomputed_figure, as_of, coverage,
               verdict, method)
        """
    )
    con.close()
    assert main(["claims"]) == 0
    out = capsys.readouterr().out
    for text in (
        "Mag7 capex grew about 40%", "40.0%", "39.6%", "supported",
        "$330.0bn", "$247.0bn", "contradicted",
        "not computable from public filings", "OpenAI is private", "100%",
    ):
        assert text in out, text
    assert out.index("c02") < out.index("c08") < out.index("c09")


def test_claims_without_the_mart_is_a_clear_message(
    published: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["claims"]) == 2
    _, err = capsys.readouterr()
    _assert_one_clear_error(err)
    assert "marts.claim_checks" in err


# ---------------------------------------------------------------------------------------------
# aiwatch report


def test_report_writes_the_page_into_the_home_and_prints_its_path(
    published: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url, *a, **k: opened.append(url) or True)
    assert main(["report"]) == 0
    out, err = capsys.readouterr()
    page = Settings.from_env().home / "report" / "report.html"
    assert out.strip().splitlines()[-1] == str(page)
    assert "6 charts" in out
    assert page.exists() and (page.parent / "deal_graph.png").exists()
    assert "Acme" not in err and "Traceback" not in err
    assert opened == []  # only with --open
    assert main(["report", "--open"]) == 0
    assert opened == [page.as_uri()]


def test_report_leaves_the_published_database_unchanged(
    published: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _digest(published)
    assert main(["report"]) == 0
    assert _digest(published) == before


def test_report_without_a_database_is_a_clear_error(
    aiwatch_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report"]) == 2
    _, err = capsys.readouterr()
    _assert_one_clear_error(err)
    assert "no published database" in err
