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

import hashlib
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

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
from aispm.model import JSON, ErrorKind

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
_MAX_ZIP_ENTRIES = 100_000
_MAX_ZIP_MEMBER = 16 * 1024 * 1024
_MAX_CONFIG = 1024 * 1024
_CHUNK = 1024 * 1024


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
    version = "1"

    def wants(self, file: SourceFile) -> bool:
        """Model and dataset extensions, Modelfiles, HF ``config.json``, and sniffed extensionless files."""
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
        if suffix == "" and file.size >= 64:
            # HF cache blobs and Ollama blobs carry no extension; only a sniff tells.
            return sniff(file.read_head(16)) in ("gguf", "safetensors", "pickle", "hdf5")
        return False

    def collect(self, file: SourceFile) -> Iterator[Observation]:
        """Yield the artifact (or dataset) asset, then report a header it could not read."""
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
        head = file.read_head(_HEAD)
        artifact = _identify(file, head)
        if artifact is None:
            return
        yield from _artifact_observations(file, artifact, head)
        if artifact.problem is not None:
            raise CollectorError(f"{artifact.fmt} header: {artifact.problem}", ErrorKind.PARSE)


# --- identification ------------------------------------------------------------------------------


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
    if kind == "safetensors" or suffix == ".safetensors":
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
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
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


def _artifact_observations(file: SourceFile, art: _Artifact, head: bytes) -> Iterator[Observation]:
    props: dict[str, JSON] = {"format": art.fmt, "source": "artifact", "size": file.size}
    if art.framework:
        props["framework"] = art.framework
    if art.risk:
        props["serialization_risk"] = art.risk
    props.update(art.props)
    if art.problem is not None:
        props["header_valid"] = False
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
    asset = model_asset(file.path, "local", file.loc(), file.scope, properties=props)
    yield asset
    if hub is not None and hub[0] == "models":
        yield ModelMention(
            file.loc(), "huggingface-cache", value=hub[1], provider="huggingface", strong=True,
            owner=asset.id, revision=hub[2],
        )  # fmt: skip


def sha256_file(file: SourceFile) -> str:
    """The whole file's SHA-256, streamed in chunks."""
    h = hashlib.sha256()
    try:
        with open(file.abs_path, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                h.update(chunk)
    except OSError as exc:
        raise CollectorError(f"cannot read: {exc.strerror or exc}", ErrorKind.READ) from exc
    return h.hexdigest()


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
    """A ``config.json`` declaring a model: facts for a weightless model directory, and its base model."""
    try:
        doc = json.loads(file.read_bytes(_MAX_CONFIG))
    except ValueError:
        # Not every config.json is JSON a model library wrote; those are other collectors' business.
        return
    if not (isinstance(doc, dict) and isinstance(doc.get("architectures"), list)):
        return
    facts = _config_facts(doc)
    folder = Path(file.abs_path).parent
    try:
        has_weights = any(_WEIGHT_NAMES.search(p.name) for p in folder.iterdir())
    except OSError:
        has_weights = False
    hub = _hf_cache_id(file.path)
    owner: str | None = None
    if not has_weights and hub is None:
        # Weights may be fetched at run time or kept in Git LFS: the directory is still a model.
        name = str(PurePosixPath(file.path).parent)
        props: dict[str, JSON] = {"format": "huggingface-config", "source": "artifact", **facts}
        asset = model_asset(name, "local", file.loc(1), file.scope, properties=props)
        owner = asset.id
        yield asset
    base = facts.get("name_or_path")
    if hub is None and isinstance(base, str) and base.count("/") == 1 and not base.startswith((".", "/")):
        yield ModelMention(file.loc(), "config.json:_name_or_path", value=base, strong=True, owner=owner)


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
        "source": "artifact",
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
