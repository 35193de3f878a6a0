"""h5py isolated in a child process: what it reads, and what it cannot be made to do."""

from __future__ import annotations

import io
from pathlib import Path

import h5py
import pytest

from aispm.analysis import hdf5_isolated
from aispm.analysis.hdf5_header import Oversized, root_attributes


def dense_file(**attrs: object) -> bytes:
    """Attributes in dense storage (the newest format, many of them): the static reader is unsure."""
    buf = io.BytesIO()
    with h5py.File(buf, "w", libver="latest") as f:
        for i in range(12):
            f.attrs[f"note_{i}"] = i
        for k, v in attrs.items():
            f.attrs[k] = v
    data = buf.getvalue()
    assert root_attributes(io.BytesIO(data), len(data), {}) is None
    return data


def test_the_child_reads_names_values_and_bounds() -> None:
    data = dense_file(model_config='{"class_name": "Sequential"}', training_config="x" * 500, n=3)
    found = hdf5_isolated.read_root_attributes(
        io.BytesIO(data), len(data), {"model_config": 1000, "training_config": 100, "n": 10}
    )
    assert {"model_config", "training_config", "n", "note_0"} <= found.names
    assert found.values == {
        "model_config": '{"class_name": "Sequential"}',
        "training_config": Oversized(500),
        "n": None,
    }


def test_a_module_in_the_working_directory_cannot_stand_in_for_h5py(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A scanned tree may hold an ``h5py.py``; the child runs isolated, so it is never imported.
    canary = tmp_path / "imported"
    (tmp_path / "h5py.py").write_text(f"open({str(canary)!r}, 'w').close()\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    data = dense_file(model_config="{}")
    found = hdf5_isolated.read_root_attributes(io.BytesIO(data), len(data), {"model_config": 100})
    assert found.values == {"model_config": "{}"}
    assert not canary.exists()


def test_a_file_h5py_cannot_open_is_a_reason_not_a_crash() -> None:
    data = b"\x89HDF\r\n\x1a\n" + b"\xff" * 600
    with pytest.raises(hdf5_isolated.IsolatedReadError, match="not a readable HDF5 file"):
        hdf5_isolated.read_root_attributes(io.BytesIO(data), len(data), {"model_config": 10})


def test_a_member_too_large_to_copy_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hdf5_isolated, "MAX_ISOLATED_BYTES", 100)
    data = dense_file()
    with pytest.raises(hdf5_isolated.IsolatedReadError, match="over"):
        hdf5_isolated.read_root_attributes(io.BytesIO(data), len(data), {})
