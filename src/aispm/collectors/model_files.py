"""Model artifacts and dataset files present in the tree (inventory only; deep scanning is elsewhere).

A file is a model artifact by extension *and* content: the magic bytes and header must agree
(a ``.bin`` that is neither a PyTorch zip, a pickle nor GGML is not a model). Headers are read
with bounds; nothing is ever deserialized. Each artifact becomes a ``model`` asset (provider
``local``, named by its path) with format, framework, size, sha256, ``source: artifact`` and, for
pickle-based formats, ``serialization_risk`` as a fact for checks to judge. Weights inside a
Hugging Face cache (``models--org--name/snapshots/<commit>/``) also yield a strong mention of
``org/name`` at that revision, so the hub model and its purl join the inventory.

Dataset files (Parquet, Arrow, JSONL, CSV, TFRecord...) count only where the tree says they are
data: a data-ish folder (``data/``, ``datasets/``, ``train/``...), a Hugging Face datasets cache,
or a folder holding ``dataset_info.json``. A CSV beside source code is not a dataset.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from aispm.analysis.model_headers import (
    HeaderError,
    npy_has_objects,
    onnx_summary,
    parse_lfs_pointer,
    read_gguf_header,
    read_safetensors_header,
    sniff,
)
from aispm.assets import dataset_asset, model_asset
from aispm.collectors.base import Collector, CollectorError, ModelMention, Observation, SourceFile
from aispm.model import JSON, ErrorKind, Location, Relation, RelationKind

if TYPE_CHECKING:
    from aispm.analysis.artifact_report import ArtifactReport, FormatResult

# The analysers (pickle walker, containers, format readers, signing) are imported where they are
# first needed: a scan of a tree without model files, or a rescan served from the cache, never
# pays for them.

#: Extension -> the format it claims. Content decides whether the claim holds.
MODEL_EXTENSIONS: dict[str, str] = {
    ".safetensors": "safetensors",
    ".gguf": "gguf",
    ".ggml": "ggml",
    ".onnx": "onnx",
    ".pt": "pytorch",
    ".pth": "pytorch",
    ".bin": "pytorch",
    ".ckpt": "pytorch",
    ".pkl": "pickle",
    ".pickle": "pickle",
    ".joblib": "joblib",
    ".h5": "keras-h5",
    ".hdf5": "keras-h5",
    ".keras": "keras",
    ".tflite": "tflite",
    ".mlmodel": "coreml",
    ".npy": "numpy",
    ".npz": "numpy",
}
DATASET_EXTENSIONS = frozenset(
    {".parquet", ".arrow", ".jsonl", ".csv", ".tsv", ".tfrecord", ".tfrecords", ".avro"}
)
#: Folder names that say "this holds data".
DATA_DIRS = frozenset(
    {
        "data", "dataset", "datasets", "train", "training", "training_data", "train_data", "trainset",
        "eval", "evals", "evaluation", "validation", "val", "corpus", "corpora", "finetune", "fine-tune",
        "fine_tune", "finetuning", "fine-tuning", "sft", "rlhf", "dpo", "annotations", "labels",
    }
)  # fmt: skip
_DATASET_MARKERS = ("dataset_info.json", "dataset_dict.json", "dataset_infos.json")
_HF_CACHE = re.compile(r"(?:^|/)(models|datasets)--([^/]+)/(?:snapshots/([0-9a-fA-F]{7,64})/|blobs/)")
_PICKLE_FRAMEWORKS = (
    (b"sklearn", "scikit-learn"), (b"xgboost", "xgboost"), (b"lightgbm", "lightgbm"), (b"torch", "pytorch"),
    (b"keras", "keras"), (b"tensorflow", "tensorflow"), (b"catboost", "catboost"),
    (b"transformers", "transformers"), (b"pandas", "pandas"), (b"numpy", "numpy"),
)  # fmt: skip
_HEAD = 64 * 1024
#: Suffixes of text and source files other collectors read: never sniffed for model content
#: (anything else, ``.txt`` and extension-less files included, is routed by its first bytes).
_TEXT_SUFFIXES = frozenset(
    {".py", ".pyi", ".pyw", ".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".tsx", ".jsx", ".svelte", ".vue",
     ".md", ".mdx", ".rst", ".json", ".jsonc", ".json5", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".conf",
     ".html", ".htm", ".css", ".scss", ".less", ".svg", ".ipynb", ".lock", ".xml", ".sh", ".bash", ".ps1",
     ".go", ".mod", ".sum", ".java", ".kt", ".gradle", ".properties", ".rs", ".c", ".h", ".cc", ".cpp",
     ".hpp", ".cs", ".rb", ".php", ".swift", ".tf", ".tfvars", ".hcl", ".bicep", ".sql", ".csv", ".tsv",
     ".jsonl", ".env", ".example", ".sample", ".template", ".dockerfile", ".gitignore", ".dockerignore"}
)  # fmt: skip
#: Formats that make a file a model artifact even when its name does not say so (a safe pickle or
#: a plain array with an unknown name is data; anything unsafe is reported whatever it is).
_MODEL_CONTENT = frozenset(
    {"pytorch-zip", "pytorch-legacy", "pytorch-tar", "pytorch-package", "torchscript", "joblib", "keras",
     "keras-h5", "safetensors", "gguf", "ggml", "onnx", "tensorflow-savedmodel", "tflite", "nemo"}
)  # fmt: skip
_SIGNATURE_SUFFIXES = (".sig", ".sigstore", ".sigstore.json")
_MAX_ISSUES = 100
_MAX_GLOBALS = 200
_MAX_CARD = 256 * 1024
_MAX_MANIFEST = 64 * 1024
_MAX_ZIP_ENTRIES = 100_000
_MAX_ZIP_MEMBER = 16 * 1024 * 1024
_MAX_CONFIG = 1024 * 1024


@dataclass
class _Artifact:
    """What the content says: format and facts, or why the header could not be read."""

    fmt: str
    framework: str | None = None
    risk: str | None = None
    props: dict[str, JSON] = field(default_factory=dict)
    problem: str | None = None


class ModelFileCollector(Collector):
    """Finds model artifacts and dataset files by extension and magic bytes."""

    name = "model-files"
    version = "3"

    def wants(self, file: SourceFile) -> bool:
        """Model and dataset extensions, model-directory and signature files, Ollama manifests, and
        any other non-text file whose first bytes say it is a model or a container of one."""
        suffix = file.suffix
        if suffix in MODEL_EXTENSIONS:
            return True
        name = file.name
        if name == "Modelfile" or name.lower().endswith(".modelfile"):
            return True
        if name == "config.json":
            return file.size <= _MAX_CONFIG
        if name in ("saved_model.pb", "flax_model.msgpack"):
            return True
        if suffix in DATASET_EXTENSIONS:
            return _is_data_path(file)
        if name.lower().endswith(_SIGNATURE_SUFFIXES):
            return True
        if _is_ollama_manifest(file):
            return True
        if suffix in _TEXT_SUFFIXES or file.size < 8:
            return False
        from aispm.analysis.artifact_formats import HEAD_BYTES, sniff_artifact

        return sniff_artifact(file.read_head(HEAD_BYTES)) is not None

    def neighbours(self, file: SourceFile) -> list[Path]:
        """A weight file carries facts of its folder's ``config.json`` and model card."""
        if file.suffix not in MODEL_EXTENSIONS and file.name not in ("saved_model.pb", "flax_model.msgpack"):
            return []
        folder = file.abs_path.parent
        return [folder / "config.json", folder / "README.md"]

    def cacheable(self, file: SourceFile) -> bool:
        """Files judged with their folder (configs, signatures, manifests) are read on every scan."""
        return not (
            file.name == "config.json"
            or file.name.lower().endswith(_SIGNATURE_SUFFIXES)
            or _is_ollama_manifest(file)
        )

    def collect(self, file: SourceFile) -> Iterator[Observation]:
        """Yield the artifact (or dataset) asset, then report a header it could not read."""
        from aispm.analysis.artifact_report import Verdict
        from aispm.analysis.model_scan import scan_model_file

        name = file.name
        if name == "Modelfile" or name.lower().endswith(".modelfile"):
            yield from _modelfile(file)
            return
        if name == "config.json":
            yield from _hf_config(file)
            return
        if file.suffix in DATASET_EXTENSIONS:
            yield from _dataset(file)
            return
        if name.lower().endswith(_SIGNATURE_SUFFIXES):
            yield from _signature(file)
            return
        if _is_ollama_manifest(file):
            yield from _ollama_manifest(file)
            return
        head = file.read_head(_HEAD)
        artifact = _identify(file, head)
        report = (
            None
            if artifact is not None and artifact.props.get("lfs_pointer")
            else scan_model_file(file.abs_path)
        )
        if artifact is None or not _named_as_model(file):
            # A file whose name does not say "model" is one by content only: a model format, or
            # anything that is not safe (a plain pickle in a ``.txt`` is data).
            if report is None or (report.verdict is Verdict.SAFE and report.format not in _MODEL_CONTENT):
                return
            if artifact is None:
                framework = report.facts.get("framework")
                artifact = _Artifact(report.format, str(framework) if isinstance(framework, str) else None)
        yield from _artifact_observations(file, artifact, head, report)
        if artifact.problem is not None:
            raise CollectorError(f"{artifact.fmt} header: {artifact.problem}", ErrorKind.PARSE)


# --- identification ------------------------------------------------------------------------------


def _named_as_model(file: SourceFile) -> bool:
    """Whether the file's name or place says it holds model weights (extension, name, hub cache)."""
    return (
        file.suffix in MODEL_EXTENSIONS
        or file.name in ("saved_model.pb", "flax_model.msgpack")
        or _hf_cache_id(file.path) is not None
    )


def _identify(file: SourceFile, head: bytes) -> _Artifact | None:
    """The artifact ``file`` is, or None when its content does not bear out its name."""
    kind = sniff(head)
    suffix = file.suffix
    claimed = MODEL_EXTENSIONS.get(suffix)
    if kind == "lfs-pointer" and claimed is not None:
        oid, size = parse_lfs_pointer(head)
        return _Artifact(claimed, props={"lfs_pointer": True, "lfs_oid_sha256": oid, "lfs_size": size})
    if kind == "gguf":
        return _gguf(file)
    if kind == "safetensors" or (suffix == ".safetensors" and kind is None):
        return _safetensors(file)
    if file.name == "saved_model.pb":
        return _Artifact("tensorflow-savedmodel", "tensorflow")
    if file.name == "flax_model.msgpack":
        return _Artifact("flax-msgpack", "flax")
    if kind == "ggml":
        return _Artifact("ggml", "llama.cpp")
    if kind == "zip":
        return _zip_artifact(file, suffix)
    if kind == "pickle" or (suffix in (".pkl", ".pickle", ".joblib") and _looks_like_old_pickle(head)):
        return _pickle(suffix, head)
    if kind == "hdf5":
        return _hdf5(file, head)
    if kind == "npy":
        return _npy(file, head)
    if suffix == ".onnx":
        try:
            return _Artifact("onnx", "onnx", props=onnx_summary(head))
        except HeaderError as exc:
            return _Artifact("onnx", "onnx", problem=str(exc))
    if suffix == ".tflite":
        return _Artifact(
            "tflite", "tensorflow-lite", problem=None if kind == "tflite" else "no TFL3 identifier"
        )
    if suffix == ".mlmodel":
        return _Artifact("coreml", "coreml")
    if suffix in (".pkl", ".pickle", ".joblib") and head[:2] in (b"\x1f\x8b", b"x\x9c", b"\x04\x22"):
        # joblib's compressed dumps (gzip, zlib, lz4) wrap a pickle.
        return _Artifact("joblib", "scikit-learn" if suffix == ".joblib" else None, risk="pickle",
                         props={"compressed": True})  # fmt: skip
    if suffix in (".pkl", ".pickle", ".joblib"):
        # By convention these are pickles even when the opening bytes are not recognised.
        return _Artifact(MODEL_EXTENSIONS[suffix], risk="pickle", props={"magic_verified": False})
    return None


def _looks_like_old_pickle(head: bytes) -> bool:
    # Protocols 0 and 1 have no magic; they open with a mark, a global or an empty container.
    return head[:1] in (b"(", b"c", b"]", b"}", b"N", b"I", b"S", b"V") and head.rstrip().endswith(b".")


def _safetensors(file: SourceFile) -> _Artifact:
    art = _Artifact("safetensors")
    try:
        with open(file.abs_path, "rb") as fh:
            h = read_safetensors_header(fh, file.size)
    except HeaderError as exc:
        art.problem = str(exc)
        return art
    except OSError as exc:
        raise CollectorError(f"cannot read: {exc.strerror or exc}", ErrorKind.READ) from exc
    fmt = h.metadata.get("format")
    art.framework = {"pt": "pytorch", "tf": "tensorflow", "flax": "flax", "mlx": "mlx", "np": "numpy"}.get(
        fmt or "", fmt
    )
    art.props = {
        "tensor_count": h.tensor_count,
        "parameter_count": h.parameter_count,
        "dtypes": list(h.dtypes),
        **({"metadata": dict(h.metadata)} if h.metadata else {}),
    }
    return art


def _gguf(file: SourceFile) -> _Artifact:
    art = _Artifact("gguf", "llama.cpp")
    try:
        with open(file.abs_path, "rb") as fh:
            h = read_gguf_header(fh, file.size)
    except HeaderError as exc:
        art.problem = str(exc)
        return art
    except OSError as exc:
        raise CollectorError(f"cannot read: {exc.strerror or exc}", ErrorKind.READ) from exc
    art.props = {"gguf_version": h.version, "tensor_count": h.tensor_count, "metadata_count": h.kv_count}
    for key, value in h.metadata.items():
        art.props[key.removeprefix("general.").replace(".", "_")] = value
    if not h.complete:
        art.props["metadata_truncated"] = True
    return art


def _zip_artifact(file: SourceFile, suffix: str) -> _Artifact | None:
    from aispm.analysis.zip_reader import ZIPFILE_ERRORS

    try:
        with zipfile.ZipFile(file.abs_path) as zf:
            infos = zf.infolist()
            if len(infos) > _MAX_ZIP_ENTRIES:
                return _Artifact(MODEL_EXTENSIONS.get(suffix, "zip"), problem=f"{len(infos)} zip entries")
            names = [i.filename for i in infos]
            if suffix == ".keras" or ("config.json" in names and "metadata.json" in names):
                return _keras_zip(zf)
            if suffix == ".npz":
                return _npz(zf, infos)
    except ZIPFILE_ERRORS as exc:  # zipfile refuses what loaders may still read: the verdict decides
        if suffix in (".pt", ".pth", ".ckpt", ".keras", ".npz"):
            return _Artifact(MODEL_EXTENSIONS[suffix], problem=f"unreadable zip: {exc}")
        return None
    if any(n.endswith("/data.pkl") or n == "data.pkl" for n in names):
        torchscript = any(n.endswith("/constants.pkl") for n in names) and any("/code/" in n for n in names)
        return _Artifact(
            "torchscript" if torchscript else "pytorch",
            "pytorch",
            risk="pickle",
            props={"zip_entries": len(names)},
        )
    return None


def _keras_zip(zf: zipfile.ZipFile) -> _Artifact:
    art = _Artifact("keras", "keras")
    try:
        info = zf.getinfo("config.json")
    except KeyError:
        return art
    if info.file_size <= _MAX_ZIP_MEMBER:
        with zf.open(info) as fh:
            config = fh.read(_MAX_ZIP_MEMBER + 1)
        # Lambda layers carry marshalled Python code; recorded as a fact, never loaded.
        if b'"Lambda"' in config:
            art.risk = "keras-lambda"
    return art


def _npz(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> _Artifact:
    art = _Artifact("numpy", "numpy", props={"arrays": len(infos)})
    for info in infos[:1000]:
        if not info.filename.endswith(".npy"):
            continue
        with zf.open(info) as fh:
            head = fh.read(4096)
        try:
            if npy_has_objects(head):
                art.risk = "pickle"
                break
        except HeaderError as exc:
            art.problem = f"{info.filename}: {exc}"
            break
    return art


def _pickle(suffix: str, head: bytes) -> _Artifact:
    protocol = head[1] if head[:1] == b"\x80" else 0
    frameworks = [fw for needle, fw in _PICKLE_FRAMEWORKS if needle in head]
    framework = frameworks[0] if frameworks else None
    fmt = {".joblib": "joblib", ".pt": "pytorch-legacy", ".pth": "pytorch-legacy", ".bin": "pytorch-legacy",
           ".ckpt": "pytorch-legacy"}.get(suffix, "pickle")  # fmt: skip
    if fmt == "pytorch-legacy":
        framework = "pytorch"
    return _Artifact(fmt, framework, risk="pickle", props={"pickle_protocol": protocol})


def _hdf5(file: SourceFile, head: bytes) -> _Artifact | None:
    if b"keras_version" not in head and b"model_config" not in head:
        with open(file.abs_path, "rb") as fh:
            more = fh.read(4 * 1024 * 1024)
        if b"keras_version" not in more and b"model_config" not in more:
            # Plain HDF5 data, not a Keras model.
            return None
        head = more
    return _Artifact("keras-h5", "keras", risk="keras-lambda" if b'"Lambda"' in head else None)


def _npy(file: SourceFile, head: bytes) -> _Artifact | None:
    try:
        objects = npy_has_objects(head)
    except HeaderError as exc:
        return _Artifact("numpy", "numpy", problem=str(exc))
    if objects:
        return _Artifact("numpy", "numpy", risk="pickle")
    # A plain array is data, not a model, unless it sits with other weights.
    if _hf_cache_id(file.path) is not None or _model_dir_config(file) is not None:
        return _Artifact("numpy", "numpy")
    return None


# --- observations -------------------------------------------------------------------------------


def _artifact_observations(
    file: SourceFile, art: _Artifact, head: bytes, report: ArtifactReport | None
) -> Iterator[Observation]:
    props: dict[str, JSON] = {"format": art.fmt, "source": "artifact", "size": file.size}
    if art.framework:
        props["framework"] = art.framework
    if art.risk:
        props["serialization_risk"] = art.risk
    props.update(art.props)
    if art.problem is not None:
        props["header_valid"] = False
    if report is not None:
        props["safety"] = safety_properties(report)
        if report.format != art.fmt:
            props["content_format"] = report.format
        for key in ("tensor_count", "parameter_count", "dtypes", "containers", "pickles"):
            if key in report.facts and key not in props:
                props[key] = report.facts[key]
        if "framework" not in props and isinstance(report.facts.get("framework"), str):
            props["framework"] = report.facts["framework"]
    if props.get("lfs_pointer"):
        props["sha256"] = props.pop("lfs_oid_sha256", None)
        props["size"] = props.pop("lfs_size", None)
    else:
        props["sha256"] = sha256_file(file)
    hub = _hf_cache_id(file.path)
    if hub is not None:
        props["hub_id"] = hub[1]
    config = _model_dir_config(file)
    if config is not None:
        props.update({k: v for k, v in _config_facts(config).items() if k != "name_or_path"})
    card = _model_card(Path(file.abs_path).parent)
    props.update({k: v for k, v in _card_facts(card).items() if k not in props})
    asset = model_asset(file.path, "local", file.loc(), file.scope, properties=props)
    yield asset
    folder = posixpath.dirname(file.path)
    if config is not None and hub is None and folder:
        # The model directory owns its weight files (its asset exists where the folder is reported).
        yield Relation(model_asset(folder, "local", None, file.scope).id, asset.id, RelationKind.CONTAINS)
    if hub is not None and hub[0] == "models":
        yield ModelMention(
            file.loc(), "huggingface-cache", value=hub[1], provider="huggingface", strong=True,
            owner=asset.id, revision=hub[2],
        )  # fmt: skip
    else:
        yield from _base_models(file, card, asset.id)


def safety_properties(report: ArtifactReport) -> dict[str, JSON]:
    """The static verdict as the ``safety`` property of a model asset (issues and globals bounded)."""
    out = report.to_dict()
    issues = out["issues"]
    if len(issues) > _MAX_ISSUES:
        out["issues"] = issues[:_MAX_ISSUES]
        out["issues_total"] = len(issues)
    if len(report.globals) > _MAX_GLOBALS:
        out["globals"] = list(report.globals[:_MAX_GLOBALS])
        out["globals_total"] = len(report.globals)
    return out


def _result_properties(result: FormatResult) -> dict[str, JSON]:
    """A directory-level analysis (HF folder, signature) as a property of the asset it judges."""
    from aispm.analysis.artifact_report import Verdict

    issues = [i.to_dict() for i in result.issues]
    out: dict[str, JSON] = {
        "verdict": str(max((i.verdict for i in result.issues), key=lambda v: v.rank, default=Verdict.SAFE)),
        "issues": issues[:_MAX_ISSUES],
        "facts": dict(result.facts),
    }
    if len(issues) > _MAX_ISSUES:
        out["issues_total"] = len(issues)
    return out


def _model_card(folder: Path) -> dict[str, JSON]:
    """The provenance facts of the model card (``README.md`` front matter) in ``folder``."""
    from aispm.analysis.model_card import read_model_card

    path = folder / "README.md"
    try:
        if not path.is_file() or path.stat().st_size > _MAX_CARD:
            return {}
        text = path.read_bytes()[:_MAX_CARD].decode("utf-8", "replace")
    except OSError:
        return {}
    return read_model_card(text)


def _card_facts(card: Mapping[str, JSON]) -> dict[str, JSON]:
    out: dict[str, JSON] = {}
    for key in ("license", "base_model", "datasets", "pipeline_tag", "library_name", "language"):
        value = card.get(key)
        if value:
            out[key] = value
    return out


def _base_models(file: SourceFile, card: Mapping[str, JSON], owner: str) -> Iterator[Observation]:
    """The hub models a model card says this one derives from (``base_model``)."""
    bases = card.get("base_model")
    for base in bases if isinstance(bases, list) else []:
        if isinstance(base, str) and base.count("/") == 1 and not base.startswith((".", "/")):
            yield ModelMention(
                file.loc(), "model-card:base_model", value=base, provider="huggingface", strong=True,
                owner=owner, relation=RelationKind.DERIVED_FROM,
            )  # fmt: skip


def _rel(file: SourceFile, target: Path) -> str:
    """``target`` (an absolute path near ``file``) as a path relative to the scanned target."""
    return posixpath.normpath(
        posixpath.join(
            posixpath.dirname(file.path), os.path.relpath(target, file.abs_path.parent).replace(os.sep, "/")
        )
    )


def _signature(file: SourceFile) -> Iterator[Observation]:
    """A model-signing / sigstore bundle: the signed model checked against it (offline integrity)."""
    from aispm.analysis.artifact_io import sha256_of
    from aispm.analysis.model_signing import signed_model_path, verify_model_signature

    model_path = signed_model_path(file.abs_path)
    if model_path is None:
        model_path = file.abs_path.parent
    result = verify_model_signature(model_path, file.abs_path, hash_file=sha256_of)
    rel = _rel(file, model_path)
    is_dir = model_path.is_dir()
    name = rel if rel != "." else (posixpath.dirname(file.path) or ".")
    props: dict[str, JSON] = {
        "source": "artifact",
        "signature": {**_result_properties(result), "bundle": file.path},
    }
    if is_dir:
        props["format"] = "model-directory"
    loc = file.loc() if is_dir else Location(path=name)
    yield model_asset(name, "local", loc, file.scope, properties=props)


def _is_ollama_manifest(file: SourceFile) -> bool:
    return (
        "/manifests/" in "/" + file.path and file.size <= _MAX_MANIFEST and "/blobs/" not in "/" + file.path
    )


def _ollama_manifest(file: SourceFile) -> Iterator[Observation]:
    """An Ollama store manifest: the model it names, linked to its weight blob."""
    from aispm.analysis.ollama import find_store_root, read_manifest

    store = find_store_root(file.abs_path)
    if store is None:
        return
    model = read_manifest(file.abs_path, store_root=store)
    if model is None:
        return
    props: dict[str, JSON] = {"format": "ollama-manifest", "source": "artifact", "manifest": file.path}
    props.update({k: v for k, v in model.config.items() if isinstance(v, str | int | float)})
    if "license" in model.texts:
        props["license_text"] = model.texts["license"][:200]
    props["ollama"] = _result_properties(model.result)
    asset = model_asset(model.name, "ollama", file.loc(), file.scope, properties=props)
    yield asset
    for role in ("model", "adapter", "projector"):
        for blob in model.blobs(role):
            blob_id = model_asset(_rel(file, blob), "local", None, file.scope).id
            yield Relation(asset.id, blob_id, RelationKind.CONTAINS)


def sha256_file(file: SourceFile) -> str:
    """The whole file's SHA-256, streamed in chunks (remembered for the process, so a signature
    check of the same folder does not hash the weights again)."""
    from aispm.analysis.artifact_io import sha256_of

    try:
        return sha256_of(file.abs_path)
    except OSError as exc:
        raise CollectorError(f"cannot read: {exc.strerror or exc}", ErrorKind.READ) from exc


def _hf_cache_id(path: str) -> tuple[str, str, str | None] | None:
    """(models|datasets, repo id, commit) for a file inside a Hugging Face hub cache."""
    m = _HF_CACHE.search(path)
    if m is None:
        return None
    repo = m.group(2).split("--")
    if not all(repo):
        return None
    return m.group(1), "/".join(repo), m.group(3).lower() if m.group(3) else None


def _model_dir_config(file: SourceFile) -> dict[str, JSON] | None:
    """The Hugging Face ``config.json`` beside ``file``, when there is one that declares a model."""
    return _read_model_config(Path(file.abs_path).parent / "config.json")


def _read_model_config(path: Path) -> dict[str, JSON] | None:
    try:
        if not path.is_file() or path.stat().st_size > _MAX_CONFIG:
            return None
        doc = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    if isinstance(doc, dict) and (isinstance(doc.get("architectures"), list) or "model_type" in doc):
        return doc
    return None


def _config_facts(config: dict[str, JSON]) -> dict[str, JSON]:
    out: dict[str, JSON] = {}
    archs = config.get("architectures")
    if isinstance(archs, list) and archs and isinstance(archs[0], str):
        out["architecture"] = archs[0]
    if isinstance(config.get("model_type"), str):
        out["model_type"] = config["model_type"]
    if isinstance(config.get("_name_or_path"), str):
        out["name_or_path"] = config["_name_or_path"]
    if isinstance(config.get("transformers_version"), str):
        out["transformers_version"] = config["transformers_version"]
    return out


_WEIGHT_NAMES = re.compile(r"\.(safetensors|bin|pt|pth|ckpt|h5|msgpack|onnx|gguf|npz)$")


def _hf_config(file: SourceFile) -> Iterator[Observation]:
    """A ``config.json`` declaring a model: the model directory, judged as a whole (remote code,
    custom code, chat templates, mixed formats), its facts and model card, and its base model."""
    from aispm.analysis.hf_repo import analyze_model_dir

    try:
        doc = json.loads(file.read_bytes(_MAX_CONFIG))
    except ValueError:
        # Not every config.json is JSON a model library wrote; those are other collectors' business.
        return
    if not (
        isinstance(doc, dict)
        and (
            isinstance(doc.get("architectures"), list)
            or isinstance(doc.get("model_type"), str)
            or isinstance(doc.get("auto_map"), dict)
        )
    ):
        return  # a model library's config names its architecture, model type or remote code
    facts = _config_facts(doc)
    folder = Path(file.abs_path).parent
    try:
        has_weights = any(_WEIGHT_NAMES.search(p.name) for p in folder.iterdir())
    except OSError:
        has_weights = False
    hub = _hf_cache_id(file.path)
    rel_dir = str(PurePosixPath(file.path).parent)
    result = analyze_model_dir(folder, rel_dir=rel_dir)
    card = _model_card(folder)
    owner: str | None = None
    if (not has_weights and hub is None) or result.issues:
        # Weights may be fetched at run time or kept in Git LFS: the directory is still a model. A
        # directory with issues of its own (remote code, mixed formats) is reported as one too.
        props: dict[str, JSON] = {"format": "huggingface-config", "source": "artifact", **facts}
        props.update(_card_facts(card))
        props["model_dir"] = _result_properties(result)
        asset = model_asset(rel_dir, "local", file.loc(1), file.scope, properties=props)
        owner = asset.id
        yield asset
    base = facts.get("name_or_path")
    if hub is None and isinstance(base, str) and base.count("/") == 1 and not base.startswith((".", "/")):
        yield ModelMention(file.loc(), "config.json:_name_or_path", value=base, strong=True, owner=owner)
    if hub is None and owner is not None:
        yield from _base_models(file, card, owner)


def _modelfile(file: SourceFile) -> Iterator[Observation]:
    """An Ollama Modelfile: the model it builds and the base it builds from."""
    text = file.read_text()
    base: str | None = None
    base_line: int | None = None
    params: dict[str, str] = {}
    adapters: list[str] = []
    flags = {"system": False, "template": False, "license": False}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        parts = raw.strip().split(None, 1)
        if len(parts) < 2:
            continue
        word, rest = parts[0].upper(), parts[1].strip()
        if word == "FROM" and base is None:
            base, base_line = rest, lineno
        elif word == "PARAMETER":
            key, _, value = rest.partition(" ")
            params[key] = value.strip()[:100]
        elif word == "ADAPTER":
            adapters.append(rest)
        elif word.lower() in flags:
            flags[word.lower()] = True
    if base is None:
        raise CollectorError("Modelfile without a FROM instruction")
    props: dict[str, JSON] = {
        "format": "ollama-modelfile",
        "source": "modelfile",
        "base": base,
        "framework": "ollama",
    }
    if params:
        props["parameters"] = params
    if adapters:
        props["adapters"] = adapters
    props.update({f"has_{k}": v for k, v in flags.items()})
    asset = model_asset(file.path, "local", file.loc(1), file.scope, properties=props)
    yield asset
    if base.startswith((".", "/", "~")) or base.lower().endswith((".gguf", ".bin", ".safetensors")):
        return
    for prefix in ("hf.co/", "huggingface.co/"):
        if base.lower().startswith(prefix):
            repo = base[len(prefix) :].split(":", 1)[0]
            yield ModelMention(
                file.loc(base_line),
                "Modelfile FROM",
                value=repo,
                provider="huggingface",
                strong=True,
                owner=asset.id,
            )
            return
    yield ModelMention(
        file.loc(base_line), "Modelfile FROM", value=base, provider="ollama", strong=True, owner=asset.id
    )


# --- datasets ------------------------------------------------------------------------------------


def _is_data_path(file: SourceFile) -> bool:
    parts = [p.lower() for p in PurePosixPath(file.path).parts[:-1]]
    if any(p in DATA_DIRS for p in parts) or _hf_cache_id(file.path) is not None:
        return True
    folder = Path(file.abs_path).parent
    return any((folder / marker).is_file() for marker in _DATASET_MARKERS)


def _dataset(file: SourceFile) -> Iterator[Observation]:
    props: dict[str, JSON] = {
        "format": file.suffix.lstrip("."),
        "size": file.size,
        "sha256": sha256_file(file),
    }
    hub = _hf_cache_id(file.path)
    if hub is not None and hub[0] == "datasets":
        if hub[2]:
            props["revision"] = hub[2]
        props["file"] = file.path
        yield dataset_asset(hub[1], "huggingface", file.loc(), file.scope, **props)
        return
    yield dataset_asset(file.path, "file", file.loc(), file.scope, **props)
