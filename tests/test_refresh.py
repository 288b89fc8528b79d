"""Incremental daily SEC refresh against the fake server: the request log proves what was fetched.

Everything served here is SYNTHETIC: companyfacts payloads from `synthetic_universe.generate`
(entityName says SYNTHETIC) and daily `form.YYYYMMDD.idx` files written by `_write_form_index`
in SEC's fixed-width layout (the real layout: snapshot/.../form.20200318.idx), listing chosen
CIKs. Dates are in November 2026: Mon 16 .. Mon 23 (21/22 are a weekend).
"""

from __future__ import annotations

import io
import threading
import zipfile
from datetime import date
from pathlib import Path

import filelock
import orjson
import polars as pl
import pytest
from fakeserver import FakeServer
from synthetic_universe import generate

from aiwatch import refresh, warehouse
from aiwatch.http import HttpClient
from aiwatch.refresh import RefreshOptions, refresh_sec_companyfacts
from aiwatch.sec import bulk, companyfacts, daily_index
from aiwatch.settings import Settings
from aiwatch.warehouse import Warehouse

MON, TUE, WED, THU, FRI = (date(2026, 11, d) for d in (16, 17, 18, 19, 20))
NEXT_MON = date(2026, 11, 23)
COMPANYFACTS_GLOB = "/data.sec.gov/api/xbrl/companyfacts/*"
INDEX_GLOB = "/www.sec.gov/Archives/edgar/daily-index/*"
NON_MEMBER = 1234567  # a SYNTHETIC filer outside the member list


def _write_form_index(docroot: Path, day: date, filings: list[tuple[str, int]]) -> None:
    """A SYNTHETIC form index for `day` listing (form, cik) rows, in SEC's layout."""
    header = (
        "Description:           Daily Index of EDGAR Dissemination Feed by Form Type\n"
        f"Last Data Received:    {day:%b %d, %Y}\nComments:              SYNTHETIC test file\n"
        "Anonymous FTP:         ftp://ftp.sec.gov/edgar/\n \n \n \n \n"
        f"{'Form Type':<12}{'Company Name':<62}{'CIK':<12}{'Date Filed':<12}File Name\n"
        + "-" * 141 + "\n"
    )
    rows = [
        f"{form:<12}{'SYNTHETIC CO ' + str(cik):<62}{cik:<12}{day:%Y%m%d}    "
        f"edgar/data/{cik}/{cik:010d}-26-{i:06d}.txt\n"
        for i, (form, cik) in enumerate(filings, start=1)
    ]
    path = docroot / "www.sec.gov" / daily_index.form_index_path(day).lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + "".join(rows))


def _companyfacts_file(docroot: Path, cik: int) -> Path:
    return docroot / "data.sec.gov" / f"api/xbrl/companyfacts/CIK{cik:010d}.json"


def _new_filing(docroot: Path, cik: int) -> None:
    """The company's payload gains a (SYNTHETIC) fact, as after a new 10-Q."""
    path = _companyfacts_file(docroot, cik)
    body = orjson.loads(path.read_bytes())
    concept = next(iter(body["facts"]["us-gaap"].values()))
    concept["units"]["USD"].append({
        "start": "2026-07-01", "end": "2026-09-30", "val": 42, "accn": f"{cik:010d}-26-000999",
        "fy": 2026, "fp": "Q3", "form": "10-Q", "filed": "2026-11-18",
    })
    path.write_bytes(orjson.dumps(body))


class World:
    """A docroot of SYNTHETIC payloads, a fake server and a home, for one test."""

    def __init__(self, tmp_path: Path, n: int = 6) -> None:
        self.docroot = tmp_path / "docroot"
        self.payloads = generate(n, seed=7, extra_concepts=0)
        self.members = sorted(self.payloads)
        for cik, body in self.payloads.items():
            path = _companyfacts_file(self.docroot, cik)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
        self.home = tmp_path / "home"
        self.server = FakeServer(self.docroot).start()
        self.settings = Settings.from_env({
            **self.server.env(), "AIWATCH_HOME": str(self.home),
            "AIWATCH_SEC_USER_AGENT": "aiwatch-tests tests@example.com",
            "AIWATCH_SEC_RATE": "500",  # local server: SEC's budget is not at stake
        }).with_(http_timeout_seconds=5.0, http_max_retries=1)
        self.wh = Warehouse(self.settings)

    def run(self, today: date, members: list[int] | None = None,
            **options: object) -> refresh.RefreshResult:
        self.server.log.clear()
        with HttpClient(self.settings, sleep=lambda s: None) as client:
            return refresh_sec_companyfacts(
                client, self.wh, self.members if members is None else members, today=today,
                options=RefreshOptions(**options),  # type: ignore[arg-type]
            )

    def fetched_ciks(self) -> list[int]:
        return sorted(int(r.path.rsplit("CIK", 1)[1][:10])
                      for r in self.server.requests_to(COMPANYFACTS_GLOB))

    def index_days(self) -> list[str]:
        return [r.path.rsplit(".", 2)[-2] for r in self.server.requests_to(INDEX_GLOB)]

    def table(self) -> pl.DataFrame:
        with self.wh.writer() as con:
            return con.sql("select * from raw.sec_companyfacts order by all").pl()

    def log_rows(self) -> pl.DataFrame:
        with self.wh.writer() as con:
            return refresh.refresh_log(con)

    def expected_table(self) -> pl.DataFrame:
        """What a full rebuild from the docroot's current payloads gives."""
        frames = [companyfacts.parse(_companyfacts_file(self.docroot, c).read_bytes())
                  for c in self.members]
        with self.wh.writer() as con:
            con.register("expected", pl.concat(frames).to_arrow())
            try:
                return con.sql("select * from expected order by all").pl()
            finally:
                con.unregister("expected")

    def close(self) -> None:
        self.server.stop()


@pytest.fixture
def world(tmp_path: Path):
    w = World(tmp_path)
    yield w
    w.close()


def test_first_run_is_full_then_a_no_change_day_reads_only_the_indexes(world: World) -> None:
    first = world.run(MON)
    assert first.mode == "full"
    assert world.fetched_ciks() == world.members
    assert world.table().equals(world.expected_table())

    # Tuesday: filings by a non-member and an irrelevant form (4) by a member only.
    _write_form_index(world.docroot, MON, [("10-Q", NON_MEMBER)])
    _write_form_index(world.docroot, TUE, [("4", world.members[0]), ("8-K", NON_MEMBER)])
    before = world.table()
    result = world.run(TUE)
    assert result.mode == "incremental"
    # Monday's index is read again (it may have been incomplete at Monday's run), then Tuesday's.
    assert world.index_days() == ["20261116", "20261117"]
    assert world.fetched_ciks() == []
    assert result.requests == 2 and result.ciks_refetched == []
    assert world.table().equals(before)
    log_rows = world.log_rows()
    assert log_rows["mode"].to_list() == ["incremental", "full"]
    assert log_rows["requests"].to_list()[0] == 2


def test_a_day_with_new_filings_refetches_only_those_companies(world: World) -> None:
    world.run(MON)
    filers = world.members[1:3]
    for cik in filers:
        _new_filing(world.docroot, cik)
    _write_form_index(world.docroot, TUE, [("10-Q", filers[0]), ("8-K", filers[1]),
                                          ("10-K", NON_MEMBER), ("4", world.members[4])])
    result = world.run(TUE)
    assert world.fetched_ciks() == filers
    assert result.ciks_refetched == filers
    assert result.fetched == 2
    # Monday's index: absent (404), Tuesday's: read; two companyfacts.
    assert result.days_absent == 1 and result.days_read == 1
    assert result.requests == 4
    # Only their rows changed, and the table equals a full rebuild of today's payloads.
    assert world.table().equals(world.expected_table())
    assert world.table().filter(pl.col("val") == 42)["cik"].to_list() == filers


def test_missing_index_days_are_tolerated(world: World) -> None:
    world.run(MON)
    world.server.inject(INDEX_GLOB, *[])  # nothing to inject: 404 comes from absence
    result = world.run(WED)  # no index file at all for Mon..Wed
    assert result.mode == "incremental"
    assert result.days_absent == 3 and result.days_read == 0
    assert world.fetched_ciks() == []


def test_a_403_index_day_is_absence_not_an_error(world: World) -> None:
    from fakeserver import Fault

    world.run(MON)
    _write_form_index(world.docroot, TUE, [("10-Q", world.members[0])])
    world.server.inject("*form.20261116.idx", Fault(status=403, body=b"Forbidden",
                                                     content_type="text/plain"))
    result = world.run(TUE)
    assert result.days_absent == 1 and result.days_read == 1
    assert world.fetched_ciks() == [world.members[0]]


def test_an_unreadable_index_turns_the_run_into_a_sweep(world: World) -> None:
    from fakeserver import Fault

    world.run(MON)
    world.server.inject("*form.20261116.idx", Fault(status=500), Fault(status=500))
    result = world.run(TUE)
    assert result.mode == "sweep"
    assert world.fetched_ciks() == world.members
    assert result.fetched == 0 and result.not_modified == len(world.members)


def test_weekend_days_are_not_requested(world: World) -> None:
    world.run(THU)
    result = world.run(NEXT_MON)
    assert world.index_days() == ["20261119", "20261120", "20261123"]
    assert result.mode == "incremental"


def test_weekly_sweep_revalidates_everyone_and_304s_cost_nothing(world: World) -> None:
    world.run(MON)
    result = world.run(NEXT_MON)  # seven days after the last full load
    assert result.mode == "sweep"
    assert world.index_days() == []
    assert world.fetched_ciks() == world.members
    requests = world.server.requests_to(COMPANYFACTS_GLOB)
    assert {r.status for r in requests} == {304}
    assert all("If-None-Match" in r.headers for r in requests)
    assert sum(r.bytes_sent for r in requests) == 0 and result.not_modified == len(world.members)
    # The next day is incremental again: the sweep counts as the last sweep.
    assert world.run(date(2026, 11, 24)).mode == "incremental"


def test_full_refresh_flag_requests_every_member(world: World) -> None:
    world.run(MON)
    result = world.run(TUE, force_full=True)
    assert result.mode == "full"
    assert world.fetched_ciks() == world.members
    assert world.index_days() == []
    assert world.table().equals(world.expected_table())


def test_options_default_to_the_settings() -> None:
    settings = Settings.from_env({"AIWATCH_FULL_REFRESH": "1", "AIWATCH_SEC_WORKERS": "3"})
    assert RefreshOptions.from_settings(settings) == RefreshOptions(force_full=True, workers=3)
    settings = Settings.from_env({"AIWATCH_BULK": "yes", "AIWATCH_ALL_FILERS": "1"})
    assert RefreshOptions.from_settings(settings) == RefreshOptions(bulk=True, all_filers=True)
    assert RefreshOptions.from_settings(Settings.from_env({})) == RefreshOptions()


def _writer_lock_held(wh: Warehouse) -> bool:
    """Whether anyone holds the writer's flock: a fresh lock object opens its own descriptor,
    which flock refuses while the warehouse's is locked, even in this process."""
    probe = filelock.FileLock(wh.lock_path, is_singleton=False)
    try:
        probe.acquire(timeout=0)
    except filelock.Timeout:
        return True
    probe.release()
    return False


@pytest.mark.parametrize("day", [MON, TUE], ids=["full", "incremental"])
def test_no_download_happens_under_the_writer_lock(world: World, monkeypatch, day: date) -> None:
    """DESIGN: downloads happen outside the single-writer lock, so another step process can
    read its plan and write while this one waits on SEC's rate."""
    if day == TUE:
        world.run(MON)
        _new_filing(world.docroot, world.members[1])
        _write_form_index(world.docroot, TUE, [("10-Q", world.members[1])])
    held: list[bool] = []
    original = HttpClient.fetch
    one_probe = threading.Lock()  # download threads' probes must not see each other's

    def watched(self: HttpClient, *args: object, **kwargs: object) -> object:
        with one_probe:
            held.append(_writer_lock_held(world.wh))
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(HttpClient, "fetch", watched)
    result = world.run(day)
    assert held and not any(held)
    assert result.fetched >= 1
    assert world.table().equals(world.expected_table())
    # The spool of parsed companies is gone once they are in the table.
    spool = world.home / "build" / "spool" / refresh.COMPANYFACTS_TABLE
    assert list(spool.glob("*")) == []


def test_a_new_member_is_fetched_without_a_filing(world: World) -> None:
    *old, new = world.members
    world.run(MON, members=old)
    assert new not in set(world.table()["cik"].to_list())
    result = world.run(TUE, members=world.members)
    assert world.fetched_ciks() == [new]
    assert result.ciks_refetched == [new]
    assert world.table().equals(world.expected_table())


def test_a_member_that_left_loses_its_rows(world: World) -> None:
    world.run(MON)
    world.run(TUE, members=world.members[1:])
    assert world.members[0] not in set(world.table()["cik"].to_list())


def test_a_failed_write_keeps_the_previous_table_and_log(world: World, monkeypatch) -> None:
    world.run(MON)
    filer = world.members[2]
    _new_filing(world.docroot, filer)
    _write_form_index(world.docroot, TUE, [("10-Q", filer)])
    before = world.table()

    def boom(*args: object, **kwargs: object) -> int:
        raise RuntimeError("disk full (simulated)")

    monkeypatch.setattr(warehouse, "upsert_rejects", boom)
    with pytest.raises(RuntimeError):
        world.run(TUE)
    assert world.table().equals(before)
    assert world.log_rows()["mode"].to_list() == ["full"]
    monkeypatch.undo()
    # The next run still sees Tuesday's filing (the state did not advance) and applies it.
    world.run(TUE)
    assert world.table().equals(world.expected_table())


def test_bulk_mode_streams_members_from_companyfacts_zip(world: World) -> None:
    archive = world.docroot / "www.sec.gov" / bulk.COMPANYFACTS_ZIP_PATH.lstrip("/")
    archive.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for cik, body in world.payloads.items():
            zf.writestr(f"CIK{cik:010d}.json", body)
    archive.write_bytes(buffer.getvalue())
    members = world.members[:3]
    result = world.run(MON, members=members, bulk=True)
    assert result.mode == "bulk"
    assert world.fetched_ciks() == []  # no per-company request
    assert len(world.server.requests_to("*/companyfacts.zip")) == 1
    assert sorted(set(world.table()["cik"].to_list())) == members
    world.run(MON, bulk=True, all_filers=True)
    assert sorted(set(world.table()["cik"].to_list())) == world.members


def test_bulk_mode_loads_through_spool_files_and_keeps_rejects(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Members are parsed into Parquet files before the writer lock, loaded in one statement:
    with a tiny file size the load spans several files and gives the same table."""
    archive = world.docroot / "www.sec.gov" / bulk.COMPANYFACTS_ZIP_PATH.lstrip("/")
    archive.parent.mkdir(parents=True, exist_ok=True)
    bad_cik = world.members[0]
    document = orjson.loads(world.payloads[bad_cik])
    units = next(iter(next(iter(document["facts"].values())).values()))["units"]
    next(iter(units.values())).append({"end": "2024-02-30", "val": 1, "accn": "x",
                                       "form": "10-K", "filed": "2024-03-01"})  # SYNTHETIC
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for cik, body in world.payloads.items():
            zf.writestr(f"CIK{cik:010d}.json", orjson.dumps(document) if cik == bad_cik else body)
    monkeypatch.setattr(refresh, "BULK_SPOOL_ROWS", 1)
    written: list[Path] = []
    real_replace_rows = refresh.warehouse.replace_rows

    def spy(*args: object, **kwargs: object) -> int:
        written.extend(kwargs["files"])  # type: ignore[arg-type]
        assert not list(kwargs.get("batches", args[3]))  # type: ignore[call-overload]
        return real_replace_rows(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(refresh.warehouse, "replace_rows", spy)
    result = world.run(MON, bulk=True, all_filers=True)
    assert len(written) == len(world.members)  # one file per member at BULK_SPOOL_ROWS=1
    assert world.table().equals(world.expected_table())
    assert result.rejects == 1
    spool = world.home / "build" / "spool" / refresh.COMPANYFACTS_TABLE
    assert list(spool.glob("*")) == []


def test_replace_rows_only_touches_its_keys(settings: Settings) -> None:
    wh = Warehouse(settings)
    schema = pl.Schema({"cik": pl.Int64, "v": pl.Int64})
    first = pl.DataFrame({"cik": [1, 1, 2, 3], "v": [10, 11, 20, 30]}, schema=schema)
    with wh.writer() as con:
        assert warehouse.replace_rows(con, "raw.t", schema, [first], key_column="cik",
                                      keys=None) == 4
        new_two = pl.DataFrame({"cik": [2, 2], "v": [21, 22]}, schema=schema)
        assert warehouse.replace_rows(con, "raw.t", schema, [new_two], key_column="cik",
                                      keys=[2, 3]) == 4
        rows = con.sql("select cik, v from raw.t order by all").fetchall()
    assert rows == [(1, 10), (1, 11), (2, 21), (2, 22)]
