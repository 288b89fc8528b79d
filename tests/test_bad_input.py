"""Bad input through whole loads: a clear error or quarantined rows in `raw.rejects` with a
reason and a count; never a crash of the whole load, never a silent wrong number. (Each
parser's own rejection rules are its module's tests; FRED `.` values are in test_fred.py,
price nulls and splits in test_prices.py.) Payloads in tests/fixtures/bad are SYNTHETIC."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import FIXTURES_DIR
from fakeserver import FakeServer
from resilience import (
    APPLE,
    COMPANYFACTS_KEY,
    MEMBERSHIP_HOST,
    company_rows_hash,
    fast_client,
    live_settings,
    replace_file,
    run_full_load,
    small_docroot,
)

from aiwatch import ingest, membership
from aiwatch.warehouse import Warehouse

BAD = FIXTURES_DIR / "bad"
MARVELL = 1835632


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(docroot, home) after one clean run of the small universe."""
    root = tmp_path_factory.mktemp("bad_input")
    docroot = small_docroot(root / "docroot")
    with FakeServer(docroot) as server:
        run_full_load(live_settings(server.env(), root / "home"), publish_each_stage=False)
    return docroot, root / "home"


@pytest.fixture
def copy(clean: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    docroot, home = clean
    shutil.copytree(docroot, tmp_path / "docroot", copy_function=_link)
    shutil.copytree(home, tmp_path / "home")
    return tmp_path / "docroot", tmp_path / "home"


def _link(src: str, dst: str) -> None:
    Path(dst).hardlink_to(src)


def test_bad_facts_are_quarantined_counted_and_kept_out_of_the_numbers(
    copy: tuple[Path, Path],
) -> None:
    docroot, home = copy
    replace_file(docroot / COMPANYFACTS_KEY.format(cik=MARVELL),
                 (BAD / "companyfacts_synthetic_bad.json").read_bytes())
    with FakeServer(docroot) as server:
        settings = live_settings(server.env(), home)
        report = run_full_load(settings)
    result = report.results["raw.sec_companyfacts"]
    assert result.failed == {}
    assert result.rejects == 5
    with duckdb.connect(str(settings.db_path), read_only=True) as con:
        reasons = dict(con.execute(
            "select reason, count(*) from raw.rejects where table_name = 'raw.sec_companyfacts' "
            "group by 1"
        ).fetchall())
        assert reasons == {"missing_field": 1, "wrong_type": 1, "end_before_start": 1,
                           "val_out_of_range": 1, "unparseable_date": 1}
        assert con.execute(
            "select count(*) from raw.rejects where detail is null or source is null"
        ).fetchall() == [(0,)]
        kept = con.execute(
            "select taxonomy, unit, val from raw.sec_companyfacts where cik = ? order by all",
            [MARVELL],
        ).fetchall()
        # As filed: the good fact, the EUR copy and the unknown taxonomy (raw keeps them) ...
        assert kept == [("us-gaap", "EUR", 999.0), ("us-gaap", "USD", 100.0),
                        ("xx-unknown-taxonomy", "USD", 777.0)]
        # ... but only the USD us-gaap fact reaches the numbers.
        current = con.execute(
            "select taxonomy, unit, val from staging.facts_current where cik = ?", [MARVELL]
        ).fetchall()
        assert current == [("us-gaap", "USD", 100.0)]
        # Other companies untouched by the bad one.
        assert con.execute("select count(distinct cik) from raw.sec_companyfacts"
                           ).fetchall()[0][0] == 8


def test_empty_facts_give_no_rows_for_that_company_and_no_failure(
    copy: tuple[Path, Path],
) -> None:
    docroot, home = copy
    replace_file(docroot / COMPANYFACTS_KEY.format(cik=MARVELL),
                 b'{"cik": 1835632, "entityName": "SYNTHETIC empty", "facts": {}}')
    with FakeServer(docroot) as server:
        settings = live_settings(server.env(), home)
        with fast_client(settings) as client:
            wh = Warehouse(settings)
            result = ingest.load_sec_companyfacts(
                client, wh, ingest.member_ciks(wh, settings.window_start))
    assert result.failed == {} and result.rejects == 0
    assert company_rows_hash(settings.build_db_path, MARVELL)[0] == 0
    assert company_rows_hash(settings.build_db_path, APPLE)[0] > 20000


@pytest.mark.parametrize("body", [b'{"cik": 320193, "facts": []}', b'{"error": "rate limited"}',
                                  b'{"cik": 320193}'])
def test_a_json_object_that_is_not_companyfacts_keeps_the_stored_rows(
    copy: tuple[Path, Path], body: bytes
) -> None:
    docroot, home = copy
    settings_before = live_settings({}, home)
    before = company_rows_hash(settings_before.build_db_path, APPLE)
    replace_file(docroot / COMPANYFACTS_KEY.format(cik=APPLE), body)
    with FakeServer(docroot) as server:
        settings = live_settings(server.env(), home)
        with fast_client(settings) as client:
            wh = Warehouse(settings)
            result = ingest.load_sec_companyfacts(
                client, wh, ingest.member_ciks(wh, settings.window_start))
    assert f"CIK{APPLE:010d}" in result.failed  # a specific message ...
    assert company_rows_hash(settings.build_db_path, APPLE) == before  # ... and nothing lost


def test_a_bad_cik_or_date_in_the_constituents_list_is_quarantined_not_fatal() -> None:
    good, rejects = membership.parse_constituents(
        (BAD / "constituents_synthetic_bad.csv").read_bytes())
    assert good["ticker"].to_list() == ["AAPL", "MSFT"]
    assert sorted(rejects["reason"].to_list()) == ["bad CIK '../../etc'",
                                                   "bad date_added '2020-02-30'"]


def test_membership_rejects_land_in_raw_rejects(copy: tuple[Path, Path]) -> None:
    docroot, home = copy
    constituents = docroot / MEMBERSHIP_HOST / membership.CONSTITUENTS_PATH.lstrip("/")
    replace_file(constituents, (BAD / "constituents_synthetic_bad.csv").read_bytes())
    with FakeServer(docroot) as server:
        settings = live_settings(server.env(), home)
        with fast_client(settings) as client:
            result = ingest.load_sp500_membership(client, Warehouse(settings))
    assert result.rejects == 2  # counted, the load completed
    with duckdb.connect(str(settings.build_db_path), read_only=True) as con:
        assert con.execute(
            "select count(*) from raw.rejects where table_name = 'raw.sp500_membership'"
        ).fetchall() == [(2,)]
