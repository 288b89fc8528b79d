"""FRED series as CSV (`fredgraph.csv`, no key): nominal GDP, information-processing investment,
the S&P 500 daily close. One parser for the three header dialects in circulation.

- `observation_date,<ID>`: fredgraph.csv as served today;
- `DATE,<ID>`: fredgraph.csv before about December 2024;
- `date,<ID>`: the fredapi/pandas exports bundled in snapshot/ (GDP, A679RC1Q027SBEA).

Missing observations (`.` in FRED's files, blank in pandas exports and on the SP500 series'
market holidays) are kept as rows with a NULL value: the row says FRED published the date
without a number, which a dropped row cannot say. Consumers filter `value IS NOT NULL`.
"""

from __future__ import annotations

import io

import polars as pl

FRED_SCHEMA: dict[str, pl.DataType] = {
    "series_id": pl.Utf8(),
    "date": pl.Date(),
    "value": pl.Float64(),
}

_DATE_COLUMNS = ("observation_date", "DATE", "date")

# The bundled copies (source `membership`, i.e. host raw.githubusercontent.com, where the files
# were published; commit-pinned paths, provenance in snapshot/SOURCES.md). Offline runs read
# these when the fredgraph URL itself is not in the snapshot.
BUNDLED_SOURCES: dict[str, tuple[str, str]] = {
    "GDP": (
        "membership",
        "/rmmomin/productivity-factor-shares/8a9caa21dc0662335e13e4fc0cbab594957a97bb/data/raw/GDP.csv",
    ),
    "A679RC1Q027SBEA": (
        "membership",
        "/aesco03/gdp-data-analysis/758e34924a8dafab0c06be2101136d9f56c84225/data/raw/fred/A679RC1Q027SBEA.csv",
    ),
    "SP500": (
        "membership",
        "/datasets/s-and-p-500/f23898667d8764ea9e8a641b0b41487437e33b39/archive/fred_sp500.csv",
    ),
}


class FredFormatError(ValueError):
    """The payload is not a FRED two-column CSV (an HTML error page, a changed header, bad rows)."""


def fredgraph_path(series_id: str) -> tuple[str, dict[str, str]]:
    """Path and query for one series' full history on fred.stlouisfed.org (the `fred` Source)."""
    if not series_id or not series_id.replace("_", "").isalnum():
        raise ValueError(f"not a FRED series id: {series_id!r}")
    return "/graph/fredgraph.csv", {"id": series_id}


def parse_fredgraph_csv(payload: bytes, series_id: str | None = None) -> pl.DataFrame:
    """Parse a FRED CSV into series_id, date, value (Float64, NULL where FRED has no number).

    The series id is the header of the value column; `series_id`, when given, must match it
    (a guard against a mislabelled file). Raises FredFormatError naming the line of the first
    unreadable date or value.
    """
    head = payload.lstrip()[:200].lower()
    if head.startswith((b"<!doctype", b"<html")):
        raise FredFormatError("FRED answered an HTML page, not CSV (unknown series or an outage)")
    frame = pl.read_csv(io.BytesIO(payload), infer_schema=False)
    if frame.width != 2 or frame.columns[0] not in _DATE_COLUMNS:
        raise FredFormatError(
            f"expected header '<{'|'.join(_DATE_COLUMNS)}>,<SERIES>', got {frame.columns}"
        )
    date_col, value_col = frame.columns
    if series_id is not None and value_col != series_id:
        raise FredFormatError(f"file holds series {value_col!r}, expected {series_id!r}")
    raw_value = pl.col(value_col).str.strip_chars()
    missing = raw_value.is_null() | raw_value.is_in([".", ""])
    parsed = frame.with_row_index("line", offset=2).select(
        "line",
        raw_date=pl.col(date_col),
        raw_value=pl.col(value_col),
        date=pl.col(date_col).str.strip_chars().str.to_date("%Y-%m-%d", strict=False),
        value=pl.when(missing).then(None).otherwise(raw_value).cast(pl.Float64, strict=False),
        missing=missing,
    )
    bad = parsed.filter(pl.col("date").is_null() | (pl.col("value").is_null() & ~pl.col("missing")))
    if bad.height:
        line, raw_date, raw_val = bad.select("line", "raw_date", "raw_value").row(0)
        raise FredFormatError(
            f"{value_col}: line {line} has an unreadable date or value "
            f"({raw_date!r}, {raw_val!r}); {bad.height} such line(s)"
        )
    return (
        parsed.select(series_id=pl.lit(value_col), date="date", value="value")
        .sort("date")
        .cast(FRED_SCHEMA)  # type: ignore[arg-type]
    )
