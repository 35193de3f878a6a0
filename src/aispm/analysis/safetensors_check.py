"""Structure checks of a safetensors file, exactly as the safetensors loader validates it.

The header is read (8-byte little-endian length, then at most 100,000,000 bytes of JSON), never
the tensor data. What the Rust ``safetensors`` crate refuses (``HeaderTooLarge``,
``InvalidHeaderLength``, invalid UTF-8 or JSON, unknown dtypes, ``InvalidOffset``,
``TensorInvalidInfo``, ``ValidationOverflow``, ``MetadataIncompleteBuffer``...) becomes a
``safetensors.malformed`` issue (unscannable: no loader will read it, so nothing can be claimed
about it). What the loader accepts but other readers may read differently is suspicious:
duplicate keys (the loader keeps the last), tensors written as ``[dtype, shape, offsets]`` lists.

The JSON is parsed the way ``serde_json`` parses it where Python's ``json`` would differ:
``-0``, floats, ``NaN``, integers past 64 bits, lone surrogates and nesting deeper than serde's
recursion limit are all refused.
"""

from __future__ import annotations

import json
import struct
from typing import BinaryIO

from aispm.analysis.artifact_report import FormatResult, Issue, Verdict
from aispm.model import JSON, Severity

#: The crate's ``MAX_HEADER_SIZE`` (decimal, not MiB).
MAX_HEADER = 100_000_000
#: Metadata above this is reported (real files carry a few KB; kohya LoRA training notes some 100 KB).
MAX_METADATA_BYTES = 8 * 1024 * 1024
#: serde_json's recursion limit: 128 nested arrays/objects fail, 127 pass.
MAX_JSON_DEPTH = 127
#: Element size in bits of every dtype the crate knows.
DTYPE_BITS: dict[str, int] = {
    "BOOL": 8, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8,
    "F8_E8M0": 8, "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8, "I16": 16, "U16": 16, "F16": 16, "BF16": 16,
    "I32": 32, "U32": 32, "F32": 32, "C64": 64, "F64": 64, "I64": 64, "U64": 64,
}  # fmt: skip
_USIZE_MAX = 2**64 - 1
_FACT_KEYS = 32


class _Malformed(Exception):
    """The loader refuses the header; the message says why."""


class _NegInt(int):
    """A JSON integer written with a minus sign (serde reads ``-0`` as a float, not a usize)."""


def _parse_int(text: str) -> int:
    return _NegInt(int(text)) if text.startswith("-") else int(text)


def _parse_constant(text: str) -> float:
    raise _Malformed(f"invalid JSON in header: {text} is not JSON")


def _parse_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _Malformed(f"invalid JSON in header: number out of range {text[:40]}")
    return value


def _is_usize(value: object) -> bool:
    return type(value) is int and 0 <= value <= _USIZE_MAX


class _Pairs:
    """JSON object as parsed: the pairs in order, so duplicate keys are seen."""

    __slots__ = ("pairs",)

    def __init__(self, pairs: list[tuple[str, object]]) -> None:
        self.pairs = pairs

    def as_dict(self) -> dict[str, object]:
        return dict(self.pairs)

    def duplicates(self) -> list[str]:
        seen: set[str] = set()
        dup: list[str] = []
        for key, _ in self.pairs:
            if key in seen:
                dup.append(key)
            seen.add(key)
        return dup


def _check_tree(root: object) -> None:
    """Refuse what serde_json refuses: nesting past its limit, lone surrogates in strings."""
    stack: list[tuple[object, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, _Pairs | list):
            if depth > MAX_JSON_DEPTH:
                raise _Malformed("invalid JSON in header: recursion limit exceeded")
            if isinstance(node, _Pairs):
                for key, value in node.pairs:
                    _check_string(key)
                    stack.append((value, depth + 1))
            else:
                stack.extend((v, depth + 1) for v in node)
        elif isinstance(node, str):
            _check_string(node)


def _check_string(text: str) -> None:
    if not text.isascii() and any("\ud800" <= c <= "\udfff" for c in text):
        raise _Malformed("invalid JSON in header: lone surrogate in a string")


def _tensor_info(name: str, info: object) -> tuple[str, list[int], tuple[int, int], bool]:
    """dtype, shape, offsets and whether the info was written in the list form."""
    listed = False
    if isinstance(info, _Pairs):
        dup = info.duplicates()
        fields = info.as_dict()
        for key in ("dtype", "shape", "data_offsets"):
            if key in dup:
                raise _Malformed(f"tensor {name[:80]!r}: duplicate field {key}")
            if key not in fields:
                raise _Malformed(f"tensor {name[:80]!r}: missing field {key}")
        dtype, shape, offsets = fields["dtype"], fields["shape"], fields["data_offsets"]
    elif isinstance(info, list):
        if len(info) != 3:
            raise _Malformed(f"tensor {name[:80]!r}: a list of {len(info)} items, not 3")
        dtype, shape, offsets = info
        listed = True
    else:
        raise _Malformed(f"tensor {name[:80]!r} is not an object")
    if not isinstance(dtype, str) or dtype not in DTYPE_BITS:
        raise _Malformed(f"tensor {name[:80]!r}: unknown dtype {str(dtype)[:20]!r}")
    if not isinstance(shape, list) or not all(_is_usize(d) for d in shape):
        raise _Malformed(f"tensor {name[:80]!r}: shape is not a list of unsigned integers")
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(_is_usize(o) for o in offsets):
        raise _Malformed(f"tensor {name[:80]!r}: data_offsets is not two unsigned integers")
    return dtype, list(shape), (offsets[0], offsets[1]), listed


def _validate(header: _Pairs, data_size: int) -> tuple[dict[str, JSON], list[Issue], list[str]]:
    """Facts, suspicious issues and the metadata keys, or :class:`_Malformed`."""
    issues: list[Issue] = []
    dup = header.duplicates()
    if "__metadata__" in dup:
        raise _Malformed("duplicate field __metadata__")
    metadata: dict[str, str] = {}
    meta_bytes = 0
    tensors: list[tuple[str, str, list[int], tuple[int, int]]] = []
    listed: list[str] = []
    for name, info in header.as_dict().items():
        if name == "__metadata__":
            if info is None:
                continue
            if not isinstance(info, _Pairs):
                raise _Malformed("__metadata__ is not an object of strings")
            for key, value in info.pairs:
                if not isinstance(value, str):
                    raise _Malformed(f"__metadata__ value of {key[:80]!r} is not a string")
                meta_bytes += len(key) + len(value)
            metadata = info.as_dict()  # type: ignore[assignment]
            dup.extend(f"__metadata__.{k}" for k in info.duplicates())
            continue
        dtype, shape, offsets, as_list = _tensor_info(name, info)
        if as_list:
            listed.append(name)
        tensors.append((name, dtype, shape, offsets))
    tensors.sort(key=lambda t: t[3])
    start = 0
    params = 0
    dtypes: dict[str, int] = {}
    for name, dtype, shape, (s, e) in tensors:
        if s != start or e < s:
            raise _Malformed(f"invalid offset for tensor {name[:80]!r}")
        start = e
        elements = 1
        for d in shape:
            elements *= d
            if elements > _USIZE_MAX:
                raise _Malformed("overflow computing buffer size from shape and/or element type")
        bits = elements * DTYPE_BITS[dtype]
        if bits > _USIZE_MAX:
            raise _Malformed("overflow computing buffer size from shape and/or element type")
        if bits % 8:
            raise _Malformed(f"tensor {name[:80]!r}: sub-byte data does not end on a byte boundary")
        if e - s != bits // 8:
            raise _Malformed(f"tensor {name[:80]!r}: {e - s} bytes for {elements} {dtype} elements")
        params += elements
        dtypes[dtype] = dtypes.get(dtype, 0) + 1
    if start != data_size:
        raise _Malformed(
            f"incomplete metadata, file not fully covered: tensors end at {start} of {data_size} data bytes"
        )
    if dup:
        issues.append(
            Issue(
                "safetensors.duplicate-key",
                Verdict.SUSPICIOUS,
                Severity.MEDIUM,
                f"the header repeats {len(dup)} key(s); the loader keeps the last, other readers may "
                "keep the first (a parser differential no writer produces)",
                detail={"keys": [k[:100] for k in dup[:10]]},
            )
        )
    if listed:
        issues.append(
            Issue(
                "safetensors.nonstandard-header",
                Verdict.SUSPICIOUS,
                Severity.MEDIUM,
                f"{len(listed)} tensor(s) are written as [dtype, shape, offsets] lists, which the Rust "
                "loader accepts and other readers refuse or misread; no writer produces this",
                detail={"tensors": [n[:100] for n in listed[:10]]},
            )
        )
    if meta_bytes > MAX_METADATA_BYTES:
        issues.append(
            Issue(
                "safetensors.oversized-metadata",
                Verdict.SUSPICIOUS,
                Severity.MEDIUM,
                f"__metadata__ holds {meta_bytes} bytes of text (over {MAX_METADATA_BYTES})",
                detail={"bytes": meta_bytes},
            )
        )
    facts: dict[str, JSON] = {
        "tensor_count": len(tensors),
        "parameter_count": params,
        "dtypes": dict(sorted(dtypes.items())),
    }
    if metadata:
        facts["metadata_keys"] = sorted(k[:100] for k in metadata)[:_FACT_KEYS]
        if "format" in metadata:
            facts["metadata_format"] = metadata["format"][:50]
    return facts, issues, list(metadata)


def analyze_safetensors(fh: BinaryIO, size: int, member: str | None) -> FormatResult:
    """Check a safetensors file of ``size`` bytes; ``fh`` is positioned at its first byte.

    Reads the 8-byte length and the header, nothing more.
    """

    def malformed(reason: str, **detail: JSON) -> FormatResult:
        return FormatResult(
            facts,
            (
                Issue(
                    "safetensors.malformed",
                    Verdict.UNSCANNABLE,
                    Severity.MEDIUM,
                    f"the safetensors loader refuses this file: {reason}",
                    member=member,
                    detail=detail,
                ),
            ),
        )

    facts: dict[str, JSON] = {}
    try:
        raw = fh.read(8)
    except (OSError, ValueError) as exc:
        return malformed(f"unreadable: {type(exc).__name__}")
    if size < 8 or len(raw) < 8:
        return malformed("header too small")
    (n,) = struct.unpack("<Q", raw)
    facts["header_length"] = n
    if n > MAX_HEADER:
        return malformed(f"header length {n} is over the loader's {MAX_HEADER}-byte limit")
    if n > size - 8:
        return malformed(f"header length {n} runs past the end of the {size}-byte file")
    try:
        data = fh.read(n)
    except (OSError, ValueError) as exc:
        return malformed(f"unreadable: {type(exc).__name__}")
    if len(data) < n:
        return malformed("truncated header")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return malformed("the header is not valid UTF-8")
    try:
        parsed = json.loads(
            text,
            object_pairs_hook=_Pairs,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
        )
        if not isinstance(parsed, _Pairs):
            raise _Malformed("the header is not a JSON object")
        _check_tree(parsed)
        found, issues, _ = _validate(parsed, size - 8 - n)
    except _Malformed as exc:
        return malformed(str(exc))
    except RecursionError:
        return malformed("invalid JSON in header: recursion limit exceeded")
    except ValueError as exc:  # json.JSONDecodeError
        return malformed(f"invalid JSON in header: {str(exc)[:120]}")
    facts.update(found)
    return FormatResult(facts, tuple(_with_member(i, member) for i in issues))


def _with_member(issue: Issue, member: str | None) -> Issue:
    if member is None:
        return issue
    return Issue(issue.rule, issue.verdict, issue.severity, issue.message, member, issue.offset, issue.detail)
