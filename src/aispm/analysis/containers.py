"""Route a file to its reader by content and scan everything it holds: the container layer.

:func:`scan_artifact` is what the model-file collector calls for one file. The route comes from
the opening bytes (:func:`sniff_artifact`), never from the extension: a pickle named
``.safetensors`` is scanned as a pickle, a zip member of any name whose content is a pickle is
scanned as one. Containers are opened the way their real loaders open them and nested within
bounds (:class:`~aispm.analysis.artifact_io.ArtifactLimits`):

- zip (:mod:`aispm.analysis.zip_reader`): PyTorch checkpoints with any archive prefix and any
  inner pickle name, TorchScript archives, ``.npz``, ``.keras``; every central-directory entry is
  read from its local header, whatever its CRC, flags or duplicated name;
- tar (legacy PyTorch tar, NeMo ``.nemo``, ``.tar.gz``), with ``tarfile`` as those loaders use it;
- compression wrappers: gzip, bzip2, xz, lzma, zlib (as joblib writes it, also its old ``ZF``
  form) and lz4 frames (when ``lz4`` is installed, else unscannable);
- 7z (with ``py7zr`` when installed, else unscannable);
- pickles (:mod:`aispm.analysis.pickle_vm`), ``.npy`` arrays, and the non-pickle formats
  (safetensors, GGUF, ONNX, HDF5, TF SavedModel...) handed to :data:`FORMAT_ANALYSERS`.

Only what must be read is read: for a PyTorch checkpoint, the central directory, a few hundred
bytes of each member (to know what it is) and the pickle in full, never the tensor storages.
Nothing is ever loaded, imported or executed; every bound that is hit, and every member that cannot
be read, is an UNSCANNABLE issue with its reason, never an exception.

Issue members are paths inside the file, outermost first, joined by ``!``
(``inner.zip!archive/data.pkl``); a compression wrapper adds no path step; None is the file itself.

Rule ids of this layer (the pickle walker's ``pickle.*`` and the format analysers' issues pass through):

- suspicious (loaders disagree on what the file holds; everything was scanned anyway):
  ``container.zip-bad-crc``, ``container.zip-size-mismatch``, ``container.zip-duplicate-name``,
  ``container.zip-name-mismatch``, ``container.zip-header-mismatch``, ``container.zip-flag-encrypted``,
  ``container.zip-prepended-data``, ``container.zip-trailing-data``, ``container.zip-entry-count``,
  ``container.zip-comment``, ``container.polyglot``, ``container.trailing-data``,
  ``container.path-traversal`` (in a zip);
- malicious (high): ``container.path-traversal`` in a tar or 7z, which loaders unpack;
- unscannable: ``container.malformed``, ``container.truncated``, ``container.encrypted``,
  ``container.unsupported`` (a method, lz4 or py7zr missing), ``container.limit`` (depth, members,
  decompressed bytes, spool size, time), ``container.bomb`` (decompression ratio),
  ``container.error`` (an analyser failed), ``container.unreadable`` (the file itself).
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import io
import os
import stat
import tarfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

from aispm.analysis import pickle_vm
from aispm.analysis.artifact_formats import (
    ANALYSED,
    CODECS,
    FORMAT_FRAMEWORK,
    HEAD_BYTES,
    STORAGE,
    TORCH_STORAGE_BYTES,
    TORCH_TAR_PICKLES,
    ZFILE_HEADER,
    escapes,
    framework_of,
    link_escapes,
    next_torch_record,
    pickle_format,
    sniff_artifact,
    strong_pickle,
    zip_kind,
    zip_role,
)
from aispm.analysis.artifact_io import (
    DEFAULT_ARTIFACT_LIMITS,
    ArtifactLimits,
    BoundExceeded,
    BytesSource,
    ChainStream,
    ContainerError,
    DecodeStream,
    FileSource,
    MiB,
    Readable,
    ScanBudget,
    Source,
    SourceFile,
    SpoolSource,
    TapFile,
    WindowSource,
    as_raw,
    lz4_frame,
    open_source,
    read_up_to,
    sha256_of,
    spool,
)
from aispm.analysis.artifact_report import ArtifactReport, FormatResult, Issue, Verdict
from aispm.analysis.zip_reader import (
    METHODS,
    ZipEntry,
    find_eocd,
    open_member,
    read_listing,
    read_local,
)
from aispm.model import JSON, Severity

__all__ = [
    "DEFAULT_ARTIFACT_LIMITS",
    "FORMAT_ANALYSERS",
    "ArtifactLimits",
    "FormatAnalyser",
    "scan_artifact",
    "scan_nested_bytes",
    "sha256_of",
    "sniff_artifact",
]

#: format name -> analyser of one file or member: ``(seekable stream at 0, size, member path)``.
#: The lead registers the non-pickle analysers here (``safetensors``, ``gguf``, ``onnx``, ``keras``
#: for ``.keras`` zips, ``keras-h5`` for HDF5 files, ``tensorflow-savedmodel``, ``tflite``...).
#: A ``"format"`` fact in the result renames the format (an HDF5 file found to be a Keras model).
#: Formats without an analyser are recognised and reported with their facts only.
FormatAnalyser = Callable[[BinaryIO, int, str | None], FormatResult]
FORMAT_ANALYSERS: dict[str, FormatAnalyser] = {}

#: Tar members that are a NeMo archive's Hydra configuration (see :mod:`nemo_config`).
NEMO_CONFIG_NAMES = frozenset({"model_config.yaml"})

_MAX_DRAIN = 64 * MiB  # pickle-member bytes read after the pickle ends, to check its CRC
_MAX_MEMBER_FACTS = 64


def _join(path: str | None, name: str) -> str:
    return name if path is None else f"{path}!{name}"


# --------------------------------------------------------------------------- the scan


@dataclass(frozen=True, slots=True)
class _Found:
    """What one file or member turned out to be: its format, and the containers wrapped around it."""

    format: str
    chain: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Member:
    """What the enclosing archive says about a member: how its loader treats it, its CRC and size."""

    #: "pickle" (the loader unpickles it), "storage" (raw tensor bytes), "weights" (a Keras archive's
    #: weights file, read as data by the loader that reads the archive)
    role: str | None = None
    crc: int | None = None
    size: int | None = None


#: Opens a stream again from its start (a decompressor over the same compressed bytes).
_Reopen = Callable[[], Readable]


def _forks(res: pickle_vm.PickleScan) -> bool:
    """The walker saw an operand cross a FRAME end: two readings of the bytes exist."""
    return any("frame_end" in i.detail and "opcode_offset" in i.detail for i in res.issues)


def _severity(verdict: Verdict) -> Severity:
    return Severity.HIGH if verdict is Verdict.MALICIOUS else Severity.MEDIUM


class _Scan:
    """The state of one artifact scan: the budget, and everything found so far."""

    def __init__(self, limits: ArtifactLimits, budget: ScanBudget) -> None:
        self.limits = limits
        self.budget = budget
        self.issues: list[Issue] = []
        self.globals: set[str] = set()
        self.streams = 0
        self.pickles = 0
        self.member_formats: Counter[str] = Counter()
        self.facts: dict[str, JSON] = {}
        self.member_facts: dict[str, JSON] = {}
        self.unreadable = 0  #: members that could not be read at all (encrypted, unsupported, broken)
        self.pickle_end = 0  #: where the pickles of the file itself end (for the polyglot check)
        #: torch storages each walked pickle member declares (``data.pkl`` path -> ids)
        self.storages: dict[str, tuple[tuple[str, str, int], ...]] = {}

    # -- issues

    def issue(self, rule: str, verdict: Verdict, message: str, member: str | None, **detail: JSON) -> None:
        self.issues.append(Issue(rule, verdict, _severity(verdict), message, member=member, detail=detail))

    def add(self, issues: Iterable[Issue], prefix: str | None) -> None:
        """Issues whose member is relative to ``prefix`` (a container), made absolute."""
        for i in issues:
            member = prefix if i.member is None else _join(prefix, i.member)
            self.issues.append(replace(i, member=member) if member != i.member else i)

    def failed(self, exc: ContainerError, member: str | None) -> None:
        if isinstance(exc, BoundExceeded):
            raise exc  # bounds are global: stop the whole scan
        self.unreadable += 1
        self.issue(exc.rule, Verdict.UNSCANNABLE, exc.message, member)

    # -- entry points for a random-access source and for a sequential stream

    def source(
        self, src: Source, path: str | None, depth: int, member: _Member | None = None
    ) -> _Found | None:
        head = src.pread(0, HEAD_BYTES)
        route = sniff_artifact(head)
        try:
            found = self._route(route, head, path, depth, member, src=src)
        except ContainerError as exc:
            self.failed(exc, path)
            found = _Found(route) if route is not None else None
        if path is None and route in (None, "pickle") and src.size >= 22:
            # A zip after other data (a self-extractor, a pickle/zip polyglot) shows only at its end.
            tail = self._tail_zip(src, path, depth, after=self.pickle_end if route == "pickle" else 0)
            if tail is not None and found is not None:
                self.issue(
                    "container.polyglot",
                    Verdict.SUSPICIOUS,
                    f"the file is both a {found.format} and a zip archive: loaders disagree on what "
                    "it holds (both were scanned)",
                    path,
                )
            found = found or tail
        return found

    def stream(
        self,
        raw: Readable,
        path: str | None,
        depth: int,
        member: _Member | None = None,
        reopen: _Reopen | None = None,
    ) -> _Found | None:
        """Scan a sequential stream; ``reopen`` gives the same stream again from its start, if it can."""
        route: str | None = None
        try:
            head = read_up_to(raw, HEAD_BYTES)
            route = sniff_artifact(head)
            return self._route(route, head, path, depth, member, raw=raw, reopen=reopen)
        except ContainerError as exc:
            self.failed(exc, path)
            return _Found(route) if route is not None else None

    def _route(
        self,
        route: str | None,
        head: bytes,
        path: str | None,
        depth: int,
        member: _Member | None,
        *,
        src: Source | None = None,
        raw: Readable | None = None,
        reopen: _Reopen | None = None,
    ) -> _Found | None:
        role = member.role if member else None
        if role == "pickle" and route is None:
            route = "pickle"  # the loader unpickles this member whatever it looks like
        if role == "storage" and route != "pickle":
            return None  # raw tensor bytes: no loader reads them as anything else
        if route is None:
            return None
        if route == "pickle":
            return self._pickle(self._open(head, src, raw), head, path, member, raw, reopen)
        if route == "numpy":
            return self._npy(self._open(head, src, raw), path)
        if route in ANALYSED:
            if role == "weights":
                return _Found(route)  # weights of a model whose archive is analysed as a whole
            return self._analyse(route, head, path, src, raw)
        if depth >= self.limits.max_depth:
            self.unreadable += 1
            self.issue(
                "container.limit",
                Verdict.UNSCANNABLE,
                f"{route} nested deeper than {self.limits.max_depth} containers: not scanned",
                path,
            )
            return _Found(route)
        if route in CODECS:
            return self._codec(route, head, path, depth, member, src=src, raw=raw, reopen=reopen)
        if route == "tar":
            return self._tar(head, path, depth, src=src, raw=raw, reopen=reopen)
        # Zip and 7z are read at random: a stream (a decompressed member) is copied aside first.
        with self._random_access(head, src, raw, path) as ra:
            if ra is None:
                return _Found(route, (route,))
            if route == "zip":
                return self._zip(ra, path, depth)
            if route == "7z":
                return self._sevenzip(ra, path, depth)
        return None  # pragma: no cover - every route is handled above

    def _open(self, head: bytes, src: Source | None, raw: Readable | None) -> io.RawIOBase:
        """The whole content from its start: seekable (so the walker can skip array data) when it can be."""
        if src is not None:
            return TapFile(src)
        return ChainStream(head, as_raw(raw))

    @contextlib.contextmanager
    def _random_access(
        self, head: bytes, src: Source | None, raw: Readable | None, path: str | None
    ) -> Iterator[Source | None]:
        if src is not None:
            yield src
            return
        assert raw is not None
        try:
            spooled: SpoolSource | None = spool(ChainStream(head, as_raw(raw)), self.budget)
        except ContainerError as exc:
            self.failed(exc, path)
            spooled = None
        try:
            yield spooled
        finally:
            if spooled is not None:
                spooled.close()

    # -- leaves: pickles, arrays, other formats

    def _walk(
        self, func: Callable[..., pickle_vm.PickleScan], opened: io.RawIOBase, path: str | None
    ) -> pickle_vm.PickleScan | None:
        """Run the pickle walker (or the .npy reader) over ``opened``; None when it could not run."""
        fh = io.BufferedReader(opened, buffer_size=64 * 1024)
        try:
            res = func(fh, member=path, limits=self.limits.pickle_limits, nested=scan_nested_bytes)
        except ContainerError as exc:
            self.failed(exc, path)
            return None
        except Exception as exc:  # the walker must not take the scan down with it
            self.issue(
                "container.error", Verdict.UNSCANNABLE, f"pickle walker failed: {type(exc).__name__}", path
            )
            return None
        self.budget.check()  # a bound passed while the walker read: the walker saw a read error
        if res.storages and path is not None:
            self.storages[path] = res.storages
        return res

    def _pickle(
        self,
        opened: io.RawIOBase,
        head: bytes,
        path: str | None,
        member: _Member | None,
        raw: Readable | None,
        reopen: _Reopen | None = None,
    ) -> _Found | None:
        role = member.role if member else None
        strong = role != "storage" and strong_pickle(head)
        # The loader unpickles this stream (a top-level file or an expected pickle member): all counts.
        strict = role == "pickle" or (strong and member is None)
        res = self._walk(pickle_vm.scan_pickle, opened, path)
        if res is not None and reopen is not None and not isinstance(opened, TapFile) and _forks(res):
            # The walker reads the second meaning of a FRAME lie only from a seekable stream.
            res = self._walk_spooled(reopen, path) or res
        if res is None:
            return _Found("pickle") if strict else None
        issues = list(res.issues)
        if not strict and not res.complete:
            # Maybe not a pickle at all (tensor bytes, text). CPython runs what comes before the point
            # where a stream stops parsing, so what was seen there still counts.
            keep = (Verdict.MALICIOUS, Verdict.SUSPICIOUS) if strong else (Verdict.MALICIOUS,)
            issues = [i for i in issues if i.verdict in keep]
            if not issues:
                return None
        elif not strict and not res.is_pickle and not issues:
            return None
        self.issues.extend(issues)
        self.globals.update(res.globals)
        self.pickles += res.pickles
        if path is None:
            self.pickle_end = res.end_offset
        failure = raw.failure if isinstance(raw, DecodeStream) else None
        if failure is not None:
            self.failed(failure, path)
        elif member is not None and member.crc is not None:
            self._check_crc(opened, raw, path, member)
        return _Found(pickle_format(head, res.globals))

    def _walk_spooled(self, reopen: _Reopen, path: str | None) -> pickle_vm.PickleScan | None:
        """Walk the stream again from a seekable copy (bounded by ``max_spool_bytes``)."""
        try:
            spooled = spool(reopen(), self.budget)
        except ContainerError as exc:
            self.failed(exc, path)
            return None
        try:
            return self._walk(pickle_vm.scan_pickle, TapFile(spooled), path)
        finally:
            spooled.close()

    def _check_crc(
        self, opened: io.RawIOBase, raw: Readable | None, path: str | None, member: _Member
    ) -> None:
        """Compare a member's CRC-32 and size with its headers, reading what the walker skipped (bounded)."""
        try:
            if isinstance(opened, TapFile):
                got = opened.finish(_MAX_DRAIN)
                size = opened.src.size
            elif isinstance(raw, DecodeStream):
                got = raw.finish(_MAX_DRAIN)
                size = raw.out_bytes
            else:
                return
        except ContainerError as exc:
            self.failed(exc, path)
            return
        if got is None:
            return  # too much left to read just for a checksum
        if got != member.crc:
            self.issue(
                "container.zip-bad-crc",
                Verdict.SUSPICIOUS,
                "CRC-32 does not match the central directory: Python's zipfile refuses this member, "
                "PyTorch loads it (scanned as PyTorch reads it)",
                path,
                expected=f"{member.crc:08x}",
                actual=f"{got:08x}",
            )
        if member.size is not None and size != member.size:
            self.issue(
                "container.zip-size-mismatch",
                Verdict.SUSPICIOUS,
                f"member holds {size} bytes, its header says {member.size}",
                path,
            )

    def _npy(self, opened: io.RawIOBase, path: str | None) -> _Found:
        res = self._walk(pickle_vm.scan_npy, opened, path)
        if res is not None:
            self.issues.extend(res.issues)
            self.globals.update(res.globals)
            self.pickles += res.pickles
        return _Found("numpy")

    def _analyse(
        self, route: str, head: bytes, path: str | None, src: Source | None, raw: Readable | None
    ) -> _Found:
        fmt = route
        analyser = FORMAT_ANALYSERS.get(ANALYSED[route])
        if analyser is None:
            return _Found(fmt)
        with self._random_access(head, src, raw, path) as ra:
            if ra is None:
                return _Found(fmt)
            result = self._call_analyser(analyser, ra, path)
        if result is not None:
            renamed = result.facts.get("format")
            if isinstance(renamed, str) and renamed:
                fmt = renamed
            self._facts(path, result.facts)
        return _Found(fmt)

    def _call_analyser(self, analyser: FormatAnalyser, src: Source, path: str | None) -> FormatResult | None:
        try:
            result = analyser(open_source(src), src.size, path)
        except ContainerError as exc:
            self.failed(exc, path)
            return None
        except Exception as exc:
            name = getattr(analyser, "__name__", "analyser")
            self.issue("container.error", Verdict.UNSCANNABLE, f"{name} failed: {type(exc).__name__}", path)
            return None
        self.issues.extend(
            i if i.member is not None or path is None else replace(i, member=path) for i in result.issues
        )
        return result

    def _facts(self, path: str | None, facts: Any) -> None:
        if not facts:
            return
        if path is None:
            self.facts.update(facts)
        elif len(self.member_facts) < _MAX_MEMBER_FACTS:
            self.member_facts[path] = dict(facts)

    # -- compression wrappers

    def _codec(
        self,
        route: str,
        head: bytes,
        path: str | None,
        depth: int,
        member: _Member | None,
        *,
        src: Source | None,
        raw: Readable | None,
        reopen: _Reopen | None,
    ) -> _Found | None:
        codec = CODECS[route]
        if codec == "lz4" and lz4_frame() is None:
            self.unreadable += 1
            self.issue(
                "container.unsupported",
                Verdict.UNSCANNABLE,
                "lz4-compressed stream not scanned: the lz4 package is not installed",
                path,
            )
            return _Found("lz4", ("lz4",))
        inp: Readable = SourceFile(src) if src is not None else ChainStream(head, as_raw(raw))
        dec = self._decoder(route, inp)
        base: _Reopen | None = (lambda: SourceFile(src)) if src is not None else reopen
        again: _Reopen | None = (lambda: self._decoder(route, base())) if base is not None else None
        before = len(self.issues)
        inner = self.stream(dec, path, depth + 1, reopen=again)
        if isinstance(dec.failure, BoundExceeded):
            raise dec.failure
        name = "zlib" if route == "joblib-zfile" else route
        if inner is None or (dec.failure is not None and dec.out_bytes == 0):
            # Not compressed data after all, or compressed data that holds no model: nothing to report.
            del self.issues[before:]
            if dec.out_bytes == 0 and src is not None and pickle_vm.looks_like_pickle(head):
                # A pickle whose first opcode happens to look like a magic number.
                return self._pickle(TapFile(src), head, path, member, None)
            return None
        if dec.failure is not None:
            self.failed(dec.failure, path)
        if dec.trailing:
            self.issue(
                "container.trailing-data",
                Verdict.SUSPICIOUS,
                f"data follows the end of the {name} stream",
                path,
            )
        fmt = inner.format
        if fmt == "pickle" and route in ("zlib", "joblib-zfile", "lz4", "lzma"):
            fmt = "joblib"  # only joblib wraps pickles this way
        return _Found(fmt, (name, *inner.chain))

    def _decoder(self, route: str, inp: Readable) -> DecodeStream:
        if route == "joblib-zfile":
            zhead = read_up_to(inp, ZFILE_HEADER + 1)
            if zhead[-1:] != b" ":
                inp = ChainStream(zhead[ZFILE_HEADER:], as_raw(inp))
        return DecodeStream(inp, CODECS[route], self.budget, multi=True)

    # -- zip

    def _zip(self, src: Source, path: str | None, depth: int, scan_prefix: bool = True) -> _Found | None:
        start_issues = len(self.issues)
        start_unreadable = self.unreadable
        listing = read_listing(src, self.budget)
        self.add(listing.issues, path)
        files = [e for e in listing.entries if not e.is_dir]
        kind = zip_kind([e.name for e in files])
        recognised = 0
        if listing.start > 0:
            self.issue(
                "container.zip-prepended-data",
                Verdict.SUSPICIOUS,
                f"{listing.start} bytes precede the first member: loaders disagree on what the file is",
                path,
                size=listing.start,
            )
            prefix = WindowSource(src, 0, listing.start)
            if scan_prefix and self.source(prefix, _join(path, "<prefix>"), depth + 1) is not None:
                recognised += 1
        seen: set[tuple[int, int, int]] = set()
        for entry in listing.entries:
            if escapes(entry.name):
                self.issue(
                    "container.path-traversal",
                    Verdict.SUSPICIOUS,
                    "member name leaves the extraction directory",
                    _join(path, entry.name),
                )
            if entry.compressed_size == 0:
                continue  # nothing stored (a directory, an empty file)
            if self._zip_member(src, entry, path, depth, kind, seen):
                recognised += 1
        if kind == "keras":
            analyser = FORMAT_ANALYSERS.get("keras")
            if analyser is not None:
                result = self._call_analyser(analyser, src, path)
                if result is not None:
                    self._facts(path, result.facts)
        if kind == "zip" and not recognised and self.unreadable == start_unreadable and listing.central:
            del self.issues[start_issues:]  # an ordinary zip of documents: not a model artifact
            return None
        if kind == "pytorch-zip":
            self._check_storage_sizes(files, path)
        if path is None:
            self.facts["archive_members"] = len(files)
            if kind in ("pytorch-zip", "torchscript"):
                self.facts["tensor_storages"] = sum(1 for e in files if STORAGE.match(e.name))
        return _Found(kind, ("zip",))

    def _check_storage_sizes(self, files: list[ZipEntry], path: str | None) -> None:
        """Each storage a checkpoint's ``data.pkl`` declares must fit the bytes its archive holds.

        ``torch.save`` writes every storage whole, so a ``data/<key>`` member shorter than the
        element count its persistent id declares is crafted: torch's loader up to 2.9.1 read past
        the data and corrupted memory, with ``weights_only=True`` too (GHSA-63cw-57p8-fm3p).
        """
        sizes = {e.name: e.file_size for e in files}
        for e in files:
            if not (e.name == "data.pkl" or e.name.endswith("/data.pkl")):
                continue
            prefix = e.name[: -len("data.pkl")]
            for key, cls, numel in self.storages.get(_join(path, e.name), ()):
                width = TORCH_STORAGE_BYTES.get(cls)
                held = sizes.get(f"{prefix}data/{key}")
                if width is None or held is None or numel * width <= held:
                    continue
                self.issue(
                    "torch.storage-size-mismatch",
                    Verdict.MALICIOUS,
                    f"storage {key} ({cls}) declares {numel} elements ({numel * width} bytes) but the "
                    f"archive holds {held}: no torch.save writes this; torch up to 2.9.1 reads past the "
                    "data and corrupts memory, even with weights_only=True (GHSA-63cw-57p8-fm3p)",
                    _join(path, e.name),
                    key=key[:100],
                    declared=numel * width,
                    held=held,
                )

    def _zip_member(
        self,
        src: Source,
        entry: ZipEntry,
        path: str | None,
        depth: int,
        kind: str,
        seen: set[tuple[int, int, int]],
    ) -> bool:
        mpath = _join(path, entry.name)
        self.streams += 1
        stored = entry.method == 0
        local, _head, issues = read_local(src, entry)
        self.add(issues, path)
        if local is None or local.data_offset is None:
            self.unreadable += 1
            return False
        span = (local.data_offset, entry.compressed_size, entry.method)
        if span in seen:
            return False  # another entry over the same bytes (a duplicate): scanned once
        seen.add(span)
        if entry.method not in METHODS:
            self.unreadable += 1
            self.issue(
                "container.unsupported",
                Verdict.UNSCANNABLE,
                f"compression method {entry.method} is not supported: member not scanned",
                mpath,
            )
            return False
        role = zip_role(entry.name, kind)
        member = _Member(role, entry.crc, entry.file_size)
        before = len(self.issues)
        if stored:
            found = self.source(
                WindowSource(src, local.data_offset, entry.compressed_size), mpath, depth + 1, member
            )
        else:
            stream = open_member(src, local, self.budget)
            found = self.stream(
                stream, mpath, depth + 1, member, lambda: open_member(src, local, self.budget)
            )
            failure = stream.failure
            if failure is not None and not any(
                i.rule == failure.rule and i.member == mpath for i in self.issues[before:]
            ):
                self.failed(failure, mpath)
        if entry.encrypted:
            if found is None:
                self.unreadable += 1
                self.issue(
                    "container.encrypted",
                    Verdict.UNSCANNABLE,
                    "encrypted member: its content cannot be scanned",
                    mpath,
                )
            else:
                self.issue(
                    "container.zip-flag-encrypted",
                    Verdict.SUSPICIOUS,
                    "member is flagged encrypted but is not: zipfile refuses it, PyTorch loads it",
                    mpath,
                )
        if found is not None and path is None:
            self.member_formats[found.format] += 1
        return found is not None

    def _tail_zip(self, src: Source, path: str | None, depth: int, after: int) -> _Found | None:
        """The zip at the end of a file that does not open like one, if its central directory reads.

        A zip that ends inside the pickle before it (``after``) is a bytes value of that pickle (torch
        pickles storages as whole torch files), which the walker hands to :func:`scan_nested_bytes`.
        """
        eocd = find_eocd(src)
        if eocd is None or eocd.entries == 0 or eocd.offset < after:
            return None
        cd = src.pread(eocd.offset - eocd.cd_size, 4) if eocd.offset >= eocd.cd_size else b""
        if cd != b"PK\x01\x02":
            return None
        return self._zip(src, path, depth, scan_prefix=after == 0)  # a pickle before it was scanned already

    # -- tar

    def _tar(
        self,
        head: bytes,
        path: str | None,
        depth: int,
        *,
        src: Source | None,
        raw: Readable | None,
        reopen: _Reopen | None = None,
    ) -> _Found | None:
        """A tar, read with ``tarfile`` as torch and NeMo read it: at random from a file (member data
        is never read unless it must be), as a stream when it comes out of a decompressor."""
        start_issues = len(self.issues)
        start_unreadable = self.unreadable
        names: list[str] = []
        recognised = 0
        end = 0
        try:
            raw_file: io.RawIOBase = SourceFile(src) if src is not None else ChainStream(head, as_raw(raw))
            fileobj = io.BufferedReader(raw_file, buffer_size=64 * 1024)
            with tarfile.open(
                fileobj=fileobj, mode="r:" if src is not None else "r|", tarinfo=_BoundedTarInfo
            ) as tf:
                while True:
                    info = tf.next()
                    if info is None:
                        break
                    self.budget.member()
                    self.streams += 1
                    names.append(info.name)
                    end = max(end, info.offset_data + info.size)
                    if self._tar_member(tf, info, src, path, depth, reopen):
                        recognised += 1
        except ContainerError as exc:
            self.failed(exc, path)
        except (tarfile.TarError, EOFError, OSError, ValueError, UnicodeError, OverflowError) as exc:
            self.unreadable += 1
            self.issue(
                "container.malformed", Verdict.UNSCANNABLE, f"tar archive is malformed: {exc!s:.200}", path
            )
        if src is not None and end > src.size:
            self.unreadable += 1
            self.issue("container.truncated", Verdict.UNSCANNABLE, "tar archive is truncated", path)
        base = {n.rsplit("/", 1)[-1] for n in names}
        kind = "tar"
        if "model_config.yaml" in base:
            kind = "nemo"
        elif {"pickle", "storages"} <= {n.strip("./") for n in names}:
            kind = "pytorch-tar"
        if kind == "tar" and not recognised and self.unreadable == start_unreadable:
            del self.issues[start_issues:]  # an ordinary tar of documents or code: not a model artifact
            return None
        if path is None:
            self.facts["archive_members"] = len(names)
        return _Found(kind, ("tar",))

    def _tar_member(
        self,
        tf: tarfile.TarFile,
        info: tarfile.TarInfo,
        src: Source | None,
        path: str | None,
        depth: int,
        reopen: _Reopen | None,
    ) -> bool:
        mpath = _join(path, info.name)
        if escapes(info.name) or ((info.issym() or info.islnk()) and link_escapes(info)):
            self.issue(
                "container.path-traversal",
                Verdict.MALICIOUS,
                "tar member would be written outside the extraction directory when the archive is "
                "unpacked (as NeMo and other loaders do)",
                mpath,
                link=info.linkname[:200] if info.linkname else "",
            )
        if not info.isfile():
            return False
        base = info.name.strip("./")
        if base.rsplit("/", 1)[-1] in NEMO_CONFIG_NAMES:
            self._nemo_config(tf, info, src, mpath)
            return False
        member = _Member("pickle" if base in TORCH_TAR_PICKLES else None)
        if info.sparse is not None:
            self.unreadable += 1
            self.issue("container.unsupported", Verdict.UNSCANNABLE, "sparse tar member not scanned", mpath)
            return False
        if src is not None:
            if info.offset_data + info.size > src.size:
                self.issue(
                    "container.truncated",
                    Verdict.UNSCANNABLE,
                    "tar member runs past the end of the file",
                    mpath,
                )
            window = WindowSource(src, info.offset_data, info.size)
            if base in ("storages", "tensors") and strong_pickle(window.pread(0, 2)):
                found = self._torch_tar_records(window, mpath, base)
            else:
                found = self.source(window, mpath, depth + 1, member)
        else:
            fh = tf.extractfile(info)
            if fh is None:
                return False
            if base in ("storages", "tensors"):
                with self._random_access(b"", None, fh, mpath) as ra:
                    found = self._torch_tar_records(ra, mpath, base) if ra is not None else None
            else:
                again = _tar_member_again(reopen, info.offset) if reopen is not None else None
                found = self.stream(fh, mpath, depth + 1, member, again)
        if found is not None and path is None:
            self.member_formats[found.format] += 1
        return found is not None

    def _nemo_config(
        self, tf: tarfile.TarFile, info: tarfile.TarInfo, src: Source | None, mpath: str
    ) -> None:
        """A NeMo configuration: the Hydra targets that restoring the archive instantiates."""
        from aispm.analysis import nemo_config  # YAML and its loader only when a NeMo archive is met

        limit = nemo_config.MAX_CONFIG_BYTES + 1
        if src is not None:
            data = WindowSource(src, info.offset_data, info.size).pread(0, min(info.size, limit))
        else:
            fh = tf.extractfile(info)
            data = fh.read(limit) if fh is not None else b""
        self.add(nemo_config.analyze_nemo_config(data, None).issues, mpath)

    def _torch_tar_records(self, src: Source, path: str, name: str) -> _Found | None:
        """The ``storages`` or ``tensors`` member of a legacy torch tar: pickles between raw records.

        ``torch.load`` unpickles a count, then for each record a pickle followed by raw bytes (a
        storage: 8-byte element count and the data; a tensor: its sizes, strides and offset), so
        every record's pickle runs. Each is found by skipping the raw part the way the loader does.
        """
        pos = 0
        found: _Found | None = None
        for _ in range(self.limits.max_members):
            res = self._walk(pickle_vm.scan_pickle, TapFile(WindowSource(src, pos, src.size - pos)), path)
            if res is None:
                break
            self.issues.extend(
                replace(i, offset=i.offset + pos) if i.offset is not None else i for i in res.issues
            )
            self.globals.update(res.globals)
            self.pickles += res.pickles
            found = _Found("pickle")
            if not res.complete or not res.trailing or not res.pickles:
                break
            pos += res.end_offset
            nxt = next_torch_record(src, pos, name, res.globals)
            if nxt is None:
                self.issue(
                    "container.malformed",
                    Verdict.UNSCANNABLE,
                    f"legacy torch {name} record at offset {pos} cannot be followed to the next one",
                    path,
                )
                break
            if nxt >= src.size:
                break
            pos = nxt
        return found

    # -- 7z

    def _sevenzip(self, src: Source, path: str | None, depth: int) -> _Found:
        py7zr = _optional("py7zr")
        if py7zr is None:
            self.unreadable += 1
            self.issue(
                "container.unsupported",
                Verdict.UNSCANNABLE,
                "7z archive not scanned: py7zr is not installed",
                path,
            )
            return _Found("7z", ("7z",))
        sink = _SevenZipSink(self, path, depth)
        try:
            with py7zr.SevenZipFile(open_source(src), mode="r") as archive:
                if archive.needs_password():
                    self.unreadable += 1
                    self.issue(
                        "container.encrypted", Verdict.UNSCANNABLE, "encrypted 7z archive not scanned", path
                    )
                    return _Found("7z", ("7z",))
                for info in archive.list():
                    self.budget.member()
                    name = str(info.filename)
                    if escapes(name):
                        self.issue(
                            "container.path-traversal",
                            Verdict.MALICIOUS,
                            "7z member would be written outside the extraction directory",
                            _join(path, name),
                        )
                # Into the sink's memory/temporary spools only: nothing is written under any member name.
                archive.extractall(factory=sink)  # noqa: S202
        except ContainerError as exc:
            self.failed(exc, path)
        except Exception as exc:  # py7zr raises many kinds of error on hostile archives
            self.unreadable += 1
            self.issue(
                "container.malformed", Verdict.UNSCANNABLE, f"7z archive cannot be read: {exc!s:.200}", path
            )
        if sink.error is not None:
            raise sink.error
        return _Found("7z", ("7z",))


def _tar_member_again(reopen: _Reopen, offset: int) -> _Reopen:
    """Opens the member of a streamed tar whose header is at ``offset`` again, from a fresh stream."""

    def again() -> Readable:
        fileobj = io.BufferedReader(as_raw(reopen()), buffer_size=64 * 1024)
        tf = tarfile.open(fileobj=fileobj, mode="r|", tarinfo=_BoundedTarInfo)  # noqa: SIM115 - lives with fh
        for info in tf:
            if info.offset == offset:
                fh = tf.extractfile(info)
                if fh is not None:
                    return fh
            if info.offset > offset:
                break
        raise ContainerError("container.malformed", "tar member not found when read again")

    return again


_TAR_EXTENSIONS = (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK, tarfile.XHDTYPE, tarfile.XGLTYPE,
                   tarfile.SOLARIS_XHDTYPE)  # fmt: skip


class _BoundedTarInfo(tarfile.TarInfo):
    """``tarfile`` reads a pax or GNU long-name header whole, whatever size it claims: bound it."""

    def _proc_member(self, tarfile: tarfile.TarFile) -> tarfile.TarInfo:
        if self.type in _TAR_EXTENSIONS and self.size > 16 * MiB:
            raise ContainerError(
                "container.limit", f"tar header extension of {self.size} bytes is over 16 MiB"
            )
        return super()._proc_member(tarfile)  # type: ignore[misc, no-any-return]


class _SevenZipSink:
    """A py7zr writer factory that spools each extracted member, scans it when closed, then drops it."""

    def __init__(self, scan: _Scan, path: str | None, depth: int) -> None:
        self.scan = scan
        self.path = path
        self.depth = depth
        self.error: BoundExceeded | None = None

    def create(self, filename: str) -> _SevenZipMember:
        return _SevenZipMember(self, filename.lstrip("/"))


class _SevenZipMember:
    def __init__(self, sink: _SevenZipSink, name: str) -> None:
        import tempfile

        self.sink = sink
        self.name = name
        self.fh = tempfile.SpooledTemporaryFile(max_size=32 * MiB)  # noqa: SIM115 - closed in close()
        self.written = 0

    def write(self, data: bytes | bytearray) -> int:
        budget = self.sink.scan.budget
        try:
            budget.produced(len(data))
            self.written += len(data)
            if self.written > budget.limits.max_spool_bytes:
                raise BoundExceeded(
                    "container.limit", f"7z member larger than {budget.limits.max_spool_bytes} bytes"
                )
        except BoundExceeded as exc:
            self.sink.error = self.sink.error or exc
            raise
        return self.fh.write(data)

    def read(self, size: int | None = None) -> bytes:
        return self.fh.read(size if size is not None else -1)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.fh.seek(offset, whence)

    def flush(self) -> None:
        self.fh.flush()

    def size(self) -> int:
        return self.written

    def close(self) -> None:
        scan, sink = self.sink.scan, self.sink
        try:
            if sink.error is None:
                scan.streams += 1
                src = SpoolSource(self.fh, self.written, scan.budget)
                found = scan.source(src, _join(sink.path, self.name), sink.depth + 1)
                if found is not None and sink.path is None:
                    scan.member_formats[found.format] += 1
        except BoundExceeded as exc:
            sink.error = sink.error or exc
        finally:
            self.fh.close()


def _optional(name: str) -> Any | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


# --------------------------------------------------------------------------- entry points

#: The scan in progress (and its depth), for payloads the pickle walker hands back (nested files).
_CURRENT: contextvars.ContextVar[tuple[ScanBudget, int] | None] = contextvars.ContextVar(
    "artifact_scan", default=None
)


def _run(
    src: Callable[[ScanBudget], Source], limits: ArtifactLimits, path: str | None = None
) -> tuple[_Scan, _Found | None]:
    """Scan one source, within the budget of the scan in progress if there is one."""
    parent = _CURRENT.get()
    budget, depth = parent if parent is not None else (ScanBudget(limits), 0)
    scan = _Scan(budget.limits, budget)
    token = _CURRENT.set((budget, depth + 1))
    found: _Found | None = None
    try:
        if depth > budget.limits.max_depth:
            raise ContainerError("container.limit", f"nested deeper than {budget.limits.max_depth} levels")
        found = scan.source(src(budget), path, depth)
    except ContainerError as exc:
        scan.issue(exc.rule, Verdict.UNSCANNABLE, exc.message, path)
    except RecursionError:
        scan.issue("container.limit", Verdict.UNSCANNABLE, "nesting too deep to scan", path)
    except Exception as exc:  # a scanner bug must never make a file look clean
        scan.issue(
            "container.error", Verdict.UNSCANNABLE, f"scan failed: {type(exc).__name__}: {exc!s:.200}", path
        )
    finally:
        _CURRENT.reset(token)
    return scan, found


def scan_artifact(path: Path, *, limits: ArtifactLimits = DEFAULT_ARTIFACT_LIMITS) -> ArtifactReport | None:
    """The static verdict on one file, or None when its content is not a model artifact nor a
    container holding one. Never raises; reads only what the format requires (see ``bytes_read``)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None  # a directory, a FIFO, a device: not a file to scan (and a FIFO would block)
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        issue = Issue(
            "container.unreadable",
            Verdict.UNSCANNABLE,
            Severity.MEDIUM,
            f"cannot read the file: {exc.strerror or exc}",
        )
        return ArtifactReport("unknown", issues=(issue,))
    try:
        size = os.fstat(fd).st_size
        scan, found = _run(lambda budget: FileSource(fd, size, budget), limits)
    finally:
        os.close(fd)
    if found is None and not scan.issues:
        return None
    fmt = found.format if found is not None else "unknown"
    facts: dict[str, JSON] = {"containers": list(found.chain) if found else [], **scan.facts}
    framework = framework_of(fmt, scan.globals) or _innerframework_of(scan)
    if framework:
        facts["framework"] = framework
    if scan.member_formats:
        facts["member_formats"] = dict(sorted(scan.member_formats.items()))
    if scan.member_facts:
        facts["member_facts"] = scan.member_facts
    if scan.pickles:
        facts["pickles"] = scan.pickles
    return ArtifactReport(
        format=fmt,
        issues=tuple(scan.issues),
        facts=facts,
        globals=tuple(sorted(scan.globals)),
        members=scan.streams + scan.pickles,
        bytes_read=scan.budget.bytes_read,
    )


def _innerframework_of(scan: _Scan) -> str | None:
    for fmt, _n in scan.member_formats.most_common():
        fw = FORMAT_FRAMEWORK.get(fmt)
        if fw:
            return fw
    return None


def scan_nested_bytes(data: bytes, member: str) -> pickle_vm.PickleScan:
    """Scan bytes a pickle hands to a loader (``torch.storage._load_from_bytes``: a whole torch file).

    The pickle walker calls this as its ``nested`` hook. The bytes are routed like a file (a torch
    zip, a legacy torch pickle...) within the bounds of the scan in progress; issue members are
    ``member`` and paths below it.
    """
    scan, found = _run(lambda _budget: BytesSource(data), DEFAULT_ARTIFACT_LIMITS, member)
    return pickle_vm.PickleScan(
        issues=tuple(scan.issues),
        globals=tuple(sorted(scan.globals)),
        pickles=scan.pickles,
        end_offset=len(data),
        complete=not any(i.verdict is Verdict.UNSCANNABLE for i in scan.issues),
        is_pickle=found is not None,
        trailing=False,
    )
