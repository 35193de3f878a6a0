"""Ollama's local model store: manifests, the content-addressed blobs they name, and their roles.

A store (``~/.ollama/models`` by default) holds ``manifests/<host>/<namespace>/<model>/<tag>``
(OCI-style JSON, ``schemaVersion`` 2) and ``blobs/sha256-<hex>``. Each manifest layer has a media
type (``application/vnd.ollama.image.model``, ``.template``, ``.system``, ``.params``, ``.license``,
``.adapter``, ``.projector``...), a ``sha256:`` digest and a size. :func:`read_manifest` maps the
layers to blob files, reads the small text layers (license, template, system prompt, params;
bounded), the config blob's model format and family, and notes integrity problems: a blob
missing, of another size than the manifest says, or (when a hash function is given) whose
content does not match its digest. Templates are Go templates, recorded as they are.

Digests are checked against ``sha256:<64 hex>`` before they become file names, so a manifest
cannot point outside the store.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from aispm.analysis.artifact_report import FormatResult, Issue, Verdict
from aispm.model import JSON, Severity

DEFAULT_HOST = "registry.ollama.ai"
LIBRARY_NAMESPACE = "library"
MAX_MANIFEST_BYTES = 1024 * 1024
MAX_LAYERS = 256
MAX_TEXT_BYTES = 64 * 1024
MAX_MANIFESTS = 10_000
_MAX_ASCENT = 16
_MEDIA_PREFIX = "application/vnd.ollama.image."
_DIGEST = re.compile(r"sha256:([0-9a-f]{64})")
_CONFIG_FACTS = ("model_format", "model_family", "model_type", "file_type")
_TEXT_ROLES = ("license", "template", "system", "params", "messages")


@dataclass(frozen=True, slots=True)
class OllamaLayer:
    """One layer of a manifest and the blob that holds it.

    ``role`` is the media type's last part (``model``, ``template``, ``license``...; the config blob
    is ``config``). ``blob`` is where the store keeps it, None when the digest is malformed.
    ``present`` tells whether that file exists; ``actual_size`` is its size when it does.
    """

    role: str
    media_type: str
    digest: str
    size: int | None
    blob: Path | None
    present: bool
    actual_size: int | None = None

    def to_dict(self) -> dict[str, JSON]:
        return {
            "role": self.role,
            "media_type": self.media_type,
            "digest": self.digest,
            "size": self.size,
            "blob": str(self.blob) if self.blob is not None else None,
            "present": self.present,
        }


@dataclass(frozen=True, slots=True)
class OllamaModel:
    """A model as one manifest of an Ollama store describes it.

    ``name`` is how ``ollama list`` shows it: ``model:tag`` for the official library,
    ``namespace/model:tag`` for other users of the default registry, ``host/namespace/model:tag``
    otherwise (``hf.co/org/repo:Q4_K_M``). ``texts`` holds the license, template, system prompt
    and params layers (each at most 64 KiB; ``truncated`` lists those cut short). ``config`` holds
    what the config blob says (``model_format``, ``model_family``, ``model_type``, ``file_type``).
    ``result`` carries the integrity issues and facts for the inventory.
    """

    name: str
    manifest: Path
    layers: tuple[OllamaLayer, ...]
    texts: dict[str, str] = field(default_factory=dict)
    truncated: tuple[str, ...] = ()
    config: dict[str, JSON] = field(default_factory=dict)
    result: FormatResult = field(default_factory=FormatResult)

    def blobs(self, role: str) -> list[Path]:
        """The present blob files of the layers with ``role`` (``model``, ``adapter``, ``projector``...)."""
        return [lay.blob for lay in self.layers if lay.role == role and lay.present and lay.blob is not None]

    @property
    def model_blob(self) -> Path | None:
        """The weights (a GGUF file, normally), when present."""
        found = self.blobs("model")
        return found[0] if found else None


def find_store_root(path: Path) -> Path | None:
    """The Ollama store ``path`` lies in (a folder holding ``manifests/`` and ``blobs/``), or None."""
    current = path if path.is_dir() else path.parent
    for _ in range(_MAX_ASCENT):
        if (current / "manifests").is_dir() and (current / "blobs").is_dir():
            return current
        if current.parent == current:
            return None
        current = current.parent
    return None


def iter_manifests(store_root: Path, *, limit: int = MAX_MANIFESTS) -> Iterator[Path]:
    """Manifest files of a store, in sorted order, at most ``limit``."""
    base = store_root / "manifests"
    count = 0
    for path in sorted(base.glob("*/*/*/*")):
        if count >= limit:
            return
        if path.is_file() and not path.is_symlink():
            count += 1
            yield path


def blob_path(store_root: Path, digest: str) -> Path | None:
    """Where the store keeps the blob of ``digest`` (``sha256:<hex>``); None for a malformed digest."""
    m = _DIGEST.fullmatch(digest)
    if m is None:
        return None
    blobs = store_root / "blobs"
    modern = blobs / f"sha256-{m.group(1)}"
    if modern.exists():
        return modern
    legacy = blobs / f"sha256:{m.group(1)}"  # older releases named blobs with a colon
    return legacy if legacy.exists() else modern


def model_name(manifest: Path, store_root: Path) -> str | None:
    """The name ``ollama list`` shows for ``manifest`` (see :class:`OllamaModel`), or None if misplaced."""
    try:
        parts = manifest.relative_to(store_root / "manifests").parts
    except ValueError:
        return None
    if len(parts) != 4:
        return None
    host, namespace, model, tag = parts
    if host == DEFAULT_HOST:
        return f"{model}:{tag}" if namespace == LIBRARY_NAMESPACE else f"{namespace}/{model}:{tag}"
    return f"{host}/{namespace}/{model}:{tag}"


def read_manifest(
    path: Path, *, store_root: Path, hash_blob: Callable[[Path], str] | None = None
) -> OllamaModel | None:
    """The model ``path`` (a manifest inside ``store_root``) describes; None when ``path`` is not where
    manifests live. A manifest that cannot be read or parsed gives a model with an ``ollama.malformed``
    issue and no layers.

    ``hash_blob``, when given, returns the hex SHA-256 of a blob (the caller's cached, streamed
    hash); each blob is then checked against its digest. Without it only sizes are compared.
    """
    name = model_name(path, store_root)
    if name is None:
        return None
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_MANIFEST_BYTES + 1)
    except OSError as exc:
        return _broken(name, path, f"cannot read manifest: {exc.strerror or exc}")
    if len(raw) > MAX_MANIFEST_BYTES:
        return _broken(name, path, f"manifest over {MAX_MANIFEST_BYTES} bytes")
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        return _broken(name, path, "manifest is not JSON")
    if not isinstance(doc, dict) or doc.get("schemaVersion") != 2 or not isinstance(doc.get("layers"), list):
        return _broken(name, path, "not a schemaVersion 2 manifest with layers")
    entries: list[tuple[str, object]] = [("config", doc.get("config"))]
    entries += [("layer", layer) for layer in doc["layers"][:MAX_LAYERS]]
    layers: list[OllamaLayer] = []
    issues: list[Issue] = []
    for kind, entry in entries:
        if not isinstance(entry, dict):
            continue
        layer = _layer(kind, entry, store_root)
        if layer is None:
            issues.append(_issue("ollama.malformed", f"{name}: a layer has no valid sha256 digest", entry))
            continue
        layers.append(layer)
        issues.extend(_integrity(name, layer, hash_blob))
    if len(doc["layers"]) > MAX_LAYERS:
        issues.append(
            Issue("ollama.malformed", Verdict.UNSCANNABLE, Severity.MEDIUM,
                  f"{name}: more than {MAX_LAYERS} layers; the rest were not read")
        )  # fmt: skip
    texts: dict[str, str] = {}
    truncated: list[str] = []
    config: dict[str, JSON] = {}
    for layer in layers:
        if not layer.present or layer.blob is None:
            continue
        if layer.role in _TEXT_ROLES and layer.role not in texts:
            text, cut = _read_text(layer.blob)
            if text is not None:
                texts[layer.role] = text
                if cut:
                    truncated.append(layer.role)
        elif layer.role == "config":
            config = _config(layer.blob)
    facts: dict[str, JSON] = {
        "ollama_model": name,
        "layers": [lay.role for lay in layers if lay.role != "config"],
    }
    facts.update({k: v for k, v in config.items() if k in _CONFIG_FACTS})
    model_layers = [lay for lay in layers if lay.role == "model"]
    if model_layers:
        facts["model_digest"] = model_layers[0].digest
        facts["model_size"] = model_layers[0].size
    if "license" in texts:
        facts["license_text"] = texts["license"][:300]
    return OllamaModel(
        name=name,
        manifest=path,
        layers=tuple(layers),
        texts=texts,
        truncated=tuple(truncated),
        config=config,
        result=FormatResult(facts=facts, issues=tuple(issues)),
    )


def _layer(kind: str, entry: dict[str, object], store_root: Path) -> OllamaLayer | None:
    digest = entry.get("digest")
    media = entry.get("mediaType")
    size = entry.get("size")
    if not isinstance(digest, str):
        return None
    blob = blob_path(store_root, digest)
    if blob is None:
        return None
    media_type = media if isinstance(media, str) else ""
    if kind == "config":
        role = "config"
    elif media_type.startswith(_MEDIA_PREFIX):
        role = media_type[len(_MEDIA_PREFIX) :] or "unknown"
    else:
        role = "unknown"
    declared = size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None
    try:
        st = blob.stat()
        present, actual = blob.is_file(), st.st_size
    except OSError:
        present, actual = False, None
    return OllamaLayer(role, media_type, digest, declared, blob, present, actual if present else None)


def _integrity(name: str, layer: OllamaLayer, hash_blob: Callable[[Path], str] | None) -> list[Issue]:
    detail: dict[str, JSON] = {"role": layer.role, "digest": layer.digest}
    if not layer.present or layer.blob is None:
        return [
            Issue("ollama.blob-missing", Verdict.UNSCANNABLE, Severity.LOW,
                  f"{name}: the {layer.role} blob {layer.digest} is not in the store", detail=detail)
        ]  # fmt: skip
    if layer.size is not None and layer.actual_size != layer.size:
        detail.update({"declared_size": layer.size, "actual_size": layer.actual_size})
        return [
            Issue("ollama.blob-size-mismatch", Verdict.SUSPICIOUS, Severity.MEDIUM,
                  f"{name}: the {layer.role} blob is {layer.actual_size} bytes, the manifest says "
                  f"{layer.size}: altered or incomplete", detail=detail)
        ]  # fmt: skip
    if hash_blob is not None:
        try:
            actual = hash_blob(layer.blob)
        except OSError as exc:
            return [
                _issue("ollama.blob-unreadable", f"{name}: cannot read the {layer.role} blob: {exc}", detail)
            ]
        if f"sha256:{actual.lower()}" != layer.digest:
            detail["actual_digest"] = f"sha256:{actual.lower()}"
            return [
                Issue("ollama.blob-digest-mismatch", Verdict.SUSPICIOUS, Severity.HIGH,
                      f"{name}: the {layer.role} blob's content does not match its digest (altered)",
                      detail=detail)
            ]  # fmt: skip
    return []


def _issue(rule: str, message: str, detail: object) -> Issue:
    safe: dict[str, JSON] = {}
    if isinstance(detail, dict):
        safe = {k: str(v)[:100] for k, v in list(detail.items())[:8] if isinstance(k, str)}
    return Issue(rule, Verdict.UNSCANNABLE, Severity.MEDIUM, message, detail=safe)


def _broken(name: str, path: Path, reason: str) -> OllamaModel:
    issue = Issue("ollama.malformed", Verdict.UNSCANNABLE, Severity.MEDIUM, f"{name}: {reason}")
    return OllamaModel(
        name=name, manifest=path, layers=(), result=FormatResult({"ollama_model": name}, (issue,))
    )


def _read_text(blob: Path) -> tuple[str | None, bool]:
    try:
        with open(blob, "rb") as fh:
            data = fh.read(MAX_TEXT_BYTES + 1)
    except OSError:
        return None, False
    cut = len(data) > MAX_TEXT_BYTES
    return data[:MAX_TEXT_BYTES].decode("utf-8", errors="replace"), cut


def _config(blob: Path) -> dict[str, JSON]:
    try:
        if blob.stat().st_size > MAX_TEXT_BYTES:
            return {}
        doc = json.loads(blob.read_bytes())
    except (OSError, ValueError, RecursionError):
        return {}
    if not isinstance(doc, dict):
        return {}
    out: dict[str, JSON] = {}
    for key in _CONFIG_FACTS:
        value = doc.get(key)
        if isinstance(value, str):
            out[key] = value[:100]
    families = doc.get("model_families")
    if isinstance(families, list):
        out["model_families"] = [str(f)[:100] for f in families[:16] if isinstance(f, str)]
    return out
