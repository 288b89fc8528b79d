"""The one resource: aiwatch's settings, read from the environment contract at run time."""

from __future__ import annotations

import dagster as dg

from aiwatch.http import HttpClient
from aiwatch.settings import Settings
from aiwatch.warehouse import Warehouse


class AiwatchResource(dg.ConfigurableResource):
    """Settings from `AIWATCH_*` variables (see DESIGN.md); the HTTP client and the warehouse.

    Read at run time, not import time, so `dagster dev` picks up a changed environment on the
    next run and tests can point a run at a temporary home and a local fake server."""

    def settings(self) -> Settings:
        return Settings.from_env()

    def client(self) -> HttpClient:
        return HttpClient(self.settings())

    def warehouse(self) -> Warehouse:
        return Warehouse(self.settings())
