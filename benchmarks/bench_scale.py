"""Full ingest memory at 1x, and the SQL models at 1x, 2x, 4x (10x if asked) of a SYNTHETIC universe.

Benchmark 5 (ingest memory): a child process downloads the SYNTHETIC 503-company universe
(~13M facts, ~26k a company as in real S&P 500 companyfacts) from the fake server into an
empty home and builds `raw.sec_companyfacts` (`refresh_sec_companyfacts`, mode full); then
again from a companyfacts.zip of the same payloads (bulk mode). Figure: the child's peak RSS;
baseline: the same child's peak RSS right before the ingest (imports, client, warehouse).
Target <= 1.5 GB.

Benchmark 4 (SQL models): the facts of that ingest are replicated k times under new CIKs (k x
503 companies, same per-company shape), with membership rows for every company, and a child
process recomputes every model whose raw inputs exist here (the fundamentals chain: staging
facts to `marts.fundamentals_*`, `capex_growth*`, `mag7_earnings_share`,
`depreciation_vs_capex`; the market marts need prices, which this universe does not have).
Figures: wall time (and each model's) and peak RSS per k; baseline: the 1x time. Target: 10x <= ~12x the 1x time.
Preparing the k-times tables is not timed.

    .venv/bin/python benchmarks/bench_scale.py [--scales 1 2 4] [--companies 503]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402 - sets up the tests/ import path

CIK_STRIDE = 10_000_000  # replica j of CIK c is c + j * stride (synthetic CIKs are 8,000,000+)
AVAILABLE_RAW = {"raw.mag7", "raw.sec_companyfacts", "raw.sec_tickers", "raw.sp500_membership"}


def ingest_child(server_env: str, home: str, members: str, mode: str = "files") -> None:
    """In a child process: peak RSS before and after a full companyfacts ingest, from
    per-company payloads (`files`) or from companyfacts.zip (`bulk`)."""
    from aiwatch.http import HttpClient
    from aiwatch.refresh import RefreshOptions, refresh_sec_companyfacts
    from aiwatch.settings import Settings
    from aiwatch.warehouse import Warehouse

    settings = Settings.from_env({**json.loads(server_env), "AIWATCH_HOME": home,
                                  "AIWATCH_SEC_USER_AGENT": common.SEC_USER_AGENT,
                                  "AIWATCH_SEC_RATE": "1000"})
    ciks = json.loads(members)
    wh = Warehouse(settings)
    with wh.writer():
        pass
    with HttpClient(settings) as client:
        baseline = common.peak_rss_bytes()
        start = time.perf_counter()
        result = refresh_sec_companyfacts(client, wh, ciks, today=date(2026, 11, 16),
                                          options=RefreshOptions(workers=4, bulk=mode == "bulk"))
        seconds = time.perf_counter() - start
    print(json.dumps({"baseline_rss": baseline, "peak_rss": common.peak_rss_bytes(),
                      "seconds": seconds, "rows": result.rows, "fetched": result.fetched}))


def models_child(db_path: str) -> None:
    """In a child process: recompute the runnable models over `db_path`; time and peak RSS."""
    import duckdb

    from aiwatch import sqlmodels
    from aiwatch.settings import REPO_ROOT

    models = sqlmodels.discover(REPO_ROOT / "sql")
    runnable: set[str] = set()
    chosen = []
    for model in models:  # discover's order: dependencies first
        if all(dep in AVAILABLE_RAW or dep in runnable for dep in model.deps):
            runnable.add(model.table)
            chosen.append(model)
    con = duckdb.connect(db_path)
    baseline = common.peak_rss_bytes()
    start = time.perf_counter()
    rows, model_seconds = {}, {}
    for model in chosen:  # = sqlmodels.run_all, timed per model to show which one bounds it
        model_start = time.perf_counter()
        rows[model.table] = sqlmodels.run_model(con, model, {"window_start": date(2019, 1, 1)})
        model_seconds[model.table] = time.perf_counter() - model_start
    seconds = time.perf_counter() - start
    con.close()
    print(json.dumps({"seconds": seconds, "baseline_rss": baseline,
                      "peak_rss": common.peak_rss_bytes(), "models": rows,
                      "model_seconds": model_seconds}))


def prepare_scaled(build_db: Path, target: Path, scale: int, ciks: list[int]) -> int:
    """`target`: raw tables with the 1x facts replicated `scale` times under new CIKs."""
    import duckdb
    from synthetic_universe import RAW_DDL

    target.unlink(missing_ok=True)
    con = duckdb.connect(str(target))
    try:
        con.execute(f"ATTACH '{build_db}' AS src (READ_ONLY)")
        for schema in ("raw", "staging", "marts"):
            con.execute(f"CREATE SCHEMA {schema}")
        con.execute("CREATE TABLE raw.sec_companyfacts AS SELECT * FROM src.raw.sec_companyfacts "
                    "WHERE false")
        for j in range(scale):
            con.execute(f"INSERT INTO raw.sec_companyfacts SELECT * REPLACE (cik + {j * CIK_STRIDE}"
                        " AS cik) FROM src.raw.sec_companyfacts")
        for table, columns in RAW_DDL.items():
            con.execute(f"CREATE TABLE {table} ({columns})")
        every = [c + j * CIK_STRIDE for j in range(scale) for c in ciks]
        con.executemany(
            "INSERT INTO raw.sp500_membership VALUES (?, ?, ?, DATE '2015-01-02', NULL, "
            "DATE '2026-11-16', 'synthetic', 'synthetic')",
            [[f"SYN{c}", c, f"SYNTHETIC {c}"] for c in every])
        con.executemany("INSERT INTO raw.mag7 VALUES (?, ?, ?, 'synthetic')",
                        [[f"SYN{c}", c, f"SYNTHETIC {c}"] for c in ciks[:7]])
        ((rows,),) = con.execute("SELECT count(*) FROM raw.sec_companyfacts").fetchall()
        con.execute("DETACH src")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return int(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=503)
    parser.add_argument("--extra-concepts", type=int, default=common.EXTRA_CONCEPTS_1X)
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--ingest-only", action="store_true",
                        help="benchmark 5 only: the 1x ingest's peak RSS, no SQL models")
    args = parser.parse_args(argv)

    from fakeserver import FakeServer

    print(f"generating (once) the SYNTHETIC universe: {args.companies} companies ...", flush=True)
    docroot, ciks = common.universe_docroot(args.companies, args.extra_concepts)
    work = common.WORK_DIR / "scale"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    home = work / "home"
    with FakeServer(docroot) as server:
        ingest = common.run_child(
            [__file__, "--child-ingest", json.dumps(server.env()), str(home), json.dumps(ciks)])
        # The same universe once more, from a companyfacts.zip of it (AIWATCH_BULK=1), into a
        # fresh home: bulk mode's memory is measured too.
        common.companyfacts_zip(docroot, ciks)
        ingest_bulk = common.run_child(
            [__file__, "--child-ingest", json.dumps(server.env()), str(work / "home-bulk"),
             json.dumps(ciks), "bulk"])
        shutil.rmtree(work / "home-bulk", ignore_errors=True)
    for label, run in (("ingest 1x", ingest), ("bulk ingest 1x", ingest_bulk)):
        run["target_bytes"] = int(1.5 * 2**30)
        print(f"{label}: {run['rows']:,} facts in {run['seconds']:.1f} s, peak RSS "
              f"{run['peak_rss'] / 2**20:,.0f} MiB (baseline {run['baseline_rss'] / 2**20:,.0f}"
              f" MiB; {run['peak_rss'] / run['baseline_rss']:.1f}x baseline; target 1536 MiB)",
              flush=True)
    if args.ingest_only:
        out = common.write_result("scale_ingest", {"companies": args.companies,
                                                   "extra_concepts": args.extra_concepts,
                                                   "ingest": ingest, "ingest_bulk": ingest_bulk})
        shutil.rmtree(work, ignore_errors=True)
        print(f"wrote {out}")
        return 0

    build_db = home / "build" / "aiwatch.duckdb"
    scales = []
    for k in args.scales:
        db = work / f"scaled_{k}.duckdb"
        facts = prepare_scaled(build_db, db, k, ciks)
        run = common.run_child([__file__, "--child-models", str(db)])
        run.update({"scale": k, "facts": facts, "companies": k * len(ciks)})
        scales.append(run)
        base = scales[0]["seconds"]
        print(f"models {k}x: {facts:,} facts, {run['seconds']:.1f} s ({run['seconds'] / base:.2f}x"
              f" the 1x time), peak RSS {run['peak_rss'] / 2**20:,.0f} MiB", flush=True)
        slowest = sorted(run["model_seconds"].items(), key=lambda item: -item[1])[:4]
        print("  slowest models: " + ", ".join(f"{table} {s:.2f} s" for table, s in slowest),
              flush=True)
        db.unlink(missing_ok=True)
    # Linear fit through the measured points, to state what 10x would cost if not measured.
    fit = None
    if 10 not in args.scales and len(scales) >= 2:
        xs = [s["scale"] for s in scales]
        ys = [s["seconds"] for s in scales]
        n = len(xs)
        mx, my = sum(xs) / n, sum(ys) / n
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
            (x - mx) ** 2 for x in xs)
        predicted = my + slope * (10 - mx)
        fit = {"predicted_10x_seconds": predicted,
               "predicted_10x_over_1x": predicted / scales[0]["seconds"],
               "method": "least-squares line through the measured scales (EXTRAPOLATED)"}
        print(f"10x (extrapolated, linear fit): {predicted:.1f} s = "
              f"{fit['predicted_10x_over_1x']:.1f}x the 1x time")
    out = common.write_result("scale", {
        "companies": args.companies, "extra_concepts": args.extra_concepts,
        "ingest": ingest, "ingest_bulk": ingest_bulk, "models": scales, "extrapolation": fit,
    })
    shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child-ingest":
        ingest_child(*sys.argv[2:6])
    elif len(sys.argv) > 1 and sys.argv[1] == "--child-models":
        models_child(sys.argv[2])
    else:
        raise SystemExit(main())
