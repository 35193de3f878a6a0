"""The static safety scan of one model file: the container router with every format analyser.

:func:`scan_model_file` is what the model-file collector (and the benchmarks) call. It wires the
format analysers (safetensors, GGUF, ONNX, Keras, TensorFlow SavedModel) into the container
layer's registry, each imported only when a file of its format is first met, so that scanning
pickles never pays for Jinja2, h5py or the protobuf readers.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import BinaryIO

from aispm.analysis import containers
from aispm.analysis.artifact_io import DEFAULT_ARTIFACT_LIMITS, ArtifactLimits
from aispm.analysis.artifact_report import ArtifactReport, FormatResult

#: Format -> (module, function) of its analyser, imported the first time such a file is met.
_ANALYSERS: dict[str, tuple[str, str]] = {
    "safetensors": ("aispm.analysis.safetensors_check", "analyze_safetensors"),
    "gguf": ("aispm.analysis.gguf_template", "analyze_gguf"),
    "onnx": ("aispm.analysis.onnx_model", "analyze_onnx"),
    "keras": ("aispm.analysis.keras_model", "analyze_keras_zip"),
    "keras-h5": ("aispm.analysis.keras_model", "analyze_keras_h5"),
    "tensorflow-savedmodel": ("aispm.analysis.tf_savedmodel", "analyze_saved_model"),
}


def _lazy(fmt: str) -> containers.FormatAnalyser:
    """An analyser for ``fmt`` that imports the real one on first call and then steps aside."""

    def analyse(fh: BinaryIO, size: int, member: str | None) -> FormatResult:
        module, name = _ANALYSERS[fmt]
        fn: containers.FormatAnalyser = getattr(importlib.import_module(module), name)
        containers.FORMAT_ANALYSERS[fmt] = fn  # later files call it directly
        return fn(fh, size, member)

    return analyse


def register_format_analysers() -> None:
    """Fill the container layer's format registry (idempotent). Each analyser's module (Jinja2,
    h5py, the protobuf readers) is imported only when a file of its format is first met."""
    for fmt in _ANALYSERS:
        containers.FORMAT_ANALYSERS.setdefault(fmt, _lazy(fmt))


def scan_model_file(path: Path, *, limits: ArtifactLimits = DEFAULT_ARTIFACT_LIMITS) -> ArtifactReport | None:
    """The verdict on ``path`` by content (None when it is not a model file or a container of one).

    Never raises for bad input and never executes or deserializes anything.
    """
    register_format_analysers()
    return containers.scan_artifact(path, limits=limits)
