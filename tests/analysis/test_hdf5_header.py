"""Root-attribute names of HDF5 files written by h5py, read without h5py; unsure means None."""

from __future__ import annotations

import io
import json
from pathlib import Path

import h5py
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from aispm.analysis.hdf5_header import root_attribute_names
from aispm.analysis.keras_model import analyze_keras_h5


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


def test_dense_attribute_storage_is_unsure(tmp_path: Path) -> None:
    # The newest file format tracks attributes in dense storage, which this reader does not follow.
    path = write(tmp_path / "l.h5", {"model_config": "{}"}, libver="latest")
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
