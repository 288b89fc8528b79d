"""FRED CSV parsing: both fredgraph dialects (synthetic fixtures) and the real bundled series."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from aiwatch import fred
from aiwatch.settings import REPO_ROOT

FIXTURES = Path(__file__).parent / "fixtures" / "fred"
RAW = REPO_ROOT / "snapshot" / "raw.githubusercontent.com"


def _bundled(series_id: str) -> bytes:
    source, path = fred.BUNDLED_SOURCES[series_id]
    assert source == "membership"  # the raw.githubusercontent.com Source
    return (RAW / path.lstrip("/")).read_bytes()


def test_fredgraph_path() -> None:
    assert fred.fredgraph_path("GDP") == ("/graph/fredgraph.csv", {"id": "GDP"})
    with pytest.raises(ValueError, match="series id"):
        fred.fredgraph_path("GDP&x=1")


@pytest.mark.parametrize(
    ("fixture", "series_id", "rows"),
    [
        # Synthetic values in FRED's current layout.
        (
            "synthetic_fredgraph_observation_date.csv",
            "GDP",
            [(date(2024, 1, 1), 1000.5), (date(2024, 4, 1), 1010.25), (date(2024, 7, 1), None),
             (date(2024, 10, 1), 1030.0)],
        ),
        # Synthetic values in the pre-Dec-2024 layout, '.' on a market holiday.
        (
            "synthetic_fredgraph_DATE.csv",
            "SP500",
            [(date(2024, 7, 1), 100.01), (date(2024, 7, 2), 101.5), (date(2024, 7, 3), 102.0),
             (date(2024, 7, 4), None), (date(2024, 7, 5), 99.75)],
        ),
    ],
)
def test_both_fredgraph_dialects(fixture: str, series_id: str, rows: list[tuple[date, float | None]]) -> None:
    frame = fred.parse_fredgraph_csv((FIXTURES / fixture).read_bytes(), series_id)
    assert frame.schema == pl.Schema(fred.FRED_SCHEMA)
    assert frame["series_id"].unique().to_list() == [series_id]
    assert frame.select("date", "value").rows() == rows


@pytest.mark.parametrize(
    ("series_id", "day", "value"),
    [
        # BEA/FRED nominal GDP, $bn SAAR: 2025Q3 31,095.089, 2024Q4 29,825.182 (shared/data/SOURCES.md).
        ("GDP", date(2025, 7, 1), 31095.089),
        ("GDP", date(2024, 10, 1), 29825.182),
        # Private fixed investment in information processing equipment and software, 2024Q4.
        ("A679RC1Q027SBEA", date(2024, 10, 1), 1225.29),
        # S&P 500 closes published by S&P DJI: 2022-11-30 4,080.11; 2023-12-29 4,769.83.
        ("SP500", date(2022, 11, 30), 4080.11),
        ("SP500", date(2023, 12, 29), 4769.83),
    ],
)
def test_real_bundled_series(series_id: str, day: date, value: float) -> None:
    frame = fred.parse_fredgraph_csv(_bundled(series_id), series_id)
    assert frame.filter(pl.col("date") == day)["value"].to_list() == [value]


def test_real_blanks_are_null_rows() -> None:
    sp500 = fred.parse_fredgraph_csv(_bundled("SP500"))
    # fred_sp500.csv: 2,609 data lines, 95 blank (market holidays); 2016-02-15 was Presidents' Day.
    assert sp500.height == 2609
    assert sp500["value"].null_count() == 95
    assert sp500.filter(pl.col("date") == date(2016, 2, 15))["value"].to_list() == [None]
    gdp = fred.parse_fredgraph_csv(_bundled("GDP"), "GDP")
    assert (gdp.height, gdp["value"].null_count()) == (319, 4)  # 1946 has no quarterly figures
    assert gdp["date"].is_sorted()


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"<!DOCTYPE html><html>Error</html>", "HTML"),
        (b"when,GDP\n2024-01-01,1\n", "expected header"),
        (b"observation_date,GDP\n2024-01-01,1\n2024-13-01,2\n", "line 3"),
        (b"observation_date,GDP\n2024-01-01,n/a\n", "line 2"),
    ],
)
def test_bad_payloads_raise_with_a_reason(payload: bytes, message: str) -> None:
    with pytest.raises(fred.FredFormatError, match=message):
        fred.parse_fredgraph_csv(payload)


def test_series_id_mismatch() -> None:
    with pytest.raises(fred.FredFormatError, match="expected 'GDP'"):
        fred.parse_fredgraph_csv(_bundled("SP500"), "GDP")


@pytest.mark.parametrize("series_id", sorted(fred.BUNDLED_SOURCES))
def test_bundled_copies_replay_through_the_raw_cache(series_id: str) -> None:
    from aiwatch import rawcache

    _, path = fred.BUNDLED_SOURCES[series_id]
    cached = rawcache.read(REPO_ROOT / "snapshot", rawcache.cache_key("raw.githubusercontent.com", path))
    assert cached is not None and cached.meta["url"].endswith(path)
