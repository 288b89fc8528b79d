"""EDGAR daily indexes (`/Archives/edgar/daily-index/YYYY/QTRn/form.YYYYMMDD.idx`): what was filed.

Why. A daily run that refetched every member's companyfacts would make ~500 requests to learn
that a handful of companies filed. One small index per business day lists every filing
accepted that day; intersecting it with the member CIKs gives the few companies whose
companyfacts can have changed (`changed_ciks`). `plan_refresh` decides which days to read and
when to fall back to a full refresh or a weekly conditional sweep; the fetching loop lives in
`aiwatch.ingest`, which owns the HTTP client (these files are served by the `sec_www` source).

The files are fixed-width text: a few description lines, a header line, a dashed rule, then one
row per filing. `form.*.idx` is ordered Form Type, Company Name, CIK, Date Filed, File Name;
`company.*.idx` is ordered Company Name, Form Type, CIK, Date Filed, File Name. Parsing is
columnar (one regex over the whole column in Polars) and tolerant of layout drift:

- CIK, Date Filed and File Name are read from the right end of each row, by shape, so they do
  not depend on column offsets (the company index even breaks its header line in two: "CIK" on
  one line and "Date Filed  File Name" on the next, as in company.20221003.idx);
- the boundary between the first two columns (form type and company name, either order) comes
  from the header line, because company names contain runs of spaces and cannot be split on
  whitespace; names longer than their column are truncated by SEC, never spilled over;
- Date Filed is YYYYMMDD in daily indexes and YYYY-MM-DD in some other EDGAR indexes: both
  parse.

A row that does not fit is returned in a rejects frame with its line number and a reason, never
silently dropped (`parse_*_with_rejects`); the plain `parse_*` return the good rows and log the
rejects.

A day without an index (weekend, holiday, or today before SEC publishes it in the evening) is
answered 404, or 403 by www.sec.gov: that is absence, not an error (`INDEX_ABSENT_STATUSES`).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

log = logging.getLogger(__name__)

INDEX_SCHEMA = pl.Schema(
    {
        "form": pl.Utf8,
        "company": pl.Utf8,
        "cik": pl.Int64,
        "filed": pl.Date,
        "file_name": pl.Utf8,  # edgar/data/<cik>/<accession>.txt
        "accn": pl.Utf8,  # accession number, 0001193125-20-076112, as in companyfacts' `accn`
    }
)

REJECTS_SCHEMA = pl.Schema(
    {
        "line_no": pl.Int64,  # 1-based line number in the index file
        "line": pl.Utf8,
        "reason": pl.Utf8,
    }
)

CHANGED_SCHEMA = pl.Schema(
    {
        "cik": pl.Int64,
        "forms": pl.List(pl.Utf8),  # distinct relevant form types filed, sorted
        "filings": pl.UInt32,  # distinct accession numbers
        "last_filed": pl.Date,
    }
)

# Statuses with which SEC answers a day that has no index: not an error, just no filings.
INDEX_ABSENT_STATUSES = frozenset({403, 404})

# Forms after which a member's companyfacts (or the submissions list behind it) can change:
RELEVANT_FORMS = frozenset(
    {
        "10-K",  # annual report: the full-year facts and the Q4 derivation rest on it
        "10-Q",  # quarterly report: discrete and year-to-date quarter facts
        "10-K/A",  # amended annual report: restated facts, "latest filed wins"
        "10-Q/A",  # amended quarterly report: same
        "10-KT",  # transition-period annual report, filed when a company changes fiscal year
        "10-QT",  # transition-period quarterly report: same
        "8-K",  # current report: earnings releases, and some issuers attach XBRL to them
        "8-K/A",  # amended current report: same
    }
)

# Reject reasons.
BAD_LAYOUT = "bad_layout"  # no CIK, date and edgar/data/<cik>/<accession>.txt at the row's end
BAD_DATE = "bad_date"  # Date Filed has the right shape but is not a calendar date
COLUMN_OVERFLOW = "column_overflow"  # the first column runs into the second: split unknowable
MISSING_FORM = "missing_form"
MISSING_COMPANY = "missing_company"
ZERO_CIK = "zero_cik"

# Offsets in the layout SEC has used since at least 2011 (form.20200318.idx,
# company.20221003.idx): used only when a header line cannot be found.
_DEFAULT_SPLIT = {"form": 12, "company": 62}

_RULE_PREFIX = "-" * 20
# Anchored at the end: the prefix (first two columns) is whatever precedes the last three.
_ROW_PATTERN = (
    r"^(?P<prefix>.*?)\s+(?P<cik>\d{1,10})\s+(?P<filed>\d{8}|\d{4}-\d{2}-\d{2})\s+"
    r"(?P<file_name>edgar/data/\d{1,10}/(?P<accn>\d{10}-\d{2}-\d{6})\.txt)$"
)


class DailyIndexError(ValueError):
    """The payload is not an EDGAR index at all (no dashed rule under a header)."""


def index_path(day: date, kind: str = "form") -> str:
    """URL path (on www.sec.gov) of one day's `form` or `company` index."""
    if kind not in _DEFAULT_SPLIT:
        raise ValueError(f"index kind must be 'form' or 'company', not {kind!r}")
    quarter = (day.month - 1) // 3 + 1
    return f"/Archives/edgar/daily-index/{day.year}/QTR{quarter}/{kind}.{day:%Y%m%d}.idx"


def form_index_path(day: date) -> str:
    """`/Archives/edgar/daily-index/YYYY/QTRn/form.YYYYMMDD.idx` for `day` (source `sec_www`)."""
    return index_path(day, "form")


def company_index_path(day: date) -> str:
    """`/Archives/edgar/daily-index/YYYY/QTRn/company.YYYYMMDD.idx` for `day`."""
    return index_path(day, "company")


def _decode(payload: bytes) -> str:
    # SEC writes these files in ASCII; a stray Latin-1 byte in a name must not lose the file.
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        return payload.decode("latin-1")


def _split_offset(header_lines: list[str], first: str, second: str) -> int | None:
    """Offset where column `second` starts, from the header line that begins with `first`."""
    for line in header_lines:
        if line.lstrip().startswith(first) and second in line:
            return line.index(second)
    return None


def _parse(payload: bytes, first_col: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Parse an index whose first column is `first_col` ("form" or "company")."""
    lines = _decode(payload).splitlines()
    # The rule sits under the header, a dozen lines in; look a little further for safety.
    rule_at = next((i for i, line in enumerate(lines[:100]) if line.startswith(_RULE_PREFIX)), None)
    if rule_at is None:
        raise DailyIndexError("not an EDGAR index: no dashed rule under a header")
    second_col = "company" if first_col == "form" else "form"
    titles = {"form": "Form Type", "company": "Company Name"}
    split = _split_offset(lines[:rule_at], titles[first_col], titles[second_col])
    if split is None:
        split = _DEFAULT_SPLIT[first_col]
        log.warning("EDGAR index header not found; assuming column split at %d", split)

    body = pl.DataFrame(
        {
            "line_no": pl.int_range(rule_at + 2, len(lines) + 1, eager=True, dtype=pl.Int64),
            "line": pl.Series(lines[rule_at + 1 :], dtype=pl.Utf8),
        }
    ).filter(pl.col("line").str.strip_chars() != "")

    prefix = pl.col("prefix")
    first = prefix.str.slice(0, split).str.strip_chars()
    second = prefix.str.slice(split).str.strip_chars()
    filed = pl.coalesce(
        pl.col("filed").str.to_date("%Y%m%d", strict=False),
        pl.col("filed").str.to_date("%Y-%m-%d", strict=False),
    )
    parsed = body.with_columns(
        pl.col("line").str.strip_chars_end().str.extract_groups(_ROW_PATTERN).alias("g")
    ).unnest("g")
    parsed = parsed.with_columns(
        first.alias(first_col),
        second.alias(second_col),
        pl.col("cik").cast(pl.Int64),
        filed.alias("filed_date"),
    )
    # First reason found wins; the order goes from "cannot read the row" to "one field is off".
    reason = (
        pl.when(pl.col("file_name").is_null())
        .then(pl.lit(BAD_LAYOUT))
        .when(pl.col("filed_date").is_null())
        .then(pl.lit(BAD_DATE))
        # A character right before the split and right after it: the first column spilled over.
        .when(
            (prefix.str.len_chars() > split)
            & (prefix.str.slice(split - 1, 1) != " ")
            & (prefix.str.slice(split, 1) != " ")
        )
        .then(pl.lit(COLUMN_OVERFLOW))
        .when(pl.col("form").fill_null("") == "")
        .then(pl.lit(MISSING_FORM))
        .when(pl.col("company").fill_null("") == "")
        .then(pl.lit(MISSING_COMPANY))
        .when(pl.col("cik") == 0)
        .then(pl.lit(ZERO_CIK))
        .otherwise(pl.lit(None, dtype=pl.Utf8))
        .alias("reason")
    )
    parsed = parsed.with_columns(reason)
    good = parsed.filter(pl.col("reason").is_null()).select(
        "form", "company", "cik", pl.col("filed_date").alias("filed"), "file_name", "accn"
    )
    rejects = parsed.filter(pl.col("reason").is_not_null()).select(REJECTS_SCHEMA.names())
    return good.cast(INDEX_SCHEMA), rejects.cast(REJECTS_SCHEMA)


def parse_form_index_with_rejects(payload: bytes) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`form.YYYYMMDD.idx` bytes -> (filings in `INDEX_SCHEMA`, rejects in `REJECTS_SCHEMA`).

    Raises `DailyIndexError` if the payload is not an index at all (e.g. an HTML error page).
    """
    return _parse(payload, "form")


def parse_company_index_with_rejects(payload: bytes) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`company.YYYYMMDD.idx` bytes -> (filings, rejects); same frames as the form index."""
    return _parse(payload, "company")


def _good_logging_rejects(good: pl.DataFrame, rejects: pl.DataFrame) -> pl.DataFrame:
    if rejects.height:
        log.warning(
            "EDGAR index: %d rows rejected (%s)",
            rejects.height,
            ", ".join(f"{r}: {n}" for r, n in rejects["reason"].value_counts().iter_rows()),
        )
    return good


def parse_form_index(payload: bytes) -> pl.DataFrame:
    """`form.YYYYMMDD.idx` bytes -> filings (`INDEX_SCHEMA`); rejected rows are logged."""
    return _good_logging_rejects(*parse_form_index_with_rejects(payload))


def parse_company_index(payload: bytes) -> pl.DataFrame:
    """`company.YYYYMMDD.idx` bytes -> filings (`INDEX_SCHEMA`); rejected rows are logged."""
    return _good_logging_rejects(*parse_company_index_with_rejects(payload))


def business_days(since: date, until: date) -> list[date]:
    """Weekdays after `since`, up to and including `until` (empty when `until <= since`).

    Holidays are not known here on purpose: a holiday's index is simply absent (404/403), which
    costs one request and keeps us free of a holiday calendar that could be wrong.
    """
    days = []
    day = since + timedelta(days=1)
    while day <= until:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def changed_ciks(
    indexes: Iterable[pl.DataFrame],
    members: Collection[int],
    forms: Collection[str] = RELEVANT_FORMS,
) -> pl.DataFrame:
    """Member CIKs with relevant filings in `indexes` (parsed daily indexes), one row each.

    Columns `CHANGED_SCHEMA`: cik, forms (distinct, sorted), filings (distinct accessions, so a
    day read twice or in both the form and company index counts once), last_filed. Sorted by
    cik. These are the companies whose companyfacts/submissions to refetch.
    """
    frames = [f.select("cik", "form", "filed", "accn") for f in indexes]
    if not frames or not members:
        return pl.DataFrame(schema=CHANGED_SCHEMA)
    filings = (
        pl.concat(frames)
        .filter(pl.col("cik").is_in(list(members)) & pl.col("form").is_in(list(forms)))
        .unique(["cik", "accn", "form"])
    )
    return (
        filings.group_by("cik")
        .agg(
            pl.col("form").unique().sort().alias("forms"),
            pl.col("accn").n_unique().cast(pl.UInt32).alias("filings"),
            pl.col("filed").max().alias("last_filed"),
        )
        .sort("cik")
        .cast(CHANGED_SCHEMA)  # type: ignore[arg-type]
    )


@dataclass(frozen=True)
class RefreshPlan:
    """What a daily SEC run should fetch. Exactly one of three modes:

    - `full`: no earlier success (or forced): fetch every member; `days` is empty;
    - `sweep`: a conditional request (ETag / Last-Modified) for every member, which catches
      whatever an index missed; `days` is empty because the sweep covers them;
    - `incremental`: read the daily index of each of `days`, refetch only `changed_ciks`.
    """

    days: tuple[date, ...]
    full_refresh: bool
    sweep_due: bool
    reason: str

    @property
    def mode(self) -> str:
        if self.full_refresh:
            return "full"
        return "sweep" if self.sweep_due else "incremental"


def plan_refresh(
    last_success: date | None,
    today: date,
    *,
    last_sweep: date | None = None,
    sweep_every_days: int = 7,
    force_full: bool = False,
    max_index_days: int = 60,
) -> RefreshPlan:
    """Decide a run's SEC refresh from the day of the last successful run and of the last sweep.

    `last_success`: day of the last run that completed (None: never). `last_sweep`: day of the
    last full refresh or conditional sweep (None: never, so one is due). `today`: the run's day
    in EDGAR's calendar (US Eastern; UTC is fine, see below).

    The days read run from `last_success` itself, not the day after, through `today`: a run
    in the morning sees today's index absent (SEC publishes it in the evening), so the last
    run's own day is read again once it is complete. This also absorbs a one-day skew between
    UTC and Eastern dates. One extra small file per run is the price.

    Past `max_index_days` business days, a sweep is cheaper than reading that many indexes.
    """
    if force_full:
        return RefreshPlan((), True, False, "full refresh requested")
    if last_success is None:
        return RefreshPlan((), True, False, "no earlier successful run")
    if last_sweep is None or (today - last_sweep).days >= sweep_every_days:
        since = "never" if last_sweep is None else last_sweep.isoformat()
        return RefreshPlan((), False, True, f"conditional sweep due (last sweep: {since})")
    days = tuple(business_days(last_success - timedelta(days=1), today))
    if len(days) > max_index_days:
        return RefreshPlan(
            (), False, True, f"{len(days)} business days since last success: sweep instead"
        )
    return RefreshPlan(days, False, False, f"{len(days)} daily indexes since {last_success}")
