"""`aiwatch`: the published warehouse from a terminal.

    aiwatch sql "select * from marts.mag7_earnings_share"   # read-only query, pretty table
    aiwatch claims                                          # each claim against the data
    aiwatch status                                          # last run, source freshness, tables
    aiwatch report [--open]                                 # HTML report with charts

Every command reads the PUBLISHED database (`Settings.db_path`), opened read-only: it never
holds or waits on the pipeline's writer lock. A user mistake (bad SQL, a write attempt, no
database yet) prints one `error:` line and one `hint:` line on stderr and exits with 2, never a
traceback.
"""

from __future__ import annotations

import argparse
import decimal
import json
import sys
import webbrowser
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import duckdb
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table
from rich.text import Text

from aiwatch.rawcache import META_SUFFIX
from aiwatch.settings import Settings

EXIT_OK = 0
EXIT_USER_ERROR = 2
# Every source is refreshed by the daily schedule; a day's slack for a late or failed run.
STALE_AFTER = timedelta(days=2)
# Printing more rows than this helps no one in a terminal; `limit` in the SQL says otherwise.
DEFAULT_MAX_ROWS = 500
# Statement types that only read. DESCRIBE, SHOW, SUMMARIZE, FROM-first and PIVOT-free
# queries parse as SELECT; everything else (COPY … TO, EXPORT, ATTACH, INSTALL/LOAD, SET,
# PRAGMA, CALL, DDL, DML) is refused before it runs, on top of the read-only connection.
READ_ONLY_STATEMENTS = frozenset({duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN})
# No file, network or extension access from a user's query: reading the database is all.
_CONNECTION_CONFIG = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}
_VERDICT_STYLES = {
    "supported": "green",
    "contradicted": "red",
    "partly": "yellow",
}


class UserError(Exception):
    """A mistake the user can fix: shown as `error: …` and `hint: …`, exit code 2."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class SourceFreshness:
    """The newest response in the raw cache for one source."""

    name: str
    host: str
    files: int
    newest: datetime | None
    # 'fetched_at' (when we fetched it), 'last_modified' (the server's date; the bundled
    # snapshot records no fetch time) or 'file mtime'.
    basis: str

    def is_stale(self, now: datetime) -> bool:
        return self.newest is None or now - self.newest > STALE_AFTER


# ---------------------------------------------------------------------------------------------
# Database access


def open_published(settings: Settings) -> duckdb.DuckDBPyConnection:
    """The published warehouse, read-only and without file or network access."""
    path = settings.db_path
    if not path.exists():
        raise UserError(
            f"no published database at {path}",
            "run `make run` to build it (or point AIWATCH_DB at an existing file)",
        )
    try:
        return duckdb.connect(str(path), read_only=True, config=_CONNECTION_CONFIG)
    except duckdb.Error as exc:
        raise UserError(
            f"cannot open {path}: {_first_line(exc)}",
            "is it a DuckDB file? `make run` publishes one",
        ) from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def check_read_only(con: duckdb.DuckDBPyConnection, query: str) -> None:
    """Refuse anything but one read-only statement, before it runs.

    The read-only connection already refuses writes to the database; this also stops
    statements that write elsewhere (`COPY … TO`, `EXPORT DATABASE`), attach other files,
    install or load extensions, or change settings.
    """
    try:
        statements = con.extract_statements(query)
    except duckdb.Error as exc:
        raise UserError(
            f"cannot parse the SQL: {_first_line(exc)}",
            'check the statement; `aiwatch sql "show all tables"` lists what you can query',
        ) from exc
    if not statements:
        raise UserError("no SQL statement given", 'try `aiwatch sql "show all tables"`')
    if len(statements) > 1:
        raise UserError(
            f"{len(statements)} statements given; aiwatch sql runs one at a time",
            "run each statement separately",
        )
    kind = statements[0].type
    if kind not in READ_ONLY_STATEMENTS:
        raise UserError(
            f"refused: {kind.name} statements are not allowed, the published database is read-only",
            "aiwatch sql runs SELECT (DESCRIBE, SHOW, SUMMARIZE, EXPLAIN); the pipeline "
            "(`make run`) is what writes the warehouse",
        )


def run_query(
    con: duckdb.DuckDBPyConnection, query: str, max_rows: int
) -> tuple[list[str], list[tuple[Any, ...]], bool]:
    """Column names, at most `max_rows` rows, and whether more rows were left out."""
    try:
        cursor = con.execute(query)
        rows = cursor.fetchmany(max_rows + 1)
    except duckdb.CatalogException as exc:
        raise UserError(
            _first_line(exc), '`aiwatch sql "show all tables"` lists the tables and columns'
        ) from exc
    except duckdb.PermissionException as exc:
        raise UserError(
            f"refused: {_first_line(exc)}",
            "aiwatch sql reads the published database only (no files, network or extensions)",
        ) from exc
    except duckdb.Error as exc:
        raise UserError(
            _first_line(exc), "check the statement; `describe <schema.table>` shows the columns"
        ) from exc
    names = [d[0] for d in cursor.description or []]
    return names, rows[:max_rows], len(rows) > max_rows


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    row = con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
        [schema, name],
    ).fetchone()
    return bool(row and row[0])


# ---------------------------------------------------------------------------------------------
# Rendering


def _console() -> Console:
    """Rich console on stdout; wide when not a terminal so piped tables are not truncated."""
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=200)
    return console


def _cell(value: Any) -> Text:
    if value is None:
        return Text("NULL", style="dim")
    if isinstance(value, float):
        return Text(repr(value))
    if isinstance(value, list | tuple):
        return Text("[" + ", ".join("NULL" if v is None else str(v) for v in value) + "]")
    return Text(str(value))


def _result_table(names: Sequence[str], rows: Sequence[Sequence[Any]]) -> Table:
    table = Table(show_lines=False)
    numeric = [
        bool(rows)
        and all(isinstance(r[i], int | float | decimal.Decimal) or r[i] is None for r in rows)
        for i in range(len(names))
    ]
    for name, is_number in zip(names, numeric, strict=True):
        table.add_column(name, justify="right" if is_number else "left", overflow="fold")
    for row in rows:
        table.add_row(*(_cell(v) for v in row))
    return table


def _figure(value: Any, unit: str | None) -> str:
    """A cited or recomputed figure the way a person reads it: 42.1%, $247.0bn, 1.23."""
    if value is None:
        return "—"
    if not isinstance(value, int | float):
        return str(value)
    if unit in {"share", "growth"}:
        return f"{value * 100:.1f}%"
    if unit == "usd":
        return f"${value / 1e9:,.1f}bn"
    return f"{value:,.4g}"


# ---------------------------------------------------------------------------------------------
# Commands


def cmd_sql(args: argparse.Namespace, settings: Settings) -> int:
    con = open_published(settings)
    try:
        check_read_only(con, args.query)
        names, rows, truncated = run_query(con, args.query, args.max_rows)
    finally:
        con.close()
    console = _console()
    console.print(_result_table(names, rows))
    suffix = f" (first {args.max_rows}; add a LIMIT or --max-rows)" if truncated else ""
    console.print(f"{len(rows)} row{'s' if len(rows) != 1 else ''}{suffix}", style="dim")
    return EXIT_OK


# Columns `aiwatch claims` shows, in order, where marts.claim_checks has them.
CLAIM_COLUMNS = (
    "claim_id", "claim", "cited_figure", "recomputed_figure", "as_of", "coverage", "verdict",
    "method",
)


def cmd_claims(args: argparse.Namespace, settings: Settings) -> int:
    con = open_published(settings)
    try:
        if not table_exists(con, "marts", "claim_checks"):
            raise UserError(
                f"{settings.db_path} has no marts.claim_checks table yet",
                "run `make run` with a version of aiwatch that builds the claim checks",
            )
        cursor = con.execute("select * from marts.claim_checks")
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    finally:
        con.close()
    shown = [c for c in CLAIM_COLUMNS if c in names] or names
    rows.sort(key=lambda r: str(r.get("claim_id") or r.get("claim") or ""))
    table = Table(title="Claims of the source article, recomputed", show_lines=True)
    for column in shown:
        table.add_column(column, overflow="fold")
    for row in rows:
        unit = row.get("cited_unit")
        cells = []
        for column in shown:
            value = row.get(column)
            if isinstance(value, decimal.Decimal):
                value = float(value)  # DuckDB DECIMAL: format it like any other number
            if column in {"cited_figure", "recomputed_figure"}:
                cells.append(Text(_figure(value, unit)))
            elif column == "coverage" and isinstance(value, float) and 0 <= value <= 1:
                cells.append(Text(f"{value * 100:.0f}%"))
            elif column == "verdict":
                verdict = "" if value is None else str(value)
                cells.append(Text(verdict, style=_VERDICT_STYLES.get(verdict, "dim")))
            else:
                cells.append(_cell(value))
        table.add_row(*cells)
    _console().print(table)
    return EXIT_OK


def _meta_time(meta: dict[str, Any], meta_path: Path) -> tuple[datetime | None, str]:
    fetched = meta.get("fetched_at")
    if fetched:
        try:
            stamp = datetime.fromisoformat(str(fetched).replace("Z", "+00:00"))
            return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)), "fetched_at"
        except ValueError:
            pass
    modified = meta.get("last_modified")
    if modified:
        try:
            return parsedate_to_datetime(str(modified)), "last_modified"
        except (TypeError, ValueError):
            pass
    return datetime.fromtimestamp(meta_path.stat().st_mtime, tz=UTC), "file mtime"


def source_freshness(settings: Settings) -> list[SourceFreshness]:
    """Per source, the newest `.meta.json` under `raw_dir/<host>/` (hosts shared by two
    sources, if any, are reported once per source)."""
    result = []
    for source in settings.sources.values():
        folder = settings.raw_dir / source.host
        newest: datetime | None = None
        basis = "—"
        files = 0
        if folder.is_dir():
            for meta_path in folder.rglob(f"*{META_SUFFIX}"):
                try:
                    meta = json.loads(meta_path.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    continue  # a torn or foreign file says nothing about freshness
                files += 1
                stamp, how = _meta_time(meta, meta_path)
                if stamp is not None and (newest is None or stamp > newest):
                    newest, basis = stamp, how
        result.append(SourceFreshness(source.name, source.host, files, newest, basis))
    return result


def table_row_counts(
    con: duckdb.DuckDBPyConnection, schemas: Sequence[str] = ("raw", "marts")
) -> list[tuple[str, int]]:
    tables = con.execute(
        "select schema_name, table_name from duckdb_tables() "
        "where schema_name in (select unnest(?)) order by schema_name, table_name",
        [list(schemas)],
    ).fetchall()
    counts = []
    for schema, name in tables:
        # Names come from the catalog; quoted all the same.
        qualified = f'"{schema}"."{name}"'
        (count,) = con.execute(f"select count(*) from {qualified}").fetchone() or (0,)
        counts.append((f"{schema}.{name}", int(count)))
    return counts


def _age(now: datetime, then: datetime) -> str:
    seconds = max(0, int((now - then).total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    console = _console()
    now = datetime.now(UTC)
    path = settings.db_path
    mode = "offline: replays the snapshot" if settings.offline else "live"
    console.print(f"[bold]warehouse[/bold] {path}  ({mode}, snapshot {settings.snapshot_dir})")
    if path.exists():
        published = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        console.print(
            f"last run published {published:%Y-%m-%d %H:%M} UTC ({_age(now, published)})"
        )
    else:
        console.print("[yellow]no published database yet[/yellow]: run `make run`")

    sources = Table(title=f"Sources (raw cache {settings.raw_dir})")
    for column in ("source", "host", "responses", "newest", "age", "basis", "state"):
        sources.add_column(column)
    stale_names = []
    # A full S&P 500 cache holds thousands of responses: show that work is under way.
    with console.status("reading the raw cache…"):
        freshness = source_freshness(settings)
    for fresh in freshness:
        if fresh.newest is None:
            state = Text("never fetched", style="yellow")
        elif fresh.is_stale(now):
            state = Text("STALE", style="bold red")
        else:
            state = Text("fresh", style="green")
        if fresh.is_stale(now):
            stale_names.append(fresh.name)
        sources.add_row(
            fresh.name,
            fresh.host,
            str(fresh.files),
            "—" if fresh.newest is None else f"{fresh.newest:%Y-%m-%d %H:%M}",
            "—" if fresh.newest is None else _age(now, fresh.newest),
            fresh.basis,
            state,
        )
    console.print(sources)

    if path.exists():
        con = open_published(settings)
        try:
            counts = table_row_counts(con)
        finally:
            con.close()
        tables = Table(title="Tables in the published database")
        tables.add_column("table")
        tables.add_column("rows", justify="right")
        for name, count in counts:
            tables.add_row(name, Text(f"{count:,}", style="yellow" if count == 0 else ""))
        console.print(tables)
    if stale_names:
        console.print(
            f"[bold red]stale[/bold red] (older than {STALE_AFTER.days} days or never fetched): "
            + ", ".join(stale_names)
        )
    return EXIT_OK


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    # Imported here: matplotlib takes a moment to load and the other commands do not need it.
    from aiwatch.report import build_report

    out_dir = settings.home / "report"
    con = open_published(settings)
    console = _console()
    try:
        with Progress(
            TextColumn("[progress.description]{task.description}"), BarColumn(),
            TextColumn("{task.completed}/{task.total}"), console=console, transient=True,
        ) as progress:
            task = progress.add_task("building the report", total=None)

            def step(done: int, total: int, what: str) -> None:
                progress.update(task, completed=done, total=total, description=what)

            try:
                result = build_report(con, out_dir, progress=step, coverage_floor=settings.coverage_floor)
            except OSError as exc:
                raise UserError(
                    f"cannot write the report to {out_dir}: {_first_line(exc)}",
                    "check that AIWATCH_HOME is writable",
                ) from exc
    finally:
        con.close()
    with_data = sum(c.has_data for c in result.charts)
    console.print(
        f"{len(result.charts)} charts ({with_data} with data), {result.claims} claims", style="dim"
    )
    # The path alone on its own line, so scripts can take the last line.
    print(result.html_path)
    if args.open:
        webbrowser.open(result.html_path.as_uri())
    return EXIT_OK


# ---------------------------------------------------------------------------------------------
# Entry point


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aiwatch",
        description="Query and check the published aiwatch warehouse (read-only).",
    )
    commands = parser.add_subparsers(dest="command", metavar="command", required=True)

    sql = commands.add_parser("sql", help="run one read-only SQL query, print a table")
    sql.add_argument("query", help='e.g. "select * from marts.mag7_earnings_share"')
    sql.add_argument(
        "--max-rows", type=int, default=DEFAULT_MAX_ROWS,
        help=f"print at most this many rows (default {DEFAULT_MAX_ROWS})",
    )
    sql.set_defaults(handler=cmd_sql)

    claims = commands.add_parser("claims", help="each claim, recomputed, with its verdict")
    claims.set_defaults(handler=cmd_claims)

    status = commands.add_parser(
        "status", help="last run, freshness of each source, row counts of raw.* and marts.*"
    )
    status.set_defaults(handler=cmd_status)

    report = commands.add_parser(
        "report", help="write the HTML report with charts into $AIWATCH_HOME/report"
    )
    report.add_argument("--open", action="store_true", help="open it in the default browser")
    report.set_defaults(handler=cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; return the exit code (0 ok, 2 user error)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed usage and the problem already
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USER_ERROR
    try:
        return int(args.handler(args, Settings.from_env()))
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print(f"hint: {exc.hint}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
