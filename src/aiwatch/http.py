"""The one HTTP client every source goes through: polite, cached, replayable.

Polite: SEC's declared User-Agent, one rate limit shared by every process on the machine,
retries with jittered backoff that honour `Retry-After`, no retry storm on SEC's "undeclared
tool" 403. Cached: every 200 lands in the raw cache (atomically) before anyone parses it, and
revalidates with ETag / Last-Modified so unchanged data is not downloaded again. Replayable:
offline, a `SnapshotAdapter` answers from the bundled `snapshot/` through the very same code
path, so an offline run exercises what a live run does.
"""

from __future__ import annotations

import email.utils
import hashlib
import io
import json
import logging
import mimetypes
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from aiwatch import __version__, rawcache
from aiwatch.ratelimit import SharedRateLimiter
from aiwatch.settings import Settings, Source

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
# Sources other than SEC get an honest generic agent (a source module may override it).
GENERIC_USER_AGENT = f"aiwatch/{__version__}"
DEFAULT_MAX_BYTES = 256 * 2**20
_CHUNK_BYTES = 64 * 1024
_Body = TypeVar("_Body")
# Errors of the wire, not of the request: worth another try.
_TRANSIENT_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
_REASONS = {200: "OK", 304: "Not Modified", 400: "Bad Request", 404: "Not Found"}


class FetchError(Exception):
    """A URL could not be fetched; the message names the URL and what to do."""

    def __init__(self, message: str, *, url: str, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class NotFoundError(FetchError):
    """HTTP 404, or (offline) a URL with no file in the snapshot."""


class UserAgentMissingError(FetchError):
    """An SEC call without a declared User-Agent: refused before any request is sent."""


class UnsafeUrlError(FetchError):
    """A URL whose path could name a file outside the raw cache (`..`, `%2F`, NUL, ...): refused
    before any request, so a hostile value (a page name in a payload) costs one fetch only."""


class InvalidPayloadError(FetchError):
    """A body the caller's validator refused; the previous cached copy was kept."""


@dataclass
class Fetched:
    """One fetched (or revalidated) response, already stored in the raw cache at `path`
    (`body` is b"" when fetched with `to_file=True`: read `path`)."""

    source: str
    url: str
    key: str
    path: Path
    body: bytes
    status: int
    not_modified: bool
    from_snapshot: bool
    meta: dict[str, Any] = field(default_factory=dict)


def redact_url(url: str) -> str:
    """The URL with credential parameters (apikey, token, ...) masked: safe to log and store."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    masked = [(k, "***" if k.lower() in rawcache.SECRET_PARAMS else v) for k, v in pairs]
    return urlunsplit(parts._replace(query=urlencode(masked, safe="*,:^")))


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` as seconds from now; it may be a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - time.time())


def _proxies_for(url: str) -> dict[str, str | None] | None:
    """Loopback (a local test server) never goes through an HTTP(S)_PROXY from the environment;
    everything else keeps the environment's proxies and CA bundle, as users behind one need."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host == "::1" or host.startswith("127."):
        return {"http": None, "https": None}
    return None


class _RedactSecrets(logging.Filter):
    """urllib3 logs every URL at DEBUG; mask credential parameters before anything prints."""

    _pattern = re.compile(
        r"(?i)\b(" + "|".join(sorted(rawcache.SECRET_PARAMS)) + r")=[^&\s\"']+"
    )

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self._pattern.sub(r"\1=***", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_RedactSecrets())


def _bundled_last_modified(file: Path) -> str | None:
    meta = file.with_name(file.name + rawcache.META_SUFFIX)
    try:
        value = json.loads(meta.read_text()).get("last_modified")
    except (OSError, ValueError):
        return None
    return value if isinstance(value, str) else None


class SnapshotAdapter(BaseAdapter):
    """Answers any http(s) URL from `snapshot_dir/<raw-cache key>`: 200 with the file, 404
    when there is none. Sends an ETag (sha256) and honours If-None-Match, like a server, and
    the Last-Modified a bundled file's `.meta.json` records (the day the bundled copy
    describes, e.g. a constituents list's commit date), so offline runs date it correctly."""

    def __init__(self, snapshot_dir: Path) -> None:
        super().__init__()
        self.snapshot_dir = Path(snapshot_dir)

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
        verify: Any = True, cert: Any = None, proxies: Any = None,
    ) -> requests.Response:
        parts = urlsplit(request.url or "")
        status, body = 404, b""
        headers: dict[str, str] = {}
        try:
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            file = rawcache.resolve(self.snapshot_dir, rawcache.cache_key(parts.hostname or "", path))
        except rawcache.UnsafePathError:
            status = 400
        else:
            if file.is_file():
                body = file.read_bytes()
                etag = f'"{hashlib.sha256(body).hexdigest()}"'
                content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
                headers = {"ETag": etag, "Content-Type": content_type}
                last_modified = _bundled_last_modified(file)
                if last_modified:
                    headers["Last-Modified"] = last_modified
                if request.headers.get("If-None-Match") == etag:
                    status, body = 304, b""
                else:
                    status = 200
        headers["Content-Length"] = str(len(body))
        response = requests.Response()
        response.status_code = status
        response.reason = _REASONS[status]
        response.headers = CaseInsensitiveDict(headers)
        response.raw = io.BytesIO(body)
        response.url = request.url or ""
        response.request = request
        response.connection = self
        return response

    def close(self) -> None:
        pass


class HttpClient:
    """Fetches `settings.sources[source].base_url + path` into the raw cache; see module doc.

    `sleep`, `backoff_base` and `backoff_cap` exist so tests can retry without waiting.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        backoff_base: float = 0.5,
        backoff_cap: float = 60.0,
    ) -> None:
        self.settings = settings
        self._owns_session = session is None
        self.session = session if session is not None else requests.Session()
        if settings.offline:
            adapter = SnapshotAdapter(settings.snapshot_dir)
            self.session.mount("http://", adapter)
            self.session.mount("https://", adapter)
        self._sleep = sleep
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._limiters: dict[str, SharedRateLimiter] = {}
        self._timeout = (settings.http_timeout_seconds, settings.http_timeout_seconds)

    # -- public API -------------------------------------------------------------------------

    @property
    def raw_dir(self) -> Path:
        return self.settings.raw_dir

    def cached(
        self, source: str, path: str, params: Mapping[str, str] | None = None
    ) -> rawcache.CachedResponse | None:
        """The valid raw-cache copy for this URL, without any request; None also for a URL that
        can have no cache file (unsafe path: `fetch` refused it with UnsafeUrlError)."""
        src = self._source(source)
        try:
            key = rawcache.cache_key(src.host, path, params)
        except rawcache.UnsafePathError:
            return None
        return rawcache.read(self.raw_dir, key)

    def fetch(
        self,
        source: str,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        validate: Callable[[bytes], None] | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        to_file: bool = False,
    ) -> Fetched:
        """GET one URL of `source`, store it in the raw cache, return it.

        A cached copy is revalidated (304: nothing downloaded, `not_modified=True`). `validate`
        may raise to refuse a body: it is then kept under `raw/_rejected/` and the good copy
        stays. `to_file=True` streams the body into the cache without holding it (multi-GB
        archives): `Fetched.body` is then b"", read `Fetched.path`; no `validate` with it.
        Raises NotFoundError (404 / not in snapshot), UserAgentMissingError, UnsafeUrlError,
        InvalidPayloadError, or FetchError once retries are spent.
        """
        if to_file and validate is not None:
            raise ValueError("validate needs the body in memory: not with to_file=True")
        src = self._source(source)
        offline = self.settings.offline
        url = self._url(src, path, params)
        shown = redact_url(url)
        try:
            key = rawcache.cache_key(src.host, path, params)
        except rawcache.UnsafePathError as exc:
            raise UnsafeUrlError(f"refusing to fetch {shown}: {exc}", url=shown) from exc
        if src.needs_user_agent and not offline and not self.settings.sec_user_agent:
            raise UserAgentMissingError(
                f"refusing to call {shown} without a declared User-Agent (SEC's fair-access "
                'policy requires one): set AIWATCH_SEC_USER_AGENT="Your Name you@example.com", '
                "or AIWATCH_OFFLINE=1 to replay the bundled snapshot",
                url=shown,
            )
        cached = (rawcache.read_file if to_file else rawcache.read)(self.raw_dir, key)

        def meta_for(headers: CaseInsensitiveDict[str], final_url: str) -> dict[str, Any]:
            return {
                "url": shown,
                "final_url": redact_url(final_url) if final_url != url else None,
                "status": 200,
                "etag": headers.get("ETag"),
                "last_modified": headers.get("Last-Modified"),
                "content_type": headers.get("Content-Type"),
                "source": src.name,
                "from_snapshot": offline,
            }

        def read_body(response: requests.Response, final_url: str) -> bytes | Path:
            chunks = self._body_chunks(response, shown, max_bytes)
            if to_file:
                return rawcache.write_chunks(self.raw_dir, key, chunks,
                                             meta_for(response.headers, final_url))
            return b"".join(chunks)

        status, body, headers, final_url = self._get(src, url, shown, cached, read_body)
        if status == 304 and cached is not None:
            meta = rawcache.touch_meta(
                self.raw_dir, key,
                etag=headers.get("ETag"), last_modified=headers.get("Last-Modified"),
            )
            if meta is not None:
                log.info("%s: not modified", shown)
                return Fetched(src.name, shown, key, cached.path, cached.body, 304,
                               not_modified=True, from_snapshot=offline, meta=meta)
            # The cached copy vanished between the read and the answer: ask again, plainly.
            status, body, headers, final_url = self._get(src, url, shown, None, read_body)
        if status == 304:
            raise FetchError(f"{shown} answered 304 to an unconditional request", url=shown,
                             status=304)
        if isinstance(body, Path):  # to_file: already stored, body and meta
            return Fetched(src.name, shown, key, body, b"", status, not_modified=False,
                           from_snapshot=offline, meta=rawcache.read_meta(self.raw_dir, key) or {})
        meta = meta_for(headers, final_url)
        if validate is not None:
            try:
                validate(body)
            except Exception as exc:
                rejected = rawcache.write_rejected(self.raw_dir, key, body, meta)
                raise InvalidPayloadError(
                    f"{shown}: payload rejected ({exc}); kept the previous cached copy, the "
                    f"rejected body is at {rejected}",
                    url=shown, status=status,
                ) from exc
        stored = rawcache.write(self.raw_dir, key, body, meta)
        return Fetched(src.name, shown, key, stored, body, status, not_modified=False,
                       from_snapshot=offline, meta=rawcache.read_meta(self.raw_dir, key) or meta)

    def close(self) -> None:
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- internals --------------------------------------------------------------------------

    def _source(self, name: str) -> Source:
        try:
            return self.settings.sources[name]
        except KeyError:
            known = ", ".join(sorted(self.settings.sources))
            raise ValueError(f"unknown source {name!r}; known: {known}") from None

    def _url(self, src: Source, path: str, params: Mapping[str, str] | None) -> str:
        # Offline, URLs name the real hosts so they map onto the snapshot's layout.
        base = f"https://{src.host}" if self.settings.offline else src.base_url
        url = base.rstrip("/") + ("" if path.startswith("/") else "/") + path
        if params:
            url += ("&" if "?" in path else "?") + urlencode(
                [(str(k), str(v)) for k, v in params.items()]
            )
        return url

    def _headers(self, src: Source, cached: rawcache.CachedResponse | None) -> dict[str, str]:
        agent = GENERIC_USER_AGENT
        if src.needs_user_agent and self.settings.sec_user_agent:
            agent = self.settings.sec_user_agent
        headers = {"User-Agent": agent, "Accept-Encoding": "gzip, deflate"}
        if cached is not None:
            if cached.meta.get("etag"):
                headers["If-None-Match"] = cached.meta["etag"]
            if cached.meta.get("last_modified"):
                headers["If-Modified-Since"] = cached.meta["last_modified"]
        return headers

    def _wait_for_rate(self, src: Source) -> None:
        if self.settings.offline or not src.rate_per_second:
            return
        limiter = self._limiters.get(src.limiter_name)
        if limiter is None:
            limiter = SharedRateLimiter(
                self.settings.lock_dir / f"ratelimit-{src.limiter_name}.state", src.rate_per_second
            )
            self._limiters[src.limiter_name] = limiter
        waited = limiter.acquire()
        if waited > 1.0:
            log.debug("rate limit %s: waited %.2f s", src.limiter_name, waited)

    def _redirect_allowed(self, src: Source, current: str, target: str) -> bool:
        base = urlsplit(src.base_url)
        allowed_hosts = {base.netloc.lower(), src.host.lower()}
        parts = urlsplit(target)
        downgrade = urlsplit(current).scheme == "https" and parts.scheme != "https"
        return parts.scheme in {"http", "https"} and parts.netloc.lower() in allowed_hosts \
            and not downgrade

    def _backoff(self, attempt: int, shown: str, status: int | None, reason: str,
                 retry_after: float | None) -> int:
        """Sleep before try `attempt + 1`, or raise once `http_max_retries` are spent."""
        if attempt >= self.settings.http_max_retries:
            raise FetchError(
                f"gave up on {shown} after {attempt + 1} tries (last: {reason}); the source is "
                "failing or throttling us, try again later",
                url=shown, status=status,
            )
        if retry_after is not None:
            delay = min(retry_after, self._backoff_cap)
        else:
            # Full jitter: clients that failed together do not come back together.
            delay = random.random() * min(self._backoff_cap, self._backoff_base * 2**attempt)
        log.warning("%s: %s; retry %d/%d in %.2f s", shown, reason, attempt + 1,
                    self.settings.http_max_retries, delay)
        self._sleep(delay)
        return attempt + 1

    def _get(
        self, src: Source, url: str, shown: str, cached: rawcache.CachedResponse | None,
        read_body: Callable[[requests.Response, str], _Body],
    ) -> tuple[int, _Body | None, CaseInsensitiveDict[str], str]:
        """(status, what `read_body(response, final URL)` made of a 200's body, headers, final
        URL) of a 200, or a 304 with None; everything else raises."""
        headers = self._headers(src, cached)
        attempt = 0
        redirects = 0
        current = url
        while True:
            self._wait_for_rate(src)
            try:
                response = self.session.get(
                    current, headers=headers, timeout=self._timeout, stream=True,
                    allow_redirects=False, proxies=_proxies_for(current),
                )
            except _TRANSIENT_ERRORS as exc:
                attempt = self._backoff(attempt, shown, None, type(exc).__name__, None)
                continue
            with response:
                status = response.status_code
                log.debug("GET %s -> %d", redact_url(current), status)
                if status in REDIRECT_STATUSES:
                    target = urljoin(current, response.headers.get("Location", ""))
                    if not self._redirect_allowed(src, current, target):
                        raise FetchError(
                            f"{shown} redirected to {redact_url(target)}, outside "
                            f"{src.base_url}; not followed (check AIWATCH_* base URLs)",
                            url=shown, status=status,
                        )
                    redirects += 1
                    if redirects > MAX_REDIRECTS:
                        raise FetchError(f"{shown}: more than {MAX_REDIRECTS} redirects",
                                         url=shown, status=status)
                    current = target
                    continue
                if status == 304:
                    return status, None, response.headers, current
                if status == 200:
                    try:
                        body = read_body(response, current)
                    except _TRANSIENT_ERRORS as exc:
                        attempt = self._backoff(
                            attempt, shown, status, f"body cut short ({type(exc).__name__})", None
                        )
                        continue
                    return status, body, response.headers, current
                if status == 404:
                    if self.settings.offline:
                        raise NotFoundError(
                            f"{shown} is not in the snapshot {self.settings.snapshot_dir}: add "
                            "the file there in raw-cache layout, or run live (unset "
                            "AIWATCH_OFFLINE, set AIWATCH_SEC_USER_AGENT)",
                            url=shown, status=404,
                        )
                    raise NotFoundError(f"{shown} answered 404 Not Found: check the path",
                                        url=shown, status=404)
                if status == 403 and src.needs_user_agent and self._is_html(response):
                    raise FetchError(
                        f"SEC refused {shown} (403 with an HTML page): SEC does this to "
                        "clients without a declared User-Agent or above 10 requests/s, and "
                        "blocks them for ~10 minutes; check AIWATCH_SEC_USER_AGENT (\"Name "
                        "email\"), that no other tool shares the budget, and retry later",
                        url=shown, status=403,
                    )
                if status in RETRY_STATUSES:
                    retry_after = retry_after_seconds(response.headers.get("Retry-After"))
                    attempt = self._backoff(attempt, shown, status,
                                            f"HTTP {status} {response.reason}", retry_after)
                    continue
                raise FetchError(f"{shown} answered HTTP {status} {response.reason}",
                                 url=shown, status=status)

    @staticmethod
    def _is_html(response: requests.Response) -> bool:
        if "html" in response.headers.get("Content-Type", "").lower():
            return True
        try:
            head = next(response.iter_content(4096), b"")
        except _TRANSIENT_ERRORS:
            return False
        return head.lstrip()[:1] == b"<"

    @staticmethod
    def _body_chunks(
        response: requests.Response, shown: str, max_bytes: int
    ) -> Iterator[bytes]:
        """The body in chunks; FetchError as soon as it passes `max_bytes`."""
        too_big = FetchError(
            f"{shown}: body larger than {max_bytes} bytes; refused (raise max_bytes if expected)",
            url=shown, status=response.status_code,
        )
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and not response.headers.get("Content-Encoding") \
                and int(declared) > max_bytes:
            raise too_big
        total = 0
        for chunk in response.iter_content(_CHUNK_BYTES):
            total += len(chunk)
            if total > max_bytes:
                raise too_big
            yield chunk
