"""A zip reader that sees every member PyTorch's miniz or Python's ``zipfile`` could load.

Scanners that open model zips with ``zipfile`` can be blinded by what the real loader ignores: a
bad CRC (``zipfile`` raises, miniz loads), the encrypted flag on a plain entry, a local header whose
name differs from the central directory's, duplicated names (``zipfile`` keeps the last, a scanner
that indexes by name sees one), data prepended to the archive (``zipfile`` shifts every offset,
miniz does not), or a truncated file without a central directory. This reader therefore:

- parses the end-of-central-directory record (and its ZIP64 form) and the central directory itself,
  bounded, under both offset interpretations when data precedes the archive, and lists *every*
  entry, duplicates included;
- reads each member from its local header with its own stored/deflate/bzip2 decoder
  (:func:`open_member`), so flags and CRCs cannot stop it, and reports every disagreement between
  the two headers as an :class:`~aispm.analysis.artifact_report.Issue`;
- falls back to walking local headers when the central directory is missing or broken.

Issues name the member relative to this zip; the container layer prefixes the outer path.
"""

from __future__ import annotations

import lzma
import struct
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from aispm.analysis.artifact_io import (
    CHUNK,
    ContainerError,
    CorruptData,
    DecodeStream,
    ScanBudget,
    Source,
    SourceFile,
    WindowSource,
)
from aispm.analysis.artifact_report import Issue, Verdict
from aispm.analysis.pickle_vm import READ_ERRORS
from aispm.model import Severity

LOCAL_SIG = b"PK\x03\x04"
CENTRAL_SIG = b"PK\x01\x02"
EOCD_SIG = b"PK\x05\x06"
EOCD64_LOCATOR_SIG = b"PK\x06\x07"
EOCD64_SIG = b"PK\x06\x06"
DESCRIPTOR_SIG = b"PK\x07\x08"

FLAG_ENCRYPTED = 0x0001
FLAG_DESCRIPTOR = 0x0008
FLAG_STRONG_ENCRYPTION = 0x0040
FLAG_UTF8 = 0x0800

#: Compression methods this reader decodes; any other fails closed.
METHODS = {0: "stored", 8: "deflate", 12: "bz2"}

_LOCAL = struct.Struct("<4sHHHHHIIIHH")  # 30 bytes
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")  # 46 bytes
_EOCD = struct.Struct("<4sHHHHIIH")  # 22 bytes
_EOCD64_LOCATOR = struct.Struct("<4sIQI")  # 20 bytes
_EOCD64 = struct.Struct("<4sQHHIIQQQQ")  # 56 bytes
_MAX_COMMENT = 0xFFFF
_U32 = 0xFFFFFFFF


#: What the standard library's ``zipfile`` raises on a damaged or hostile archive: the errors of
#: reading any stream (the pickle walker's ``READ_ERRORS``: bad CRCs, inflate errors, an unknown
#: version or method), and lying sizes, a missing member, and the encrypted flag (RuntimeError).
#: Code that still uses ``zipfile`` on scanned files catches these.
ZIPFILE_ERRORS = (*READ_ERRORS, zipfile.LargeZipFile, RuntimeError, KeyError, struct.error, lzma.LZMAError)


@dataclass(frozen=True, slots=True)
class ZipEntry:
    """One member as a header describes it (central directory, or a local header when walking)."""

    index: int
    name: str
    header_offset: int
    method: int
    flags: int
    compressed_size: int
    file_size: int
    crc: int
    from_central: bool = True
    raw_name: bytes = b""
    data_offset: int | None = None  #: where the member's bytes start, once the local header is read
    local_name: bytes | None = None

    @property
    def is_dir(self) -> bool:
        return self.name.endswith("/") and self.file_size == 0

    @property
    def encrypted(self) -> bool:
        return bool(self.flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION))


@dataclass(slots=True)
class ZipListing:
    """Every entry found, and what was odd about the archive as a whole."""

    entries: list[ZipEntry] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    central: bool = False  #: entries come from a readable central directory
    start: int = 0  #: offset of the first member: bytes before it are a prefix
    end: int = 0  #: end of the end-of-central-directory record and its comment


def _issue(
    rule: str,
    verdict: Verdict,
    message: str,
    member: str | None = None,
    offset: int | None = None,
    **detail: str | int,
) -> Issue:
    severity = Severity.MEDIUM if verdict in (Verdict.SUSPICIOUS, Verdict.UNSCANNABLE) else Severity.HIGH
    return Issue(rule, verdict, severity, message, member=member, offset=offset, detail=detail)


def _odd(
    rule: str, message: str, member: str | None = None, offset: int | None = None, **detail: str | int
) -> Issue:
    return _issue(rule, Verdict.SUSPICIOUS, message, member, offset, **detail)


def _bad(
    rule: str, message: str, member: str | None = None, offset: int | None = None, **detail: str | int
) -> Issue:
    return _issue(rule, Verdict.UNSCANNABLE, message, member, offset, **detail)


def decode_name(raw: bytes, flags: int) -> str:
    """A member name as ``zipfile`` decodes it (UTF-8 when flagged, else cp437), never raising."""
    if flags & FLAG_UTF8:
        return raw.decode("utf-8", "replace")
    return raw.decode("cp437")


# --------------------------------------------------------------------------- end of central directory


@dataclass(frozen=True, slots=True)
class EndRecord:
    """The end-of-central-directory record (its ZIP64 form where there is one)."""

    offset: int  #: where the (ZIP64 or classic) end record starts: the central directory ends here
    end: int  #: end of the classic record and its comment
    entries: int
    cd_size: int
    cd_offset: int
    comment_overrun: int  #: comment bytes declared past the end of the file


def is_zip_head(head: bytes) -> bool:
    """True when ``head`` opens like a zip (a local header, or an empty archive)."""
    return head[:4] in (LOCAL_SIG, EOCD_SIG) or head[:8] == b"PK\x07\x08PK\x03\x04"


def find_eocd(src: Source) -> EndRecord | None:
    """The last end-of-central-directory record, as ``zipfile`` and miniz both pick it."""
    if src.size < _EOCD.size:
        return None
    last = src.pread(src.size - _EOCD.size, _EOCD.size)
    if last[:4] == EOCD_SIG:
        tail, base = last, src.size - _EOCD.size
        pos = 0
    else:
        tail_len = min(src.size, _EOCD.size + _MAX_COMMENT)
        base = src.size - tail_len
        tail = src.pread(base, tail_len)
        pos = tail.rfind(EOCD_SIG, 0, max(0, len(tail) - _EOCD.size + 4))
        while pos >= 0 and len(tail) - pos < _EOCD.size:
            pos = tail.rfind(EOCD_SIG, 0, pos)
        if pos < 0:
            return None
    _sig, _disk, _disk_cd, _n_disk, n_total, cd_size, cd_offset, comment_len = _EOCD.unpack_from(tail, pos)
    at = base + pos
    end = at + _EOCD.size + comment_len
    overrun = max(0, end - src.size)
    record = EndRecord(at, min(end, src.size), n_total, cd_size, cd_offset, overrun)
    if at >= _EOCD64_LOCATOR.size:
        loc = src.pread(at - _EOCD64_LOCATOR.size, _EOCD64_LOCATOR.size)
        if loc[:4] == EOCD64_LOCATOR_SIG:
            record = _zip64_record(src, record, loc)
    return record


def _zip64_record(src: Source, record: EndRecord, loc: bytes) -> EndRecord:
    _sig, _disk, pointer, _disks = _EOCD64_LOCATOR.unpack(loc)
    # zipfile expects the ZIP64 record right before the locator; miniz follows the pointer.
    for where in (record.offset - _EOCD64_LOCATOR.size - _EOCD64.size, pointer):
        if where < 0:
            continue
        rec = src.read_exact(where, _EOCD64.size)
        if rec is None or rec[:4] != EOCD64_SIG:
            continue
        _s, _rsize, _made, _need, _d, _dcd, _n_disk, n_total, cd_size, cd_offset = _EOCD64.unpack(rec)
        return EndRecord(where, record.end, n_total, cd_size, cd_offset, record.comment_overrun)
    return record


# --------------------------------------------------------------------------- central directory


def _zip64_extra(extra: bytes, usize: int, csize: int, offset: int) -> tuple[int, int, int]:
    """Sizes and offset with their ZIP64 extra-field values filled in where the classic ones overflowed."""
    i = 0
    while i + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, i)
        body = extra[i + 4 : i + 4 + size]
        if tag == 0x0001:
            j = 0
            vals = []
            for want in (usize == _U32, csize == _U32, offset == _U32):
                if want and j + 8 <= len(body):
                    vals.append(struct.unpack_from("<Q", body, j)[0])
                    j += 8
                else:
                    vals.append(None)
            usize = vals[0] if vals[0] is not None else usize
            csize = vals[1] if vals[1] is not None else csize
            offset = vals[2] if vals[2] is not None else offset
            break
        i += 4 + size
    return usize, csize, offset


def _parse_central(
    src: Source, cd_offset: int, eocd: EndRecord, delta: int, budget: ScanBudget, listing: ZipListing
) -> list[ZipEntry] | None:
    """Entries of the central directory at ``cd_offset``, header offsets shifted by ``delta``."""
    if cd_offset < 0 or cd_offset + 4 > src.size:
        return None
    if src.pread(cd_offset, 4) != CENTRAL_SIG:
        return None
    size = min(eocd.cd_size, max(0, eocd.offset - cd_offset))
    if size > budget.limits.max_central_directory:
        listing.issues.append(
            _bad("container.limit", f"central directory of {size} bytes is over the bound", size=size)
        )
        size = budget.limits.max_central_directory
    data = src.pread(cd_offset, size)
    entries: list[ZipEntry] = []
    pos = 0
    while pos + _CENTRAL.size <= len(data) and data[pos : pos + 4] == CENTRAL_SIG:
        budget.member()
        (
            _sig,
            _made,
            _need,
            flags,
            method,
            _time,
            _date,
            crc,
            csize,
            usize,
            nlen,
            elen,
            clen,
            _disk,
            _iattr,
            _eattr,
            offset,
        ) = _CENTRAL.unpack_from(data, pos)
        body = pos + _CENTRAL.size
        if body + nlen + elen + clen > len(data):
            listing.issues.append(
                _bad(
                    "container.malformed",
                    "central directory entry runs past the directory",
                    offset=cd_offset + pos,
                )
            )
            break
        raw = data[body : body + nlen]
        usize, csize, offset = _zip64_extra(data[body + nlen : body + nlen + elen], usize, csize, offset)
        entries.append(
            ZipEntry(
                len(entries),
                decode_name(raw, flags),
                offset + delta,
                method,
                flags,
                csize,
                usize,
                crc,
                raw_name=raw,
            )
        )
        pos = body + nlen + elen + clen
    if pos < len(data) and len(entries) < eocd.entries:
        listing.issues.append(
            _bad("container.malformed", "central directory is broken part-way", offset=cd_offset + pos)
        )
    if len(entries) != eocd.entries and eocd.entries not in (0xFFFF,):
        listing.issues.append(
            _odd(
                "container.zip-entry-count",
                f"central directory holds {len(entries)} entries, its end record says {eocd.entries}: "
                "loaders that trust the count see a different set of members",
                listed=len(entries),
                declared=eocd.entries,
            )
        )
    return entries


def read_listing(src: Source, budget: ScanBudget) -> ZipListing:
    """Every entry of the zip in ``src``, and what is odd about the archive.

    Never raises for malformed input (bounds are the exception: :class:`BoundExceeded` propagates).
    """
    listing = ZipListing(end=src.size)
    eocd = find_eocd(src)
    primary: list[ZipEntry] = []
    if eocd is not None:
        listing.end = eocd.end
        concat = eocd.offset - eocd.cd_size - eocd.cd_offset
        # zipfile shifts every offset by the bytes found before the archive; miniz takes them as written.
        views = [(eocd.cd_offset + concat, concat)]
        if concat != 0:
            views.append((eocd.cd_offset, 0))
        for cd_offset, delta in views:
            entries = _parse_central(src, cd_offset, eocd, delta, budget, listing)
            if entries is None:
                continue
            if not listing.central:
                listing.central = True
                primary = entries
            earlier = {(e.header_offset, e.raw_name) for e in listing.entries}
            for e in entries:
                if (e.header_offset, e.raw_name) not in earlier:
                    n = len(listing.entries)
                    listing.entries.append(e if e.index == n else replace(e, index=n))
        if not listing.central:
            listing.issues.append(
                _bad(
                    "container.malformed",
                    "the central directory is missing or unreadable; members were "
                    "found by walking local headers",
                    offset=eocd.offset,
                )
            )
        if eocd.comment_overrun:
            listing.issues.append(
                _odd("container.zip-comment", "archive comment runs past the end of the file")
            )
        if eocd.end < src.size:
            listing.issues.append(
                _odd(
                    "container.zip-trailing-data",
                    f"{src.size - eocd.end} bytes follow the end of the archive",
                    offset=eocd.end,
                    size=src.size - eocd.end,
                )
            )
    else:
        listing.issues.append(
            _bad(
                "container.truncated",
                "no end-of-central-directory record: the archive is truncated or "
                "not a zip; members were found by walking local headers",
            )
        )
    broken = any(i.rule == "container.malformed" for i in listing.issues)
    if not listing.central or broken:
        seen = {e.header_offset for e in listing.entries}
        for e in walk_local_headers(src, budget, listing, end=eocd.offset if eocd else src.size):
            if e.header_offset not in seen:
                listing.entries.append(replace(e, index=len(listing.entries)))
    if listing.entries:
        listing.start = min(e.header_offset for e in listing.entries)
        counts = Counter(e.raw_name for e in primary)
        for raw, n in counts.items():
            if n > 1:
                listing.issues.append(
                    _odd(
                        "container.zip-duplicate-name",
                        f"{n} entries share this name: loaders and scanners that look members up by name "
                        "see only one of them",
                        member=decode_name(raw, FLAG_UTF8),
                        copies=n,
                    )
                )
    return listing


# --------------------------------------------------------------------------- local headers


def read_local(src: Source, entry: ZipEntry, head: int = 0) -> tuple[ZipEntry | None, bytes, list[Issue]]:
    """The local header of ``entry``: the entry with ``data_offset`` set, the first ``head`` raw data
    bytes (read in the same call), and disagreements with the central directory.

    Returns ``(None, b"", issues)`` when there is no readable local header at the offset.
    """
    issues: list[Issue] = []
    guess = _LOCAL.size + len(entry.raw_name) + 96
    chunk = src.pread(entry.header_offset, guess + head)
    if len(chunk) < _LOCAL.size or chunk[:4] != LOCAL_SIG:
        issues.append(
            _bad(
                "container.malformed",
                "no local header where the central directory points",
                member=entry.name,
                offset=entry.header_offset,
            )
        )
        return None, b"", issues
    _sig, _ver, flags, method, _t, _d, _crc, _cs, _us, nlen, elen = _LOCAL.unpack_from(chunk)
    data_offset = entry.header_offset + _LOCAL.size + nlen + elen
    if len(chunk) < _LOCAL.size + nlen:
        more = src.pread(entry.header_offset + len(chunk), _LOCAL.size + nlen - len(chunk))
        chunk += more
    local_name = chunk[_LOCAL.size : _LOCAL.size + nlen]
    if entry.from_central and local_name != entry.raw_name:
        issues.append(
            _odd(
                "container.zip-name-mismatch",
                "the local header names this member differently from the central directory",
                member=entry.name,
                offset=entry.header_offset,
                local_name=local_name[:200].decode("utf-8", "replace"),
            )
        )
    if entry.from_central and method != entry.method:
        issues.append(
            _odd(
                "container.zip-header-mismatch",
                "local and central headers disagree on the compression method",
                member=entry.name,
                offset=entry.header_offset,
                local=method,
                central=entry.method,
            )
        )
    if entry.from_central and (flags ^ entry.flags) & FLAG_ENCRYPTED:
        issues.append(
            _odd(
                "container.zip-header-mismatch",
                "local and central headers disagree on the encrypted flag",
                member=entry.name,
                offset=entry.header_offset,
            )
        )
    if data_offset + entry.compressed_size > src.size:
        issues.append(
            _bad(
                "container.truncated",
                "member data runs past the end of the file",
                member=entry.name,
                offset=entry.header_offset,
            )
        )
    start = _LOCAL.size + nlen + elen
    data_head = chunk[start : start + min(head, entry.compressed_size)] if head else b""
    if head and len(data_head) < min(head, entry.compressed_size):
        data_head = src.pread(data_offset, min(head, entry.compressed_size))
    return replace(entry, data_offset=data_offset, local_name=local_name), data_head, issues


def open_member(src: Source, entry: ZipEntry, budget: ScanBudget) -> DecodeStream:
    """A decoded, bounded stream of the member's bytes, read from its local header onwards.

    The encrypted flag and the CRC are ignored here (as miniz ignores them); the caller compares
    ``stream.crc`` with ``entry.crc`` once the stream is drained. An unsupported method raises
    :class:`ContainerError` with rule ``container.unsupported``.
    """
    if entry.data_offset is None:
        raise CorruptData("container.malformed", "member has no readable local header")
    codec = METHODS.get(entry.method)
    if codec is None:
        raise ContainerError(
            "container.unsupported", f"compression method {entry.method} is not supported: member not scanned"
        )
    raw = SourceFile(WindowSource(src, entry.data_offset, entry.compressed_size))
    return DecodeStream(raw, codec, budget, in_limit=entry.compressed_size)


# --------------------------------------------------------------------------- local header walk


def _search(
    src: Source, start: int, end: int, needles: tuple[bytes, ...], budget: ScanBudget
) -> Iterator[int]:
    """Offsets of any of ``needles`` (4 bytes each) in ``src[start:end]``, in order, found lazily.

    Windows start small and grow, so a caller that stops at the first good hit reads and searches
    only around it: walking a file of many members costs its size, not its size per member.
    """
    pos = start
    size = 512
    while pos < end:
        budget.check_time()
        data = src.pread(pos, min(size, end - pos) + 3)
        if len(data) < 4:
            return
        hits: set[int] = set()
        for needle in needles:
            i = data.find(needle)
            while i >= 0 and pos + i < end:
                hits.add(pos + i)
                i = data.find(needle, i + 1)
        yield from sorted(hits)
        pos += max(1, len(data) - 3)
        size = min(size * 2, CHUNK)


def _compressed_end(src: Source, data_offset: int, end: int, method: int, budget: ScanBudget) -> int | None:
    """Where a deflate or bzip2 member whose size its local header does not give ends."""
    stream = DecodeStream(
        SourceFile(WindowSource(src, data_offset, end - data_offset)),
        METHODS[method],
        budget,
        in_limit=end - data_offset,
    )
    try:
        stream.drain()
    except ContainerError:
        return None
    return data_offset + stream.consumed


def _stored_end(src: Source, data_offset: int, end: int, budget: ScanBudget) -> tuple[int, int] | None:
    """(data end, descriptor length) of a stored member with a data descriptor, found by its sizes."""
    for h in _search(src, data_offset, end, (DESCRIPTOR_SIG, LOCAL_SIG, CENTRAL_SIG), budget):
        if src.pread(h, 4) == DESCRIPTOR_SIG:
            tail = src.pread(h + 8, 8)
            if len(tail) >= 4 and struct.unpack_from("<I", tail)[0] == h - data_offset:
                return h, 16
            if len(tail) == 8 and struct.unpack_from("<Q", tail)[0] == h - data_offset:
                return h, 24
        elif h - 12 >= data_offset:
            size = src.pread(h - 8, 4)
            if len(size) == 4 and struct.unpack("<I", size)[0] == h - 12 - data_offset:
                return h - 12, 12
    return None


def walk_local_headers(
    src: Source, budget: ScanBudget, listing: ZipListing, end: int | None = None
) -> list[ZipEntry]:
    """Entries found by following local headers from the first one, as a streaming unzipper would."""
    end = src.size if end is None else end
    first = src.pread(0, 4)
    pos = 0 if first == LOCAL_SIG else -1
    if pos < 0:
        first_hit = next(_search(src, 0, min(end, 1024 * 1024), (LOCAL_SIG,), budget), None)
        if first_hit is None:
            return []
        pos = first_hit
    entries: list[ZipEntry] = []
    while pos + _LOCAL.size <= end:
        hdr = src.read_exact(pos, _LOCAL.size)
        if hdr is None or hdr[:4] != LOCAL_SIG:
            break
        budget.member()
        _sig, _ver, flags, method, _t, _d, crc, csize, usize, nlen, elen = _LOCAL.unpack(hdr)
        names = src.pread(pos + _LOCAL.size, nlen + elen)
        if len(names) < nlen + elen:
            listing.issues.append(_bad("container.truncated", "local header cut short", offset=pos))
            break
        raw = names[:nlen]
        usize, csize, _ = _zip64_extra(names[nlen:], usize, csize, 0)
        data_offset = pos + _LOCAL.size + nlen + elen
        name = decode_name(raw, flags)
        after = data_offset + csize
        if flags & FLAG_DESCRIPTOR and csize == 0:
            if method not in (0, 8, 12):
                listing.issues.append(
                    _bad(
                        "container.unsupported",
                        f"member with method {method} and no size",
                        member=name,
                        offset=pos,
                    )
                )
                break
            # The sizes follow the data, in a descriptor: find where the data ends.
            found: tuple[int, int] | None
            if method == 0:
                found = _stored_end(src, data_offset, end, budget)
                lost = "the end of a stored member cannot be found"
            else:
                stop = _compressed_end(src, data_offset, end, method, budget)
                found = None if stop is None else (stop, _descriptor_length(src, stop))
                lost = "compressed member never ends"
            if found is None:
                # Keep the member as the rest of the file, and stop there (``after`` does not advance).
                listing.issues.append(_bad("container.truncated", lost, member=name, offset=pos))
                csize, usize, after = end - data_offset, 0, pos
            else:
                stop, dd_len = found
                csize = stop - data_offset
                if method == 0:
                    usize = csize
                crc = _descriptor_crc(src, stop, crc)
                after = stop + dd_len
        elif flags & FLAG_DESCRIPTOR:
            crc = _descriptor_crc(src, after, crc)
            after += _descriptor_length(src, after)
        entries.append(
            ZipEntry(
                len(entries), name, pos, method, flags, csize, usize, crc, from_central=False, raw_name=raw
            )
        )
        if after <= pos:
            break
        pos = after
    return entries


def _descriptor_length(src: Source, at: int) -> int:
    """Length of the data descriptor at ``at`` (signed or not, 32- or 64-bit sizes)."""
    sig = src.pread(at, 4)
    for length in (16, 24) if sig == DESCRIPTOR_SIG else (12, 20):
        if src.pread(at + length, 4) in (LOCAL_SIG, CENTRAL_SIG):
            return length
    return 16 if sig == DESCRIPTOR_SIG else 12


def _descriptor_crc(src: Source, at: int, default: int) -> int:
    """The CRC-32 a data descriptor at ``at`` records (its signature is optional)."""
    data = src.pread(at, 8)
    if len(data) < 4:
        return default
    if data[:4] == DESCRIPTOR_SIG:
        return int(struct.unpack_from("<I", data, 4)[0]) if len(data) == 8 else default
    return int(struct.unpack_from("<I", data)[0])


def crc_of(data: bytes) -> int:
    """CRC-32 as zip stores it (for tests and callers that hold small members in memory)."""
    return zlib.crc32(data) & _U32
