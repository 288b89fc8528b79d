"""The HTTP client against a local fake server: politeness, retries, revalidation, the raw
cache, offline replay. Every payload here is synthetic (labelled so); nothing leaves 127.0.0.1."""

from __future__ import annotations

import email.utils
import json
import logging
import multiprocessing
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakeserver import FakeServer, Fault

from aiwatch import rawcache
from aiwatch.http import (
    FetchError,
    HttpClient,
    InvalidPayloadError,
    NotFoundError,
    UserAgentMissingError,
    retry_after_seconds,
)
from aiwatch.settings import Settings

USER_AGENT = "aiwatch-tests tests@example.com"
FACTS_PATH = "/api/xbrl/companyfacts/CIK0000000001.json"
FACTS_BODY = b'{"synthetic": true, "cik": 1, "facts": {}}'
TICKERS_PATH = "/files/company_tickers.json"
TICKERS_BODY = b'{"0": {"cik_str": 1, "ticker": "SYNT", "title": "Synthetic Co"}}'
CSV_PATH = "/datasets/s-and-p-500-companies/main/data/constituents.csv"
CSV_BODY = b"Symbol,Security,CIK\nSYNT,Synthetic Co,0000000001\n"


def _put(root: Path, host: str, path: str, body: bytes) -> Path:
    file = root / rawcache.cache_key(host, path)
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes(body)
    return file


@pytest.fixture
def docroot(tmp_path: Path) -> Path:
    """A synthetic document root in raw-cache layout."""
    root = tmp_path / "docroot"
    _put(root, "data.sec.gov", FACTS_PATH, FACTS_BODY)
    _put(root, "www.sec.gov", TICKERS_PATH, TICKERS_BODY)
    _put(root, "raw.githubusercontent.com", CSV_PATH, CSV_BODY)
    return root


@pytest.fixture
def server(docroot: Path) -> Iterator[FakeServer]:
    with FakeServer(docroot) as running:
        yield running


def _env(tmp_path: Path, server: FakeServer, **extra: str) -> dict[str, str]:
    return {
        **server.env(),
        "AIWATCH_HOME": str(tmp_path / "home"),
        "AIWATCH_SEC_USER_AGENT": USER_AGENT,
        # Fast enough not to slow the suite; the rate test sets its own.
        "AIWATCH_SEC_RATE": "1000",
        **extra,
    }


@pytest.fixture
def settings(tmp_path: Path, server: FakeServer) -> Settings:
    return Settings.from_env(_env(tmp_path, server))


@pytest.fixture
def slept() -> list[float]:
    return []


@pytest.fixture
def client(settings: Settings, slept: list[float]) -> Iterator[HttpClient]:
    with HttpClient(settings, sleep=slept.append) as http_client:
        yield http_client


def test_declared_user_agent_goes_to_sec_and_a_generic_one_elsewhere(
    client: HttpClient, server: FakeServer
) -> None:
    fetched = client.fetch("sec_data", FACTS_PATH)
    assert fetched.body == FACTS_BODY and fetched.status == 200
    client.fetch("membership", CSV_PATH)
    sec_request, github_request = server.log
    assert sec_request.headers["User-Agent"] == USER_AGENT
    assert "gzip" in sec_request.headers["Accept-Encoding"]
    assert github_request.headers["User-Agent"].startswith("aiwatch/")
    assert USER_AGENT not in github_request.headers["User-Agent"]


def test_missing_user_agent_refuses_before_any_request(
    settings: Settings, server: FakeServer
) -> None:
    live_without_agent = settings.with_(sec_user_agent=None, offline=False)
    with HttpClient(live_without_agent) as http_client, \
            pytest.raises(UserAgentMissingError) as error:
        http_client.fetch("sec_data", FACTS_PATH)
    message = str(error.value)
    assert 'AIWATCH_SEC_USER_AGENT="Your Name you@example.com"' in message
    assert "AIWATCH_OFFLINE=1" in message and "\n" not in message
    assert error.value.url.endswith(FACTS_PATH)
    assert server.log == []
    # Sources that need no agent still work.
    with HttpClient(live_without_agent) as http_client:
        assert http_client.fetch("membership", CSV_PATH).body == CSV_BODY


def test_throttling_and_server_errors_are_retried_then_succeed(
    client: HttpClient, server: FakeServer, slept: list[float]
) -> None:
    server.inject(f"/data.sec.gov{FACTS_PATH}",
                  Fault(status=429, headers={"Retry-After": "1"}), Fault(status=503))
    fetched = client.fetch("sec_data", FACTS_PATH)
    assert fetched.body == FACTS_BODY
    assert [r.status for r in server.log] == [429, 503, 200]
    assert slept[0] == 1.0  # Retry-After honoured
    assert 0 <= slept[1] <= 1.0  # jittered backoff after the 503 (base 0.5 s, second try)


@pytest.mark.parametrize(
    "fault",
    [
        Fault(reset=True),  # connection closed mid-body
        Fault(corrupt_gzip=True),
        Fault(status=502),
        Fault(status=504),
    ],
    ids=["reset", "corrupt-gzip", "502", "504"],
)
def test_broken_transfers_are_retried(
    client: HttpClient, server: FakeServer, fault: Fault
) -> None:
    server.inject("/www.sec.gov/*", fault)
    assert client.fetch("sec_www", TICKERS_PATH).body == TICKERS_BODY
    assert len(server.log) == 2 and server.log[-1].status == 200


def test_read_timeout_is_retried(tmp_path: Path, server: FakeServer) -> None:
    settings = Settings.from_env(_env(tmp_path, server)).with_(http_timeout_seconds=0.3)
    server.inject("/www.sec.gov/*", Fault(delay=1.0))
    with HttpClient(settings, sleep=lambda _: None) as http_client:
        assert http_client.fetch("sec_www", TICKERS_PATH).body == TICKERS_BODY


def test_gives_up_after_max_retries_with_last_status(
    settings: Settings, server: FakeServer
) -> None:
    server.inject("/data.sec.gov/*", *[Fault(status=503)] * 3)
    with HttpClient(settings.with_(http_max_retries=2), sleep=lambda _: None) as http_client, \
            pytest.raises(FetchError) as error:
        http_client.fetch("sec_data", FACTS_PATH)
    assert error.value.status == 503 and "3 tries" in str(error.value)
    assert len(server.log) == 3


def test_not_found_is_not_retried(client: HttpClient, server: FakeServer) -> None:
    with pytest.raises(NotFoundError) as error:
        client.fetch("sec_data", "/api/xbrl/companyfacts/CIK0000000404.json")
    assert error.value.status == 404 and len(server.log) == 1


def test_sec_html_403_explains_and_does_not_retry(client: HttpClient, server: FakeServer) -> None:
    page = b"<html><body>Your request originates from an undeclared automated tool</body></html>"
    server.inject("/data.sec.gov/*", Fault(status=403, body=page, content_type="text/html"))
    with pytest.raises(FetchError) as error:
        client.fetch("sec_data", FACTS_PATH)
    assert "SEC refused" in str(error.value) and "User-Agent" in str(error.value)
    assert error.value.status == 403 and len(server.log) == 1


def test_unchanged_data_is_revalidated_not_downloaded(
    client: HttpClient, server: FakeServer, settings: Settings
) -> None:
    first = client.fetch("sec_data", FACTS_PATH)
    assert not first.not_modified and server.log[0].bytes_sent > 0
    meta_file = rawcache.meta_path(first.path)
    stale = json.loads(meta_file.read_text()) | {"fetched_at": "2000-01-01T00:00:00Z"}
    # Keep the sha256 (so the copy stays valid) but age it, to see the 304 refresh it.
    meta_file.write_text(json.dumps(stale))

    second = client.fetch("sec_data", FACTS_PATH)
    assert second.not_modified and second.status == 304 and second.body == FACTS_BODY
    assert server.log[1].status == 304 and server.log[1].bytes_sent == 0
    assert server.log[1].headers["If-None-Match"] == first.meta["etag"]
    assert server.log[1].headers["If-Modified-Since"] == first.meta["last_modified"]
    # One good copy and its meta, nothing else; fetched_at refreshed.
    assert first.path == settings.raw_dir / "data.sec.gov" / FACTS_PATH.lstrip("/")
    assert sorted(p.name for p in first.path.parent.iterdir()) == [
        "CIK0000000001.json", "CIK0000000001.json.meta.json"]
    assert json.loads(meta_file.read_text())["fetched_at"] != "2000-01-01T00:00:00Z"
    assert client.cached("sec_data", FACTS_PATH).body == FACTS_BODY


def test_changed_data_replaces_the_cached_copy(
    client: HttpClient, server: FakeServer, docroot: Path
) -> None:
    client.fetch("sec_www", TICKERS_PATH)
    new_body = b'{"0": {"cik_str": 2, "ticker": "SYN2", "title": "Synthetic Two"}}'
    _put(docroot, "www.sec.gov", TICKERS_PATH, new_body)
    fetched = client.fetch("sec_www", TICKERS_PATH)
    assert fetched.status == 200 and fetched.body == new_body
    assert client.cached("sec_www", TICKERS_PATH).body == new_body


def test_validator_rejection_keeps_the_good_cached_copy(
    client: HttpClient, server: FakeServer, settings: Settings
) -> None:
    good = client.fetch("sec_data", FACTS_PATH, validate=json.loads)
    server.inject("/data.sec.gov/*", Fault(status=200, body=b'{"synthetic": tru'))
    with pytest.raises(InvalidPayloadError) as error:
        client.fetch("sec_data", FACTS_PATH, validate=json.loads)
    assert "_rejected" in str(error.value)
    assert good.path.read_bytes() == FACTS_BODY
    assert client.cached("sec_data", FACTS_PATH).body == FACTS_BODY
    rejected = list((settings.raw_dir / "_rejected").rglob("CIK0000000001.json.*"))
    assert [p.read_bytes() for p in rejected if not p.name.endswith(".meta.json")] == [
        b'{"synthetic": tru']


def test_body_over_max_bytes_is_refused(client: HttpClient) -> None:
    with pytest.raises(FetchError, match="larger than 10 bytes"):
        client.fetch("sec_data", FACTS_PATH, max_bytes=10)
    assert client.cached("sec_data", FACTS_PATH) is None


def test_redirects_stay_on_the_source_host(client: HttpClient, server: FakeServer) -> None:
    server.inject("/www.sec.gov/*", Fault(status=302, headers={"Location": "http://evil.example/x"}))
    with pytest.raises(FetchError, match="evil.example"):
        client.fetch("sec_www", TICKERS_PATH)
    assert len(server.log) == 1
    same_host = server.base_url("www.sec.gov") + TICKERS_PATH
    server.inject("/www.sec.gov/old/*", Fault(status=301, headers={"Location": same_host}))
    fetched = client.fetch("sec_www", "/old/tickers.json")
    assert fetched.body == TICKERS_BODY
    # Cached under the URL the caller asked for.
    assert fetched.key == "www.sec.gov/old/tickers.json"


def test_api_keys_and_user_agent_stay_out_of_logs_cache_names_and_meta(
    client: HttpClient, server: FakeServer, docroot: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _put(docroot, "stooq.com", "/q/d/l/?s=synt.us&i=d", b"Date,Close\n2024-01-02,1.0\n")
    server.inject("/stooq.com/*", Fault(status=503))
    fetched = client.fetch("stooq", "/q/d/l/", {"s": "synt.us", "i": "d", "apikey": "SECRET"})
    client.fetch("sec_data", FACTS_PATH)
    assert "/q/d/l/" in caplog.text  # urllib3 and our retry warning did log the URL ...
    assert "SECRET" not in caplog.text and USER_AGENT not in caplog.text  # ... masked
    assert fetched.key == "stooq.com/q/d/l/@i=d&s=synt.us"
    assert "SECRET" in server.log[0].path  # it was sent ...
    assert "SECRET" not in fetched.url  # ... but neither shown nor stored
    assert "SECRET" not in rawcache.meta_path(fetched.path).read_text()


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    in_ten = email.utils.formatdate(time.time() + 10, usegmt=True)
    assert 8 <= retry_after_seconds(in_ten) <= 10
    assert retry_after_seconds(email.utils.formatdate(0, usegmt=True)) == 0.0


# -- offline replay ---------------------------------------------------------------------------

def test_offline_replays_snapshot_into_the_raw_cache_with_the_same_key(tmp_path: Path) -> None:
    snapshot = tmp_path / "snapshot"
    _put(snapshot, "data.sec.gov", FACTS_PATH, FACTS_BODY)
    settings = Settings.from_env({"AIWATCH_HOME": str(tmp_path / "home"),
                                  "AIWATCH_SNAPSHOT_DIR": str(snapshot), "AIWATCH_OFFLINE": "1",
                                  # Offline wins over any base URL: nothing is contacted.
                                  "AIWATCH_SEC_DATA_URL": "http://127.0.0.1:9"})
    with HttpClient(settings) as http_client:
        fetched = http_client.fetch("sec_data", FACTS_PATH, validate=json.loads)
        assert fetched.from_snapshot and fetched.status == 200
        assert fetched.url == "https://data.sec.gov" + FACTS_PATH
        assert fetched.key == "data.sec.gov" + FACTS_PATH
        assert fetched.path == settings.raw_dir / fetched.key
        assert fetched.path.read_bytes() == FACTS_BODY
        assert rawcache.read(settings.raw_dir, fetched.key).meta["from_snapshot"] is True
        again = http_client.fetch("sec_data", FACTS_PATH)
        assert again.not_modified and again.body == FACTS_BODY
        with pytest.raises(NotFoundError, match="not in the snapshot"):
            http_client.fetch("sec_data", "/api/xbrl/companyfacts/CIK0000000404.json")
    # No rate limiting offline: no network, no lock files.
    assert not settings.lock_dir.exists()


def test_offline_serves_the_bundled_snapshot(settings: Settings) -> None:
    offline = Settings.from_env({"AIWATCH_HOME": str(settings.home), "AIWATCH_OFFLINE": "1"})
    with HttpClient(offline) as http_client:
        fetched = http_client.fetch("sec_www", TICKERS_PATH, validate=json.loads)
    bundled = offline.snapshot_dir / "www.sec.gov/files/company_tickers.json"
    assert fetched.body == bundled.read_bytes()


# -- the rate across processes ----------------------------------------------------------------

SEC_RATE = 20.0
REQUESTS_PER_PROCESS = 20


def _fetch_repeatedly(env: dict[str, str], path: str, barrier: object) -> None:
    settings = Settings.from_env(env)
    with HttpClient(settings) as http_client:
        barrier.wait()  # type: ignore[attr-defined]
        for _ in range(REQUESTS_PER_PROCESS):
            http_client.fetch("sec_data" if path.startswith("/api") else "sec_www", path)


def test_two_processes_share_one_sec_rate(tmp_path: Path, server: FakeServer) -> None:
    env = _env(tmp_path, server, AIWATCH_SEC_RATE=str(SEC_RATE))
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    # One process on each SEC host: they share the "sec" budget.
    workers = [ctx.Process(target=_fetch_repeatedly, args=(env, path, barrier))
               for path in (FACTS_PATH, TICKERS_PATH)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    arrivals = sorted(r.t for r in server.log)
    assert len(arrivals) == 2 * REQUESTS_PER_PROCESS
    assert {r.path.split("/")[1] for r in server.log} == {"data.sec.gov", "www.sec.gov"}
    interval = 1 / SEC_RATE
    # Every window of n requests spans at least (n - 1) intervals, less a slack for the delay
    # between a booked slot and the request reaching this (busy, GIL-bound) server: tens of ms
    # on a loaded machine. Two per-process limiters would instead put 10 requests in ~0.23 s
    # and all 40 in ~1 s. (test_ratelimit checks the booked slots themselves, exactly.)
    slack = 0.15
    for n in (10, 2 * REQUESTS_PER_PROCESS):
        spans = [b - a for a, b in zip(arrivals, arrivals[n - 1:], strict=False)]
        assert min(spans) >= (n - 1) * interval - slack, (n, min(spans))


def test_to_file_streams_the_body_into_the_cache_and_revalidates(
    client: HttpClient, server: FakeServer, docroot: Path, settings: Settings
) -> None:
    """companyfacts.zip is GBs: fetched with to_file=True it is never held in memory."""
    archive = b"SYNTHETIC archive bytes " * 20_000  # several 64 KiB chunks
    _put(docroot, "www.sec.gov", "/files/big.zip", archive)
    first = client.fetch("sec_www", "/files/big.zip", to_file=True, max_bytes=2**30)
    assert first.body == b"" and first.status == 200 and not first.not_modified
    assert first.path.read_bytes() == archive
    assert first.meta["bytes"] == len(archive) and first.meta["url"].endswith("/files/big.zip")
    second = client.fetch("sec_www", "/files/big.zip", to_file=True, max_bytes=2**30)
    assert second.not_modified and second.body == b"" and server.log[-1].status == 304
    assert second.path.read_bytes() == archive


def test_to_file_body_cut_short_is_retried_and_never_replaces_the_good_copy(
    client: HttpClient, server: FakeServer, docroot: Path
) -> None:
    _put(docroot, "www.sec.gov", "/files/big.zip", b"SYNTHETIC archive v1 " * 20_000)
    server.inject("/www.sec.gov/files/big.zip", Fault(reset=True))
    good = client.fetch("sec_www", "/files/big.zip", to_file=True)  # cut once, then whole
    assert [r.status for r in server.log] == [200, 200]
    archive = b"SYNTHETIC archive v2 " * 20_000
    _put(docroot, "www.sec.gov", "/files/big.zip", archive)
    good = client.fetch("sec_www", "/files/big.zip", to_file=True)
    assert good.path.read_bytes() == archive
    _put(docroot, "www.sec.gov", "/files/big.zip", b"SYNTHETIC archive v3 " * 20_000)
    server.inject("/www.sec.gov/files/big.zip", *[Fault(reset=True)] * 20)
    with pytest.raises(FetchError, match="body cut short"):
        client.fetch("sec_www", "/files/big.zip", to_file=True)
    assert good.path.read_bytes() == archive
    assert [p.name for p in good.path.parent.iterdir() if p.name.startswith(".")] == []
    with pytest.raises(FetchError, match="larger than"):
        client.fetch("sec_www", "/files/big.zip", to_file=True, max_bytes=1000)
    assert good.path.read_bytes() == archive
    with pytest.raises(ValueError, match="validate"):
        client.fetch("sec_www", "/files/big.zip", to_file=True, validate=json.loads)
