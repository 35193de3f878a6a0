"""ModelFileCollector: model artifacts by extension and magic, HF caches, Modelfiles, datasets."""

from __future__ import annotations

import hashlib
import json
import pickle
import struct
import zipfile
from pathlib import Path

import gguf
import h5py  # type: ignore[import-untyped]
import numpy as np
import pytest
from safetensors.numpy import save_file

from aispm.collectors.base import CollectorError, ModelMention, Observation, SourceFile, scope_of
from aispm.collectors.model_files import ModelFileCollector
from aispm.model import Asset, AssetKind
from aispm.pipeline import ScanOptions, scan


def source(root: Path, rel: str) -> SourceFile:
    path = root / rel
    return SourceFile(path, rel, path.stat().st_size, scope_of(rel))


def place(root: Path, rel: str, data: bytes | str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data)
    else:
        path.write_bytes(data)
    return path


def collect(root: Path, rel: str) -> list[Observation]:
    f = source(root, rel)
    c = ModelFileCollector()
    assert c.wants(f), rel
    return list(c.collect(f))


def only_asset(obs: list[Observation]) -> Asset:
    (a,) = [o for o in obs if isinstance(o, Asset)]
    return a


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_safetensors_artifact(tmp_path: Path) -> None:
    path = tmp_path / "models" / "m.safetensors"
    path.parent.mkdir()
    save_file({"w": np.zeros((2, 3), dtype=np.float32)}, path, metadata={"format": "pt"})
    a = only_asset(collect(tmp_path, "models/m.safetensors"))
    assert a.kind == AssetKind.MODEL and a.name == "models/m.safetensors"
    p = a.properties
    assert (p["format"], p["framework"], p["provider"], p["source"]) == (
        "safetensors",
        "pytorch",
        "local",
        "artifact",
    )
    assert (p["tensor_count"], p["parameter_count"], p["dtypes"]) == (1, 6, ["F32"])
    assert p["sha256"] == sha(path) and p["size"] == path.stat().st_size
    assert "serialization_risk" not in p


def test_safetensors_broken_header_still_inventoried(tmp_path: Path) -> None:
    place(tmp_path, "bad.safetensors", struct.pack("<Q", 10**12) + b'{"a": 1}')
    f = source(tmp_path, "bad.safetensors")
    got: list[Observation] = []
    with pytest.raises(CollectorError, match="safetensors header"):
        for o in ModelFileCollector().collect(f):
            got.append(o)
    a = only_asset(got)
    assert a.properties["header_valid"] is False and a.properties["sha256"]


def test_gguf_artifact(tmp_path: Path) -> None:
    path = tmp_path / "tiny.gguf"
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("Tiny")
    w.add_license("mit")
    w.add_tensor("w", np.ones((2, 2), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    p = only_asset(collect(tmp_path, "tiny.gguf")).properties
    assert (p["format"], p["name"], p["architecture"], p["license"]) == ("gguf", "Tiny", "llama", "mit")
    assert p["tensor_count"] == 1


@pytest.mark.parametrize("protocol", range(0, pickle.HIGHEST_PROTOCOL + 1))
def test_pickles_every_protocol(tmp_path: Path, protocol: int) -> None:
    place(tmp_path, "clf.pkl", pickle.dumps({"coef": [1.0, 2.0], "kind": "sklearn-ish"}, protocol=protocol))
    p = only_asset(collect(tmp_path, "clf.pkl")).properties
    assert p["serialization_risk"] == "pickle"


def test_pytorch_zip_and_legacy_pickle(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "model.pt", "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps({"w": 1}, protocol=2))
        zf.writestr("archive/version", "3\n")
        zf.writestr("archive/data/0", b"\0" * 16)
    p = only_asset(collect(tmp_path, "model.pt")).properties
    assert (p["format"], p["framework"], p["serialization_risk"]) == ("pytorch", "pytorch", "pickle")
    with zipfile.ZipFile(tmp_path / "scripted.pt", "w") as zf:
        zf.writestr("m/data.pkl", b"\x80\x02}q\x00.")
        zf.writestr("m/constants.pkl", b"\x80\x02).")
        zf.writestr("m/code/__torch__.py", "def forward(self): ...")
    assert only_asset(collect(tmp_path, "scripted.pt")).properties["format"] == "torchscript"
    place(tmp_path, "pytorch_model.bin", pickle.dumps({"w": [0.0] * 10}, protocol=2))
    p = only_asset(collect(tmp_path, "pytorch_model.bin")).properties
    assert (p["format"], p["serialization_risk"]) == ("pytorch-legacy", "pickle")


def test_random_bin_is_not_a_model(tmp_path: Path) -> None:
    place(tmp_path, "firmware.bin", bytes(range(256)) * 8)
    assert collect(tmp_path, "firmware.bin") == []
    with zipfile.ZipFile(tmp_path / "bundle.bin", "w") as zf:
        zf.writestr("readme.txt", "not a model")
    assert collect(tmp_path, "bundle.bin") == []


def test_keras_and_hdf5(tmp_path: Path) -> None:
    with h5py.File(tmp_path / "model.h5", "w") as f:
        f.attrs["keras_version"] = "2.15.0"
        f.attrs["model_config"] = json.dumps({"class_name": "Sequential", "config": {"layers": []}})
        f.create_dataset("w", data=np.zeros(4))
    p = only_asset(collect(tmp_path, "model.h5")).properties
    assert (p["format"], p["framework"]) == ("keras-h5", "keras")
    with h5py.File(tmp_path / "table.h5", "w") as f:
        f.create_dataset("x", data=np.arange(10))
    assert collect(tmp_path, "table.h5") == []
    with zipfile.ZipFile(tmp_path / "m.keras", "w") as zf:
        zf.writestr("config.json", json.dumps({"class_name": "Lambda", "config": {"function": "..."}}))
        zf.writestr("metadata.json", "{}")
        zf.writestr("model.weights.h5", b"")
    p = only_asset(collect(tmp_path, "m.keras")).properties
    assert (p["format"], p["serialization_risk"]) == ("keras", "keras-lambda")


def test_numpy_files(tmp_path: Path) -> None:
    np.save(tmp_path / "objs.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    assert only_asset(collect(tmp_path, "objs.npy")).properties["serialization_risk"] == "pickle"
    np.save(tmp_path / "plain.npy", np.zeros(5))
    assert collect(tmp_path, "plain.npy") == []
    np.savez(tmp_path / "bundle.npz", a=np.zeros(2), b=np.array([None], dtype=object))
    p = only_asset(collect(tmp_path, "bundle.npz")).properties
    assert (p["format"], p["serialization_risk"]) == ("numpy", "pickle")


def test_onnx_tflite_and_coreml(tmp_path: Path) -> None:
    place(tmp_path, "m.onnx", b"\x08\x08\x12\x07pytorch\x1a\x032.1\x3a\x02\x00\x00")
    p = only_asset(collect(tmp_path, "m.onnx")).properties
    assert (p["format"], p["producer_name"], p["ir_version"]) == ("onnx", "pytorch", 8)
    place(tmp_path, "m.tflite", b"\x1c\x00\x00\x00TFL3" + b"\0" * 32)
    assert only_asset(collect(tmp_path, "m.tflite")).properties["format"] == "tflite"
    place(tmp_path, "m.mlmodel", b"\x08\x04\x12\x00")
    assert only_asset(collect(tmp_path, "m.mlmodel")).properties["format"] == "coreml"


def test_onnx_that_is_not_protobuf_is_recorded(tmp_path: Path) -> None:
    place(tmp_path, "fake.onnx", "hello")
    with pytest.raises(CollectorError, match="onnx header"):
        list(ModelFileCollector().collect(source(tmp_path, "fake.onnx")))


def test_lfs_pointer(tmp_path: Path) -> None:
    oid = "a" * 64
    place(
        tmp_path,
        "weights/model.safetensors",
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize 123456\n",
    )
    p = only_asset(collect(tmp_path, "weights/model.safetensors")).properties
    assert (p["lfs_pointer"], p["sha256"], p["size"]) == (True, oid, 123456)


def test_huggingface_cache_layout(tmp_path: Path) -> None:
    commit = "0123456789abcdef0123456789abcdef01234567"
    rel = f"hub/models--BAAI--bge-small-en-v1.5/snapshots/{commit}/model.safetensors"
    (tmp_path / rel).parent.mkdir(parents=True)
    save_file({"w": np.zeros(2, dtype=np.float32)}, tmp_path / rel)
    obs = collect(tmp_path, rel)
    a = only_asset(obs)
    assert a.properties["hub_id"] == "BAAI/bge-small-en-v1.5"
    (m,) = [o for o in obs if isinstance(o, ModelMention)]
    assert (m.value, m.revision, m.strong, m.provider, m.owner) == (
        "BAAI/bge-small-en-v1.5",
        commit,
        True,
        "huggingface",
        a.id,
    )
    result = scan([tmp_path], ScanOptions(collectors=["model-files"], checks=[]))
    hub = next(x for x in result.assets if x.name == "BAAI/bge-small-en-v1.5")
    assert hub.properties["purl"] == f"pkg:huggingface/BAAI/bge-small-en-v1.5@{commit}"


def test_extensionless_blob_is_sniffed(tmp_path: Path) -> None:
    rel = "hub/models--org--tiny/blobs/" + "b" * 64
    place(tmp_path, rel, pickle.dumps(list(range(100)), protocol=4))
    p = only_asset(collect(tmp_path, rel)).properties
    assert p["serialization_risk"] == "pickle" and p["hub_id"] == "org/tiny"
    place(tmp_path, "LICENSE", "MIT License\n" * 20)
    assert not ModelFileCollector().wants(source(tmp_path, "LICENSE"))


def test_model_directory_config(tmp_path: Path) -> None:
    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "_name_or_path": "meta-llama/Llama-2-7b-hf",
    }
    place(tmp_path, "ft/config.json", json.dumps(config))
    obs = collect(tmp_path, "ft/config.json")
    a = only_asset(obs)
    assert (a.name, a.properties["architecture"], a.properties["format"]) == (
        "ft",
        "LlamaForCausalLM",
        "huggingface-config",
    )
    (m,) = [o for o in obs if isinstance(o, ModelMention)]
    assert (m.value, m.strong, m.owner) == ("meta-llama/Llama-2-7b-hf", True, a.id)
    # With weights beside it, the weights carry the facts and the directory is not a second model.
    save_file({"w": np.zeros(2, dtype=np.float32)}, tmp_path / "ft" / "model.safetensors")
    obs = collect(tmp_path, "ft/config.json")
    assert [o for o in obs if isinstance(o, Asset)] == []
    weights = only_asset(collect(tmp_path, "ft/model.safetensors"))
    assert weights.properties["architecture"] == "LlamaForCausalLM"


def test_config_json_decoys(tmp_path: Path) -> None:
    place(tmp_path, "app/config.json", json.dumps({"port": 8080, "model": "User"}))
    assert collect(tmp_path, "app/config.json") == []
    place(tmp_path, "broken/config.json", "{not json")
    assert collect(tmp_path, "broken/config.json") == []


def test_ollama_modelfile(tmp_path: Path) -> None:
    place(tmp_path, "Modelfile", 'FROM llama3.1:8b\nPARAMETER temperature 0.2\nSYSTEM """You are terse."""\n')
    obs = collect(tmp_path, "Modelfile")
    a = only_asset(obs)
    assert a.properties["base"] == "llama3.1:8b" and a.properties["has_system"] is True
    (m,) = [o for o in obs if isinstance(o, ModelMention)]
    assert (m.value, m.provider, m.location.line) == ("llama3.1:8b", "ollama", 1)
    place(tmp_path, "hf.modelfile", "FROM hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M\n")
    (m,) = [o for o in collect(tmp_path, "hf.modelfile") if isinstance(o, ModelMention)]
    assert (m.value, m.provider) == ("bartowski/Llama-3.2-1B-Instruct-GGUF", "huggingface")
    place(tmp_path, "local/Modelfile", "FROM ./weights.gguf\n")
    assert [o for o in collect(tmp_path, "local/Modelfile") if isinstance(o, ModelMention)] == []
    place(tmp_path, "empty/Modelfile", "# nothing\n")
    with pytest.raises(CollectorError, match="FROM"):
        collect(tmp_path, "empty/Modelfile")


def test_datasets_only_where_the_tree_says_data(tmp_path: Path) -> None:
    place(tmp_path, "data/train.jsonl", '{"prompt": "a", "completion": "b"}\n')
    obs = collect(tmp_path, "data/train.jsonl")
    a = only_asset(obs)
    assert a.kind == AssetKind.DATASET and a.properties["source"] == "file" and a.properties["sha256"]
    place(tmp_path, "export/dataset_info.json", "{}")
    place(tmp_path, "export/part-0.parquet", b"PAR1\0\0PAR1")
    assert only_asset(collect(tmp_path, "export/part-0.parquet")).kind == AssetKind.DATASET
    place(tmp_path, "src/countries.csv", "code,name\nfr,France\n")
    assert not ModelFileCollector().wants(source(tmp_path, "src/countries.csv"))
    rel = "hub/datasets--imdb--reviews/snapshots/" + "c" * 40 + "/train.parquet"
    place(tmp_path, rel, b"PAR1")
    a = only_asset(collect(tmp_path, rel))
    assert (a.name, a.properties["source"], a.properties["revision"]) == (
        "imdb/reviews",
        "huggingface",
        "c" * 40,
    )


def test_pipeline_mixed_tree(tmp_path: Path) -> None:
    place(tmp_path, "models/clf.joblib", pickle.dumps({"x": 1}, protocol=5))
    place(tmp_path, "models/readme.md", "# models")
    place(tmp_path, "firmware/blob.bin", b"\x00\x01" * 100)
    result = scan([tmp_path], ScanOptions(collectors=["model-files"], checks=[]))
    assert result.errors == ()
    assert [(a.kind.value, a.name) for a in result.assets] == [("model", "models/clf.joblib")]
