"""Keras models: Lambda layers, custom objects and module references in the saved model config.

A Keras model file carries its architecture as JSON: ``config.json`` in a ``.keras`` zip, the
``model_config`` attribute of a legacy ``.h5`` file, the layer metadata of a Keras 2 SavedModel.
Loading it rebuilds every object the JSON names, so the JSON decides what code runs:

- ``keras.lambda-layer`` (critical): a ``Lambda`` layer holds marshalled Python bytecode
  (Keras 2 ``function: [code, defaults, closure]``, Keras 3 ``__lambda__``) or a reference to any
  function, which Keras calls with attacker-chosen arguments (CVE-2024-3660, CVE-2025-8747,
  CVE-2025-9905/9906). Nothing is decoded: the function is summarised (``module.name`` or
  "bytecode, N bytes").
- ``keras.external-module`` (malicious): a ``module`` (or Keras 2 Lambda module) that is ``os``,
  ``subprocess``, ``builtins`` and the like (CVE-2025-1550 imported any module named there).
- ``keras.unsafe-function`` (malicious): a Keras function that turns loading into code execution,
  file or network access (``enable_unsafe_deserialization``, ``load_model``, ``get_file``...),
  or a Keras 2 ``TFOpLambda`` calling ``tf.io.write_file``, ``tf.py_function``...
- ``keras.custom-object`` (suspicious): a class or function outside the Keras namespaces
  (``keras``, ``tf_keras``, ``keras_hub``, ``keras_nlp``, ``keras_cv``...): code the file needs
  from elsewhere.
- ``keras.external-file``: a lookup layer whose ``vocabulary`` is a path or URL (read at load,
  CVE-2025-12058), a ``TFSMLayer`` that loads another SavedModel.

The JSON is walked generically (every object with a ``class_name``, at any depth: Keras 2 and 3
layouts, nested Functional/Sequential models, wrappers, initializers, ``inbound_nodes``), bounded
in depth and nodes. The module denylist is a small local table (the pickle policy's is about
pickle globals; the names here are modules only).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping
from typing import Any, BinaryIO

from aispm.analysis.artifact_report import FormatResult, Issue, Verdict
from aispm.analysis.zip_reader import ZIPFILE_ERRORS

try:  # the pickle policy's denylist of dotted names (os.system, runpy._run_code...), when present
    from aispm.analysis.pickle_policy import denied as _pickle_denied
except ImportError:  # pragma: no cover - the local module table below still applies
    _pickle_denied = None  # type: ignore[assignment]
from aispm.analysis.onnx_model import escapes_model_dir
from aispm.model import JSON, Severity

#: Top-level packages whose classes Keras itself (or a Keras-team library) provides.
KNOWN_NAMESPACES = frozenset(
    {"keras", "tf_keras", "keras_nlp", "keras_hub", "keras_cv", "keras_rs", "keras_tuner"}
)
#: Fallback for modules the pickle denylist does not name: references to them execute code...
EXEC_MODULES = frozenset(
    {
        "os", "posix", "nt", "subprocess", "builtins", "__builtin__", "sys", "importlib", "runpy", "code",
        "codeop", "pty", "ctypes", "pickle", "_pickle", "marshal", "dill", "cloudpickle", "multiprocessing",
        "pdb", "bdb", "timeit", "cProfile", "profile", "pydoc", "pip", "setuptools", "distutils", "asyncio",
        "commands", "popen2",
    }
)  # fmt: skip
#: ...or reach files or the network.
IO_MODULES = frozenset(
    {
        "shutil", "tempfile", "socket", "ssl", "urllib", "urllib2", "http", "httplib", "requests", "ftplib",
        "smtplib", "telnetlib", "webbrowser", "sqlite3",
    }
)  # fmt: skip
#: Builtins that evaluate or open, named as Keras 3 ``builtins`` functions.
DANGEROUS_BUILTINS = frozenset(
    {"eval", "exec", "compile", "open", "__import__", "getattr", "setattr", "input", "breakpoint", "globals"}
)
#: Keras functions that load, download, write or switch safe mode off.
KERAS_GADGETS: dict[str, Severity] = {
    "enable_unsafe_deserialization": Severity.CRITICAL,
    "set_global_attribute": Severity.CRITICAL,
    "load_model": Severity.CRITICAL,
    "model_from_json": Severity.CRITICAL,
    "model_from_config": Severity.CRITICAL,
    "deserialize_keras_object": Severity.CRITICAL,
    "func_load": Severity.CRITICAL,
    "load_weights": Severity.HIGH,
    "get_file": Severity.HIGH,
    "save_model": Severity.HIGH,
    "save_weights": Severity.HIGH,
    "save_img": Severity.HIGH,
    "load_img": Severity.HIGH,
    "image_dataset_from_directory": Severity.HIGH,
    "text_dataset_from_directory": Severity.HIGH,
    "audio_dataset_from_directory": Severity.HIGH,
}
#: Keras 2 ``TFOpLambda`` functions (``tf.<symbol>``) that run Python or touch files.
TF_OP_GADGETS: dict[str, Severity] = {
    "py_function": Severity.CRITICAL,
    "numpy_function": Severity.CRITICAL,
    "compat.v1.py_func": Severity.CRITICAL,
    "io.read_file": Severity.HIGH,
    "io.write_file": Severity.HIGH,
    "io.matching_files": Severity.HIGH,
    "compat.v1.read_file": Severity.HIGH,
    "compat.v1.write_file": Severity.HIGH,
    "compat.v1.io.read_file": Severity.HIGH,
    "compat.v1.io.write_file": Severity.HIGH,
    "compat.v1.matching_files": Severity.HIGH,
}
_TF_OP_PREFIXES = ("io.gfile.", "compat.v1.gfile.", "data.", "summary.", "saved_model.", "keras.")
LOOKUP_LAYERS = frozenset({"StringLookup", "IntegerLookup", "TextVectorization", "IndexLookup"})
#: Members a ``.keras`` archive holds.
KERAS_MEMBERS = frozenset({"config.json", "metadata.json", "model.weights.h5", "model.weights.npz"})
_CODE_SUFFIXES = (".py", ".pyc", ".pkl", ".pickle", ".pt", ".pth", ".joblib", ".so", ".dll", ".dylib", ".sh")
MAX_DEPTH = 100
MAX_NODES = 2_000_000
MAX_CONFIG_BYTES = 64 * 1024 * 1024
MAX_MEMBERS = 10_000
_MAX_ISSUES = 200


def _root(module: str) -> str:
    return module.split(".", 1)[0]


def _known(module: str) -> bool:
    return _root(module) in KNOWN_NAMESPACES


def _b64_bytes(code: str) -> int:
    """Bytes a base64 string decodes to, counted without decoding it."""
    chars = sum(1 for c in code if not c.isspace())
    pad = len(code.rstrip()) - len(code.rstrip().rstrip("="))
    return max(0, chars * 3 // 4 - pad)


class _Walk:
    """Judges every serialized object of one config."""

    def __init__(self, member: str | None) -> None:
        self.member = member
        self.issues: list[Issue] = []
        self.layers = 0
        self.layer_classes: set[str] = set()
        self.handled: set[int] = set()

    def add(self, rule: str, verdict: Verdict, severity: Severity, message: str, **detail: JSON) -> None:
        if len(self.issues) < _MAX_ISSUES:
            self.issues.append(Issue(rule, verdict, severity, message, member=self.member, detail=detail))

    # --- one object ----------------------------------------------------------------------------------

    def check(self, obj: Mapping[str, Any], path: str) -> None:
        if id(obj) in self.handled:
            return
        class_name = obj.get("class_name")
        if not isinstance(class_name, str):
            return
        module = obj.get("module") if isinstance(obj.get("module"), str) else None
        registered = obj.get("registered_name") if isinstance(obj.get("registered_name"), str) else None
        config = obj.get("config")
        cfg = config if isinstance(config, Mapping) else {}
        if class_name == "Lambda" and (module is None or _known(module)):
            self._lambda(obj, cfg, path)
        elif class_name == "__lambda__":
            code = cfg.get("code") if isinstance(cfg, Mapping) else None
            size = _b64_bytes(code) if isinstance(code, str) else 0
            self.add(
                "keras.lambda-layer",
                Verdict.MALICIOUS,
                Severity.CRITICAL,
                f"a serialized Python lambda at {path} carries bytecode ({size} bytes) that loading runs",
                path=path,
                function=f"bytecode, {size} bytes",
            )
        elif class_name == "TFOpLambda":
            self._tf_op(cfg, path)
        elif class_name == "TFSMLayer":
            target = cfg.get("filepath")
            self.add(
                "keras.external-file",
                Verdict.MALICIOUS,
                Severity.HIGH,
                f"TFSMLayer at {path} loads and runs another SavedModel from {str(target)[:200]!r}",
                path=path,
                filepath=str(target)[:300],
            )
        if class_name in LOOKUP_LAYERS and isinstance(cfg.get("vocabulary"), str):
            self._vocabulary(cfg["vocabulary"], class_name, path)
        if class_name == "function" and isinstance(config, str):
            self._function_ref(module, config, registered, path)
        elif class_name.startswith("__") and class_name.endswith("__"):
            return  # Keras' own markers: __keras_tensor__, __tuple__, __numpy__, __bytes__...
        else:
            self._class_ref(module, class_name, registered, path)

    def _class_ref(self, module: str | None, class_name: str, registered: str | None, path: str) -> None:
        if module is not None and not _known(module):
            if self._external(module, class_name, path):
                return
            self.add(
                "keras.custom-object",
                Verdict.SUSPICIOUS,
                Severity.MEDIUM,
                f"{module}.{class_name} at {path} is not a Keras class: its code is not in the file",
                path=path,
                module=module[:200],
                class_name=class_name[:200],
                registered_name=(registered or "")[:200] or None,
            )
            return
        if module is not None and class_name in KERAS_GADGETS:
            self._gadget(f"{module}.{class_name}", class_name, path)
            return
        name = registered if registered and ">" in registered else class_name
        if ">" in name:
            package = name.split(">", 1)[0]
            if package not in KNOWN_NAMESPACES:
                self.add(
                    "keras.custom-object",
                    Verdict.SUSPICIOUS,
                    Severity.MEDIUM,
                    f"registered custom object {name[:200]!r} at {path}: its code is not in the file",
                    path=path,
                    registered_name=name[:200],
                )

    def _function_ref(self, module: str | None, name: str, registered: str | None, path: str) -> None:
        """``{"class_name": "function", "module": m, "config": name}``: a function looked up by name."""
        if self._dangerous_ref(module, name, path):
            return
        qualified = name if module in (None, "builtins") else f"{module}.{name}"
        if module in (None, "builtins") or not _known(module or ""):
            self.add(
                "keras.custom-object",
                Verdict.SUSPICIOUS,
                Severity.MEDIUM,
                f"function {qualified[:200]!r} at {path} is not from Keras: its code is not in the file",
                path=path,
                name=qualified[:200],
            )

    def _dangerous_ref(self, module: str | None, name: str, path: str) -> bool:
        """Report a function reference that is an attack (not merely custom); whether it was one."""
        base = name.split(">", 1)[-1]
        if module in (None, "builtins") and base in DANGEROUS_BUILTINS:
            self.add(
                "keras.external-module",
                Verdict.MALICIOUS,
                Severity.CRITICAL,
                f"function reference builtins.{base} at {path}",
                path=path,
                module="builtins",
                name=base[:200],
            )
            return True
        if module is not None and module != "builtins" and not _known(module):
            return self._external(module, name, path)
        if base in KERAS_GADGETS:
            self._gadget(name if module in (None, "builtins") else f"{module}.{name}", base, path)
            return True
        return False

    def _external(self, module: str, name: str, path: str) -> bool:
        ruling = _pickle_denied(f"{module}.{name}") if _pickle_denied is not None else None
        if ruling is None and _pickle_denied is not None and name.startswith("<"):
            ruling = _pickle_denied(module)
        if ruling is not None:
            self.add(
                "keras.external-module",
                Verdict.MALICIOUS,
                ruling.severity,
                f"{module}.{name} at {path}: loading imports {module} ({ruling.reason})",
                path=path,
                module=module[:200],
                name=str(name)[:200],
            )
            return True
        root = _root(module)
        if root in EXEC_MODULES or root in IO_MODULES:
            critical = root in EXEC_MODULES
            self.add(
                "keras.external-module",
                Verdict.MALICIOUS,
                Severity.CRITICAL if critical else Severity.HIGH,
                f"{module}.{name} at {path}: loading imports {module} and "
                f"{'can run code' if critical else 'reaches files or the network'}",
                path=path,
                module=module[:200],
                name=str(name)[:200],
            )
            return True
        return False

    def _gadget(self, qualified: str, name: str, path: str) -> None:
        self.add(
            "keras.unsafe-function",
            Verdict.MALICIOUS,
            KERAS_GADGETS[name],
            f"{qualified} at {path} is a Keras function that loads, downloads, writes or disables safe mode",
            path=path,
            function=qualified[:200],
        )

    def _lambda(self, obj: Mapping[str, Any], cfg: Mapping[str, Any], path: str) -> None:
        function = cfg.get("function")
        module = cfg.get("module") if isinstance(cfg.get("module"), str) else None
        kind = cfg.get("function_type")
        if isinstance(function, Mapping):
            self.handled.add(id(function))
            inner = function.get("config")
            if function.get("class_name") == "__lambda__" and isinstance(inner, Mapping):
                code = inner.get("code")
                summary = f"bytecode, {_b64_bytes(code) if isinstance(code, str) else 0} bytes"
            else:
                fmod = function.get("module")
                summary = f"{fmod}.{inner}" if isinstance(fmod, str) else str(inner)
                if isinstance(inner, str):
                    self._dangerous_ref(fmod if isinstance(fmod, str) else None, inner, path + ".function")
        elif isinstance(function, list) or (isinstance(function, str) and kind == "lambda"):
            code = function[0] if isinstance(function, list) and function else function
            summary = f"bytecode, {_b64_bytes(code) if isinstance(code, str) else 0} bytes"
        elif isinstance(function, str):
            summary = f"{module}.{function}" if module else function
            self._dangerous_ref(module, function, path)
        else:
            summary = f"unreadable function field ({type(function).__name__})"
        if isinstance(cfg.get("output_shape"), list) and cfg.get("output_shape_type") == "lambda":
            summary += "; output_shape is bytecode too"
        if isinstance(function, list | str) and kind != "function" and module is not None:
            self._external(module, "<lambda globals>", path)  # Keras 2 runs the bytecode with its globals
        name = cfg.get("name") if isinstance(cfg.get("name"), str) else obj.get("name")
        self.add(
            "keras.lambda-layer",
            Verdict.MALICIOUS,
            Severity.CRITICAL,
            f"Lambda layer {str(name)[:100]!r} at {path} runs a Python function when the model is loaded or "
            f"called: {summary}",
            path=path,
            function=summary[:300],
        )

    def _tf_op(self, cfg: Mapping[str, Any], path: str) -> None:
        function = cfg.get("function")
        if not isinstance(function, str):
            return
        symbol = function.removeprefix("tf.")
        severity = TF_OP_GADGETS.get(symbol)
        if severity is None and symbol.startswith(_TF_OP_PREFIXES):
            severity = Severity.HIGH
        if severity is not None:
            self.add(
                "keras.unsafe-function",
                Verdict.MALICIOUS,
                severity,
                f"TFOpLambda at {path} calls tf.{symbol[:200]}, which runs Python or touches files",
                path=path,
                function=f"tf.{symbol[:200]}",
            )

    def _vocabulary(self, vocabulary: str, class_name: str, path: str) -> None:
        remote = escapes_model_dir(vocabulary) == "URL or scheme"
        self.add(
            "keras.external-file",
            Verdict.MALICIOUS if remote else Verdict.SUSPICIOUS,
            Severity.HIGH if remote else Severity.MEDIUM,
            f"{class_name} at {path} reads its vocabulary from {vocabulary[:200]!r} on the loading machine "
            "(CVE-2025-12058)",
            path=path,
            vocabulary=vocabulary[:300],
        )

    # --- the walk ------------------------------------------------------------------------------------

    def run(self, config: Any) -> str | None:
        """Walk ``config``; the reason it is over a bound, or None."""
        stack: list[tuple[Any, int, str, bool]] = [(config, 0, "$", False)]
        count = 0
        while stack:
            node, depth, path, is_layer = stack.pop()
            count += 1
            if count > MAX_NODES:
                return f"more than {MAX_NODES} JSON values"
            if depth > MAX_DEPTH:
                return f"nested deeper than {MAX_DEPTH}"
            if isinstance(node, Mapping):
                if is_layer:
                    self.layers += 1
                    if isinstance(node.get("class_name"), str) and len(self.layer_classes) < 500:
                        self.layer_classes.add(node["class_name"][:100])
                self.check(node, path)
                for key, value in node.items():
                    if isinstance(value, Mapping | list):
                        stack.append((value, depth + 1, f"{path}.{str(key)[:50]}", False))
            elif isinstance(node, list):
                layers = path.endswith(".layers")
                for i, value in enumerate(node):
                    if isinstance(value, Mapping | list):
                        stack.append((value, depth + 1, f"{path}[{i}]", layers))
        return None


def analyze_keras_config(config: Any, *, member: str | None) -> FormatResult:
    """Issues and facts of one Keras model config (a parsed ``config.json`` or ``model_config``)."""
    walk = _Walk(member)
    over = walk.run(config)
    issues = list(walk.issues)
    if over is not None:
        issues.append(_unscannable(member, f"the model config is {over}"))
    facts: dict[str, JSON] = {"layer_count": walk.layers, "layer_classes": sorted(walk.layer_classes)[:100]}
    if isinstance(config, Mapping):
        if isinstance(config.get("class_name"), str):
            facts["model_class"] = config["class_name"][:100]
        for key in ("keras_version", "backend"):
            if isinstance(config.get(key), str):
                facts[key] = config[key][:50]
    issues.sort(key=lambda i: (-i.verdict.rank, i.rule))
    return FormatResult(facts, tuple(issues))


def _unscannable(member: str | None, reason: str) -> Issue:
    return Issue("keras.malformed", Verdict.UNSCANNABLE, Severity.MEDIUM, reason, member=member)


def _parse_config(data: bytes, what: str, member: str | None) -> tuple[Any, Issue | None]:
    try:
        return json.loads(data.decode("utf-8")), None
    except (ValueError, RecursionError) as exc:
        return None, _unscannable(member, f"{what} is not valid JSON ({type(exc).__name__})")


# --- .keras ---------------------------------------------------------------------------------------------


def analyze_keras_zip(fh: BinaryIO, size: int, member: str | None) -> FormatResult:
    """A Keras 3 ``.keras`` archive: its ``config.json`` (every copy), metadata and stray members.

    ``fh`` must be seekable (the zip directory is at the end). Weights are not read.
    """
    facts: dict[str, JSON] = {}
    issues: list[Issue] = []
    try:
        zf = zipfile.ZipFile(fh)
        infos = zf.infolist()
    except ZIPFILE_ERRORS as exc:
        return FormatResult(facts, (_unscannable(member, f"not a readable zip archive ({str(exc)[:120]})"),))
    if len(infos) > MAX_MEMBERS:
        return FormatResult(facts, (_unscannable(member, f"{len(infos)} zip members, over {MAX_MEMBERS}"),))
    configs = [i for i in infos if i.filename == "config.json"]
    if not configs:
        issues.append(_unscannable(member, "the archive has no config.json"))
    if len(configs) > 1:
        issues.append(
            Issue(
                "keras.duplicate-member",
                Verdict.SUSPICIOUS,
                Severity.MEDIUM,
                f"the archive holds {len(configs)} config.json members; readers may pick different ones",
                member=member,
            )
        )
    for info in configs:
        data, problem = _read_member(zf, info, MAX_CONFIG_BYTES, member)
        if problem is not None:
            issues.append(problem)
            continue
        config, problem = _parse_config(data, "config.json", member)
        if problem is not None:
            issues.append(problem)
            continue
        result = analyze_keras_config(config, member=member)
        issues.extend(result.issues)
        facts.update(result.facts)
    meta = next((i for i in reversed(infos) if i.filename == "metadata.json"), None)
    if meta is not None:
        data, _ = _read_member(zf, meta, 1024 * 1024, member)
        parsed, _ = _parse_config(data, "metadata.json", member) if data else (None, None)
        if isinstance(parsed, Mapping):
            for key in ("keras_version", "date_saved"):
                if isinstance(parsed.get(key), str):
                    facts[key] = parsed[key][:50]
    issues.extend(_stray_members(zf, infos, member))
    facts["members"] = len(infos)
    return FormatResult(facts, tuple(issues))


def _read_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, member: str | None
) -> tuple[bytes, Issue | None]:
    if info.file_size > limit:
        return b"", _unscannable(member, f"{info.filename} declares {info.file_size} bytes, over {limit}")
    try:
        with zf.open(info) as stream:
            data = stream.read(limit + 1)
    except ZIPFILE_ERRORS as exc:
        return b"", _unscannable(member, f"{info.filename} cannot be read ({str(exc)[:120]})")
    if len(data) > limit:
        return b"", _unscannable(member, f"{info.filename} inflates past {limit} bytes")
    return data, None


def _stray_members(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], member: str | None) -> list[Issue]:
    issues: list[Issue] = []
    for info in infos[:1000]:
        name = info.filename
        if name in KERAS_MEMBERS or name.endswith("/"):
            continue
        kind = None
        if name.lower().endswith(_CODE_SUFFIXES):
            kind = "code or pickle by name"
        else:
            try:
                with zf.open(info) as stream:
                    head = stream.read(2)
            except ZIPFILE_ERRORS:
                head = b""
            if len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
                kind = "a pickle"
        if kind is not None:
            issues.append(
                Issue(
                    "keras.unexpected-member",
                    Verdict.SUSPICIOUS,
                    Severity.MEDIUM,
                    f"the archive carries {name[:200]!r} ({kind}), which Keras never writes",
                    member=member,
                    detail={"name": name[:300], "kind": kind},
                )
            )
            if len(issues) >= 20:
                break
    return issues


# --- legacy .h5 -----------------------------------------------------------------------------------------


def analyze_keras_h5(path_or_fh: Any, size: int, member: str | None) -> FormatResult:
    """A legacy Keras HDF5 file: the ``model_config`` and ``training_config`` root attributes.

    The attributes are read from the HDF5 format itself (:mod:`hdf5_header`); a file that reader
    is unsure of is read by h5py in an isolated child process (:mod:`hdf5_isolated`), because the
    HDF5 library can hang or crash on hostile input. Nothing in the file is executed. Attributes
    over the bound are refused before they are read.
    """
    from aispm.analysis.hdf5_header import Oversized, root_attributes

    wanted = _h5_wanted()
    fh = path_or_fh if hasattr(path_or_fh, "read") else open(path_or_fh, "rb")  # noqa: SIM115
    try:
        found = root_attributes(fh, size, wanted)
        if found is None:
            from aispm.analysis.hdf5_isolated import IsolatedReadError, read_root_attributes

            try:
                found = read_root_attributes(fh, size, wanted)
            except IsolatedReadError as exc:
                return FormatResult({}, (_unscannable(member, str(exc)),))
    finally:
        if fh is not path_or_fh:
            fh.close()
    facts: dict[str, JSON] = {}
    issues: list[Issue] = []
    texts: dict[str, str] = {}
    for name in wanted:
        value = found.values.get(name)
        if isinstance(value, Oversized):
            issues.append(
                _unscannable(member, f"attribute {name} holds {value.stored} bytes, over {wanted[name]}")
            )
        elif value is not None:
            texts[name] = value
    for key in ("keras_version", "backend"):
        if key in texts:
            facts[key] = texts[key][:50]
    facts["has_model_config"] = "model_config" in texts
    for name in ("model_config", "training_config"):
        if name not in texts:
            continue
        config, problem = _parse_config(texts[name].encode("utf-8", "surrogatepass"), name, member)
        if problem is not None:
            issues.append(problem)
            continue
        result = analyze_keras_config(config, member=member)
        issues.extend(result.issues)
        if name == "model_config":
            facts.update({k: v for k, v in result.facts.items() if k not in facts})
    return FormatResult(facts, tuple(issues))


def _h5_wanted() -> dict[str, int]:
    """The root attributes a Keras HDF5 file is judged by, with the most bytes read of each."""
    return {
        "keras_version": 1024,
        "backend": 1024,
        "model_config": MAX_CONFIG_BYTES,
        "training_config": MAX_CONFIG_BYTES,
    }
