"""A small S&P universe for fast end-to-end tests: the bundled snapshot (REAL responses) with
the membership CSVs cut down to a few tickers, so a run asks for ~10 companies, not ~600.

The cut lists are a test device, not data: rows are dropped, none is changed or added."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

from conftest import SNAPSHOT_DIR

MEMBERSHIP_FILES = {
    "constituents.csv", "sp500.csv", "sp500_ticker_start_end.csv", "sp500_changes_since_2019.csv"
}
TICKERS = ("AAPL", "MSFT", "NVDA", "GOOGL", "GOOG", "AMZN", "META", "FB", "TSLA", "MRVL", "NFLX")


def small_docroot(root: Path, tickers: tuple[str, ...] = TICKERS) -> Path:
    """Copy of snapshot/ with the membership CSVs filtered to `tickers`."""
    for path in SNAPSHOT_DIR.rglob("*"):
        if path.is_dir():
            continue
        target = root / path.relative_to(SNAPSHOT_DIR)
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.name in MEMBERSHIP_FILES:
            target.write_text(_filtered(path.read_text(), set(tickers)))
        elif not path.name.endswith(".meta.json"):
            # A copy, not a link: the server refuses paths that resolve outside its root.
            shutil.copyfile(path, target)
    return root


def _filtered(text: str, tickers: set[str]) -> str:
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    keep = [r for r in body if set(r) & tickers]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *keep])
    return out.getvalue()

