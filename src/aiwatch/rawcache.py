"""The raw cache: every HTTP response body as fetched, one file per URL, with a `.meta.json` beside it.

Layout `<root>/<host>/<url path>`, the query string folded into the file name, so the cache,
the bundled `snapshot/` and the test server's document root share one format. Users compare
our figures with filings; the raw file (with its URL, sha256 and fetch time) is the provenance
of every number, so writes are atomic and a body that does not match its meta is never served.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

META_SUFFIX = ".meta.json"
# Marks the start of the encoded query in a file name; percent-encoded inside path segments
# so `a@b` (a literal path) and `a?b=` (a query) never share a file.
QUERY_MARK = "@"
# Query parameters that carry credentials never enter a key: keys name files, and file names
# are listed, logged and shared (the Stooq API key, for instance).
SECRET_PARAMS = frozenset({"apikey", "api_key", "key", "token", "access_token", "apitoken"})
# Characters kept readable in file names; everything else (including `/`, `\`, `%`, `@`, NUL)
# is percent-encoded, which keeps the encoding injective and every name a single segment.
_SEGMENT_SAFE = "-._~!$'()*+,;=:^"
_QUERY_SAFE = "-._~!$'()*+,;:^"
# Most filesystems cap a name at 255 bytes; longer names keep a readable head and a hash.
_MAX_NAME = 200


class UnsafePathError(ValueError):
    """A URL path or key that would name a file outside the cache root (or no file at all)."""


@dataclass(frozen=True)
class CachedResponse:
    """A cached body whose sha256 matched its meta when read (`body` is b"" from `read_file`)."""

    path: Path
    body: bytes
    meta: dict[str, Any]


def _check_text(value: str, what: str) -> None:
    if "\x00" in value:
        raise UnsafePathError(f"{what} contains NUL: {value!r}")
    if "\\" in value:
        raise UnsafePathError(f"{what} contains a backslash: {value!r}")


def _encode_segment(raw_segment: str, original_path: str) -> str:
    try:
        segment = unquote(raw_segment, errors="strict")
    except UnicodeDecodeError as exc:
        raise UnsafePathError(f"URL path is not UTF-8 once decoded: {original_path!r}") from exc
    _check_text(segment, "URL path segment")
    if "/" in segment:
        raise UnsafePathError(f"URL path has an encoded slash (%2F): {original_path!r}")
    if segment in {".", ".."}:
        raise UnsafePathError(f"URL path has a {segment!r} segment: {original_path!r}")
    return quote(segment, safe=_SEGMENT_SAFE)


def _shorten(name: str) -> str:
    if len(name.encode()) <= _MAX_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    return f"{name[:_MAX_NAME - 40]}~{digest}"


def public_params(params: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The parameters safe to name in a file or a log line: credentials dropped."""
    return [(k, v) for k, v in params if k.lower() not in SECRET_PARAMS]


def encode_query(params: Iterable[tuple[str, str]]) -> str:
    """Sorted `k=v&k=v`, percent-encoded so no `/`, `&`, `=` or `@` from a value survives."""
    pairs = sorted((str(k), str(v)) for k, v in public_params(params))
    for k, v in pairs:
        _check_text(k, "query parameter")
        _check_text(v, "query parameter")
    return "&".join(f"{quote(k, safe=_QUERY_SAFE)}={quote(v, safe=_QUERY_SAFE)}" for k, v in pairs)


def cache_key(host: str, path: str, params: Mapping[str, str] | None = None) -> str:
    """The relative POSIX key `<host>/<url path>` for a URL, e.g.
    `query1.finance.yahoo.com/v8/finance/chart/AAPL@interval=1d&period1=1546300800`.

    A `?query` inside `path` is merged with `params`; parameters are sorted and their
    credentials dropped, so one URL always maps to one file. Path segments are decoded once
    and re-encoded, so `/chart/%5EGSPC` and `/chart/^GSPC` share a file. Raises
    UnsafePathError for anything that could leave the root: `..`, `%2e%2e`, `%2F`, NUL,
    backslashes, an absolute or empty path after the host.
    """
    _check_text(host, "host")
    host = host.strip().lower()
    if not host or host in {".", ".."} or "/" in host or "%" in host or host.startswith("_"):
        raise UnsafePathError(f"not a host name: {host!r}")
    _check_text(path, "URL path")
    url_path, _, query = path.partition("?")
    pairs: list[tuple[str, str]] = parse_qsl(query, keep_blank_values=True) if query else []
    if params:
        pairs.extend((str(k), str(v)) for k, v in params.items())
    if not url_path.startswith("/"):
        url_path = "/" + url_path
    raw_segments = url_path[1:].split("/")
    if raw_segments == [""]:
        raise UnsafePathError(f"URL path names no file: {path!r}")
    # A trailing slash (`/q/d/l/`) is a directory URL: its file is named by the query alone.
    trailing = raw_segments[-1] == ""
    if trailing:
        raw_segments = raw_segments[:-1]
    if any(s == "" for s in raw_segments):
        raise UnsafePathError(f"URL path has an empty segment (//): {path!r}")
    segments = [_encode_segment(s, path) for s in raw_segments]
    query_part = encode_query(pairs)
    suffix = QUERY_MARK + query_part if (query_part or trailing) else ""
    if trailing:
        segments.append(suffix)
    else:
        segments[-1] += suffix
    segments[-1] = _shorten(segments[-1])
    if segments[-1].endswith(META_SUFFIX):
        raise UnsafePathError(f"URL path would collide with a meta sidecar: {path!r}")
    return "/".join([host, *segments])


def resolve(root: Path, key: str) -> Path:
    """The file for `key` under `root`, checked after symlink resolution to stay inside it."""
    _check_text(key, "cache key")
    if key.startswith("/") or any(part in {"", ".", ".."} for part in key.split("/")):
        raise UnsafePathError(f"not a relative cache key: {key!r}")
    root_resolved = Path(root).resolve()
    target = (root_resolved / key).resolve()
    if not target.is_relative_to(root_resolved) or target == root_resolved:
        raise UnsafePathError(f"cache key escapes {root_resolved}: {key!r}")
    return target


def meta_path(path: Path) -> Path:
    return path.with_name(path.name + META_SUFFIX)


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write via a temp file in the same directory, fsync, then os.replace: readers see the old
    file or the new one, never half of either (a crash leaves at most a stray temp file)."""
    atomic_write_chunks(path, [data])


def atomic_write_chunks(path: Path, chunks: Iterable[bytes]) -> tuple[str, int]:
    """`atomic_write_bytes` for a body that arrives in chunks (never all in memory); returns
    its sha256 and size. If `chunks` raises, the old file stays and the temp file goes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:100]}.", suffix=".tmp")
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as tmp:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                tmp.write(chunk)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_directory(path)
    return digest.hexdigest(), size


def _fsync_directory(path: Path) -> None:
    # Make the rename itself durable; best effort where directories cannot be opened.
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def _write_meta(path: Path, meta: Mapping[str, Any]) -> None:
    atomic_write_bytes(meta_path(path), json.dumps(meta, indent=1, sort_keys=True).encode() + b"\n")


def write(root: Path, key: str, body: bytes, meta: Mapping[str, Any]) -> Path:
    """Store `body` under `key`, then its meta (url, status, etag, last_modified, fetched_at,
    sha256, content_type, bytes). Body first: a crash in between leaves a meta whose sha256
    does not match, which `read` treats as missing."""
    return write_chunks(root, key, [body], meta)


def write_chunks(root: Path, key: str, chunks: Iterable[bytes], meta: Mapping[str, Any]) -> Path:
    """`write` for a body streamed in chunks (a multi-GB archive never sits in memory)."""
    path = resolve(root, key)
    full_meta: dict[str, Any] = {
        "url": None, "status": None, "etag": None, "last_modified": None, "content_type": None,
        **meta,
    }
    full_meta["fetched_at"] = full_meta.get("fetched_at") or utc_now_iso()
    full_meta["sha256"], full_meta["bytes"] = atomic_write_chunks(path, chunks)
    _write_meta(path, full_meta)
    return path


def read_meta(root: Path, key: str) -> dict[str, Any] | None:
    try:
        meta = json.loads(meta_path(resolve(root, key)).read_bytes())
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def read(root: Path, key: str) -> CachedResponse | None:
    """The cached body and meta, or None when either is missing or they disagree (sha256)."""
    return _read_checked(root, key, load_body=True)


def read_file(root: Path, key: str) -> CachedResponse | None:
    """`read` without loading the body (`body` is b""): the file is hashed as a stream, for
    bodies too large to hold (companyfacts.zip)."""
    return _read_checked(root, key, load_body=False)


def _read_checked(root: Path, key: str, *, load_body: bool) -> CachedResponse | None:
    path = resolve(root, key)
    meta = read_meta(root, key)
    if meta is None:
        return None
    body = b""
    try:
        if load_body:
            body = path.read_bytes()
            sha = hashlib.sha256(body).hexdigest()
        else:
            with path.open("rb") as file:
                sha = hashlib.file_digest(file, "sha256").hexdigest()
    except OSError:
        return None
    if sha != meta.get("sha256"):
        return None
    return CachedResponse(path=path, body=body, meta=meta)


def touch_meta(root: Path, key: str, **updates: Any) -> dict[str, Any] | None:
    """Record a revalidation (HTTP 304): a new fetched_at (plus any updated validators),
    written atomically. None when there is no valid cached copy to refresh."""
    cached = read_file(root, key)
    if cached is None:
        return None
    meta = {**cached.meta, **{k: v for k, v in updates.items() if v is not None}}
    meta["fetched_at"] = updates.get("fetched_at") or utc_now_iso()
    _write_meta(cached.path, meta)
    return meta


def write_rejected(root: Path, key: str, body: bytes, meta: Mapping[str, Any]) -> Path:
    """Keep a body a validator refused under `_rejected/<key>.<timestamp>` for inspection,
    away from the good copy (hosts never start with `_`, so no key lands here by accident)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return write(root, f"_rejected/{key}.{stamp}", body, meta)
