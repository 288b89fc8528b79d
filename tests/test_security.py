"""Nothing escapes: hostile values from a source never name a file outside $AIWATCH_HOME or a
request to another host, and the user's e-mail and keys never land in logs, the raw cache or
the database. (Client-level redirect, size-cap and key-masking rules are in tests/test_http.py,
zip bombs and member-name traversal in tests/test_sec_bulk.py, `aiwatch sql` writes in
tests/test_cli.py; this module checks the same promises through whole loads.)"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import duckdb
import pytest
from fakeserver import FakeServer, Fault
from resilience import (
    APPLE,
    COMPANYFACTS_KEY,
    SEC_USER_AGENT,
    fast_client,
    live_settings,
    raw_cache_problems,
    replace_file,
    run_full_load,
    small_docroot,
    tables,
)

from aiwatch import ingest, membership
from aiwatch.http import UnsafeUrlError
from aiwatch.warehouse import Warehouse

TESLA = 1318605
TESLA_SUBMISSIONS = "data.sec.gov/submissions/CIK0001318605.json"


def _files_outside(home: Path, before: set[Path], root: Path) -> list[Path]:
    """Files created under `root` (the whole tmp tree) but outside `home`."""
    now = {p for p in root.rglob("*") if p.is_file()}
    return sorted(p for p in now - before if not p.is_relative_to(home))


HOSTILE_PAGE_NAMES = [
    "../../x.json",
    "..%2F..%2Fx.json",
    "%2e%2e/%2e%2e/x.json",
    "CIK0001318605-submissions-001.json/../../../../x.json",
    "..\\..\\x.json",
    "x.json\x00.json",
]


@pytest.mark.parametrize("name", HOSTILE_PAGE_NAMES)
def test_a_hostile_overflow_page_name_costs_one_fetch_and_names_no_file(
    tmp_path: Path, name: str
) -> None:
    docroot = small_docroot(tmp_path / "docroot")
    main_page = json.loads((docroot / TESLA_SUBMISSIONS).read_bytes())
    # SYNTHETIC: Tesla's real submissions page with its overflow page renamed by an attacker.
    main_page["filings"]["files"] = [
        {"name": name, "filingCount": 1, "filingFrom": "2019-01-01", "filingTo": "2024-12-31"}
    ]
    replace_file(docroot / TESLA_SUBMISSIONS, json.dumps(main_page).encode())
    home = tmp_path / "home"
    before = {p for p in tmp_path.rglob("*") if p.is_file()}
    with FakeServer(docroot) as server:
        settings = live_settings(server.env(), home)
        wh = Warehouse(settings)
        with fast_client(settings) as client:
            ingest.load_sec_tickers(client, wh)
            ingest.load_sp500_membership(client, wh)
            ingest.load_seed(wh, "mag7", "seed")
            result = ingest.load_sec_filings(client, wh, [TESLA, APPLE], settings.window_start)
        assert not [r for r in server.log if "x.json" in r.path]
    assert list(result.failed) == ["CIK0001318605"]
    assert "refusing to fetch" in result.failed["CIK0001318605"]
    assert _files_outside(home, before, tmp_path) == []
    assert raw_cache_problems(settings.raw_dir) == []
    with duckdb.connect(str(settings.build_db_path), read_only=True) as con:
        per_cik = dict(con.sql("select cik, count(*) from raw.sec_filings group by 1").fetchall())
    # The main page's filings still count; only the hostile page is lost.
    assert per_cik[TESLA] > 900 and per_cik[APPLE] > 900


def test_the_client_refuses_unsafe_paths_before_any_request(tmp_path: Path) -> None:
    with FakeServer(tmp_path) as server:
        settings = live_settings(server.env(), tmp_path / "home")
        with fast_client(settings) as client:
            for path in ["/submissions/../../x", "/a/%2e%2e/%2e%2e/x", "/a/..%2Fx"]:
                with pytest.raises(UnsafeUrlError):
                    client.fetch("sec_data", path)
                assert client.cached("sec_data", path) is None
        assert server.log == []


@pytest.mark.parametrize(
    "location",
    [
        "/data.sec.gov/api/xbrl/companyfacts/..%2F..%2F..%2F..%2Fescaped.json",
        "/data.sec.gov/api/xbrl/companyfacts/../../../../../escaped.json",
        "/data.sec.gov/api/xbrl/companyfacts/%2e%2e/%2e%2e/escaped.json",
    ],
)
def test_a_same_host_redirect_with_dot_segments_writes_only_the_requested_key(
    tmp_path: Path, location: str
) -> None:
    docroot = small_docroot(tmp_path / "docroot")
    home = tmp_path / "home"
    before = {p for p in tmp_path.rglob("*") if p.is_file()}
    apple_path = "/" + COMPANYFACTS_KEY.format(cik=APPLE)
    with FakeServer(docroot) as server:
        settings = live_settings(server.env(), home)
        server.inject(apple_path, Fault(status=302, headers={"Location": location}))
        with fast_client(settings) as client:
            try:
                fetched = client.fetch("sec_data", apple_path.removeprefix("/data.sec.gov"))
            except Exception as exc:  # a refusal is fine; an escape is not
                fetched = None
                assert "escaped" in str(exc) or "400" in str(exc) or "404" in str(exc)
    assert _files_outside(home, before, tmp_path) == []
    written = sorted(p.relative_to(settings.raw_dir).as_posix()
                     for p in settings.raw_dir.rglob("*") if p.is_file())
    assert all(p.startswith(COMPANYFACTS_KEY.format(cik=APPLE)) for p in written), written
    if fetched is not None:
        assert fetched.meta["final_url"] and fetched.path.is_relative_to(settings.raw_dir)


@pytest.mark.parametrize("cik", ["../../etc", "0000320193/../x", "%2e%2e", "12345678901", "-5",
                                 "0x10", "1e3", " ", "0"])
def test_membership_refuses_a_hostile_cik_before_it_can_name_a_url(cik: str) -> None:
    csv = (
        "Symbol,Security,GICS Sector,GICS Sub-Industry,Headquarters Location,Date added,CIK,"
        "Founded\n"
        # SYNTHETIC rows: one good, one hostile.
        "AAPL,Apple Inc.,IT,Hardware,\"Cupertino, California\",1982-11-30,320193,1977\n"
        f"EVIL,Evil Corp,IT,Hardware,Nowhere,2020-01-01,\"{cik}\",2020\n"
    ).encode()
    good, rejects = membership.parse_constituents(csv)
    assert good["ticker"].to_list() == ["AAPL"]
    assert rejects.height == 1 and "bad CIK" in rejects["reason"][0]


def test_ciks_reach_urls_only_as_ten_digit_integers() -> None:
    # Paths are built from int CIKs, zero-padded: nothing but digits can reach the URL.
    assert ingest.companyfacts_path(320193) == "/api/xbrl/companyfacts/CIK0000320193.json"
    with pytest.raises((ValueError, TypeError)):
        ingest.companyfacts_path("../../etc")  # type: ignore[arg-type]


def test_the_user_agent_email_and_api_keys_stay_out_of_logs_cache_and_database(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret_key = "sk-TESTSECRET-0123456789"
    email = SEC_USER_AGENT.split()[-1]
    docroot = small_docroot(tmp_path / "docroot")
    with FakeServer(docroot) as server:
        settings = live_settings(server.env(), tmp_path / "home",
                                 AIWATCH_STOOQ_API_KEY=secret_key)
        # A fault or two, so the retry and rejection paths log too.
        server.inject("/data.sec.gov/api/xbrl/companyfacts/*", Fault(status=503),
                      Fault(status=200, body=b"<html>oops</html>"))
        with caplog.at_level(logging.DEBUG):
            run_full_load(settings)
        assert any(r.headers.get("User-Agent") == SEC_USER_AGENT for r in server.log)
    logged = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)
    assert logged  # the run did log
    for secret in (email, secret_key):
        assert secret not in logged
        for path in settings.home.rglob("*"):
            if path.is_file() and path.suffix != ".duckdb":
                assert secret.encode() not in path.read_bytes(), path
            if path.is_file() and path.name.endswith(".duckdb"):
                # Text of every table, every comment: the database holds neither.
                with duckdb.connect(str(path), read_only=True) as con:
                    for table in tables(con):
                        hits = con.execute(
                            f"select count(*) from {table} t where t::varchar like ?",
                            [f"%{secret}%"],
                        ).fetchone()[0]
                        assert hits == 0, (path, table)
                    comments = con.execute(
                        "select string_agg(coalesce(comment, ''), ' ') from duckdb_tables()"
                    ).fetchall()[0][0]
                    assert secret not in (comments or "")
    assert os.environ.get("AIWATCH_STOOQ_API_KEY") != secret_key
