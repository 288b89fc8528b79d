"""Curated seed files (data/*.csv): small hand-kept lists where every row names its source.

A seed row without a source cannot be checked by a user, so loading refuses it outright
instead of quietly carrying an unsourced figure into the marts.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl


class SeedError(ValueError):
    """A seed file is malformed or has a row without a source."""


def load_seed(path: Path | str) -> pl.DataFrame:
    """Read a seed CSV and check that every row has a non-empty `source`. Types are inferred
    from the whole file (CIKs as integers, ISO dates as dates, amounts as numbers), so the raw
    table joins with SEC data without casts. Raises SeedError naming the file, line and row."""
    path = Path(path)
    frame = pl.read_csv(path, infer_schema_length=None, try_parse_dates=True, comment_prefix="#")
    if "source" not in frame.columns:
        raise SeedError(f"{path.name}: no 'source' column (header {frame.columns})")
    blank = frame.with_row_index("_line", offset=2).filter(
        pl.col("source").is_null() | (pl.col("source").str.strip_chars() == "")
    )
    if blank.height:
        first = blank.row(0, named=True)
        line = first.pop("_line")
        raise SeedError(
            f"{path.name}: line {line} has no source: {first} ({blank.height} such row(s))"
        )
    return frame
