"""Coverage-guided fuzzing targets for aispm's parsers of hostile bytes (run with atheris).

Each target takes raw bytes and must return without raising, hanging or crashing the process. A
scanner bug that the last-line-of-defence handlers turn into an ``unscannable`` issue (rule
``container.error``, "walker error") is also reported as a failure here: it is safe for users,
but it is still a bug to fix.

    pip install atheris
    python fuzz/make_seeds.py
    python fuzz/harnesses.py model_scan -max_total_time=300 -timeout=20 fuzz/corpus/model_scan

The targets are importable without atheris: ``tests/test_fuzz_harnesses.py`` runs each one on a
seed corpus so that they do not rot.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import sys
from collections.abc import Callable

from aispm.analysis import containers, hdf5_isolated
from aispm.analysis.artifact_io import DEFAULT_ARTIFACT_LIMITS, BytesSource
from aispm.analysis.artifact_report import Issue, Verdict
from aispm.analysis.hdf5_header import Oversized, RootAttributes, root_attributes
from aispm.analysis.keras_model import analyze_keras_config
from aispm.analysis.model_scan import register_format_analysers
from aispm.analysis.nemo_config import analyze_nemo_config
from aispm.analysis.pickle_vm import scan_pickle_bytes
from aispm.model import Severity

__all__ = ["TARGETS", "Issue", "ScannerBug", "Severity", "Verdict"]

#: Messages that mean a scanner caught its own exception rather than judging the input.
_BUG_MARKERS = ("walker error", "walker failed", " failed: ", "scan failed")


class ScannerBug(AssertionError):
    """A target reported an internal error for this input."""


def _check(issues: tuple[Issue, ...] | list[Issue]) -> None:
    for issue in issues:
        if issue.rule == "container.error" or any(m in issue.message for m in _BUG_MARKERS):
            raise ScannerBug(f"{issue.rule}: {issue.message}")


def _no_child(*_: object, **__: object) -> RootAttributes:
    raise hdf5_isolated.IsolatedReadError("not run while fuzzing")


def model_scan(data: bytes) -> None:
    """Bytes routed by content as a model file: every container and format analyser."""
    register_format_analysers()
    scan, _found = containers._run(lambda _budget: BytesSource(data), DEFAULT_ARTIFACT_LIMITS, "fuzz")
    _check(scan.issues)


def pickle(data: bytes) -> None:
    """The pickle opcode walker alone."""
    _check(scan_pickle_bytes(data).issues)


def hdf5(data: bytes) -> None:
    """The static HDF5 root-attribute reader (never h5py)."""
    found = root_attributes(io.BytesIO(data), len(data), {"model_config": 1 << 20, "keras_version": 64})
    if found is not None:
        for value in found.values.values():
            assert value is None or isinstance(value, (str, Oversized))


def keras_config(data: bytes) -> None:
    """A Keras model configuration, as JSON text."""
    import json

    try:
        config = json.loads(data.decode("utf-8", "replace"))
    except (ValueError, RecursionError):
        return
    analyze_keras_config(config, member=None)


def nemo(data: bytes) -> None:
    """A NeMo ``model_config.yaml``: Hydra targets, interpolations, aliases."""
    _check(list(analyze_nemo_config(data, None).issues))


#: File names the ``collectors`` target gives its input, chosen by the first byte.
COLLECTOR_NAMES = (
    "model.pt", "model.pkl", "model.keras", "model.h5", "model.safetensors", "model.gguf", "model.onnx",
    "model.npz", "model.npy", "model.joblib", "weights.bin", "config.json", "requirements.txt",
    "package.json", "pyproject.toml", "app.py", "notebook.ipynb", "values.yaml", ".env", "main.tf",
    "mcp.json", "claude_desktop_config.json", "model.sig", "Modelfile", "data.jsonl", "blob",
)  # fmt: skip


def collectors(data: bytes) -> None:
    """Every built-in collector that wants the file, on the input written under a chosen name: only
    a ``CollectorError`` (a recorded, described failure) may come out."""
    import tempfile
    from pathlib import Path

    from aispm.collectors.base import CollectorError, SourceFile, load_collectors, scope_of

    if not data:
        return
    name = COLLECTOR_NAMES[data[0] % len(COLLECTOR_NAMES)]
    with tempfile.TemporaryDirectory(prefix="aispm-fuzz-") as folder:
        path = Path(folder) / "models" / name
        path.parent.mkdir()
        path.write_bytes(data[1:])
        rel = f"models/{name}"
        for collector in load_collectors():
            file = SourceFile(path, rel, len(data) - 1, scope_of(rel))
            if not collector.wants(file):
                continue
            with contextlib.suppress(CollectorError):
                list(collector.collect(file))


TARGETS: dict[str, Callable[[bytes], None]] = {
    "model_scan": model_scan,
    "pickle": pickle,
    "hdf5": hdf5,
    "keras_config": keras_config,
    "nemo": nemo,
    "collectors": collectors,
}


def main() -> None:  # pragma: no cover - needs atheris
    atheris = importlib.import_module("atheris")

    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        raise SystemExit(f"usage: harnesses.py {{{','.join(TARGETS)}}} [libFuzzer options] [corpus...]")
    target = TARGETS[sys.argv.pop(1)]
    # HDF5 files the static reader is unsure of would go to h5py in a child process (a process
    # start each, under its own time limit; tested in the suite): the fuzzer stays in process.
    hdf5_isolated.read_root_attributes = _no_child
    atheris.instrument_all()  # every function loaded so far, aispm's parsers included
    atheris.Setup(sys.argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
