"""Header readers for model files, on files written by the real libraries, and fuzzed."""

from __future__ import annotations

import contextlib
import io
import json
import struct
from pathlib import Path

import gguf
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from safetensors.numpy import save_file

from aispm.analysis.model_headers import (
    HeaderError,
    npy_has_objects,
    onnx_summary,
    read_gguf_header,
    read_safetensors_header,
    sniff,
)


def st_bytes(tmp_path: Path, metadata: dict[str, str] | None = None) -> bytes:
    path = tmp_path / "m.safetensors"
    save_file(
        {"w": np.zeros((3, 4), dtype=np.float32), "b": np.zeros((4,), dtype=np.float16)},
        path,
        metadata=metadata,
    )
    return path.read_bytes()


def read_st(data: bytes) -> object:
    return read_safetensors_header(io.BytesIO(data), len(data))


def test_safetensors_header(tmp_path: Path) -> None:
    data = st_bytes(tmp_path, {"format": "pt"})
    h = read_safetensors_header(io.BytesIO(data), len(data))
    assert (h.tensor_count, h.parameter_count, h.dtypes) == (2, 16, ("F16", "F32"))
    assert h.metadata == {"format": "pt"}


def test_safetensors_truncated_and_lying(tmp_path: Path) -> None:
    data = st_bytes(tmp_path)
    with pytest.raises(HeaderError, match="truncated"):
        read_st(data[:5])
    with pytest.raises(HeaderError, match="past the end"):
        read_st(data[:40])  # header length now claims more than the file holds
    with pytest.raises(HeaderError, match="exceeds"):
        read_st(struct.pack("<Q", 2**40) + b'{"a":1}')
    lying = struct.pack("<Q", 8) + b'{"a": 1}'
    with pytest.raises(HeaderError):
        read_st(lying)
    # Tensor data declared beyond the end of the file: a truncated download.
    with pytest.raises(HeaderError, match="data runs past"):
        read_st(data[:-8])
    with pytest.raises(HeaderError, match="not valid JSON"):
        read_st(struct.pack("<Q", 4) + b"{xx}")


def write_gguf(path: Path) -> None:
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("Tiny Llama")
    w.add_license("apache-2.0")
    w.add_context_length(2048)
    w.add_chat_template("{% for m in messages %}{{ m.content }}{% endfor %}")
    w.add_token_list([b"<s>", b"</s>", b"hello"])
    w.add_tensor("w", np.ones((4, 4), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def test_gguf_header(tmp_path: Path) -> None:
    path = tmp_path / "m.gguf"
    write_gguf(path)
    data = path.read_bytes()
    h = read_gguf_header(io.BytesIO(data), len(data))
    assert (h.version, h.tensor_count, h.complete) == (3, 1, True)
    assert h.metadata["general.name"] == "Tiny Llama"
    assert h.metadata["general.architecture"] == "llama"
    assert h.metadata["general.license"] == "apache-2.0"
    assert h.metadata["context_length"] == 2048
    assert h.metadata["tokenizer.chat_template.length"] == 50
    # Budget exhausted before the end of the metadata: partial, not an error.
    partial = read_gguf_header(io.BytesIO(data), len(data), budget=60)
    assert partial.complete is False


def test_gguf_broken(tmp_path: Path) -> None:
    path = tmp_path / "m.gguf"
    write_gguf(path)
    data = path.read_bytes()
    for bad in (b"GGUF", b"GGUF" + struct.pack("<I", 9) + b"\0" * 16, b"NOPE" + data[4:], data[:40]):
        with pytest.raises(HeaderError):
            read_gguf_header(io.BytesIO(bad), len(bad))
    huge = b"GGUF" + struct.pack("<IQQ", 3, 1, 2**40)
    with pytest.raises(HeaderError, match="implausible"):
        read_gguf_header(io.BytesIO(huge), len(huge))


def test_npy_object_dtype(tmp_path: Path) -> None:
    plain, objects = io.BytesIO(), io.BytesIO()
    np.save(plain, np.zeros(3))
    np.save(objects, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    assert npy_has_objects(plain.getvalue()[:256]) is False
    assert npy_has_objects(objects.getvalue()[:256]) is True
    with pytest.raises(HeaderError):
        npy_has_objects(b"\x93NUMPY\x09\x00")


def test_onnx_summary() -> None:
    # ir_version=8, producer_name="pytorch", producer_version="2.1", then the graph field.
    proto = b"\x08\x08" + b"\x12\x07pytorch" + b"\x1a\x032.1" + b"\x3a\x02\x00\x00"
    assert onnx_summary(proto) == {"ir_version": 8, "producer_name": "pytorch", "producer_version": "2.1"}
    with pytest.raises(HeaderError):
        onnx_summary(b"hello world")


def test_sniff() -> None:
    assert sniff(b"GGUF\x03\0\0\0") == "gguf"
    assert sniff(b"\x80\x04\x95") == "pickle"
    assert sniff(b"PK\x03\x04rest") == "zip"
    assert sniff(b"\x89HDF\r\n\x1a\n") == "hdf5"
    assert sniff(struct.pack("<Q", 100) + b'{"__metadata__"') == "safetensors"
    assert sniff(b"hello world, just text") is None


# --- fuzz: hostile bytes only ever raise HeaderError ------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=512))
def test_fuzz_safetensors_arbitrary_bytes(data: bytes) -> None:
    with contextlib.suppress(HeaderError):
        read_st(data)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.text(max_size=8),
        st.recursive(
            st.none() | st.integers() | st.text(max_size=5),
            lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=3), c, max_size=3),
            max_leaves=8,
        ),
        max_size=4,
    ),
    st.integers(min_value=0, max_value=64),
)
def test_fuzz_safetensors_structured_headers(header: dict[str, object], slack: int) -> None:  # fmt: skip
    body = json.dumps(header).encode()
    data = struct.pack("<Q", len(body)) + body + b"\0" * slack
    try:
        h = read_st(data)
    except HeaderError:
        return
    assert h.tensor_count >= 0  # type: ignore[attr-defined]


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=512))
def test_fuzz_gguf_arbitrary_bytes(data: bytes) -> None:
    with contextlib.suppress(HeaderError):
        read_gguf_header(io.BytesIO(b"GGUF" + data), len(data) + 4)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=4, max_value=400), st.binary(min_size=1, max_size=8), st.data())
def test_fuzz_gguf_mutated_real_file(offset: int, patch: bytes, data: st.DataObject) -> None:
    mutated = bytearray(_GGUF_SAMPLE)
    end = min(len(mutated), offset + len(patch))
    mutated[offset:end] = patch[: end - offset]
    cut = data.draw(st.integers(min_value=0, max_value=len(mutated)))
    buf = io.BytesIO(bytes(mutated[:cut]))
    with contextlib.suppress(HeaderError):
        read_gguf_header(buf, cut)


def _gguf_sample() -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "s.gguf"
        write_gguf(path)
        return path.read_bytes()


_GGUF_SAMPLE = _gguf_sample()
