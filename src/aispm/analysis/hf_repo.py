"""Static checks of a Hugging Face style model directory: remote code, its Python, mixed formats.

:func:`analyze_model_dir` reads a model folder (``config.json``, ``tokenizer_config.json``, weights,
custom ``.py`` files) without importing or loading anything, and reports:

* ``hf.remote-code``: ``auto_map`` (or ``custom_pipelines``, a custom diffusers component, a custom
  sentence-transformers module) names classes in the repository's own Python files. Loading them
  needs remote code to be trusted, which imports and runs those files: SUSPICIOUS, HIGH.
* ``hf.remote-code-external``: an ``auto_map`` entry in ``org/repo--module.Class`` form pulls code
  from *another* repository, which is not here to check: SUSPICIOUS, HIGH.
* ``hf.custom-code-dangerous``: the Python files of the folder, parsed with :mod:`ast`, call
  ``eval``/``exec``/``compile``/``__import__``, spawn processes, load native code, unpickle or
  unmarshal bytes, open network connections, delete files or read credentials: MALICIOUS,
  CRITICAL for code execution (and network access at import time), HIGH for file and network
  primitives inside functions. Every hit has its file and line.
* ``hf.custom-code-risky-import``: a Python file imports process, network or native-code modules
  without a call that proves their use: SUSPICIOUS, MEDIUM.
* ``hf.mixed-formats``: a folder with safetensors weights that still ships pickle weights
  (``pytorch_model.bin``, ``*.pt``, ``*.ckpt``, ``*.pkl``); a loader may pick the pickle: SUSPICIOUS, MEDIUM.
* ``hf.config-malformed``, ``hf.custom-code-unparseable``, ``hf.too-many-files``: what could not be
  read, so cannot be proven safe: UNSCANNABLE, MEDIUM.

Chat templates of ``tokenizer_config.json`` (and ``chat_template.jinja``/``chat_template.json``)
are passed to :func:`aispm.analysis.gguf_template.analyze_chat_template`. Facts for the inventory:
model type, architectures, ``_name_or_path``, dtype, transformers version, quantization, parameter
count and total size when the safetensors index states them, the weight files, and the remote
code entries.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import posixpath
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from aispm.analysis.artifact_report import FormatResult, Issue, Verdict
from aispm.analysis.model_headers import sniff
from aispm.analysis.model_loading import import_aliases, qualified_name
from aispm.model import JSON, Severity

MAX_FILES = 5000
MAX_DEPTH = 3
MAX_CONFIG_BYTES = 8 * 1024 * 1024
MAX_CODE_BYTES = 2 * 1024 * 1024
MAX_CODE_FILES = 300
MAX_CONFIG_FILES = 200
MAX_HITS_PER_FILE = 50
MAX_TEMPLATE_CHARS = 1024 * 1024
_MAX_LISTED = 64
_MAX_TEXT = 200

#: JSON files whose top-level ``auto_map`` (or ``custom_pipelines``) transformers honours.
_CONFIG_NAME = re.compile(r"(^|_)config\.json$")
#: Trainer state saved next to weights; never picked by a model loader.
_TRAINER_STATE = re.compile(
    r"^(training_args\.bin|optimizer(\.\w+)?\.pt|scheduler\.pt|scaler\.pt|rng_state(_\d+)?\.pth|"
    r"training_state.*|trainer_state.*)$"
)
_PICKLE_WEIGHTS = re.compile(r"\.(bin|pt|pth|ckpt|pkl|pickle|joblib)$")
_EXTERNAL = re.compile(r"^([\w.-]+/[\w.-]+)--(.+)$")

_EXEC = frozenset({"eval", "exec", "compile", "__import__", "execfile", "builtins.eval", "builtins.exec",
                   "builtins.compile", "builtins.__import__", "code.interact", "code.InteractiveInterpreter",
                   "code.InteractiveConsole", "runpy.run_path", "runpy.run_module", "types.FunctionType",
                   "types.CodeType", "pip.main", "pip._internal.main", "pydoc.locate",
                   "pkgutil.resolve_name"})  # fmt: skip
_PROCESS = frozenset({"os.system", "os.popen", "os.fork", "os.forkpty", "os.posix_spawn", "os.posix_spawnp",
                      "pty.spawn", "commands.getoutput", "commands.getstatusoutput", "platform.popen",
                      "asyncio.create_subprocess_exec", "asyncio.create_subprocess_shell"})  # fmt: skip
_PROCESS_PREFIXES = ("subprocess.", "os.exec", "os.spawn", "ctypes.CDLL", "ctypes.cdll", "ctypes.PyDLL",
                     "ctypes.pydll", "ctypes.WinDLL", "ctypes.windll", "ctypes.OleDLL", "ctypes.oledll",
                     "ctypes.pythonapi", "ctypes.LibraryLoader", "_ctypes.dlopen", "cffi.FFI")  # fmt: skip
_DESERIALIZE = frozenset({"marshal.loads", "pickle.loads", "_pickle.loads", "cPickle.loads", "dill.loads",
                          "cloudpickle.loads", "shelve.open"})  # fmt: skip
_UNPICKLE_FILE = frozenset({"marshal.load", "pickle.load", "_pickle.load", "cPickle.load", "dill.load",
                            "cloudpickle.load", "pickle.Unpickler", "joblib.load"})  # fmt: skip
_NETWORK = frozenset({"socket.socket", "socket.create_connection", "socket.create_server", "socket.fromfd",
                      "urllib.urlopen", "urllib.urlretrieve", "webbrowser.open", "webbrowser.open_new",
                      "webbrowser.open_new_tab"})  # fmt: skip
_NETWORK_PREFIXES = ("requests.", "urllib.request.", "urllib2.", "urllib3.", "http.client.", "httpx.",
                     "aiohttp.", "ftplib.", "smtplib.", "telnetlib.", "paramiko.", "xmlrpc.client.",
                     "websocket.", "websockets.", "pycurl.")  # fmt: skip
_FILE_DESTRUCTIVE = frozenset({"shutil.rmtree", "os.remove", "os.unlink", "os.rmdir", "os.removedirs",
                               "os.chmod", "os.chown", "os.setuid", "os.setgid", "os.kill",
                               "os.killpg"})  # fmt: skip
_RISKY_MODULES = frozenset({"subprocess", "socket", "pty", "ctypes", "_ctypes", "cffi", "requests",
                            "urllib.request", "urllib2", "urllib3", "http.client", "httpx", "aiohttp",
                            "ftplib", "smtplib", "telnetlib", "paramiko", "webbrowser", "marshal", "pip",
                            "runpy", "pycurl", "websocket", "websockets"})  # fmt: skip
#: Calls whose result, passed to exec/eval, hides the code that runs.
_DECODERS = frozenset({"base64.b64decode", "base64.b32decode", "base64.b85decode", "base64.a85decode",
                       "base64.decodebytes", "base64.urlsafe_b64decode", "codecs.decode", "zlib.decompress",
                       "bz2.decompress", "lzma.decompress", "gzip.decompress", "bytes.fromhex",
                       "binascii.unhexlify", "binascii.a2b_base64", "marshal.loads"})  # fmt: skip
_SENSITIVE_PATHS = (".ssh/", "/etc/passwd", "/etc/shadow", ".aws/credentials", ".git-credentials", ".netrc",
                    ".docker/config.json", ".kube/config", ".bashrc", ".bash_profile", ".zshrc",
                    ".config/gcloud", ".huggingface/token", ".cache/huggingface/token")  # fmt: skip
_DYNAMIC_TARGETS = frozenset({"os", "subprocess", "builtins", "__builtins__", "sys", "importlib", "ctypes",
                              "pty", "socket", "posix", "nt", "shutil"})  # fmt: skip
_SEVERITY = {
    "exec": Severity.CRITICAL,
    "process": Severity.CRITICAL,
    "deserialize": Severity.CRITICAL,
    "network-at-import": Severity.CRITICAL,
    "network": Severity.HIGH,
    "file": Severity.HIGH,
    "unpickle-file": Severity.HIGH,
    "dynamic-import": Severity.HIGH,
    "sensitive-path": Severity.HIGH,
}


@dataclass
class _Listing:
    files: list[str] = field(default_factory=list)  # POSIX paths relative to the folder
    truncated: bool = False


def analyze_model_dir(directory: Path, *, rel_dir: str, max_files: int = MAX_FILES) -> FormatResult:
    """The static verdict on the Hugging Face style model folder ``directory``.

    ``rel_dir`` is the folder's path relative to the scanned target (POSIX), used to name files in
    messages and in each issue's ``detail["path"]``; an issue's ``member`` is the file's path inside
    the folder. At most ``max_files`` entries are listed (``MAX_DEPTH`` levels deep, hidden folders
    skipped); Python and JSON files are read up to fixed sizes, weights never.
    """
    listing = _list(directory, max_files)
    facts: dict[str, JSON] = {}
    issues: list[Issue] = []
    if listing.truncated:
        issues.append(
            Issue("hf.too-many-files", Verdict.UNSCANNABLE, Severity.MEDIUM,
                  f"{rel_dir or '.'}: more than {max_files} files; the rest were not checked",
                  detail={"path": rel_dir, "limit": max_files})
        )  # fmt: skip
    present = set(listing.files)
    code_refs: dict[str, list[str]] = {}
    configs = [n for n in listing.files if _is_config(posixpath.basename(n))]
    if len(configs) > MAX_CONFIG_FILES:
        issues.append(
            Issue("hf.too-many-files", Verdict.UNSCANNABLE, Severity.MEDIUM,
                  f"{rel_dir or '.'}: more than {MAX_CONFIG_FILES} config files; the rest were not read",
                  detail={"path": rel_dir, "limit": MAX_CONFIG_FILES})
        )  # fmt: skip
    for name in configs[:MAX_CONFIG_FILES]:
        base = posixpath.basename(name)
        doc, problem = _read_json(directory / name)
        if problem is not None:
            if problem != "missing":
                issues.append(_malformed(rel_dir, name, problem))
            continue
        if not isinstance(doc, dict) and not (base == "modules.json" and isinstance(doc, list)):
            continue
        if name == "config.json" and isinstance(doc, dict):
            facts.update(config_facts(doc))
        if base == "adapter_config.json" and isinstance(doc, dict):
            adapter_base = _text(doc.get("base_model_name_or_path"))
            if adapter_base:
                facts["adapter_base_model"] = adapter_base
        refs = _code_references(base, name, doc, present)
        issues.extend(_remote_code_issues(rel_dir, name, refs, present, code_refs))
        if base == "tokenizer_config.json" and isinstance(doc, dict):
            issues.extend(_templates_in_config(rel_dir, name, doc, facts))
    issues.extend(_template_files(directory, rel_dir, listing.files, facts))
    if code_refs:
        facts["remote_code"] = True
        facts["auto_map"] = {k: v[:8] for k, v in list(code_refs.items())[:_MAX_LISTED]}
    issues.extend(_custom_code(directory, rel_dir, listing.files, facts))
    issues.extend(_mixed_formats(directory, rel_dir, listing.files, facts))
    facts.update(_index_facts(directory, present))
    return FormatResult(facts=facts, issues=tuple(issues))


def _is_config(base: str) -> bool:
    return bool(_CONFIG_NAME.search(base)) or base in ("model_index.json", "modules.json")


def is_model_dir(directory: Path) -> bool:
    """Whether ``directory`` looks like a Hugging Face model folder (a model config or weights)."""
    markers = ("config.json", "tokenizer_config.json", "model_index.json", "adapter_config.json")
    if any((directory / m).is_file() for m in markers):
        return True
    try:
        with os.scandir(directory) as it:
            for i, entry in enumerate(it):
                if i > 1000:
                    break
                if entry.name.endswith(".safetensors") or re.match(r"pytorch_model.*\.bin$", entry.name):
                    return True
    except OSError:
        return False
    return False


# --- listing and reading -------------------------------------------------------------------------


def _list(directory: Path, max_files: int) -> _Listing:
    out = _Listing()
    stack: list[tuple[Path, str, int]] = [(directory, "", 0)]
    while stack:
        folder, prefix, depth = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            rel = f"{prefix}{entry.name}"
            try:
                if entry.is_dir(follow_symlinks=False):
                    if (
                        depth + 1 < MAX_DEPTH
                        and not entry.name.startswith(".")
                        and entry.name != "__pycache__"
                    ):
                        stack.append((Path(entry.path), rel + "/", depth + 1))
                    continue
                # Files in a hub cache snapshot are symlinks to blobs: follow them.
                if not entry.is_file():
                    continue
            except OSError:
                continue
            if len(out.files) >= max_files:
                out.truncated = True
                return out
            out.files.append(rel)
    out.files.sort()
    return out


def _read_json(path: Path) -> tuple[Any, str | None]:
    """The JSON document at ``path`` and None, or None and why it could not be read."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        return None, "missing"
    except OSError as exc:
        return None, f"cannot read: {exc.strerror or exc}"
    if len(data) > MAX_CONFIG_BYTES:
        return None, f"over the {MAX_CONFIG_BYTES}-byte limit"
    try:
        return json.loads(data.decode("utf-8-sig")), None
    except UnicodeDecodeError:
        return None, "not UTF-8 text"
    except (ValueError, RecursionError) as exc:
        return None, f"not valid JSON: {type(exc).__name__}"


def _malformed(rel_dir: str, name: str, problem: str) -> Issue:
    path = _join(rel_dir, name)
    return Issue(
        "hf.config-malformed", Verdict.UNSCANNABLE, Severity.MEDIUM,
        f"{path}: {problem}; whether it asks for remote code cannot be told",
        member=name, detail={"path": path, "reason": problem},
    )  # fmt: skip


def _join(rel_dir: str, name: str) -> str:
    return f"{rel_dir.rstrip('/')}/{name}" if rel_dir and rel_dir != "." else name


def _text(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()[:_MAX_TEXT]
    return None


def config_facts(config: Mapping[str, Any]) -> dict[str, JSON]:
    """Inventory facts a ``config.json`` states: type, architectures, origin, dtype, versions."""
    out: dict[str, JSON] = {}
    model_type = _text(config.get("model_type"))
    if model_type:
        out["model_type"] = model_type
    archs = config.get("architectures")
    if isinstance(archs, list):
        names = [a[:_MAX_TEXT] for a in archs[:8] if isinstance(a, str)]
        if names:
            out["architectures"] = names
    for key, fact in (("_name_or_path", "name_or_path"), ("transformers_version", "transformers_version")):
        value = _text(config.get(key))
        if value:
            out[fact] = value
    dtype = _text(config.get("torch_dtype")) or _text(config.get("dtype"))
    if dtype:
        out["torch_dtype"] = dtype
    quant = config.get("quantization_config")
    if isinstance(quant, dict):
        method = _text(quant.get("quant_method"))
        if method:
            out["quantization"] = method
    for key in ("num_parameters", "n_params", "num_params", "total_params"):
        value = config.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            out["parameter_count"] = value
            break
    return out


def _index_facts(directory: Path, present: set[str]) -> dict[str, JSON]:
    out: dict[str, JSON] = {}
    weights = sorted(
        n for n in present if n.endswith((".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".h5", ".msgpack",
                                          ".onnx", ".gguf", ".pkl", ".pickle", ".joblib", ".npz", ".keras"))
        and not _TRAINER_STATE.match(posixpath.basename(n))
    )  # fmt: skip
    if weights:
        out["weight_files"] = weights[:_MAX_LISTED]
        if len(weights) > _MAX_LISTED:
            out["weight_files_total"] = len(weights)
    if "model.safetensors.index.json" in present:
        doc, problem = _read_json(directory / "model.safetensors.index.json")
        meta = doc.get("metadata") if problem is None and isinstance(doc, dict) else None
        if isinstance(meta, dict):
            for key, fact in (("total_parameters", "parameter_count"), ("total_size", "weights_total_size")):
                value = meta.get(key)
                if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                    out[fact] = value
    return out


# --- remote code ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _CodeRef:
    key: str  # AutoModel, custom_pipelines.text-generation, unet...
    reference: str  # as written
    file: str | None  # the .py file inside the folder, relative to it
    repo: str | None = None  # another repository, for org/repo--module.Class


def _code_references(base: str, name: str, doc: Any, present: set[str]) -> list[_CodeRef]:
    folder = posixpath.dirname(name)
    refs: list[_CodeRef] = []
    if base == "modules.json":
        for item in doc[:_MAX_LISTED] if isinstance(doc, list) else []:
            kind = item.get("type") if isinstance(item, dict) else None
            if isinstance(kind, str) and "." in kind and not kind.startswith("sentence_transformers."):
                refs.append(_parse_reference(f"modules.{item.get('name', '?')}", kind, folder))
        return refs
    if base == "model_index.json":
        for key, value in list(doc.items())[:_MAX_LISTED]:
            if isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value):
                library = value[0]
                # A component whose "library" is a Python file shipped in the folder is custom code.
                for candidate in (f"{key}/{library}.py", f"{library}.py"):
                    if posixpath.join(folder, candidate).lstrip("./") in present:
                        refs.append(_CodeRef(key, f"{library}.{value[1]}", posixpath.join(folder, candidate)))
                        break
        return refs
    auto_map = doc.get("auto_map")
    if isinstance(auto_map, dict):
        for key, value in list(auto_map.items())[:_MAX_LISTED]:
            values = value if isinstance(value, list) else [value]
            for item in values[:4]:
                if isinstance(item, str) and item.strip():
                    refs.append(_parse_reference(str(key), item.strip(), folder))
    pipelines = doc.get("custom_pipelines")
    if isinstance(pipelines, dict):
        for task, spec in list(pipelines.items())[:_MAX_LISTED]:
            impl = spec.get("impl") if isinstance(spec, dict) else None
            if isinstance(impl, str) and impl.strip():
                refs.append(_parse_reference(f"custom_pipelines.{task}", impl.strip(), folder))
    return refs


def _parse_reference(key: str, reference: str, folder: str) -> _CodeRef:
    ref = reference[:_MAX_TEXT]
    m = _EXTERNAL.match(ref)
    if m is not None:
        return _CodeRef(key, ref, None, repo=m.group(1))
    module = ref.rsplit(".", 1)[0] if "." in ref else ref
    file = module.replace(".", "/") + ".py"
    if file.startswith("/") or ".." in PurePosixPath(file).parts:
        return _CodeRef(key, ref, None, repo="(outside the folder)")
    return _CodeRef(key, ref, posixpath.join(folder, file) if folder else file)


def _remote_code_issues(
    rel_dir: str, name: str, refs: list[_CodeRef], present: set[str], code_refs: dict[str, list[str]]
) -> list[Issue]:
    if not refs:
        return []
    path = _join(rel_dir, name)
    issues: list[Issue] = []
    local = [r for r in refs if r.repo is None]
    for ref in refs:
        code_refs.setdefault(ref.key, []).append(ref.reference)
    if local:
        files = sorted({r.file for r in local if r.file is not None})
        missing = [f for f in files if f not in present]
        entries = {r.key: r.reference for r in local[:_MAX_LISTED]}
        message = (
            f"{path}: loading needs remote code to be trusted, which imports and runs "
            f"{', '.join(files[:8])}" + (f" ({', '.join(missing[:8])} not in the folder)" if missing else "")
        )
        detail: dict[str, JSON] = {"path": path, "entries": entries, "files": files[:_MAX_LISTED]}
        if missing:
            detail["missing"] = missing[:_MAX_LISTED]
        issues.append(
            Issue("hf.remote-code", Verdict.SUSPICIOUS, Severity.HIGH, message, member=name, detail=detail)
        )
    for ref in (r for r in refs if r.repo is not None):
        issues.append(
            Issue("hf.remote-code-external", Verdict.SUSPICIOUS, Severity.HIGH,
                  f"{path}: {ref.key} runs code from another repository ({ref.reference}), which is not here "
                  "to check", member=name, detail={"path": path, "entry": ref.key, "reference": ref.reference,
                                                    "repo": ref.repo})
        )  # fmt: skip
    return issues


# --- chat templates ------------------------------------------------------------------------------


def _templates_in_config(
    rel_dir: str, name: str, doc: Mapping[str, Any], facts: dict[str, JSON]
) -> list[Issue]:
    template = doc.get("chat_template")
    named: list[tuple[str, str]] = []
    if isinstance(template, str):
        named.append(("chat_template", template))
    elif isinstance(template, list):
        for item in template[:16]:
            if isinstance(item, dict) and isinstance(item.get("template"), str):
                named.append((f"chat_template.{item.get('name', 'default')}", item["template"]))
    return _check_templates(rel_dir, name, named, facts)


def _template_files(directory: Path, rel_dir: str, files: list[str], facts: dict[str, JSON]) -> list[Issue]:
    issues: list[Issue] = []
    for name in files:
        base = posixpath.basename(name)
        if base.endswith(".jinja") and "template" in base:
            try:
                with open(directory / name, "rb") as fh:
                    text = fh.read(MAX_TEMPLATE_CHARS + 1).decode("utf-8", errors="replace")
            except OSError:
                continue
            issues.extend(_check_templates(rel_dir, name, [("chat_template", text)], facts))
        elif base == "chat_template.json":
            doc, problem = _read_json(directory / name)
            if problem is None and isinstance(doc, dict):
                issues.extend(_templates_in_config(rel_dir, name, doc, facts))
    return issues


def _check_templates(
    rel_dir: str, name: str, named: list[tuple[str, str]], facts: dict[str, JSON]
) -> list[Issue]:
    if not named:
        return []
    facts["chat_template"] = True
    analyze = _template_analyzer()
    if analyze is None:
        facts["chat_template_checked"] = False
        return []
    issues: list[Issue] = []
    for key, template in named:
        if len(template) > MAX_TEMPLATE_CHARS:
            path = _join(rel_dir, name)
            issues.append(
                Issue("hf.template-too-large", Verdict.UNSCANNABLE, Severity.MEDIUM,
                      f"{path}: {key} is over {MAX_TEMPLATE_CHARS} characters and was not checked",
                      member=name, detail={"path": path, "key": key})
            )  # fmt: skip
            continue
        try:
            issues.extend(_as_issues(analyze(template, member=name, key=key)))
        except Exception as exc:  # the checker is another module: its failure is data, not a crash
            path = _join(rel_dir, name)
            issues.append(
                Issue("hf.template-unchecked", Verdict.UNSCANNABLE, Severity.MEDIUM,
                      f"{path}: {key} could not be checked ({type(exc).__name__})",
                      member=name, detail={"path": path, "key": key})
            )  # fmt: skip
    facts["chat_template_checked"] = True
    return issues


def _template_analyzer() -> Any:
    """``gguf_template.analyze_chat_template`` when that module is there (it is optional here)."""
    try:
        module = importlib.import_module("aispm.analysis.gguf_template")
    except ImportError:
        return None
    return getattr(module, "analyze_chat_template", None)


def _as_issues(result: Any) -> list[Issue]:
    if isinstance(result, FormatResult):
        return list(result.issues)
    if isinstance(result, Issue):
        return [result]
    if isinstance(result, Iterable):
        return [i for i in result if isinstance(i, Issue)]
    return []


# --- mixed formats -------------------------------------------------------------------------------


def _mixed_formats(directory: Path, rel_dir: str, files: list[str], facts: dict[str, JSON]) -> list[Issue]:
    by_folder: dict[str, tuple[list[str], list[str]]] = {}
    for name in files:
        folder, base = posixpath.split(name)
        if base.endswith(".safetensors"):
            by_folder.setdefault(folder, ([], []))[0].append(name)
        elif _PICKLE_WEIGHTS.search(base) and not _TRAINER_STATE.match(base):
            by_folder.setdefault(folder, ([], []))[1].append(name)
    issues: list[Issue] = []
    for folder, (safe, candidates) in sorted(by_folder.items()):
        if not safe or not candidates:
            continue
        pickled = [n for n in candidates[:_MAX_LISTED] if _may_be_pickle(directory / n)]
        if not pickled:
            continue
        path = _join(rel_dir, folder) if folder else (rel_dir or ".")
        facts.setdefault("mixed_formats", []).append(folder or ".")
        issues.append(
            Issue("hf.mixed-formats", Verdict.SUSPICIOUS, Severity.MEDIUM,
                  f"{path}: safetensors weights ship with pickle weights ({', '.join(pickled[:4])}); "
                  "a loader that prefers or falls back to the pickle runs whatever it holds",
                  member=folder or None,
                  detail={"path": path, "safetensors": safe[:_MAX_LISTED], "pickle": pickled[:_MAX_LISTED]})
        )  # fmt: skip
    return issues


def _may_be_pickle(path: Path) -> bool:
    """Whether a weights file may hold a pickle: ``.pkl`` by convention; ``.bin``/``.pt`` by content.

    ``.bin`` also names raw weights (OpenVINO) and GGML files, which load no pickle; a torch zip, a
    pickle, a legacy tar checkpoint or a Git LFS pointer (to any of those) counts.
    """
    if path.suffix in (".pkl", ".pickle", ".joblib"):
        return True
    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
    except OSError:
        return False
    return sniff(head) in ("zip", "pickle", "lfs-pointer") or head[257:262] == b"ustar"


# --- custom Python code --------------------------------------------------------------------------


def _custom_code(directory: Path, rel_dir: str, files: list[str], facts: dict[str, JSON]) -> list[Issue]:
    code = [f for f in files if f.endswith(".py")]
    if not code:
        return []
    facts["custom_code_files"] = code[:_MAX_LISTED]
    issues: list[Issue] = []
    for i, name in enumerate(code):
        path = _join(rel_dir, name)
        if i >= MAX_CODE_FILES:
            issues.append(_unparseable(path, name, f"more than {MAX_CODE_FILES} Python files; not checked"))
            continue
        try:
            with open(directory / name, "rb") as fh:
                source = fh.read(MAX_CODE_BYTES + 1)
        except OSError as exc:
            issues.append(_unparseable(path, name, f"cannot read: {exc.strerror or exc}"))
            continue
        if len(source) > MAX_CODE_BYTES:
            issues.append(_unparseable(path, name, f"over the {MAX_CODE_BYTES}-byte limit"))
            continue
        issues.extend(check_custom_code(source, path=path, member=name))
    return issues


def _unparseable(path: str, member: str, reason: str) -> Issue:
    return Issue(
        "hf.custom-code-unparseable", Verdict.UNSCANNABLE, Severity.MEDIUM,
        f"{path}: {reason}; the code cannot be checked",
        member=member, detail={"path": path, "reason": reason},
    )  # fmt: skip


def check_custom_code(source: bytes | str, *, path: str, member: str | None = None) -> list[Issue]:
    """Static checks of one Python file shipped with a model (parsed with :mod:`ast`, never run).

    ``path`` names the file in messages and ``detail["path"]``; ``member`` is put on each issue.
    Unparseable source (binary, syntax errors, nesting too deep) is one UNSCANNABLE issue.
    """
    try:
        if isinstance(source, bytes):
            if b"\x00" in source:
                raise ValueError("binary content")
            source = source.decode("utf-8-sig")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes and the like in scanned code are not ours
            tree = ast.parse(source, filename=path)
    except (SyntaxError, ValueError, UnicodeDecodeError, RecursionError, MemoryError) as exc:
        return [_unparseable(path, member or path, f"not parseable Python ({type(exc).__name__})")]
    scan = _CodeScan(tree)
    try:
        scan.visit(tree)
    except RecursionError:
        return [_unparseable(path, member or path, "nesting too deep to check")]
    issues = [_hit_issue(path, member, hit) for hit in scan.hits[:MAX_HITS_PER_FILE]]
    if not issues and scan.risky_imports:
        modules = sorted(scan.risky_imports)
        issues.append(
            Issue("hf.custom-code-risky-import", Verdict.SUSPICIOUS, Severity.MEDIUM,
                  f"{path}: imports {', '.join(modules[:8])} (process, network or native code)",
                  member=member, detail={"path": path, "modules": modules[:_MAX_LISTED],
                                         "line": min(scan.risky_imports.values())})
        )  # fmt: skip
    return issues


@dataclass(frozen=True, slots=True)
class _Hit:
    line: int
    kind: str
    name: str
    obfuscated: bool = False


def _hit_issue(path: str, member: str | None, hit: _Hit) -> Issue:
    what = {
        "exec": "runs dynamic code",
        "process": "starts a process or loads native code",
        "deserialize": "deserializes bytes into objects (code execution)",
        "network-at-import": "opens a network connection when imported",
        "network": "uses the network",
        "file": "deletes or changes files or processes",
        "unpickle-file": "unpickles a file",
        "dynamic-import": "imports a module named at run time",
        "sensitive-path": "reads credentials or shell startup files",
    }[hit.kind]
    detail: dict[str, JSON] = {"path": path, "line": hit.line, "call": hit.name, "kind": hit.kind}
    if hit.obfuscated:
        detail["obfuscated"] = True
        what += " from decoded bytes"
    return Issue(
        "hf.custom-code-dangerous", Verdict.MALICIOUS, _SEVERITY[hit.kind],
        f"{path}:{hit.line}: {hit.name} {what}", member=member, detail=detail,
    )  # fmt: skip


class _CodeScan(ast.NodeVisitor):
    """Walks one module, resolving names through its imports, and records dangerous references."""

    def __init__(self, tree: ast.AST) -> None:
        self.aliases = import_aliases(tree)
        self.shadowed = _defined_names(tree) - set(self.aliases)
        self.hits: list[_Hit] = []
        self.risky_imports: dict[str, int] = {}
        self.depth = 0  # inside a function or lambda: runs when called, not when imported

    # scopes
    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._in_function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._in_function(node)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._in_function(node)

    def _in_function(self, node: ast.AST) -> None:
        for deco in getattr(node, "decorator_list", []):
            self.visit(deco)
        self.depth += 1
        for child in ast.iter_child_nodes(node):
            if child not in getattr(node, "decorator_list", []):
                self.visit(child)
        self.depth -= 1

    # imports
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._risky(alias.name, node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module:
            self._risky(node.module, node.lineno)
            for alias in node.names:
                self._risky(f"{node.module}.{alias.name}", node.lineno)

    def _risky(self, module: str, line: int) -> None:
        if module in _RISKY_MODULES:
            self.risky_imports.setdefault(module, line)

    # references
    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load) and node.id not in self.shadowed:
            self._reference(self.aliases.get(node.id, node.id), node.lineno)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        name = qualified_name(node, self.aliases) if isinstance(node.ctx, ast.Load) else None
        if name is not None and self._reference(name, node.lineno):
            return  # the shorter prefixes of a matched chain are not separate hits
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        base = qualified_name(node.value, self.aliases)
        if base in ("__builtins__", "builtins.__dict__", "__builtins__.__dict__"):
            self._hit(node.lineno, "exec", f"{base}[...]")
        self.generic_visit(node)

    def visit_Expr(self, node: ast.Expr) -> None:
        if not (isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            self.generic_visit(node)  # a bare string is a docstring or comment, not a path in use

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and any(s in node.value for s in _SENSITIVE_PATHS):
            self._hit(node.lineno, "sensitive-path", _short(node.value))

    def visit_Call(self, node: ast.Call) -> None:
        name = qualified_name(node.func, self.aliases)
        if name in ("getattr", "builtins.getattr") and len(node.args) >= 2 and "getattr" not in self.shadowed:
            target = qualified_name(node.args[0], self.aliases)
            attr = node.args[1]
            if target in _DYNAMIC_TARGETS:
                if isinstance(attr, ast.Constant) and isinstance(attr.value, str):
                    self._reference(f"{target}.{attr.value}".removeprefix("__builtins__."), node.lineno)
                else:
                    self._hit(node.lineno, "exec", f"getattr({target}, ...)")
        elif name in ("importlib.import_module", "importlib.__import__") and not (
            node.args and isinstance(node.args[0], ast.Constant)
        ):
            self._hit(node.lineno, "dynamic-import", name)
        elif name in _EXEC and name is not None and node.args and self._decodes(node.args[0]):
            self._hit(node.lineno, "exec", name, obfuscated=True)
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                self.visit(arg)
            return
        self.generic_visit(node)

    def _decodes(self, expr: ast.expr) -> bool:
        for node in ast.walk(expr):
            if isinstance(node, ast.Call):
                name = qualified_name(node.func, self.aliases)
                if name in _DECODERS or (
                    isinstance(node.func, ast.Attribute) and node.func.attr == "fromhex"
                ):
                    return True
        return False

    def _reference(self, name: str, line: int) -> bool:
        kind = _kind(name)
        if kind is None:
            return False
        if kind == "network" and self.depth == 0:
            kind = "network-at-import"
        if name.startswith("builtins."):
            name = name.removeprefix("builtins.")
        self._hit(line, kind, name)
        return True

    def _hit(self, line: int, kind: str, name: str, obfuscated: bool = False) -> None:
        if any(h.line == line and h.name == name for h in self.hits[-4:]):
            return
        if len(self.hits) < MAX_HITS_PER_FILE:
            self.hits.append(_Hit(line, kind, name, obfuscated))


def _kind(name: str) -> str | None:
    if name in _EXEC:
        return "exec"
    if name in _PROCESS or name.startswith(_PROCESS_PREFIXES):
        return "process"
    if name in _DESERIALIZE:
        return "deserialize"
    if name in _UNPICKLE_FILE:
        return "unpickle-file"
    if name in _NETWORK or name.startswith(_NETWORK_PREFIXES):
        return "network"
    if name in _FILE_DESTRUCTIVE:
        return "file"
    return None


def _defined_names(tree: ast.AST) -> set[str]:
    """Names the module defines itself (functions, classes, assignments, parameters)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return names


def _short(text: str) -> str:
    return text if len(text) <= 80 else text[:79] + "…"
