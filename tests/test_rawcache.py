"""The raw cache: one URL, one file; keys never leave the root; a torn write is never served."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from aiwatch import rawcache
from aiwatch.rawcache import UnsafePathError, cache_key


@pytest.mark.parametrize(
    ("host", "path", "params", "expected"),
    [
        # The snapshot's own layout: plain paths map to themselves.
        ("data.sec.gov", "/api/xbrl/companyfacts/CIK0000320193.json", None,
         "data.sec.gov/api/xbrl/companyfacts/CIK0000320193.json"),
        ("www.sec.gov", "/files/company_tickers.json", {},
         "www.sec.gov/files/company_tickers.json"),
        # Parameters sorted into the file name, whatever order the caller used.
        ("query1.finance.yahoo.com", "/v8/finance/chart/AAPL",
         {"period2": "1700000000", "interval": "1d", "period1": "1546300800"},
         "query1.finance.yahoo.com/v8/finance/chart/AAPL@interval=1d&period1=1546300800"
         "&period2=1700000000"),
        # A query inside the path and params merge; encoded and plain paths share one file.
        ("query1.finance.yahoo.com", "/v8/finance/chart/%5EGSPC?interval=1d", {"range": "1y"},
         "query1.finance.yahoo.com/v8/finance/chart/^GSPC@interval=1d&range=1y"),
        ("query1.finance.yahoo.com", "/v8/finance/chart/^GSPC", {"range": "1y", "interval": "1d"},
         "query1.finance.yahoo.com/v8/finance/chart/^GSPC@interval=1d&range=1y"),
        # A directory URL: the query alone names the file; credentials never enter a key.
        ("stooq.com", "/q/d/l/", {"s": "aapl.us", "i": "d", "apikey": "SECRET"},
         "stooq.com/q/d/l/@i=d&s=aapl.us"),
        # `/` in a value cannot make a directory; a literal `@` cannot fake a query.
        ("fred.stlouisfed.org", "/graph/fredgraph.csv", {"id": "a/b&c=d"},
         "fred.stlouisfed.org/graph/fredgraph.csv@id=a%2Fb%26c%3Dd"),
        ("example.org", "/a@b", None, "example.org/a%40b"),
        ("Data.SEC.gov", "/x.json", None, "data.sec.gov/x.json"),
    ],
)
def test_cache_key_is_readable_and_deterministic(host, path, params, expected) -> None:
    assert cache_key(host, path, params) == expected


def test_long_query_keeps_name_under_filesystem_limit() -> None:
    key = cache_key("example.org", "/x", {"q": "v" * 1000})
    assert len(key.rsplit("/", 1)[1].encode()) <= 255
    assert key != cache_key("example.org", "/x", {"q": "v" * 999})


@pytest.mark.parametrize(
    ("host", "path"),
    [
        ("data.sec.gov", "/../../etc/passwd"),
        ("data.sec.gov", "/api/../../x"),
        ("data.sec.gov", "/%2e%2e/%2e%2e/etc/passwd"),
        ("data.sec.gov", "/%2e%2e%2f%2e%2e%2fetc/passwd"),
        ("data.sec.gov", "/a%2Fb"),
        ("data.sec.gov", "/a%2fb"),
        ("data.sec.gov", "/./x"),
        ("data.sec.gov", "/a\\..\\b"),
        ("data.sec.gov", "/a%5C..%5Cb"),
        ("data.sec.gov", "/a\x00b"),
        ("data.sec.gov", "/a%00b"),
        ("data.sec.gov", "//etc/passwd"),
        ("data.sec.gov", "/"),
        ("..", "/x"),
        ("/etc", "/x"),
        ("", "/x"),
        ("_rejected", "/x"),
        ("data.sec.gov", "/x.json.meta.json"),
    ],
)
def test_cache_key_rejects_paths_that_could_escape(host: str, path: str) -> None:
    with pytest.raises(UnsafePathError):
        cache_key(host, path)


@pytest.mark.parametrize("key", ["../x", "/etc/passwd", "a/../../x", "a//b", "a\\b", "a\x00b", "."])
def test_resolve_rejects_unsafe_keys(tmp_path: Path, key: str) -> None:
    with pytest.raises(UnsafePathError):
        rawcache.resolve(tmp_path, key)


def test_resolve_refuses_symlink_out_of_root(tmp_path: Path) -> None:
    root = tmp_path / "raw"
    root.mkdir()
    (root / "evil.host").symlink_to(tmp_path)
    with pytest.raises(UnsafePathError):
        rawcache.resolve(root, "evil.host/x")


def test_write_then_read_round_trips_with_meta(tmp_path: Path) -> None:
    key = cache_key("data.sec.gov", "/submissions/CIK0000320193.json")
    path = rawcache.write(tmp_path, key, b'{"cik": 320193}',
                          {"url": "https://data.sec.gov/submissions/CIK0000320193.json",
                           "status": 200, "etag": '"abc"'})
    assert path == tmp_path / key
    cached = rawcache.read(tmp_path, key)
    assert cached is not None and cached.body == b'{"cik": 320193}'
    meta = json.loads(rawcache.meta_path(path).read_text())
    assert meta["sha256"] == hashlib.sha256(b'{"cik": 320193}').hexdigest()
    assert meta["bytes"] == 15 and meta["status"] == 200 and meta["etag"] == '"abc"'
    assert meta["fetched_at"].endswith("Z") and "last_modified" in meta and "content_type" in meta
    # No temp files left behind.
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name, path.name + ".meta.json"]


def test_torn_write_reads_as_missing(tmp_path: Path) -> None:
    key = "data.sec.gov/x.json"
    path = rawcache.write(tmp_path, key, b"old complete body", {"status": 200})
    # A crash after the new body landed but before its meta: the meta describes the old body.
    path.write_bytes(b"new body, meta never written")
    assert rawcache.read(tmp_path, key) is None
    # A body with no meta at all (crash on the very first write) is missing too.
    rawcache.meta_path(path).unlink()
    assert rawcache.read(tmp_path, key) is None
    # A truncated meta file likewise.
    rawcache.meta_path(path).write_text('{"sha256": ')
    assert rawcache.read(tmp_path, key) is None
    assert rawcache.read(tmp_path, "data.sec.gov/never-written.json") is None


def test_touch_meta_records_revalidation(tmp_path: Path) -> None:
    key = "data.sec.gov/x.json"
    rawcache.write(tmp_path, key, b"body", {"status": 200, "fetched_at": "2020-01-01T00:00:00Z",
                                            "etag": '"e1"'})
    meta = rawcache.touch_meta(tmp_path, key, etag='"e1"')
    assert meta is not None and meta["fetched_at"] != "2020-01-01T00:00:00Z"
    assert rawcache.read(tmp_path, key).meta["fetched_at"] == meta["fetched_at"]
    assert rawcache.touch_meta(tmp_path, "data.sec.gov/missing.json") is None


def test_streamed_write_reads_back_without_loading_the_body(tmp_path: Path) -> None:
    chunks = [b"SYNTHETIC ", b"archive ", b"in chunks"]
    path = rawcache.write_chunks(tmp_path, "www.sec.gov/big.zip", iter(chunks), {"url": "u"})
    whole = b"".join(chunks)
    assert path.read_bytes() == whole
    cached = rawcache.read_file(tmp_path, "www.sec.gov/big.zip")
    assert cached is not None and cached.body == b"" and cached.path == path
    assert cached.meta["sha256"] == hashlib.sha256(whole).hexdigest()
    assert cached.meta["bytes"] == len(whole)
    # A body that no longer matches its meta is not served, streamed or not.
    path.write_bytes(b"tampered")
    assert rawcache.read_file(tmp_path, "www.sec.gov/big.zip") is None


def test_streamed_write_that_fails_midway_keeps_the_old_copy(tmp_path: Path) -> None:
    key = "www.sec.gov/big.zip"
    rawcache.write(tmp_path, key, b"old SYNTHETIC copy", {"url": "u"})

    def broken() -> Iterator[bytes]:
        yield b"half of a new "
        raise ConnectionError("connection reset mid-body")

    with pytest.raises(ConnectionError):
        rawcache.write_chunks(tmp_path, key, broken(), {"url": "u"})
    cached = rawcache.read(tmp_path, key)
    assert cached is not None and cached.body == b"old SYNTHETIC copy"
    assert sorted(p.name for p in (tmp_path / "www.sec.gov").iterdir()) == [
        "big.zip", "big.zip.meta.json"]  # no temp file left behind
