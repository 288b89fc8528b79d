"""The DuckDB warehouse: one serialized writer, atomic table replaces, a published read-only copy.

DuckDB allows one read-write process per file, and a reader in another process blocks that
writer too. So a run writes only `settings.build_db_path`, under a cross-process file lock,
and `publish()` then copies the checkpointed build file over `settings.db_path` with an atomic
`os.replace`. Users (the duckdb shell, notebooks, the CLI) open the published file, which is
never written in place: they never hold or wait on the writer's lock, a reader that already has
the old file open keeps reading the old inode, and a new reader sees the new, complete state.

Every table replace is one transaction (DuckDB's DDL is transactional, checked on duckdb 2.0):
a failure anywhere, including a bad column comment, rolls back and leaves the previous table.

Nothing here imports Dagster; `row_count` and `table_preview` exist for asset metadata.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
import filelock
import polars as pl
import pyarrow as pa

from aiwatch.settings import Settings

log = logging.getLogger(__name__)

SCHEMAS = ("raw", "staging", "marts")
WRITE_LOCK_FILE = "duckdb-writer.lock"
# Generous: a full rebuild of S&P 500 companyfacts takes minutes, and a queued run should wait
# for it rather than fail; a stuck writer still surfaces, as an error naming the lock file.
DEFAULT_LOCK_TIMEOUT_SECONDS = 3 * 3600.0

_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")

Frame = pl.DataFrame | pa.Table


class WarehouseLockTimeout(TimeoutError):
    """Another process held the writer lock for longer than we were willing to wait."""


def split_table_name(table: str) -> tuple[str, str]:
    """`'schema.name'` -> `('schema', 'name')`, refusing anything but lowercase identifiers.

    Table names are interpolated into DDL (DuckDB cannot bind identifiers as parameters), so
    this check is what keeps SQL injection and quoting surprises out.
    """
    parts = table.split(".")
    if len(parts) != 2 or not all(_IDENTIFIER.fullmatch(p) for p in parts):
        raise ValueError(
            f"table name {table!r} must be 'schema.name', each part matching [a-z_][a-z0-9_]*"
        )
    return parts[0], parts[1]


def quote_identifier(name: str) -> str:
    """A DuckDB double-quoted identifier (column names come from data and may be anything)."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """A DuckDB string literal: COMMENT ON takes no bound parameters."""
    return "'" + text.replace("'", "''") + "'"


def _to_arrow(data: Frame) -> pa.Table:
    if isinstance(data, pl.DataFrame):
        return data.to_arrow()
    if isinstance(data, pa.Table):
        return data
    raise TypeError(f"expected a polars DataFrame or a pyarrow Table, got {type(data).__name__}")


def _finish_pending(con: duckdb.DuckDBPyConnection) -> None:
    """Run a caller's half-read result to its end before we use the connection.

    DuckDB 2.0 refuses `register` (and more) while a result from `execute()` is not fully
    fetched, and `con.execute("SELECT count(*) …").fetchone()` leaves exactly that behind.
    Older DuckDB has no `complete()` and no such rule.
    """
    complete = getattr(con, "complete", None)
    if complete is not None:
        complete()


@contextmanager
def _registered(con: duckdb.DuckDBPyConnection, data: Frame) -> Iterator[str]:
    """Expose a frame to SQL under a fresh name (zero-copy Arrow scan), and always unregister."""
    view = f"__aiwatch_arrow_{uuid.uuid4().hex}"
    _finish_pending(con)
    con.register(view, _to_arrow(data))
    try:
        yield view
    finally:
        con.unregister(view)


def _apply_comments(
    con: duckdb.DuckDBPyConnection,
    table: str,
    comment: str | None,
    column_comments: Mapping[str, str] | None,
) -> None:
    if comment is not None:
        con.execute(f"COMMENT ON TABLE {table} IS {quote_literal(comment)}")
    for column, text in (column_comments or {}).items():
        # A comment on a column the table lacks raises: the doc must match the table.
        con.execute(
            f"COMMENT ON COLUMN {table}.{quote_identifier(column)} IS {quote_literal(text)}"
        )


def _in_transaction(con: duckdb.DuckDBPyConnection, table: str, body: Callable[[], None]) -> int:
    """Run `body` inside BEGIN … COMMIT, roll back on any error, return `table`'s row count."""
    _finish_pending(con)
    con.execute("BEGIN TRANSACTION")
    try:
        body()
        ((rows,),) = con.execute(f"SELECT count(*) FROM {table}").fetchall()
        con.execute("COMMIT")
    except BaseException:
        # After an error DuckDB has already aborted the transaction; ROLLBACK ends it cleanly.
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:
            log.debug("rollback after a failed replace of %s raised; ignored", table)
        raise
    return int(rows)


def replace_table(
    con: duckdb.DuckDBPyConnection,
    table: str,
    data: Frame,
    *,
    comment: str | None = None,
    column_comments: Mapping[str, str] | None = None,
) -> int:
    """Replace `schema.name` with `data` (and its comments) in one transaction; return rows.

    On any error the transaction rolls back, so readers of the build file and the next publish
    see the previous table, never a half-written or uncommented one.
    """
    split_table_name(table)
    with _registered(con, data) as view:

        def body() -> None:
            con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {view}")
            _apply_comments(con, table, comment, column_comments)

        rows = _in_transaction(con, table, body)
    log.info("replaced %s: %d rows", table, rows)
    return rows


def replace_table_from_query(
    con: duckdb.DuckDBPyConnection,
    table: str,
    select_sql: str,
    *,
    comment: str | None = None,
    column_comments: Mapping[str, str] | None = None,
) -> int:
    """Replace `schema.name` with the result of `select_sql` (plus comments), atomically.

    The SQL model runner's write path; `select_sql` is trusted project SQL, not user input.
    """
    split_table_name(table)

    def body() -> None:
        # The newline keeps a trailing `-- comment` in the model from swallowing anything.
        con.execute(f"CREATE OR REPLACE TABLE {table} AS\n{select_sql}\n")
        _apply_comments(con, table, comment, column_comments)

    rows = _in_transaction(con, table, body)
    log.info("replaced %s from SQL: %d rows", table, rows)
    return rows


def _empty_arrow(schema: pl.Schema | pa.Schema) -> pa.Table:
    if isinstance(schema, pa.Schema):
        return schema.empty_table()
    return pl.DataFrame(schema=schema).to_arrow()


@contextmanager
def _load_settings(con: duckdb.DuckDBPyConnection, memory_limit: str | None) -> Iterator[None]:
    """A big load's DuckDB settings for its duration (see `replace_rows`); other work on the
    connection (SQL models, readers of ordered results) keeps DuckDB's defaults."""
    if memory_limit is None:
        yield
        return
    _finish_pending(con)
    con.execute(f"SET memory_limit = {quote_literal(memory_limit)}")
    con.execute("SET preserve_insertion_order = false")
    try:
        yield
    finally:
        _finish_pending(con)
        con.execute("RESET memory_limit")
        con.execute("RESET preserve_insertion_order")


def replace_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    schema: pl.Schema | pa.Schema,
    batches: Iterable[Frame],
    *,
    key_column: str,
    keys: Iterable[int] | None,
    files: Sequence[Path] = (),
    also: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
    comment: str | None = None,
    memory_limit: str | None = None,
) -> int:
    """Replace only the rows of `keys` (rows whose `key_column` is one of them) with `batches`
    and the rows of the Parquet `files`, in ONE transaction; `keys=None` replaces every row.
    Return the table's row count.

    Why: a daily refresh changes a handful of companies in a 13M-row table; deleting and
    inserting theirs is far cheaper than rebuilding the table, and as atomic. The table is
    created with `schema`'s columns when missing. `also(con)` runs inside the same transaction
    (e.g. the log row describing this load), so it commits or rolls back with the rows.

    `files` (written by the caller beforehand, e.g. parsed while downloading) go in with ONE
    `INSERT … SELECT FROM read_parquet([...])`: DuckDB streams it and writes full row groups of
    the open transaction to the database file as it goes, so a full rebuild does not hold the
    table in memory. `memory_limit` (DuckDB syntax, '1GB') caps the load; it and
    `preserve_insertion_order = false` (rows need no order here; it lets the insert stream in
    parallel without buffering) are reset when the load ends.
    """
    split_table_name(table)
    expected = sorted(schema.names if isinstance(schema, pa.Schema) else schema.names())
    key_list = None if keys is None else sorted({int(k) for k in keys})
    sources = [str(f) for f in files]

    def body() -> None:
        with _registered(con, _empty_arrow(schema)) as empty:
            verb = "CREATE OR REPLACE TABLE" if key_list is None else "CREATE TABLE IF NOT EXISTS"
            con.execute(f"{verb} {table} AS SELECT * FROM {empty}")
        if key_list:
            with _registered(con, pa.table({"k": pa.array(key_list, pa.int64())})) as doomed:
                con.execute(
                    f"DELETE FROM {table} WHERE {quote_identifier(key_column)} IN "
                    f"(SELECT k FROM {doomed})"
                )
        for index, batch in enumerate(batches):
            columns = list(batch.columns) if isinstance(batch, pl.DataFrame) else batch.column_names
            if sorted(columns) != expected:
                raise ValueError(f"batch {index} for {table} does not match the declared schema")
            with _registered(con, batch) as view:
                con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {view}")
        if sources:
            listed = ", ".join(quote_literal(f) for f in sources)
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM read_parquet([{listed}])")
        _apply_comments(con, table, comment, None)
        if also is not None:
            also(con)

    with _load_settings(con, memory_limit):
        rows = _in_transaction(con, table, body)
    log.info("replaced %s rows of %s: %d rows now", "all" if key_list is None else
             f"{len(key_list)} keys'", table, rows)
    return rows


def upsert_rejects(
    con: duckdb.DuckDBPyConnection,
    table: str,
    rejects: Iterable[pl.DataFrame],
    *,
    replace_sources: Iterable[str] | None,
) -> int:
    """Inside the caller's transaction: drop `table`'s rows in `raw.rejects` that came from
    `replace_sources` (None: all of `table`'s), insert `rejects`; return rows inserted.

    The partial counterpart of `record_rejects`, for loads that replace a few companies."""
    split_table_name(table)
    parts = [_rejects_frame(table, f) for f in rejects if f.height]
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {REJECTS_TABLE} (table_name VARCHAR, source VARCHAR, "
        "reason VARCHAR, detail VARCHAR, record JSON, recorded_at TIMESTAMP WITH TIME ZONE)"
    )
    if replace_sources is None:
        con.execute(f"DELETE FROM {REJECTS_TABLE} WHERE table_name = ?", [table])
    else:
        sources = sorted(set(replace_sources))
        if sources:
            with _registered(con, pa.table({"s": pa.array(sources, pa.string())})) as gone:
                con.execute(
                    f"DELETE FROM {REJECTS_TABLE} WHERE table_name = ? "
                    f"AND source IN (SELECT s FROM {gone})", [table],
                )
    if not parts:
        return 0
    combined = pl.concat(parts)
    with _registered(con, combined) as view:
        con.execute(
            f"INSERT INTO {REJECTS_TABLE} SELECT table_name, source, reason, detail, "
            f"record::JSON, current_timestamp FROM {view}"
        )
    return combined.height


REJECTS_TABLE = "raw.rejects"
_REJECTS_COMMENT = (
    "Payload rows a parser refused, per target table (replaced at each load of that table): "
    "reason is the first problem, detail all of them, record the whole refused row as JSON"
)


def _rejects_frame(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    def text_column(name: str) -> pl.Expr:
        if name in frame.columns:
            return pl.col(name).cast(pl.String)
        return pl.lit(None, dtype=pl.String)

    return frame.select(
        pl.lit(table).alias("table_name"),
        text_column("source").alias("source"),
        text_column("reason").alias("reason"),
        text_column("detail").alias("detail"),
        # Each parser's rejects have their own columns; JSON keeps them all in one table.
        pl.struct(pl.all()).struct.json_encode().alias("record"),
    )


def record_rejects(
    con: duckdb.DuckDBPyConnection, table: str, rejects: Iterable[pl.DataFrame] | pl.DataFrame
) -> int:
    """Replace `table`'s rows in `raw.rejects` with `rejects` (any columns; `source`, `reason`
    and `detail` are lifted out when present), in one transaction; return the count."""
    split_table_name(table)
    frames = [rejects] if isinstance(rejects, pl.DataFrame) else list(rejects)
    parts = [_rejects_frame(table, f) for f in frames if f.height]
    combined = (
        pl.concat(parts)
        if parts
        else pl.DataFrame(
            schema={c: pl.String for c in ("table_name", "source", "reason", "detail", "record")}
        )
    )
    with _registered(con, combined) as view:

        def body() -> None:
            con.execute(
                f"CREATE TABLE IF NOT EXISTS {REJECTS_TABLE} (table_name VARCHAR, "
                "source VARCHAR, reason VARCHAR, detail VARCHAR, record JSON, "
                "recorded_at TIMESTAMP WITH TIME ZONE)"
            )
            con.execute(f"DELETE FROM {REJECTS_TABLE} WHERE table_name = ?", [table])
            con.execute(
                f"INSERT INTO {REJECTS_TABLE} SELECT table_name, source, reason, detail, "
                f"record::JSON, current_timestamp FROM {view}"
            )
            _apply_comments(con, REJECTS_TABLE, _REJECTS_COMMENT, None)

        _in_transaction(con, REJECTS_TABLE, body)
    if combined.height:
        log.warning("%d rejected rows for %s recorded in %s", combined.height, table, REJECTS_TABLE)
    return combined.height


def row_count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """Rows in `schema.name` (for `dagster/row_count` metadata)."""
    split_table_name(table)
    _finish_pending(con)
    ((rows,),) = con.execute(f"SELECT count(*) FROM {table}").fetchall()
    return int(rows)


def table_preview(con: duckdb.DuckDBPyConnection, table: str, limit: int = 10) -> str:
    """The first `limit` rows of `schema.name` as a Markdown table (for asset metadata)."""
    split_table_name(table)
    _finish_pending(con)
    result = con.execute(f"SELECT * FROM {table} LIMIT ?", [int(limit)])
    columns = [d[0] for d in result.description or []]

    def cell(value: object) -> str:
        return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")

    lines = [
        "| " + " | ".join(cell(c) for c in columns) + " |",
        "| " + " | ".join("---" for _ in columns) + " |",
    ]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in result.fetchall()]
    return "\n".join(lines)


DATA_DICTIONARY = "marts.data_dictionary"


def _create_data_dictionary(con: duckdb.DuckDBPyConnection) -> None:
    """A view of every mart column with its comment. DuckDB stores `COMMENT ON` but its
    `DESCRIBE` does not print comments (1.x and 2.0), so users read them here:
    `from marts.data_dictionary where table_name = 'mag7_earnings_share'`."""
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    con.execute(
        f"""
        CREATE OR REPLACE VIEW {DATA_DICTIONARY} AS
        SELECT c.table_name, c.column_index, c.column_name, c.data_type,
               c.comment AS column_comment, t.comment AS table_comment
        FROM duckdb_columns() AS c
        JOIN duckdb_tables() AS t USING (database_name, schema_name, table_name)
        WHERE c.schema_name = 'marts' AND c.database_name = current_database()
        ORDER BY c.table_name, c.column_index
        """
    )
    con.execute(
        f"COMMENT ON VIEW {DATA_DICTIONARY} IS 'Every marts column with its description: "
        "DESCRIBE does not print comments, this view does.'"
    )
    for column, text in {
        "table_name": "The mart (table in schema marts)",
        "column_index": "Position of the column in the table",
        "column_name": "The column",
        "data_type": "Its DuckDB type",
        "column_comment": "What the column holds and how it is computed",
        "table_comment": "What the table answers and its grain",
    }.items():
        con.execute(f"COMMENT ON COLUMN {DATA_DICTIONARY}.{column} IS {quote_literal(text)}")


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; not every platform lets a directory be opened.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Warehouse:
    """The build file a run writes, the published file users read, and the lock between runs."""

    def __init__(
        self, settings: Settings, *, lock_timeout_seconds: float = DEFAULT_LOCK_TIMEOUT_SECONDS
    ) -> None:
        self.settings = settings
        self.lock_timeout_seconds = lock_timeout_seconds

    @property
    def build_path(self) -> Path:
        return self.settings.build_db_path

    @property
    def published_path(self) -> Path:
        return self.settings.db_path

    @property
    def load_memory_limit(self) -> str:
        """DuckDB `memory_limit` for a big load (`replace_rows(memory_limit=...)`)."""
        return self.settings.duckdb_load_memory_limit

    @property
    def lock_path(self) -> Path:
        return self.settings.lock_dir / WRITE_LOCK_FILE

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """Hold the cross-process writer lock; re-entrant within one thread of one process."""
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        # One lock object per path per process (is_singleton), so a nested writer()/publish()
        # in the same thread re-enters instead of deadlocking on its own flock.
        lock = filelock.FileLock(self.lock_path, is_singleton=True)
        try:
            lock.acquire(timeout=self.lock_timeout_seconds)
        except filelock.Timeout as exc:
            raise WarehouseLockTimeout(
                f"waited {self.lock_timeout_seconds:.0f}s for the DuckDB writer lock "
                f"{self.lock_path}: another aiwatch run is still writing {self.build_path}"
            ) from exc
        try:
            yield
        finally:
            lock.release()

    @contextmanager
    def writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection to the build file, the only one across processes.

        Creates the `raw`, `staging` and `marts` schemas if missing; on exit checkpoints (so
        the file alone, without its WAL, holds everything) and closes.
        """
        with self.write_lock():
            self.build_path.parent.mkdir(parents=True, exist_ok=True)
            con = duckdb.connect(str(self.build_path))
            try:
                for schema in SCHEMAS:
                    con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
                yield con
                con.execute("CHECKPOINT")
            finally:
                con.close()

    def publish(self) -> Path:
        """Atomically make the current build file the published one; return its path.

        Under the writer lock: checkpoint the build file, copy it to a temporary file beside
        `db_path`, fsync, check that it opens read-only, then `os.replace` it onto `db_path`.
        """
        if not self.build_path.exists():
            raise FileNotFoundError(
                f"nothing to publish: the build warehouse {self.build_path} does not exist yet"
            )
        target = self.published_path
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
        with self.write_lock():
            self._drop_stale_copies()
            con = duckdb.connect(str(self.build_path))
            try:
                _create_data_dictionary(con)
                con.execute("CHECKPOINT")
            finally:
                con.close()
            try:
                with open(self.build_path, "rb") as src, open(tmp, "wb") as dst:
                    shutil.copyfileobj(src, dst, length=16 * 1024 * 1024)
                    dst.flush()
                    os.fsync(dst.fileno())
                # A copy that DuckDB cannot open must never replace a good published file.
                check = duckdb.connect(str(tmp), read_only=True)
                try:
                    check.execute("SELECT count(*) FROM duckdb_tables()").fetchall()
                finally:
                    check.close()
                # A WAL beside the published file belongs to the file being replaced, and
                # DuckDB refuses to open a file whose WAL does not match it: drop it before the
                # swap (and after, in case a writer was still appending).
                self._drop_stale_wal()
                os.replace(tmp, target)
                self._drop_stale_wal()
            finally:
                tmp.unlink(missing_ok=True)
        _fsync_dir(target.parent)
        log.info("published %s -> %s", self.build_path, target)
        return target

    # Metadata helpers as methods too, for callers that hold a Warehouse.
    def row_count(self, con: duckdb.DuckDBPyConnection, table: str) -> int:
        return row_count(con, table)

    def table_preview(self, con: duckdb.DuckDBPyConnection, table: str, limit: int = 10) -> str:
        return table_preview(con, table, limit)

    def _drop_stale_copies(self) -> None:
        """Remove half-made copies of publishes that were killed mid-copy (SIGKILL skips the
        cleanup): each is a whole warehouse, and a new pid never reuses the old name. Safe under
        the writer lock, which every publisher holds while its copy exists."""
        target = self.published_path
        for stale in target.parent.glob(f"{target.name}.tmp-*"):
            log.warning("removing %s, left by a publish that did not finish", stale)
            stale.unlink(missing_ok=True)

    def _drop_stale_wal(self) -> None:
        wal = self.published_path.with_name(self.published_path.name + ".wal")
        if wal.exists():
            log.warning(
                "removing %s: the published warehouse was opened read-write and written to; "
                "those changes are not kept (open it read-only: duckdb -readonly)",
                wal,
            )
            wal.unlink(missing_ok=True)

    def reader(self, path: Path | None = None) -> duckdb.DuckDBPyConnection:
        """A read-only connection to the published file (or `path`); never takes a write lock.

        Close it to see a later publish: DuckDB caches one database instance per path and
        process, so while any connection to the path is open in this process, new ones share
        the old (still complete) file it opened.
        """
        target = Path(path) if path is not None else self.published_path
        if not target.exists():
            raise FileNotFoundError(
                f"no warehouse at {target}: run the pipeline (make run) to build and publish it"
            )
        return duckdb.connect(str(target), read_only=True)
