"""Root attributes of HDF5 files written by h5py, read without h5py; unsure means None."""

from __future__ import annotations

import io
import json
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aispm.analysis.hdf5_header import Oversized, RootAttributes, root_attributes
from aispm.analysis.keras_model import analyze_keras_h5


def root_attribute_names(fh: io.BytesIO | io.BufferedReader, size: int) -> frozenset[str] | None:
    found = root_attributes(fh, size, {})
    return None if found is None else found.names


def names(path: Path) -> frozenset[str] | None:
    with open(path, "rb") as fh:
        return root_attribute_names(fh, path.stat().st_size)


def write(path: Path, attrs: dict[str, object], **kw: object) -> Path:
    with h5py.File(path, "w", **kw) as f:  # type: ignore[arg-type]
        f.create_dataset("data", data=np.arange(12, dtype=np.float32))
        for k, v in attrs.items():
            f.attrs[k] = v
    return path


def test_plain_data_file_lists_its_root_attributes(tmp_path: Path) -> None:
    path = write(tmp_path / "a.h5", {"note": "measurements", "units": "m"})
    assert names(path) == {"note", "units"}


def test_keras_configuration_attributes_are_seen(tmp_path: Path) -> None:
    config = json.dumps({"class_name": "Sequential", "config": {"layers": []}}).encode()
    path = write(tmp_path / "k.h5", {"keras_version": b"2.15.0", "model_config": config})
    assert names(path) == {"keras_version", "model_config"}


def test_many_attributes_spill_into_continuation_blocks(tmp_path: Path) -> None:
    attrs: dict[str, object] = {f"attr_{i}": "x" * 100 for i in range(40)}
    attrs["model_config"] = "{}"
    found = names(write(tmp_path / "m.h5", attrs))
    assert found is not None and "model_config" in found and len(found) == 41


def test_a_user_block_before_the_superblock(tmp_path: Path) -> None:
    path = write(tmp_path / "u.h5", {"model_config": "{}"}, userblock_size=512)
    assert names(path) == {"model_config"}


def test_newest_format_with_compact_attributes_is_read(tmp_path: Path) -> None:
    path = write(tmp_path / "l.h5", {"model_config": "{}"}, libver="latest")
    assert names(path) == {"model_config"}


def test_dense_attribute_storage_is_unsure(tmp_path: Path) -> None:
    # Past eight attributes the newest format moves them to a fractal heap, not followed here.
    attrs: dict[str, object] = {f"attr_{i}": i for i in range(12)}
    path = write(tmp_path / "d.h5", {**attrs, "model_config": "{}"}, libver="latest")
    assert names(path) is None


def test_not_hdf5_and_truncated_files_are_unsure(tmp_path: Path) -> None:
    assert root_attribute_names(io.BytesIO(b"not an hdf5 file" * 100), 1600) is None
    data = write(tmp_path / "t.h5", {"model_config": "{}"}).read_bytes()
    assert root_attribute_names(io.BytesIO(data[:200]), 200) is None


def test_plain_hdf5_is_judged_without_a_configuration(tmp_path: Path) -> None:
    data = write(tmp_path / "p.h5", {"note": "x"}).read_bytes()
    result = analyze_keras_h5(io.BytesIO(data), len(data), "p.h5")
    assert result.issues == () and result.facts["has_model_config"] is False


@settings(max_examples=200)
@given(st.data())
def test_mutated_files_never_raise(data: st.DataObject) -> None:
    base = _SAMPLE
    buf = bytearray(base)
    for _ in range(data.draw(st.integers(1, 12))):
        buf[data.draw(st.integers(0, len(buf) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(buf)))
    found = root_attribute_names(io.BytesIO(bytes(buf[:cut])), cut)
    assert found is None or isinstance(found, frozenset)


def _sample() -> bytes:
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.create_dataset("data", data=np.arange(4))
        f.attrs["model_config"] = "{}"
        f.attrs["keras_version"] = "2.15.0"
    return buf.getvalue()


_SAMPLE = _sample()


# --- attribute values ---------------------------------------------------------------------------

WANTED = {"model_config": 1 << 20, "training_config": 1 << 20, "keras_version": 64, "backend": 64}


def attributes(path: Path, wanted: dict[str, int] = WANTED) -> RootAttributes | None:
    with open(path, "rb") as fh:
        return root_attributes(fh, path.stat().st_size, wanted)


def h5py_values(path: Path, wanted: dict[str, int]) -> dict[str, object]:
    # What h5py itself reads from the same (benign, self-made) file, for comparison.
    with h5py.File(path, "r") as f:
        out: dict[str, object] = {}
        for name in wanted:
            if name in f.attrs:
                value = f.attrs[name]
                value = value.tolist() if hasattr(value, "tolist") else value
                if isinstance(value, list) and len(value) == 1:
                    value = value[0]
                out[name] = value.decode() if isinstance(value, bytes) else value
        return out


CONFIG = json.dumps({"class_name": "Sequential", "config": {"layers": [{"class_name": "Dense"}] * 50}})


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(CONFIG, id="str (variable length)"),
        pytest.param(CONFIG.encode(), id="bytes"),
        pytest.param(np.bytes_(CONFIG.encode()), id="numpy fixed length"),
        pytest.param(np.array([CONFIG.encode()]), id="one-element fixed array"),
        pytest.param(np.array([CONFIG], dtype=h5py.string_dtype()), id="one-element variable array"),
        pytest.param("", id="empty str"),
        pytest.param("ünïcødé ✓ " + CONFIG, id="utf-8"),
    ],
)
@pytest.mark.parametrize("libver", ["earliest", "v108"])
def test_string_values_read_as_h5py_reads_them(tmp_path: Path, value: object, libver: str) -> None:
    path = write(
        tmp_path / "v.h5", {"model_config": value, "keras_version": b"2.15.0"}, libver=(libver, "latest")
    )
    found = attributes(path)
    assert found is not None
    assert found.names == {"model_config", "keras_version"}
    assert dict(found.values) == h5py_values(path, WANTED)


def test_values_that_are_not_one_string_are_none(tmp_path: Path) -> None:
    path = write(
        tmp_path / "n.h5",
        {"model_config": 42, "training_config": np.array([b"a", b"b"]), "backend": np.arange(3.0)},
    )
    found = attributes(path)
    assert found is not None
    assert dict(found.values) == {"model_config": None, "training_config": None, "backend": None}


def test_values_over_the_bound_are_not_read(tmp_path: Path) -> None:
    path = write(tmp_path / "o.h5", {"model_config": CONFIG, "training_config": np.bytes_(CONFIG.encode())})
    found = attributes(path, {"model_config": 100, "training_config": 100})
    assert found is not None
    assert found.values == {"model_config": Oversized(len(CONFIG)), "training_config": Oversized(len(CONFIG))}


def test_only_wanted_values_are_read(tmp_path: Path) -> None:
    found = attributes(write(tmp_path / "w.h5", {"note": "x", "model_config": "{}"}), {"model_config": 10})
    assert found is not None and found.names == {"note", "model_config"}
    assert dict(found.values) == {"model_config": "{}"}


def test_many_values_in_one_global_heap(tmp_path: Path) -> None:
    attrs: dict[str, object] = {f"attr_{i}": f"value {i}" * 10 for i in range(60)}
    attrs["training_config"] = "{}"
    attrs["model_config"] = CONFIG
    found = attributes(write(tmp_path / "g.h5", attrs))
    assert found is not None
    assert dict(found.values) == {"model_config": CONFIG, "training_config": "{}"}


@settings(max_examples=300)
@given(st.data())
def test_mutated_values_never_raise(data: st.DataObject) -> None:
    buf = bytearray(_SAMPLE)
    for _ in range(data.draw(st.integers(1, 6))):
        buf[data.draw(st.integers(0, len(buf) - 1))] = data.draw(st.integers(0, 255))
    found = root_attributes(io.BytesIO(bytes(buf)), len(buf), WANTED)
    assert found is None or all(v is None or isinstance(v, (str, Oversized)) for v in found.values.values())
