"""SQL models: `sql/<schema>/<name>.sql`, one SELECT each, becomes table `<schema>.<name>`.

A model's upstream tables are read from its SQL with sqlglot (as SQLMesh does), never kept by
hand, so the lineage Dagster shows is the lineage the SQL has. DuckDB's own
`get_table_names` raises on `JOIN … USING`, hence sqlglot.

A file documents itself, and the documentation lands in DuckDB as `COMMENT ON`:

    -- What the table answers and its grain: the leading `--` block is the table comment
    -- (and the Dagster asset description).
    with quarters as (select * from staging.quarters)
    select
        cik,            -- SEC central index key
        sum(val) as net_income_ttm, -- TTM net income: the sum of four discrete
                                    -- quarters (continuation lines belong to the same column)
    from quarters
    where period_end >= getvariable('window_start')

Column comments are the `--` (or `/* */`) comments on the final SELECT's columns: a comment on
a column's own line(s) describes it, an own-line comment directly below continues it, and an
own-line comment after a blank line (or after a line of code) describes the next column.
sqlglot's own `.comments` would give a continuation line to the *next* column, so they are
assigned from token positions instead. Every column of a `marts.*` model must have one.

Run-time parameters are DuckDB variables read with `getvariable('name')`; `run_model` sets
the ones a model reads (typed: a `date` stays a DATE) and refuses to run with one missing,
since an unset variable would silently read as NULL.
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import sqlglot
import sqlglot.errors
from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.tokens import Token, TokenType

from aiwatch.warehouse import replace_table_from_query, split_table_name

if TYPE_CHECKING:
    from aiwatch.settings import Settings

log = logging.getLogger(__name__)

DIALECT = "duckdb"
# Schemas whose tables come from SQL files: a dependency on one of them needs a file.
MODEL_SCHEMAS = ("staging", "marts")
# Schemas promised to users: every table and column must carry a comment.
DOCUMENTED_SCHEMAS = ("marts",)

_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")
_OPEN = {TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.L_BRACE}
_CLOSE = {TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.R_BRACE}
# Tokens that end the projection list of a SELECT at its own nesting level.
_PROJECTION_END = {
    TokenType.FROM,
    TokenType.WHERE,
    TokenType.GROUP_BY,
    TokenType.HAVING,
    TokenType.WINDOW,
    TokenType.QUALIFY,
    TokenType.ORDER_BY,
    TokenType.LIMIT,
    TokenType.UNION,
    TokenType.EXCEPT,
    TokenType.INTERSECT,
    TokenType.SEMICOLON,
}


class SqlModelError(ValueError):
    """A model file breaks the contract (one documented SELECT, resolvable dependencies)."""


@dataclass(frozen=True)
class SqlModel:
    """One SQL file and what was read from it."""

    schema: str
    name: str
    path: Path
    # The SELECT as written (header comment and trailing semicolon removed).
    sql: str
    # The leading `--` block: COMMENT ON TABLE and the Dagster asset description.
    description: str
    column_comments: dict[str, str] = field(default_factory=dict, hash=False)
    # Qualified upstream tables, sorted: 'raw.sec_companyfacts', 'staging.facts_selected'.
    deps: tuple[str, ...] = ()
    # Output columns of the final SELECT, in order, where the SQL names them.
    columns: tuple[str, ...] = ()
    # DuckDB variables the SQL reads with getvariable('…').
    variables: tuple[str, ...] = ()
    # The whole file, for code_version.
    source: str = field(default="", repr=False)

    @property
    def table(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def code_version(self) -> str:
        """A stable hash of the file text (Dagster's code_version; never Python's hash())."""
        return hashlib.sha256(self.source.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------------------
# Reading one file


def _header_comment(text: str) -> str:
    """The leading block of `--` lines (blank lines before it skipped), without the dashes."""
    lines: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line and not lines:
            continue
        if not line.startswith("--"):
            break
        body = line[2:]
        lines.append(body[1:] if body.startswith(" ") else body)
    return "\n".join(lines).strip()


def _gap_comments(text: str, start: int, end: int) -> list[tuple[int, int, str]]:
    """Comments in `text[start:end]`, a stretch between two tokens (so no strings in it).

    Returns (start offset, end offset, comment text) for each `--` and `/* */` comment.
    """
    found = []
    pos = start
    while pos < end:
        if text.startswith("--", pos):
            stop = text.find("\n", pos, end)
            stop = end if stop == -1 else stop
            found.append((pos, stop, text[pos + 2 : stop].strip()))
            pos = stop
        elif text.startswith("/*", pos):
            stop = text.find("*/", pos + 2, end)
            stop = end if stop == -1 else stop + 2
            found.append((pos, stop, text[pos + 2 : stop - 2].strip()))
            pos = stop
        else:
            pos += 1
    return found


def _projection_comments(text: str, tokens: list[Token]) -> list[str] | None:
    """Comment text per projection of the outermost SELECT, or None if there is none to read.

    The outermost SELECT is the first SELECT at nesting depth 0 (CTE bodies are parenthesized;
    in a UNION it is the left-most, which names the columns).
    """
    depth = 0
    select_at = None
    for i, token in enumerate(tokens):
        if token.token_type in _OPEN:
            depth += 1
        elif token.token_type in _CLOSE:
            depth -= 1
        elif depth == 0 and token.token_type == TokenType.SELECT:
            select_at = i
            break
    if select_at is None:
        return None

    # Which projection each token belongs to; the SELECT keyword and the end token to none.
    group_of: dict[int, int | None] = {select_at: None}
    group, depth, end_at = 0, 0, len(tokens)
    separators: set[int] = set()  # the commas between columns
    for i in range(select_at + 1, len(tokens)):
        kind = tokens[i].token_type
        if depth == 0 and kind in _PROJECTION_END:
            end_at = i
            break
        if kind in _OPEN:
            depth += 1
        elif kind in _CLOSE:
            depth -= 1
        group_of[i] = group
        if depth == 0 and kind == TokenType.COMMA:
            separators.add(i)
            group += 1
    group_of[end_at] = None
    comments: list[list[str]] = [[] for _ in range(group + 1)]

    newlines = [i for i, ch in enumerate(text) if ch == "\n"]

    def line(offset: int) -> int:
        return bisect.bisect_left(newlines, offset)

    for i in range(select_at, min(end_at, len(tokens))):
        previous_target: int | None = None
        previous_end_line = -1
        gap_start = tokens[i].end + 1
        gap_end = tokens[i + 1].start if i + 1 < len(tokens) else len(text)
        for start, stop, body in _gap_comments(text, gap_start, gap_end):
            if line(start) == line(tokens[i].end):
                # Trailing a token on its line: describes the column that token belongs to (a
                # comma's column is the one before it); one trailing SELECT itself is dropped.
                target = group_of.get(i)
            elif previous_target is not None and line(start) == previous_end_line + 1:
                target = previous_target  # a continuation line of the comment above
            elif i + 1 in separators:
                target = group_of[i + 1] + 1  # leads the column after a leading comma
            else:
                target = group_of.get(i + 1)  # an own-line comment leads the next column
            if target is not None and body:
                comments[target].append(body)
            previous_target, previous_end_line = target, line(max(start, stop - 1))
    return [" ".join(parts) for parts in comments]


def _final_select(query: exp.Expression) -> exp.Select | None:
    while isinstance(query, exp.SetOperation | exp.Subquery):
        query = query.this
    return query if isinstance(query, exp.Select) else None


def _output_name(projection: exp.Expression) -> str | None:
    """The column name DuckDB gives a projection, where the SQL states it (alias or column)."""
    if isinstance(projection, exp.Alias):
        return projection.alias
    if isinstance(projection, exp.Column) and not projection.is_star:
        return projection.name
    return None


def _dependencies(query: exp.Expression, path: Path) -> tuple[str, ...]:
    cte_names = {cte.alias_or_name.lower() for cte in query.find_all(exp.CTE)}
    deps = set()
    for table in query.find_all(exp.Table):
        # read_csv(...), range(...), unnest(...) parse as tables whose `this` is a function.
        if not isinstance(table.this, exp.Identifier):
            continue
        if not table.db:
            if table.name.lower() in cte_names:
                continue
            raise SqlModelError(
                f"{path}: table {table.name!r} is neither a CTE nor schema-qualified; "
                "write schema.name (raw., staging., marts.) so the dependency is explicit"
            )
        deps.add(f"{table.db}.{table.name}".lower())
    return tuple(sorted(deps))


def _variables(query: exp.Expression, path: Path) -> tuple[str, ...]:
    names = set()
    for call in query.find_all(exp.Anonymous):
        if call.name.lower() != "getvariable":
            continue
        arg = call.expressions[0] if call.expressions else None
        if not (isinstance(arg, exp.Literal) and arg.is_string):
            raise SqlModelError(f"{path}: getvariable() takes a literal name, got {call.sql()}")
        names.add(arg.this)
    return tuple(sorted(names))


def _parse_one_select(path: Path, text: str) -> tuple[exp.Query, list[Token], str]:
    """Parse a file that must hold exactly one query; return it, its tokens and its SQL."""
    try:
        statements = [
            s
            for s in sqlglot.parse(text, dialect=DIALECT)
            # A lone `;` (or `; -- comment`) after the SELECT is not a statement.
            if s is not None and not isinstance(s, exp.Semicolon)
        ]
        tokens = DuckDB().tokenize(text)
    except sqlglot.errors.SqlglotError as exc:
        raise SqlModelError(f"{path}: cannot parse the SQL: {exc}") from exc
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        kinds = [type(s).__name__ for s in statements] or ["nothing"]
        raise SqlModelError(
            f"{path}: a model is exactly one SELECT (WITH … SELECT counts); found {kinds}"
        )
    query = statements[0]
    body_tokens = [t for t in tokens if t.token_type != TokenType.SEMICOLON]
    sql = text[body_tokens[0].start : body_tokens[-1].end + 1]
    return query, tokens, sql


def load_model(path: Path, schema: str | None = None) -> SqlModel:
    """Read one model file; `schema` defaults to the name of the folder it is in."""
    path = Path(path)
    schema = schema or path.parent.name
    name = path.stem
    try:
        split_table_name(f"{schema}.{name}")
    except ValueError as exc:
        raise SqlModelError(f"{path}: {exc}") from exc
    text = path.read_text(encoding="utf-8")
    query, tokens, sql = _parse_one_select(path, text)

    final = _final_select(query)
    projections = final.expressions if final is not None else []
    names = [_output_name(p) for p in projections]
    per_projection = _projection_comments(text, tokens)
    if per_projection is not None and len(per_projection) != len(projections):
        raise SqlModelError(
            f"{path}: found {len(per_projection)} columns in the text of the final SELECT but "
            f"sqlglot parsed {len(projections)}; cannot tell which comment is whose"
        )
    column_comments = {
        n: c for n, c in zip(names, per_projection or [""] * len(names), strict=True) if n and c
    }
    model = SqlModel(
        schema=schema,
        name=name,
        path=path,
        sql=sql,
        description=_header_comment(text),
        column_comments=column_comments,
        deps=_dependencies(query, path),
        columns=tuple(n for n in names if n),
        variables=_variables(query, path),
        source=text,
    )
    if model.table in model.deps:
        raise SqlModelError(f"{path}: {model.table} reads itself")
    if schema in DOCUMENTED_SCHEMAS:
        _check_documented(model, projections, names)
    return model


def _check_documented(
    model: SqlModel, projections: list[exp.Expression], names: list[str | None]
) -> None:
    """marts.* is promised to users: `DESCRIBE`/duckdb_columns() must explain every column."""
    problems = []
    if not model.description:
        problems.append("no header comment (the leading -- block describes the table)")
    if not projections:
        problems.append("no final SELECT list to read columns from")
    for index, (projection, name) in enumerate(zip(projections, names, strict=True), start=1):
        if projection.is_star or isinstance(projection, exp.Columns):
            problems.append(f"column {index} is a star/COLUMNS(): list the columns")
        elif not name:
            problems.append(f"column {index} ({projection.sql(DIALECT)}) has no alias")
    uncommented = [n for n in names if n and n not in model.column_comments]
    if uncommented:
        problems.append("columns without a comment: " + ", ".join(uncommented))
    if problems:
        raise SqlModelError(f"{model.path} ({model.table}): " + "; ".join(problems))


# ---------------------------------------------------------------------------------------------
# A folder of models


def _topological(models: list[SqlModel]) -> list[SqlModel]:
    """Dependencies first; ties in name order so runs and the UI are deterministic."""
    by_table = {m.table: m for m in models}
    upstream = {m.table: {d for d in m.deps if d in by_table} for m in models}
    downstream: dict[str, set[str]] = {t: set() for t in by_table}
    for table, deps in upstream.items():
        for dep in deps:
            downstream[dep].add(table)
    waiting = {t: len(d) for t, d in upstream.items()}
    ready = [t for t, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    ordered = []
    while ready:
        table = heapq.heappop(ready)
        ordered.append(by_table[table])
        for child in downstream[table]:
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(ready, child)
    if len(ordered) != len(models):
        raise SqlModelError("dependency cycle: " + " -> ".join(_find_cycle(upstream, waiting)))
    return ordered


def _find_cycle(upstream: dict[str, set[str]], waiting: dict[str, int]) -> list[str]:
    """One cycle among the tables the sort could not place, as a path that returns to its start."""
    stuck = sorted(t for t, n in waiting.items() if n > 0)
    path: list[str] = []
    node = stuck[0]
    while node not in path:
        path.append(node)
        node = sorted(d for d in upstream[node] if waiting.get(d, 0) > 0)[0]
    cycle = path[path.index(node) :] + [node]
    return list(reversed(cycle))  # upstream first: a -> b means b reads a


def discover(sql_dir: Path, schemas: Iterable[str] = MODEL_SCHEMAS) -> list[SqlModel]:
    """Every `<sql_dir>/<schema>/<name>.sql` for `schemas`, checked, in dependency order.

    Other folders (e.g. `sql/audits/`, queries that are not tables) are not models.

    Raises SqlModelError on a file that is not one SELECT, an undocumented marts model, a
    dependency on a staging/marts table that has no file, or a cycle.
    """
    sql_dir = Path(sql_dir)
    models = [
        load_model(path, schema=schema)
        for schema in sorted(set(schemas))
        for path in sorted((sql_dir / schema).glob("*.sql"))
    ]
    known = {m.table for m in models}
    missing = [
        f"{m.table} reads {dep}"
        for m in models
        for dep in m.deps
        if dep.split(".")[0] in MODEL_SCHEMAS and dep not in known
    ]
    if missing:
        raise SqlModelError(
            f"dependencies on tables that have no file under {sql_dir}: " + "; ".join(missing)
        )
    return _topological(models)


# ---------------------------------------------------------------------------------------------
# Audits: queries that return the offending rows of a table (no rows = pass)

AUDITS_FOLDER = "audits"
# An audit is blocking (its failure stops downstream assets) only when its header says so;
# otherwise it warns, so a data quirk in one company does not hold back every mart.
_SEVERITY = re.compile(r"^severity:\s*(error|warn)\s*$", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Audit:
    """`sql/audits/<table>__<check>.sql` (or `<schema>.<table>__<check>.sql`): one SELECT
    returning the rows that break a rule of `table`; zero rows passes."""

    table: str
    name: str
    path: Path
    sql: str
    description: str
    blocking: bool
    deps: tuple[str, ...] = ()
    source: str = field(default="", repr=False)

    @property
    def code_version(self) -> str:
        return hashlib.sha256(self.source.encode("utf-8")).hexdigest()


def _audited_table(path: Path, sql_dir: Path, stem: str) -> str:
    if stem.count(".") == 1:
        return stem  # already schema.table
    for schema in reversed(MODEL_SCHEMAS):  # marts first: audits guard what users read
        if (sql_dir / schema / f"{stem}.sql").exists():
            return f"{schema}.{stem}"
    raise SqlModelError(
        f"{path}: no model {stem}.sql under {', '.join(MODEL_SCHEMAS)}; name audits "
        "<table>__<check>.sql or <schema>.<table>__<check>.sql"
    )


def load_audit(path: Path, sql_dir: Path) -> Audit:
    """Read one audit file; the table comes from the file name (`<table>__<check>`)."""
    path = Path(path)
    stem, sep, check = path.stem.rpartition("__")
    if not sep or not stem or not _IDENTIFIER.fullmatch(check):
        raise SqlModelError(f"{path}: name audits <table>__<check>.sql (check: [a-z_][a-z0-9_]*)")
    table = _audited_table(path, sql_dir, stem)
    try:
        split_table_name(table)
    except ValueError as exc:
        raise SqlModelError(f"{path}: {exc}") from exc
    text = path.read_text(encoding="utf-8")
    query, _, sql = _parse_one_select(path, text)
    description = _header_comment(text)
    severity = _SEVERITY.search(description)
    return Audit(
        table=table,
        name=check,
        path=path,
        sql=sql,
        description=description,
        blocking=bool(severity and severity.group(1).lower() == "error"),
        deps=_dependencies(query, path),
        source=text,
    )


def discover_audits(sql_dir: Path) -> list[Audit]:
    """Every `<sql_dir>/audits/*.sql`, sorted by table and check name."""
    folder = Path(sql_dir) / AUDITS_FOLDER
    audits = [load_audit(path, Path(sql_dir)) for path in sorted(folder.glob("*.sql"))]
    return sorted(audits, key=lambda a: (a.table, a.name))


# ---------------------------------------------------------------------------------------------
# Running


def set_variables(
    con: duckdb.DuckDBPyConnection, names: Iterable[str], variables: Mapping[str, object]
) -> None:
    """`SET VARIABLE name = ?` for each name, bound as a parameter so types survive."""
    missing = sorted(set(names) - set(variables))
    if missing:
        raise SqlModelError(f"variables not given (getvariable would read NULL): {missing}")
    for name in names:
        if not _IDENTIFIER.fullmatch(name):
            raise SqlModelError(f"variable name {name!r} must match [a-z_][a-z0-9_]*")
        con.execute(f"SET VARIABLE {name} = ?", [variables[name]])


def model_variables(settings: Settings) -> dict[str, object]:
    """The run-time parameters models read with `getvariable(...)`, from the settings."""
    return {
        "window_start": settings.window_start,
        "base_date": settings.base_date,
        "coverage_floor": settings.coverage_floor,
    }


def run_model(
    con: duckdb.DuckDBPyConnection,
    model: SqlModel,
    variables: Mapping[str, object] | None = None,
) -> int:
    """Build `model.table` from its SQL with its comments, atomically; return its row count.

    On any error (SQL, a column comment that names no column) the previous table stays.
    """
    set_variables(con, model.variables, variables or {})
    return replace_table_from_query(
        con,
        model.table,
        model.sql,
        comment=model.description or None,
        column_comments=model.column_comments,
    )


def run_all(
    con: duckdb.DuckDBPyConnection,
    models: Iterable[SqlModel],
    variables: Mapping[str, object] | None = None,
) -> dict[str, int]:
    """Run models in the order given (discover's order: dependencies first); rows per table."""
    rows = {}
    for model in models:
        rows[model.table] = run_model(con, model, variables)
        log.info("model %s: %d rows", model.table, rows[model.table])
    return rows
