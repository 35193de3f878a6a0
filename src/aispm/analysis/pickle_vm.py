"""A bounded, streaming walker over pickle opcodes: what a pickle would import and call, never run.

:func:`scan_pickle` reads a pickle stream (any protocol, 0-5) the way CPython's C unpickler
(``_pickle.c``) parses it, with a symbolic stack and memo instead of objects: ``GLOBAL``,
``STACK_GLOBAL``, ``INST``, ``OBJ`` and ``EXT*`` resolve to names even when the strings come from the
memo; ``REDUCE``, ``NEWOBJ``, ``NEWOBJ_EX``, ``BUILD``, ``APPEND(S)``, ``SETITEM(S)`` and
``ADDITEMS`` are followed, and each name is judged in the role it is used in by
:mod:`aispm.analysis.pickle_policy`. A call whose callable is itself the result of a call
(``getattr(builtins, 'eval')(...)``) is malicious whatever the names involved.

Parsing follows the C unpickler: ``STRING`` needs quotes, ``INT``/``LONG`` take any base, marks
fence the stack, Python 2 names are mapped, and an error the unpickler raises ends the walk there,
after whatever it already ran (where in doubt the walk goes on: it never stops before a loader
would). Findings accumulate as the walk goes: a dangerous ``REDUCE`` followed by garbage is still
malicious, with an unscannable note for the garbage. Where loaders read the same bytes differently,
both readings are walked: an operand that runs across a ``FRAME`` end (CPython issue 154848: older C
unpicklers reading a file drop the rest of the frame) and joblib's raw array bytes (which
``joblib.load`` skips and ``pickle.load`` parses as opcodes).

After ``STOP`` the walk goes on while the next bytes start another pickle (torch's legacy format is
five pickles and then raw storage bytes; what follows a complete pickle is walked tentatively, so
raw data that merely starts like a pickle stays data). joblib writes raw array bytes inside its
pickle: the walker skips exactly the size the ``NumpyArrayWrapper`` state gives, and walks the
nested pickle of an object array. Memory stays flat: input is read in small chunks, long strings
and bytes keep only a short prefix (a zip or pickle payload is scanned in place), containers keep
a bounded preview. Bounds (bytes, opcodes, stack depth, memo size, line lengths, pickles, nesting)
end the walk with an ``UNSCANNABLE`` issue naming the bound.

Nothing here imports or executes what is scanned.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import itertools
import pickletools
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, BinaryIO, Final

from aispm.analysis import pickle_policy as policy
from aispm.analysis.artifact_report import Issue, Verdict, worst
from aispm.analysis.pickle_policy import Role, Ruling
from aispm.model import JSON, Severity

__all__ = [
    "DEFAULT_LIMITS",
    "NestedScanner",
    "PickleLimits",
    "PickleScan",
    "looks_like_pickle",
    "scan_npy",
    "scan_pickle",
    "scan_pickle_bytes",
]


@dataclass(frozen=True)
class PickleLimits:
    """Bounds on one scan; going over one ends the walk with an ``UNSCANNABLE`` issue."""

    max_bytes: int = 16 << 30  #: bytes read or skipped from the stream
    max_ops: int = 50_000_000  #: opcodes walked, all pickles together
    max_depth: int = 1_000_000  #: items on the stack, and open marks
    max_memo: int = 2_000_000  #: memo entries
    max_pickles: int = 64  #: pickles in one stream (torch legacy files have five)
    max_line: int = 1 << 16  #: a text operand (GLOBAL names, INT, PERSID); STRING/UNICODE are streamed
    max_nesting: int = 3  #: payloads scanned inside payloads (torch's _load_from_bytes)
    max_nested_bytes: int = 256 << 20  #: largest nested archive held in memory to scan
    max_issues: int = 200  #: issues kept (the first ones; the verdict is never lowered by the cut)


DEFAULT_LIMITS: Final = PickleLimits()

#: A scanner for a nested payload (a torch zip inside ``torch.storage._load_from_bytes``), supplied
#: by the container layer: ``nested(data, member) -> PickleScan``.
NestedScanner = Callable[[bytes, str], "PickleScan"]


@dataclass(frozen=True)
class PickleScan:
    """What one pickle stream would do if loaded.

    ``globals`` lists every resolved ``module.name`` (sorted, unique); ``calls`` every one called or
    instantiated, with a short redacted summary of its first arguments; ``pickles`` counts the complete
    pickles walked; ``end_offset`` is where the last complete pickle (or the joblib data after it)
    ended, relative to where the scan started; ``complete`` is False when the walk stopped early
    (malformed, truncated, over a bound); ``is_pickle`` is False when the stream is not a pickle at
    all; ``trailing`` is True when bytes that are not a pickle follow the last one.
    """

    issues: tuple[Issue, ...]
    globals: tuple[str, ...]
    pickles: int
    end_offset: int
    complete: bool
    is_pickle: bool
    trailing: bool = False
    calls: tuple[tuple[str, str], ...] = ()
    #: torch storages named by persistent ids: (key, storage class, declared element count).
    storages: tuple[tuple[str, str, int], ...] = ()

    @property
    def verdict(self) -> Verdict:
        return worst(i.verdict for i in self.issues)


# --- symbolic values ----------------------------------------------------------------------------------


class _G:
    """An imported object, by resolved name (``mod`` leading segments of it name the module)."""

    __slots__ = ("mod", "name")

    def __init__(self, name: str, mod: int = 1) -> None:
        self.name = name
        self.mod = mod


class _C:
    """The result of a call (or of anything computed at load time): ``fname`` is the callable's name."""

    __slots__ = ("args", "fname", "state")

    def __init__(self, fname: str | None, args: Any) -> None:
        self.fname = fname
        self.args = args
        self.state: Any = None


class _Ext:
    """An object from the copyreg extension registry (unregistered by default)."""

    __slots__ = ("code",)

    def __init__(self, code: int) -> None:
        self.code = code


class _P:
    """What ``persistent_load`` returns for a persistent id (torch: a storage)."""

    __slots__ = ("pid",)

    def __init__(self, pid: Any) -> None:
        self.pid = pid


class _B:
    """A long string or bytes value: its kind, size, a short prefix, and a scan of it if it was one."""

    __slots__ = ("kind", "nested", "prefix", "size")

    def __init__(self, kind: str, size: int, prefix: bytes) -> None:
        self.kind = kind
        self.size = size
        self.prefix = prefix
        self.nested: PickleScan | None = None


class _Buf:
    """An out-of-band buffer (``NEXT_BUFFER``)."""

    __slots__ = ()


class _L(list[Any]):
    """A list, set or frozenset under construction (items beyond :data:`_CAP` are dropped)."""

    __slots__ = ()


class _D(dict[Any, Any]):
    """A dict under construction; ``dunder`` is set when a ``__x__`` key was dropped (beyond the preview)."""

    __slots__ = ("dunder",)
    dunder: bool


_CAP: Final = 256  #: items kept per container (a preview, for summaries and state checks)
_KEEP: Final = 1024  #: strings and bytes up to this size are kept whole; longer ones keep a prefix
_PREFIX: Final = 64
_MAX_KEPT_ITEMS: Final = 1 << 21  #: container items kept in previews per walk (bounds memory)
_MAX_KEPT_TEXT: Final = 64 << 20  #: bytes of strings longer than _PREFIX kept whole per walk
_CHUNK: Final = 1 << 16
_SKIP_CHUNK: Final = 1 << 18
_PICKLE_START = re.compile(rb"\x80[\x00-\x05]")


#: What reading a stream can raise on hostile input: the file object's own errors, and those of the
#: stdlib decompressors and zipfile under it (an unsupported zip version or method, a bad deflate
#: stream). Each is truncated or malformed input, never a walker bug.
READ_ERRORS: Final = (OSError, EOFError, ValueError, zipfile.BadZipFile, NotImplementedError, zlib.error)


class _Stop(Exception):
    """Ends the walk: ``kind`` is 'malformed', 'truncated' or 'limit'."""

    def __init__(self, kind: str, reason: str, offset: int | None = None) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.offset = offset


# --- the stream -------------------------------------------------------------------------------------


class _Stream:
    """Chunked reads from a binary file object, with skip (seek or read-and-discard) and a byte bound."""

    __slots__ = ("base", "buf", "eof", "fh", "limit", "pos", "seek_end", "start")

    def __init__(self, fh: BinaryIO, limit: int) -> None:
        self.fh = fh
        self.buf = b""
        self.pos = 0
        self.base = 0  # stream offset (from the scan start) of buf[0]
        self.eof = False
        self.limit = limit
        self.seek_end: int | None = None  # bytes from the start to the end, when seekable
        self.start = 0
        try:
            if fh.seekable():
                self.start = fh.tell()
                end = fh.seek(0, io.SEEK_END)
                fh.seek(self.start)
                self.seek_end = end - self.start
        except (OSError, ValueError, AttributeError):
            self.seek_end = None

    @property
    def offset(self) -> int:
        return self.base + self.pos

    def refill(self, need: int = 16) -> None:
        """Make at least ``need`` bytes available after ``pos`` unless the stream ends first."""
        buf, pos = self.buf, self.pos
        have = len(buf) - pos
        if have >= need or self.eof:
            return
        parts = [buf[pos:]]
        self.base += pos
        want = max(need - have, _CHUNK)
        if self.base + have + want > self.limit:
            want = self.limit - self.base - have
        while want > 0:
            try:
                data = self.fh.read(want)
            except READ_ERRORS as exc:
                raise _Stop("truncated", f"read error: {exc.__class__.__name__}: {exc}") from exc
            if not data:
                self.eof = True
                break
            parts.append(data)
            have += len(data)
            if have >= need:
                break
            want = need - have
        else:
            if self.base + have >= self.limit:
                self.eof = True
        self.buf = b"".join(parts)
        self.pos = 0

    def over_limit(self) -> bool:
        return self.base + len(self.buf) >= self.limit

    def take(self, n: int) -> bytes:
        """The next ``n`` bytes (``n`` is small or bounded by the caller)."""
        if len(self.buf) - self.pos < n:
            self.refill(n)
            if len(self.buf) - self.pos < n:
                self._short(n)
        pos = self.pos
        self.pos = pos + n
        return self.buf[pos : pos + n]

    def _short(self, n: int) -> None:
        if self.over_limit():
            raise _Stop("limit", f"max_bytes ({self.limit}) reached")
        raise _Stop("truncated", f"stream ends {n - (len(self.buf) - self.pos)} bytes early")

    def skip(self, n: int) -> None:
        """Skip ``n`` bytes without holding them."""
        if self.offset + n > self.limit:
            raise _Stop("limit", f"a {n}-byte value passes max_bytes ({self.limit})")
        have = len(self.buf) - self.pos
        if n <= have:
            self.pos += n
            return
        n -= have
        self.base += len(self.buf)
        self.buf = b""
        self.pos = 0
        if self.seek_end is not None:
            target = self.base + n
            if target > self.seek_end:
                self.base = self.seek_end
                self.eof = True
                raise _Stop("truncated", f"stream ends {target - self.seek_end} bytes before a value's end")
            try:
                self.fh.seek(self.start + target)
            except (OSError, ValueError) as exc:
                raise _Stop("truncated", f"seek failed: {exc}") from exc
            self.base = target
            return
        scratch = bytearray(_SKIP_CHUNK)
        view = memoryview(scratch)
        readinto = getattr(self.fh, "readinto", None)
        while n > 0:
            want = min(n, _SKIP_CHUNK)
            try:
                got = (readinto(view[:want]) or 0) if readinto is not None else len(self.fh.read(want))
            except READ_ERRORS as exc:
                raise _Stop("truncated", f"read error: {exc.__class__.__name__}: {exc}") from exc
            if not got:
                self.eof = True
                raise _Stop("truncated", f"stream ends {n} bytes before a value's end")
            self.base += got
            n -= got

    def readline(self, keep: int, hard: int | None) -> tuple[bytes, int]:
        """The next line without its newline: (first ``keep`` bytes, full length).

        Lines longer than ``hard`` (when given) stop the walk; others are streamed past.
        """
        out = b""
        total = 0
        while True:
            buf, pos = self.buf, self.pos
            nl = buf.find(b"\n", pos)
            end = nl if nl >= 0 else len(buf)
            seg = end - pos
            if len(out) < keep:
                out += buf[pos : min(end, pos + keep - len(out))]
            total += seg
            if hard is not None and total > hard:
                raise _Stop("limit", f"a text operand is longer than max_line ({hard})")
            if nl >= 0:
                self.pos = nl + 1
                return out, total
            self.pos = len(buf)
            if self.eof:
                self._short(1)
            self.refill(1)
            if len(self.buf) - self.pos < 1:
                self._short(1)


class _SubReader(io.RawIOBase):
    """Exactly ``n`` bytes of a :class:`_Stream`, as a file object (for a payload scanned in place)."""

    def __init__(self, stream: _Stream, n: int) -> None:
        self._s = stream
        self._left = n

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        if size < 0 or size > self._left:
            size = self._left
        s = self._s
        if len(s.buf) - s.pos < 1:
            s.refill(1)
        avail = len(s.buf) - s.pos
        if avail <= 0:
            return b""
        size = min(size, avail)
        data = s.buf[s.pos : s.pos + size]
        s.pos += size
        self._left -= size
        return data

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    @property
    def left(self) -> int:
        return self._left


# --- summaries ---------------------------------------------------------------------------------------

_SECRETISH = re.compile(r"[A-Za-z0-9+_=\-]{32,}")  # long token-like runs (keys, tokens) are cut


def _short_text(s: str, n: int = 48) -> str:
    s = _SECRETISH.sub(lambda m: m.group(0)[:4] + "…", s)
    return repr(s[:n] + ("…" if len(s) > n else ""))


def summarize(v: Any, depth: int = 2, width: int = 4) -> str:
    """A short, redacted description of a symbolic value (for issue details)."""
    t = type(v)
    if t is str:
        return _short_text(v) + (f"[{len(v)}]" if len(v) > 48 else "")
    if t is bytes or t is bytearray:
        return f"bytes[{len(v)}]"
    if t is _B:
        pre = v.prefix.decode("latin-1") if v.kind == "str" else ""
        return f"{v.kind}[{v.size}]" + (" " + _short_text(pre, 32) if pre else "")
    if t is _G:
        return str(v.name)
    if t is _C:
        if depth <= 0:
            return f"{v.fname or '<computed>'}(…)"
        return f"{v.fname or '<computed>'}({summarize(v.args, depth - 1, width)})"
    if t is _P:
        return "persistent_id(" + (summarize(v.pid, depth - 1, width) if depth > 0 else "…") + ")"
    if t is _Ext:
        return f"ext[{v.code}]"
    if t is tuple or t is _L:
        if depth <= 0:
            return "(…)" if t is tuple else "[…]"
        inner = ", ".join(summarize(x, depth - 1, width) for x in v[:width])
        more = ", …" if len(v) > width else ""
        if t is _L:
            return f"[{inner}{more}]"
        return f"({inner},)" if len(v) == 1 else f"({inner}{more})"
    if t is _D:
        if depth <= 0:
            return "{…}"
        items = list(v.items())[:width]
        inner = ", ".join(f"{summarize(k, 0)}: {summarize(x, depth - 1, width)}" for k, x in items)
        return "{" + inner + (", …" if len(v) > width else "") + "}"
    if v is None or t is bool or t is int or t is float or t is complex:
        return repr(v)[:40]
    return t.__name__.lstrip("_")


def _dunder_keys(v: Any, depth: int = 3) -> list[str]:
    """Dunder names a BUILD state would set: keys of a dict (or a dict-making call) and its slot state."""
    out: list[str] = []
    t = type(v)
    if t is _D:
        out.extend(k for k in v if type(k) is str and _is_dunder(k))
        if not out and getattr(v, "dunder", False):
            out.append("__(a key beyond the kept preview)__")
    elif t is tuple and len(v) == 2 and depth > 0:  # (state, slotstate)
        for x in v:
            out.extend(_dunder_keys(x, depth - 1))
    elif t is _C and depth > 0 and v.fname in _DICT_MAKERS:
        args = v.args
        for a in args if type(args) is tuple else (args,):
            if type(a) in (tuple, _L):
                for pair in a[:_CAP]:
                    if type(pair) is tuple and pair and type(pair[0]) is str and _is_dunder(pair[0]):
                        out.append(pair[0])
            else:
                out.extend(_dunder_keys(a, depth - 1))
    return out


_DICT_MAKERS: Final = frozenset(
    {"builtins.dict", "collections.OrderedDict", "types.SimpleNamespace", "argparse.Namespace"}
)


def _is_dunder(s: str) -> bool:
    return len(s) > 4 and s[:2] == "__" and s[-2:] == "__"


def _has_dunder(keys: Any) -> bool:
    """Whether any of ``keys`` is a ``__dunder__`` string."""
    for k in keys:  # noqa: SIM110 - a plain loop is twice as fast as any() here
        if type(k) is str and k[:2] == "__" and k[-2:] == "__" and len(k) > 4:
            return True
    return False


# --- opcode table -------------------------------------------------------------------------------------

#: Opcode byte -> name, from the stdlib's table of the pickle protocol (protocols 0-5).
_OP_NAMES: Final = {ord(op.code): op.name for op in pickletools.opcodes}
_VALID_OPS: Final = frozenset(_OP_NAMES)
_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")
_U64 = struct.Struct("<Q")
_F64 = struct.Struct(">d")
_MISSING: Final = object()
#: Policy rulings by (name, role, module segments), shared by all walks (the policy is pure).
_JUDGED: dict[tuple[str, int, int], Ruling | None] = {}


def _kinds() -> tuple[int, ...]:
    table = [-1] * 256
    groups = {
        0: b"qr\x94",
        1: b"hj",
        2: b"\x8cX\x8d",
        3: b"N\x88\x89)",
        4: b"KMJ",
        5: b"(",
        6: b"\x85\x86\x87t",
        7: b"R",
        8: b"}]\x8f",
        9: b"usea\x90",
        10: b"b",
        11: b"Q",
        12: b"\x93",
        13: b"\x81\x92",
        14: b"\x95",
        15: b".",
        16: b"012",
        17: b"G",
        18: b"\x80",
        19: b"UTCB\x8e\x96\x8a\x8b",
        20: b"cilodpgILFSVP\x82\x83\x84\x97\x98\x91",
    }
    for kind, codes in groups.items():
        for c in codes:
            assert table[c] == -1
            table[c] = kind
    return tuple(table)


#: Opcode byte -> kind of handling in :meth:`_Walker.walk_one` (-1: not an opcode).
_KIND: Final = _kinds()
#: What the constant-pushing opcodes push.
_CONSTS: Final = {0x4E: None, 0x88: True, 0x89: False, 0x29: ()}
#: Opcodes that close a MARK inside :meth:`_Walker.rare`.
_MARK_OPS: Final = frozenset(b"iol\x91d")
_NO_FRAME: Final = 1 << 62
_FORK_WINDOW: Final = 1 << 22  #: bytes of joblib array data walked as pickle.load would read them
_FORK_TAIL: Final = 1 << 16  #: and how far past the array that reading is followed

#: Names whose calls the walker handles itself (arguments matter).
_RESOLVERS: Final = frozenset({"numpy.core._ufunc_reconstruct", "numpy._core._ufunc_reconstruct"})
_JOBLIB_WRAPPER: Final = "joblib.numpy_pickle.NumpyArrayWrapper"
_CODECS_ENCODE: Final = frozenset({"_codecs.encode", "codecs.encode"})
#: Callables whose calls :meth:`_Walker.call` must see even when the name itself is allowed.
_SPECIAL_CALLS: Final = (
    frozenset(policy.ARG_ROLES)
    | frozenset(policy.STATE_ARGS)
    | _CODECS_ENCODE
    | policy.RECURSIVE_LOADERS
    | _RESOLVERS
)


# --- the walker ---------------------------------------------------------------------------------------


class _Walker:
    """Walks the pickles of one stream; collects issues and globals."""

    def __init__(
        self,
        stream: _Stream,
        member: str | None,
        limits: PickleLimits,
        nested: NestedScanner | None,
        depth: int,
    ) -> None:
        self.s = stream
        self.member = member
        self.limits = limits
        self.nested = nested
        self.depth = depth
        self.issues: list[Issue] = []
        self.seen: set[tuple[str, str]] = set()
        self.index: dict[tuple[str, str], int] = {}
        self.globals: set[str] = set()
        self.calls: dict[str, str] = {}  # every call target, with a summary of its first arguments
        self.ops = 0
        self.frame_end = _NO_FRAME  # end of the FRAME being read (stream offset), if one is open
        self.last_frame_end = 0
        self.straddles: list[tuple[int, int]] = []  # (offset of an opcode crossing a frame end, frame end)
        self.ignore_straddles_before = -1  # frames opened before this offset were already dropped
        self.frame_op = -1  # offset of the FRAME opcode of the open frame
        self.dropped = 0
        self.saw_global = False
        # NumpyArrayWrapper data regions skipped (joblib reads them, pickle.load does not)
        self.joblib_skips = 0
        self.room = _MAX_KEPT_ITEMS  # container items kept as previews, all containers together
        self.text_room = _MAX_KEPT_TEXT  # bytes of strings over _PREFIX kept whole
        self.storages: list[tuple[str, str, int]] = []  # torch persistent ids: (key, class, numel)

    # -- issues --

    def note_storage(self, pid: Any) -> None:
        """Remember a torch storage id, ``("storage", <class>, key, location, numel)``."""
        if (
            type(pid) is tuple
            and len(pid) == 5
            and pid[0] == "storage"
            and isinstance(pid[1], _G)
            and type(pid[2]) is str
            and type(pid[4]) is int
            and len(self.storages) < _MAX_STORAGES
        ):
            self.storages.append((pid[2], pid[1].name, pid[4]))

    def straddle(self, op_offset: int, frame_end: int) -> None:
        """Note an opcode whose reads cross a FRAME end: C unpicklers before 3.14.7/3.13.15 may drop the
        rest of the frame and read on from its end, so the same bytes mean two different pickles."""
        if self.frame_op >= self.ignore_straddles_before and len(self.straddles) < 8:
            self.straddles.append((op_offset, frame_end))

    def flag(self, r: Ruling, offset: int | None, key: str, upgrade: bool = False, /, **detail: JSON) -> None:
        """Record an issue once per (rule, key); with ``upgrade``, a later use replaces the first record
        (a global first seen as a reference, then called: the call and its arguments are the evidence)."""
        k = (r.rule, key)
        if k in self.seen:
            if upgrade:
                idx = self.index.get(k)
                if idx is not None:
                    self.issues[idx] = Issue(
                        r.rule,
                        r.verdict,
                        r.severity,
                        r.reason,
                        member=self.member,
                        offset=offset,
                        detail=detail,
                    )
            return
        self.seen.add(k)
        if len(self.issues) >= self.limits.max_issues:
            self.dropped += 1
            worst_now = max((i.verdict.rank for i in self.issues), default=0)
            if r.verdict.rank <= worst_now:
                return
        self.index[k] = len(self.issues)
        self.issues.append(
            Issue(r.rule, r.verdict, r.severity, r.reason, member=self.member, offset=offset, detail=detail)
        )

    def judge(self, name: str, role: Role, mod: int = 1) -> Ruling | None:
        k = (name, role, mod)
        r = _JUDGED.get(k, _MISSING)
        if r is _MISSING:
            r = policy.judge(name, role, mod)
            if len(_JUDGED) > 65536:
                _JUDGED.clear()
            _JUDGED[k] = r
        return r  # type: ignore[return-value]

    def use(self, v: Any, role: Role, op: str, offset: int, args: Any = _MISSING) -> str | None:
        """Judge ``v`` used as a callable or class; return its name when it is a named global."""
        t = type(v)
        if t is _G:
            name: str = v.name
            if name not in self.calls:
                self.calls[name] = summarize(args) if args is not _MISSING else ""
            r = self.judge(name, role, v.mod)
            if r is not None:
                detail: dict[str, JSON] = {"global": name, "opcode": op}
                reason = r.reason
                if args is not _MISSING:
                    detail["args"] = summarize(args)
                    reason = f"{reason}; {op} with {detail['args']}"
                self.flag(replace(r, reason=reason), offset, "g/" + name, True, **detail)
            return name
        if t is _C:
            what = v.fname or "a computed value"
            self.flag(
                policy.ruling(
                    policy.INDIRECT_CALL,
                    f"{op} calls the result of {what}(…) at load time: a call target hidden from name checks",
                ),
                offset,
                "indirect/" + (v.fname or ""),
                opcode=op,
                callable=summarize(v, 1),
                **({"args": summarize(args)} if args is not _MISSING else {}),
            )
            return None
        if t is _Ext:
            self.flag(
                policy.ruling(
                    policy.EXT_OPCODE,
                    f"{op} calls extension code {v.code}, which resolves only through a registration made "
                    "outside the file (copyreg's registry is empty by default)",
                ),
                offset,
                f"ext-call/{v.code}",
                opcode=op,
                code=v.code,
            )
            return None
        if t is _P:
            self.flag(
                policy.ruling(policy.NON_ALLOWLISTED, f"{op} calls an object returned by persistent_load"),
                offset,
                "persid-call",
                opcode=op,
            )
            return None
        return None  # not callable: the unpickler raises TypeError here; keep walking (conservative)

    def mutate_global(self, v: _G, op: str, offset: int) -> None:
        self.flag(
            policy.ruling(
                policy.GLOBAL_MUTATION,
                f"{op} modifies the imported object {v.name} itself (sets attributes or items on it)",
            ),
            offset,
            "mutate/" + v.name,
            opcode=op,
            target=v.name,
        )

    # -- globals --

    def make_global(self, module: str, name: str, op: str, offset: int) -> _G:
        module, name = policy.map_py2(module, name)
        full = f"{module}.{name}"
        mod = module.count(".") + 1
        self.saw_global = True
        if full not in self.globals:
            self.globals.add(full)
            r = self.judge(full, Role.REF, mod)
            if r is not None:
                self.flag(r, offset, "g/" + full, **{"global": full, "opcode": op})
        return _G(full, mod)

    # -- calls --

    def call(self, func: Any, args: Any, op: str, offset: int) -> Any:
        """The value a REDUCE (or INST/OBJ with arguments) pushes, after judging the call."""
        if type(func) is _G:
            name: str = func.name
            if name in policy.RECURSIVE_LOADERS:
                return self.reload(name, args, op, offset)
            if name in _RESOLVERS:
                return self.resolve(name, args, op, offset)
            self.use(func, Role.CALL, op, offset, args)
            roles = policy.ARG_ROLES.get(name)
            if roles is not None and type(args) is tuple:
                self.arg_roles(name, roles, args, op, offset)
            at = policy.STATE_ARGS.get(name)
            if at is not None and type(args) is tuple and len(args) > at:
                self.check_state(name, args[at], offset)
            elif name in _CODECS_ENCODE and type(args) is tuple and len(args) >= 2:
                enc = args[1]
                if type(enc) is not str or enc.lower().replace("_", "-") not in policy.SAFE_ENCODINGS:
                    self.flag(
                        policy.ruling(policy.NON_ALLOWLISTED, f"{name} with encoding {summarize(enc)}"),
                        offset,
                        "codec/" + summarize(enc),
                        **{"global": name, "opcode": op},
                    )
            return _C(name, args)
        self.use(func, Role.CALL, op, offset, args)
        return _C(None, args)

    def arg_roles(
        self, name: str, roles: tuple[Role | None, ...], args: tuple[Any, ...], op: str, offset: int
    ) -> None:
        for i, role in enumerate(roles):
            if role is None or i >= len(args):
                continue
            a = args[i]
            if name == "copyreg._reconstructor" and i == 1 and type(a) is _G and a.name == "builtins.object":
                continue
            if type(a) in (_G, _C, _Ext, _P):
                self.use(a, role, f"{op} {name.rsplit('.', 1)[-1]}", offset)

    def reload(self, name: str, args: Any, op: str, offset: int) -> Any:
        payload: Any = args[0] if type(args) is tuple and len(args) == 1 else None
        t = type(payload)
        if t is bytes or t is bytearray:
            scan = self.scan_payload(bytes(payload), offset)
        elif t is _B and payload.kind in ("bytes", "bytearray"):
            scan = payload.nested
            if scan is None:
                self.flag(
                    policy.ruling(
                        policy.MALFORMED,
                        f"{name} gets a {payload.size}-byte payload that is neither a zip nor a pickle",
                    ),
                    offset,
                    f"reload-unknown/{offset}",
                    **{"global": name},
                )
                return _C(name, args)
        else:
            self.flag(
                policy.ruling(
                    policy.RELOADER,
                    f"{name} deserializes a payload that is not a literal in the file: {summarize(args)}",
                ),
                offset,
                "reload/" + name,
                **{"global": name, "opcode": op, "args": summarize(args)},
            )
            return _C(name, args)
        self.merge(scan, name, offset)
        return _C(name, args)

    def merge(self, scan: PickleScan, name: str, offset: int) -> None:
        for g in scan.globals:
            self.globals.add(g)
        for i in scan.issues:
            detail = dict(i.detail)
            detail["payload_of"] = name
            detail["payload_offset"] = offset
            if i.offset is not None:
                detail["offset_in_payload"] = i.offset
            self.flag(
                Ruling(i.rule, i.verdict, i.severity, f"in the payload {name} loads: {i.message}"),
                offset,
                f"nested/{offset}/{i.rule}/{i.message}",
                **detail,
            )

    def resolve(self, name: str, args: Any, op: str, offset: int) -> Any:
        """``numpy.core._ufunc_reconstruct(module, name)``: an import by strings; only numpy ufuncs pass."""
        if type(args) is tuple and len(args) == 2 and type(args[0]) is str and type(args[1]) is str:
            target = f"{args[0]}.{args[1]}"
            mod = args[0].count(".") + 1
            self.globals.add(target)
            if args[0].split(".", 1)[0] in ("numpy", "scipy"):
                r = self.judge(target, Role.REF, mod)
                if r is None:
                    return _G(target, mod)
            self.flag(
                policy.ruling(policy.IMPORT_INDIRECTION, f"{name} imports {target} by name"),
                offset,
                "resolve/" + target,
                **{"global": name, "target": target, "opcode": op},
            )
            return _G(target, mod)
        self.flag(
            policy.ruling(policy.IMPORT_INDIRECTION, f"{name} imports a name computed at load time"),
            offset,
            "resolve/" + name,
            **{"global": name, "opcode": op, "args": summarize(args)},
        )
        return _C(name, args)

    # -- nested payloads --

    def scan_payload(self, data: bytes, offset: int) -> PickleScan:
        where = f"{self.member or ''}@{offset}"
        if self.depth >= self.limits.max_nesting:
            return _unscannable(
                policy.LIMIT,
                f"payload nested deeper than max_nesting ({self.limits.max_nesting})",
                self.member,
            )
        if data[:2] == b"PK":
            if self.nested is not None:
                return self.nested(data, where)
            return _scan_zip_fallback(data, self.member, self.limits, self.depth + 1)
        return _scan(io.BytesIO(data), self.member, self.limits, self.nested, self.depth + 1)

    def big_bytes(self, kind: str, n: int) -> _B:
        """A long bytes value: keep a prefix; scan it in place when it is a zip or a pickle."""
        s = self.s
        off = s.offset
        head = s.take(min(n, _PREFIX)) if n else b""
        blob = _B(kind, n, head)
        rest = n - len(head)
        if n >= 16 and self.depth < self.limits.max_nesting:
            if head[:4] == b"PK\x03\x04" and n <= self.limits.max_nested_bytes:
                data = head + s.take(rest) if rest <= _CHUNK * 4 else head + _read_exact(s, rest)
                blob.nested = self.scan_payload(data, off)
                return blob
            if _PICKLE_START.match(head):
                sub = _SubReader(s, rest)
                inner = io.BufferedReader(_Prefixed(head, sub), buffer_size=_CHUNK)
                blob.nested = _scan(inner, self.member, self.limits, self.nested, self.depth + 1)
                s.skip(sub.left)
                return blob
        s.skip(rest)
        return blob

    # -- joblib --

    def joblib_array(
        self, state: Any, offset: int, at: tuple[list[Any], dict[int, Any], list[int]] | None = None
    ) -> None:
        """Skip the raw array bytes joblib writes right after a NumpyArrayWrapper (or walk its pickle).

        ``at`` is the walk's state there: ``pickle.load`` (unlike ``joblib.load``) would parse those
        bytes as opcodes from that state, and that reading is walked too (:meth:`plain_fork`).
        """
        if self.frame_end != _NO_FRAME:
            if self.s.offset < self.frame_end:
                raise _Stop("malformed", "joblib array data starts inside a pickle frame", offset)
            self.frame_end = _NO_FRAME
        if type(state) is not _D:
            raise _Stop("malformed", "NumpyArrayWrapper state is not a dict", offset)
        shape = state.get("shape", _MISSING)
        dtype = state.get("dtype", _MISSING)
        if type(shape) is not tuple or not all(type(x) is int and x >= 0 for x in shape):
            raise _Stop(
                "malformed", f"NumpyArrayWrapper shape {summarize(shape)} is not a tuple of sizes", offset
            )
        size, has_object = _dtype_size(dtype)
        if size is None:
            raise _Stop("malformed", f"cannot size joblib array of dtype {summarize(dtype)}", offset)
        self.joblib_skips += 1
        if has_object:  # joblib pickles object arrays with a fresh unpickler, right here
            inner = _Walker(self.s, self.member, self.limits, self.nested, self.depth)
            inner.ops = self.ops
            inner.calls = self.calls
            inner.seen, inner.index, inner.issues, inner.globals = (
                self.seen,
                self.index,
                self.issues,
                self.globals,
            )
            try:
                inner.walk_one(joblib=False)
            finally:
                self.ops = inner.ops
                self.straddles.extend(inner.straddles)
                self.last_frame_end = max(self.last_frame_end, inner.last_frame_end)
            return
        count = 1
        for x in shape:
            count *= x
        nbytes = count * size
        if at is not None:
            self.plain_fork(at, nbytes + 256, offset)
        if "numpy_array_alignment_bytes" in state and state["numpy_array_alignment_bytes"] is not None:
            pad = self.s.take(1)[0]
            nbytes += pad
        self.s.skip(nbytes)

    def plain_fork(self, at: tuple[list[Any], dict[int, Any], list[int]], region: int, offset: int) -> None:
        """Walk joblib's array bytes as ``pickle.load`` would: as opcodes, from the state at ``at``.

        The bytes come from the stream's buffer, read ahead in growing windows up to :data:`_FORK_WINDOW`
        (real array data stops parsing at its first bytes), so this works on streams that cannot seek;
        a reading that still parses where the largest window ends is noted.
        """
        s = self.s
        stack, memo, marks = at
        limit = min(region + _FORK_TAIL, _FORK_WINDOW)
        want = min(4096, limit)
        while True:
            s.refill(want)
            window = s.buf[s.pos : s.pos + want]
            fork = _Walker(
                _Stream(io.BytesIO(window), len(window)), self.member, self.limits, self.nested, self.depth
            )
            short = False
            try:
                fork.walk_one(False, (list(stack), dict(memo), list(marks)))
            except _Stop as stop:
                short = stop.kind == "truncated" and len(window) == want
            except Exception:  # noqa: S110 - a fork that breaks is a reading no loader completes
                pass
            if not short or want >= limit:
                break
            want = min(want * 64, limit)
        ran_out = short and want == _FORK_WINDOW and fork.ops >= _REAL_PICKLE_OPS
        for i in fork.issues:
            if i.verdict is Verdict.MALICIOUS and "global" in i.detail:
                detail = dict(i.detail)
                detail["reading"] = "as a plain pickle: pickle.load parses joblib's array bytes as opcodes"
                off = i.offset + s.offset if i.offset is not None else offset
                self.flag(
                    Ruling(i.rule, i.verdict, i.severity, i.message),
                    off,
                    f"plain/{i.rule}/{i.message}",
                    **detail,
                )
                self.globals.update(fork.globals)
        if ran_out:
            self.flag(
                policy.ruling(
                    policy.LIMIT,
                    f"joblib array bytes at offset {s.offset} also parse as pickle opcodes past the "
                    f"{_FORK_WINDOW}-byte window checked for pickle.load",
                ),
                offset,
                f"plain-window/{offset}",
            )

    # -- the loop --

    def walk_one(
        self, joblib: bool = True, init: tuple[list[Any], dict[int, Any], list[int]] | None = None
    ) -> None:
        """Walk one pickle to its STOP; raise :class:`_Stop` where the unpickler would fail.

        One loop with the stream's buffer in locals; each opcode is first mapped to a kind
        (:data:`_KIND`), most frequent kinds tested first. ``guard`` is the position past which the
        buffer needs refilling or the open FRAME ends, so the common path tests one number.
        """
        s = self.s
        lim = self.limits
        stack: list[Any] = []
        marks: list[int] = []
        memo: dict[int, Any] = {}
        if init is not None:  # a fork: another reading of the same bytes, from another walk's state
            stack, memo, marks = init
        fence = marks[-1] if marks else 0
        append = stack.append
        pop = stack.pop
        kinds = _KIND
        consts = _CONSTS
        judged = _JUDGED
        calls = self.calls
        buf = s.buf
        pos = s.pos
        blen = len(buf)
        frame_rel = self.frame_end - s.base
        bbase = s.base
        guard = min(frame_rel - 1, blen - 16)
        ops = self.ops
        max_ops = lim.max_ops
        code = 0
        op_start = pos
        try:
            while True:
                if pos > guard:
                    if pos >= frame_rel:  # the open FRAME ends here, or an operand ran across its end
                        if pos != frame_rel:
                            self.straddle(s.base + op_start, s.base + frame_rel)
                        self.frame_end = _NO_FRAME
                    if pos + 16 > blen:
                        s.pos = pos
                        s.refill(16)
                        buf = s.buf
                        pos = s.pos
                        blen = len(buf)
                        if ops > max_ops:
                            raise _Stop("limit", f"more than max_ops ({max_ops}) opcodes")
                        if len(stack) > lim.max_depth or len(marks) > lim.max_depth:
                            raise _Stop("limit", f"stack deeper than max_depth ({lim.max_depth})")
                        if len(memo) > lim.max_memo:
                            raise _Stop("limit", f"memo larger than max_memo ({lim.max_memo})")
                        if pos >= blen:
                            s._short(1)
                    frame_rel = self.frame_end - s.base
                    op_start += bbase - s.base
                    bbase = s.base
                    guard = min(frame_rel - 1, blen - 16)
                op_start = pos
                code = buf[pos]
                pos += 1
                ops += 1
                kind = kinds[code]
                if kind == 0:  # BINPUT, LONG_BINPUT, MEMOIZE
                    if len(stack) <= fence:
                        raise _Stop("malformed", f"{_OP_NAMES[code]} with an empty stack")
                    if code == 0x94:
                        memo[len(memo)] = stack[-1]
                    elif code == 0x71:
                        memo[buf[pos]] = stack[-1]
                        pos += 1
                    else:
                        memo[_U32.unpack_from(buf, pos)[0]] = stack[-1]
                        pos += 4
                elif kind == 1:  # BINGET, LONG_BINGET
                    if code == 0x68:
                        idx = buf[pos]
                        pos += 1
                    else:
                        idx = _U32.unpack_from(buf, pos)[0]
                        pos += 4
                    try:
                        append(memo[idx])
                    except KeyError as exc:
                        raise _Stop("malformed", f"{_OP_NAMES[code]} of memo entry {idx}, never set") from exc
                elif kind == 2:  # SHORT_BINUNICODE, BINUNICODE, BINUNICODE8
                    if code == 0x8C:
                        n = buf[pos]
                        pos += 1
                    elif code == 0x58:
                        n = _U32.unpack_from(buf, pos)[0]
                        pos += 4
                    else:
                        n = _U64.unpack_from(buf, pos)[0]
                        pos += 8
                    if n <= _KEEP and pos + n <= blen:
                        if n > _PREFIX:
                            self.text_room -= n
                            if self.text_room < 0:  # over the budget for kept text: a prefix will do
                                append(_B("str", n, buf[pos : pos + _PREFIX]))
                                pos += n
                                continue
                        try:
                            append(buf[pos : pos + n].decode("utf-8", "surrogatepass"))
                        except UnicodeDecodeError as exc:
                            raise _Stop("malformed", f"string is not UTF-8: {exc.reason}") from exc
                        pos += n
                    else:
                        s.pos = pos
                        raw = self.payload("str", n)
                        buf = s.buf
                        pos = s.pos
                        blen = len(buf)
                        frame_rel = self.frame_end - s.base
                        op_start += bbase - s.base
                        bbase = s.base
                        guard = min(frame_rel - 1, blen - 16)
                        if type(raw) is bytes:
                            try:
                                append(raw.decode("utf-8", "surrogatepass"))
                            except UnicodeDecodeError as exc:
                                raise _Stop("malformed", f"string is not UTF-8: {exc.reason}") from exc
                        else:
                            append(raw)
                elif kind == 3:  # NONE, NEWTRUE, NEWFALSE, EMPTY_TUPLE
                    append(consts[code])
                elif kind == 4:  # BININT1, BININT2, BININT
                    if code == 0x4B:
                        append(buf[pos])
                        pos += 1
                    elif code == 0x4D:
                        append(buf[pos] | buf[pos + 1] << 8)
                        pos += 2
                    else:
                        append(_I32.unpack_from(buf, pos)[0])
                        pos += 4
                elif kind == 5:  # MARK
                    fence = len(stack)
                    marks.append(fence)
                elif kind == 6:  # TUPLE1, TUPLE2, TUPLE3, TUPLE
                    if code == 0x85:
                        if len(stack) <= fence:
                            raise _Stop("malformed", "TUPLE1 on an empty stack")
                        stack[-1] = (stack[-1],)
                    elif code == 0x86:
                        if len(stack) - fence < 2:
                            raise _Stop("malformed", "TUPLE2 needs two items")
                        b2 = pop()
                        stack[-1] = (stack[-1], b2)
                    elif code == 0x87:
                        if len(stack) - fence < 3:
                            raise _Stop("malformed", "TUPLE3 needs three items")
                        c3 = pop()
                        b3 = pop()
                        stack[-1] = (stack[-1], b3, c3)
                    else:
                        if not marks:
                            raise _Stop("malformed", "TUPLE without MARK")
                        k = marks.pop()
                        t = tuple(stack[k : k + _CAP])
                        del stack[k:]
                        fence = marks[-1] if marks else 0
                        append(t)
                elif kind == 7:  # REDUCE
                    if len(stack) - fence < 2:
                        raise _Stop("malformed", "REDUCE needs a callable and arguments")
                    args = pop()
                    func = stack[-1]
                    if type(func) is _G:
                        fname = func.name
                        if judged.get((fname, 2, func.mod), _MISSING) is None and fname not in _SPECIAL_CALLS:
                            if fname not in calls:
                                calls[fname] = summarize(args)
                            stack[-1] = _C(fname, args)
                            continue
                    s.pos = pos
                    stack[-1] = self.call(func, args, "REDUCE", s.base + pos - 1)
                elif kind == 8:  # EMPTY_DICT, EMPTY_LIST, EMPTY_SET
                    if code == 0x7D:
                        append(_D())
                    else:
                        append(_L())
                elif kind == 9:  # SETITEMS, SETITEM, APPENDS, APPEND, ADDITEMS
                    if code == 0x73 or code == 0x61:
                        k = len(stack) - (2 if code == 0x73 else 1)
                        if code == 0x61 and k <= fence:
                            raise _Stop("malformed", "APPEND needs a list and an item")
                    else:
                        if not marks:
                            raise _Stop("malformed", f"{_OP_NAMES[code]} without MARK")
                        k = marks.pop()
                        fence = marks[-1] if marks else 0
                    n = len(stack) - k
                    if k <= 0 or n < 0:
                        raise _Stop("malformed", f"{_OP_NAMES[code]} without an object to add to")
                    if n:
                        target = stack[k - 1]
                        if n == 2 and type(target) is _D and (code == 0x75 or code == 0x73):
                            key = stack[k]
                            try:
                                if len(target) < _CAP and self.room > 0:
                                    target[key] = stack[k + 1]
                                    self.room -= 1
                                elif type(key) is str and _is_dunder(key):
                                    target.dunder = True
                            except TypeError as exc:
                                raise _Stop("malformed", "unhashable dict key") from exc
                        else:
                            s.pos = pos
                            self.add_items(code, target, stack, k)
                        del stack[k:]
                elif kind == 10:  # BUILD
                    if len(stack) - fence < 2:
                        raise _Stop("malformed", "BUILD needs an object and a state")
                    state = pop()
                    inst = stack[-1]
                    ti = type(inst)
                    if ti is _C:
                        inst.state = state
                        if (
                            type(state) is _D
                            and not _has_dunder(state)
                            and not getattr(state, "dunder", False)
                        ):
                            if joblib and inst.fname == _JOBLIB_WRAPPER:
                                s.pos = pos
                                self.joblib_array(state, s.base + pos - 1, (stack, memo, marks))
                                buf = s.buf
                                pos = s.pos
                                blen = len(buf)
                                frame_rel = self.frame_end - s.base
                                op_start += bbase - s.base
                                bbase = s.base
                                guard = min(frame_rel - 1, blen - 16)
                            continue
                    s.pos = pos
                    self.build(inst, state, s.base + pos - 1)
                elif kind == 11:  # BINPERSID
                    if len(stack) <= fence:
                        raise _Stop("malformed", "BINPERSID on an empty stack")
                    self.note_storage(stack[-1])
                    stack[-1] = _P(stack[-1])
                elif kind == 12:  # STACK_GLOBAL
                    if len(stack) - fence < 2:
                        raise _Stop("malformed", "STACK_GLOBAL needs a module and a name")
                    name = pop()
                    module = stack[-1]
                    here = s.base + pos - 1
                    if type(name) is str and type(module) is str:
                        stack[-1] = self.make_global(module, name, "STACK_GLOBAL", here)
                    else:
                        stack[-1] = self.dynamic_global(module, name, here)
                elif kind == 13:  # NEWOBJ, NEWOBJ_EX
                    if code == 0x81:
                        if len(stack) - fence < 2:
                            raise _Stop("malformed", "NEWOBJ needs a class and arguments")
                        args = pop()
                    else:
                        if len(stack) - fence < 3:
                            raise _Stop("malformed", "NEWOBJ_EX needs a class, arguments and keywords")
                        kwargs = pop()
                        args = (pop(), kwargs)
                    cls = stack[-1]
                    stack[-1] = self.new(cls, args, _OP_NAMES[code], s.base + pos - 1)
                elif kind == 14:  # FRAME
                    n = _U64.unpack_from(buf, pos)[0]
                    pos += 8
                    if n > lim.max_bytes:
                        raise _Stop("limit", f"FRAME of {n} bytes passes max_bytes ({lim.max_bytes})")
                    if self.frame_end != _NO_FRAME and s.base + op_start < self.frame_end:
                        self.straddle(s.base + op_start, self.frame_end)  # a frame opened inside a frame
                    self.frame_op = s.base + op_start
                    self.frame_end = self.last_frame_end = s.base + pos + n
                    frame_rel = pos + n
                    guard = min(frame_rel - 1, blen - 16)
                elif kind == 15:  # STOP
                    if len(stack) <= fence:
                        raise _Stop("malformed", "STOP with an empty stack")
                    s.pos = pos
                    self.ops = ops
                    return
                elif kind == 16:  # POP, POP_MARK, DUP
                    if code == 0x30:
                        if marks and marks[-1] == len(stack):
                            marks.pop()
                            fence = marks[-1] if marks else 0
                        elif len(stack) <= fence:
                            raise _Stop("malformed", "POP on an empty stack")
                        else:
                            pop()
                    elif code == 0x31:
                        if not marks:
                            raise _Stop("malformed", "POP_MARK without MARK")
                        k = marks.pop()
                        fence = marks[-1] if marks else 0
                        del stack[k:]
                    else:
                        if len(stack) <= fence:
                            raise _Stop("malformed", "DUP on an empty stack")
                        append(stack[-1])
                elif kind == 17:  # BINFLOAT
                    append(_F64.unpack_from(buf, pos)[0])
                    pos += 8
                elif kind == 18:  # PROTO
                    proto = buf[pos]
                    pos += 1
                    if proto > 5:
                        raise _Stop("malformed", f"unsupported pickle protocol {proto}")
                elif kind == 19:  # length-prefixed: bytes, 8-bit strings, longs
                    width = _LEN_ARG[code]
                    if pos + width > blen:
                        raise IndexError(code)
                    n = int.from_bytes(buf[pos : pos + width], "little", signed=code == 0x54 or code == 0x8B)
                    pos += width
                    if n < 0:
                        raise _Stop("malformed", f"{_OP_NAMES[code]} with a negative length")
                    s.pos = pos
                    if code == 0x55 or code == 0x54:  # SHORT_BINSTRING, BINSTRING
                        raw = self.payload("str", n)
                        v = raw.decode("latin-1") if type(raw) is bytes else raw
                    elif code == 0x8A or code == 0x8B:  # LONG1, LONG4
                        raw = self.payload("int", n)
                        v = (
                            int.from_bytes(raw, "little", signed=True)
                            if type(raw) is bytes and n <= 64
                            else raw
                        )
                    else:  # SHORT_BINBYTES, BINBYTES, BINBYTES8, BYTEARRAY8
                        v = self.payload("bytearray" if code == 0x96 else "bytes", n)
                    append(v)
                    buf = s.buf
                    pos = s.pos
                    blen = len(buf)
                    frame_rel = self.frame_end - s.base
                    op_start += bbase - s.base
                    bbase = s.base
                    guard = min(frame_rel - 1, blen - 16)
                elif kind == 20:  # text-line opcodes and the rest of protocols 0-1, 5
                    s.pos = pos
                    v = self.rare(code, stack, marks, memo, fence)
                    if v is not _MISSING:
                        append(v)
                    if code in _MARK_OPS:
                        fence = marks[-1] if marks else 0
                    buf = s.buf
                    pos = s.pos
                    blen = len(buf)
                    frame_rel = self.frame_end - s.base
                    op_start += bbase - s.base
                    bbase = s.base
                    guard = min(frame_rel - 1, blen - 16)
                else:
                    raise _Stop("malformed", f"invalid opcode 0x{code:02x}")
        except _Stop as stop:
            if stop.offset is None:
                stop.offset = bbase + op_start if s.base == bbase else s.offset
            self.ops = ops
            raise
        except (IndexError, struct.error) as exc:  # an operand runs past the end of the stream
            self.ops = ops
            s.pos = min(pos, len(s.buf))
            raise _Stop(
                "truncated", f"stream ends inside {_OP_NAMES.get(code, 'an opcode')}", bbase + op_start
            ) from exc
        except RecursionError as exc:  # pragma: no cover - deep summaries are bounded
            self.ops = ops
            raise _Stop("limit", "value nesting too deep") from exc

    def rare(self, code: int, stack: list[Any], marks: list[int], memo: dict[int, Any], fence: int) -> Any:
        """The opcodes real files rarely use (protocol 0 text operands, INST/OBJ, EXT, buffers).

        Returns the value to push, or ``_MISSING``; mutates ``stack``/``marks``/``memo`` in place.
        """
        s = self.s
        here = s.offset - 1
        name = _OP_NAMES[code]
        if code == 0x63:  # GLOBAL
            module = self.text_line(name)
            return self.make_global(module, self.text_line(name), name, here)
        if code == 0x69 or code == 0x6F:  # INST, OBJ
            if not marks:
                raise _Stop("malformed", f"{name} without MARK")
            if code == 0x69:
                module = self.text_line(name)
                attr = self.text_line(name)
                k = marks.pop()
                args = tuple(stack[k:])
                del stack[k:]
                return self.instantiate(self.make_global(module, attr, name, here), args, name, here)
            k = marks.pop()
            if len(stack) - k < 1:
                raise _Stop("malformed", "OBJ without a class")
            cls = stack[k]
            args = tuple(stack[k + 1 :])
            del stack[k:]
            return self.instantiate(cls, args, name, here)
        if code == 0x6C or code == 0x64 or code == 0x91:  # LIST, DICT, FROZENSET
            if not marks:
                raise _Stop("malformed", f"{name} without MARK")
            k = marks.pop()
            items = stack[k:]
            del stack[k:]
            if code == 0x6C:
                return _L(items[:_CAP])
            if code == 0x91:
                return tuple(items[:_CAP])
            if len(items) % 2:
                raise _Stop("malformed", "odd number of items for DICT")
            d = _D()
            try:
                d.update(zip(items[0 : 2 * _CAP : 2], items[1 : 2 * _CAP : 2], strict=True))
            except TypeError as exc:
                raise _Stop("malformed", "unhashable dict key") from exc
            if _has_dunder(items[2 * _CAP :: 2]):
                d.dunder = True
            return d
        if code == 0x70 or code == 0x67:  # PUT, GET
            line = self.text_line(name)
            try:
                idx = int(line, 10)
            except ValueError as exc:
                raise _Stop("malformed", f"{name} index is not a number") from exc
            if code == 0x67:
                v = memo.get(idx, _MISSING)
                if v is _MISSING:
                    raise _Stop("malformed", f"GET of memo entry {idx}, which was never set")
                return v
            if idx < 0:
                raise _Stop("malformed", "negative PUT argument")
            if len(stack) <= fence:
                raise _Stop("malformed", "PUT with an empty stack")
            memo[idx] = stack[-1]
            return _MISSING
        if code == 0x49 or code == 0x4C:  # INT, LONG
            line = self.text_line(name)
            if code == 0x4C and line.endswith("L"):
                line = line[:-1]
            if code == 0x49 and line in ("00", "01"):
                return line == "01"
            try:
                return int(line, 0)
            except ValueError:
                try:
                    return int(line, 10)  # int(x, 0) rejects leading zeros that strtol accepts
                except ValueError as exc:
                    raise _Stop("malformed", f"{name} operand is not a number") from exc
        if code == 0x46:  # FLOAT
            try:
                return float(self.text_line(name))
            except ValueError as exc:
                raise _Stop("malformed", "FLOAT operand is not a number") from exc
        if code == 0x53 or code == 0x56:  # STRING, UNICODE
            head, total = s.readline(_KEEP + 2, None)
            if s.offset > self.limits.max_bytes:
                raise _Stop("limit", f"max_bytes ({self.limits.max_bytes}) reached")
            return self.text_string(code, head, total)
        if code == 0x50:  # PERSID
            return _P(self.text_line(name))
        if code == 0x82 or code == 0x83 or code == 0x84:  # EXT1, EXT2, EXT4
            width = 1 if code == 0x82 else 2 if code == 0x83 else 4
            ext = int.from_bytes(s.take(width), "little", signed=code == 0x84)
            if ext <= 0:
                raise _Stop("malformed", "EXT specifies code <= 0")
            known = policy.EXTENSION_REGISTRY.get(ext)
            if known is not None:
                return self.make_global(known[0], known[1], name, here)
            self.saw_global = True
            self.flag(
                policy.ruling(
                    policy.EXT_UNKNOWN,
                    f"{name} uses extension code {ext}, which copyreg does not define by default: it "
                    "resolves only if the loading process registered it",
                ),
                here,
                f"ext/{ext}",
                opcode=name,
                code=ext,
            )
            return _Ext(ext)
        if code == 0x97:  # NEXT_BUFFER
            return _Buf()
        if code == 0x98:  # READONLY_BUFFER
            if len(stack) <= fence:
                raise _Stop("malformed", "READONLY_BUFFER on an empty stack")
            return _MISSING
        raise _Stop("malformed", f"invalid opcode 0x{code:02x}")  # pragma: no cover - kinds cover all

    def add_items(self, code: int, target: Any, stack: list[Any], k: int) -> None:
        """SETITEM(S)/APPEND(S)/ADDITEMS of ``stack[k:]`` into ``target``, beyond the common cases."""
        tt = type(target)
        here = self.s.offset - 1
        if code == 0x75 or code == 0x73:
            if (len(stack) - k) % 2:
                raise _Stop("malformed", "odd number of items for SETITEMS")
            if tt is _D:
                if len(target) < _CAP and self.room > 0:
                    before = len(target)
                    try:
                        target.update(zip(stack[k::2], stack[k + 1 :: 2], strict=True))
                    except TypeError as exc:
                        raise _Stop("malformed", "unhashable dict key") from exc
                    self.room -= len(target) - before
                elif _has_dunder(stack[k::2]):  # keys not kept: remember the dunder
                    target.dunder = True
                return
            if tt in _NOT_MAPPINGS:
                # A literal list, tuple, string, number or storage is never a SETITEM target in what
                # a pickler writes; torch's weights-only unpickler up to 2.9.1 corrupted memory on
                # it (GHSA-63cw-57p8-fm3p). A call's result may be a dict subclass, so it is not here.
                kind = "persistent storage" if tt is _P else "set or list" if tt is _L else tt.__name__
                self.flag(
                    policy.ruling(
                        policy.SETITEM_NON_MAPPING,
                        f"{_OP_NAMES[code]} stores items into a {kind}, which no pickler writes: torch's "
                        "weights-only unpickler up to 2.9.1 corrupted memory on it (GHSA-63cw-57p8-fm3p)",
                    ),
                    here,
                    f"setitem/{kind}",
                    opcode=_OP_NAMES[code],
                    target=kind,
                )
                return
        elif tt is _L:
            room = min(_CAP - len(target), self.room)
            if room > 0:
                target.extend(stack[k : k + room])
                self.room -= room
            return
        if tt is _G:
            self.mutate_global(target, _OP_NAMES[code], here)
        elif tt is _Ext:
            self.use(target, Role.CALL, _OP_NAMES[code], here)

    def check_state(self, target_name: str, state: Any, here: int) -> None:
        """Flag a state that would set ``__dunder__`` attributes on ``target_name``."""
        bad = _dunder_keys(state)
        if bad:
            keys = sorted(set(bad))
            self.flag(
                policy.ruling(
                    policy.DUNDER_BUILD,
                    f"BUILD sets special attribute(s) {', '.join(keys[:4])} on {target_name}",
                ),
                here,
                f"dunder/{target_name}/{','.join(keys)}",
                opcode="BUILD",
                target=target_name,
                keys=keys[:8],
            )

    def build(self, inst: Any, state: Any, here: int) -> None:
        """BUILD on anything but a plain rebuild with a plain state: mutations and dunder states."""
        ti = type(inst)
        if ti is _G:
            self.mutate_global(inst, "BUILD", here)
        elif ti is _Ext:
            self.use(inst, Role.CALL, "BUILD", here)
        self.check_state(str(inst.fname) if ti is _C else summarize(inst, 0), state, here)

    # -- helpers the loop calls with the stream synced --

    def payload(self, kind: str, n: int) -> Any:
        """A length-prefixed value: whole when short, else a prefix (bytes may be scanned in place)."""
        s = self.s
        if n > self.limits.max_bytes:
            raise _Stop("limit", f"a {n}-byte value passes max_bytes ({self.limits.max_bytes})")
        if n <= _KEEP:
            if n > _PREFIX:
                self.text_room -= n
                if self.text_room < 0:
                    head = s.take(_PREFIX)
                    s.skip(n - _PREFIX)
                    return _B(kind, n, head)
            return s.take(n)
        if kind in ("bytes", "bytearray"):
            return self.big_bytes(kind, n)
        head = s.take(_PREFIX)
        s.skip(n - _PREFIX)
        return _B(kind, n, head)

    def text_line(self, op: str) -> str:
        raw, _ = self.s.readline(self.limits.max_line + 1, self.limits.max_line)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _Stop("malformed", f"{op} operand is not UTF-8") from exc

    def text_string(self, code: int, head: bytes, total: int) -> Any:
        if code == 0x53:  # STRING: quoted, with Python escapes
            if total > _KEEP:
                return _B("str", total, head[:_PREFIX])
            raw = head
            if len(raw) < 2 or raw[0] != raw[-1] or raw[:1] not in (b"'", b'"'):
                raise _Stop("malformed", "the STRING opcode argument must be quoted")
            try:
                return codecs.escape_decode(raw[1:-1])[0].decode("latin-1")
            except (ValueError, UnicodeDecodeError) as exc:
                raise _Stop("malformed", f"bad STRING escape: {exc}") from exc
        if total > _KEEP:
            return _B("str", total, head[:_PREFIX])
        try:
            return head.decode("raw-unicode-escape")
        except UnicodeDecodeError as exc:
            raise _Stop("malformed", f"bad UNICODE escape: {exc.reason}") from exc

    def dynamic_global(self, module: Any, name: Any, offset: int) -> Any:
        if type(module) is _B or type(name) is _B:
            raise _Stop("limit", "STACK_GLOBAL name longer than the kept string length", offset)
        if type(module) in (_C, _P, _Ext) or type(name) in (_C, _P, _Ext):
            self.saw_global = True
            self.flag(
                policy.ruling(
                    policy.IMPORT_INDIRECTION,
                    "STACK_GLOBAL imports a name computed at load time: "
                    f"{summarize(module)}.{summarize(name)}",
                ),
                offset,
                "dyn-global",
                opcode="STACK_GLOBAL",
                module=summarize(module),
                name=summarize(name),
            )
            return _C(None, (module, name))
        raise _Stop("malformed", "STACK_GLOBAL requires str", offset)

    def new(self, cls: Any, args: Any, op: str, offset: int) -> Any:
        if type(cls) is _G:
            role = Role.CALL if args and policy.call_denied(cls.name) else Role.NEW
            self.use(cls, role, op, offset, args)
            return _C(cls.name, args)
        self.use(cls, Role.NEW, op, offset, args)
        return _C(None, args)

    def instantiate(self, cls: Any, args: tuple[Any, ...], op: str, offset: int) -> Any:
        if not args and type(cls) is _G:
            self.use(cls, Role.NEW, op, offset, args)
            return _C(cls.name, args)
        return self.call(cls, args, op, offset)


class _Prefixed(io.RawIOBase):
    """``head`` followed by a reader."""

    def __init__(self, head: bytes, rest: _SubReader) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self._head:
            n = min(len(b), len(self._head))
            b[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        return self._rest.readinto(b)


def _read_exact(s: _Stream, n: int) -> bytes:
    parts = []
    while n > 0:
        chunk = s.take(min(n, _CHUNK))
        parts.append(chunk)
        n -= len(chunk)
    return b"".join(parts)


_DTYPE_STR = re.compile(r"^([a-zA-Z?])(\d*)$")


def _dtype_size(dtype: Any) -> tuple[int | None, bool]:
    """(itemsize, has objects) of a symbolic ``numpy.dtype(...)`` call with its BUILD state."""
    if type(dtype) is not _C or dtype.fname != "numpy.dtype":
        return None, False
    args = dtype.args
    if type(args) is not tuple or not args or type(args[0]) is not str:
        return None, False
    m = _DTYPE_STR.match(args[0])
    if not m:
        return None, False
    kind, digits = m.group(1), m.group(2)
    state = dtype.state
    elsize = -1
    flags = 0
    if type(state) is tuple and len(state) >= 8:
        if type(state[5]) is int:
            elsize = state[5]
        if type(state[7]) is int:
            flags = state[7]
    has_object = kind == "O" or bool(flags & 1) or _fields_have_object(state)
    if kind == "O":
        return 8, True
    if elsize > 0:
        return elsize, has_object
    if not digits:
        return None, has_object
    size = int(digits) * (4 if kind == "U" else 1)
    return size, has_object


def _fields_have_object(state: Any, depth: int = 4) -> bool:
    if type(state) is not tuple or len(state) < 5 or depth <= 0:
        return False
    sub = state[2]
    if type(sub) is tuple and sub and type(sub[0]) is _C and _dtype_size_obj(sub[0], depth):
        return True
    fields = state[4]
    if type(fields) is _D:
        for v in fields.values():
            if type(v) is tuple and v and type(v[0]) is _C and _dtype_size_obj(v[0], depth):
                return True
    return False


def _dtype_size_obj(d: _C, depth: int) -> bool:
    args = d.args
    if type(args) is tuple and args and type(args[0]) is str and args[0].startswith("O"):
        return True
    return _fields_have_object(d.state, depth - 1)


# --- entry points ----------------------------------------------------------------------------------


def _unscannable(rule: str, reason: str, member: str | None, offset: int | None = None) -> PickleScan:
    verdict, severity, _ = policy.RULES[rule]
    issue = Issue(rule, verdict, severity, reason, member=member, offset=offset)
    return PickleScan((issue,), (), 0, 0, False, False)


def _stop_issue(stop: _Stop, member: str | None, *, tentative: bool = False) -> Issue:
    rule = policy.LIMIT if stop.kind == "limit" else policy.MALFORMED
    verdict, severity, _ = policy.RULES[rule]
    what = {"limit": "over a bound", "truncated": "truncated", "malformed": "malformed"}[stop.kind]
    return Issue(
        rule,
        verdict,
        severity,
        f"pickle stream {what}: {stop.reason}; nothing after this point was analysed",
        member=member,
        offset=stop.offset,
        detail={"reason": stop.reason, "kind": stop.kind},
    )


def _scan_once(
    fh: BinaryIO,
    member: str | None,
    limits: PickleLimits,
    nested: NestedScanner | None,
    depth: int,
    ignore_before: int = -1,
    joblib: bool = True,
) -> tuple[PickleScan, _Walker | None, _Stream | None]:
    try:
        stream = _Stream(fh, limits.max_bytes)
    except Exception as exc:  # a broken file object is unscannable input
        return (
            _unscannable(policy.MALFORMED, f"cannot read the stream: {exc.__class__.__name__}", member),
            None,
            None,
        )
    w = _Walker(stream, member, limits, nested, depth)
    w.ignore_straddles_before = ignore_before
    pickles = 0
    end = 0
    complete = True
    is_pickle = False
    trailing = False
    try:
        stream.refill(16)
    except _Stop as stop:
        return PickleScan((_stop_issue(stop, member),), (), 0, 0, False, False), None, None
    except Exception as exc:  # a file object that does not give bytes
        unreadable = _Stop("malformed", f"cannot read the stream: {exc.__class__.__name__}", 0)
        return PickleScan((_stop_issue(unreadable, member),), (), 0, 0, False, False), None, None
    first = stream.buf[:2]
    if not first:
        return (
            PickleScan(
                (
                    Issue(
                        policy.MALFORMED,
                        Verdict.UNSCANNABLE,
                        Severity.MEDIUM,
                        "empty stream: not a pickle",
                        member=member,
                    ),
                ),
                (),
                0,
                0,
                False,
                False,
            ),
            None,
            None,
        )
    strong = bool(_PICKLE_START.match(first))
    while True:
        mark = len(w.issues)
        seen_before = set(w.seen)
        globals_before = set(w.globals)
        ops_before = w.ops
        try:
            try:
                w.walk_one(joblib)
            except _Stop:
                raise
            except MemoryError as exc:
                raise _Stop("limit", "out of memory", stream.offset) from exc
            except Exception as exc:  # a walker bug must not hide what was found: stop as malformed
                raise _Stop(
                    "malformed", f"walker error {exc.__class__.__name__}: {exc}", stream.offset
                ) from exc
        except _Stop as stop:
            if pickles == 0:
                if not strong and not w.saw_global and stop.kind != "limit":
                    reason = f"not a pickle stream ({stop.reason} at offset {stop.offset})"
                    issue = Issue(
                        policy.MALFORMED,
                        Verdict.UNSCANNABLE,
                        Severity.MEDIUM,
                        reason,
                        member=member,
                        offset=stop.offset,
                    )
                    return PickleScan((issue,), (), 0, 0, False, False), None, None
                is_pickle = strong or w.saw_global
                w.issues.append(_stop_issue(stop, member))
                complete = False
                break
            # After a complete pickle, what follows is walked tentatively: raw data (torch's storages)
            # may look like a pickle for a few opcodes. What a loader would already have run counts.
            keep = (Verdict.MALICIOUS, Verdict.SUSPICIOUS) if strong else (Verdict.MALICIOUS,)
            kept = [i for i in w.issues[mark:] if i.verdict in keep]
            if kept or w.ops - ops_before >= _REAL_PICKLE_OPS:
                w.issues[mark:] = kept
                w.issues.append(_stop_issue(stop, member))
                complete = False
            else:
                del w.issues[mark:]
                w.seen = seen_before
                w.globals = globals_before
                trailing = True
            w.index = {k: v for k, v in w.index.items() if v < mark}
            break
        pickles += 1
        is_pickle = True
        end = stream.offset
        # Another pickle? A protocol 2+ header is one; other opcodes are walked tentatively.
        try:
            stream.refill(2)
        except _Stop:
            break
        nxt = stream.buf[stream.pos : stream.pos + 2]
        if not nxt:
            break
        if pickles >= limits.max_pickles:
            if _PICKLE_START.match(nxt):
                w.issues.append(
                    _stop_issue(
                        _Stop(
                            "limit", f"more than max_pickles ({limits.max_pickles}) pickles", stream.offset
                        ),
                        member,
                    )
                )
                complete = False
            else:
                trailing = True
            break
        strong = bool(_PICKLE_START.match(nxt))
        if not strong and nxt[0] not in _VALID_OPS:
            trailing = True
            break
    total = (
        stream.seek_end
        if stream.seek_end is not None
        else stream.base + len(stream.buf)
        if stream.eof
        else None
    )
    if total is not None and w.last_frame_end > total:
        w.issues.append(
            Issue(
                policy.MALFORMED,
                Verdict.UNSCANNABLE,
                Severity.MEDIUM,
                f"a FRAME claims bytes up to offset {w.last_frame_end}, past the end of the stream: "
                "loaders disagree "
                "on such a file",
                member=member,
                offset=None,
                detail={"frame_end": w.last_frame_end},
            )
        )
    if w.dropped:
        w.issues.append(
            Issue(
                policy.LIMIT,
                Verdict.UNSCANNABLE,
                Severity.MEDIUM,
                f"{w.dropped} more issues were not listed (max_issues {limits.max_issues})",
                member=member,
            )
        )
    scan = PickleScan(
        tuple(w.issues),
        tuple(sorted(w.globals)),
        pickles,
        end,
        complete,
        is_pickle,
        trailing,
        tuple(sorted(w.calls.items())),
        tuple(w.storages),
    )
    return scan, w, stream


_MAX_FORKS: Final = 3
#: Values SETITEM(S) never targets in a pickler's output (``_L`` is a list or a set).
_NOT_MAPPINGS: Final = frozenset({_L, _P, _B, tuple, str, bytes, bytearray, int, float, bool, type(None)})
#: torch storage ids kept per stream (a checkpoint has one per distinct tensor storage).
_MAX_STORAGES: Final = 100_000
#: Opcodes a tentative pickle (after a complete one) must pass before its failure counts as one.
_REAL_PICKLE_OPS: Final = 64


def _scan(
    fh: BinaryIO,
    member: str | None,
    limits: PickleLimits,
    nested: NestedScanner | None,
    depth: int,
    forks: int = 0,
    ignore_before: int = -1,
) -> PickleScan:
    """Scan ``fh``; where an operand crosses a FRAME end, also scan the reading that drops the rest."""
    scan, w, stream = _scan_once(fh, member, limits, nested, depth, ignore_before)
    if w is None or stream is None or not (w.straddles or w.joblib_skips):
        return scan
    issues = list(scan.issues)
    gl = set(scan.globals)
    seen = {(i.rule, i.message) for i in issues}
    if w.joblib_skips and stream.seek_end is not None and forks < _MAX_FORKS:
        # pickle.load (unlike joblib.load) reads joblib's array bytes as opcodes: check that reading too.
        with contextlib.suppress(OSError, ValueError):
            fh.seek(stream.start)
            plain, _w, _s = _scan_once(fh, member, limits, nested, depth, ignore_before, joblib=False)
            for i in plain.issues:
                if (
                    i.verdict is Verdict.MALICIOUS
                    and "global" in i.detail
                    and (i.rule, i.message) not in seen
                ):
                    seen.add((i.rule, i.message))
                    detail = dict(i.detail)
                    detail["reading"] = (
                        "as a plain pickle: pickle.load parses joblib's array bytes as opcodes"
                    )
                    issues.append(replace(i, detail=detail))
                    gl.update(plain.globals)
    for op_offset, frame_end in w.straddles[:_MAX_FORKS]:
        drop = _straddle_drop(fh, stream, op_offset, frame_end)
        if drop is None:
            continue  # the operand boundary is the frame boundary: every reader agrees
        drop_at, drop_len = drop
        issues.append(
            Issue(
                policy.MALFORMED,
                Verdict.UNSCANNABLE,
                Severity.MEDIUM,
                f"an operand at offset {drop_at} runs across the end of a FRAME (at {frame_end}): "
                "CPython's C unpickler reading a file drops the rest of the frame, other readers do not, "
                "so the bytes hold "
                "two different pickles",
                member=member,
                offset=drop_at,
                detail={"frame_end": frame_end, "opcode_offset": op_offset},
            )
        )
        if forks >= _MAX_FORKS or stream.seek_end is None:
            continue
        view = _DropView(fh, stream.start, stream.seek_end, drop_at, drop_len)
        other = _scan(view, member, limits, nested, depth, forks + 1, drop_at)  # type: ignore[arg-type]
        for i in other.issues:
            if (i.rule, i.message) in seen:
                continue
            seen.add((i.rule, i.message))
            off = i.offset + drop_len if i.offset is not None and i.offset >= drop_at else i.offset
            detail = dict(i.detail)
            detail["reading"] = f"frame rest dropped at offset {drop_at}"
            issues.append(replace(i, offset=off, detail=detail))
        gl.update(other.globals)
    with contextlib.suppress(OSError, ValueError):
        fh.seek(stream.start + stream.offset)
    return replace(scan, issues=tuple(issues), globals=tuple(sorted(gl)))


_FIXED_ARG: Final = {
    0x4B: 1,
    0x4D: 2,
    0x4A: 4,
    0x47: 8,
    0x68: 1,
    0x6A: 4,
    0x71: 1,
    0x72: 4,
    0x80: 1,
    0x82: 1,
    0x83: 2,
    0x84: 4,
}
_LEN_ARG: Final = {
    0x55: 1,
    0x54: 4,
    0x58: 4,
    0x8C: 1,
    0x8D: 8,
    0x8E: 8,
    0x42: 4,
    0x43: 1,
    0x96: 8,
    0x8A: 1,
    0x8B: 4,
    0x95: 8,
}
_LINES: Final = {0x63: 2, 0x69: 2, 0x53: 1, 0x56: 1, 0x49: 1, 0x4C: 1, 0x46: 1, 0x50: 1, 0x67: 1, 0x70: 1}


def _straddle_drop(fh: BinaryIO, stream: _Stream, op_offset: int, frame_end: int) -> tuple[int, int] | None:
    """Where the read that crosses ``frame_end`` starts, and how many frame bytes the C reader drops."""
    if stream.seek_end is None:
        return (op_offset + 1, max(frame_end - op_offset - 1, 0)) if frame_end > op_offset + 1 else None
    try:
        fh.seek(stream.start + op_offset)
        data = fh.read(min(frame_end - op_offset, 1 << 20) + 16)
    except (OSError, ValueError):
        return None
    if not data:
        return None
    code = data[0]
    bounds = [1]
    if code in _FIXED_ARG:
        bounds.append(1 + _FIXED_ARG[code])
    elif code in _LEN_ARG:
        width = _LEN_ARG[code]
        bounds.append(1 + width)
        raw = data[1 : 1 + width]
        if len(raw) == width:
            n = int.from_bytes(raw, "little", signed=code in (0x54, 0x8B))
            bounds.append(1 + width + max(n, 0))
    elif code in _LINES:
        at = 1
        for _ in range(_LINES[code]):
            nl = data.find(b"\n", at)
            if nl < 0:
                break
            at = nl + 1
            bounds.append(at)
    rel = frame_end - op_offset
    for lo, hi in itertools.pairwise(bounds):
        if lo < rel < hi:
            return op_offset + lo, rel - lo
    return None


class _DropView(io.RawIOBase):
    """A seekable view of ``fh`` from ``start`` with ``n`` bytes at ``at`` removed."""

    def __init__(self, fh: BinaryIO, start: int, length: int, at: int, n: int) -> None:
        self._fh = fh
        self._start = start
        self._len = length - n
        self._at = at
        self._n = n
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._len}[whence]
        self._pos = max(base + offset, 0)
        return self._pos

    def readinto(self, b: Any) -> int:
        want = min(len(b), self._len - self._pos)
        if want <= 0:
            return 0
        if self._pos < self._at:
            want = min(want, self._at - self._pos)
            under = self._pos
        else:
            under = self._pos + self._n
        self._fh.seek(self._start + under)
        data = self._fh.read(want)
        b[: len(data)] = data
        self._pos += len(data)
        return len(data)


def scan_pickle(
    fh: BinaryIO,
    *,
    member: str | None = None,
    limits: PickleLimits = DEFAULT_LIMITS,
    nested: NestedScanner | None = None,
) -> PickleScan:
    """Walk every pickle in ``fh`` from its current position (``fh`` may be non-seekable).

    ``nested`` scans a payload that ``torch.storage._load_from_bytes`` would load when it is a zip
    (a torch checkpoint inside the pickle); without it, the zip's ``.pkl`` members are walked here.
    Never raises on bad input: what cannot be read is an ``UNSCANNABLE`` issue.
    """
    try:
        return _scan(fh, member, limits, nested, 0)
    except Exception as exc:  # the last line of defence: a walker bug is unscannable input, not a crash
        return _unscannable(policy.MALFORMED, f"pickle walker error: {exc.__class__.__name__}", member)


def scan_pickle_bytes(
    data: bytes,
    *,
    member: str | None = None,
    limits: PickleLimits = DEFAULT_LIMITS,
    nested: NestedScanner | None = None,
) -> PickleScan:
    """:func:`scan_pickle` over bytes already in memory."""
    return scan_pickle(io.BytesIO(data), member=member, limits=limits, nested=nested)


def _scan_zip_fallback(data: bytes, member: str | None, limits: PickleLimits, depth: int) -> PickleScan:
    """Scan the ``.pkl`` members of a nested zip (used when no container scanner was supplied)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in zf.infolist() if i.filename.endswith(".pkl")]
    except READ_ERRORS as exc:
        return _unscannable(policy.MALFORMED, f"nested archive cannot be read: {exc}", member)
    if not infos:
        return _unscannable(policy.MALFORMED, "nested archive holds no pickle", member)
    issues: list[Issue] = []
    gl: set[str] = set()
    pickles = 0
    complete = True
    for info in infos[:64]:
        try:
            with zf.open(info) as f:
                r = _scan(f, f"{member or ''}!{info.filename}", limits, None, depth)  # type: ignore[arg-type]
        except (*READ_ERRORS, RuntimeError) as exc:  # zipfile: RuntimeError for an encrypted member
            r = _unscannable(policy.MALFORMED, f"nested member {info.filename} cannot be read: {exc}", member)
        issues.extend(r.issues)
        gl.update(r.globals)
        pickles += r.pickles
        complete = complete and r.complete
    return PickleScan(tuple(issues), tuple(sorted(gl)), pickles, len(data), complete, pickles > 0)


# --- sniffing ----------------------------------------------------------------------------------------

_IDENT = re.compile(r"[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*\Z")
_CONTAINER_START: Final = frozenset(b"(c}])")
_SCALAR_START: Final = frozenset(b"NIJKLMFSVUXT")
_SNIFF_LIMITS: Final = PickleLimits(max_ops=4096, max_nesting=0)


def looks_like_pickle(head: bytes) -> bool:
    """Whether ``head`` (the first bytes of a stream; 64 or more is best) starts a pickle, any protocol.

    Protocol 2+ pickles start with ``PROTO``. Protocol 0/1 ones are recognised by walking the head:
    a container or global start must parse without error up to the end of the head (or ``STOP``),
    import only identifier-like names and do something pickle-like; a bare scalar must reach
    ``STOP`` within the head.
    """
    if not head:
        return False
    if _PICKLE_START.match(head):
        return True
    first = head[0]
    if first not in _CONTAINER_START and first not in _SCALAR_START:
        return False
    w = _Walker(_Stream(io.BytesIO(head), len(head)), None, _SNIFF_LIMITS, None, 0)
    stopped = True
    try:
        w.walk_one(joblib=False)
    except _Stop as stop:
        if stop.kind != "truncated" or first in _SCALAR_START:
            return False
        stopped = False
    except Exception:  # a sniff never fails
        return False
    if not all(_IDENT.match(g) for g in w.globals):
        return False
    return stopped or w.saw_global or w.ops >= 4


# --- numpy .npy -----------------------------------------------------------------------------------

_NPY_MAGIC: Final = b"\x93NUMPY"
_NPY_MAX_HEADER: Final = 1 << 16


def scan_npy(
    fh: BinaryIO,
    *,
    member: str | None = None,
    limits: PickleLimits = DEFAULT_LIMITS,
    nested: NestedScanner | None = None,
) -> PickleScan:
    """A ``.npy`` stream: parse its header (versions 1-3); walk the pickle of an object array."""
    try:
        head = fh.read(10)
    except READ_ERRORS as exc:
        return _unscannable(policy.MALFORMED, f"cannot read .npy header: {exc}", member)
    if len(head) < 10 or head[:6] != _NPY_MAGIC:
        return _unscannable(policy.MALFORMED, "not a .npy file (bad magic or truncated header)", member, 0)
    major = head[6]
    if major == 1:
        hlen = head[8] | head[9] << 8
        start = 10
    elif major in (2, 3):
        try:
            more = fh.read(2)
        except READ_ERRORS as exc:
            return _unscannable(policy.MALFORMED, f"cannot read .npy header: {exc}", member)
        if len(more) < 2:
            return _unscannable(policy.MALFORMED, ".npy header truncated", member, 8)
        hlen = _U32.unpack(head[8:10] + more)[0]
        start = 12
    else:
        return _unscannable(policy.MALFORMED, f"unknown .npy format version {major}.{head[7]}", member, 6)
    if hlen > _NPY_MAX_HEADER:
        return _unscannable(policy.LIMIT, f".npy header of {hlen} bytes is over {_NPY_MAX_HEADER}", member, 8)
    try:
        raw = fh.read(hlen)
    except READ_ERRORS as exc:
        return _unscannable(policy.MALFORMED, f"cannot read .npy header: {exc}", member)
    if len(raw) < hlen:
        return _unscannable(policy.MALFORMED, ".npy header truncated", member, start)
    try:
        text = raw.decode("utf-8" if major == 3 else "latin-1")
    except UnicodeDecodeError:
        return _unscannable(policy.MALFORMED, ".npy header is not text", member, start)
    descr = _npy_descr(text)
    if descr is None:
        return _unscannable(policy.MALFORMED, ".npy header is not a valid array description", member, start)
    end = start + hlen
    if not _descr_has_object(descr, 8):
        return PickleScan((), (), 0, end, True, False)
    inner = scan_pickle(fh, member=member, limits=limits, nested=nested)
    shifted = tuple(replace(i, offset=i.offset + end) if i.offset is not None else i for i in inner.issues)
    return PickleScan(
        shifted,
        inner.globals,
        inner.pickles,
        inner.end_offset + end,
        inner.complete,
        inner.is_pickle,
        inner.trailing,
    )


def _npy_descr(text: str) -> Any:
    """The ``descr`` of a .npy header dict literal (parsed with ``ast.literal_eval``), or None."""
    import ast

    try:
        d = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return None
    if type(d) is not dict or "descr" not in d or "shape" not in d:
        return None
    return d["descr"]


def _descr_has_object(descr: Any, depth: int) -> bool:
    if depth <= 0:
        return True
    if type(descr) is str:  # 'O', '|O', '|O8', 'object': numpy's object dtype; no other type starts so
        return descr.lstrip("<>|=!").lower().startswith("o")
    if type(descr) is list:
        for field in descr:
            if type(field) is tuple and len(field) >= 2 and _descr_has_object(field[1], depth - 1):
                return True
        return False
    if type(descr) is tuple and descr:
        return _descr_has_object(descr[0], depth - 1)
    return True
