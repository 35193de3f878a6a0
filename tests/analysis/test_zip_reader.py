"""The zip reader lists every member a real loader could read, and never fails on hostile zips.

Hostile archives are written byte by byte from the zip specification (APPNOTE 4.3) with
:func:`build_zip`, so each test controls exactly the field it breaks; benign ones come from
``zipfile``. ``build_zip`` is also used by ``test_containers.py``.
"""

from __future__ import annotations

import contextlib
import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aispm.analysis.artifact_io import (
    ArtifactLimits,
    BoundExceeded,
    BytesSource,
    ContainerError,
    DecodeStream,
    ScanBudget,
    SourceFile,
)
from aispm.analysis.artifact_report import Verdict
from aispm.analysis.zip_reader import (
    FLAG_ENCRYPTED,
    ZipEntry,
    find_eocd,
    open_member,
    read_listing,
    read_local,
    walk_local_headers,
)

# ---------- a zip writer from the spec


@dataclass
class Member:
    """One member for :func:`build_zip`; every field a hostile archive may bend is settable."""

    name: str | bytes
    data: bytes
    method: int = 0  #: 0 stored, 8 deflate; any other value is written as given (data stored raw)
    crc: int | None = None  #: the CRC written in the headers (default: the real one)
    flags: int = 0
    local_name: bytes | None = None  #: a different name in the local header
    descriptor: bool = False  #: sizes and CRC in a data descriptor after the data (as torch writes)
    central: bool = True  #: listed in the central directory
    size: int | None = None  #: the uncompressed size written in the headers
    raw: bytes | None = None  #: the bytes written as the member's data, whatever the method says


def deflate(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def build_zip(
    members: list[Member],
    *,
    prefix: bytes = b"",
    suffix: bytes = b"",
    relative_offsets: bool = False,
    zip64: bool = False,
    declared_count: int | None = None,
    comment: bytes = b"",
) -> bytes:
    """A zip archive; with ``prefix`` and ``relative_offsets`` its offsets ignore the prefix (as
    ``cat prefix a.zip`` leaves them), else they count it (as a self-extractor's writer does)."""
    out = bytearray(prefix)
    shift = len(prefix) if relative_offsets else 0
    central = bytearray()
    listed = 0
    for m in members:
        name = m.name.encode() if isinstance(m.name, str) else m.name
        local_name = m.local_name if m.local_name is not None else name
        raw = m.raw if m.raw is not None else deflate(m.data) if m.method == 8 else m.data
        crc = zlib.crc32(m.data) if m.crc is None else m.crc
        usize = len(m.data) if m.size is None else m.size
        flags = m.flags | (0x8 if m.descriptor else 0)
        offset = len(out) - shift
        lcrc, lcs, lus = (0, 0, 0) if m.descriptor else (crc, len(raw), usize)
        out += struct.pack(
            "<4sHHHHHIIIHH", b"PK\x03\x04", 20, flags, m.method, 0, 0x21, lcrc, lcs, lus, len(local_name), 0
        )
        out += local_name + raw
        if m.descriptor:
            out += struct.pack("<4sIII", b"PK\x07\x08", crc, len(raw), usize)
        if m.central:
            central += struct.pack(
                "<4sHHHHHHIIIHHHHHII",
                b"PK\x01\x02",
                20,
                20,
                flags,
                m.method,
                0,
                0x21,
                crc,
                len(raw),
                usize,
                len(name),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            central += name
            listed += 1
    cd_offset = len(out) - shift
    out += central
    count = listed if declared_count is None else declared_count
    if zip64:
        at = len(out) - shift
        out += struct.pack(
            "<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, len(central), cd_offset
        )
        out += struct.pack("<4sIQI", b"PK\x06\x07", 0, at, 1)
        out += struct.pack(
            "<4sHHHHIIH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, len(comment)
        )
    else:
        out += struct.pack(
            "<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, len(central), cd_offset, len(comment)
        )
    out += comment + suffix
    return bytes(out)


def listing_of(data: bytes, limits: ArtifactLimits | None = None) -> tuple[BytesSource, ScanBudget, object]:
    src = BytesSource(data)
    budget = ScanBudget(limits or ArtifactLimits())
    return src, budget, read_listing(src, budget)


def read_all(src: BytesSource, entry: ZipEntry, budget: ScanBudget) -> tuple[bytes, DecodeStream]:
    local, _head, _issues = read_local(src, entry)
    assert local is not None
    stream = open_member(src, local, budget)
    return stream.read(), stream


def rules(issues: object) -> set[str]:
    return {i.rule for i in issues}  # type: ignore[attr-defined]


# ---------- benign archives


def zipfile_archive(**kw: object) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", **kw) as zf:  # type: ignore[arg-type]
        zf.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
        zf.writestr(zipfile.ZipInfo("archive/data/0"), b"\x00" * 64)
        zf.writestr("archive/version", b"3\n", compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("dir/", b"")
    return buf.getvalue()


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2])
def test_listing_matches_zipfile_and_members_read_back(compression: int) -> None:
    data = zipfile_archive(compression=compression)
    src, budget, listing = listing_of(data)
    assert listing.central and not listing.issues and listing.start == 0
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        expected = {i.filename: zf.read(i) for i in zf.infolist()}
    assert [e.name for e in listing.entries] == list(expected)
    for entry in listing.entries:
        content, stream = read_all(src, entry, budget)
        assert content == expected[entry.name]
        assert stream.crc == entry.crc
    assert [e.is_dir for e in listing.entries] == [False, False, False, True]


def test_data_descriptors_from_a_non_seekable_writer_are_walked_without_a_central_directory() -> None:
    class Unseekable(io.RawIOBase):
        def __init__(self) -> None:
            self.buf = bytearray()

        def writable(self) -> bool:
            return True

        def write(self, b: object) -> int:
            self.buf += bytes(b)  # type: ignore[call-overload]
            return len(bytes(b))  # type: ignore[call-overload]

    sink = Unseekable()
    with zipfile.ZipFile(sink, "w") as zf:  # type: ignore[arg-type]
        zf.writestr("a/data.pkl", b"\x80\x02N." * 10)
        zf.writestr("a/deflated", b"x" * 5000, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("a/data/0", b"\x01" * 100)
    data = bytes(sink.buf)
    eocd = data.rfind(b"PK\x01\x02")
    truncated = data[: data.find(b"PK\x01\x02")]  # central directory cut off
    assert eocd > 0
    src, budget, listing = listing_of(truncated)
    assert not listing.central
    assert "container.truncated" in rules(listing.issues)
    assert [e.name for e in listing.entries] == ["a/data.pkl", "a/deflated", "a/data/0"]
    contents = [read_all(src, e, budget)[0] for e in listing.entries]
    assert contents == [b"\x80\x02N." * 10, b"x" * 5000, b"\x01" * 100]


def test_torch_style_stored_members_with_descriptors_walk() -> None:
    members = [
        Member("m/data.pkl", b"\x80\x02K\x01.", descriptor=True),
        Member("m/data/0", b"\x07" * 33, descriptor=True),
    ]
    data = build_zip(members)
    cut = data[: data.find(b"PK\x01\x02")]
    src, budget, listing = listing_of(cut)
    assert [(e.name, e.compressed_size) for e in listing.entries] == [("m/data.pkl", 5), ("m/data/0", 33)]
    assert read_all(src, listing.entries[1], budget)[0] == b"\x07" * 33


def test_walking_many_descriptor_members_reads_the_file_about_once() -> None:
    # Found by atheris: finding where each stored member ends read up to 256 KiB ahead and listed
    # every signature there, so a file of many small members cost its size once per member.
    class Counting(BytesSource):
        read = 0

        def pread(self, offset: int, n: int) -> bytes:
            data = super().pread(offset, n)
            self.read += len(data)
            return data

    decoy = b"PK\x07\x08" + b"\x07" * 60  # a descriptor signature whose sizes do not fit
    data = build_zip([Member(f"m/data/{i}", decoy, descriptor=True) for i in range(3000)])
    src = Counting(data[: data.find(b"PK\x01\x02")])
    listing = read_listing(src, ScanBudget(ArtifactLimits()))
    assert [e.compressed_size for e in listing.entries] == [len(decoy)] * 3000  # type: ignore[attr-defined]
    assert src.read < 8 * src.size


# ---------- hostile archives


def test_bad_crc_is_read_anyway() -> None:
    data = build_zip([Member("x/data.pkl", b"payload", crc=0xDEADBEEF)])
    with zipfile.ZipFile(io.BytesIO(data)) as zf, pytest.raises(zipfile.BadZipFile):
        zf.read("x/data.pkl")
    src, budget, listing = listing_of(data)
    (entry,) = listing.entries
    content, stream = read_all(src, entry, budget)
    assert content == b"payload"
    assert stream.crc != entry.crc


def test_duplicate_names_are_all_listed() -> None:
    data = build_zip([Member("a/data.pkl", b"first"), Member("a/data.pkl", b"second"), Member("a/x", b"y")])
    src, budget, listing = listing_of(data)
    assert [e.name for e in listing.entries] == ["a/data.pkl", "a/data.pkl", "a/x"]
    assert "container.zip-duplicate-name" in rules(listing.issues)
    assert [read_all(src, e, budget)[0] for e in listing.entries[:2]] == [b"first", b"second"]


def test_encrypted_flag_on_a_plain_member_is_ignored_for_reading() -> None:
    data = build_zip([Member("a/data.pkl", b"plain", flags=FLAG_ENCRYPTED)])
    src, budget, listing = listing_of(data)
    (entry,) = listing.entries
    assert entry.encrypted
    assert read_all(src, entry, budget)[0] == b"plain"


def test_local_name_differing_from_the_central_directory_is_reported() -> None:
    data = build_zip([Member("a/version", b"\x80\x02N.", local_name=b"a/data.pkl")])
    src, _budget, listing = listing_of(data)
    local, _head, issues = read_local(src, listing.entries[0])
    assert local is not None and local.local_name == b"a/data.pkl"
    assert rules(issues) == {"container.zip-name-mismatch"}
    assert all(i.verdict is Verdict.SUSPICIOUS for i in issues)


@pytest.mark.parametrize("relative", [False, True])
def test_prepended_data_under_both_offset_conventions(relative: bool) -> None:
    data = build_zip(
        [Member("a/data.pkl", b"\x80\x02N.")], prefix=b"#!/bin/sh\nexit 0\n" * 3, relative_offsets=relative
    )
    src, budget, listing = listing_of(data)
    assert listing.central
    assert listing.start == 51
    assert [e.name for e in listing.entries] == ["a/data.pkl"]
    assert read_all(src, listing.entries[0], budget)[0] == b"\x80\x02N."


def test_trailing_data_and_entry_count_lies_are_reported() -> None:
    data = build_zip([Member("a", b"1"), Member("b", b"2")], suffix=b"garbage", declared_count=1)
    _src, _budget, listing = listing_of(data)
    assert [e.name for e in listing.entries] == ["a", "b"]
    assert {"container.zip-trailing-data", "container.zip-entry-count"} <= rules(listing.issues)


def test_zip64_end_record() -> None:
    data = build_zip([Member("a/data.pkl", b"\x80\x02N."), Member("a/b", b"zz")], zip64=True)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.namelist() == ["a/data.pkl", "a/b"]
    src, budget, listing = listing_of(data)
    assert listing.central and not listing.issues
    assert [read_all(src, e, budget)[0] for e in listing.entries] == [b"\x80\x02N.", b"zz"]


def test_unsupported_method_fails_closed() -> None:
    data = build_zip([Member("a/data.pkl", b"\x80\x02N.", method=14)])
    src, budget, listing = listing_of(data)
    local, _h, _i = read_local(src, listing.entries[0])
    assert local is not None
    with pytest.raises(ContainerError) as err:
        open_member(src, local, budget)
    assert err.value.rule == "container.unsupported"


def test_local_header_missing_where_the_directory_points() -> None:
    data = bytearray(build_zip([Member("a/data.pkl", b"\x80\x02N.")]))
    data[0:4] = b"XXXX"
    src, _budget, listing = listing_of(bytes(data))
    local, _head, issues = read_local(src, listing.entries[0])
    assert local is None and rules(issues) == {"container.malformed"}


def test_member_past_the_end_is_truncated() -> None:
    data = build_zip([Member("a/big", b"\x01" * 1000)])
    _src, budget, listing = listing_of(data)
    entry = listing.entries[0]
    cut = BytesSource(data[:500])
    local, _head, issues = read_local(cut, entry)
    assert local is not None and "container.truncated" in rules(issues)
    assert len(open_member(cut, local, budget).read()) < 1000


def test_truncated_deflate_stream_raises_a_container_error() -> None:
    payload = bytes(range(256)) * 200
    data = build_zip([Member("a/big", payload, method=8)])
    src, budget, listing = listing_of(data)
    entry = listing.entries[0]
    local, _h, _i = read_local(src, entry)
    assert local is not None
    bent = ZipEntry(**{**{f: getattr(local, f) for f in local.__dataclass_fields__}, "compressed_size": 100})
    with pytest.raises(ContainerError) as err:
        open_member(src, bent, budget).read()
    assert err.value.rule == "container.truncated"


def test_a_deflate_bomb_stops_at_the_ratio_bound() -> None:
    data = build_zip([Member("bomb", b"\x00" * (20 * 1024 * 1024), method=8)])
    limits = ArtifactLimits(ratio_floor=1024 * 1024, max_ratio=100)
    src, budget, listing = listing_of(data, limits)
    local, _h, _i = read_local(src, listing.entries[0])
    assert local is not None
    stream = open_member(src, local, budget)
    with pytest.raises(BoundExceeded) as err:
        stream.drain()
    assert err.value.rule == "container.bomb"


def test_member_count_bound() -> None:
    data = build_zip([Member(f"m{i}", b"") for i in range(50)])
    src = BytesSource(data)
    with pytest.raises(BoundExceeded):
        read_listing(src, ScanBudget(ArtifactLimits(max_members=10)))


def test_not_a_zip_at_all() -> None:
    src, _budget, listing = listing_of(b"hello world, not a zip" * 10)
    assert listing.entries == [] and find_eocd(src) is None
    assert "container.truncated" in rules(listing.issues)


def test_comment_hides_nothing() -> None:
    inner = build_zip([Member("a/data.pkl", b"\x80\x02N.")])
    data = build_zip([Member("b/x", b"1")], comment=inner[-22:] + b"x" * 10)
    _src, _budget, listing = listing_of(data)
    assert [e.name for e in listing.entries] == ["b/x"]


def test_walk_stops_on_a_member_with_no_end() -> None:
    head = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0x8, 0, 0, 0, 0, 0, 0, 1, 0) + b"a" + b"\x00" * 100
    listing_src = BytesSource(head)
    from aispm.analysis.zip_reader import ZipListing

    listing = ZipListing()
    entries = walk_local_headers(listing_src, ScanBudget(ArtifactLimits()), listing)
    assert len(entries) == 1 and "container.truncated" in rules(listing.issues)


# ---------- fuzz


def _seeds() -> list[bytes]:
    return [
        zipfile_archive(compression=zipfile.ZIP_DEFLATED),
        build_zip(
            [
                Member("a/data.pkl", b"\x80\x02N.", descriptor=True),
                Member("a/data/0", b"\x01" * 40, descriptor=True),
            ]
        ),
        build_zip([Member("a/b", b"q" * 300, method=8)], zip64=True, prefix=b"PK\x03\x04junk"),
    ]


def _exercise(data: bytes) -> None:
    limits = ArtifactLimits(max_members=500, max_decompressed_bytes=4 * 1024 * 1024, max_seconds=5)
    src = BytesSource(data)
    budget = ScanBudget(limits)
    try:
        listing = read_listing(src, budget)
        for entry in listing.entries[:50]:
            local, _head, _issues = read_local(src, entry, 64)
            if local is None:
                continue
            with contextlib.suppress(ContainerError):
                open_member(src, local, budget).drain()
    except BoundExceeded:
        pass


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(_seeds()),
    edits=st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)), max_size=8),
    cut=st.one_of(st.none(), st.integers(min_value=0)),
)
def test_fuzz_mutated_archives_never_crash(
    seed: bytes, edits: list[tuple[int, int]], cut: int | None
) -> None:
    data = bytearray(seed)
    for pos, value in edits:
        data[pos % len(data)] = value
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    _exercise(bytes(data))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_fuzz_random_bytes_never_crash(data: bytes) -> None:
    _exercise(b"PK\x03\x04" + data)
    _exercise(data + b"PK\x05\x06" + data[:18])


def test_decode_stream_over_a_file_object() -> None:
    data = zlib.compress(b"hello" * 1000)
    stream = DecodeStream(SourceFile(BytesSource(data)), "zlib", ScanBudget(ArtifactLimits()))
    assert stream.read() == b"hello" * 1000 and stream.ended and not stream.trailing
