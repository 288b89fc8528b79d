"""`make bench`: run every benchmark, write JSON to benchmarks/results/, print a summary table
with each figure beside its target (benchmarks/README.md explains each one).

    .venv/bin/python benchmarks/run_all.py [--quick]

`--quick` runs small sizes (a smoke test of the harness, minutes less, figures not comparable).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

HERE = Path(__file__).resolve().parent


def _run(script: str, *args: str) -> None:
    print(f"\n=== {script} {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, str(HERE / script), *args], check=True)


def _load(name: str) -> dict | None:
    path = common.RESULTS_DIR / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def summary_rows() -> list[tuple[str, str, str, str]]:
    """(benchmark, figure, target, met) for every result file present."""
    rows = []
    parse = _load("parse")
    if parse:
        ratios = [r["aiwatch_over_orjson"] for r in parse["results"]]
        rows.append((
            "1 parse companyfacts (real files)",
            f"aiwatch time / orjson.loads time: median {statistics.median(ratios):.2f}x, "
            f"worst {max(ratios):.2f}x ({len(ratios)} payloads)",
            "<= 2x the orjson floor", "yes" if max(ratios) <= 2 else "no"))
        edgar = [r["edgartools_over_aiwatch"] for r in parse["results"]
                 if "edgartools_over_aiwatch" in r]
        rows.append((
            "1 parse vs edgartools",
            f"edgartools time / aiwatch time: min {min(edgar):.1f}x" if edgar
            else "not measured: edgartools not installed (pip install -e '.[bench]')",
            ">= 10x faster", ("yes" if min(edgar) >= 10 else "no") if edgar else "n/a"))
    backfill = _load("backfill")
    if backfill:
        for row in backfill["backfill"]:
            ok = row["ratio_to_floor"] <= 1.15 and row["http_429"] == 0 \
                and row["max_requests_in_1s"] <= backfill["rate_per_s"] + 1
            rows.append((
                f"2 cold backfill, {backfill['companies']} cos, {row['workers']} worker(s)",
                f"{row['seconds']:.1f} s vs floor {row['floor_seconds']:.1f} s = "
                f"{row['ratio_to_floor']:.3f}x; {row['http_429']} x 429; max "
                f"{row['max_requests_in_1s']} req in any 1 s (rate {backfill['rate_per_s']:g}/s)",
                "<= 1.15x floor, 0 x 429", "yes" if ok else "no"))
        for row in backfill["daily"]:
            rows.append((
                f"3 daily run: {row['day']}",
                f"{row['requests']} requests, {row['bytes_on_wire']:,} bytes, "
                f"{row['ciks_refetched']} companies refetched",
                f"<= {row['target']} requests", "yes" if row["requests"] <= row["target"] else "no"))
    scale = _load("scale")
    if scale:
        base = scale["models"][0]["seconds"]
        for row in scale["models"]:
            rows.append((
                f"4 SQL models {row['scale']}x ({row['facts'] / 1e6:.1f}M facts)",
                f"{row['seconds']:.1f} s = {row['seconds'] / base:.2f}x the 1x time; peak RSS "
                f"{row['peak_rss'] / 2**20:,.0f} MiB",
                "linear (10x <= ~12x)" if row["scale"] > 1 else "baseline", "-"))
        fit = scale.get("extrapolation")
        if fit:
            ratio = fit["predicted_10x_over_1x"]
            rows.append(("4 SQL models 10x (EXTRAPOLATED)", f"{ratio:.1f}x the 1x time",
                         "<= ~12x", "yes" if ratio <= 12 else "no"))
        else:
            ten = [r for r in scale["models"] if r["scale"] == 10]
            if ten:
                ratio = ten[0]["seconds"] / base
                rows.append(("4 SQL models 10x", f"{ratio:.1f}x the 1x time", "<= ~12x",
                             "yes" if ratio <= 12 else "no"))
        for label, key in (("5 full ingest 1x", "ingest"),
                           ("5 full ingest 1x, bulk (companyfacts.zip)", "ingest_bulk")):
            ingest = scale.get(key)
            if not ingest:
                continue
            rows.append((
                f"{label} ({ingest['rows'] / 1e6:.1f}M facts)",
                f"peak RSS {ingest['peak_rss'] / 2**20:,.0f} MiB "
                f"({ingest['peak_rss'] / ingest['baseline_rss']:.1f}x the "
                f"{ingest['baseline_rss'] / 2**20:,.0f} MiB before the ingest); "
                f"{ingest['seconds']:.0f} s",
                "<= 1536 MiB", "yes" if ingest["peak_rss"] <= ingest["target_bytes"] else "no"))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--summary-only", action="store_true")
    args = parser.parse_args(argv)
    if not args.summary_only:
        if args.quick:
            _run("bench_parse.py", "--repeat", "3")
            _run("bench_backfill.py", "--companies", "60", "--rate", "30")
            _run("bench_scale.py", "--companies", "40", "--extra-concepts", "40")
        else:
            _run("bench_parse.py")
            _run("bench_backfill.py")
            _run("bench_scale.py")
    rows = summary_rows()
    m = common.machine()
    print(f"\nmachine: {m['nproc']} CPUs ({m['cpu']}), {m['memory_gb']} GB RAM, "
          f"Python {m['python']}\n")
    print("| benchmark | figure (ratio to the same run's baseline) | target | met |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    common.write_result("summary", {"rows": [dict(zip(("benchmark", "figure", "target", "met"),
                                                      r, strict=True)) for r in rows]})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
