"""aiwatch.sec.submissions on the real EDGAR submissions payloads in snapshot/ (main pages and
Tesla's overflow page), plus synthetic (labelled) malformed payloads."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import orjson
import polars as pl
import pytest
from conftest import SNAPSHOT_DIR

from aiwatch.sec import submissions
from aiwatch.sec.submissions import SCHEMA, SubmissionsError

SUBMISSIONS_DIR = SNAPSHOT_DIR / "data.sec.gov" / "submissions"
MAIN_PAGES = sorted(p for p in SUBMISSIONS_DIR.glob("CIK*.json") if "-submissions-" not in p.name)
TESLA_OVERFLOW = SUBMISSIONS_DIR / "CIK0001318605-submissions-001.json"


def _read(name: str) -> bytes:
    return (SUBMISSIONS_DIR / name).read_bytes()


@pytest.mark.parametrize("path", MAIN_PAGES, ids=lambda p: p.stem)
def test_main_page_one_row_per_recent_filing(path: Path) -> None:
    payload = path.read_bytes()
    recent = orjson.loads(payload)["filings"]["recent"]
    frame = submissions.parse(payload)
    assert frame.schema == SCHEMA
    assert frame.height == len(recent["accessionNumber"])
    assert frame["accn"].to_list() == recent["accessionNumber"]
    assert frame["cik"].unique().to_list() == [int(path.stem[3:])]
    assert frame["filed"].null_count() == 0
    # '' report dates (Forms 3/4, many 8-Ks) become null, nothing else does.
    assert frame["report_date"].null_count() == sum(1 for d in recent["reportDate"] if d == "")
    assert frame["is_xbrl"].sum() == sum(recent["isXBRL"])


# Company header fiscalYearEnd ('MMDD'). Apple's year ends on the last Saturday of September,
# Microsoft's on June 30, Tesla's on December 31 (their 10-K cover pages). NVIDIA's (last Sunday
# of January) and Marvell's (Saturday nearest January 31) are 52/53-week years; '0131' and
# '0130' are the values SEC's header carries.
FISCAL_YEAR_ENDS = [
    ("CIK0000320193.json", "0926"),
    ("CIK0000789019.json", "0630"),
    ("CIK0001318605.json", "1231"),
    ("CIK0001045810.json", "0131"),
    ("CIK0001835632.json", "0130"),
]


@pytest.mark.parametrize(("name", "fiscal_year_end"), FISCAL_YEAR_ENDS)
def test_fiscal_year_end_from_company_header(name: str, fiscal_year_end: str) -> None:
    frame = submissions.parse(_read(name))
    assert frame["fiscal_year_end"].unique().to_list() == [fiscal_year_end]
    assert submissions.company(_read(name))["fiscal_year_end"] == fiscal_year_end


# 10-K filings, cross-checked against the accessions the companyfacts payloads give for the same
# 10-K's facts (Apple FY2024 net income; NVIDIA FY2026 capex) and EDGAR's filing index.
TEN_K_FILINGS = [
    # Apple 10-K for the fiscal year ended 2024-09-28, filed 2024-11-01.
    ("CIK0000320193.json", None, "0000320193-24-000123", date(2024, 11, 1), date(2024, 9, 28),
     datetime(2024, 11, 1, 6, 1, 36, tzinfo=UTC), "aapl-20240928.htm"),
    # NVIDIA 10-K for the fiscal year ended 2026-01-25 (FY2026), filed 2026-02-25.
    ("CIK0001045810.json", None, "0001045810-26-000021", date(2026, 2, 25), date(2026, 1, 25),
     datetime(2026, 2, 25, 16, 42, 19, tzinfo=UTC), None),
    # Tesla 10-K for 2016, on the overflow page (filings before 2018-02-13).
    ("CIK0001318605-submissions-001.json", 1318605, "0001564590-17-003118", date(2017, 3, 1),
     date(2016, 12, 31), None, None),
]


@pytest.mark.parametrize(
    ("name", "cik", "accn", "filed", "report_date", "accepted", "primary_document"),
    TEN_K_FILINGS,
    ids=[t[2] for t in TEN_K_FILINGS],
)
def test_known_10k_filings(
    name: str, cik: int | None, accn: str, filed: date, report_date: date,
    accepted: datetime | None, primary_document: str | None,
) -> None:
    frame = submissions.parse(_read(name), cik=cik)
    row = frame.filter(pl.col("accn") == accn).row(0, named=True)
    assert (row["form"], row["filed"], row["report_date"]) == ("10-K", filed, report_date)
    if accepted is not None:
        assert row["acceptance_datetime"] == accepted
    if primary_document is not None:
        assert row["primary_document"] == primary_document


def test_tesla_overflow_page_needs_and_takes_the_cik() -> None:
    payload = TESLA_OVERFLOW.read_bytes()
    columns = orjson.loads(payload)
    frame = submissions.parse(payload, cik=1318605)
    assert frame.schema == SCHEMA
    assert frame.height == len(columns["accessionNumber"]) == 720
    assert frame["cik"].unique().to_list() == [1318605]
    assert frame["fiscal_year_end"].null_count() == 720  # no company header on overflow pages
    assert (frame["filed"].min(), frame["filed"].max()) == (date(2005, 2, 17), date(2018, 2, 12))
    with pytest.raises(SubmissionsError, match="cik"):
        submissions.parse(payload)
    given = submissions.parse(payload, cik=1318605, fiscal_year_end="1231")
    assert given["fiscal_year_end"].unique().to_list() == ["1231"]


def test_overflow_pages_listed_with_dates() -> None:
    assert submissions.overflow_pages(_read("CIK0001318605.json")) == [
        {"name": "CIK0001318605-submissions-001.json", "filingCount": 720,
         "filingFrom": date(2005, 2, 17), "filingTo": date(2018, 2, 11)},
    ]
    microsoft = submissions.overflow_pages(_read("CIK0000789019.json"))
    assert [p["name"] for p in microsoft] == [
        "CIK0000789019-submissions-001.json", "CIK0000789019-submissions-002.json",
    ]
    assert submissions.overflow_pages(_read("CIK0001835632.json")) == []  # Marvell: all recent
    assert submissions.overflow_pages(TESLA_OVERFLOW.read_bytes()) == []


def test_company_header() -> None:
    assert submissions.company(_read("CIK0000320193.json")) == {
        "cik": 320193, "name": "Apple Inc.", "tickers": ["AAPL"], "exchanges": ["Nasdaq"],
        "fiscal_year_end": "0926", "sic": "3571", "sic_description": "Electronic Computers",
    }


def test_main_page_cik_must_match_the_one_asked_for() -> None:
    with pytest.raises(SubmissionsError, match="320193"):
        submissions.parse(_read("CIK0000320193.json"), cik=1045810)


# --- synthetic payloads (NOT SEC data) ---------------------------------------------------------

def _synthetic_overflow(**changes: object) -> bytes:
    page = {
        "accessionNumber": ["0000000000-24-000001"], "filingDate": ["2024-11-01"],
        "reportDate": [""], "acceptanceDateTime": ["2024-11-01T06:01:36.000Z"],
        "form": ["10-K"], "isXBRL": [1], "primaryDocument": ["x.htm"],
    }
    page.update(changes)
    return orjson.dumps({k: v for k, v in page.items() if v is not None})


def test_synthetic_minimal_overflow_page_optional_columns_absent() -> None:
    payload = _synthetic_overflow(
        reportDate=None, acceptanceDateTime=None, isXBRL=None, primaryDocument=None
    )
    row = submissions.parse(payload, cik=1).row(0, named=True)
    assert row["report_date"] is None and row["acceptance_datetime"] is None
    assert row["is_xbrl"] is None and row["filed"] == date(2024, 11, 1)


BAD_PAYLOADS = [
    ("not json", b"<html>403</html>", "not valid JSON"),
    ("neither shape", b'{"cik": "1"}', "neither"),
    ("uneven columns", _synthetic_overflow(form=["10-K", "10-Q"]), "differ in length"),
    ("bad filing date", _synthetic_overflow(filingDate=["2024-13-01"]), "CIK 1"),
    ("wrong column type", _synthetic_overflow(form="10-K"), "$.form"),
    ("bad fiscal year end", None, "MMDD"),
]


@pytest.mark.parametrize(("payload", "message"), [b[1:] for b in BAD_PAYLOADS],
                         ids=[b[0] for b in BAD_PAYLOADS])
def test_synthetic_bad_payloads_raise_one_line_error(payload: bytes | None, message: str) -> None:
    with pytest.raises(SubmissionsError) as raised:
        if payload is None:
            submissions.parse(_synthetic_overflow(), cik=1, fiscal_year_end="1399")
        else:
            submissions.parse(payload, cik=1)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)
