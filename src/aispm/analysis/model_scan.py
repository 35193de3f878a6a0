"""The static safety scan of one model file: the container router with every format analyser.

:func:`scan_model_file` is what the model-file collector (and the benchmarks) call. It wires the
format analysers (safetensors, GGUF, ONNX, Keras, TensorFlow SavedModel) into the container
layer's registry on first use, so that importing aispm stays cheap (Jinja2 and the protobuf
readers are loaded only when a model file is met).
"""

from __future__ import annotations

from pathlib import Path

from aispm.analysis import containers
from aispm.analysis.artifact_io import DEFAULT_ARTIFACT_LIMITS, ArtifactLimits
from aispm.analysis.artifact_report import ArtifactReport


def register_format_analysers() -> None:
    """Fill the container layer's format registry (idempotent)."""
    if containers.FORMAT_ANALYSERS:
        return
    from aispm.analysis.gguf_template import analyze_gguf
    from aispm.analysis.keras_model import analyze_keras_h5, analyze_keras_zip
    from aispm.analysis.onnx_model import analyze_onnx
    from aispm.analysis.safetensors_check import analyze_safetensors
    from aispm.analysis.tf_savedmodel import analyze_saved_model

    containers.FORMAT_ANALYSERS.update(
        {
            "safetensors": analyze_safetensors,
            "gguf": analyze_gguf,
            "onnx": analyze_onnx,
            "keras": analyze_keras_zip,
            "keras-h5": analyze_keras_h5,
            "tensorflow-savedmodel": analyze_saved_model,
        }
    )


def scan_model_file(path: Path, *, limits: ArtifactLimits = DEFAULT_ARTIFACT_LIMITS) -> ArtifactReport | None:
    """The verdict on ``path`` by content (None when it is not a model file or a container of one).

    Never raises for bad input and never executes or deserializes anything.
    """
    register_format_analysers()
    return containers.scan_artifact(path, limits=limits)
