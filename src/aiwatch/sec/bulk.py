"""SEC's nightly `companyfacts.zip`, streamed member by member, for users who want every filer.

SEC publishes every filer's companyfacts as one archive
(`https://www.sec.gov/Archives/edgar/daily-index/xbrl/companyfacts.zip`: ~1 GB compressed,
~19k members `CIK##########.json`). Fetching it once is far kinder to SEC than 19k requests.
`iter_companyfacts` reads it in place with `zipfile`, one member at a time, never extracting
to disk and never holding more than one payload, and yields `(cik, payload bytes)` for
`aiwatch.sec.companyfacts` to parse.

The archive comes from the network, so it is treated as hostile:

- member names must be exactly `CIK##########.json` (no folders, no `..`, no absolute names),
  and the CIK is taken from the name, so nothing in the archive ever names a path of ours;
- a member whose declared size exceeds `max_member_bytes`, or whose declared compression ratio
  exceeds `max_ratio` (a zip bomb: real companyfacts compress about 15:1 with deflate, zeros
  about 1000:1), is refused before a byte is decompressed;
- while reading, the same two limits are enforced again on the bytes actually produced, in
  chunks, so a header that understates the size cannot make us decompress past the cap
  (CPython's `zipfile` already stops at the declared size and then fails the CRC check, which
  we report as a corrupt member; the counting cap holds whatever the zip library does);
- a bad member is skipped, logged and counted in a `BulkReport` with its reason; only an
  archive that cannot be read at all (no central directory, an I/O error) raises
  `BulkArchiveError`.
"""

from __future__ import annotations

import logging
import re
import zipfile
import zlib
from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger(__name__)

# Served by the `sec_www` source.
COMPANYFACTS_ZIP_PATH = "/Archives/edgar/daily-index/xbrl/companyfacts.zip"

# The largest companyfacts documents are tens of MB; 512 MiB is far above any real one and far
# below what would hurt a machine that holds one payload at a time.
DEFAULT_MAX_MEMBER_BYTES = 512 * 1024 * 1024
# Real companyfacts compress ~15:1 (Apple's 3.7 MB payload: 14.9:1 at deflate level 9), so
# 200:1 leaves a wide margin while refusing the ~1000:1 of a deflate bomb.
DEFAULT_MAX_RATIO = 200.0
_CHUNK_BYTES = 1024 * 1024
# Enough to show what went wrong without letting a hostile archive grow the report unbounded.
_MAX_DETAILS = 1000

MEMBER_NAME = re.compile(r"CIK(\d{10})\.json")

# Skip reasons.
BAD_NAME = "bad_name"
DIRECTORY = "directory"
DUPLICATE = "duplicate"
ENCRYPTED = "encrypted"
EMPTY = "empty"
DECLARED_TOO_LARGE = "declared_too_large"
RATIO_TOO_HIGH = "ratio_too_high"
READ_CAP_EXCEEDED = "read_cap_exceeded"
CORRUPT_MEMBER = "corrupt_member"
UNSUPPORTED = "unsupported_compression"


class BulkArchiveError(Exception):
    """The archive itself cannot be read (missing, not a zip, truncated, I/O error)."""


@dataclass
class BulkReport:
    """What one pass over the archive did: counts are exact, `details` keeps the first 1000."""

    members: int = 0  # entries seen in the central directory
    yielded: int = 0
    bytes_yielded: int = 0
    not_requested: int = 0  # valid members outside the `ciks` filter
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> members
    details: list[tuple[str, str, str]] = field(default_factory=list)  # (name, reason, detail)

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def skip(self, name: str, reason: str, detail: str) -> None:
        self.skipped[reason] += 1
        # repr, truncated: member names come from the archive and could carry control
        # characters or megabytes of text into the log.
        shown = repr(name)[:200]
        if len(self.details) < _MAX_DETAILS:
            self.details.append((shown, reason, detail))
        log.warning("companyfacts.zip: skipped member %s (%s: %s)", shown, reason, detail)


class _Refused(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _read_capped(stream: BinaryIO, limit: int) -> bytes:
    """Read `stream` to its end in chunks; refuse as soon as more than `limit` bytes come out."""
    chunks: list[bytes] = []
    total = 0
    while chunk := stream.read(_CHUNK_BYTES):
        total += len(chunk)
        if total > limit:
            raise _Refused(READ_CAP_EXCEEDED, f"more than {limit} bytes decompressed")
        chunks.append(chunk)
    return b"".join(chunks)


def _check_declared(info: zipfile.ZipInfo, max_member_bytes: int, max_ratio: float) -> None:
    if info.flag_bits & 0x1:
        raise _Refused(ENCRYPTED, "member is encrypted")
    if info.file_size == 0:
        raise _Refused(EMPTY, "member is empty")
    if info.file_size > max_member_bytes:
        raise _Refused(
            DECLARED_TOO_LARGE, f"declares {info.file_size} bytes, cap {max_member_bytes}"
        )
    ratio = info.file_size / max(info.compress_size, 1)
    if ratio > max_ratio:
        raise _Refused(RATIO_TOO_HIGH, f"declares ratio {ratio:.0f}:1, cap {max_ratio:.0f}:1")


def _read_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, max_member_bytes: int, max_ratio: float
) -> bytes:
    _check_declared(info, max_member_bytes, max_ratio)
    # The declared sizes passed; hold the bytes actually produced to the same two limits.
    limit = min(max_member_bytes, int(max_ratio * max(info.compress_size, 1)))
    try:
        with archive.open(info) as stream:
            return _read_capped(stream, limit)  # type: ignore[arg-type]
    except NotImplementedError as exc:  # a compression method zipfile does not know
        raise _Refused(UNSUPPORTED, str(exc)) from exc
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, ValueError) as exc:
        # Bad local header, bad CRC (e.g. a header that understated the size), bad deflate data.
        raise _Refused(CORRUPT_MEMBER, f"{type(exc).__name__}: {exc}") from exc
    except OSError as exc:
        # An errno means the file under us failed (disk, truncated while reading): the archive
        # is unusable. Without one it is a decompressor's complaint about this member's data
        # (bz2 and lzma raise OSError for invalid streams).
        if exc.errno is not None:
            raise
        raise _Refused(CORRUPT_MEMBER, f"{type(exc).__name__}: {exc}") from exc


def iter_companyfacts(
    zip_path: Path,
    *,
    ciks: Collection[int] | None = None,
    max_member_bytes: int = DEFAULT_MAX_MEMBER_BYTES,
    max_ratio: float = DEFAULT_MAX_RATIO,
    report: BulkReport | None = None,
) -> Iterator[tuple[int, bytes]]:
    """Yield `(cik, companyfacts payload)` for each good member of `companyfacts.zip`.

    Members come in archive order, one at a time (only one payload is in memory). `ciks`
    restricts the pass to those companies (others are counted as not requested, never read).
    Pass a `BulkReport` to see counts and skip reasons; a bad member never stops the stream.
    Raises `BulkArchiveError` (lazily, on the first `next`) if the archive cannot be read.
    """
    report = report if report is not None else BulkReport()
    wanted = frozenset(ciks) if ciks is not None else None
    seen: set[int] = set()
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise BulkArchiveError(f"cannot read {zip_path} as a zip archive: {exc}") from exc
    with archive:
        for info in archive.infolist():
            report.members += 1
            name = info.filename
            if info.is_dir():
                report.skip(name, DIRECTORY, "directory entry")
                continue
            match = MEMBER_NAME.fullmatch(name)
            if match is None or int(match.group(1)) == 0:
                report.skip(name, BAD_NAME, "name is not CIK##########.json")
                continue
            cik = int(match.group(1))
            if wanted is not None and cik not in wanted:
                report.not_requested += 1
                continue
            if cik in seen:
                report.skip(name, DUPLICATE, "second member for this CIK; the first was used")
                continue
            seen.add(cik)
            try:
                payload = _read_member(archive, info, max_member_bytes, max_ratio)
            except _Refused as refused:
                report.skip(name, refused.reason, refused.detail)
                continue
            except OSError as exc:
                raise BulkArchiveError(f"reading {zip_path} failed at {name!r}: {exc}") from exc
            report.yielded += 1
            report.bytes_yielded += len(payload)
            yield cik, payload
    log.info(
        "companyfacts.zip: %d members, %d yielded (%d bytes), %d not requested, %d skipped %s",
        report.members,
        report.yielded,
        report.bytes_yielded,
        report.not_requested,
        report.skipped_total,
        dict(report.skipped),
    )
