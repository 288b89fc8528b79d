"""Dagster assets, one module per source or layer."""
