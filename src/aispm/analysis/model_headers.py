"""Readers for the headers of model weight files: safetensors, GGUF, NumPy, ONNX, plus magic sniffing.

Only headers are read, with every length checked against the file size and a hard budget, and
nothing is ever deserialized (no pickle, no framework loader). Every malformed input raises
:class:`HeaderError` and nothing else, which the fuzz tests hold these readers to.
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


@dataclass
class GgufHeader:
    """What a GGUF header declares, with the metadata keys worth inventorying."""

    version: int
    tensor_count: int
    kv_count: int
    metadata: dict[str, JSON] = field(default_factory=dict)
    complete: bool = True


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
        raise HeaderError(f"implausible counts: {tensor_count} tensors, {kv_count} metadata entries")
    header = GgufHeader(version, tensor_count, kv_count)
    try:
        for _ in range(kv_count):
            key = _gguf_string(cur, version, limit=65_536).decode("utf-8", "replace")
            vtype = int(cur.unpack("<I"))
            wanted = key in GGUF_KEYS or key.endswith(".context_length") or key == "tokenizer.chat_template"
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
    except _BudgetSpent:
        header.complete = False
    return header


def _gguf_string(cur: _Cursor, version: int, limit: int) -> bytes:
    n = int(cur.unpack("<I" if version == 1 else "<Q"))
    if n > limit:
        raise HeaderError(f"string of {n} bytes exceeds {limit}")
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
            raise HeaderError(f"string of {n} bytes is longer than the file")
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
            cur.skip(_GGUF_FIXED[item_type] * count)
            return None
        if item_type not in (_GGUF_STRING, _GGUF_ARRAY):
            raise HeaderError(f"unknown array item type {item_type}")
        if count > cur.size:
            raise HeaderError(f"array of {count} items is longer than the file")
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
