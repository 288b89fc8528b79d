"""Settings from the environment: the one place that reads aiwatch's env contract.

See `DESIGN.md` ("Environment contract"). Everything else receives a `Settings`; nothing else
reads `os.environ`, so tests can build settings for a temporary home and a local fake server.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

# The repository root holds the bundled snapshot, the seeds and the SQL models.
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Source:
    """One HTTP source: the real host names its raw-cache folder whatever base URL is configured,
    so a run against a local test server leaves the same layout as a run against SEC."""

    name: str
    host: str
    base_url: str
    env_var: str
    # Requests per second across every process on this machine; None: no limit of ours.
    rate_per_second: float | None = None
    # SEC refuses anonymous clients; we refuse first, with a message that says what to set.
    needs_user_agent: bool = False
    # Sources that share one budget share one limiter: SEC's 10/s is per user, across its hosts.
    rate_group: str = ""

    @property
    def limiter_name(self) -> str:
        return self.rate_group or self.name


def _sources(env: Mapping[str, str], sec_rate: float) -> dict[str, Source]:
    specs = [
        # name, real host, default base URL, env var, rate, needs UA
        ("sec_data", "data.sec.gov", "https://data.sec.gov", "AIWATCH_SEC_DATA_URL", sec_rate, True),
        ("sec_www", "www.sec.gov", "https://www.sec.gov", "AIWATCH_SEC_WWW_URL", sec_rate, True),
        # Both S&P 500 membership projects publish their CSVs on GitHub.
        ("membership", "raw.githubusercontent.com", "https://raw.githubusercontent.com",
         "AIWATCH_MEMBERSHIP_URL", 5.0, False),
        # Yahoo answers 429 quickly to clients that hurry; pace it well below SEC.
        ("prices", "query1.finance.yahoo.com", "https://query1.finance.yahoo.com",
         "AIWATCH_PRICES_URL", 2.0, False),
        ("stooq", "stooq.com", "https://stooq.com", "AIWATCH_STOOQ_URL", 2.0, False),
        ("fred", "fred.stlouisfed.org", "https://fred.stlouisfed.org", "AIWATCH_FRED_URL", 2.0, False),
    ]
    return {
        name: Source(
            name, host, env.get(var, default).rstrip("/"), var, rate, ua, "sec" if ua else ""
        )
        for name, host, default, var, rate, ua in specs
    }


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    home: Path
    db_path: Path
    snapshot_dir: Path
    sec_user_agent: str | None
    offline: bool
    sources: dict[str, Source] = field(default_factory=dict)
    # First day of the analysis window: members since then are fetched, so 2022Q4 TTM and the
    # prior-year comparisons behind it exist.
    window_start: date = date(2019, 1, 1)
    # ChatGPT's public launch: the base date of "since the AI boom began" figures.
    base_date: date = date(2022, 11, 30)
    stooq_api_key: str | None = None
    # Share of S&P 500 members that must report a metric before an aggregate is trusted; the
    # coverage checks fail below it (the bundled snapshot holds a handful of companies).
    coverage_floor: float = 0.9
    # Daily prices: "yahoo" (no key) or "stooq" (needs AIWATCH_STOOQ_API_KEY).
    prices_source: str = "yahoo"
    # SEC refresh: refetch every member (not just those in the daily index) ...
    full_refresh: bool = False
    # ... or stream SEC's nightly companyfacts.zip instead of per-company requests ...
    bulk: bool = False
    # ... for every filer in the archive, not only S&P 500 members.
    all_filers: bool = False
    # Concurrent SEC downloads (threads sharing the one rate limiter): overlaps latency with
    # the limiter's spacing; never raises the rate.
    sec_workers: int = 4
    # DuckDB memory_limit while the big raw tables load (they stream from a Parquet spool;
    # measured peak for 13M facts: 617 MiB), so a load never takes the machine's memory.
    duckdb_load_memory_limit: str = "1GB"
    http_timeout_seconds: float = 30.0
    http_max_retries: int = 6

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        home = Path(env.get("AIWATCH_HOME", ".aiwatch")).resolve()
        user_agent = (env.get("AIWATCH_SEC_USER_AGENT") or "").strip() or None
        sec_rate = float(env.get("AIWATCH_SEC_RATE", "9"))
        return cls(
            home=home,
            db_path=Path(env.get("AIWATCH_DB") or home / "aiwatch.duckdb").resolve(),
            snapshot_dir=Path(env.get("AIWATCH_SNAPSHOT_DIR") or REPO_ROOT / "snapshot").resolve(),
            sec_user_agent=user_agent,
            # Without a declared user agent SEC cannot be called, so the run replays the snapshot.
            offline=_flag(env.get("AIWATCH_OFFLINE")) or user_agent is None,
            sources=_sources(env, sec_rate),
            window_start=date.fromisoformat(env.get("AIWATCH_WINDOW_START", "2019-01-01")),
            base_date=date.fromisoformat(env.get("AIWATCH_BASE_DATE", "2022-11-30")),
            stooq_api_key=(env.get("AIWATCH_STOOQ_API_KEY") or "").strip() or None,
            coverage_floor=float(env.get("AIWATCH_COVERAGE_FLOOR", "0.9")),
            prices_source=(env.get("AIWATCH_PRICES_SOURCE") or "yahoo").strip().lower(),
            full_refresh=_flag(env.get("AIWATCH_FULL_REFRESH")),
            bulk=_flag(env.get("AIWATCH_BULK")),
            all_filers=_flag(env.get("AIWATCH_ALL_FILERS")),
            sec_workers=max(1, int(env.get("AIWATCH_SEC_WORKERS") or 4)),
            duckdb_load_memory_limit=(
                env.get("AIWATCH_DUCKDB_LOAD_MEMORY_LIMIT") or ""
            ).strip() or "1GB",
        )

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)

    @property
    def raw_dir(self) -> Path:
        """Every response as fetched, `<host>/<url path>` plus `.meta.json` (the raw cache)."""
        return self.home / "raw"

    @property
    def build_db_path(self) -> Path:
        """The warehouse a run writes; users read `db_path`, a copy published after each run."""
        return self.home / "build" / "aiwatch.duckdb"

    @property
    def lock_dir(self) -> Path:
        """Cross-process locks: the shared rate limiter and the single DuckDB writer."""
        return self.home / "locks"

    @property
    def sql_dir(self) -> Path:
        return REPO_ROOT / "sql"

    @property
    def data_dir(self) -> Path:
        """Curated seed files (Mag7 list, claims, deals), each row with its source."""
        return REPO_ROOT / "data"
