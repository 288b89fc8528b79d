"""A bad morning at SEC, at the level of a whole companyfacts load (the client-level retry rules
are tests/test_http.py's): every fault either heals within the retries, and the table is as if
nothing happened, or costs only the affected company's fetch, with a specific message in
`LoadResult.failed`, while the rows of its last good payload stay in `raw.sec_companyfacts`.
No case leaves a partial raw-cache file or a `__loading` table.

Apple's companyfacts is the victim throughout; a clean run stored its payload first."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fakeserver import FakeServer, Fault
from resilience import (
    APPLE,
    COMPANYFACTS_KEY,
    company_rows_hash,
    fast_client,
    live_settings,
    loading_tables,
    raw_cache_problems,
    run_full_load,
    small_docroot,
    table_hashes,
)

from aiwatch import ingest
from aiwatch.settings import Settings
from aiwatch.warehouse import Warehouse

APPLE_PATH = "/" + COMPANYFACTS_KEY.format(cik=APPLE)
APPLE_LABEL = f"CIK{APPLE:010d}"
# http_max_retries in live_settings: 5 tries in all.
TRIES = 5


@dataclass(frozen=True)
class Baseline:
    docroot: Path
    home: Path
    ciks: list[int]
    hashes: dict[str, tuple[int, str]]
    apple: tuple[int, str]
    apple_body: bytes


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    """One clean run of the small universe; each test starts from a copy of its home."""
    root = tmp_path_factory.mktemp("faults")
    docroot = small_docroot(root / "docroot")
    with FakeServer(docroot) as server:
        settings = live_settings(server.env(), root / "home")
        run_full_load(settings, publish_each_stage=False)
        ciks = ingest.member_ciks(Warehouse(settings), settings.window_start)
    return Baseline(
        docroot, root / "home", ciks, table_hashes(settings.build_db_path),
        company_rows_hash(settings.build_db_path, APPLE),
        (docroot / COMPANYFACTS_KEY.format(cik=APPLE)).read_bytes(),
    )


@pytest.fixture
def faulty(baseline: Baseline, tmp_path: Path) -> Iterator[tuple[FakeServer, Settings]]:
    shutil.copytree(baseline.home, tmp_path / "home", symlinks=True)
    with FakeServer(baseline.docroot) as server:
        yield server, live_settings(server.env(), tmp_path / "home")


def _load(settings: Settings, baseline: Baseline
          ) -> ingest.LoadResult:
    with fast_client(settings) as client:
        return ingest.load_sec_companyfacts(client, Warehouse(settings), baseline.ciks)


def _requests_logged(server: FakeServer, path: str, expected: int) -> list:
    """The server's log of `path` once `expected` entries are in, or after 5 s. The server logs
    a request when it answers: a delayed answer the client gave up on (its timeout) is logged
    after the delay, which a load fetching in parallel may well finish before."""
    deadline = time.monotonic() + 5.0
    while len(server.requests_to(path)) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return server.requests_to(path)


def _assert_nothing_lost_nothing_partial(settings: Settings, baseline: Baseline) -> None:
    assert company_rows_hash(settings.build_db_path, APPLE) == baseline.apple
    after = table_hashes(settings.build_db_path)
    assert after["raw.sec_companyfacts"] == baseline.hashes["raw.sec_companyfacts"]
    assert loading_tables(settings.build_db_path) == []
    assert raw_cache_problems(settings.raw_dir) == []


# (id, faults queued on Apple's URL, the words the failure message must hold; None: heals)
PERSISTENT = [
    ("429-storm", [Fault(status=429)] * TRIES, ["gave up", "5 tries", "HTTP 429"]),
    ("429-storm-retry-after", [Fault(status=429, headers={"Retry-After": "2"})] * TRIES,
     ["gave up", "HTTP 429"]),
    ("500", [Fault(status=500)] * TRIES, ["gave up", "HTTP 500"]),
    ("502", [Fault(status=502)] * TRIES, ["gave up", "HTTP 502"]),
    ("503", [Fault(status=503)] * TRIES, ["gave up", "HTTP 503"]),
    ("reset-mid-body", [Fault(status=200, reset=True)] * TRIES, ["gave up", "body cut short"]),
    ("corrupt-gzip", [Fault(status=200, corrupt_gzip=True)] * TRIES,
     ["gave up", "ContentDecodingError"]),
    ("truncated-json-200", [Fault(status=200, body=b'{"cik": 320193, "entityName": "App')],
     ["payload rejected", "kept the previous cached copy"]),
    ("html-200", [Fault(status=200, body=b"<html><body>Request Rate Threshold Exceeded"
                        b"</body></html>", content_type="text/html")],
     ["payload rejected", "kept the previous cached copy"]),
    ("html-403", [Fault(status=403, body=b"<html><body>Your Request Originates from an "
                        b"Undeclared Automated Tool</body></html>", content_type="text/html")],
     ["SEC refused", "403", "User-Agent"]),
    ("redirect-other-host", [Fault(status=302, headers={
        "Location": "http://attacker.example/data.sec.gov/api/xbrl/companyfacts/x.json"})],
     ["redirected to http://attacker.example", "not followed"]),
]


@pytest.mark.parametrize(("faults", "words"), [(f, w) for _, f, w in PERSISTENT],
                         ids=[i for i, _, _ in PERSISTENT])
def test_a_persistent_fault_costs_one_fetch_and_keeps_the_stored_rows(
    baseline: Baseline, faulty: tuple[FakeServer, Settings], faults: list[Fault],
    words: list[str],
) -> None:
    server, settings = faulty
    # The bodies of 200-faults must differ from the cached copy, else the server answers 304.
    server.inject(APPLE_PATH, *[
        f if f.status != 200 or f.body is not None
        else Fault(status=200, body=baseline.apple_body, reset=f.reset,
                   corrupt_gzip=f.corrupt_gzip)
        for f in faults
    ])
    result = _load(settings, baseline)
    assert list(result.failed) == [APPLE_LABEL]
    message = result.failed[APPLE_LABEL]
    for word in words:
        assert word in message, message
    assert "320193" in message  # the URL names the company
    # Every other company was revalidated as usual.
    assert result.not_modified == len(baseline.ciks) - 1 - len(result.missing)
    _assert_nothing_lost_nothing_partial(settings, baseline)


def test_a_slow_response_beyond_the_timeout_fails_the_fetch_and_keeps_the_rows(
    baseline: Baseline, faulty: tuple[FakeServer, Settings]
) -> None:
    server, settings = faulty
    settings = settings.with_(http_timeout_seconds=0.3, http_max_retries=1)
    server.inject(APPLE_PATH, *[Fault(delay=1.0)] * 2)
    result = _load(settings, baseline)
    assert list(result.failed) == [APPLE_LABEL]
    assert "gave up" in result.failed[APPLE_LABEL]
    assert "Timeout" in result.failed[APPLE_LABEL]
    _assert_nothing_lost_nothing_partial(settings, baseline)


TRANSIENT = [
    ("429-then-ok", [Fault(status=429)] * 3),
    ("429-retry-after-then-ok", [Fault(status=429, headers={"Retry-After": "1"})] * 2),
    ("5xx-then-ok", [Fault(status=500), Fault(status=502), Fault(status=503)]),
    ("reset-then-ok", [Fault(status=200, reset=True)]),
    ("corrupt-gzip-then-ok", [Fault(status=200, corrupt_gzip=True)]),
    ("slow-then-ok", [Fault(delay=1.0)]),
]


@pytest.mark.parametrize("faults", [f for _, f in TRANSIENT], ids=[i for i, _ in TRANSIENT])
def test_a_transient_fault_heals_and_the_table_is_unchanged(
    baseline: Baseline, faulty: tuple[FakeServer, Settings], faults: list[Fault]
) -> None:
    server, settings = faulty
    settings = settings.with_(http_timeout_seconds=0.5)
    server.inject(APPLE_PATH, *[
        Fault(status=200, body=baseline.apple_body, reset=f.reset, corrupt_gzip=f.corrupt_gzip)
        if f.status == 200 else f
        for f in faults
    ])
    result = _load(settings, baseline)
    assert result.failed == {}
    assert len(_requests_logged(server, APPLE_PATH, len(faults) + 1)) == len(faults) + 1
    _assert_nothing_lost_nothing_partial(settings, baseline)


def test_rejected_bodies_are_kept_aside_with_their_meta(
    baseline: Baseline, faulty: tuple[FakeServer, Settings]
) -> None:
    server, settings = faulty
    server.inject(APPLE_PATH, Fault(status=200, body=b'{"cik": 320193, "facts": {"us-gaap'))
    result = _load(settings, baseline)
    assert "payload rejected" in result.failed[APPLE_LABEL]
    rejected = [p for p in (settings.raw_dir / "_rejected").rglob("*") if p.is_file()]
    assert len(rejected) == 2  # the body and its meta, apart from the good copy
    assert raw_cache_problems(settings.raw_dir) == []
