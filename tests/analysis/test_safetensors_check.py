"""safetensors structure checks against files the real library writes, crafted headers and the loader.

The Rust loader shipped in the ``safetensors`` package is the oracle: whatever it refuses must come
out ``safetensors.malformed`` and whatever it accepts must not (hypothesis checks both ways).
"""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

import numpy as np
import pytest
import safetensors
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.numpy import save, save_file

from aispm.analysis import safetensors_check
from aispm.analysis.artifact_report import FormatResult, Verdict
from aispm.analysis.safetensors_check import DTYPE_BITS, MAX_HEADER, analyze_safetensors


def analyze(data: bytes, member: str | None = None) -> FormatResult:
    return analyze_safetensors(io.BytesIO(data), len(data), member)


def rules(result: FormatResult) -> list[str]:
    return [i.rule for i in result.issues]


def loader_accepts(data: bytes) -> bool:
    try:
        safetensors.deserialize(data)
    except Exception:
        return False
    return True


def raw(header: bytes, data: bytes = b"") -> bytes:
    return struct.pack("<Q", len(header)) + header + data


T4 = b'{"t":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}'


def with_extra(value: bytes) -> bytes:
    """T4 and its 4 data bytes, with an extra (ignored) field ``x`` in the tensor info."""
    return raw(b'{"t":{"dtype":"U8","shape":[4],"data_offsets":[0,4],"x":' + value + b"}}", b"abcd")


# --- real files ---


def test_numpy_file_with_metadata_is_safe(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    tensors = {
        "embed.weight": np.zeros((10, 4), dtype=np.float16),
        "lm_head.weight": np.zeros((10, 4), dtype=np.float32),
        "step": np.zeros((), dtype=np.int64),
        "empty": np.zeros((0, 3), dtype=np.uint8),
    }
    save_file(tensors, path, metadata={"format": "pt", "author": "test"})
    data = path.read_bytes()
    result = analyze(data)
    assert result.issues == ()
    assert result.facts["tensor_count"] == 4
    assert result.facts["parameter_count"] == 40 + 40 + 1 + 0
    assert result.facts["dtypes"] == {"F16": 1, "F32": 1, "I64": 1, "U8": 1}
    assert result.facts["metadata_keys"] == ["author", "format"]
    assert result.facts["metadata_format"] == "pt"


def test_torch_file_is_safe() -> None:
    torch = pytest.importorskip("torch")
    from safetensors.torch import save as torch_save

    data = torch_save(
        {"w": torch.ones(3, 5, dtype=torch.bfloat16), "b": torch.zeros(5), "i": torch.arange(4)},
        metadata={"format": "pt"},
    )
    result = analyze(data)
    assert result.issues == ()
    assert result.facts["dtypes"] == {"BF16": 1, "F32": 1, "I64": 1}
    assert result.facts["parameter_count"] == 15 + 5 + 4


def test_no_tensors_at_all() -> None:
    data = save({})
    assert analyze(data).issues == ()
    assert analyze(data).facts["tensor_count"] == 0


def test_only_the_header_is_read() -> None:
    data = save({"big": np.zeros((256, 1024), dtype=np.float32)})

    class Counting(io.BytesIO):
        read_total = 0

        def read(self, n: int | None = -1) -> bytes:
            out = super().read(n)
            Counting.read_total += len(out)
            return out

    fh = Counting(data)
    assert analyze_safetensors(fh, len(data), None).issues == ()
    assert Counting.read_total < 200 < len(data)


# --- what the loader refuses ---


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("too small", b"\x01\x00", "too small"),
        ("length past end", struct.pack("<Q", 1000) + b"{}", "past the end"),
        ("over the loader's limit", struct.pack("<Q", MAX_HEADER + 1) + b"{}" * 10, "limit"),
        ("not utf-8", raw(b'{"\xff":1}'), "UTF-8"),
        ("not json", raw(b"{xx}"), "JSON"),
        ("json array", raw(b"[]"), "object"),
        ("trailing nul", raw(T4 + b"\x00", b"abcd"), "JSON"),
        ("byte order mark", raw(b"\xef\xbb\xbf" + T4, b"abcd"), "JSON"),
        ("trailing data", raw(T4, b"abcde"), "not fully covered"),
        ("short data", raw(T4, b"abc"), "not fully covered"),
        (
            "gap before first tensor",
            raw(b'{"t":{"dtype":"U8","shape":[4],"data_offsets":[1,5]}}', b"abcde"),
            "offset",
        ),
        (
            "overlap",
            raw(
                b'{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},'
                b'"b":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}',
                b"abcd",
            ),
            "offset",
        ),
        (
            "end before start",
            raw(b'{"t":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}', b"abcd"),
            "offset",
        ),
        (
            "shape and bytes disagree",
            raw(b'{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', b"abcd"),
            "bytes",
        ),
        (
            "unknown dtype",
            raw(b'{"t":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}', b"a" * 16),
            "dtype",
        ),
        (
            "lower-case dtype",
            raw(b'{"t":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}}', b"abcd"),
            "dtype",
        ),
        ("missing shape", raw(b'{"t":{"dtype":"U8","data_offsets":[0,4]}}', b"abcd"), "shape"),
        (
            "float offset",
            raw(b'{"t":{"dtype":"U8","shape":[4],"data_offsets":[0,4.0]}}', b"abcd"),
            "unsigned",
        ),
        ("minus zero", raw(b'{"t":{"dtype":"U8","shape":[4],"data_offsets":[-0,4]}}', b"abcd"), "unsigned"),
        ("negative dim", raw(b'{"t":{"dtype":"U8","shape":[-4],"data_offsets":[0,4]}}', b"abcd"), "unsigned"),
        ("bool dim", raw(b'{"t":{"dtype":"U8","shape":[true],"data_offsets":[0,1]}}', b"a"), "unsigned"),
        ("three offsets", raw(b'{"t":{"dtype":"U8","shape":[4],"data_offsets":[0,4,4]}}', b"abcd"), "two"),
        (
            "dim past 64 bits",
            raw(b'{"t":{"dtype":"U8","shape":[18446744073709551616],"data_offsets":[0,4]}}'),
            "unsigned",
        ),
        (
            "element count overflows",
            raw(b'{"t":{"dtype":"U64","shape":[4294967296,4294967296],"data_offsets":[0,4]}}', b"abcd"),
            "overflow",
        ),
        (
            "sub-byte misaligned",
            raw(b'{"t":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}', b"ab"),
            "byte boundary",
        ),
        ("metadata not strings", raw(b'{"__metadata__":{"a":1}}'), "not a string"),
        ("metadata a list", raw(b'{"__metadata__":[]}'), "not an object"),
        ("metadata twice", raw(b'{"__metadata__":{},"__metadata__":{}}'), "duplicate"),
        (
            "field twice",
            raw(b'{"t":{"dtype":"U8","dtype":"I8","shape":[4],"data_offsets":[0,4]}}', b"abcd"),
            "duplicate",
        ),
        ("NaN", with_extra(b"NaN"), "NaN"),
        (
            "infinite float",
            with_extra(b"1e999"),
            "range",
        ),
        (
            "lone surrogate",
            raw(b'{"\\ud800":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}', b"abcd"),
            "surrogate",
        ),
        (
            "nesting past serde's limit",
            with_extra(b"[" * 126 + b"]" * 126),
            "recursion",
        ),
        ("list form of 4", raw(b'{"t":["U8",[4],[0,4],5]}', b"abcd"), "not 3"),
        ("tensor is a string", raw(b'{"t":"U8"}'), "not an object"),
    ],
)
def test_loader_refusals_are_malformed(name: str, data: bytes, reason: str) -> None:
    assert not loader_accepts(data), name
    result = analyze(data, "outer.zip!m.safetensors")
    assert rules(result) == ["safetensors.malformed"], name
    issue = result.issues[0]
    assert issue.verdict is Verdict.UNSCANNABLE
    assert issue.member == "outer.zip!m.safetensors"
    assert reason.lower() in issue.message.lower(), issue.message


def test_truncated_real_file_is_malformed(tmp_path: Path) -> None:
    data = save({"w": np.ones((4, 4), dtype=np.float32)})
    for cut in (0, 4, 8, 20, len(data) - 1):
        assert rules(analyze(data[:cut])) == ["safetensors.malformed"], cut


# --- what the loader accepts ---


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("leading whitespace", raw(b" \t\n" + T4, b"abcd")),
        ("trailing padding", raw(T4 + b"       ", b"abcd")),
        ("offsets out of name order", raw(
            b'{"b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]},"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}',
            b"abcd",
        )),
        ("several empty tensors at one offset", raw(
            b'{"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"F32","shape":[0,5],"data_offsets":[0,0]}}'
        )),
        ("scalar", raw(b'{"t":{"dtype":"F64","shape":[],"data_offsets":[0,8]}}', b"a" * 8)),
        ("sub-byte aligned", raw(b'{"t":{"dtype":"F4","shape":[4],"data_offsets":[0,2]}}', b"ab")),
        ("fp6", raw(b'{"t":{"dtype":"F6_E2M3","shape":[4],"data_offsets":[0,3]}}', b"abc")),
        ("unknown extra fields", with_extra(b'[1,{"y":null}]')),
        ("null metadata", raw(b'{"__metadata__":null}')),
        ("big integer in an extra field", with_extra(b"123456789012345678901234567890")),
        ("nesting just under serde's limit", with_extra(b"[" * 125 + b"]" * 125)),
    ],
)  # fmt: skip
def test_loader_accepts_and_so_do_we(name: str, data: bytes) -> None:
    assert loader_accepts(data), name
    assert "safetensors.malformed" not in rules(analyze(data)), name


def test_every_dtype_the_loader_knows() -> None:
    for dtype, bits in DTYPE_BITS.items():
        n = 8
        nbytes = n * bits // 8
        header = json.dumps({"t": {"dtype": dtype, "shape": [n], "data_offsets": [0, nbytes]}}).encode()
        data = raw(header, b"\0" * nbytes)
        assert loader_accepts(data), dtype
        assert analyze(data).issues == (), dtype


# --- accepted, but a parser differential ---


def test_duplicate_tensor_name_is_suspicious() -> None:
    # The loader keeps the last "t" (4 bytes) and so does Python's json; a first-wins reader sees 2 bytes.
    data = raw(
        b'{"t":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"t":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}',
        b"abcd",
    )
    assert loader_accepts(data)
    result = analyze(data)
    assert rules(result) == ["safetensors.duplicate-key"]
    assert result.issues[0].verdict is Verdict.SUSPICIOUS
    assert result.issues[0].detail["keys"] == ["t"]
    assert result.facts["tensor_count"] == 1


def test_duplicate_metadata_key_is_suspicious() -> None:
    data = raw(b'{"__metadata__":{"format":"pt","format":"np"}}')
    assert loader_accepts(data)
    assert rules(analyze(data)) == ["safetensors.duplicate-key"]


def test_list_form_tensor_is_suspicious() -> None:
    data = raw(b'{"t":["U8",[4],[0,4]]}', b"abcd")
    assert loader_accepts(data)
    result = analyze(data)
    assert rules(result) == ["safetensors.nonstandard-header"]
    assert result.facts["tensor_count"] == 1


def test_oversized_metadata_is_suspicious(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safetensors_check, "MAX_METADATA_BYTES", 1000)
    data = save({"w": np.zeros(2, dtype=np.float32)}, metadata={"notes": "x" * 2000})
    assert rules(analyze(data)) == ["safetensors.oversized-metadata"]
    small = save({"w": np.zeros(2, dtype=np.float32)}, metadata={"notes": "x" * 500})
    assert analyze(small).issues == ()


# --- fuzz: the loader is the oracle ---

_DTYPES = [*DTYPE_BITS, "F128", "f32", "Q4"]


@st.composite
def headers(draw: st.DrawFn) -> bytes:
    """A header that is usually valid, with one kind of damage now and then."""
    n = draw(st.integers(min_value=0, max_value=4))
    tensors: dict[str, object] = {}
    offset = 0
    for i in range(n):
        dtype = draw(st.sampled_from(_DTYPES))
        shape = draw(st.lists(st.integers(min_value=0, max_value=5), max_size=3))
        elements = 1
        for d in shape:
            elements *= d
        bits = DTYPE_BITS.get(dtype, 8)
        nbytes = elements * bits // 8
        end = offset + nbytes + draw(st.sampled_from([0, 0, 0, 0, 1, -1]))
        info: object = {"dtype": dtype, "shape": shape, "data_offsets": [offset, end]}
        if draw(st.integers(0, 9)) == 0:
            info = [dtype, shape, [offset, end]]
        elif draw(st.integers(0, 9)) == 0:
            info = {"dtype": dtype, "shape": shape}
        tensors[f"t{i}" if draw(st.integers(0, 9)) else "t0"] = info
        offset = max(end, offset)
    if draw(st.booleans()):
        tensors["__metadata__"] = draw(
            st.one_of(
                st.none(),
                st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=3),
                st.dictionaries(st.text(max_size=4), st.integers(), min_size=1, max_size=2),
            )
        )
    body = json.dumps(tensors).encode()
    if draw(st.integers(0, 9)) == 0:
        body = b" " * draw(st.integers(0, 3)) + body + b" " * draw(st.integers(0, 3))
    slack = draw(st.sampled_from([0, 0, 0, 1, -1]))
    data = b"\0" * max(0, offset + slack)
    return raw(body, data)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(headers())
def test_fuzz_agrees_with_the_loader(data: bytes) -> None:
    malformed = "safetensors.malformed" in rules(analyze(data))
    assert malformed == (not loader_accepts(data))


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_arbitrary_bytes_never_crash(data: bytes) -> None:
    result = analyze(data)
    malformed = "safetensors.malformed" in rules(result)
    assert malformed == (not loader_accepts(data))


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=200), st.binary(min_size=1, max_size=4))
def test_fuzz_mutated_real_file(offset: int, patch: bytes) -> None:
    mutated = bytearray(_SAMPLE)
    end = min(len(mutated), offset + len(patch))
    mutated[offset:end] = patch[: end - offset]
    data = bytes(mutated)
    assert ("safetensors.malformed" in rules(analyze(data))) == (not loader_accepts(data))


_SAMPLE = save(
    {"a": np.zeros((2, 3), dtype=np.float16), "b": np.zeros(4, dtype=np.int32)}, metadata={"k": "v"}
)
