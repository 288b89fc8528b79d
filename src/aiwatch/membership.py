"""S&P 500 membership, point in time: who was in the index on which day, and their CIK.

No single free source gives the full history with CIKs, so three are combined:

- fja05680/sp500 `sp500_ticker_start_end.csv`: one interval per ticker and stint (the base);
- fja05680/sp500 `sp500_changes_since_2019.csv`: dated adds/removes, which run past the
  intervals file's last refresh and are applied on top of it;
- current constituents lists (datasets/s-and-p-500-companies `constituents.csv`, fja05680
  `sp500.csv`), each with an as-of date: they confirm open intervals, add members the history
  lacks, close intervals whose ticker left unnoticed, and carry the most reliable ticker→CIK map.

The result is the `raw.sp500_membership` table. Conventions (also in data/README.md):

- `ticker` is the S&P/Wikipedia spelling with a dot for share classes (`BRK.B`, `BF.B`); SEC
  and Yahoo write `BRK-B`, so every join goes through `normalize_ticker`.
- `start_date` is the first day in the index; `end_date` the removal date (the first day
  out, which is also the day the replacement starts), NULL while still a member at `as_of`.
- `end_date_basis`: `reported` when a source dates the removal; `upper_bound` when a ticker open
  in older data is missing from a newer constituents list: it left on an unknown day between
  the two as-of dates, and we record the later one rather than guess a day.
- `start_date_basis`: `reported` (intervals or changes file), `date_added` (a constituents
  list's "Date added", used when it is later than everything else we knew), or `list_as_of`
  (the list's date: the ticker is new to us but its "Date added" predates what we knew, which
  in practice is a ticker change such as MMC→MRSH; its CIK keeps the company continuous).
- `cik_source`: `constituents` (a list carrying the ticker while the interval was open),
  `sec_tickers` (SEC company_tickers.json, whose tickers describe its own date and can have
  been reused since: hence second), `rename` (the old ticker of a same-day rename whose new
  ticker has a constituents CIK, e.g. FB→META), or NULL (unmapped, counted in the log).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

log = logging.getLogger(__name__)

_GITHUB_RAW = "https://raw.githubusercontent.com"

# Where the lists live (host `raw.githubusercontent.com`, the `membership` Source). The snapshot
# keeps these branch paths, so a live run fetches the newest versions; each bundled copy's
# `.meta.json` carries its commit date as Last-Modified, the list's as-of date offline.
CONSTITUENTS_PATH = "/datasets/s-and-p-500-companies/main/data/constituents.csv"
FJA_CURRENT_PATH = "/fja05680/sp500/master/sp500.csv"
INTERVALS_PATH = "/fja05680/sp500/master/sp500_ticker_start_end.csv"
CHANGES_PATH = "/fja05680/sp500/master/sp500_changes_since_2019.csv"

MEMBERSHIP_SCHEMA: dict[str, pl.DataType] = {
    "ticker": pl.Utf8(),
    "cik": pl.Int64(),
    "name": pl.Utf8(),
    "start_date": pl.Date(),
    "end_date": pl.Date(),
    "start_date_basis": pl.Utf8(),
    "end_date_basis": pl.Utf8(),
    "as_of": pl.Date(),
    "cik_source": pl.Utf8(),
    "renamed_to": pl.Utf8(),
    "source": pl.Utf8(),
}

REJECTS_SCHEMA: dict[str, pl.DataType] = {
    "line": pl.Int64(),
    "record": pl.Utf8(),
    "reason": pl.Utf8(),
}

# Tickers that SEC's company_tickers.json now gives to a different company than the index member
# that used them (seen by comparing its titles with index history): HCP was HCP Inc. (now
# Healthpeak), not HashiCorp; STI was SunTrust Banks (merged into Truist), not Solidion. Closed
# intervals of these tickers get no CIK from that file; the list grows as reuse is found.
SEC_TICKER_REUSED: frozenset[str] = frozenset({"HCP", "STI"})

_DATE_FORMAT = "%Y-%m-%d"
# A CIK is at most ten digits (SEC pads to ten in URLs).
_CIK_PATTERN = r"^\d{1,10}$"


class MembershipFormatError(ValueError):
    """A membership file lacks the columns its parser needs (a format change, not a bad row)."""


def normalize_ticker(ticker: pl.Expr) -> pl.Expr:
    """Canonical ticker: upper case, trimmed, share classes with a dot (`BRK-B`, `brk/b` → `BRK.B`)."""
    return ticker.str.strip_chars().str.to_uppercase().str.replace_all(r"[-/]", ".")


def _read_strings(payload: bytes, required: Sequence[str], what: str) -> pl.DataFrame:
    frame = pl.read_csv(io.BytesIO(payload), infer_schema=False)
    frame = frame.with_columns(pl.all().fill_null(""))
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise MembershipFormatError(
            f"{what}: missing column(s) {missing}; header is {frame.columns}"
        )
    # Line 1 is the header; valid while no quoted field spans lines (none does in these files).
    return frame.with_row_index("line", offset=2).with_columns(pl.col("line").cast(pl.Int64))


def _bad_date(column: str, label: str, *, required: bool) -> pl.Expr:
    raw = pl.col(column).str.strip_chars()
    parsed = raw.str.to_date(_DATE_FORMAT, strict=False)
    bad = parsed.is_null() & (raw != "") if not required else parsed.is_null()
    return pl.when(bad).then(pl.format(f"bad {label} '{{}}'", raw))


def _split_rejects(
    frame: pl.DataFrame, checks: list[pl.Expr], columns: Sequence[str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows with any failed check go to the rejects frame with every reason joined by '; '."""
    reasons = pl.concat_list(checks).list.drop_nulls().list.join("; ")
    record = pl.concat_str([pl.col(c) for c in columns], separator=",")
    flagged = frame.with_columns(reason=reasons, record=record)
    rejects = flagged.filter(pl.col("reason") != "").select(REJECTS_SCHEMA.keys())
    good = flagged.filter(pl.col("reason") == "").drop("reason", "record")
    for row in rejects.head(5).iter_rows(named=True):
        log.warning("quarantined line %s: %s (%s)", row["line"], row["reason"], row["record"])
    return good, rejects.cast(REJECTS_SCHEMA)  # type: ignore[arg-type]


def parse_constituents(payload: bytes) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Parse a Wikipedia-style constituents CSV (Symbol, Security, Date added, CIK, ...).

    Returns `(good, rejects)`: good has ticker, name, date_added (Date, nullable), cik (Int64);
    a row with a missing/non-numeric CIK, an unreadable "Date added" or no symbol is quarantined
    in rejects (line, record, reason) rather than failing the whole list.
    """
    cols = ["Symbol", "Security", "Date added", "CIK"]
    frame = _read_strings(payload, cols, "constituents")
    cik = pl.col("CIK").str.strip_chars()
    checks = [
        pl.when(pl.col("Symbol").str.strip_chars() == "").then(pl.lit("missing symbol")),
        pl.when(~cik.str.contains(_CIK_PATTERN) | (cik.str.replace(r"^0+", "") == ""))
        .then(pl.format("bad CIK '{}'", cik)),
        _bad_date("Date added", "date_added", required=False),
    ]
    good, rejects = _split_rejects(frame, checks, cols)
    good = good.select(
        ticker=normalize_ticker(pl.col("Symbol")),
        name=pl.col("Security").str.strip_chars(),
        date_added=pl.col("Date added").str.strip_chars().str.to_date(_DATE_FORMAT, strict=False),
        cik=pl.col("CIK").str.strip_chars().cast(pl.Int64),
    )
    return good, rejects


def parse_intervals(payload: bytes) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Parse fja05680's `ticker,start_date,end_date` (empty end = still a member).

    Returns `(good, rejects)`; rejected: no ticker, unreadable dates, end before start.
    """
    cols = ["ticker", "start_date", "end_date"]
    frame = _read_strings(payload, cols, "intervals")
    start = pl.col("start_date").str.strip_chars().str.to_date(_DATE_FORMAT, strict=False)
    end = pl.col("end_date").str.strip_chars().str.to_date(_DATE_FORMAT, strict=False)
    checks = [
        pl.when(pl.col("ticker").str.strip_chars() == "").then(pl.lit("missing ticker")),
        _bad_date("start_date", "start_date", required=True),
        _bad_date("end_date", "end_date", required=False),
        pl.when(end < start).then(pl.lit("end_date before start_date")),
    ]
    good, rejects = _split_rejects(frame, checks, cols)
    good = good.select(ticker=normalize_ticker(pl.col("ticker")), start_date=start, end_date=end)
    return good, rejects


def parse_changes(payload: bytes) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Parse fja05680's `date,add,remove` (each cell a comma-separated ticker list, maybe empty).

    Returns `(good, rejects)`; good is long: date, ticker, action ('add' | 'remove'), line.
    """
    cols = ["date", "add", "remove"]
    frame = _read_strings(payload, cols, "changes")
    checks = [
        _bad_date("date", "date", required=True),
        pl.when((pl.col("add").str.strip_chars() == "") & (pl.col("remove").str.strip_chars() == ""))
        .then(pl.lit("neither add nor remove")),
    ]
    good, rejects = _split_rejects(frame, checks, cols)
    long = (
        good.with_columns(pl.col("date").str.strip_chars().str.to_date(_DATE_FORMAT))
        .unpivot(index=["line", "date"], on=["add", "remove"], variable_name="action")
        .with_columns(ticker=pl.col("value").str.split(","))
        .explode("ticker")
        .with_columns(ticker=normalize_ticker(pl.col("ticker")))
        .filter(pl.col("ticker") != "")
        .select("date", "ticker", "action", "line")
        .sort("date", "line", "action", "ticker")
    )
    return long, rejects


@dataclass
class _Interval:
    ticker: str
    start: date
    end: date | None
    start_basis: str
    end_basis: str | None
    source: str


def _apply_changes(
    intervals: list[_Interval], changes: pl.DataFrame, after: date, source: str
) -> None:
    """Apply dated adds/removes on or after `after`, idempotently: a change already reflected in
    the intervals (the changes file overlaps the intervals file's last day) is a no-op."""
    for day, ticker, action in (
        changes.filter(pl.col("date") >= after).select("date", "ticker", "action").iter_rows()
    ):
        open_iv = next((iv for iv in intervals if iv.ticker == ticker and iv.end is None), None)
        if action == "add":
            if open_iv is None:
                intervals.append(_Interval(ticker, day, None, "reported", None, source))
        elif open_iv is not None:
            open_iv.end, open_iv.end_basis = day, "reported"
        elif not any(iv.ticker == ticker and iv.end == day for iv in intervals):
            log.warning("changes file removes %s on %s, but it was not a member", ticker, day)


def _reconcile_list(
    intervals: list[_Interval], members: pl.DataFrame, as_of: date, known_through: date, source: str
) -> None:
    """Make the open intervals agree with a constituents list dated `as_of`."""
    listed = dict(members.select("ticker", "date_added").iter_rows())
    open_tickers = set()
    for iv in intervals:
        if iv.end is None and iv.start <= as_of:
            if iv.ticker in listed:
                open_tickers.add(iv.ticker)
            else:
                # Left on an unknown day after `known_through`: record the bound, not a guess.
                iv.end, iv.end_basis = as_of, "upper_bound"
    for ticker, date_added in listed.items():
        if ticker in open_tickers:
            continue
        if date_added is not None and known_through < date_added <= as_of:
            intervals.append(_Interval(ticker, date_added, None, "date_added", None, source))
        else:
            intervals.append(_Interval(ticker, as_of, None, "list_as_of", None, source))


def _rename_pairs(changes: pl.DataFrame, added_before: pl.DataFrame) -> pl.DataFrame:
    """Same-day single add/remove pairs where the added ticker's "Date added" predates the day:
    the company was already in the index under the removed ticker (FB→META, CDAY→DAY)."""
    per_day = changes.group_by("date").agg(
        adds=pl.col("ticker").filter(pl.col("action") == "add"),
        removes=pl.col("ticker").filter(pl.col("action") == "remove"),
    )
    return (
        per_day.filter((pl.col("adds").list.len() == 1) & (pl.col("removes").list.len() == 1))
        .select("date", new=pl.col("adds").list.first(), old=pl.col("removes").list.first())
        .join(added_before, left_on="new", right_on="ticker")
        .filter(pl.col("date_added") < pl.col("date"))
        .select("date", "old", "new")
    )


def build_membership(
    intervals: pl.DataFrame,
    changes: pl.DataFrame,
    constituents: Sequence[tuple[pl.DataFrame, date, str]],
    tickers: pl.DataFrame | None,
    *,
    intervals_source: str = _GITHUB_RAW + INTERVALS_PATH,
    changes_source: str = _GITHUB_RAW + CHANGES_PATH,
) -> pl.DataFrame:
    """Combine history, changes and constituents lists into `raw.sp500_membership`.

    `intervals`, `changes`: the good frames of `parse_intervals` / `parse_changes`.
    `constituents`: (good frame of `parse_constituents`, as-of date, source URL) per list.
    `tickers`: SEC company_tickers.json as a frame with cik, ticker, title (or None).
    Rules are in the module docstring; see MEMBERSHIP_SCHEMA for the columns.
    """
    state = [
        _Interval(t, s, e, "reported", None if e is None else "reported", intervals_source)
        for t, s, e in intervals.select("ticker", "start_date", "end_date").iter_rows()
    ]
    # The history's own horizon: its newest start or end date.
    known_through = max(
        d for d in intervals.select(pl.col("start_date").max(), pl.col("end_date").max()).row(0)
        if d is not None
    )
    lists = sorted(constituents, key=lambda item: item[1])
    applied_from = known_through
    for frame, as_of, url in lists:
        todo = changes.filter(pl.col("date") <= as_of)
        _apply_changes(state, todo, applied_from, changes_source)
        known_through = max(known_through, todo["date"].max() or known_through)
        applied_from = as_of + timedelta(days=1)
        _reconcile_list(state, frame, as_of, known_through, url)
        known_through = as_of
    _apply_changes(state, changes, applied_from, changes_source)
    as_of_all = max([as_of for _, as_of, _ in lists] + [changes["date"].max() or known_through])

    frame = pl.DataFrame(
        [
            (iv.ticker, iv.start, iv.end, iv.start_basis, iv.end_basis, iv.source)
            for iv in state
        ],
        schema={
            "ticker": pl.Utf8, "start_date": pl.Date, "end_date": pl.Date,
            "start_date_basis": pl.Utf8, "end_date_basis": pl.Utf8, "source": pl.Utf8,
        },
        orient="row",
    ).with_row_index("_id")

    # 1. CIK from a constituents list that carries the ticker while the interval was open.
    by_list = pl.concat(
        [
            f.select("ticker", "cik", "name").with_columns(
                list_as_of=pl.lit(as_of, pl.Date), list_rank=pl.lit(rank)
            )
            for rank, (f, as_of, _) in enumerate(reversed(lists))
        ]
    ) if lists else pl.DataFrame(
        schema={"ticker": pl.Utf8, "cik": pl.Int64, "name": pl.Utf8,
                "list_as_of": pl.Date, "list_rank": pl.Int32}
    )
    from_lists = (
        frame.join(by_list, on="ticker")
        .filter(
            (pl.col("start_date") <= pl.col("list_as_of"))
            & (pl.col("end_date").is_null() | (pl.col("end_date") > pl.col("list_as_of")))
        )
        .sort("list_rank")  # newest list first
        .group_by("_id", maintain_order=True)
        .first()
        .select("_id", cik_list="cik", name_list="name")
    )
    frame = frame.join(from_lists, on="_id", how="left")

    # 2. SEC company_tickers.json, by normalized ticker.
    if tickers is not None and tickers.height:
        sec = (
            tickers.select(
                ticker=normalize_ticker(pl.col("ticker")),
                cik_sec=pl.col("cik").cast(pl.Int64),
                name_sec=pl.col("title"),
            )
            .unique("ticker", keep="first", maintain_order=True)
        )
        frame = frame.join(sec, on="ticker", how="left").with_columns(
            pl.when(
                pl.col("ticker").is_in(list(SEC_TICKER_REUSED)) & pl.col("end_date").is_not_null()
            ).then(None).otherwise(pl.col(c)).alias(c)
            for c in ["cik_sec", "name_sec"]
        )
    else:
        frame = frame.with_columns(cik_sec=pl.lit(None, pl.Int64), name_sec=pl.lit(None, pl.Utf8))

    # 3. The old ticker of a same-day rename takes the new ticker's constituents CIK.
    added_before = (
        pl.concat([f.select("ticker", "date_added") for f, _, _ in lists])
        .drop_nulls()
        .group_by("ticker")
        .agg(pl.col("date_added").min())
    ) if lists else pl.DataFrame(schema={"ticker": pl.Utf8, "date_added": pl.Date})
    renames = _rename_pairs(changes, added_before)
    new_ids = frame.filter(pl.col("cik_list").is_not_null()).select(
        "ticker", "start_date", cik_new="cik_list", name_new="name_list"
    )
    rename_ciks = renames.join(
        new_ids, left_on=["new", "date"], right_on=["ticker", "start_date"]
    ).select(ticker="old", end_date="date", renamed_to="new", cik_new="cik_new", name_new="name_new")
    frame = frame.join(rename_ciks, on=["ticker", "end_date"], how="left")

    frame = frame.with_columns(
        cik=pl.coalesce("cik_list", "cik_sec", "cik_new"),
        name=pl.coalesce("name_list", "name_sec", "name_new"),
        cik_source=pl.when(pl.col("cik_list").is_not_null()).then(pl.lit("constituents"))
        .when(pl.col("cik_sec").is_not_null()).then(pl.lit("sec_tickers"))
        .when(pl.col("cik_new").is_not_null()).then(pl.lit("rename")),
        as_of=pl.lit(as_of_all, pl.Date),
    ).with_columns(
        renamed_to=pl.when(pl.col("cik_source") == "rename").then(pl.col("renamed_to"))
    )
    result = frame.select(MEMBERSHIP_SCHEMA.keys()).cast(MEMBERSHIP_SCHEMA).sort(  # type: ignore[arg-type]
        "ticker", "start_date"
    )
    unmapped = result.filter(pl.col("cik").is_null())
    log.info(
        "membership: %d intervals, %d open at %s, %d without CIK (%d of them ending %s or later)",
        result.height, result["end_date"].null_count(), as_of_all, unmapped.height,
        unmapped.filter(pl.col("end_date").is_null() | (pl.col("end_date") >= date(2019, 1, 1))).height,
        date(2019, 1, 1),
    )
    return result


def members_on(membership: pl.DataFrame, day: date) -> pl.DataFrame:
    """The intervals in force on `day` (start ≤ day < end, or still open)."""
    return membership.filter(
        (pl.col("start_date") <= day) & (pl.col("end_date").is_null() | (pl.col("end_date") > day))
    )


def members_in_window(membership: pl.DataFrame, start: date) -> list[int]:
    """Distinct CIKs that were members on any day since `start` (unmapped tickers excluded).

    An `upper_bound` end date counts as a member until that bound: fetching one company too many
    costs a request, missing one loses its earnings from the index total.
    """
    return (
        membership.filter(pl.col("end_date").is_null() | (pl.col("end_date") > start))
        .get_column("cik")
        .drop_nulls()
        .unique()
        .sort()
        .to_list()
    )
