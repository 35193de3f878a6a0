"""The names of an HDF5 file's root-group attributes, read from the format without a library.

Keras keeps a legacy ``.h5`` model's configuration in root attributes (``model_config``,
``training_config``). Reading them needs h5py (and numpy), whose import costs more than scanning
most files; a plain HDF5 data file has no such attribute and needs neither. This reader follows
the HDF5 file format (superblock versions 0-3, object header versions 1 and 2, continuation
blocks) just far enough to list the attribute names stored in the root group's object header.

It answers only when it is sure: any structure it does not follow — shared or dense attribute
storage (an *Attribute Info* message), a checksum or signature that does not match, an address
outside the file, a bound reached — returns None, and the caller reads the file with h5py.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_MAX_SUPERBLOCK_SEARCH = 1 << 30  #: superblocks sit at 0, 512, 1024, 2048... up to here
_MAX_MESSAGES = 4096
_MAX_BLOCKS = 64
_MAX_BLOCK = 1 << 20

_MSG_CONTINUATION = 0x0010
_MSG_ATTRIBUTE = 0x000C
_MSG_ATTRIBUTE_INFO = 0x0015
_FLAG_SHARED = 0x02


class _Unsure(Exception):
    """The file uses a structure this reader does not follow."""


def root_attribute_names(fh: BinaryIO, size: int) -> frozenset[str] | None:
    """The root group's attribute names, or None when they cannot be listed with certainty."""
    try:
        return _read(fh, size)
    except (_Unsure, struct.error, OSError, ValueError, UnicodeDecodeError):
        return None


def _pread(fh: BinaryIO, size: int, offset: int, n: int) -> bytes:
    if offset < 0 or n < 0 or offset + n > size:
        raise _Unsure("address outside the file")
    fh.seek(offset)
    data = fh.read(n)
    if len(data) != n:
        raise _Unsure("short read")
    return data


def _read(fh: BinaryIO, size: int) -> frozenset[str]:
    base = 0
    while True:
        if _pread(fh, size, base, 8) == _SIGNATURE:
            break
        base = 512 if base == 0 else base * 2
        if base > min(size, _MAX_SUPERBLOCK_SEARCH):
            raise _Unsure("no superblock")
    head = _pread(fh, size, base, 16)
    version = head[8]
    if version in (0, 1):
        o, length = head[13], head[14]
        addr_start = base + (24 if version == 0 else 28)
        # base address, free-space address, end-of-file address, driver address, then the root
        # group's symbol-table entry: link-name offset, object header address...
        raw = _pread(fh, size, addr_start, 6 * o)
        base_addr = _addr(raw, 0, o)
        root = _addr(raw, 5 * o, o)
    elif version in (2, 3):
        o, length = head[9], head[10]
        raw = _pread(fh, size, base + 12, 4 * o)
        base_addr = _addr(raw, 0, o)
        root = _addr(raw, 3 * o, o)
    else:
        raise _Unsure(f"superblock version {version}")
    if o not in (2, 4, 8) or length not in (2, 4, 8):
        raise _Unsure("unusual offset or length size")
    return _object_header_attributes(fh, size, base_addr + root, base_addr, o, length)


def _addr(raw: bytes, at: int, o: int) -> int:
    value = int.from_bytes(raw[at : at + o], "little")
    if value == (1 << (8 * o)) - 1:
        raise _Unsure("undefined address")
    return value


def _object_header_attributes(
    fh: BinaryIO, size: int, at: int, base: int, o: int, length: int
) -> frozenset[str]:
    first = _pread(fh, size, at, 4)
    if first == b"OHDR":
        return _v2(fh, size, at, base, o, length)
    if first[0] != 1:
        raise _Unsure("object header version")
    prefix = _pread(fh, size, at, 16)
    count = struct.unpack_from("<H", prefix, 2)[0]
    header_size = struct.unpack_from("<I", prefix, 8)[0]
    blocks = [(at + 16, header_size)]
    names: set[str] = set()
    seen = 0
    while blocks:
        if len(blocks) > _MAX_BLOCKS:
            raise _Unsure("too many continuation blocks")
        start, block_len = blocks.pop(0)
        if block_len > _MAX_BLOCK:
            raise _Unsure("object header block too large")
        block = _pread(fh, size, start, block_len)
        pos = 0
        # Every message of every block is read, whatever the declared count: a count that does
        # not match what is there is a file a library may read differently, so it is unsure.
        while pos + 8 <= block_len:
            mtype, msize, mflags = struct.unpack_from("<HHB", block, pos)
            data = block[pos + 8 : pos + 8 + msize]
            if len(data) != msize:
                raise _Unsure("message past its block")
            _message(mtype, mflags, data, o, length, base, names, blocks)
            seen += 1
            pos += 8 + msize
            if seen > _MAX_MESSAGES:
                raise _Unsure("too many messages")
    if seen != count:
        raise _Unsure("the header declares a different number of messages")
    return frozenset(names)


def _v2(fh: BinaryIO, size: int, at: int, base: int, o: int, length: int) -> frozenset[str]:
    head = _pread(fh, size, at, 6)
    if head[4] != 2:
        raise _Unsure("object header version")
    flags = head[5]
    pos = 6 + (16 if flags & 0x20 else 0) + (4 if flags & 0x10 else 0)
    width = 1 << (flags & 0x03)
    chunk0 = int.from_bytes(_pread(fh, size, at + pos, width), "little")
    start = at + pos + width
    names: set[str] = set()
    blocks: list[tuple[int, int]] = []
    _v2_messages(_pread(fh, size, start, chunk0), flags, o, length, base, names, blocks)
    count = 0
    while blocks:
        count += 1
        if count > _MAX_BLOCKS:
            raise _Unsure("too many continuation blocks")
        cstart, clen = blocks.pop(0)
        if clen > _MAX_BLOCK or clen < 8:
            raise _Unsure("continuation block size")
        block = _pread(fh, size, cstart, clen)
        if block[:4] != b"OCHK":
            raise _Unsure("continuation block signature")
        _v2_messages(block[4:-4], flags, o, length, base, names, blocks)
    return frozenset(names)


def _v2_messages(
    block: bytes, flags: int, o: int, length: int, base: int, names: set[str], blocks: list[tuple[int, int]]
) -> None:
    header = 4 + (2 if flags & 0x04 else 0)
    pos = 0
    seen = 0
    while pos + header <= len(block):
        mtype = block[pos]
        msize = struct.unpack_from("<H", block, pos + 1)[0]
        mflags = block[pos + 3]
        data = block[pos + header : pos + header + msize]
        if len(data) != msize:
            raise _Unsure("message past its block")
        _message(mtype, mflags, data, o, length, base, names, blocks)
        pos += header + msize
        seen += 1
        if seen > _MAX_MESSAGES:
            raise _Unsure("too many messages")


def _message(
    mtype: int,
    mflags: int,
    data: bytes,
    o: int,
    length: int,
    base: int,
    names: set[str],
    blocks: list[tuple[int, int]],
) -> None:
    if mtype == _MSG_ATTRIBUTE_INFO:
        raise _Unsure("dense attribute storage")
    if mtype == _MSG_CONTINUATION:
        offset = int.from_bytes(data[:o], "little")
        span = int.from_bytes(data[o : o + length], "little")
        blocks.append((base + offset, span))
    elif mtype == _MSG_ATTRIBUTE:
        if mflags & _FLAG_SHARED:
            raise _Unsure("shared attribute message")
        names.add(_attribute_name(data))


def _attribute_name(data: bytes) -> str:
    version = data[0]
    if version not in (1, 2, 3):
        raise _Unsure("attribute message version")
    # version, reserved or flags, name size, datatype size, dataspace size (then encoding, in v3)
    name_size = struct.unpack_from("<H", data, 2)[0]
    start = 9 if version == 3 else 8
    raw = data[start : start + name_size]
    if len(raw) != name_size or not raw:
        raise _Unsure("attribute name past the message")
    return raw.rstrip(b"\x00").decode("utf-8")
