"""S&P 500 point-in-time membership, on the real bundled files (snapshot/raw.githubusercontent.com).

Expected values come from the files themselves (read here with the csv module, independently of
the code under test) or from public index history noted beside each case.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from datetime import date

import polars as pl
import pytest

from aiwatch import membership as m
from aiwatch.settings import REPO_ROOT

SNAPSHOT_DIR = REPO_ROOT / "snapshot"
RAW = SNAPSHOT_DIR / "raw.githubusercontent.com"
FJA_AS_OF = date(2025, 11, 16)
CONSTITUENTS_AS_OF = date(2026, 8, 8)


def _payload(path: str) -> bytes:
    return (RAW / path.lstrip("/")).read_bytes()


def _csv_rows(path: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(_payload(path).decode("utf-8"))))


def _sec_tickers() -> pl.DataFrame:
    raw = json.loads((SNAPSHOT_DIR / "www.sec.gov/files/company_tickers.json").read_bytes())
    return pl.DataFrame(
        [{"cik": v["cik_str"], "ticker": v["ticker"], "title": v["title"]} for v in raw.values()]
    )


@pytest.fixture(scope="module")
def parsed() -> dict[str, tuple[pl.DataFrame, pl.DataFrame]]:
    return {
        "intervals": m.parse_intervals(_payload(m.INTERVALS_PATH)),
        "changes": m.parse_changes(_payload(m.CHANGES_PATH)),
        "fja": m.parse_constituents(_payload(m.FJA_CURRENT_PATH)),
        "constituents": m.parse_constituents(_payload(m.CONSTITUENTS_PATH)),
    }


@pytest.fixture(scope="module")
def membership(parsed: dict[str, tuple[pl.DataFrame, pl.DataFrame]]) -> pl.DataFrame:
    return m.build_membership(
        parsed["intervals"][0],
        parsed["changes"][0],
        [
            (parsed["fja"][0], FJA_AS_OF, "https://raw.githubusercontent.com" + m.FJA_CURRENT_PATH),
            (
                parsed["constituents"][0],
                CONSTITUENTS_AS_OF,
                "https://raw.githubusercontent.com" + m.CONSTITUENTS_PATH,
            ),
        ],
        _sec_tickers(),
    )


def _one(membership: pl.DataFrame, ticker: str, start: date) -> dict[str, object]:
    rows = membership.filter((pl.col("ticker") == ticker) & (pl.col("start_date") == start))
    assert rows.height == 1, rows
    return rows.row(0, named=True)


def test_real_files_parse_without_rejects(parsed: dict[str, tuple[pl.DataFrame, pl.DataFrame]]) -> None:
    intervals, changes_rows = _csv_rows(m.INTERVALS_PATH), _csv_rows(m.CHANGES_PATH)
    ticker_events = sum(
        len([t for t in (row["add"] + "," + row["remove"]).split(",") if t]) for row in changes_rows
    )
    expected = {
        "intervals": len(intervals),  # 1,230 per shared/data/SOURCES.md
        "changes": ticker_events,
        "fja": len(_csv_rows(m.FJA_CURRENT_PATH)),
        "constituents": len(_csv_rows(m.CONSTITUENTS_PATH)),
    }
    assert expected["intervals"] == 1230
    assert expected["constituents"] == expected["fja"] == 503
    for name, (good, rejects) in parsed.items():
        assert rejects.height == 0, rejects
        assert good.height == expected[name], name


def test_membership_schema_and_current_members(membership: pl.DataFrame) -> None:
    assert membership.schema == pl.Schema(m.MEMBERSHIP_SCHEMA)
    current = membership.filter(pl.col("end_date").is_null())
    listed = {m_row["Symbol"] for m_row in _csv_rows(m.CONSTITUENTS_PATH)}
    assert set(current["ticker"]) == listed
    assert current["cik_source"].unique().to_list() == ["constituents"]
    assert membership["as_of"].unique().to_list() == [CONSTITUENTS_AS_OF]
    assert m.members_on(membership, CONSTITUENTS_AS_OF).height == 503
    # Every day ends with the index's ~503 lines (500 companies, a few with two share classes).
    for day in [date(2019, 6, 28), date(2022, 12, 30), date(2024, 6, 28), FJA_AS_OF]:
        assert 500 <= m.members_on(membership, day).height <= 506, day


def test_alphabet_two_tickers_one_cik(membership: pl.DataFrame) -> None:
    alphabet = membership.filter(pl.col("ticker").is_in(["GOOGL", "GOOG"]) & pl.col("end_date").is_null())
    assert sorted(alphabet["ticker"]) == ["GOOG", "GOOGL"]
    assert alphabet["cik"].unique().to_list() == [1652044]


@pytest.mark.parametrize(
    ("ticker", "start", "end", "end_basis", "from_file"),
    [
        # sp500_changes_since_2019.csv 2024-09-23 "ERIE,DELL,PLTR" in, "BIO,ETSY,AAL" out: already
        # in the intervals file (refreshed to 2025-07-09).
        ("PLTR", date(2024, 9, 23), None, None, m.INTERVALS_PATH),
        ("AAL", date(2015, 3, 23), date(2024, 9, 23), "reported", m.INTERVALS_PATH),
        # 2025-07-23 "XYZ" in, "HES" out: after the intervals file, so applied from the changes.
        ("XYZ", date(2025, 7, 23), None, None, m.CHANGES_PATH),
        ("HES", date(1996, 1, 2), date(2025, 7, 23), "reported", m.INTERVALS_PATH),
        # 2025-11-11 "FISV" in, "FI" out: Fiserv took its old ticker back (a rename).
        ("FI", date(2023, 6, 7), date(2025, 11, 11), "reported", m.INTERVALS_PATH),
        ("FISV", date(2025, 11, 11), None, None, m.CHANGES_PATH),
    ],
)
def test_known_adds_and_removes(
    membership: pl.DataFrame,
    ticker: str, start: date, end: date | None, end_basis: str | None, from_file: str,
) -> None:
    row = _one(membership, ticker, start)
    assert (row["end_date"], row["end_date_basis"]) == (end, end_basis)
    assert row["source"] == "https://raw.githubusercontent.com" + from_file


def test_fiserv_is_one_company_across_its_ticker_changes(membership: pl.DataFrame) -> None:
    fiserv = membership.filter(
        pl.col("ticker").is_in(["FI", "FISV"]) & (pl.col("start_date") >= date(2023, 1, 1))
    )
    assert fiserv["cik"].unique().to_list() == [798354]  # constituents.csv: FISV, CIK 798354


def test_rename_gives_old_ticker_the_new_tickers_cik(membership: pl.DataFrame) -> None:
    # changes file 2022-06-09: META in, FB out; constituents list META "Date added" 2013-12-23.
    fb = _one(membership, "FB", date(2013, 12, 23))
    assert (fb["cik"], fb["cik_source"], fb["renamed_to"]) == (1326801, "rename", "META")


def test_reused_tickers_do_not_borrow_todays_cik(membership: pl.DataFrame) -> None:
    # Q was Qwest (2000-2011); the Q in today's lists is Qnity Electronics (added 2025-11-03).
    old_q = _one(membership, "Q", date(2000, 7, 6))
    assert old_q["cik"] is None
    assert _one(membership, "Q", date(2025, 11, 3))["cik"] == 2058873
    # SEC's file gives HCP to HashiCorp and STI to Solidion; the index members were HCP Inc.
    # and SunTrust.
    for ticker in ["HCP", "STI"]:
        assert membership.filter(pl.col("ticker") == ticker)["cik"].null_count() >= 1


def test_missing_from_newer_list_ends_at_an_upper_bound(membership: pl.DataFrame) -> None:
    fja = {r["Symbol"] for r in _csv_rows(m.FJA_CURRENT_PATH)}
    newest = {r["Symbol"]: r for r in _csv_rows(m.CONSTITUENTS_PATH)}
    left = sorted(fja - set(newest))
    assert "MMC" in left  # Marsh McLennan: MMC in the 2025 list, MRSH in the 2026 list
    closed = membership.filter(pl.col("ticker").is_in(left) & (pl.col("end_date") == CONSTITUENTS_AS_OF))
    assert sorted(closed["ticker"]) == left
    assert closed["end_date_basis"].unique().to_list() == ["upper_bound"]
    # Newcomers start on their "Date added" when it is after the older list, else on the as-of.
    for symbol in sorted(set(newest) - fja):
        added = date.fromisoformat(newest[symbol]["Date added"])
        row = membership.filter((pl.col("ticker") == symbol) & pl.col("end_date").is_null()).row(
            0, named=True
        )
        if added > FJA_AS_OF:
            assert (row["start_date"], row["start_date_basis"]) == (added, "date_added")
        else:
            assert (row["start_date"], row["start_date_basis"]) == (CONSTITUENTS_AS_OF, "list_as_of")


def test_members_since_2019(membership: pl.DataFrame, caplog: pytest.LogCaptureFixture) -> None:
    ciks = m.members_in_window(membership, date(2019, 1, 1))
    window = membership.filter(pl.col("end_date").is_null() | (pl.col("end_date") > date(2019, 1, 1)))
    unmapped = window.filter(pl.col("cik").is_null())
    logging.getLogger(__name__).info(
        "members since 2019-01-01: %d CIKs, %d intervals unmapped: %s",
        len(ciks), unmapped.height, unmapped["ticker"].to_list(),
    )
    # ~500 today plus ~100 changes since 2019 (the changes file), less renames and share classes.
    assert 560 <= len(ciks) <= 640
    assert unmapped.height <= 60
    assert len(ciks) == len(set(ciks)) and None not in ciks
    # Everyone in the newest list is counted.
    newest = {int(r["CIK"]) for r in _csv_rows(m.CONSTITUENTS_PATH)}
    assert newest <= set(ciks)


# Synthetic rows (labelled): one good, one with a bad CIK, one with a bad date.
SYNTHETIC_CONSTITUENTS = b"""Symbol,Security,GICS Sector,GICS Sub-Industry,Headquarters Location,Date added,CIK,Founded
AAA,Synthetic Good Co,X,Y,Z,2020-01-02,12345,1900
BBB,Synthetic Bad Cik,X,Y,Z,2020-01-02,12x45,1900
CCC,Synthetic Bad Date,X,Y,Z,2020-13-45,777,1900
"""


def test_bad_rows_are_quarantined_with_a_reason() -> None:
    good, rejects = m.parse_constituents(SYNTHETIC_CONSTITUENTS)
    assert good["ticker"].to_list() == ["AAA"]
    assert rejects["line"].to_list() == [3, 4]
    assert "bad CIK '12x45'" in rejects["reason"][0]
    assert "bad date_added '2020-13-45'" in rejects["reason"][1]

    good, rejects = m.parse_intervals(
        b"ticker,start_date,end_date\nAAA,2020-01-02,\nBBB,2020-02-30,\nCCC,2021-01-01,2020-01-01\n"
    )
    assert good["ticker"].to_list() == ["AAA"]
    assert rejects.select("line", "reason").rows() == [
        (3, "bad start_date '2020-02-30'"),
        (4, "end_date before start_date"),
    ]

    good, rejects = m.parse_changes(b'date,add,remove\n2020-01-02,"AAA,BRK-B","CCC"\n2020/01/03,"DDD",""\n')
    assert good.select("ticker", "action").rows() == [("AAA", "add"), ("BRK.B", "add"), ("CCC", "remove")]
    assert rejects.select("line", "reason").rows() == [(3, "bad date '2020/01/03'")]


def test_missing_column_is_a_format_error() -> None:
    with pytest.raises(m.MembershipFormatError, match="CIK"):
        m.parse_constituents(b"Symbol,Security,Date added\nAAA,X,2020-01-02\n")
