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
    WIRE_LEN,
    WIRE_VARINT,
    GgufHeader,
    GgufOversized,
    HeaderError,
    ProtoBound,
    ProtoError,
    ProtoReader,
    npy_has_objects,
    onnx_summary,
    read_gguf_header,
    read_gguf_tensor_infos,
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


# --- GGUF: chat templates, duplicates, tensor infos ---


def test_gguf_templates_and_tensor_infos(tmp_path: Path) -> None:
    path = tmp_path / "t.gguf"
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_chat_template(
        [{"name": "default", "template": "{{ a }}"}, {"name": "tool_use", "template": "{{ b }}"}]
    )
    w.add_custom_alignment(64)
    w.add_tensor("w", np.ones((4, 64), dtype=np.float32))
    w.add_tensor("b", np.ones((64,), dtype=np.float16))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    data = path.read_bytes()
    fh = io.BytesIO(data)
    h = read_gguf_header(fh, len(data))
    assert sorted(h.templates) == [
        ("tokenizer.chat_template", "{{ a }}"),
        ("tokenizer.chat_template.tool_use", "{{ b }}"),
    ]
    assert h.metadata["tokenizer.chat_template.length"] == 7
    assert (h.alignment, h.duplicate_keys, h.oversized_templates) == (64, [], [])
    assert h.kv_end == fh.tell()
    t = read_gguf_tensor_infos(fh, len(data), h)
    assert (t.count, t.types, t.parameter_count, t.problems) == (2, {"F32": 1, "F16": 1}, 320, [])
    assert t.data_offset % 64 == 0


def test_gguf_oversized_is_a_header_error() -> None:
    huge = b"GGUF" + struct.pack("<IQQ", 3, 1, 2**40)
    with pytest.raises(GgufOversized):
        read_gguf_header(io.BytesIO(huge), len(huge))
    assert issubclass(GgufOversized, HeaderError)
    h = GgufHeader(3, 1, 0)
    with pytest.raises(HeaderError, match="not read completely"):
        read_gguf_tensor_infos(io.BytesIO(b""), 0, h)


# --- protobuf wire reader ---


def _reader(data: bytes, fh: io.BytesIO | None = None) -> ProtoReader:
    return ProtoReader(fh or io.BytesIO(data), len(data))


def test_proto_varints() -> None:
    r = _reader(b"\x00\x7f\x80\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01")
    assert [r.varint(), r.varint(), r.varint(), r.varint()] == [0, 127, 128, 2**64 - 1]
    assert r.pos == 14
    with pytest.raises(ProtoError, match="varint"):
        _reader(b"\xff" * 11).varint()
    with pytest.raises(ProtoError):
        _reader(b"\x80").varint()


def test_proto_tags_and_values() -> None:
    # field 1 varint 150, field 2 "hi", field 3 fixed64, field 4 group {field 1 varint 1}, field 5 fixed32
    data = (
        b"\x08\x96\x01" + b"\x12\x02hi" + b"\x19" + b"\x00" * 8 + b"\x23\x08\x01\x24" + b"\x2d" + b"\x00" * 4
    )
    r = _reader(data)
    assert r.tag() == (1, WIRE_VARINT) and r.varint() == 150
    assert r.tag() == (2, WIRE_LEN) and r.text(len(data), 10) == "hi"
    for _ in range(3):
        number, wire = r.tag()
        r.skip_value(number, wire, len(data))
    r.check_end(len(data))
    assert _reader(b"\x12\x05hello").tag() == (2, WIRE_LEN)
    r = _reader(b"\x12\x05hello")
    r.tag()
    assert r.text(7, 3) is None and r.pos == 7  # over the limit: skipped
    for bad in (
        b"\x00",
        b"\x0e",
        b"\x0f",
        b"\x24",
        b"\x23\x08\x01\x2c",
    ):  # field 0, wire 6/7, stray/mismatched end
        r = _reader(bad)
        with pytest.raises(ProtoError):
            number, wire = r.tag()
            r.skip_value(number, wire, len(bad))


def test_proto_lengths_are_checked_against_the_message() -> None:
    r = _reader(b"\x12\x09abc")
    r.tag()
    with pytest.raises(ProtoError, match="runs past"):
        r.end_of(5)
    r = _reader(b"\x12\x03abc")
    r.tag()
    with pytest.raises(ProtoError, match="ends at"):
        r.skip_value(2, WIRE_LEN, 5)
        r.check_end(4)


def test_proto_skip_seeks_over_payloads() -> None:
    payload = b"\x00" * 1_000_000
    data = b"\x4a" + b"\xc0\x84\x3d" + payload + b"\x08\x05"  # field 9 bytes (1e6), then field 1 varint 5
    r = _reader(data)
    number, wire = r.tag()
    r.skip_value(number, wire, len(data))
    assert r.tag() == (1, WIRE_VARINT) and r.varint() == 5
    assert r.bytes_read < 100_000

    class Pipe(io.BytesIO):
        def seekable(self) -> bool:
            return False

    r = ProtoReader(Pipe(data), len(data))
    number, wire = r.tag()
    r.skip_value(number, wire, len(data))
    assert r.varint() == 8 and r.varint() == 5  # read through, not sought


def test_proto_field_budget() -> None:
    data = b"\x08\x01" * 100
    r = ProtoReader(io.BytesIO(data), len(data), max_fields=10)
    with pytest.raises(ProtoBound):
        while r.pos < len(data):
            r.tag()
            r.varint()


def _walk_any(r: ProtoReader, end: int, depth: int) -> None:
    while r.pos < end:
        number, wire = r.tag()
        if wire == WIRE_LEN and depth < 5:
            stop = r.end_of(end)
            with contextlib.suppress(ProtoError):
                sub = ProtoReader(io.BytesIO(r.read(stop - r.pos)), stop - r.pos + 0)
                _walk_any(sub, sub.size, depth + 1)
        else:
            r.skip_value(number, wire, end)
    r.check_end(end)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_proto_reader(data: bytes) -> None:
    with contextlib.suppress(ProtoError):
        _walk_any(_reader(data), len(data), 0)
