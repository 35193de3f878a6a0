"""An HDF5 file's root-group attributes, read from the format without a library.

Keras keeps a legacy ``.h5`` model's configuration in root attributes (``model_config``,
``training_config``). The HDF5 C library is not safe on hostile input: a single changed byte can
make it loop forever or crash the process (seen with h5py 3.16), so aispm never calls it in the
scanning process. This reader follows the HDF5 file format (superblock versions 0-3, object header
versions 1 and 2, continuation blocks, attribute messages with fixed-length and variable-length
string values kept in a global heap) just far enough to list the root group's attributes and read
the string values of the ones asked for.

It answers only when it is sure. Any structure it does not follow gives None: shared attributes,
dense attribute storage in a fractal heap, shared datatypes, a checksum or signature that does not
match, an address outside the file, a bound reached. The caller then falls back to h5py in an
isolated child process (:mod:`aispm.analysis.hdf5_isolated`).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import BinaryIO

_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_MAX_SUPERBLOCK_SEARCH = 1 << 30  #: superblocks sit at 0, 512, 1024, 2048... up to here
_MAX_MESSAGES = 4096
_MAX_BLOCKS = 64
_MAX_BLOCK = 1 << 20
_MAX_RANK = 32

_MSG_CONTINUATION = 0x0010
_MSG_ATTRIBUTE = 0x000C
_MSG_ATTRIBUTE_INFO = 0x0015
_FLAG_SHARED = 0x02

_CLASS_STRING = 3
_CLASS_VLEN = 9


class _Unsure(Exception):
    """The file uses a structure this reader does not follow."""


@dataclass(frozen=True)
class Oversized:
    """A string attribute whose stored value is over the caller's bound; it was not read."""

    stored: int


@dataclass(frozen=True)
class RootAttributes:
    """The root group's attribute names and the values read of the ones asked for.

    ``values[name]`` is the text of a string attribute (one element, fixed or variable length),
    :class:`Oversized` when it holds more bytes than allowed, or None when the attribute is not a
    single string (a number, an array...), which a Keras loader could not use either.
    """

    names: frozenset[str]
    values: Mapping[str, str | Oversized | None] = field(default_factory=dict)


def root_attributes(fh: BinaryIO, size: int, wanted: Mapping[str, int]) -> RootAttributes | None:
    """The root attributes, with the values of ``wanted`` (name -> most bytes to read), or None
    when the file cannot be read with certainty."""
    try:
        return _Reader(fh, size, wanted).read()
    except (_Unsure, struct.error, OSError, ValueError, UnicodeDecodeError, IndexError):
        return None


@dataclass
class _Raw:
    """An attribute message taken apart: its datatype, element count and raw data."""

    datatype: bytes
    elements: int
    data: bytes


class _Reader:
    def __init__(self, fh: BinaryIO, size: int, wanted: Mapping[str, int]) -> None:
        self.fh = fh
        self.size = size
        self.wanted = wanted
        self.o = 8
        self.length = 8
        self.base = 0
        self.names: set[str] = set()
        self.raw: dict[str, _Raw] = {}

    def pread(self, offset: int, n: int) -> bytes:
        if offset < 0 or n < 0 or offset + n > self.size:
            raise _Unsure("address outside the file")
        self.fh.seek(offset)
        data = self.fh.read(n)
        if len(data) != n:
            raise _Unsure("short read")
        return data

    def read(self) -> RootAttributes:
        root = self._superblock()
        self._object_header(self.base + root)
        values = {name: self._value(name, raw) for name, raw in self.raw.items()}
        return RootAttributes(frozenset(self.names), values)

    # --- superblock and object headers -----------------------------------------------------------

    def _superblock(self) -> int:
        base = 0
        while True:
            if self.pread(base, 8) == _SIGNATURE:
                break
            base = 512 if base == 0 else base * 2
            if base > min(self.size, _MAX_SUPERBLOCK_SEARCH):
                raise _Unsure("no superblock")
        head = self.pread(base, 16)
        version = head[8]
        if version in (0, 1):
            o, length = head[13], head[14]
            addr_start = base + (24 if version == 0 else 28)
            # base address, free-space address, end-of-file address, driver address, then the
            # root group's symbol-table entry: link-name offset, object header address...
            self._sizes(o, length)
            raw = self.pread(addr_start, 6 * o)
            self.base = self._addr(raw, 0)
            return self._addr(raw, 5 * o)
        if version in (2, 3):
            o, length = head[9], head[10]
            self._sizes(o, length)
            raw = self.pread(base + 12, 4 * o)
            self.base = self._addr(raw, 0)
            return self._addr(raw, 3 * o)
        raise _Unsure(f"superblock version {version}")

    def _sizes(self, o: int, length: int) -> None:
        if o not in (2, 4, 8) or length not in (2, 4, 8):
            raise _Unsure("unusual offset or length size")
        self.o, self.length = o, length

    def _addr(self, raw: bytes, at: int) -> int:
        value = int.from_bytes(raw[at : at + self.o], "little")
        if value == (1 << (8 * self.o)) - 1:
            raise _Unsure("undefined address")
        return value

    def _object_header(self, at: int) -> None:
        first = self.pread(at, 4)
        if first == b"OHDR":
            self._v2(at)
            return
        if first[0] != 1:
            raise _Unsure("object header version")
        prefix = self.pread(at, 16)
        count = struct.unpack_from("<H", prefix, 2)[0]
        header_size = struct.unpack_from("<I", prefix, 8)[0]
        blocks = [(at + 16, header_size)]
        seen = 0
        while blocks:
            if len(blocks) > _MAX_BLOCKS:
                raise _Unsure("too many continuation blocks")
            start, block_len = blocks.pop(0)
            if block_len > _MAX_BLOCK:
                raise _Unsure("object header block too large")
            block = self.pread(start, block_len)
            pos = 0
            # Every message of every block is read, whatever the declared count: a count that
            # does not match what is there is a file a library may read differently, so unsure.
            while pos + 8 <= block_len:
                mtype, msize, mflags = struct.unpack_from("<HHB", block, pos)
                data = block[pos + 8 : pos + 8 + msize]
                if len(data) != msize:
                    raise _Unsure("message past its block")
                self._message(mtype, mflags, data, blocks)
                seen += 1
                pos += 8 + msize
                if seen > _MAX_MESSAGES:
                    raise _Unsure("too many messages")
        if seen != count:
            raise _Unsure("the header declares a different number of messages")

    def _v2(self, at: int) -> None:
        head = self.pread(at, 6)
        if head[4] != 2:
            raise _Unsure("object header version")
        flags = head[5]
        pos = 6 + (16 if flags & 0x20 else 0) + (4 if flags & 0x10 else 0)
        width = 1 << (flags & 0x03)
        chunk0 = int.from_bytes(self.pread(at + pos, width), "little")
        start = at + pos + width
        blocks: list[tuple[int, int]] = []
        self._v2_messages(self.pread(start, chunk0), flags, blocks)
        count = 0
        while blocks:
            count += 1
            if count > _MAX_BLOCKS:
                raise _Unsure("too many continuation blocks")
            cstart, clen = blocks.pop(0)
            if clen > _MAX_BLOCK or clen < 8:
                raise _Unsure("continuation block size")
            block = self.pread(cstart, clen)
            if block[:4] != b"OCHK":
                raise _Unsure("continuation block signature")
            self._v2_messages(block[4:-4], flags, blocks)

    def _v2_messages(self, block: bytes, flags: int, blocks: list[tuple[int, int]]) -> None:
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
            self._message(mtype, mflags, data, blocks)
            pos += header + msize
            seen += 1
            if seen > _MAX_MESSAGES:
                raise _Unsure("too many messages")

    def _message(self, mtype: int, mflags: int, data: bytes, blocks: list[tuple[int, int]]) -> None:
        if mtype == _MSG_ATTRIBUTE_INFO:
            # Newer headers carry this message even when every attribute is still compact; only
            # a fractal heap address means attributes live in dense storage, which is not followed.
            if len(data) < 2 or data[0] != 0:
                raise _Unsure("attribute info message")
            at = 2 + (2 if data[1] & 0x01 else 0)
            heap = data[at : at + self.o]
            if len(heap) != self.o or heap != b"\xff" * self.o:
                raise _Unsure("dense attribute storage")
        if mtype == _MSG_CONTINUATION:
            offset = int.from_bytes(data[: self.o], "little")
            span = int.from_bytes(data[self.o : self.o + self.length], "little")
            blocks.append((self.base + offset, span))
        elif mtype == _MSG_ATTRIBUTE:
            if mflags & _FLAG_SHARED:
                raise _Unsure("shared attribute message")
            self._attribute(data)

    # --- attributes --------------------------------------------------------------------------------

    def _attribute(self, data: bytes) -> None:
        version = data[0]
        if version not in (1, 2, 3):
            raise _Unsure("attribute message version")
        if version > 1 and data[1] & 0x03:
            raise _Unsure("shared datatype or dataspace")
        # version, reserved or flags, name size, datatype size, dataspace size (then encoding, in v3)
        name_size, type_size, space_size = struct.unpack_from("<HHH", data, 2)
        pos = 9 if version == 3 else 8
        raw = data[pos : pos + name_size]
        if len(raw) != name_size or not raw:
            raise _Unsure("attribute name past the message")
        name = raw.rstrip(b"\x00").decode("utf-8")
        if name in self.names:
            raise _Unsure("an attribute name given twice")
        self.names.add(name)
        if name not in self.wanted:
            return

        def pad(n: int) -> int:  # version 1 pads each part to a multiple of 8 bytes
            return (n + 7) & ~7 if version == 1 else n

        pos += pad(name_size)
        datatype = data[pos : pos + type_size]
        pos += pad(type_size)
        dataspace = data[pos : pos + space_size]
        pos += pad(space_size)
        if len(datatype) != type_size or len(dataspace) != space_size or type_size < 8:
            raise _Unsure("attribute parts past the message")
        self.raw[name] = _Raw(datatype, self._elements(dataspace), data[pos:])

    def _elements(self, space: bytes) -> int:
        version, rank, flags = space[0], space[1], space[2]
        if version == 1:
            start, kind = 8, (1 if rank else 0)
        elif version == 2:
            start, kind = 4, space[3]
        else:
            raise _Unsure("dataspace version")
        if kind == 2:  # null dataspace: no value at all
            return 0
        if kind not in (0, 1) or rank > _MAX_RANK:
            raise _Unsure("dataspace kind")
        count = 1
        for i in range(rank):
            at = start + i * self.length
            dim = space[at : at + self.length]
            if len(dim) != self.length:
                raise _Unsure("dataspace past the message")
            count *= int.from_bytes(dim, "little")
        if flags & 0x01 and len(space) < start + 2 * rank * self.length:
            raise _Unsure("dataspace past the message")
        return count

    def _value(self, name: str, raw: _Raw) -> str | Oversized | None:
        limit = self.wanted[name]
        cls, version = raw.datatype[0] & 0x0F, raw.datatype[0] >> 4
        bits = int.from_bytes(raw.datatype[1:4], "little")
        elem_size = struct.unpack_from("<I", raw.datatype, 4)[0]
        if version not in (1, 2, 3, 4):
            raise _Unsure("datatype version")
        if raw.elements != 1:
            return None  # an array or an empty value: not one string
        if cls == _CLASS_STRING:
            if elem_size > limit:
                return Oversized(elem_size)
            value = raw.data[:elem_size]
            if len(value) != elem_size:
                raise _Unsure("string value past the message")
            return value.rstrip(b"\x00").decode("utf-8", "replace")
        if cls == _CLASS_VLEN:
            if bits & 0x0F != 1:
                return None  # a sequence, not a string
            base = raw.datatype[8:16]
            if len(base) != 8 or base[0] & 0x0F not in (0, _CLASS_STRING) or base[4:8] != b"\x01\0\0\0":
                raise _Unsure("variable-length string of characters wider than a byte")
            return self._vlen_string(raw.data, limit)
        if cls in (0, 1, 2, 4, 5, 6, 7, 8, 10):
            return None  # numbers, compounds, references, enums, arrays: not a string
        raise _Unsure("datatype class")

    def _vlen_string(self, data: bytes, limit: int) -> str | Oversized:
        # length (4), global heap collection address, object index (4)
        need = 4 + self.o + 4
        if len(data) < need:
            raise _Unsure("variable-length value past the message")
        count = struct.unpack_from("<I", data, 0)[0]
        collection = self._addr(data, 4)
        index = struct.unpack_from("<I", data, 4 + self.o)[0]
        if count == 0 and collection == 0 and index == 0:
            return ""  # HDF5 writes an empty string as a null reference
        if count > limit:
            return Oversized(count)
        body = self._heap_object(self.base + collection, index)
        if len(body) < count:
            raise _Unsure("global heap object shorter than the string")
        return body[:count].rstrip(b"\x00").decode("utf-8", "replace")

    def _heap_object(self, at: int, index: int) -> bytes:
        head = self.pread(at, 8 + self.length)
        if head[:4] != b"GCOL" or head[4] != 1:
            raise _Unsure("global heap collection signature")
        span = int.from_bytes(head[8:], "little")
        if span < 8 + self.length or span > _MAX_BLOCK * 64:
            raise _Unsure("global heap collection size")
        body = self.pread(at, span)
        # The whole collection is walked and must add up exactly (unique indices, objects inside
        # it, a free-space object that reaches its end): a collection the HDF5 library could walk
        # differently (it hangs on some) is one this reader is unsure of.
        pos = 8 + self.length
        object_head = 8 + self.length  # index (2), references (2), reserved (4), size
        found: bytes | None = None
        numbers: set[int] = set()
        while pos + object_head <= span:
            number = struct.unpack_from("<H", body, pos)[0]
            size = int.from_bytes(body[pos + 8 : pos + object_head], "little")
            if number == 0:
                if pos + size != span:
                    raise _Unsure("global heap free space does not close the collection")
                pos = span
                break
            start = pos + object_head
            if start + size > span or number in numbers:
                raise _Unsure("global heap object past its collection or given twice")
            numbers.add(number)
            if number == index:
                found = body[start : start + size]
            pos = start + ((size + 7) & ~7)
        if pos > span or found is None:
            raise _Unsure("global heap object not found")
        return found
