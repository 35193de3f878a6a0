"""Ollama stores laid out as Ollama writes them, with real GGUF blobs written by the gguf package."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import gguf
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aispm.analysis.artifact_report import Verdict
from aispm.analysis.model_headers import read_gguf_header
from aispm.analysis.ollama import (
    MAX_TEXT_BYTES,
    blob_path,
    find_store_root,
    iter_manifests,
    model_name,
    read_manifest,
)
from aispm.model import Severity

MEDIA = "application/vnd.ollama.image."


def write_gguf(path: Path) -> None:
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("tiny")
    writer.add_tensor("w", np.zeros((4, 4), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


class Store:
    """Builds ``manifests/`` and ``blobs/`` as ``ollama pull`` leaves them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "blobs").mkdir(parents=True, exist_ok=True)
        (root / "manifests").mkdir(exist_ok=True)

    def blob(self, data: bytes) -> dict[str, object]:
        digest = hashlib.sha256(data).hexdigest()
        (self.root / "blobs" / f"sha256-{digest}").write_bytes(data)
        return {"digest": f"sha256:{digest}", "size": len(data)}

    def manifest(self, name: str, layers: list[dict[str, object]], config: dict[str, object]) -> Path:
        host, namespace, model, tag = name.split("/")
        path = self.root / "manifests" / host / namespace / model / tag
        path.parent.mkdir(parents=True, exist_ok=True)
        doc = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", **config},
            "layers": layers,
        }
        path.write_text(json.dumps(doc))
        return path

    def model(self, name: str, *, license_text: str = "MIT License", template: str | None = None) -> Path:
        tmp = self.root / "tmp.gguf"
        write_gguf(tmp)
        weights = self.blob(tmp.read_bytes())
        tmp.unlink()
        layers = [{"mediaType": MEDIA + "model", **weights}]
        layers.append({"mediaType": MEDIA + "template", **self.blob((template or "{{ .Prompt }}").encode())})
        layers.append({"mediaType": MEDIA + "license", **self.blob(license_text.encode())})
        layers.append({"mediaType": MEDIA + "params", **self.blob(b'{"stop": ["<|eot_id|>"]}')})
        config = self.blob(
            json.dumps({"model_format": "gguf", "model_family": "llama", "model_type": "8.0B",
                        "file_type": "Q4_0", "model_families": ["llama"]}).encode()
        )  # fmt: skip
        return self.manifest(name, layers, config)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / ".ollama" / "models")


def test_library_model_with_real_gguf_blob(store: Store) -> None:
    path = store.model("registry.ollama.ai/library/llama3/latest")
    model = read_manifest(path, store_root=store.root)
    assert model is not None
    assert model.name == "llama3:latest"
    assert model.result.issues == ()
    assert [lay.role for lay in model.layers] == ["config", "model", "template", "license", "params"]
    assert model.texts["license"] == "MIT License"
    assert model.texts["template"] == "{{ .Prompt }}"
    assert model.config["model_family"] == "llama"
    assert model.result.facts["model_format"] == "gguf"
    assert model.model_blob is not None
    with open(model.model_blob, "rb") as fh:
        header = read_gguf_header(fh, model.model_blob.stat().st_size)
    assert header.metadata["general.name"] == "tiny"


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("registry.ollama.ai/library/qwen2/7b", "qwen2:7b"),
        ("registry.ollama.ai/someuser/mymodel/v1", "someuser/mymodel:v1"),
        (
            "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF/Q4_K_M",
            "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M",
        ),
    ],
)
def test_names_as_ollama_lists_them(store: Store, name: str, shown: str) -> None:
    path = store.model(name)
    assert model_name(path, store.root) == shown


def test_store_root_is_found_from_a_manifest_or_blob(store: Store) -> None:
    path = store.model("registry.ollama.ai/library/llama3/latest")
    assert find_store_root(path) == store.root
    model = read_manifest(path, store_root=store.root)
    assert model is not None and model.model_blob is not None
    assert find_store_root(model.model_blob) == store.root
    assert find_store_root(store.root.parent.parent) is None
    assert list(iter_manifests(store.root)) == [path]


def test_blob_with_another_size_than_the_manifest_says(store: Store) -> None:
    path = store.model("registry.ollama.ai/library/llama3/latest")
    model = read_manifest(path, store_root=store.root)
    assert model is not None and model.model_blob is not None
    with open(model.model_blob, "ab") as fh:
        fh.write(b"appended")
    again = read_manifest(path, store_root=store.root)
    assert again is not None
    assert [i.rule for i in again.result.issues] == ["ollama.blob-size-mismatch"]
    issue = again.result.issues[0]
    assert (issue.verdict, issue.severity) == (Verdict.SUSPICIOUS, Severity.MEDIUM)
    assert issue.detail["role"] == "model"


def test_blob_whose_content_no_longer_matches_its_digest(store: Store) -> None:
    path = store.model("registry.ollama.ai/library/llama3/latest", license_text="MIT License")
    model = read_manifest(path, store_root=store.root)
    assert model is not None
    license_blob = model.blobs("license")[0]
    license_blob.write_text("BAD License")  # same length, other content
    hashed = read_manifest(
        path, store_root=store.root, hash_blob=lambda p: hashlib.sha256(p.read_bytes()).hexdigest()
    )
    assert hashed is not None
    assert [i.rule for i in hashed.result.issues] == ["ollama.blob-digest-mismatch"]
    assert hashed.result.issues[0].severity == Severity.HIGH
    unhashed = read_manifest(path, store_root=store.root)
    assert unhashed is not None and unhashed.result.issues == ()


def test_missing_blob_is_noted(store: Store) -> None:
    path = store.model("registry.ollama.ai/library/llama3/latest")
    model = read_manifest(path, store_root=store.root)
    assert model is not None
    model.blobs("template")[0].unlink()
    again = read_manifest(path, store_root=store.root)
    assert again is not None
    assert [i.rule for i in again.result.issues] == ["ollama.blob-missing"]
    assert "template" not in again.texts


def test_digest_that_would_escape_the_store_is_refused(store: Store, tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("do not read")
    path = store.manifest(
        "registry.ollama.ai/library/evil/latest",
        [{"mediaType": MEDIA + "license", "digest": "sha256:../../../../secret", "size": 11}],
        store.blob(b"{}"),
    )
    model = read_manifest(path, store_root=store.root)
    assert model is not None
    assert [i.rule for i in model.result.issues] == ["ollama.malformed"]
    assert "license" not in model.texts
    assert blob_path(store.root, "sha256:../../x") is None


def test_large_text_layers_are_truncated(store: Store) -> None:
    path = store.model("registry.ollama.ai/library/big/latest", license_text="L" * (MAX_TEXT_BYTES + 10))
    model = read_manifest(path, store_root=store.root)
    assert model is not None
    assert len(model.texts["license"]) == MAX_TEXT_BYTES
    assert model.truncated == ("license",)


def test_legacy_colon_blob_names(store: Store) -> None:
    path = store.model("registry.ollama.ai/library/old/latest")
    model = read_manifest(path, store_root=store.root)
    assert model is not None and model.model_blob is not None
    legacy = model.model_blob.with_name(model.model_blob.name.replace("sha256-", "sha256:"))
    model.model_blob.rename(legacy)
    again = read_manifest(path, store_root=store.root)
    assert again is not None and again.model_blob == legacy and again.result.issues == ()


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\x00\x01binary",
        b"[]",
        b'{"schemaVersion": 1, "layers": []}',
        b'{"schemaVersion": 2}',
        b"{" * 100_000,
    ],
)
def test_broken_manifests_are_unscannable(store: Store, content: bytes) -> None:
    path = store.root / "manifests" / "registry.ollama.ai" / "library" / "broken" / "latest"
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    model = read_manifest(path, store_root=store.root)
    assert model is not None
    assert [i.rule for i in model.result.issues] == ["ollama.malformed"]
    assert model.result.issues[0].verdict == Verdict.UNSCANNABLE


def test_files_outside_the_manifest_tree_are_not_manifests(store: Store, tmp_path: Path) -> None:
    stray = tmp_path / "latest"
    stray.write_text("{}")
    assert read_manifest(stray, store_root=store.root) is None
    shallow = store.root / "manifests" / "registry.ollama.ai" / "latest"
    shallow.parent.mkdir(parents=True)
    shallow.write_text("{}")
    assert read_manifest(shallow, store_root=store.root) is None


def json_values() -> st.SearchStrategy[object]:
    leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=30))
    return st.recursive(
        leaf, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=12), c, max_size=4)
    )


@settings(max_examples=150)
@given(layers=st.lists(json_values(), max_size=6), config=json_values())
def test_arbitrary_manifests_never_raise(
    tmp_path_factory: pytest.TempPathFactory, layers: list[object], config: object
) -> None:
    root = tmp_path_factory.mktemp("store")
    store = Store(root)
    path = root / "manifests" / "registry.ollama.ai" / "library" / "fuzz" / "latest"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"schemaVersion": 2, "config": config, "layers": layers}))
    model = read_manifest(path, store_root=store.root)
    assert model is not None
    assert all(i.rule.startswith("ollama.") for i in model.result.issues)
