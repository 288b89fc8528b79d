"""Price payloads into one schema: Yahoo chart (synthetic fixture in Yahoo's exact layout), Stooq
CSV (synthetic), and the real bundled Yahoo-style CSV, whose split-adjusted closes are turned
back into the prices traded that day."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from aiwatch import prices
from aiwatch.seeds import SeedError
from aiwatch.settings import REPO_ROOT

FIXTURES = Path(__file__).parent / "fixtures" / "prices"
RAW = REPO_ROOT / "snapshot" / "raw.githubusercontent.com"


@pytest.fixture(scope="module")
def bundled() -> pl.DataFrame:
    source, path = prices.BUNDLED_SOURCES["NVDA"]
    assert source == "membership"
    return prices.parse_bundled_csv((RAW / path.lstrip("/")).read_bytes(), prices.load_splits())


def _close(frame: pl.DataFrame, symbol: str, day: date) -> float:
    return frame.filter((pl.col("symbol") == symbol) & (pl.col("date") == day))["close"].item()


def test_yahoo_chart_path() -> None:
    path, params = prices.yahoo_chart_path("^GSPC", date(2024, 6, 5), date(2024, 6, 11))
    assert path == "/v8/finance/chart/^GSPC"
    assert params == {
        "period1": "1717545600",  # 2024-06-05T00:00Z
        "period2": "1718150400",  # 2024-06-12T00:00Z: period2 is exclusive
        "interval": "1d",
        "events": "div,splits",
    }
    with pytest.raises(ValueError):
        prices.yahoo_chart_path("AAPL/../x", date(2024, 1, 1), date(2024, 1, 2))


def test_parse_yahoo_chart_split_nulls_dividend(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="aiwatch.prices"):
        frame = prices.parse_yahoo_chart((FIXTURES / "synthetic_yahoo_chart_split.json").read_bytes())
    assert "1 of 5 days without a close dropped" in caplog.text
    assert frame.schema == pl.Schema(prices.PRICE_SCHEMA)
    # Synthetic values: before the 10:1 split Yahoo's close is split-adjusted, so ×10 as traded.
    assert frame.select("date", "close", "volume", "split_ratio", "dividend").rows() == [
        (date(2024, 6, 5), 990.0, 400000, None, None),
        (date(2024, 6, 6), 1000.0, 450000, None, 0.01),
        (date(2024, 6, 10), 101.0, 5000000, 10.0, None),
        (date(2024, 6, 11), 100.5, 4800000, None, None),
    ]
    assert frame["adj_close"].to_list() == [98.99, 99.99, 101.0, 100.5]
    assert frame["symbol"].unique().to_list() == ["XSYN"]
    assert frame["source"].unique().to_list() == ["yahoo_chart"]


def test_yahoo_chart_error_is_raised_with_its_description() -> None:
    with pytest.raises(prices.PriceSourceError, match="No data found, symbol may be delisted"):
        prices.parse_yahoo_chart((FIXTURES / "synthetic_yahoo_chart_error.json").read_bytes())
    with pytest.raises(prices.PriceSourceError, match="not a Yahoo chart"):
        prices.parse_yahoo_chart(b"<html>Too Many Requests</html>")


def test_stooq_path_and_csv() -> None:
    assert prices.stooq_path("AAPL", None) == ("/q/d/l/", {"s": "aapl.us", "i": "d"})
    assert prices.stooq_path("BRK.B", "k")[1] == {"s": "brk-b.us", "i": "d", "apikey": "k"}
    splits = pl.DataFrame(
        {"symbol": ["XSYN"], "date": [date(2024, 6, 10)], "split_ratio": [10.0]}
    )  # synthetic split
    frame = prices.parse_stooq_csv(
        (FIXTURES / "synthetic_stooq_daily.csv").read_bytes(), "XSYN", splits
    )
    assert frame.select("date", "close", "volume", "split_ratio").rows() == [
        (date(2024, 6, 6), 1000.0, 450000, None),
        (date(2024, 6, 7), 1005.0, 470000, None),
        (date(2024, 6, 10), 101.0, 5000000, 10.0),
    ]


def test_stooq_html_page_says_to_set_the_key_and_never_shows_it() -> None:
    payload = (FIXTURES / "synthetic_stooq_no_key.html").read_bytes()
    with pytest.raises(prices.PriceSourceError, match="AIWATCH_STOOQ_API_KEY") as info:
        prices.parse_stooq_csv(payload, "AAPL")
    assert "secret-key-123" not in str(info.value)


@pytest.mark.parametrize(
    ("symbol", "day", "close"),
    [
        # As traded (Nasdaq closing prices): NVDA 1,208.88 on 2024-06-07, the last day before
        # its 10-for-1 split; 121.79 on 2024-06-10, the first day after. AAPL 499.23 on
        # 2020-08-28 before its 4-for-1 split, 129.04 on 2020-08-31.
        ("NVDA", date(2024, 6, 7), 1208.88),
        ("NVDA", date(2024, 6, 10), 121.79),
        ("AAPL", date(2020, 8, 28), 499.23),
        ("AAPL", date(2020, 8, 31), 129.04),
    ],
)
def test_bundled_closes_are_as_traded(bundled: pl.DataFrame, symbol: str, day: date, close: float) -> None:
    assert _close(bundled, symbol, day) == pytest.approx(close, abs=0.005)


def test_bundled_file_is_split_adjusted_as_shipped() -> None:
    # The raw file's NVDA close on 2024-06-07 is a tenth of the traded 1,208.88: Yahoo's close
    # is split-adjusted, which is why parse_bundled_csv needs the split table.
    _, path = prices.BUNDLED_SOURCES["NVDA"]
    raw = pl.read_csv(RAW / path.lstrip("/"))
    row = raw.filter((pl.col("ticker") == "NVDA") & (pl.col("date") == "2024-06-07"))
    assert row["close"].item() == pytest.approx(120.888, abs=0.001)


def test_bundled_shape(bundled: pl.DataFrame) -> None:
    assert bundled.schema == pl.Schema(prices.PRICE_SCHEMA)
    counts = dict(bundled.group_by("symbol").len().iter_rows())
    # shared/data/SOURCES.md: 11 symbols, 1,489 rows each, 2020-01-02 … 2025-12-03, no GOOG.
    assert counts == {s: 1489 for s in prices.BUNDLED_SOURCES}
    assert (bundled["date"].min(), bundled["date"].max()) == (date(2020, 1, 2), date(2025, 12, 3))
    # Every split in data/splits.csv inside the window is marked on its day.
    marked = bundled.filter(pl.col("split_ratio").is_not_null()).select("symbol", "date").rows()
    assert sorted(marked) == sorted(
        (s, d) for s, d in prices.load_splits().select("symbol", "date").rows() if s != "GOOG"
    )
    # MSFT never split in the window: untouched.
    assert bundled.filter(pl.col("symbol") == "MSFT")["split_ratio"].null_count() == 1489


def test_split_table_is_sourced(tmp_path: Path) -> None:
    bad = tmp_path / "splits.csv"
    bad.write_text("symbol,date,numerator,denominator,basis,source\nXSYN,2024-06-10,10,1,synthetic,\n")
    with pytest.raises(SeedError, match="line 2"):
        prices.load_splits(bad)
