"""Bounded byte access for the model-artifact scanner: file windows, decompressing streams, spools.

Everything the container readers read goes through one :class:`ScanBudget` per scanned file. It
counts the bytes read from the file (``bytes_read`` in the report, which shows that a 1 GiB
checkpoint is judged from a few MB), the bytes produced by decompression (the zip-bomb bounds) and
the time spent. A bound that is hit raises :class:`BoundExceeded`; data that cannot be decoded
raises :class:`CorruptData`. Both are ``OSError`` subclasses, so code that reads a stream (the
pickle walker, ``tarfile``) sees an ordinary read failure, and a :class:`DecodeStream` also keeps the
error it raised so that the caller can report the precise reason afterwards.

Sources are random-access (:class:`FileSource`, :class:`WindowSource`, :class:`SpoolSource`,
:class:`BytesSource`), seen as files through :class:`SourceFile` (and :class:`TapFile`, which also
checksums what it serves); streams are sequential (:class:`DecodeStream`, :class:`ChainStream`).
:func:`sha256_of` hashes a whole file, streamed and remembered by its stat stamp (across scans
through the :class:`~aispm.analysis.hash_book.Sha256Book` the pipeline opens over its store). Nothing here
interprets content: it only moves bytes, within bounds.
"""

from __future__ import annotations

import bz2
import hashlib
import importlib
import io
import lzma
import os
import tempfile
import time
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

from aispm.analysis import hash_book
from aispm.analysis.hash_book import SHA256_BOOK, sha256_stamp_key
from aispm.analysis.pickle_vm import DEFAULT_LIMITS as DEFAULT_PICKLE_LIMITS
from aispm.analysis.pickle_vm import PickleLimits

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB
CHUNK = 256 * KiB


@dataclass(frozen=True, slots=True)
class ArtifactLimits:
    """Bounds on the work spent on one artifact, whatever it contains."""

    max_depth: int = 5  #: containers inside containers (a zip in a tar in a gzip is depth 3)
    max_members: int = 200_000  #: archive entries listed, over the whole artifact
    max_decompressed_bytes: int = 8 * GiB  #: produced by decompression, over the whole artifact
    max_ratio: int = 250  #: decompressed bytes per byte read from the file, past ``ratio_floor``
    ratio_floor: int = 64 * MiB  #: decompressed bytes allowed before the ratio is enforced
    max_central_directory: int = 64 * MiB  #: bytes of one zip central directory
    max_spool_bytes: int = 4 * GiB  #: one decompressed member copied aside for random access
    pickle_limits: PickleLimits = DEFAULT_PICKLE_LIMITS  #: bounds of each pickle stream walked
    max_seconds: float = 300.0  #: wall time for the whole artifact


DEFAULT_ARTIFACT_LIMITS = ArtifactLimits()


class ContainerError(OSError):
    """Reading stopped: ``rule`` is the issue id (``container.limit``, ``container.truncated``...)."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


class BoundExceeded(ContainerError):
    """A bound of :class:`ArtifactLimits` was reached."""


class CorruptData(ContainerError):
    """Compressed or structured data is malformed or ends early."""


class ScanBudget:
    """The bounds of one artifact scan and the counters they are checked against."""

    def __init__(self, limits: ArtifactLimits) -> None:
        self.limits = limits
        self.bytes_read = 0
        self.decompressed = 0
        self.members = 0
        self.deadline = time.monotonic() + limits.max_seconds
        self.exceeded: BoundExceeded | None = None  #: the first bound passed: every later check fails too

    def _over(self, rule: str, message: str) -> BoundExceeded:
        if self.exceeded is None:
            self.exceeded = BoundExceeded(rule, message)
        return self.exceeded

    def check(self) -> None:
        """Raise the bound already passed, if any (after code that may have swallowed the error)."""
        if self.exceeded is not None:
            raise self.exceeded

    def check_time(self) -> None:
        if self.exceeded is not None:
            raise self.exceeded
        if time.monotonic() >= self.deadline:
            raise self._over("container.limit", f"scan took longer than {self.limits.max_seconds:g} s")

    def read(self, n: int) -> None:
        """Count ``n`` bytes read from the scanned file."""
        self.bytes_read += n
        self.check_time()

    def produced(self, n: int) -> None:
        """Count ``n`` decompressed bytes; raise when a bomb bound is passed."""
        self.decompressed += n
        lim = self.limits
        if self.decompressed > lim.max_decompressed_bytes:
            raise self._over(
                "container.limit", f"more than {lim.max_decompressed_bytes} bytes would be decompressed"
            )
        if self.decompressed > lim.ratio_floor and self.decompressed > lim.max_ratio * max(
            self.bytes_read, 1
        ):
            raise self._over(
                "container.bomb",
                f"decompressed {self.decompressed} bytes from {self.bytes_read} read "
                f"(ratio above {lim.max_ratio}): a decompression bomb",
            )

    def member(self) -> None:
        """Count one archive entry listed."""
        self.members += 1
        if self.members > self.limits.max_members:
            raise self._over("container.limit", f"more than {self.limits.max_members} archive members")


# --------------------------------------------------------------------------- random-access sources


class Source:
    """Random access to ``size`` bytes."""

    size: int = 0

    def pread(self, offset: int, n: int) -> bytes:  # pragma: no cover - abstract
        raise NotImplementedError

    def read_exact(self, offset: int, n: int) -> bytes | None:
        """``n`` bytes at ``offset``, or None when the source ends first."""
        data = self.pread(offset, n)
        return data if len(data) == n else None


class FileSource(Source):
    """The scanned file, read with ``os.pread`` and counted in the budget."""

    def __init__(self, fd: int, size: int, budget: ScanBudget) -> None:
        self.fd = fd
        self.size = size
        self.budget = budget

    def pread(self, offset: int, n: int) -> bytes:
        if offset < 0 or n <= 0 or offset >= self.size:
            return b""
        n = min(n, self.size - offset)
        parts: list[bytes] = []
        got = 0
        while got < n:
            data = os.pread(self.fd, n - got, offset + got)
            if not data:
                break  # the file shrank under us: a short read, which callers treat as truncation
            parts.append(data)
            got += len(data)
        self.budget.read(got)
        return parts[0] if len(parts) == 1 else b"".join(parts)


class WindowSource(Source):
    """``size`` bytes of ``parent`` from ``base`` (a stored archive member, a prefix)."""

    def __init__(self, parent: Source, base: int, size: int) -> None:
        self.parent = parent
        self.base = base
        self.size = max(0, min(size, parent.size - base))

    def pread(self, offset: int, n: int) -> bytes:
        if offset < 0 or n <= 0 or offset >= self.size:
            return b""
        return self.parent.pread(self.base + offset, min(n, self.size - offset))


class SpoolSource(Source):
    """Bytes copied aside (a decompressed member that must be read at random)."""

    def __init__(self, fh: IO[bytes], size: int, budget: ScanBudget) -> None:
        self.fh = fh
        self.size = size
        self.budget = budget

    def pread(self, offset: int, n: int) -> bytes:
        if offset < 0 or n <= 0 or offset >= self.size:
            return b""
        self.budget.check_time()
        self.fh.seek(offset)
        return self.fh.read(min(n, self.size - offset))

    def close(self) -> None:
        self.fh.close()


class BytesSource(Source):
    """Bytes already in memory (a payload handed over by the pickle walker)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.size = len(data)

    def pread(self, offset: int, n: int) -> bytes:
        if offset < 0 or n <= 0:
            return b""
        return self.data[offset : offset + n]


class SourceFile(io.RawIOBase):
    """A seekable, read-only file object over a :class:`Source`."""

    def __init__(self, src: Source) -> None:
        super().__init__()
        self.src = src
        self.pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self.pos + offset
        elif whence == io.SEEK_END:
            pos = self.src.size + offset
        else:
            raise ValueError(f"bad whence {whence}")
        if pos < 0:
            raise ValueError("negative seek position")
        self.pos = pos
        return pos

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self.src.pread(self.pos, len(view))
        view[: len(data)] = data
        self.pos += len(data)
        return len(data)


def open_source(src: Source, buffer_size: int = 64 * KiB) -> io.BufferedReader:
    """A buffered, seekable binary file over ``src``."""
    return io.BufferedReader(SourceFile(src), buffer_size=buffer_size)


# --------------------------------------------------------------------------- sequential streams


class Readable(Protocol):
    def read(self, n: int = -1, /) -> bytes | None: ...


class _Decoder:
    """One decompressor behind one interface: zlib-style and bz2/lzma/lz4-style objects differ."""

    def __init__(self, codec: str) -> None:
        self.codec = codec
        self.obj: Any = _new_decompressor(codec)
        self.last_full = False

    @property
    def eof(self) -> bool:
        return self.codec != "stored" and bool(self.obj.eof)

    @property
    def unused(self) -> bytes:
        return b"" if self.codec == "stored" else bytes(self.obj.unused_data or b"")

    def has_more(self) -> bool:
        """True when output may come without new input."""
        if self.codec == "stored":
            return False
        if self.codec in _ZLIB_CODECS:
            return bool(self.obj.unconsumed_tail) or self.last_full
        return (not self.obj.needs_input and not self.obj.eof) or self.last_full

    def feed(self, data: bytes, max_out: int) -> bytes:
        if self.codec == "stored":
            return data
        obj = self.obj
        if self.codec in _ZLIB_CODECS:
            out = obj.decompress(obj.unconsumed_tail + data if obj.unconsumed_tail else data, max_out)
        else:
            out = obj.decompress(data, max_out)
        self.last_full = len(out) >= max_out
        return bytes(out)


#: liblzma allocates the dictionary a header asks for: refuse more than real files use.
_LZMA_MEMLIMIT = 512 * MiB
_ZLIB_CODECS = {"deflate": -15, "zlib": 15, "gzip": 31}
#: Stream magics, for a second compressed stream after the first (multi-member gzip, bzip2, xz, lz4).
_STREAM_MAGIC = {"gzip": b"\x1f\x8b", "bz2": b"BZh", "xz": b"\xfd7zXZ\x00", "lz4": b"\x04\x22\x4d\x18"}


def lz4_frame() -> Any | None:
    """The ``lz4.frame`` module when lz4 is installed (optional dependency)."""
    try:
        return importlib.import_module("lz4.frame")
    except ImportError:
        return None


def _new_decompressor(codec: str) -> Any:
    if codec == "stored":
        return None
    if codec in _ZLIB_CODECS:
        return zlib.decompressobj(_ZLIB_CODECS[codec])
    if codec == "bz2":
        return bz2.BZ2Decompressor()
    if codec == "xz":
        return lzma.LZMADecompressor(lzma.FORMAT_XZ, memlimit=_LZMA_MEMLIMIT)
    if codec == "lzma":
        return lzma.LZMADecompressor(lzma.FORMAT_ALONE, memlimit=_LZMA_MEMLIMIT)
    if codec == "lz4":
        mod = lz4_frame()
        if mod is None:
            raise CorruptData("container.unsupported", "lz4 stream: the lz4 package is not installed")
        return mod.LZ4FrameDecompressor()
    raise CorruptData("container.unsupported", f"unsupported compression {codec!r}")


_DECODE_ERRORS: tuple[type[BaseException], ...] = (
    zlib.error,
    lzma.LZMAError,
    EOFError,
    ValueError,
    RuntimeError,
    MemoryError,
)


class DecodeStream(io.RawIOBase):
    """Decompressed bytes of ``codec`` data pulled from ``inp``: sequential, bounded, never seekable.

    ``in_limit`` caps the compressed bytes taken from ``inp`` (a zip member's size); ``multi``
    continues with a following stream of the same kind (concatenated gzip/bzip2/xz/lz4 members,
    as their file readers do). ``crc`` is the CRC-32 of what was produced; ``trailing`` is True when
    bytes that are not a further stream follow the end. A failure is raised as :class:`ContainerError`
    and kept in ``failure``.
    """

    def __init__(
        self,
        inp: Readable,
        codec: str,
        budget: ScanBudget,
        *,
        in_limit: int | None = None,
        multi: bool = False,
        count_output: bool = True,
    ) -> None:
        super().__init__()
        self.inp = inp
        self.codec = codec
        self.budget = budget
        self.in_limit = in_limit
        self.multi = multi and codec in _STREAM_MAGIC
        self.count_output = count_output and codec != "stored"
        self.in_bytes = 0
        self.out_bytes = 0
        self.crc = 0
        self.trailing = False
        self.ended = False  #: the compressed stream reached its end marker (or input end, for stored)
        self.consumed = 0  #: compressed bytes up to the end marker, once ``ended``
        self.failure: ContainerError | None = None
        self._dec: _Decoder | None = None
        try:
            self._dec = _Decoder(codec)
        except ContainerError as exc:
            self.failure = exc
        self._pending = b""
        self._carry = b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return self.out_bytes - len(self._pending)

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        if self.failure is not None:
            raise self.failure
        try:
            data = self._next(len(view))
        except ContainerError as exc:
            self.failure = exc
            raise
        view[: len(data)] = data
        return len(data)

    def _pull(self, n: int = CHUNK) -> bytes:
        if self._carry:
            data, self._carry = self._carry, b""
            return data
        if self.in_limit is not None:
            n = min(n, self.in_limit - self.in_bytes)
            if n <= 0:
                return b""
        data = self.inp.read(n) or b""
        self.in_bytes += len(data)
        return data

    def _next(self, n: int) -> bytes:
        if self._pending:
            out, self._pending = self._pending[:n], self._pending[n:]
            return out
        dec = self._dec
        if dec is None:
            raise CorruptData("container.unsupported", f"{self.codec} stream: decoder not installed")
        stalls = 0
        while True:
            self.budget.check_time()
            if self.ended:
                return b""
            if dec.eof:
                if not self._next_stream(dec.unused):
                    self.ended = True
                    return b""
                dec = self._dec
                assert dec is not None
                continue
            try:
                if dec.has_more() and stalls < 2:
                    out = dec.feed(b"", n)
                else:
                    chunk = self._pull()
                    if not chunk:
                        if self.codec == "stored":
                            self.ended = True
                            self.consumed = self.in_bytes
                            return b""
                        raise CorruptData(
                            "container.truncated", f"{self.codec} stream ends before its end marker"
                        )
                    out = dec.feed(chunk, n)
            except _DECODE_ERRORS as exc:
                raise CorruptData("container.malformed", f"{self.codec} data is corrupt: {exc}") from None
            except OSError as exc:  # bz2 reports corrupt data as OSError
                if isinstance(exc, ContainerError):
                    raise
                raise CorruptData("container.malformed", f"{self.codec} data is corrupt: {exc}") from None
            if out:
                if len(out) > n:
                    out, self._pending = out[:n], out[n:]
                self._produced(out, len(self._pending))
                return out
            stalls += 1

    def _produced(self, out: bytes, pending: int) -> None:
        total = len(out) + pending
        self.out_bytes += total
        self.crc = zlib.crc32(out, self.crc)
        if pending:
            self.crc = zlib.crc32(self._pending, self.crc)
        if self.count_output:
            self.budget.produced(total)

    def _next_stream(self, unused: bytes) -> bool:
        """After one stream ends: start the next one, or note trailing data. False at the end."""
        rest = unused
        if not rest and self.multi:
            rest = self._pull(64)
        if self.multi and rest:
            magic = _STREAM_MAGIC[self.codec]
            while len(rest) < len(magic):
                more = self._pull(len(magic) - len(rest))
                if not more:
                    break
                rest += more
            if rest.startswith(magic):
                self._dec = _Decoder(self.codec)
                self._carry = rest
                return True
            if self.codec == "gzip" and not rest.strip(b"\x00"):
                rest = b""  # zero padding after a gzip member is allowed, as GzipFile does
        self.consumed = self.in_bytes - len(rest)
        self.trailing = bool(rest)
        return False

    def finish(self, limit: int) -> int | None:
        """The CRC-32 of the whole stream, decoding the rest; None when more than ``limit`` bytes remain."""
        end = self.out_bytes + limit
        while self.readinto(bytearray(CHUNK)):
            if self.out_bytes > end:
                return None
        return self.crc

    def drain(self) -> None:
        """Read to the end (bounded by the budget), so that ``crc`` and ``out_bytes`` are final."""
        while self.readinto(bytearray(CHUNK)):
            pass


class ChainStream(io.RawIOBase):
    """``head`` (already read to sniff the content) followed by the rest of ``rest``."""

    def __init__(self, head: bytes, rest: io.RawIOBase | io.BufferedIOBase) -> None:
        super().__init__()
        self.head = head
        self.rest = rest
        self.pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return self.pos

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        if self.head:
            n = min(len(view), len(self.head))
            view[:n] = self.head[:n]
            self.head = self.head[n:]
        else:
            data = self.rest.read(len(view)) or b""
            n = len(data)
            view[:n] = data
        self.pos += n
        return n


def read_up_to(stream: Readable, n: int) -> bytes:
    """Up to ``n`` bytes from ``stream``, fewer only at its end."""
    parts: list[bytes] = []
    got = 0
    while got < n:
        data = stream.read(n - got)
        if not data:
            break
        parts.append(data)
        got += len(data)
    return b"".join(parts)


def spool(stream: Readable, budget: ScanBudget, limit: int | None = None) -> SpoolSource:
    """Copy the rest of ``stream`` aside (memory, then a temporary file) for random access."""
    cap = budget.limits.max_spool_bytes if limit is None else limit
    fh = tempfile.SpooledTemporaryFile(max_size=32 * MiB)  # noqa: SIM115 - owned by the SpoolSource
    size = 0
    try:
        while True:
            budget.check_time()
            data = stream.read(CHUNK)
            if not data:
                break
            size += len(data)
            if size > cap:
                raise ContainerError("container.limit", f"member larger than {cap} bytes cannot be spooled")
            fh.write(data)
    except BaseException:
        fh.close()
        raise
    return SpoolSource(fh, size, budget)


def as_raw(raw: Readable | None) -> io.RawIOBase | io.BufferedIOBase:
    """``raw`` as a file object (wrapped when it only has ``read``)."""
    assert raw is not None
    if isinstance(raw, io.RawIOBase | io.BufferedIOBase):
        return raw
    return ReadableAdapter(raw)


class TapFile(SourceFile):
    """A seekable view that computes the CRC-32 of what is read in order, and can finish it."""

    def __init__(self, src: Source) -> None:
        super().__init__(src)
        self.crc = 0
        self.crc_pos = 0

    def readinto(self, buffer: WriteableBuffer) -> int:
        start = self.pos
        n = super().readinto(buffer)
        if start <= self.crc_pos < start + n:
            view = memoryview(buffer).cast("B")
            self.crc = zlib.crc32(view[self.crc_pos - start : n], self.crc)
            self.crc_pos = start + n
        return n

    def finish(self, limit: int) -> int | None:
        """The CRC-32 of the whole source, reading what was not read yet; None past ``limit`` bytes."""
        if self.src.size - self.crc_pos > limit:
            return None
        while self.crc_pos < self.src.size:
            data = self.src.pread(self.crc_pos, min(1 << 20, self.src.size - self.crc_pos))
            if not data:
                break
            self.crc = zlib.crc32(data, self.crc)
            self.crc_pos += len(data)
        return self.crc


class ReadableAdapter(io.RawIOBase):
    """A raw stream over any object with ``read(n)`` (tarfile's member files)."""

    def __init__(self, inner: Readable) -> None:
        super().__init__()
        self.inner = inner

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self.inner.read(len(view)) or b""
        view[: len(data)] = data
        return len(data)


# --------------------------------------------------------------------------- hashing


_SHA_CACHE: OrderedDict[tuple[str, int, int], str] = OrderedDict()
_SHA_CACHE_MAX = 65_536


def sha256_of(path: Path | str, *, chunk_size: int = 4 * MiB) -> str:
    """The SHA-256 (hex) of a file, streamed in chunks, remembered by (path, size, mtime_ns) in the
    process and, during a scan with a store, by full stat stamp across scans (``hash_book``).

    Raises ``OSError`` when the file cannot be read.
    """
    st = os.stat(path)
    key = (os.fspath(path), st.st_size, st.st_mtime_ns)
    hit = _SHA_CACHE.get(key)
    if hit is not None:
        _SHA_CACHE.move_to_end(key)
        return hit
    book = SHA256_BOOK.get() if st.st_size >= hash_book.MIN_BYTES else None
    stamp_key = sha256_stamp_key(path, st) if book is not None else ""
    value = book.lookup(stamp_key) if book is not None else None
    if value is None:
        digest = hashlib.sha256()
        buf = bytearray(chunk_size)
        view = memoryview(buf)
        with open(path, "rb", buffering=0) as fh:
            while n := fh.readinto(buf):
                digest.update(view[:n])
        value = digest.hexdigest()
        if book is not None:
            book.remember(stamp_key, st, value)
    _SHA_CACHE[key] = value
    if len(_SHA_CACHE) > _SHA_CACHE_MAX:
        _SHA_CACHE.popitem(last=False)
    return value
