"""Shared pieces of the benchmarks: the machine, the SYNTHETIC universe on disk, results JSON.

Benchmarks import the test helpers (`tests/fakeserver.py`, `tests/synthetic_universe.py`): one
fake server and one synthetic format for tests and benchmarks alike. Every payload here is
SYNTHETIC (entityName says so); no figure of a real company is produced.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiwatch.settings import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "tests"))

RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
# Generated inputs (GBs at 1x): kept between runs so `make bench` is not mostly generation;
# outside the repo, so `make clean` (or another run's) does not delete them mid-benchmark.
WORK_DIR = Path(os.environ.get("AIWATCH_BENCH_WORK")
                or Path(tempfile.gettempdir()) / "aiwatch-bench")
SEC_USER_AGENT = "aiwatch-bench bench@example.com"
# ~26k facts a company, as in real S&P 500 companyfacts (Apple: 24.6k): 503 x 26k = ~13M facts.
EXTRA_CONCEPTS_1X = 495


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_total = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_total = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(mem_total / 2**30, 1),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


def peak_rss_bytes() -> int:
    """This process's peak resident set size so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def write_result(name: str, payload: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    body = {"benchmark": name, "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(), **payload}
    path.write_text(json.dumps(body, indent=2, default=str) + "\n")
    return path


def companyfacts_file(docroot: Path, cik: int) -> Path:
    return docroot / "data.sec.gov" / f"api/xbrl/companyfacts/CIK{cik:010d}.json"


def companyfacts_zip(docroot: Path, ciks: list[int]) -> Path:
    """SEC's bulk archive of the docroot's companyfacts payloads (SYNTHETIC), built once, where
    the fake server serves `sec.bulk.COMPANYFACTS_ZIP_PATH`."""
    import zipfile

    from aiwatch.sec import bulk

    archive = docroot / "www.sec.gov" / bulk.COMPANYFACTS_ZIP_PATH.lstrip("/")
    if not archive.exists():
        archive.parent.mkdir(parents=True, exist_ok=True)
        partial = archive.with_name(archive.name + ".partial")
        # compresslevel 1: building it is not what is measured.
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            for cik in ciks:
                zf.write(companyfacts_file(docroot, cik), f"CIK{cik:010d}.json")
        partial.replace(archive)
    return archive


def universe_docroot(n_companies: int, extra_concepts: int, seed: int = 1) -> tuple[Path, list[int]]:
    """A fake-server document root with `generate(n_companies, seed, extra_concepts)` (SYNTHETIC),
    generated once and kept under WORK_DIR."""
    docroot = WORK_DIR / f"universe_{n_companies}_{extra_concepts}_{seed}"
    done = docroot / ".complete"
    ciks = [8000000 + i for i in range(n_companies)]
    if not done.exists():
        # generate() builds every payload in memory; do it in slices to keep that bounded.
        step = 50
        for first in range(0, n_companies, step):
            batch = _generate_slice(first, min(first + step, n_companies), seed, extra_concepts)
            for cik, body in batch.items():
                path = companyfacts_file(docroot, cik)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(body)
        done.write_text("ok\n")
    return docroot, ciks


def _generate_slice(first: int, stop: int, seed: int, extra_concepts: int) -> dict[int, bytes]:
    """Payloads of companies first..stop-1 exactly as `generate(stop, seed, ...)` makes them,
    without building the others (same random draws, payloads of the slice only)."""
    import random

    from synthetic_universe import SyntheticCompany, payloads

    rng = random.Random(seed)
    companies = []
    for i in range(stop):
        fye = rng.choice([12, 12, 12, 9, 6, 1, 3])
        scale = rng.randint(1, 50)
        if i >= first:
            companies.append(SyntheticCompany(
                8000000 + i, f"SYN{i:03d}", fye_month=fye, scale=scale, first_year=2019,
                last_year=2025, extra_concepts=extra_concepts,
            ))
    return payloads(companies)


def run_child(args: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run `python args...` and parse the JSON it prints last (for peak RSS per process)."""
    out = subprocess.run([sys.executable, *args], check=True, capture_output=True, text=True,
                         env={**os.environ, **(env or {})})
    return json.loads(out.stdout.strip().splitlines()[-1])
