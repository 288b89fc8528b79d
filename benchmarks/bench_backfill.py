"""Cold backfill and daily runs of a SYNTHETIC 503-company universe against the fake server.

Benchmark 2 (cold backfill): every member's companyfacts downloaded into an empty home and
`raw.sec_companyfacts` built, through `aiwatch.refresh.refresh_sec_companyfacts` (mode full),
with ~50 ms of server latency per response and SEC's configured rate (AIWATCH_SEC_RATE, 9/s).
Baseline: the rate-limit floor, requests / rate. Measured sequential (1 worker) and pipelined
(a small pool sharing the process-safe limiter). The server log also gives the most requests
seen in any 1-second window, which must not exceed the rate (SEC politeness), and the 429s.

Benchmark 3 (daily runs, in the home the backfill left): a no-change day and a day on which 5
members filed (SYNTHETIC form.YYYYMMDD.idx files and 5 changed payloads). Figures: requests
and bytes on the wire; target (business days since last run) + (companies that filed) + 3.

    .venv/bin/python benchmarks/bench_backfill.py [--companies 503] [--latency 0.05]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402 - sets up the tests/ import path
import orjson  # noqa: E402
from fakeserver import FakeServer  # noqa: E402

from aiwatch.http import HttpClient  # noqa: E402
from aiwatch.refresh import RefreshOptions, refresh_sec_companyfacts  # noqa: E402
from aiwatch.sec import daily_index  # noqa: E402
from aiwatch.settings import Settings  # noqa: E402
from aiwatch.warehouse import Warehouse  # noqa: E402

BACKFILL_DAY, NO_CHANGE_DAY, FILING_DAY = date(2026, 11, 16), date(2026, 11, 17), date(2026, 11, 18)
NON_MEMBER = 1234567


def write_form_index(docroot: Path, day: date, filings: list[tuple[str, int]]) -> None:
    """A SYNTHETIC form index in SEC's fixed-width layout."""
    header = (
        "Description:           Daily Index of EDGAR Dissemination Feed by Form Type\n"
        "Comments:              SYNTHETIC benchmark file\n \n"
        f"{'Form Type':<12}{'Company Name':<62}{'CIK':<12}{'Date Filed':<12}File Name\n"
        + "-" * 141 + "\n"
    )
    rows = [f"{form:<12}{'SYNTHETIC ' + str(cik):<62}{cik:<12}{day:%Y%m%d}    "
            f"edgar/data/{cik}/{cik:010d}-26-{i:06d}.txt\n"
            for i, (form, cik) in enumerate(filings, 1)]
    path = docroot / "www.sec.gov" / daily_index.form_index_path(day).lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + "".join(rows))


def settings_for(server: FakeServer, home: Path, rate: float) -> Settings:
    return Settings.from_env({**server.env(), "AIWATCH_HOME": str(home),
                              "AIWATCH_SEC_USER_AGENT": common.SEC_USER_AGENT,
                              "AIWATCH_SEC_RATE": str(rate)})


def max_per_second(times: list[float]) -> int:
    """Most requests that arrived within any 1-second window."""
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= 1.0:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def run(settings: Settings, members: list[int], day: date, workers: int) -> tuple[float, object]:
    with HttpClient(settings) as client:
        start = time.perf_counter()
        result = refresh_sec_companyfacts(client, Warehouse(settings), members, today=day,
                                          options=RefreshOptions(workers=workers))
        return time.perf_counter() - start, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=503)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--rate", type=float, default=9.0, help="AIWATCH_SEC_RATE (SEC: <10)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args(argv)

    source_root, members = common.universe_docroot(args.companies, 60)
    work = Path(tempfile.mkdtemp(prefix="bench-backfill-", dir=common.WORK_DIR))
    docroot = work / "docroot"
    shutil.copytree(source_root, docroot)  # the daily runs change five payloads
    backfills = []
    try:
        with FakeServer(docroot, latency=args.latency) as server:
            for workers in args.workers:
                home = work / f"home-{workers}"
                server.log.clear()
                seconds, result = run(settings_for(server, home, args.rate), members,
                                      BACKFILL_DAY, workers)
                requests = len(server.log)
                floor = requests / args.rate
                row = {
                    "workers": workers, "seconds": seconds, "requests": requests,
                    "floor_seconds": floor, "ratio_to_floor": seconds / floor,
                    "http_429": sum(r.status == 429 for r in server.log),
                    "max_requests_in_1s": max_per_second([r.t for r in server.log]),
                    "rows": result.rows,  # type: ignore[attr-defined]
                    "bytes_on_wire": sum(r.bytes_sent for r in server.log),
                }
                backfills.append(row)
                print(f"backfill workers={workers}: {seconds:.1f} s for {requests} requests, "
                      f"floor {floor:.1f} s -> {row['ratio_to_floor']:.3f}x floor, "
                      f"max {row['max_requests_in_1s']} req in 1 s, {row['http_429']} x 429")

            # Daily runs in the last backfill's home.
            settings = settings_for(server, home, args.rate)
            write_form_index(docroot, BACKFILL_DAY, [("10-Q", NON_MEMBER)])
            write_form_index(docroot, NO_CHANGE_DAY, [("4", members[0]), ("8-K", NON_MEMBER)])
            daily = []
            server.log.clear()
            _, result = run(settings, members, NO_CHANGE_DAY, args.workers[-1])
            daily.append(_daily_row("no-change day", server, result, business_days=1, filed=0))
            filers = members[10:15]
            for cik in filers:
                path = common.companyfacts_file(docroot, cik)
                body = orjson.loads(path.read_bytes())
                next(iter(body["facts"]["us-gaap"].values()))["units"]["USD"].append({
                    "start": "2026-07-01", "end": "2026-09-30", "val": 1, "fy": 2026,
                    "fp": "Q3", "form": "10-Q", "filed": "2026-11-18",
                    "accn": f"{cik:010d}-26-000999"})
                path.write_bytes(orjson.dumps(body))
            write_form_index(docroot, FILING_DAY, [("10-Q", c) for c in filers]
                             + [("10-K", NON_MEMBER)])
            server.log.clear()
            _, result = run(settings, members, FILING_DAY, args.workers[-1])
            daily.append(_daily_row("5 filings", server, result, business_days=1, filed=5))
            for row in daily:
                print(f"{row['day']}: {row['requests']} requests (target <= {row['target']}), "
                      f"{row['bytes_on_wire']} bytes, refetched {row['ciks_refetched']}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = common.write_result("backfill", {
        "companies": args.companies, "latency_s": args.latency, "rate_per_s": args.rate,
        "backfill": backfills, "daily": daily,
    })
    print(f"wrote {out}")
    return 0


def _daily_row(day: str, server: FakeServer, result: object, *, business_days: int,
               filed: int) -> dict:
    return {
        "day": day, "requests": len(server.log),
        "bytes_on_wire": sum(r.bytes_sent for r in server.log),
        "target": business_days + filed + 3,
        "mode": result.mode,  # type: ignore[attr-defined]
        "ciks_refetched": len(result.ciks_refetched),  # type: ignore[attr-defined]
        "statuses": sorted({r.status for r in server.log}),
    }


if __name__ == "__main__":
    raise SystemExit(main())
