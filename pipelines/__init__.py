"""The Dagster code location: assets that call the aiwatch library."""
