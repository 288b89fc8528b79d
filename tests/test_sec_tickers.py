"""aiwatch.sec.tickers on SEC's real company_tickers.json (snapshot/, about May 2024), plus
synthetic (labelled) malformed payloads."""

from __future__ import annotations

import orjson
import polars as pl
import pytest
from conftest import SNAPSHOT_DIR

from aiwatch.sec import tickers
from aiwatch.sec.tickers import SCHEMA, TickersError

COMPANY_TICKERS = SNAPSHOT_DIR / "www.sec.gov" / "files" / "company_tickers.json"


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    return tickers.parse(COMPANY_TICKERS.read_bytes())


def test_one_row_per_entry_in_sec_order(frame: pl.DataFrame) -> None:
    entries = list(orjson.loads(COMPANY_TICKERS.read_bytes()).values())
    assert frame.schema == SCHEMA
    assert frame.height == len(entries) == 9610
    assert frame["ticker"].to_list() == [e["ticker"] for e in entries]
    assert frame["cik"].to_list() == [e["cik_str"] for e in entries]
    assert frame.null_count().row(0) == (0, 0, 0)


# CIKs as on each company's EDGAR filings (cover page / filer header).
MAG7 = [
    ("AAPL", 320193), ("MSFT", 789019), ("NVDA", 1045810), ("GOOGL", 1652044),
    ("GOOG", 1652044), ("AMZN", 1018724), ("META", 1326801), ("TSLA", 1318605),
]


@pytest.mark.parametrize(("ticker", "cik"), MAG7)
def test_magnificent_seven_tickers_map_to_their_cik(
    frame: pl.DataFrame, ticker: str, cik: int
) -> None:
    assert frame.filter(pl.col("ticker") == ticker)["cik"].to_list() == [cik]


def test_alphabet_has_two_tickers_one_cik(frame: pl.DataFrame) -> None:
    alphabet = frame.filter(pl.col("cik") == 1652044)
    assert sorted(alphabet["ticker"]) == ["GOOG", "GOOGL"]
    assert alphabet["title"].unique().to_list() == ["Alphabet Inc."]


# --- synthetic payloads (NOT SEC data) ---------------------------------------------------------

def test_synthetic_zero_padded_cik_string_and_missing_title() -> None:
    payload = b'{"0": {"cik_str": "0000000042", "ticker": "XX"}}'
    assert tickers.parse(payload).rows() == [(42, "XX", None)]


def test_synthetic_empty_payload_gives_empty_frame() -> None:
    assert tickers.parse(b"{}").schema == SCHEMA


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"<html>403</html>", "not valid JSON"),
        (b"[]", "object"),
        (b'{"0": {"ticker": "XX"}}', "cik_str"),
        (b'{"0": {"cik_str": "abc", "ticker": "XX"}}', "non-numeric"),
    ],
    ids=["not json", "a list", "no cik", "cik not numeric"],
)
def test_synthetic_bad_payload_raises(payload: bytes, message: str) -> None:
    with pytest.raises(TickersError, match=message):
        tickers.parse(payload)
