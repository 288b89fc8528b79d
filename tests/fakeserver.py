"""A local stand-in for every HTTP source, serving a directory in raw-cache layout.

The document root has the layout of `snapshot/` and `$AIWATCH_HOME/raw/`: a request for
`/<host>/<url path>?<query>` is answered with `docroot/<rawcache.cache_key(host, path?query)>`,
so `http://127.0.0.1:PORT/data.sec.gov/api/xbrl/companyfacts/CIK0000320193.json` serves
`docroot/data.sec.gov/api/xbrl/companyfacts/CIK0000320193.json`. Point a test's settings at it
with `server.env()`; it binds 127.0.0.1 only, so nothing reaches the network.

    with FakeServer(SNAPSHOT_DIR) as server:
        settings = Settings.from_env({**server.env(), "AIWATCH_HOME": str(tmp_path / "home"),
                                      "AIWATCH_SEC_USER_AGENT": "aiwatch-tests tests@example.com"})
        server.inject("/data.sec.gov/*", Fault(status=503), Fault(status=429,
                      headers={"Retry-After": "1"}))   # the next two matching requests fail
        ...
        assert server.log[-1].headers["User-Agent"] == "aiwatch-tests tests@example.com"

Like a real server it sends ETag (quoted sha256) and Last-Modified (the file's mtime), answers
304 to a matching If-None-Match (or, without one, an If-Modified-Since at or after the mtime),
and gzips when the client accepts it. `server.log` records every request (`LoggedRequest`).
"""

from __future__ import annotations

import email.utils
import fnmatch
import gzip
import hashlib
import mimetypes
import socket
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

from aiwatch import rawcache
from aiwatch.settings import Settings

__all__ = ["FakeServer", "Fault", "LoggedRequest"]


@dataclass(frozen=True)
class Fault:
    """What to do to one matching request instead of (or on top of) the normal answer.

    status/body/content_type/headers replace the normal answer's (None: keep it); `delay`
    waits before answering (longer than the client's timeout: a read timeout); `reset` sends
    the headers and half the body, then closes the connection; `corrupt_gzip` sends a body
    marked gzip that does not decompress.
    """

    status: int | None = None
    body: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str | None = None
    delay: float = 0.0
    reset: bool = False
    corrupt_gzip: bool = False


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the server saw it. `t` is time.monotonic() on arrival; `path` is the
    request target as sent (with its query); `bytes_sent` counts body bytes written."""

    t: float
    method: str
    path: str
    headers: dict[str, str]
    status: int
    bytes_sent: int


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: FakeServer

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients that time out or are reset mid-answer are the point of fault tests.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 (the http.server naming scheme)
        self.server.owner._answer(self)

    def log_message(self, format: str, *args: object) -> None:
        pass


class FakeServer:
    """Context manager: a threading HTTP server on 127.0.0.1 (port chosen by the OS)."""

    def __init__(self, docroot: Path, *, latency: float = 0.0) -> None:
        self.docroot = Path(docroot)
        self.latency = latency
        self.log: list[LoggedRequest] = []
        self._lock = threading.Lock()
        self._faults: list[tuple[str, deque[Fault]]] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> FakeServer:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
            name=f"FakeServer:{self.port}",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what tests use -------------------------------------------------------------------

    @property
    def port(self) -> int:
        assert self._server is not None, "FakeServer is not started"
        return self._server.server_address[1]

    def base_url(self, host: str) -> str:
        """`http://127.0.0.1:PORT/<host>`: the base URL that stands in for `https://<host>`."""
        return f"http://127.0.0.1:{self.port}/{host}"

    def env(self) -> dict[str, str]:
        """Every source's AIWATCH_*_URL pointed at this server."""
        sources = Settings.from_env({}).sources.values()
        return {source.env_var: self.base_url(source.host) for source in sources}

    def inject(self, path_glob: str, *faults: Fault) -> None:
        """Queue faults for requests whose path (without query, e.g. `/data.sec.gov/api/*`)
        matches `path_glob` (fnmatch; `*` crosses `/`); each matching request takes one."""
        with self._lock:
            self._faults.append((path_glob, deque(faults)))

    def requests_to(self, path_glob: str) -> list[LoggedRequest]:
        """Logged requests whose path (without query) matches `path_glob`."""
        with self._lock:
            return [r for r in self.log if fnmatch.fnmatchcase(r.path.partition("?")[0], path_glob)]

    # -- serving --------------------------------------------------------------------------

    def _next_fault(self, path: str) -> Fault | None:
        with self._lock:
            for glob, queue in self._faults:
                if queue and fnmatch.fnmatchcase(path, glob):
                    return queue.popleft()
        return None

    def _normal_answer(self, target: str, request_headers: Mapping[str, str]
                       ) -> tuple[int, bytes, dict[str, str]]:
        host, _, rest = target.lstrip("/").partition("/")
        try:
            file = rawcache.resolve(self.docroot, rawcache.cache_key(host, "/" + rest))
        except rawcache.UnsafePathError:
            return 400, b"unsafe path\n", {"Content-Type": "text/plain"}
        if not file.is_file():
            return 404, b"not found\n", {"Content-Type": "text/plain"}
        body = file.read_bytes()
        mtime = int(file.stat().st_mtime)
        etag = f'"{hashlib.sha256(body).hexdigest()}"'
        headers = {
            "ETag": etag,
            "Last-Modified": email.utils.formatdate(mtime, usegmt=True),
            "Content-Type": mimetypes.guess_type(file.name)[0] or "application/octet-stream",
        }
        if_none_match = request_headers.get("If-None-Match")
        if_modified_since = request_headers.get("If-Modified-Since")
        if if_none_match is not None:
            if etag in [tag.strip() for tag in if_none_match.split(",")] or if_none_match == "*":
                return 304, b"", headers
        elif if_modified_since:
            try:
                since = email.utils.parsedate_to_datetime(if_modified_since).timestamp()
            except (TypeError, ValueError):
                since = None
            if since is not None and mtime <= since:
                return 304, b"", headers
        return 200, body, headers

    def _answer(self, handler: _Handler) -> None:
        arrived = time.monotonic()
        request_headers = dict(handler.headers.items())
        fault = self._next_fault(handler.path.partition("?")[0])
        if self.latency:
            time.sleep(self.latency)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        status, body, headers = self._normal_answer(handler.path, handler.headers)
        if fault is not None:
            status = fault.status if fault.status is not None else status
            body = fault.body if fault.body is not None else body
            if fault.content_type is not None:
                headers["Content-Type"] = fault.content_type
            headers.update(fault.headers)
        accepts_gzip = "gzip" in handler.headers.get("Accept-Encoding", "")
        if fault is not None and fault.corrupt_gzip:
            body = b"\x1f\x8b\x08\x00" + b"this is not deflate data" * 4
            headers["Content-Encoding"] = "gzip"
        elif accepts_gzip and body and status == 200:
            body = gzip.compress(body, mtime=0)
            headers["Content-Encoding"] = "gzip"
        if status == 304:
            body = b""
        to_send = body[: len(body) // 2] if fault is not None and fault.reset else body
        # Logged before answering, so a test that has its response also sees the entry.
        entry = LoggedRequest(arrived, handler.command, handler.path, request_headers, status,
                              len(to_send))
        with self._lock:
            self.log.append(entry)
        try:
            handler.send_response(status)
            for name, value in headers.items():
                handler.send_header(name, value)
            if status != 304:
                handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(to_send)
            handler.wfile.flush()
            if fault is not None and fault.reset:
                handler.close_connection = True
                handler.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            # The client gave up (a timeout) before the answer: nothing reached it.
            handler.close_connection = True
            with self._lock:
                self.log[self.log.index(entry)] = replace(entry, bytes_sent=0)
