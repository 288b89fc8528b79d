"""companyfacts.zip streaming: order, filtering and every guard, on SYNTHETIC zips built in tmp_path.

No real companyfacts.zip is bundled (it is ~1 GB). Payloads here are small synthetic JSON
documents; one real payload (Apple's 2022Q1 trimmed fixture) checks that bytes come out
unchanged and parse with the companyfacts parser.
"""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import pytest
from conftest import FIXTURES_DIR

from aiwatch.sec import bulk, companyfacts
from aiwatch.sec.bulk import BulkArchiveError, BulkReport, iter_companyfacts


def _synthetic(cik: int) -> bytes:
    """A SYNTHETIC companyfacts-shaped document (not SEC data)."""
    return b'{"cik": %d, "entityName": "SYNTHETIC %d", "facts": {}}' % (cik, cik)


def _write_zip(path: Path, members: list[tuple[str, bytes]], **kwargs: object) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, **kwargs) as zf:
        for name, payload in members:
            zf.writestr(name, payload)
    return path


def _patch_central_entry(path: Path, name: str, offset: int, fmt: str, value: int) -> None:
    """Overwrite one field of `name`'s central-directory entry (what zipfile trusts)."""
    data = bytearray(path.read_bytes())
    start = 0
    while (at := data.find(b"PK\x01\x02", start)) >= 0:
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + name_len] == name.encode():
            struct.pack_into(fmt, data, at + offset, value)
            path.write_bytes(bytes(data))
            return
        start = at + 4
    raise AssertionError(f"{name} not in central directory")


# Central directory entry fields (APPNOTE 4.3.12).
_FLAGS, _USIZE = 8, 24


def _run(path: Path, **kwargs: object) -> tuple[list[tuple[int, bytes]], BulkReport]:
    report = BulkReport()
    return list(iter_companyfacts(path, report=report, **kwargs)), report  # type: ignore[arg-type]


def test_members_yielded_in_archive_order(tmp_path: Path) -> None:
    ciks = [1045810, 320193, 1652044, 789019]  # archive order, deliberately not sorted
    path = _write_zip(tmp_path / "cf.zip", [(f"CIK{c:010d}.json", _synthetic(c)) for c in ciks])
    got, report = _run(path)
    assert got == [(c, _synthetic(c)) for c in ciks]
    assert (report.members, report.yielded, report.skipped_total) == (4, 4, 0)
    assert report.bytes_yielded == sum(len(_synthetic(c)) for c in ciks)


def test_filter_by_ciks_reads_only_those(tmp_path: Path) -> None:
    ciks = [1045810, 320193, 1652044, 789019]
    path = _write_zip(tmp_path / "cf.zip", [(f"CIK{c:010d}.json", _synthetic(c)) for c in ciks])
    got, report = _run(path, ciks={320193, 789019, 999999})
    assert [cik for cik, _ in got] == [320193, 789019]
    assert (report.yielded, report.not_requested, report.skipped_total) == (2, 2, 0)


def test_real_payload_passes_unchanged(tmp_path: Path) -> None:
    # Apple's companyfacts as of 2022Q1, trimmed (tests/fixtures/sec/README.md): real bytes in,
    # the same bytes out, and they parse.
    payload = (FIXTURES_DIR / "sec" / "companyfacts_2022q1_CIK0000320193_trimmed.json").read_bytes()
    path = _write_zip(tmp_path / "cf.zip", [("CIK0000320193.json", payload)])
    ((cik, got),), _ = _run(path)
    assert (cik, got) == (320193, payload)
    facts = companyfacts.parse(got)
    assert facts.height > 0 and facts["cik"].unique().to_list() == [320193]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../CIK0000320193.json", bulk.BAD_NAME),  # path traversal
        ("../../etc/CIK0000320193.json", bulk.BAD_NAME),
        ("/tmp/CIK0000320193.json", bulk.BAD_NAME),  # absolute
        ("sub/CIK0000320193.json", bulk.BAD_NAME),  # a folder
        ("..\\CIK0000320193.json", bulk.BAD_NAME),  # Windows separator
        ("CIK0000320193.json/", bulk.DIRECTORY),
        ("cik0000320193.json", bulk.BAD_NAME),
        ("CIK320193.json", bulk.BAD_NAME),  # not 10 digits
        ("CIK0000320193.json.exe", bulk.BAD_NAME),
        ("CIK0000000000.json", bulk.BAD_NAME),  # CIK 0 is nobody
    ],
)
def test_hostile_names_are_skipped(tmp_path: Path, name: str, reason: str) -> None:
    members = [
        ("CIK0000000001.json", _synthetic(1)),
        (name, _synthetic(666)),
        ("CIK0000000002.json", _synthetic(2)),
    ]
    got, report = _run(_write_zip(tmp_path / "cf.zip", members))
    assert [cik for cik, _ in got] == [1, 2]
    assert report.skipped == {reason: 1}
    assert report.details[0][0] == repr(name)
    assert not (tmp_path / "etc").exists() and list(tmp_path.iterdir()) == [tmp_path / "cf.zip"]


def test_zip_bomb_refused_by_ratio(tmp_path: Path) -> None:
    # SYNTHETIC bomb: 4 MiB of spaces deflate to ~4 KiB (about 1000:1); under the size cap.
    bomb = b'{"cik": 1, "facts": {}}' + b" " * (4 * 1024 * 1024)
    members = [("CIK0000000001.json", bomb), ("CIK0000000002.json", _synthetic(2))]
    got, report = _run(_write_zip(tmp_path / "cf.zip", members))
    assert [cik for cik, _ in got] == [2]
    assert report.skipped == {bulk.RATIO_TOO_HIGH: 1}
    # With a cap that lets the ratio pass, the same member is accepted: the ratio refused it.
    got, report = _run(tmp_path / "cf.zip", max_ratio=10_000)
    assert [cik for cik, _ in got] == [1, 2] and got[0][1] == bomb


def test_declared_size_over_cap_refused(tmp_path: Path) -> None:
    big = _synthetic(1) + bytes(range(256)) * 64  # 16 KiB, poorly compressible
    members = [("CIK0000000001.json", big), ("CIK0000000002.json", _synthetic(2))]
    got, report = _run(_write_zip(tmp_path / "cf.zip", members), max_member_bytes=4096)
    assert [cik for cik, _ in got] == [2]
    assert report.skipped == {bulk.DECLARED_TOO_LARGE: 1}


def test_header_understating_size_is_stopped(tmp_path: Path) -> None:
    # The central directory (what zipfile trusts) claims 100 bytes for a 40 KiB member: the
    # declared checks pass, the member must still not come out (whole or truncated).
    big = _synthetic(1) + b"x" * 40_000
    path = _write_zip(
        tmp_path / "cf.zip", [("CIK0000000001.json", big), ("CIK0000000002.json", _synthetic(2))]
    )
    _patch_central_entry(path, "CIK0000000001.json", _USIZE, "<I", 100)
    got, report = _run(path, max_member_bytes=1000, max_ratio=10_000)
    assert [cik for cik, _ in got] == [2]
    # zipfile stops at the declared 100 bytes and the CRC of those fails.
    assert report.skipped == {bulk.CORRUPT_MEMBER: 1}


class _LyingStream(io.RawIOBase):
    """A member stream that keeps producing bytes past any declared size (SYNTHETIC)."""

    def __init__(self) -> None:
        self.produced = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        buffer[:] = b"x" * len(buffer)
        self.produced += len(buffer)
        return len(buffer)


def test_streaming_cap_stops_a_stream_that_never_ends() -> None:
    # Whatever the zip library believes about sizes, the counting reader stops past the cap
    # after at most one chunk more.
    stream = _LyingStream()
    with pytest.raises(bulk._Refused) as refused:
        bulk._read_capped(stream, limit=3 * 1024 * 1024)  # type: ignore[arg-type]
    assert refused.value.reason == bulk.READ_CAP_EXCEEDED
    assert stream.produced <= 3 * 1024 * 1024 + bulk._CHUNK_BYTES
    assert bulk._read_capped(io.BytesIO(b"abc"), limit=3) == b"abc"  # type: ignore[arg-type]


def test_streaming_cap_applies_inside_the_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # End to end: make the zip library's stream overrun its header, as a buggy or different
    # implementation could; the member is refused and the stream goes on.
    path = _write_zip(
        tmp_path / "cf.zip",
        [("CIK0000000001.json", _synthetic(1)), ("CIK0000000002.json", _synthetic(2))],
    )
    real_open = zipfile.ZipFile.open

    def lying_open(self: zipfile.ZipFile, name: object, *args: object, **kwargs: object):
        info = name if isinstance(name, zipfile.ZipInfo) else None
        if info is not None and info.filename == "CIK0000000001.json":
            return io.BufferedReader(_LyingStream())
        return real_open(self, name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(zipfile.ZipFile, "open", lying_open)
    got, report = _run(path, max_member_bytes=2 * 1024 * 1024, max_ratio=1e9)
    assert [cik for cik, _ in got] == [2]
    assert report.skipped == {bulk.READ_CAP_EXCEEDED: 1}


def test_corrupt_member_skipped_stream_continues(tmp_path: Path) -> None:
    payload = _synthetic(1) + b" " + bytes(range(256)) * 8
    path = _write_zip(
        tmp_path / "cf.zip", [("CIK0000000001.json", payload), ("CIK0000000002.json", _synthetic(2))]
    )
    data = bytearray(path.read_bytes())
    # Flip bytes inside the first member's compressed data (after its 30-byte local header
    # and 18-byte name).
    for i in range(30 + 18 + 10, 30 + 18 + 60):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    got, report = _run(path)
    assert [cik for cik, _ in got] == [2]
    assert report.skipped == {bulk.CORRUPT_MEMBER: 1}


def test_encrypted_empty_and_duplicate_members(tmp_path: Path) -> None:
    members = [
        ("CIK0000000001.json", _synthetic(1)),
        ("CIK0000000002.json", b""),
        ("CIK0000000003.json", _synthetic(3)),
        ("CIK0000000001.json", _synthetic(1) + b" "),
    ]
    with pytest.warns(UserWarning, match="Duplicate name"):
        path = _write_zip(tmp_path / "cf.zip", members)
    _patch_central_entry(path, "CIK0000000003.json", _FLAGS, "<H", 0x1)
    got, report = _run(path)
    assert got == [(1, _synthetic(1))]  # the first copy of CIK 1
    assert report.skipped == {bulk.EMPTY: 1, bulk.ENCRYPTED: 1, bulk.DUPLICATE: 1}
    assert report.members == 4


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda p, z: p.write_bytes(b"not a zip at all" * 100), id="garbage"),
        pytest.param(lambda p, z: p.write_bytes(z[: len(z) // 2]), id="truncated"),
        pytest.param(lambda p, z: p.write_bytes(b""), id="empty-file"),
        pytest.param(lambda p, z: None, id="missing"),
    ],
)
def test_unreadable_archive_is_a_clear_error(tmp_path: Path, make: object) -> None:
    good = _write_zip(tmp_path / "good.zip", [("CIK0000000001.json", _synthetic(1))])
    path = tmp_path / "bad.zip"
    make(path, good.read_bytes())  # type: ignore[operator]
    with pytest.raises(BulkArchiveError, match="cannot read"):
        next(iter_companyfacts(path))


def test_stream_holds_one_member_at_a_time(tmp_path: Path) -> None:
    # The iterator is lazy: the second member is not read before the first is consumed.
    members = [(f"CIK{c:010d}.json", _synthetic(c)) for c in (1, 2, 3)]
    report = BulkReport()
    stream = iter_companyfacts(_write_zip(tmp_path / "cf.zip", members), report=report)
    assert next(stream)[0] == 1
    assert (report.members, report.yielded) == (1, 1)
    stream.close()  # closing early closes the archive
