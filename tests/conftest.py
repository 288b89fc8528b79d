"""Shared fixtures. Every test gets its own AIWATCH_HOME; nothing reaches the network."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiwatch.settings import REPO_ROOT, Settings

SNAPSHOT_DIR = REPO_ROOT / "snapshot"
FIXTURES_DIR = Path(__file__).parent / "fixtures"


@pytest.fixture
def aiwatch_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A clean env contract for one test: a temporary home, offline, no user agent."""
    for var in [
        "AIWATCH_HOME", "AIWATCH_DB", "AIWATCH_SEC_USER_AGENT", "AIWATCH_OFFLINE",
        "AIWATCH_SNAPSHOT_DIR", "AIWATCH_STOOQ_API_KEY",
    ]:
        monkeypatch.delenv(var, raising=False)
    env = {"AIWATCH_HOME": str(tmp_path / "home"), "AIWATCH_OFFLINE": "1"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def settings(aiwatch_env: dict[str, str]) -> Settings:
    return Settings.from_env(aiwatch_env)
