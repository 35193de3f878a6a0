"""Readers for the headers of model weight files: safetensors, GGUF, NumPy, ONNX, plus magic sniffing.

Only headers are read, with every length checked against the file size and a hard budget, and
nothing is ever deserialized (no pickle, no framework loader). Every malformed input raises
:class:`HeaderError` and nothing else, which the fuzz tests hold these readers to.

Also here: the GGUF tensor-info reader and chat-template capture the GGUF analyser uses, and
:class:`ProtoReader`, the bounded protobuf wire-format reader behind the ONNX and TensorFlow
SavedModel analysers.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
from dataclasses import dataclass, field
from typing import BinaryIO

from aispm.model import JSON

#: safetensors headers above this are refused (real ones are a few MB at most).
MAX_SAFETENSORS_HEADER = 100 * 1024 * 1024
#: GGUF metadata is walked until this many bytes or values; the tokenizer vocabulary dominates it
#: (a 128k-token vocabulary with its merges is under 10 MB and 500k values).
MAX_GGUF_METADATA = 64 * 1024 * 1024
MAX_GGUF_VALUES = 4_000_000
MAX_METADATA_ENTRIES = 32
MAX_TEXT = 500

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
ZIP_MAGIC = b"PK\x03\x04"
NPY_MAGIC = b"\x93NUMPY"
GGUF_MAGIC = b"GGUF"
# Legacy llama.cpp formats, written as little-endian u32 ("ggml", "ggmf", "ggjt").
GGML_MAGICS = (b"lmgg", b"fmgg", b"tjgg")
LFS_POINTER = b"version https://git-lfs.github.com/spec/"


class HeaderError(ValueError):
    """The header is truncated, inconsistent with the file, or not the format claimed."""


class GgufOversized(HeaderError):
    """A GGUF length or count no file of this size can hold (crafted lengths overflowed old parsers)."""


@dataclass(frozen=True, slots=True)
class SafetensorsHeader:
    """What a safetensors header declares."""

    header_length: int
    tensor_count: int
    parameter_count: int
    dtypes: tuple[str, ...]
    metadata: dict[str, str]


def read_safetensors_header(
    fh: BinaryIO, size: int, max_header: int = MAX_SAFETENSORS_HEADER
) -> SafetensorsHeader:
    """Parse the header of a safetensors file of ``size`` bytes open at offset 0."""
    raw = fh.read(8)
    if len(raw) < 8:
        raise HeaderError("truncated: no 8-byte header length")
    (n,) = struct.unpack("<Q", raw)
    if n < 2:
        raise HeaderError(f"header length {n} is too small")
    if n > max_header:
        raise HeaderError(f"header length {n} exceeds the {max_header}-byte limit")
    if n > size - 8:
        raise HeaderError(f"header length {n} runs past the end of the {size}-byte file")
    data = fh.read(n)
    if len(data) < n:
        raise HeaderError("truncated header")
    if data[:1] != b"{":
        raise HeaderError("header is not a JSON object")
    try:
        header = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise HeaderError(f"header is not valid JSON: {type(exc).__name__}") from exc
    if not isinstance(header, dict):
        raise HeaderError("header is not a JSON object")
    data_size = size - 8 - n
    metadata: dict[str, str] = {}
    dtypes: set[str] = set()
    params = 0
    count = 0
    for name, info in header.items():
        if name == "__metadata__":
            if not isinstance(info, dict):
                raise HeaderError("__metadata__ is not an object")
            for k, v in list(info.items())[:MAX_METADATA_ENTRIES]:
                metadata[str(k)[:100]] = str(v)[:MAX_TEXT]
            continue
        if not isinstance(info, dict):
            raise HeaderError(f"tensor {name[:80]!r} is not an object")
        dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if not isinstance(dtype, str) or not isinstance(shape, list) or not isinstance(offsets, list):
            raise HeaderError(f"tensor {name[:80]!r} lacks dtype, shape or data_offsets")
        if not all(type(d) is int and d >= 0 for d in shape):
            raise HeaderError(f"tensor {name[:80]!r} has an invalid shape")
        if len(offsets) != 2 or not all(type(o) is int for o in offsets) or not 0 <= offsets[0] <= offsets[1]:
            raise HeaderError(f"tensor {name[:80]!r} has invalid data_offsets")
        if offsets[1] > data_size:
            raise HeaderError(f"tensor {name[:80]!r} data runs past the end of the file")
        elements = 1
        for d in shape:
            elements *= d
        params += elements
        dtypes.add(dtype[:16])
        count += 1
    return SafetensorsHeader(n, count, params, tuple(sorted(dtypes)), metadata)


#: Chat templates longer than this are not read (real ones are a few KB; the largest under 100 KB).
MAX_GGUF_TEMPLATE = 1024 * 1024
#: Metadata keys holding Jinja chat templates: ``tokenizer.chat_template`` and its named variants.
GGUF_TEMPLATE_PREFIX = "tokenizer.chat_template"


@dataclass
class GgufHeader:
    """What a GGUF header declares, with the metadata keys worth inventorying.

    ``templates`` holds every chat template (``tokenizer.chat_template`` and the named
    ``tokenizer.chat_template.<name>`` variants, each occurrence, in file order) for analysis;
    ``oversized_templates`` the ones over :data:`MAX_GGUF_TEMPLATE` bytes, left unread.
    ``kv_end`` is the offset just past the metadata when it was read completely.
    """

    version: int
    tensor_count: int
    kv_count: int
    metadata: dict[str, JSON] = field(default_factory=dict)
    complete: bool = True
    templates: list[tuple[str, str]] = field(default_factory=list)
    oversized_templates: list[tuple[str, int]] = field(default_factory=list)
    duplicate_keys: list[str] = field(default_factory=list)
    alignment: int = 32
    kv_end: int | None = None


#: GGUF keys kept (others are walked over). ``{arch}.context_length`` is matched by suffix.
GGUF_KEYS = frozenset(
    {
        "general.name", "general.architecture", "general.license", "general.file_type", "general.basename",
        "general.size_label", "general.finetune", "general.quantized_by", "general.organization",
        "general.version", "general.base_model.0.name", "general.base_model.0.repo_url", "general.source.url",
        "general.license.name", "general.quantization_version", "tokenizer.ggml.model",
    }
)  # fmt: skip
_GGUF_FIXED = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_GGUF_STRUCT = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_GGUF_STRING, _GGUF_ARRAY = 8, 9


class _Cursor:
    """Bounded sequential reads over a file: every read is checked against the size and budget."""

    def __init__(self, fh: BinaryIO, size: int, budget: int) -> None:
        self.fh = fh
        self.size = size
        self.pos = 0
        self.budget = min(size, budget)
        self.values = MAX_GGUF_VALUES

    def read(self, n: int) -> bytes:
        if n < 0 or self.pos + n > self.size:
            raise HeaderError(f"truncated: wants {n} bytes at offset {self.pos} of {self.size}")
        if self.pos + n > self.budget:
            raise _BudgetSpent
        data = self.fh.read(n)
        if len(data) < n:
            raise HeaderError("truncated read")
        self.pos += n
        return data

    def skip(self, n: int) -> None:
        if n < 0 or self.pos + n > self.size:
            raise HeaderError(f"truncated: skips {n} bytes at offset {self.pos} of {self.size}")
        if self.pos + n > self.budget:
            raise _BudgetSpent
        self.fh.seek(n, 1)
        self.pos += n

    def unpack(self, fmt: str) -> int | float | bool:
        value: int | float | bool = struct.unpack(fmt, self.read(struct.calcsize(fmt)))[0]
        return value


class _BudgetSpent(Exception):
    pass


def read_gguf_header(fh: BinaryIO, size: int, budget: int = MAX_GGUF_METADATA) -> GgufHeader:
    """Parse a GGUF file's header and metadata (open at offset 0, ``size`` bytes long).

    Metadata beyond ``budget`` bytes is not read; the result is then marked incomplete.
    """
    cur = _Cursor(fh, size, budget)
    try:
        if cur.read(4) != GGUF_MAGIC:
            raise HeaderError("not GGUF: bad magic")
        version = int(cur.unpack("<I"))
        if version not in (1, 2, 3):
            raise HeaderError(f"unsupported GGUF version {version}")
        count_fmt = "<I" if version == 1 else "<Q"
        tensor_count = int(cur.unpack(count_fmt))
        kv_count = int(cur.unpack(count_fmt))
    except _BudgetSpent as exc:
        raise HeaderError("truncated GGUF header") from exc
    if tensor_count > 10_000_000 or kv_count > 10_000_000:
        raise GgufOversized(f"implausible counts: {tensor_count} tensors, {kv_count} metadata entries")
    header = GgufHeader(version, tensor_count, kv_count)
    seen: set[str] = set()
    try:
        for _ in range(kv_count):
            key = _gguf_string(cur, version, limit=65_536).decode("utf-8", "replace")
            if key in seen:
                if len(header.duplicate_keys) < 100:
                    header.duplicate_keys.append(key[:200])
            else:
                seen.add(key)
            vtype = int(cur.unpack("<I"))
            if key.startswith(GGUF_TEMPLATE_PREFIX) and vtype == _GGUF_STRING:
                _gguf_template(cur, version, key, header)
                continue
            if key == "general.alignment" and vtype in _GGUF_FIXED and vtype not in (6, 7, 12):
                header.alignment = int(cur.unpack(_GGUF_STRUCT[vtype]))
                continue
            wanted = key in GGUF_KEYS or key.endswith(".context_length")
            value = _gguf_value(cur, version, vtype, keep=wanted, depth=0)
            if not wanted or value is None:
                continue
            if key == "tokenizer.chat_template" and isinstance(value, str):
                header.metadata["tokenizer.chat_template.sha256"] = hashlib.sha256(value.encode()).hexdigest()
                header.metadata["tokenizer.chat_template.length"] = len(value)
            elif key.endswith(".context_length"):
                header.metadata["context_length"] = value
            else:
                header.metadata[key] = value[:MAX_TEXT] if isinstance(value, str) else value
        header.kv_end = cur.pos
    except _BudgetSpent:
        header.complete = False
    return header


def _gguf_template(cur: _Cursor, version: int, key: str, header: GgufHeader) -> None:
    cur.values -= 1
    if cur.values < 0:
        raise _BudgetSpent
    n = int(cur.unpack("<I" if version == 1 else "<Q"))
    if n > cur.size:
        raise GgufOversized(f"string of {n} bytes is longer than the file")
    if n > MAX_GGUF_TEMPLATE:
        cur.skip(n)
        header.oversized_templates.append((key[:200], n))
        return
    text = cur.read(n).decode("utf-8", "replace")
    header.templates.append((key[:200], text))
    if key == GGUF_TEMPLATE_PREFIX:
        header.metadata["tokenizer.chat_template.sha256"] = hashlib.sha256(text.encode()).hexdigest()
        header.metadata["tokenizer.chat_template.length"] = len(text)


def _gguf_string(cur: _Cursor, version: int, limit: int) -> bytes:
    n = int(cur.unpack("<I" if version == 1 else "<Q"))
    if n > limit:
        raise GgufOversized(f"string of {n} bytes exceeds {limit}")
    return cur.read(n)


def _gguf_value(cur: _Cursor, version: int, vtype: int, *, keep: bool, depth: int) -> JSON:
    cur.values -= 1
    if cur.values < 0:
        raise _BudgetSpent
    if vtype in _GGUF_FIXED:
        if keep:
            return cur.unpack(_GGUF_STRUCT[vtype])
        cur.skip(_GGUF_FIXED[vtype])
        return None
    if vtype == _GGUF_STRING:
        n = int(cur.unpack("<I" if version == 1 else "<Q"))
        if n > cur.size:
            raise GgufOversized(f"string of {n} bytes is longer than the file")
        if keep and n <= 1024 * 1024:
            return cur.read(n).decode("utf-8", "replace")
        cur.skip(n)
        return None
    if vtype == _GGUF_ARRAY:
        if depth > 3:
            raise HeaderError("arrays nested too deep")
        item_type = int(cur.unpack("<I"))
        count = int(cur.unpack("<I" if version == 1 else "<Q"))
        if item_type in _GGUF_FIXED:
            if _GGUF_FIXED[item_type] * count > cur.size:
                raise GgufOversized(f"array of {count} items is longer than the file")
            cur.skip(_GGUF_FIXED[item_type] * count)
            return None
        if item_type not in (_GGUF_STRING, _GGUF_ARRAY):
            raise HeaderError(f"unknown array item type {item_type}")
        if count > cur.size:
            raise GgufOversized(f"array of {count} items is longer than the file")
        for _ in range(count):
            _gguf_value(cur, version, item_type, keep=False, depth=depth + 1)
        return None
    raise HeaderError(f"unknown metadata value type {vtype}")


_NPY_DESCR = re.compile(rb"'descr'\s*:\s*(.+?),\s*'fortran_order'", re.DOTALL)


def npy_has_objects(head: bytes) -> bool:
    """Whether a ``.npy`` header declares an object dtype (its data is a pickle)."""
    if not head.startswith(NPY_MAGIC) or len(head) < 10:
        raise HeaderError("not a NumPy array file")
    major = head[6]
    if major == 1:
        (n,) = struct.unpack("<H", head[8:10])
        start = 10
    elif major in (2, 3):
        if len(head) < 12:
            raise HeaderError("truncated NumPy header")
        (n,) = struct.unpack("<I", head[8:12])
        start = 12
    else:
        raise HeaderError(f"unknown NumPy format version {major}")
    text = head[start : start + n]
    m = _NPY_DESCR.search(text)
    if m is None:
        raise HeaderError("NumPy header has no dtype")
    descr = m.group(1)
    return bool(re.search(rb"'[|<>=]?O\d*'", descr))


def onnx_summary(head: bytes) -> dict[str, JSON]:
    """ir_version, producer and domain from the first top-level fields of an ONNX ModelProto."""
    out: dict[str, JSON] = {}
    i, n = 0, len(head)
    names = {1: "ir_version", 2: "producer_name", 3: "producer_version", 4: "domain", 5: "model_version"}
    try:
        while i < n and len(out) < 5:
            tag, i = _varint(head, i)
            field_no, wire = tag >> 3, tag & 7
            if wire == 0:
                value, i = _varint(head, i)
                if field_no in names:
                    out[names[field_no]] = value
            elif wire == 2:
                length, i = _varint(head, i)
                if i + length > n:
                    break
                if field_no in names:
                    out[names[field_no]] = head[i : i + length].decode("utf-8", "replace")[:200]
                elif field_no >= 7:
                    # The graph (field 7) follows; producer fields come before it.
                    break
                i += length
            else:
                break
    except HeaderError:
        pass
    if "ir_version" not in out:
        raise HeaderError("not an ONNX model: no ir_version field first")
    return out


def _varint(data: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while i < len(data):
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, i
        shift += 7
        if shift > 63:
            break
    raise HeaderError("bad varint")


def sniff(head: bytes) -> str | None:
    """The container format ``head`` (a file's first bytes) starts with, or None."""
    if head.startswith(GGUF_MAGIC):
        return "gguf"
    if head.startswith(HDF5_MAGIC):
        return "hdf5"
    if head.startswith(ZIP_MAGIC):
        return "zip"
    if head.startswith(NPY_MAGIC):
        return "npy"
    if head[:4] in GGML_MAGICS:
        return "ggml"
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return "pickle"
    if head.startswith(LFS_POINTER):
        return "lfs-pointer"
    if len(head) >= 10 and head[8:10] == b'{"':
        (n,) = struct.unpack("<Q", head[:8])
        if n <= MAX_SAFETENSORS_HEADER:
            return "safetensors"
    if len(head) >= 8 and head[4:8] == b"TFL3":
        return "tflite"
    return None


def parse_lfs_pointer(text: bytes) -> tuple[str | None, int | None]:
    """The sha256 oid and size a Git LFS pointer file names."""
    oid = re.search(rb"^oid sha256:([0-9a-f]{64})\s*$", text, re.MULTILINE)
    size = re.search(rb"^size (\d{1,20})\s*$", text, re.MULTILINE)
    return (oid.group(1).decode() if oid else None, int(size.group(1)) if size else None)


# --- GGUF tensor infos -------------------------------------------------------------------------------

#: ggml tensor types: id -> (name, elements per block, bytes per block), as ``ggml.h`` numbers them.
GGML_TYPES: dict[int, tuple[str, int, int]] = {
    0: ("F32", 1, 4), 1: ("F16", 1, 2), 2: ("Q4_0", 32, 18), 3: ("Q4_1", 32, 20), 6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24), 8: ("Q8_0", 32, 34), 9: ("Q8_1", 32, 40), 10: ("Q2_K", 256, 84),
    11: ("Q3_K", 256, 110), 12: ("Q4_K", 256, 144), 13: ("Q5_K", 256, 176), 14: ("Q6_K", 256, 210),
    15: ("Q8_K", 256, 292), 16: ("IQ2_XXS", 256, 66), 17: ("IQ2_XS", 256, 74), 18: ("IQ3_XXS", 256, 98),
    19: ("IQ1_S", 256, 50), 20: ("IQ4_NL", 32, 18), 21: ("IQ3_S", 256, 110), 22: ("IQ2_S", 256, 82),
    23: ("IQ4_XS", 256, 136), 24: ("I8", 1, 1), 25: ("I16", 1, 2), 26: ("I32", 1, 4), 27: ("I64", 1, 8),
    28: ("F64", 1, 8), 29: ("IQ1_M", 256, 56), 30: ("BF16", 1, 2), 34: ("TQ1_0", 256, 54),
    35: ("TQ2_0", 256, 66), 39: ("MXFP4", 32, 17), 40: ("NVFP4", 64, 36), 41: ("Q1_0", 128, 18),
}  # fmt: skip
#: llama.cpp refuses tensor names of this many bytes or more, and tensors of more dimensions.
GGML_MAX_NAME = 64
GGML_MAX_DIMS = 4
MAX_GGUF_TENSORS = 1_000_000


@dataclass
class GgufTensors:
    """What a GGUF file's tensor infos declare, and the structural problems llama.cpp refuses."""

    count: int = 0
    types: dict[str, int] = field(default_factory=dict)
    parameter_count: int = 0
    data_offset: int = 0
    problems: list[str] = field(default_factory=list)


def read_gguf_tensor_infos(fh: BinaryIO, size: int, header: GgufHeader) -> GgufTensors:
    """Read the tensor infos that follow the metadata :func:`read_gguf_header` read completely.

    ``fh`` must be where that reader left it (at ``header.kv_end``). Tensor data is never read:
    only each tensor's name, shape, type and offset, checked as llama.cpp checks them (name length,
    dimensions, block alignment of the first dimension, offset alignment, data inside the file).
    Raises :class:`HeaderError` when the infos are truncated or over the bounds.
    """
    if header.kv_end is None:
        raise HeaderError("GGUF metadata was not read completely")
    if header.tensor_count > MAX_GGUF_TENSORS:
        raise GgufOversized(f"{header.tensor_count} tensors is over the {MAX_GGUF_TENSORS} bound")
    cur = _Cursor(fh, size, size)
    cur.pos = header.kv_end
    out = GgufTensors()
    align = header.alignment
    if align <= 0 or align & (align - 1):
        out.problems.append(f"general.alignment {align} is not a power of two")
        align = 32
    names: set[str] = set()
    extents: list[tuple[str, int, int]] = []
    count_fmt = "<I" if header.version == 1 else "<Q"
    try:
        for _ in range(header.tensor_count):
            raw = _gguf_string(cur, header.version, limit=65_536)
            name = raw.decode("utf-8", "replace")
            n_dims = int(cur.unpack("<I"))
            if n_dims > GGML_MAX_DIMS:
                out.problems.append(f"tensor {name[:80]!r} has {n_dims} dimensions")
                break
            dims = [int(cur.unpack(count_fmt)) for _ in range(n_dims)]
            ttype = int(cur.unpack("<I"))
            offset = int(cur.unpack("<Q"))
            out.count += 1
            if len(raw) >= GGML_MAX_NAME and len(out.problems) < 20:
                out.problems.append(f"tensor name {name[:80]!r} is {len(raw)} bytes (llama.cpp allows 63)")
            if name in names and len(out.problems) < 20:
                out.problems.append(f"duplicate tensor name {name[:80]!r}")
            names.add(name)
            elements = 1
            for d in dims:
                elements *= d
            if elements >= 2**63:
                raise GgufOversized(f"tensor {name[:80]!r} declares {elements} elements")
            out.parameter_count += elements
            info = GGML_TYPES.get(ttype)
            tname = info[0] if info else f"type{ttype}"
            out.types[tname] = out.types.get(tname, 0) + 1
            if offset % align and len(out.problems) < 20:
                out.problems.append(f"tensor {name[:80]!r} offset {offset} is not a multiple of {align}")
            if info is None:
                continue
            _, block, block_bytes = info
            if dims and dims[0] % block and len(out.problems) < 20:
                out.problems.append(f"tensor {name[:80]!r} row of {dims[0]} is not a multiple of {block}")
                continue
            extents.append((name, offset, elements // block * block_bytes))
    except _BudgetSpent as exc:  # the budget is the file size: only reached by a read past the end
        raise HeaderError("truncated tensor infos") from exc
    out.data_offset = -(-cur.pos // align) * align
    room = size - out.data_offset
    for name, offset, nbytes in extents:
        if offset + nbytes > room:
            out.problems.append(f"tensor {name[:80]!r} data runs past the end of the file")
            break
    return out


# --- protobuf wire format ----------------------------------------------------------------------------


class ProtoError(HeaderError):
    """Protobuf wire data is truncated or malformed."""


class ProtoBound(ProtoError):
    """Protobuf wire data is over a bound (fields walked, nesting, a string's length)."""


#: Protobuf wire types.
WIRE_VARINT, WIRE_I64, WIRE_LEN, WIRE_SGROUP, WIRE_EGROUP, WIRE_I32 = 0, 1, 2, 3, 4, 5


class ProtoReader:
    """Sequential, bounded reads of protobuf wire format from a stream, never the whole file.

    The stream is read through a small buffer; values the caller skips (tensor payloads) are
    skipped with a relative seek when the stream can seek, so the bytes read stay near the size of
    the message structure. ``fh`` is positioned where the ``size``-byte message starts. Every read
    is checked against the end of the enclosing message; every problem raises :class:`ProtoError`.

    Parsing follows the protobuf library: a field whose wire type is not the one its number expects
    is an unknown field (skipped), groups are skipped, singular scalars take the last occurrence and
    a message field that occurs twice is merged, so walking every occurrence sees what a loader sees.
    """

    CHUNK = 1 << 16

    def __init__(self, fh: BinaryIO, size: int, *, max_fields: int = 20_000_000) -> None:
        self._fh = fh
        self.size = size
        self._buf = b""
        self._i = 0
        self._start = 0
        self.fields_left = max_fields
        self.bytes_read = 0
        try:
            self._seekable = bool(fh.seekable())
        except (AttributeError, OSError, ValueError):
            self._seekable = False

    @property
    def pos(self) -> int:
        """Offset of the next byte, from the start of the message."""
        return self._start + self._i

    def _fill(self, n: int) -> None:
        avail = len(self._buf) - self._i
        if avail >= n:
            return
        if self.pos + n > self.size:
            raise ProtoError(f"truncated: {n} bytes wanted at offset {self.pos} of {self.size}")
        want = min(max(n - avail, self.CHUNK), self.size - self._start - len(self._buf))
        try:
            data = self._fh.read(want)
        except (OSError, ValueError, EOFError) as exc:
            raise ProtoError(f"read failed: {type(exc).__name__}") from exc
        self.bytes_read += len(data)
        self._buf = self._buf[self._i :] + data
        self._start += self._i
        self._i = 0
        if len(self._buf) < n:
            raise ProtoError("truncated read")

    def varint(self) -> int:
        """A base-128 varint (at most 10 bytes), reduced to 64 bits as protobuf does."""
        if len(self._buf) - self._i < 10:
            self._fill(min(10, self.size - self.pos))
        buf, i = self._buf, self._i
        end = min(len(buf), i + 10)
        result = shift = 0
        while i < end:
            b = buf[i]
            i += 1
            result |= (b & 0x7F) << shift
            if b < 0x80:
                self._i = i
                return result & 0xFFFFFFFFFFFFFFFF
            shift += 7
        raise ProtoError(f"bad varint at offset {self.pos}")

    def tag(self) -> tuple[int, int]:
        """The next field number and wire type."""
        self.fields_left -= 1
        if self.fields_left < 0:
            raise ProtoBound("too many protobuf fields")
        key = self.varint()
        number, wire = key >> 3, key & 7
        if number == 0 or number >= 1 << 29 or wire in (6, 7):
            raise ProtoError(f"invalid field key {key} at offset {self.pos}")
        return number, wire

    def read(self, n: int) -> bytes:
        self._fill(n)
        data = self._buf[self._i : self._i + n]
        self._i += n
        return data

    def skip(self, n: int) -> None:
        if n < 0 or self.pos + n > self.size:
            raise ProtoError(f"truncated: skips {n} bytes at offset {self.pos} of {self.size}")
        avail = len(self._buf) - self._i
        if n <= avail:
            self._i += n
            return
        rest = n - avail
        self._start += len(self._buf)
        self._buf, self._i = b"", 0
        try:
            if self._seekable:
                self._fh.seek(rest, 1)
            else:
                left = rest
                while left:
                    chunk = self._fh.read(min(left, 1 << 20))
                    if not chunk:
                        raise ProtoError("truncated read")
                    self.bytes_read += len(chunk)
                    left -= len(chunk)
        except (OSError, ValueError, EOFError) as exc:
            raise ProtoError(f"seek failed: {type(exc).__name__}") from exc
        self._start += rest

    def end_of(self, end: int) -> int:
        """Read a length prefix; the end offset of the length-delimited value, within ``end``."""
        n = self.varint()
        stop = self.pos + n
        if stop > end:
            raise ProtoError(f"a {n}-byte field at offset {self.pos} runs past its message")
        return stop

    def text(self, end: int, limit: int) -> str | None:
        """A length-delimited string, or None (skipped) when longer than ``limit`` bytes."""
        stop = self.end_of(end)
        n = stop - self.pos
        if n > limit:
            self.skip(n)
            return None
        return self.read(n).decode("utf-8", "replace")

    def skip_value(self, number: int, wire: int, end: int, depth: int = 0) -> None:
        """Skip the value of a field the caller does not want."""
        if wire == WIRE_VARINT:
            self.varint()
        elif wire == WIRE_I64:
            self.skip(8)
        elif wire == WIRE_I32:
            self.skip(4)
        elif wire == WIRE_LEN:
            stop = self.end_of(end)
            self.skip(stop - self.pos)
        elif wire == WIRE_SGROUP:
            if depth > 64:
                raise ProtoBound("groups nested too deep")
            while True:
                if self.pos >= end:
                    raise ProtoError("unterminated group")
                inner, inner_wire = self.tag()
                if inner_wire == WIRE_EGROUP:
                    if inner != number:
                        raise ProtoError("mismatched end of group")
                    break
                self.skip_value(inner, inner_wire, end, depth + 1)
        else:
            raise ProtoError(f"unexpected end of group at offset {self.pos}")
        if self.pos > end:
            raise ProtoError("field runs past its message")

    def check_end(self, end: int) -> None:
        if self.pos != end:
            raise ProtoError(f"message ends at {self.pos}, expected {end}")
