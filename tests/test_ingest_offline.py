"""Offline runs replay the bundled snapshot through the live code path, and date what they
replay by the bundled copies, not by the day of the run."""

from __future__ import annotations

from datetime import date

import polars as pl

from aiwatch import ingest
from aiwatch.http import HttpClient
from aiwatch.settings import Settings
from aiwatch.warehouse import Warehouse


def test_offline_membership_is_dated_by_the_bundled_lists(settings: Settings) -> None:
    wh = Warehouse(settings)
    with HttpClient(settings) as client:
        ingest.load_sec_tickers(client, wh)
        result = ingest.load_sp500_membership(client, wh)
    assert result.rows > 1000
    with wh.writer() as con:
        members = con.sql("select * from raw.sp500_membership").pl()
    # constituents.csv (datasets/s-and-p-500-companies) is the commit of 2026-08-08 and the
    # fja05680 lists that of 2025-11-16 (snapshot/SOURCES.md); the newest list dates the table.
    assert set(members["as_of"].unique().to_list()) == {date(2026, 8, 8)}
    # A member dropped between the two lists ended at an unknown day: the newer list's date,
    # marked as an upper bound, never the day this test ran.
    bounded = members.filter(pl.col("end_date_basis") == "upper_bound")
    assert bounded.height > 0
    assert bounded["end_date"].max() <= date(2026, 8, 8)
