"""aiwatch: is the AI boom paid for by real profits? A plain library (no Dagster import):
settings, the polite HTTP client and raw cache, one parser module per source, the DuckDB
warehouse and SQL model runner. `pipelines/` wires it into Dagster."""

__version__ = "0.1.0"
