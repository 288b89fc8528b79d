"""SEC's `www.sec.gov/files/company_tickers.json` into a ticker → CIK frame.

The payload is `{"0": {"cik_str": 320193, "ticker": "AAPL", "title": "Apple Inc."}, ...}`, one
entry per listed ticker, so a CIK can appear more than once (Alphabet: GOOGL and GOOG). Rows keep
SEC's order (the numeric keys). It describes the day it was fetched: a ticker here is today's,
which is why S&P 500 history is matched on CIK, not on this map.
"""

from __future__ import annotations

import msgspec
import polars as pl

SCHEMA = pl.Schema({"cik": pl.Int64, "ticker": pl.Utf8, "title": pl.Utf8})


class TickersError(ValueError):
    """The payload is not SEC's company_tickers.json."""


class _Entry(msgspec.Struct):
    cik_str: int | str
    ticker: str
    title: str | None = None


_decode = msgspec.json.Decoder(dict[str, _Entry]).decode


def parse(payload: bytes) -> pl.DataFrame:
    """Parse company_tickers.json into one row per ticker: cik, ticker, title (`SCHEMA`)."""
    try:
        entries = _decode(payload)
    except msgspec.ValidationError as exc:
        raise TickersError(f"not a company_tickers.json payload: {exc}") from None
    except msgspec.DecodeError as exc:
        raise TickersError(f"company_tickers.json payload is not valid JSON: {exc}") from None
    # Keys are row numbers as text; dicts keep JSON order, which already is SEC's order.
    rows = list(entries.values())
    ciks = [e.cik_str for e in rows]
    bad = [c for c in ciks if not (isinstance(c, int) or c.isdigit())]
    if bad:
        raise TickersError(f"company_tickers.json has non-numeric cik_str values: {bad[:3]!r}")
    return pl.DataFrame(
        {
            "cik": [int(c) for c in ciks],
            "ticker": [e.ticker for e in rows],
            "title": [e.title for e in rows],
        },
        schema=SCHEMA,
    )
