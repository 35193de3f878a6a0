"""Calls in Python source that load a model artifact, found statically in an ``ast`` tree.

:func:`find_model_loads` lists every call that deserializes or opens a local model file or
directory (``torch.load``, ``joblib.load``, ``pickle.load``, ``numpy.load``, Keras' model loader,
``tf.saved_model.load``, ``onnxruntime.InferenceSession``, ``safetensors`` loaders, ``llama_cpp.Llama``,
``from_pretrained``, NeMo's ``restore_from``, ``transformers.pipeline``, ``torch.hub.load``...) with
the path when the source spells it out (string constants, ``os.path.join`` and ``Path(...) / "x"``
of constants, names assigned such a value once, and paths relative to ``__file__``), and the flags
that decide whether loading runs code (``trust_remote_code``, ``weights_only``, ``allow_pickle``,
``safe_mode``).

The model-file collector uses these to link code to the artifacts it loads ("this checkpoint is
loaded by this service"), and checks use the flags to judge the code. Nothing is imported or run:
names are resolved through the module's own import statements only.
"""

from __future__ import annotations

import ast
import posixpath
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

from aispm.model import JSON

#: Base a static path is relative to: the working directory as written, or the source file's folder.
PathBase = Literal["cwd", "source"]

#: Flags read from keyword arguments (and ``model_kwargs`` dicts) of a loading call.
FLAG_NAMES = ("trust_remote_code", "weights_only", "allow_pickle", "safe_mode", "trust_repo")
#: A flag whose value is not a literal.
DYNAMIC = "dynamic"

_MAX_EXPR = 200
_MAX_DEPTH = 12
_MAX_LOADS = 1000

# qualified callee -> (format, index of the path argument, keyword names of the path)
_LOADERS: dict[str, tuple[str, int, tuple[str, ...]]] = {
    "torch.load": ("pytorch", 0, ("f",)),
    "torch.jit.load": ("torchscript", 0, ("f",)),
    "torch.hub.load": ("torch-hub", 0, ("repo_or_dir",)),
    "joblib.load": ("joblib", 0, ("filename",)),
    "sklearn.externals.joblib.load": ("joblib", 0, ("filename",)),
    "pickle.load": ("pickle", 0, ("file",)),
    "pickle.loads": ("pickle", -1, ()),
    "pickle.Unpickler": ("pickle", 0, ("file",)),
    "_pickle.load": ("pickle", 0, ("file",)),
    "_pickle.loads": ("pickle", -1, ()),
    "cPickle.load": ("pickle", 0, ("file",)),
    "dill.load": ("pickle", 0, ("file",)),
    "dill.loads": ("pickle", -1, ()),
    "cloudpickle.load": ("pickle", 0, ("file",)),
    "cloudpickle.loads": ("pickle", -1, ()),
    "pandas.read_pickle": ("pickle", 0, ("filepath_or_buffer",)),
    "numpy.load": ("numpy", 0, ("file",)),
    "keras.models.load_model": ("keras", 0, ("filepath",)),
    "keras.saving.load_model": ("keras", 0, ("filepath",)),
    "tensorflow.keras.models.load_model": ("keras", 0, ("filepath",)),
    "tensorflow.keras.saving.load_model": ("keras", 0, ("filepath",)),
    "tf_keras.models.load_model": ("keras", 0, ("filepath",)),
    "tensorflow.saved_model.load": ("tensorflow-savedmodel", 0, ("export_dir",)),
    "tensorflow.compat.v1.saved_model.load": ("tensorflow-savedmodel", 2, ("export_dir",)),
    "tensorflow.compat.v1.saved_model.loader.load": ("tensorflow-savedmodel", 2, ("export_dir",)),
    "onnxruntime.InferenceSession": ("onnx", 0, ("path_or_bytes",)),
    "onnx.load": ("onnx", 0, ("f",)),
    "onnx.load_model": ("onnx", 0, ("f",)),
    "safetensors.torch.load_file": ("safetensors", 0, ("filename",)),
    "safetensors.numpy.load_file": ("safetensors", 0, ("filename",)),
    "safetensors.flax.load_file": ("safetensors", 0, ("filename",)),
    "safetensors.tensorflow.load_file": ("safetensors", 0, ("filename",)),
    "safetensors.paddle.load_file": ("safetensors", 0, ("filename",)),
    "safetensors.mlx.load_file": ("safetensors", 0, ("filename",)),
    "safetensors.safe_open": ("safetensors", 0, ("filename",)),
    "llama_cpp.Llama": ("gguf", 0, ("model_path",)),
    "gguf.GGUFReader": ("gguf", 0, ("path",)),
    "transformers.pipeline": ("huggingface", 1, ("model",)),
    "sentence_transformers.SentenceTransformer": ("huggingface", 0, ("model_name_or_path",)),
    "sentence_transformers.CrossEncoder": ("huggingface", 0, ("model_name", "model_name_or_path")),
}
_PICKLE_FORMATS = frozenset({"pickle", "joblib"})
_PATH_CTORS = frozenset(
    {"pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath", "pathlib.PurePosixPath", "Path", "PurePath"}
)
_PASSTHROUGH = frozenset({"str", "os.fspath", "os.path.abspath", "os.path.realpath", "os.path.normpath"})
_PASSTHROUGH_METHODS = frozenset({"resolve", "absolute", "expanduser"})
#: Keyword arguments whose dict literal is passed on to the loader (``pipeline(model_kwargs={...})``).
_KWARG_DICTS = frozenset({"model_kwargs", "config_kwargs", "tokenizer_kwargs"})
_FILE_MODULES = frozenset({"io", "gzip", "bz2", "lzma", "builtins"})


@dataclass(frozen=True, slots=True)
class ModelLoad:
    """One call that loads a model artifact.

    ``loader`` is the callee resolved through the module's imports (``torch.load``,
    ``transformers.AutoModel.from_pretrained``; a receiver that cannot be resolved is kept as
    written, ``model_cls.from_pretrained``). ``path`` is the artifact path when the source spells
    it out; ``path_base`` says what it is relative to: ``cwd`` (as written) or ``source`` (the
    folder of the file holding the call, from ``__file__``). ``expr`` is the source of the path
    argument (shortened) when it is not static. ``flags`` holds the flags given explicitly
    (``True``/``False``, or ``"dynamic"`` when not a literal); a flag left at its default is absent.
    ``unsafe`` is True when the call as written runs code from the artifact: every pickle-family
    loader, ``torch.load`` with ``weights_only`` false, ``numpy.load`` allowing pickles, Keras
    with ``safe_mode`` false, ``torch.hub.load``, and remote code allowed.
    """

    loader: str
    format: str
    line: int
    path: str | None = None
    path_base: PathBase | None = None
    expr: str | None = None
    flags: Mapping[str, JSON] = field(default_factory=dict)
    unsafe: bool = False

    def to_dict(self) -> dict[str, JSON]:
        out: dict[str, JSON] = {"loader": self.loader, "format": self.format, "line": self.line}
        if self.path is not None:
            out["path"] = self.path
            out["path_base"] = self.path_base
        if self.expr is not None:
            out["expr"] = self.expr
        if self.flags:
            out["flags"] = dict(self.flags)
        out["unsafe"] = self.unsafe
        return out


def import_aliases(tree: ast.AST) -> dict[str, str]:
    """Local name -> dotted name it was imported as, from every import statement in ``tree``.

    ``import numpy as np`` gives ``np -> numpy``; ``from torch import load`` gives ``load -> torch.load``;
    ``import os.path`` binds ``os``. Relative imports keep their leading dots (``.utils``).
    """
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    head = alias.name.split(".", 1)[0]
                    aliases[head] = head
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            for alias in node.names:
                if alias.name == "*":
                    continue
                full = f"{base}.{alias.name}" if base and not base.endswith(".") else base + alias.name
                aliases[alias.asname or alias.name] = full
    return aliases


def qualified_name(expr: ast.expr, aliases: Mapping[str, str]) -> str | None:
    """The dotted name ``expr`` refers to (``np.load`` -> ``numpy.load``), or None for other shapes."""
    parts: list[str] = []
    node = expr
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
        if len(parts) > _MAX_DEPTH:
            return None
    if not isinstance(node, ast.Name):
        return None
    parts.append(_canonical(aliases.get(node.id, node.id)))
    return ".".join(reversed(parts))


def _canonical(name: str) -> str:
    # Common module aliases whose real name is what the loader table holds.
    for short, full in (("tf", "tensorflow"), ("np", "numpy"), ("pd", "pandas"), ("ort", "onnxruntime")):
        if name == short or name.startswith(short + "."):
            return full + name[len(short) :]
    return name


def find_model_loads(tree: ast.AST) -> list[ModelLoad]:
    """Every call in ``tree`` that loads a model artifact, in source order (at most 1,000)."""
    finder = _Finder(tree)
    loads = [load for call in _calls(tree) if (load := finder.load(call)) is not None]
    loads.sort(key=lambda x: x.line)
    return loads[:_MAX_LOADS]


def _calls(tree: ast.AST) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node


@dataclass(frozen=True, slots=True)
class _Path:
    path: str
    base: PathBase
    is_file: bool = False  # the source file itself (``__file__``), not a folder


class _Finder:
    def __init__(self, tree: ast.AST) -> None:
        self.aliases = import_aliases(tree)
        self.names = _single_assignments(tree)
        self.opened = _opened_files(tree)

    def load(self, call: ast.Call) -> ModelLoad | None:
        name = qualified_name(call.func, self.aliases)
        if name is None:
            return None
        spec = _LOADERS.get(name)
        if spec is None and name.startswith("keras.src.") and name.endswith(".load_model"):
            spec = ("keras", 0, ("filepath",))
        if spec is not None:
            fmt, index, keywords = spec
            target = _argument(call, index, keywords) if index >= 0 else None
            if fmt in _PICKLE_FORMATS and target is not None:
                target = self._through_open(target)
            return self._make(call, name, fmt, target)
        if name.endswith(".restore_from"):
            # NeMo: ``ASRModel.restore_from(restore_path=...)`` unpacks a ``.nemo`` archive.
            return self._make(call, name, "nemo", _argument(call, 0, ("restore_path",)))
        if name.endswith(".from_pretrained"):
            receiver = name.rsplit(".", 2)[-2]
            # PEFT: the base model comes first and the adapter second.
            if receiver.startswith("PeftModel") or receiver.startswith("PeftMixedModel"):
                target = _argument(call, 1, ("model_id",))
            else:
                target = _argument(call, 0, ("pretrained_model_name_or_path",))
            return self._make(call, name, "huggingface", target)
        return None

    def _through_open(self, target: ast.expr) -> ast.expr:
        """A pickle loader given ``open(p)``, or a file variable from ``with open(p) as f``, loads ``p``."""
        if isinstance(target, ast.Call):
            opened = _opened_path(target)
            if opened is not None:
                return opened
        if isinstance(target, ast.Name) and target.id in self.opened:
            return self.opened[target.id]
        return target

    def _make(self, call: ast.Call, loader: str, fmt: str, target: ast.expr | None) -> ModelLoad:
        flags = _flags(call)
        path: str | None = None
        base: PathBase | None = None
        expr: str | None = None
        if target is not None:
            value = self._static(target, 0)
            if value is not None and not value.is_file:
                path, base = value.path, value.base
            elif value is not None:
                path, base = posixpath.basename(value.path), "source"
            else:
                expr = _source(target)
        return ModelLoad(
            loader=loader,
            format=fmt,
            line=call.lineno,
            path=path,
            path_base=base,
            expr=expr,
            flags=flags,
            unsafe=_unsafe(loader, fmt, flags),
        )

    def _static(self, expr: ast.expr, depth: int) -> _Path | None:
        """The path ``expr`` always evaluates to, when the source alone says so."""
        if depth > _MAX_DEPTH:
            return None
        depth += 1
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return _Path(expr.value, "cwd") if expr.value else None
        if isinstance(expr, ast.JoinedStr):
            if all(isinstance(v, ast.Constant) and isinstance(v.value, str) for v in expr.values):
                return _Path("".join(str(v.value) for v in expr.values if isinstance(v, ast.Constant)), "cwd")
            return None
        if isinstance(expr, ast.Name):
            if expr.id == "__file__":
                return _Path("__file__", "source", is_file=True)
            assigned = self.names.get(expr.id)
            return self._static(assigned, depth) if assigned is not None else None
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Div):
            left, right = self._static(expr.left, depth), self._static(expr.right, depth)
            return _join(left, right)
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            left, right = self._static(expr.left, depth), self._static(expr.right, depth)
            if left is None or right is None or right.base != "cwd" or left.is_file:
                return None
            return _Path(left.path + right.path, left.base)
        if isinstance(expr, ast.Attribute) and expr.attr == "parent":
            inner = self._static(expr.value, depth)
            return _parent(inner) if inner is not None else None
        if isinstance(expr, ast.Call):
            return self._static_call(expr, depth)
        return None

    def _static_call(self, call: ast.Call, depth: int) -> _Path | None:
        if isinstance(call.func, ast.Attribute) and call.func.attr in _PASSTHROUGH_METHODS and not call.args:
            return self._static(call.func.value, depth)
        if isinstance(call.func, ast.Attribute) and call.func.attr == "joinpath":
            parts = [call.func.value, *call.args]
            return self._join_all(parts, depth)
        name = qualified_name(call.func, self.aliases)
        if name is None or call.keywords:
            return None
        if name in _PATH_CTORS or name == "os.path.join":
            return self._join_all(call.args, depth) if call.args else None
        if name in _PASSTHROUGH and len(call.args) == 1:
            return self._static(call.args[0], depth)
        if name == "os.path.dirname" and len(call.args) == 1:
            inner = self._static(call.args[0], depth)
            return _parent(inner) if inner is not None else None
        return None

    def _join_all(self, parts: list[ast.expr], depth: int) -> _Path | None:
        out: _Path | None = None
        for i, part in enumerate(parts):
            value = self._static(part, depth)
            if value is None:
                return None
            out = value if i == 0 else _join(out, value)
            if out is None:
                return None
        return out


def _join(left: _Path | None, right: _Path | None) -> _Path | None:
    if left is None or right is None or right.base != "cwd" or left.is_file:
        return None
    if right.path.startswith("/"):
        return right
    return _Path(posixpath.normpath(posixpath.join(left.path, right.path)), left.base)


def _parent(value: _Path) -> _Path:
    if value.is_file:
        return _Path(".", "source")
    if value.base == "source":
        return _Path(posixpath.normpath(posixpath.join(value.path, "..")), "source")
    parent = posixpath.dirname(value.path.rstrip("/"))
    return _Path(parent or ".", value.base)


def _argument(call: ast.Call, index: int, keywords: tuple[str, ...]) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg in keywords:
            return kw.value
    if 0 <= index < len(call.args) and not any(isinstance(a, ast.Starred) for a in call.args[: index + 1]):
        return call.args[index]
    return None


def _flags(call: ast.Call) -> dict[str, JSON]:
    flags: dict[str, JSON] = {}
    for kw in call.keywords:
        if kw.arg in FLAG_NAMES:
            flags[kw.arg] = _literal_bool(kw.value)
        elif kw.arg in _KWARG_DICTS and isinstance(kw.value, ast.Dict):
            for key, value in zip(kw.value.keys, kw.value.values, strict=True):
                if isinstance(key, ast.Constant) and key.value in FLAG_NAMES and str(key.value) not in flags:
                    flags[str(key.value)] = _literal_bool(value)
    return flags


def _literal_bool(expr: ast.expr) -> JSON:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, bool):
        return expr.value
    return DYNAMIC


def _unsafe(loader: str, fmt: str, flags: Mapping[str, JSON]) -> bool:
    if fmt in _PICKLE_FORMATS or fmt == "torch-hub":
        return True
    if loader == "torch.load":
        return flags.get("weights_only") is False
    if fmt == "numpy":
        return flags.get("allow_pickle") is True
    if fmt == "keras":
        return flags.get("safe_mode") is False
    if fmt == "huggingface":
        return flags.get("trust_remote_code") is True
    return False


def _source(expr: ast.expr) -> str:
    try:
        text = ast.unparse(expr)
    except (ValueError, RecursionError):
        return type(expr).__name__
    return text if len(text) <= _MAX_EXPR else text[: _MAX_EXPR - 1] + "…"


def _single_assignments(tree: ast.AST) -> dict[str, ast.expr]:
    """Names bound exactly once in the whole tree by a plain ``name = value`` (constants, in practice)."""
    seen: dict[str, ast.expr | None] = {}
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        elif isinstance(node, (ast.AugAssign, ast.For, ast.AsyncFor, ast.withitem, ast.NamedExpr)):
            target = getattr(node, "target", None) or getattr(node, "optional_vars", None)
            targets, value = ([target] if isinstance(target, ast.expr) else []), None
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for arg in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs):
                seen[arg.arg] = None  # a parameter shadows any global of that name
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                seen[target.id] = value if target.id not in seen and len(targets) == 1 else None
            else:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        seen[name.id] = None
    return {k: v for k, v in seen.items() if v is not None}


def _opened_files(tree: ast.AST) -> dict[str, ast.expr]:
    """``with open(p) as f`` and ``f = open(p)``: the path each file variable was opened from."""
    opened: dict[str, ast.expr] = {}
    for node in ast.walk(tree):
        pairs: list[tuple[ast.expr | None, ast.expr]] = []
        if isinstance(node, ast.withitem):
            pairs.append((node.optional_vars, node.context_expr))
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            pairs.append((node.targets[0], node.value))
        for target, value in pairs:
            if isinstance(target, ast.Name) and isinstance(value, ast.Call):
                source = _opened_path(value)
                if source is not None:
                    opened[target.id] = source
    return opened


def _opened_path(call: ast.Call) -> ast.expr | None:
    """``open(p)``, ``io.open(p)``, ``gzip.open(p)`` open ``p``; ``Path(p).open()`` opens its receiver."""
    func = call.func
    if isinstance(func, ast.Name) and func.id == "open":
        return call.args[0] if call.args else None
    if isinstance(func, ast.Attribute) and func.attr == "open":
        if isinstance(func.value, ast.Name) and func.value.id in _FILE_MODULES:
            return call.args[0] if call.args else None
        return func.value
    return None
