"""EDGAR submissions (`data.sec.gov/submissions/CIK##########.json`) into a filing index frame.

Two payload shapes share one parser: the main page (company header plus the columnar
`filings.recent`, the newest ~1,000 filings) and its overflow pages
(`CIK##########-submissions-001.json`, the same columnar dict at the top level and no company
header). `overflow_pages` lists the latter with their date ranges so a caller fetches only the
pages that reach into its analysis window. The payloads are small (~150 KB); msgspec decodes
the columns straight into lists, which Polars takes whole.

Why this table matters: it ties each accession to its form and filing date, and carries the
company's fiscal year end ('MMDD'), which fiscal-period labelling needs.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
import polars as pl

SCHEMA = pl.Schema(
    {
        "cik": pl.Int64,
        "accn": pl.Utf8,
        "form": pl.Utf8,
        "filed": pl.Date,  # filingDate
        "report_date": pl.Date,  # reportDate, the period the filing covers; null where SEC has ''
        "acceptance_datetime": pl.Datetime("us", "UTC"),
        "fiscal_year_end": pl.Utf8,  # 'MMDD' from the company header; null on overflow pages
        "is_xbrl": pl.Boolean,
        "primary_document": pl.Utf8,
    }
)


class SubmissionsError(ValueError):
    """The payload is not an EDGAR submissions document (main page or overflow page)."""


class _Columns(msgspec.Struct):
    """`filings.recent` and overflow pages: one list per field, all the same length."""

    accessionNumber: list[str]  # SEC's keys, kept as spelled
    filingDate: list[str]
    form: list[str]
    reportDate: list[str | None] | None = None
    acceptanceDateTime: list[str | None] | None = None
    isXBRL: list[int | bool | None] | None = None
    primaryDocument: list[str | None] | None = None


class _File(msgspec.Struct):
    name: str
    filingFrom: date
    filingTo: date
    filingCount: int | None = None


class _Filings(msgspec.Struct):
    recent: _Columns
    files: list[_File] = []


class _Page(msgspec.Struct):
    """Either shape: the main page has `cik` and `filings`, an overflow page the columns."""

    cik: int | str | None = None
    name: str | None = None
    tickers: list[str] = []
    exchanges: list[str | None] = []
    fiscalYearEnd: str | None = None
    sic: str | None = None
    sicDescription: str | None = None
    filings: _Filings | None = None
    # Overflow page columns (same as _Columns, at the top level).
    accessionNumber: list[str] | None = None
    filingDate: list[str] | None = None
    form: list[str] | None = None
    reportDate: list[str | None] | None = None
    acceptanceDateTime: list[str | None] | None = None
    isXBRL: list[int | bool | None] | None = None
    primaryDocument: list[str | None] | None = None


_decode = msgspec.json.Decoder(_Page).decode


def parse(
    payload: bytes, cik: int | None = None, fiscal_year_end: str | None = None
) -> pl.DataFrame:
    """Parse a submissions main page or overflow page into one row per filing (`SCHEMA`).

    `cik` is required for overflow pages, which do not carry it; on a main page it must match
    the payload's. `fiscal_year_end` ('MMDD') fills the column on overflow pages if given.
    """
    page = _page(payload)
    if page.filings is not None:
        columns = page.filings.recent
        page_cik = _cik(page.cik)
        if cik is not None and cik != page_cik:
            raise SubmissionsError(f"submissions payload is CIK {page_cik}, not the expected {cik}")
        cik = page_cik
        fiscal_year_end = page.fiscalYearEnd or fiscal_year_end
    elif page.accessionNumber is not None:
        if page.filingDate is None or page.form is None:
            raise SubmissionsError("submissions overflow page lacks filingDate or form")
        columns = _Columns(
            page.accessionNumber, page.filingDate, page.form, page.reportDate,
            page.acceptanceDateTime, page.isXBRL, page.primaryDocument,
        )
        if page.cik is not None:
            cik = _cik(page.cik)
        if cik is None:
            raise SubmissionsError("submissions overflow page has no cik: pass parse(..., cik=)")
    else:
        raise SubmissionsError("not a submissions payload: neither `filings` nor `accessionNumber`")
    if fiscal_year_end is not None and not _is_mmdd(fiscal_year_end):
        raise SubmissionsError(f"fiscal year end is not MMDD: {fiscal_year_end!r}")
    try:
        return _frame(cik, columns, fiscal_year_end)
    except pl.exceptions.PolarsError as exc:  # an unparseable date, mostly
        message = " ".join(str(exc).split())
        raise SubmissionsError(f"submissions CIK {cik}: {message[:300]}") from None


def overflow_pages(payload: bytes) -> list[dict[str, Any]]:
    """The main page's `filings.files[]`: name, filingCount, filingFrom and filingTo (dates).

    An overflow page, or a company with all filings in `recent`, has none: [].
    """
    page = _page(payload)
    if page.filings is None:
        return []
    return [
        {
            "name": f.name,
            "filingCount": f.filingCount,
            "filingFrom": f.filingFrom,
            "filingTo": f.filingTo,
        }
        for f in page.filings.files
    ]


def company(payload: bytes) -> dict[str, Any]:
    """The main page's company header: cik, name, tickers, exchanges, fiscal_year_end, sic."""
    page = _page(payload)
    if page.filings is None:
        raise SubmissionsError("an overflow page has no company header")
    return {
        "cik": _cik(page.cik),
        "name": page.name,
        "tickers": list(page.tickers),
        "exchanges": list(page.exchanges),
        "fiscal_year_end": page.fiscalYearEnd or None,
        "sic": page.sic or None,
        "sic_description": page.sicDescription or None,
    }


def _page(payload: bytes) -> _Page:
    try:
        return _decode(payload)
    except msgspec.ValidationError as exc:
        raise SubmissionsError(f"not a submissions payload: {exc}") from None
    except msgspec.DecodeError as exc:
        raise SubmissionsError(f"submissions payload is not valid JSON: {exc}") from None


def _cik(value: int | str | None) -> int:
    # SEC writes the zero-padded string here (companyfacts has an int).
    if isinstance(value, int) and value > 0:
        return value
    if isinstance(value, str) and value.isdigit() and int(value) > 0:
        return int(value)
    raise SubmissionsError(f"submissions payload has an invalid cik: {value!r}")


def _is_mmdd(value: str) -> bool:
    return len(value) == 4 and value.isdigit() and 1 <= int(value[:2]) <= 12


def _frame(cik: int, columns: _Columns, fiscal_year_end: str | None) -> pl.DataFrame:
    n = len(columns.accessionNumber)
    optional = {
        "reportDate": columns.reportDate,
        "acceptanceDateTime": columns.acceptanceDateTime,
        "isXBRL": columns.isXBRL,
        "primaryDocument": columns.primaryDocument,
    }
    lengths = {
        "filingDate": len(columns.filingDate),
        "form": len(columns.form),
        **{k: len(v) for k, v in optional.items() if v is not None},
    }
    uneven = {k: v for k, v in lengths.items() if v != n}
    if uneven:
        raise SubmissionsError(f"submissions columns differ in length from {n} accessions: {uneven}")
    none = [None] * n
    raw = pl.DataFrame(
        {
            "accn": columns.accessionNumber,
            "form": columns.form,
            "filed": columns.filingDate,
            "report_date": columns.reportDate or none,
            "acceptance_datetime": columns.acceptanceDateTime or none,
            "is_xbrl": columns.isXBRL or none,
            "primary_document": columns.primaryDocument or none,
        },
        schema={
            "accn": pl.Utf8, "form": pl.Utf8, "filed": pl.Utf8, "report_date": pl.Utf8,
            "acceptance_datetime": pl.Utf8, "is_xbrl": pl.Int8, "primary_document": pl.Utf8,
        },
        strict=False,  # isXBRL is 0/1 in SEC's JSON; a true/false would be accepted too
    )
    frame = raw.with_columns(
        pl.lit(cik, dtype=pl.Int64).alias("cik"),
        pl.col("filed").str.to_date("%Y-%m-%d"),
        # SEC writes '' where a filing has no report date (Forms 3/4, many 8-Ks).
        pl.col("report_date").replace("", None).str.to_date("%Y-%m-%d"),
        pl.col("acceptance_datetime")
        .replace("", None)
        .str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", time_unit="us")
        .dt.replace_time_zone("UTC"),
        pl.lit(fiscal_year_end, dtype=pl.Utf8).alias("fiscal_year_end"),
        pl.col("is_xbrl").cast(pl.Boolean),
        pl.col("primary_document").replace("", None),
    )
    return frame.select(SCHEMA.names()).cast(dict(SCHEMA))
