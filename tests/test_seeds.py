"""Seed files: every row sourced, CIKs as in SEC's company_tickers.json (bundled snapshot)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aiwatch.seeds import SeedError, load_seed
from aiwatch.settings import REPO_ROOT

DATA = REPO_ROOT / "data"
MAG7 = {
    "AAPL": 320193, "MSFT": 789019, "NVDA": 1045810, "GOOGL": 1652044, "GOOG": 1652044,
    "AMZN": 1018724, "META": 1326801, "TSLA": 1318605,
}


def _sec_ciks() -> dict[str, int]:
    raw = json.loads((REPO_ROOT / "snapshot/www.sec.gov/files/company_tickers.json").read_bytes())
    return {v["ticker"]: v["cik_str"] for v in raw.values()}


def test_mag7_seed() -> None:
    seed = load_seed(DATA / "mag7.csv")
    assert dict(zip(seed["ticker"], map(int, seed["cik"]), strict=True)) == MAG7
    assert seed["cik"].cast(int).n_unique() == 7  # Alphabet: two tickers, one company


@pytest.mark.parametrize("name", ["mag7", "hyperscalers", "ai_basket", "splits"])
def test_every_seed_row_has_a_source_and_sec_cik(name: str) -> None:
    seed = load_seed(DATA / f"{name}.csv")
    assert seed["source"].str.starts_with("https://").all()
    if "cik" in seed.columns:
        sec = _sec_ciks()
        assert {t: sec[t] for t in seed["ticker"]} == dict(
            zip(seed["ticker"], map(int, seed["cik"]), strict=True)
        )


def test_ai_basket_holds_the_mag7() -> None:
    seed = load_seed(DATA / "ai_basket.csv")
    assert set(MAG7) <= set(seed["ticker"])
    assert set(seed["basis"]) == {"mag7", "approximation"}
    assert seed["reason"].str.len_chars().min() > 10


def test_row_without_source_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "seed.csv"
    path.write_text("ticker,cik,source\nAAA,1,https://example.org/a\nBBB,2,\n")  # synthetic
    with pytest.raises(SeedError, match=r"line 3 has no source.*BBB"):
        load_seed(path)
    path.write_text("ticker,cik\nAAA,1\n")
    with pytest.raises(SeedError, match="no 'source' column"):
        load_seed(path)
