"""Companyfacts parse speed: aiwatch's parser against the floor of bare `orjson.loads`.

For every real companyfacts payload in snapshot/ (and /work/shared/data if present; identical
files are measured once), times best-of-N after a warm-up:

- `aiwatch`: `aiwatch.sec.companyfacts.parse(bytes)` → the long Polars frame;
- `orjson`: `orjson.loads(bytes)`, no frame at all: the floor any Python parser starts from;
- `edgartools` (only if importable): `json.loads` + `EntityFactsParser.parse_company_facts`
  + `to_dataframe()`, the popular library's equivalent.

Prints facts/s per parser and the ratios to the orjson floor measured in the same run, and
writes JSON to benchmarks/results/parse.json (or --json PATH). No assertions: it reports.

    .venv/bin/python benchmarks/bench_parse.py [--json out.json] [--repeat N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from aiwatch.sec import companyfacts
from aiwatch.settings import REPO_ROOT

SOURCES = [
    REPO_ROOT / "snapshot" / "data.sec.gov" / "api" / "xbrl" / "companyfacts",
    Path("/work/shared/data/sec/companyfacts"),
    Path("/work/shared/data/sec/companyfacts_2022q1"),
]
DEFAULT_OUT = REPO_ROOT / "benchmarks" / "results" / "parse.json"
TICKERS = {
    320193: "AAPL", 789019: "MSFT", 1045810: "NVDA", 1652044: "GOOGL", 1018724: "AMZN",
    1326801: "META", 1065280: "NFLX", 1835632: "MRVL",
}


def _edgartools() -> Callable[[bytes], Any] | None:
    try:
        from edgar.entity.parser import EntityFactsParser
    except Exception:  # not installed, or fails to import: the comparison is optional
        return None

    def parse(payload: bytes) -> Any:
        return EntityFactsParser.parse_company_facts(json.loads(payload)).to_dataframe()

    return parse


def _best_seconds(
    parsers: dict[str, Callable[[bytes], Any]], payload: bytes, repeat: int
) -> dict[str, float]:
    """Best time per parser. Runs are interleaved (each round runs every parser once) so a
    burst of load on a shared machine hits all parsers alike and the ratios stay fair."""
    for fn in parsers.values():
        fn(payload)  # warm-up: imports, caches, allocator
    best = dict.fromkeys(parsers, float("inf"))
    for _ in range(repeat):
        for name, fn in parsers.items():
            start = time.perf_counter()
            fn(payload)
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def _payloads() -> list[tuple[Path, bytes]]:
    seen: set[str] = set()
    found = []
    for folder in SOURCES:
        for path in sorted(folder.glob("CIK*.json")) if folder.is_dir() else []:
            payload = path.read_bytes()
            digest = hashlib.sha256(payload).hexdigest()
            if digest not in seen:  # snapshot/ holds copies of shared/data files
                seen.add(digest)
                found.append((path, payload))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=DEFAULT_OUT, help="where to write results")
    parser.add_argument("--repeat", type=int, default=11, help="timed runs per parser (best kept)")
    args = parser.parse_args(argv)

    parsers: dict[str, Callable[[bytes], Any]] = {
        "aiwatch": companyfacts.parse,
        "orjson": orjson.loads,
    }
    edgartools = _edgartools()
    if edgartools is not None:
        parsers["edgartools"] = edgartools
    else:
        print("edgartools not importable: comparing aiwatch with the orjson floor only\n")

    results = []
    header = f"{'payload':<14}{'MB':>6}{'facts':>8}"
    header += "".join(f"{name + ' facts/s':>20}" for name in parsers)
    header += f"{'aiwatch/orjson':>16}" + (f"{'edgartools/aiwatch':>20}" if edgartools else "")
    print(header)
    for path, payload in _payloads():
        frame = companyfacts.parse(payload)
        facts = frame.height
        cik = int(path.stem[3:])
        # Vintages differ (2022Q1 and 2026 copies): label each by its newest filing.
        label = f"{TICKERS.get(cik, cik)} {frame['filed'].max():%Y-%m}"
        seconds = _best_seconds(parsers, payload, args.repeat)
        row = {
            "payload": label,
            "path": str(path),
            "bytes": len(payload),
            "facts": facts,
            "seconds": seconds,
            "facts_per_second": {name: facts / s for name, s in seconds.items()},
            # Time ratios: >1 means slower than the floor.
            "aiwatch_over_orjson": seconds["aiwatch"] / seconds["orjson"],
        }
        if "edgartools" in seconds:
            row["edgartools_over_aiwatch"] = seconds["edgartools"] / seconds["aiwatch"]
        results.append(row)
        line = f"{label:<14}{len(payload) / 1e6:>6.1f}{facts:>8}"
        line += "".join(f"{facts / seconds[name]:>20,.0f}" for name in parsers)
        line += f"{row['aiwatch_over_orjson']:>15.2f}x"
        if "edgartools_over_aiwatch" in row:
            line += f"{row['edgartools_over_aiwatch']:>19.1f}x"
        print(line)

    report = {
        "benchmark": "companyfacts parse",
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "repeat": args.repeat,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "versions": {"polars": pl.__version__, "orjson": orjson.__version__},
        "parsers": list(parsers),
        "results": results,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
