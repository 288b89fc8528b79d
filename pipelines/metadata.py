"""What each materialization shows in the UI: row counts, coverage, what is missing."""

from __future__ import annotations

import dagster as dg
import polars as pl

from aiwatch.ingest import LoadResult

# Long lists are cut in the UI; the full list is in the run log.
_LIST_LIMIT = 50


def load_metadata(result: LoadResult, *, offline: bool) -> dict[str, dg.MetadataValue]:
    metadata: dict[str, dg.MetadataValue] = {
        "dagster/row_count": dg.MetadataValue.int(result.rows),
        "table": dg.MetadataValue.text(result.table),
        "mode": dg.MetadataValue.text("offline: bundled snapshot" if offline else "live"),
        "downloaded": dg.MetadataValue.int(result.fetched),
        "not_modified (304)": dg.MetadataValue.int(result.not_modified),
        "missing": dg.MetadataValue.int(len(result.missing)),
        "failed": dg.MetadataValue.int(len(result.failed)),
        "rejected_rows": dg.MetadataValue.int(result.rejects),
    }
    if result.missing:
        shown = ", ".join(result.missing[:_LIST_LIMIT])
        more = len(result.missing) - _LIST_LIMIT
        where = "the bundled snapshot" if offline else "the source"
        metadata["missing_list"] = dg.MetadataValue.text(
            f"not in {where}: {shown}" + (f" … and {more} more" if more > 0 else "")
        )
    if result.failed:
        metadata["failed_list"] = dg.MetadataValue.md(
            "\n".join(f"- {key}: {error}" for key, error in list(result.failed.items())[:_LIST_LIMIT])
        )
    if result.notes:
        metadata["notes"] = dg.MetadataValue.md("\n".join(f"- {note}" for note in result.notes))
    return metadata


FETCH_CHECK = "fetch_complete"


def fetch_check(result: LoadResult, *, offline: bool) -> dg.AssetCheckResult:
    """Every document asked for was served (or was already current). A failure (after retries)
    means that company's rows are from its last good payload; the check says which."""
    missing_severity = "expected offline: the snapshot holds a few companies" if offline else ""
    return dg.AssetCheckResult(
        check_name=FETCH_CHECK,
        passed=not result.failed,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "failed": dg.MetadataValue.int(len(result.failed)),
            "failed_list": dg.MetadataValue.md(
                "\n".join(f"- {key}: {error}" for key, error in result.failed.items()) or "none"
            ),
            "missing": dg.MetadataValue.int(len(result.missing)),
            "missing_note": dg.MetadataValue.text(
                missing_severity or "not served by the source (404): no such document"
            ),
        },
    )


def markdown_table(frame: pl.DataFrame) -> str:
    """A small frame as a Markdown table for the UI (no pandas/tabulate needed)."""
    if frame.is_empty():
        return "_no rows_"
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * frame.width
    rows = ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in frame.rows()]
    return "\n".join([header, rule, *rows])
