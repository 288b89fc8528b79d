"""EDGAR daily index: parsing the real bundled indexes, changed member CIKs, refresh planning.

Real files (byte-for-byte SEC copies, see shared/data/SOURCES.md "EDGAR daily index samples"):
snapshot/www.sec.gov/Archives/edgar/daily-index/2020/QTR1/form.20200318.idx and
2022/QTR4/company.20221003.idx. Expected counts are counted from the file text by the tests
themselves (not by the parser); expected rows are quoted from the files with line numbers.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from conftest import SNAPSHOT_DIR
from polars.testing import assert_frame_equal

from aiwatch.sec import daily_index
from aiwatch.sec.daily_index import (
    INDEX_SCHEMA,
    REJECTS_SCHEMA,
    RELEVANT_FORMS,
    business_days,
    changed_ciks,
    company_index_path,
    form_index_path,
    parse_company_index,
    parse_company_index_with_rejects,
    parse_form_index,
    parse_form_index_with_rejects,
    plan_refresh,
)

FORM_IDX = form_index_path(date(2020, 3, 18))
COMPANY_IDX = company_index_path(date(2022, 10, 3))


def _snapshot(path: str) -> bytes:
    return (SNAPSHOT_DIR / "www.sec.gov" / path.lstrip("/")).read_bytes()


def _rows_after_rule(payload: bytes) -> list[str]:
    """Independent count: the non-blank lines after the dashed rule."""
    lines = payload.decode("ascii").splitlines()
    rule = next(i for i, line in enumerate(lines) if line.startswith("-----"))
    return [line for line in lines[rule + 1 :] if line.strip()]


def _assert_filed_dates(good: pl.DataFrame, payload: bytes) -> None:
    """Date Filed is the filing's date, not always the index day (SEC disseminates some older
    filings late): compare the per-date counts with the text's Date Filed column (86:94)."""
    expected: dict[date, int] = {}
    for line in _rows_after_rule(payload):
        day = date(int(line[86:90]), int(line[90:92]), int(line[92:94]))
        expected[day] = expected.get(day, 0) + 1
    assert dict(good["filed"].value_counts().iter_rows()) == expected


@pytest.fixture(scope="module")
def form_payload() -> bytes:
    return _snapshot(FORM_IDX)


@pytest.fixture(scope="module")
def company_payload() -> bytes:
    return _snapshot(COMPANY_IDX)


def test_paths_name_the_bundled_files() -> None:
    assert FORM_IDX == "/Archives/edgar/daily-index/2020/QTR1/form.20200318.idx"
    assert COMPANY_IDX == "/Archives/edgar/daily-index/2022/QTR4/company.20221003.idx"
    assert form_index_path(date(2024, 12, 31)).startswith("/Archives/edgar/daily-index/2024/QTR4/")
    assert form_index_path(date(2024, 4, 1)).startswith("/Archives/edgar/daily-index/2024/QTR2/")
    with pytest.raises(ValueError):
        daily_index.index_path(date(2024, 4, 1), "master")


# --- the real form index, 2020-03-18 ----------------------------------------------------------


def test_form_index_keeps_every_row(form_payload: bytes) -> None:
    good, rejects = parse_form_index_with_rejects(form_payload)
    assert good.schema == INDEX_SCHEMA and rejects.schema == REJECTS_SCHEMA
    assert rejects.height == 0
    assert good.height == len(_rows_after_rule(form_payload)) == 4084
    _assert_filed_dates(good, form_payload)


@pytest.mark.parametrize(
    ("form", "prefix"),
    # Counted on the text: rows start with the form type padded by spaces (so "10-K " leaves
    # out 10-K/A and 10-KT).
    [("10-K", "10-K "), ("10-Q", "10-Q "), ("10-K/A", "10-K/A "), ("8-K", "8-K ")],
)
def test_form_index_counts_by_form(form_payload: bytes, form: str, prefix: str) -> None:
    expected = sum(line.startswith(prefix) for line in _rows_after_rule(form_payload))
    assert parse_form_index(form_payload).filter(pl.col("form") == form).height == expected


def test_form_index_10k_and_10q_counts(form_payload: bytes) -> None:
    # grep -c '^10-K ' / '^10-Q ' on form.20200318.idx: 68 annual and 5 quarterly reports.
    counts = dict(parse_form_index(form_payload)["form"].value_counts().iter_rows())
    assert (counts["10-K"], counts["10-Q"]) == (68, 5)


@pytest.mark.parametrize(
    "row",
    [
        # form.20200318.idx line 89: General Mills' 10-Q filed 2020-03-18.
        {
            "form": "10-Q", "company": "GENERAL MILLS INC", "cik": 40704,
            "filed": date(2020, 3, 18),
            "file_name": "edgar/data/40704/0001193125-20-077160.txt",
            "accn": "0001193125-20-077160",
        },
        # Line 55: Kohl's 10-K filed 2020-03-18 (name as SEC writes it).
        {
            "form": "10-K", "company": "KOHLS Corp", "cik": 885639,
            "filed": date(2020, 3, 18),
            "file_name": "edgar/data/885639/0001564590-20-011512.txt",
            "accn": "0001564590-20-011512",
        },
        # Line 54: a name SEC truncated at its column width ("... 2014-").
        {
            "form": "10-K",
            "company": "J.P. Morgan Chase Commercial Mortgage Securities Trust 2014-",
            "cik": 1607484, "filed": date(2020, 3, 18),
            "file_name": "edgar/data/1607484/0001056404-20-002466.txt",
            "accn": "0001056404-20-002466",
        },
        # Line 13: a form type with a space in it.
        {
            "form": "1-A POS", "company": "DELHI BANK CORP", "cik": 927719,
            "filed": date(2020, 3, 18),
            "file_name": "edgar/data/927719/0001213900-20-006773.txt",
            "accn": "0001213900-20-006773",
        },
    ],
    ids=["general-mills-10q", "kohls-10k", "truncated-name", "form-with-space"],
)
def test_form_index_real_rows(form_payload: bytes, row: dict) -> None:
    good = parse_form_index(form_payload)
    assert good.filter(pl.col("accn") == row["accn"]).to_dicts() == [row]


# --- the real company index, 2022-10-03 -------------------------------------------------------


def test_company_index_keeps_every_row(company_payload: bytes) -> None:
    good, rejects = parse_company_index_with_rejects(company_payload)
    assert rejects.height == 0
    assert good.height == len(_rows_after_rule(company_payload)) == 4925
    _assert_filed_dates(good, company_payload)


def test_company_index_real_rows(company_payload: bytes) -> None:
    good = parse_company_index(company_payload)
    # company.20221003.idx: Iron Spark I Inc. filed one 10-K/A and two 10-Q/A that day.
    iron_spark = good.filter(pl.col("cik") == 1845601).sort("accn")
    assert iron_spark.select("form", "accn").rows() == [
        ("10-K/A", "0001410578-22-002848"),
        ("10-Q/A", "0001410578-22-002850"),
        ("10-Q/A", "0001410578-22-002853"),
    ]
    assert iron_spark["company"].unique().to_list() == ["Iron Spark I Inc."]
    # A name with a lowercase first letter (a Form 4 lists each reporting person and issuer).
    assert good.filter(pl.col("cik") == 1696354).row(0) == (
        "4", "van Kesteren Gerard", 1696354, date(2022, 10, 3),
        "edgar/data/1696354/0001116354-22-000030.txt", "0001116354-22-000030",
    )
    assert good.filter(pl.col("cik") == 1949340)["company"].to_list() == [
        "3456 Devils Lake Investment, LLC"
    ]


def _relayout(payload: bytes, to: str) -> bytes:
    """Rewrite an index's rows in the other layout (test-built, from the real rows)."""
    source = parse_form_index(payload) if to == "company" else parse_company_index(payload)
    if to == "company":
        header = f"{'Company Name':<62}{'Form Type':<12}CIK\n      Date Filed  File Name\n"
    else:
        header = f"{'Form Type':<12}{'Company Name':<62}{'CIK':<12}{'Date Filed':<12}File Name\n"
    lines = ["Description:           synthetic re-layout of a real index", "", header + "-" * 141]
    for form, company, cik, filed, file_name, _ in source.iter_rows():
        first, second = (company, form) if to == "company" else (form, company)
        width = 62 if to == "company" else 12
        lines.append(f"{first:<{width}}{second:<{74 - width}}{cik:<12}{filed:%Y%m%d}    {file_name}")
    return ("\n".join(lines) + "\n").encode()


def test_both_layouts_give_the_same_rows(form_payload: bytes, company_payload: bytes) -> None:
    # Every real row of each file, written out in the other layout, parses to the same frame.
    assert_frame_equal(
        parse_company_index(_relayout(form_payload, "company")), parse_form_index(form_payload)
    )
    assert_frame_equal(
        parse_form_index(_relayout(company_payload, "form")), parse_company_index(company_payload)
    )


# --- layout drift and bad rows (synthetic) ----------------------------------------------------

SYNTHETIC_WIDE = b"""Description:           Daily Index of EDGAR Dissemination Feed by Form Type
Last Data Received:    Jan 2, 1998

Form Type           Company Name                                                            CIK           Date Filed    File Name
----------------------------------------------------------------------------------------------------------------------------------
10-K                SYNTHETIC  DOUBLE   SPACED CO                                           123           1998-01-02    edgar/data/123/0000000123-98-000001.txt
10-Q                SYNTHETIC 2 INC                                                         4567          19980102      edgar/data/4567/0000004567-98-000002.txt
"""


def test_column_offsets_come_from_the_header() -> None:
    # Synthetic: a wider form column than SEC uses today, ISO dates, runs of spaces in a name.
    good, rejects = parse_form_index_with_rejects(SYNTHETIC_WIDE)
    assert rejects.height == 0
    assert good.select("form", "company", "cik", "filed", "accn").rows() == [
        ("10-K", "SYNTHETIC  DOUBLE   SPACED CO", 123, date(1998, 1, 2), "0000000123-98-000001"),
        ("10-Q", "SYNTHETIC 2 INC", 4567, date(1998, 1, 2), "0000004567-98-000002"),
    ]


def test_bad_rows_are_rejected_with_reasons(form_payload: bytes) -> None:
    # Synthetic bad rows appended to the real file: the 4084 real rows stay, each bad one is
    # rejected with its line number and reason.
    bad = [
        ("this is not an index row", daily_index.BAD_LAYOUT),
        ("10-K        BAD DATE CO" + " " * 38 + "99          20201340    "
         "edgar/data/99/0000000099-20-000001.txt", daily_index.BAD_DATE),
        ("10-K        NO ACCESSION CO" + " " * 34 + "99          20200318    "
         "edgar/data/99/notanaccession.txt", daily_index.BAD_LAYOUT),
        ("10-K-SPILLOVER-FORM-TYPE-CO" + " " * 34 + "99          20200318    "
         "edgar/data/99/0000000099-20-000002.txt", daily_index.COLUMN_OVERFLOW),
        ("10-K" + " " * 70 + "99          20200318    "
         "edgar/data/99/0000000099-20-000003.txt", daily_index.MISSING_COMPANY),
        ("10-K        ZERO CIK CO" + " " * 38 + "0           20200318    "
         "edgar/data/0/0000000000-20-000004.txt", daily_index.ZERO_CIK),
    ]
    payload = form_payload.rstrip(b"\n") + b"\n" + "\n".join(b[0] for b in bad).encode() + b"\n"
    good, rejects = parse_form_index_with_rejects(payload)
    assert good.height == 4084
    assert rejects["reason"].to_list() == [reason for _, reason in bad]
    assert rejects["line"].to_list() == [line for line, _ in bad]
    first_bad_line = len(form_payload.rstrip(b"\n").split(b"\n")) + 1
    assert rejects["line_no"].to_list() == list(range(first_bad_line, first_bad_line + len(bad)))
    # The plain parser returns the same good rows.
    assert_frame_equal(parse_form_index(payload), good)


@pytest.mark.parametrize(
    "payload", [b"", b"<html><body>Request Rate Threshold Exceeded</body></html>", b"\x00\xff"]
)
def test_not_an_index_is_a_clear_error(payload: bytes) -> None:
    with pytest.raises(daily_index.DailyIndexError, match="not an EDGAR index"):
        parse_form_index(payload)


def test_header_only_index_is_empty() -> None:
    payload = SYNTHETIC_WIDE.split(b"10-K ")[0]
    good, rejects = parse_form_index_with_rejects(payload)
    assert good.height == 0 and rejects.height == 0 and good.schema == INDEX_SCHEMA


# --- business days, changed CIKs, refresh plans -----------------------------------------------


@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        # Friday 2020-03-13 -> Monday 2020-03-16: the weekend has no index.
        (date(2020, 3, 13), date(2020, 3, 16), [date(2020, 3, 16)]),
        (date(2020, 3, 12), date(2020, 3, 16), [date(2020, 3, 13), date(2020, 3, 16)]),
        (date(2020, 3, 14), date(2020, 3, 15), []),  # Saturday -> Sunday
        (date(2020, 3, 16), date(2020, 3, 16), []),  # nothing after `since`
        (date(2020, 3, 17), date(2020, 3, 16), []),  # clock went backwards
        # Holidays are not known: Christmas 2020 (a Friday) is listed, its index will be absent.
        (date(2020, 12, 24), date(2020, 12, 28), [date(2020, 12, 25), date(2020, 12, 28)]),
    ],
)
def test_business_days(since: date, until: date, expected: list[date]) -> None:
    assert business_days(since, until) == expected


def test_changed_ciks_picks_members_with_relevant_forms(
    form_payload: bytes, company_payload: bytes
) -> None:
    form_idx, company_idx = parse_form_index(form_payload), parse_company_index(company_payload)
    members = [
        40704,  # General Mills: 10-Q and 8-K on 2020-03-18
        885639,  # Kohl's: 10-K on 2020-03-18
        1845601,  # Iron Spark I: 10-K/A and two 10-Q/A on 2022-10-03
        927719,  # Delhi Bank Corp: only a 1-A POS, not relevant
        320193,  # Apple: nothing in either file
    ]
    # The form index is passed twice (a day read twice): filings must not double.
    changed = changed_ciks([form_idx, company_idx, form_idx], members)
    assert changed.schema == daily_index.CHANGED_SCHEMA
    assert changed.rows() == [
        (40704, ["10-Q", "8-K"], 2, date(2020, 3, 18)),
        (885639, ["10-K"], 1, date(2020, 3, 18)),
        (1845601, ["10-K/A", "10-Q/A"], 3, date(2022, 10, 3)),
    ]
    # Every relevant filer in the day's index, as counted on the text.
    everyone = set(form_idx["cik"].to_list())
    relevant_rows = [
        line for line in _rows_after_rule(form_payload) if line[:12].strip() in RELEVANT_FORMS
    ]
    all_changed = changed_ciks([form_idx], everyone)
    assert all_changed["filings"].sum() == len(relevant_rows)
    assert changed_ciks([form_idx], everyone, forms={"10-Q"})["cik"].to_list() == [
        40704, 773717, 1462047, 1556801, 1703625,  # form.20200318.idx lines 89-93
    ]


def test_changed_ciks_empty_inputs(form_payload: bytes) -> None:
    assert changed_ciks([], [40704]).height == 0
    assert changed_ciks([parse_form_index(form_payload)], []).height == 0
    assert changed_ciks([], []).schema == daily_index.CHANGED_SCHEMA


def test_relevant_forms_are_the_filings_that_change_companyfacts() -> None:
    assert {"10-K", "10-Q", "10-K/A", "10-Q/A", "8-K"} <= RELEVANT_FORMS
    assert "4" not in RELEVANT_FORMS and "SC 13G" not in RELEVANT_FORMS


MON, TUE, WED, FRI = date(2024, 3, 11), date(2024, 3, 12), date(2024, 3, 13), date(2024, 3, 15)


@pytest.mark.parametrize(
    ("kwargs", "mode", "days"),
    [
        # First run ever: everything, no index needed.
        ({"last_success": None, "today": TUE}, "full", ()),
        # The config flag forces a full refresh even with a recent success and sweep.
        ({"last_success": MON, "today": TUE, "last_sweep": MON, "force_full": True}, "full", ()),
        # Daily run: yesterday's index is re-read (it did not exist yet at yesterday's run),
        # today's is tried (absent until the evening; harmless).
        ({"last_success": MON, "today": TUE, "last_sweep": MON}, "incremental", (MON, TUE)),
        # Monday after a Friday run: the weekend adds nothing.
        (
            {"last_success": FRI, "today": date(2024, 3, 18), "last_sweep": WED},
            "incremental", (FRI, date(2024, 3, 18)),
        ),
        # A run twice the same day reads that day only.
        ({"last_success": TUE, "today": TUE, "last_sweep": MON}, "incremental", (TUE,)),
        # Weekly sweep: due 7 days after the last one, not before.
        ({"last_success": date(2024, 3, 17), "today": date(2024, 3, 18), "last_sweep": MON},
         "sweep", ()),
        ({"last_success": date(2024, 3, 16), "today": date(2024, 3, 17), "last_sweep": MON},
         "incremental", ()),
        # Never swept (e.g. state from an older version): sweep.
        ({"last_success": MON, "today": TUE}, "sweep", ()),
        # A long outage: a sweep is cheaper than reading months of indexes.
        ({"last_success": date(2023, 1, 2), "today": TUE, "last_sweep": MON,
          "sweep_every_days": 1000}, "sweep", ()),
    ],
)
def test_plan_refresh(kwargs: dict, mode: str, days: tuple[date, ...]) -> None:
    plan = plan_refresh(kwargs.pop("last_success"), kwargs.pop("today"), **kwargs)
    assert (plan.mode, plan.days) == (mode, days)
    assert plan.full_refresh == (mode == "full") and plan.sweep_due == (mode == "sweep")
    assert plan.reason
