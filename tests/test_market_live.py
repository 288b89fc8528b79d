"""The live code paths of the market loaders, offline: the fake server (127.0.0.1) serves the
recorded-format fixtures of tests/fixtures/prices and tests/fixtures/fred (SYNTHETIC values,
symbol XSYN) at the URLs Yahoo, Stooq and FRED would answer, through the real HTTP client."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import FIXTURES_DIR
from fakeserver import FakeServer, Fault

from aiwatch import ingest, prices, rawcache
from aiwatch.fred import fredgraph_path
from aiwatch.http import HttpClient
from aiwatch.settings import Settings
from aiwatch.warehouse import Warehouse

PRICES = FIXTURES_DIR / "prices"
FRED = FIXTURES_DIR / "fred"
START, END = date(2024, 6, 6), date(2024, 6, 12)


def _place(docroot: Path, host: str, path: str, params: dict[str, str], fixture: Path) -> None:
    target = rawcache.resolve(docroot, rawcache.cache_key(host, path, params))
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(fixture, target)


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Settings for a live run against the fake server; window starts on the fixtures' first day."""
    docroot = tmp_path / "docroot"
    docroot.mkdir()
    monkeypatch.delenv("AIWATCH_OFFLINE", raising=False)
    with FakeServer(docroot) as server:
        env = {
            **server.env(),
            "AIWATCH_HOME": str(tmp_path / "home"),
            "AIWATCH_SEC_USER_AGENT": "aiwatch-tests tests@example.com",
            "AIWATCH_WINDOW_START": START.isoformat(),
            "AIWATCH_STOOQ_API_KEY": "test-key-not-real",
        }
        settings = Settings.from_env(env).with_(http_max_retries=2)
        yield server, docroot, settings


def _client(settings: Settings) -> HttpClient:
    return HttpClient(settings, sleep=lambda _: None, backoff_base=0.0)




def test_yahoo_429_then_success_and_incremental(live) -> None:
    server, docroot, settings = live
    path, params = prices.yahoo_chart_path("XSYN", START, END)
    _place(docroot, "query1.finance.yahoo.com", path, params,
           PRICES / "synthetic_yahoo_chart_split.json")
    server.inject("/query1.finance.yahoo.com/*", Fault(status=429, headers={"Retry-After": "0"}))
    wh = Warehouse(settings)
    with _client(settings) as client:
        result = ingest.load_prices(client, wh, ["XSYN"], end=END)
    assert result.failed == {} and result.missing == [] and result.fetched == 1
    statuses = [r.status for r in server.requests_to("/query1.finance.yahoo.com/*")]
    assert statuses == [429, 200]
    with wh.writer() as con:
        rows = con.sql("select date, close, split_ratio from raw.prices_daily order by date").fetchall()
    # the fixture's pre-split close is split-adjusted; stored as traded (x10 before 2024-06-10)
    assert rows and rows[-1][0] <= END
    split_day = [r for r in rows if r[2] is not None]
    assert [r[0] for r in split_day] == [date(2024, 6, 10)]
    # Second run: only the days after the last stored day are asked for (the fake server has
    # no such file: 404, reported missing), and the stored rows are kept.
    last = rows[-1][0]
    with _client(settings) as client:
        again = ingest.load_prices(client, wh, ["XSYN"], end=END)
    assert again.rows == result.rows and again.missing == ["XSYN"]
    _, incremental = prices.yahoo_chart_path("XSYN", last + timedelta(days=1), END)
    third = server.requests_to("/query1.finance.yahoo.com/*")[-1].path
    assert f"period1={incremental['period1']}" in third
    assert len(server.requests_to("/query1.finance.yahoo.com/*")) == 3


def test_yahoo_error_payload_is_a_failure_not_a_crash(live) -> None:
    server, docroot, settings = live
    path, params = prices.yahoo_chart_path("NOPE", START, END)
    _place(docroot, "query1.finance.yahoo.com", path, params,
           PRICES / "synthetic_yahoo_chart_error.json")
    with _client(settings) as client:
        result = ingest.load_prices(client, Warehouse(settings), ["NOPE", "ABSENT"], end=END)
    assert "NOPE" in result.failed and result.missing == ["ABSENT"]


def _stooq_params(symbol: str, settings: Settings) -> tuple[str, dict[str, str]]:
    path, params = prices.stooq_path(symbol, settings.stooq_api_key)
    return path, {**params, "d1": START.strftime("%Y%m%d"), "d2": END.strftime("%Y%m%d")}


def test_stooq_csv_through_the_client(live) -> None:
    server, docroot, settings = live
    path, params = _stooq_params("XSYN", settings)
    _place(docroot, "stooq.com", path, params, PRICES / "synthetic_stooq_daily.csv")
    with _client(settings) as client:
        result = ingest.load_prices(client, Warehouse(settings), ["XSYN"], source="stooq", end=END)
    assert result.failed == {} and result.rows == 3
    # the key travels to the server but never into the raw cache's file names
    assert any("apikey=test-key-not-real" in r.path for r in server.log)
    assert not any("test-key" in str(p) for p in settings.raw_dir.rglob("*"))


def test_stooq_html_answer_is_a_clear_error(live) -> None:
    server, docroot, settings = live
    path, params = _stooq_params("XSYN", settings)
    _place(docroot, "stooq.com", path, params, PRICES / "synthetic_stooq_no_key.html")
    with _client(settings) as client:
        result = ingest.load_prices(client, Warehouse(settings), ["XSYN"], source="stooq", end=END)
    assert "AIWATCH_STOOQ_API_KEY" in result.failed["XSYN"]
    assert "test-key-not-real" not in result.failed["XSYN"]


def test_stooq_without_a_key_is_refused_before_any_request(live) -> None:
    server, _, settings = live
    with _client(settings.with_(stooq_api_key=None)) as client, \
            pytest.raises(prices.PriceSourceError, match="AIWATCH_STOOQ_API_KEY"):
        ingest.load_prices(client, Warehouse(settings), ["XSYN"], source="stooq", end=END)
    assert server.log == []


def test_fred_both_dialects_through_the_client(live) -> None:
    server, docroot, settings = live
    # observation_date header (today's fredgraph.csv) and DATE header (before ~Dec 2024)
    for series_id, fixture in [("GDP", "synthetic_fredgraph_observation_date.csv"),
                               ("SP500", "synthetic_fredgraph_DATE.csv")]:
        path, params = fredgraph_path(series_id)
        _place(docroot, "fred.stlouisfed.org", path, params, FRED / fixture)
    wh = Warehouse(settings)
    with _client(settings) as client:
        result = ingest.load_fred(client, wh, ["GDP", "SP500", "A679RC1Q027SBEA"])
    assert result.missing == ["A679RC1Q027SBEA"] and result.failed == {}
    with wh.writer() as con:
        rows = dict(con.sql(
            "select series_id, count(*) || '/' || count(value) from raw.fred_series group by 1"
        ).fetchall())
    # GDP fixture: 4 dates, one '.'; SP500 fixture: 5 dates, one '.' (kept as NULL rows)
    assert rows == {"GDP": "4/3", "SP500": "5/4"}
