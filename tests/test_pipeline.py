"""The pipeline end to end, with small test collectors (the built-ins have their own tests)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from aispm.model import AssetKind, ErrorKind, RelationKind, Scope
from aispm.pipeline import ScanOptions, scan
from aispm.store import Store
from tests.helpers import BrokenCheck, LineCollector, ModelsAreBad


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def _scan(*targets: Path, **kw: object) -> object:
    opts = ScanOptions(collectors=[kw.pop("collector", LineCollector())], checks=kw.pop("checks", []), **kw)  # type: ignore[arg-type]
    return scan(list(targets), opts)


def test_models_become_assets_with_relations_and_scope(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "app/svc.ai": "use openai\nmodel org/model-a\n",
            "tests/t.ai": "use openai\nmodel org/model-a\n",
            "examples/demo.ai": "model org/model-b\n",
        },
    )
    r = _scan(tmp_path)
    models = {a.name: a for a in r.assets if a.kind is AssetKind.MODEL}
    assert set(models) == {"org/model-a", "org/model-b"}
    a = models["org/model-a"]
    assert a.scope is Scope.PRODUCTION  # seen in production and tests: production wins
    assert [o.path for o in a.occurrences] == ["app/svc.ai", "tests/t.ai"]
    assert a.properties["provider"] == "huggingface"
    assert a.properties["purl"] == "pkg:huggingface/org/model-a"
    assert models["org/model-b"].scope is Scope.EXAMPLE  # examples/ is scanned, not skipped
    usages = [x for x in r.assets if x.kind is AssetKind.AI_SDK_USAGE]
    assert {(rel.kind, rel.target) for rel in r.relations} >= {(RelationKind.USES_MODEL, a.id)}
    assert len(usages) == 2


def test_ids_are_stable_across_locations_and_runs(tmp_path: Path) -> None:
    files = {"a/x.ai": "use openai\nmodel org/m\n", "b/y.ai": "model org/n\n"}
    one = _scan(_tree(tmp_path / "one" / "repo", files))
    two = _scan(_tree(tmp_path / "two" / "elsewhere" / "repo", files))
    assert [a.id for a in one.assets] == [a.id for a in two.assets]
    assert one.info.id != two.info.id


def test_env_indirection_resolves_nearest_binding_and_falls_back_to_default(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "svc/app.ai": "use hf\nenvmodel MODEL_ID org/default\n",
            "svc/.env.ai": "set MODEL_ID=org/from-svc-env\n",
            "other/.env.ai": "set MODEL_ID=org/from-other\n",
            "lonely/app.ai": "envmodel UNBOUND org/only-default\n",
            "nodefault/app.ai": "envmodel NOTHING\n",
        },
    )
    r = _scan(tmp_path)
    names = {a.name: a for a in r.assets if a.kind is AssetKind.MODEL}
    # both bindings are real deployment options; the nearest one is listed first
    assert {"org/from-svc-env", "org/from-other", "org/only-default"} <= set(names)
    assert "org/default" not in names  # a bound variable overrides the code's default
    assert names["org/from-svc-env"].properties["env_var"] == "MODEL_ID"
    assert names["org/from-svc-env"].properties["resolved_from"] == {"path": "svc/.env.ai", "line": 1}


def test_collector_errors_are_recorded_and_partial_results_kept(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {"bad.ai": "use openai\nmodel org/kept\nboom\nmodel org/after\n", "good.ai": "model org/fine\n"},
    )
    (tmp_path / "bin.ai").write_bytes(b"\x00\x01\x02binary")
    r = _scan(tmp_path)
    names = {a.name for a in r.assets if a.kind is AssetKind.MODEL}
    assert names == {"org/kept", "org/fine"}
    assert {(e.path, e.kind) for e in r.errors} == {("bad.ai", ErrorKind.PARSE), ("bin.ai", ErrorKind.PARSE)}


def test_walk_skips_vcs_dirs_and_symlinks_explicitly(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "a.ai": "model org/a\n",
            ".git/objects/x.ai": "model org/git\n",
            "node_modules/p/x.ai": "model org/vend\n",
        },
    )
    os.symlink(tmp_path / "a.ai", tmp_path / "link.ai")
    os.symlink(tmp_path, tmp_path / "loop")
    r = _scan(tmp_path)
    names = {a.name: a for a in r.assets if a.kind is AssetKind.MODEL}
    assert set(names) == {"org/a", "org/vend"}
    assert names["org/vend"].scope is Scope.VENDORED
    skipped = r.info.stats["skipped"]
    assert skipped["symlinks (not followed)"] == 2
    assert skipped[".git directories (version-control metadata)"] == 1


def test_several_targets_get_prefixed_paths(tmp_path: Path) -> None:
    a = _tree(tmp_path / "alpha", {"x.ai": "model org/a\n"})
    b = _tree(tmp_path / "beta", {"x.ai": "model org/b\n"})
    r = _scan(a, b, tmp_path / "missing")
    paths = {a.location.path for a in r.assets if a.location}
    assert paths == {"alpha/x.ai", "beta/x.ai"}
    assert any(e.message == "target does not exist" for e in r.errors)


def test_checks_run_and_a_broken_check_is_recorded(tmp_path: Path) -> None:
    _tree(tmp_path, {"x.ai": "model org/a\nmodel org/b\n"})
    r = _scan(tmp_path, checks=[ModelsAreBad(), BrokenCheck()])
    assert sorted(f.message for f in r.findings) == ["model org/a found", "model org/b found"]
    runs = {c.check_id: c for c in r.check_runs}
    assert runs["AISPM-TEST-001"].assessed == 2 and runs["AISPM-TEST-001"].failed == 2
    assert runs["AISPM-TEST-002"].not_assessed == 2 and runs["AISPM-TEST-002"].assessed == 0
    assert any(e.collector == "AISPM-TEST-002" for e in r.errors)


def test_rescan_of_unchanged_tree_uses_the_cache(tmp_path: Path, sqlite_url: str) -> None:
    root = _tree(tmp_path / "repo", {f"f{i}.ai": f"use openai\nmodel org/m{i}\n" for i in range(20)})
    store = Store.open(sqlite_url)
    c1 = LineCollector()
    first = _scan(root, collector=c1, cache=store)
    assert c1.calls == 20
    c2 = LineCollector()
    second = _scan(root, collector=c2, cache=store)
    assert c2.calls == 0 and second.info.stats["cache_hits"] == 20
    assert [a.to_dict() for a in first.assets] == [a.to_dict() for a in second.assets]
    (root / "f3.ai").write_text("model org/changed\n")
    c3 = LineCollector()
    third = _scan(root, collector=c3, cache=store)
    assert c3.calls == 1
    assert "org/changed" in {a.name for a in third.assets}
    # a file that failed is not cached: it is read (and reported) again
    (root / "bad.ai").write_text("boom\n")
    _scan(root, collector=LineCollector(), cache=store)
    c5 = LineCollector()
    again = _scan(root, collector=c5, cache=store)
    assert c5.calls == 1 and any(e.path == "bad.ai" for e in again.errors)
    shutil.rmtree(root)


def test_rescan_reads_no_file_whose_stat_stamp_is_unchanged(
    tmp_path: Path, sqlite_url: str, monkeypatch: object
) -> None:
    from aispm.collectors.base import SourceFile

    root = _tree(tmp_path / "repo", {f"f{i}.ai": f"use openai\nmodel org/m{i}\n" for i in range(5)})
    old = 1_600_000_000
    for p in root.iterdir():
        os.utime(p, (old, old))  # older than the racy window, so digests are remembered by stamp
    store = Store.open(sqlite_url)
    first = _scan(root, cache=store)
    reads: list[str] = []
    real = SourceFile.read_bytes

    def counting(self: SourceFile, limit: int = 10**9) -> bytes:
        reads.append(self.path)
        return real(self, limit)

    monkeypatch.setattr(SourceFile, "read_bytes", counting)  # type: ignore[attr-defined]
    second = _scan(root, cache=store)
    assert reads == [] and second.info.stats["cache_hits"] == 5
    assert [a.to_dict() for a in first.assets] == [a.to_dict() for a in second.assets]
    # same size, same mtime, new content: the stamp still differs (ctime), so the file is read
    (root / "f2.ai").write_text("model org/zz\n")
    os.utime(root / "f2.ai", (old, old))
    third = _scan(root, cache=store)
    assert set(reads) == {"f2.ai"}
    assert "org/zz" in {a.name for a in third.assets}


def test_a_file_written_just_now_is_never_trusted_by_stamp(tmp_path: Path, sqlite_url: str) -> None:
    root = _tree(tmp_path / "repo", {"f.ai": "model org/a\n"})  # mtime: now (racy)
    store = Store.open(sqlite_url)
    _scan(root, cache=store)
    assert store.get_digests(["x"]) == {}
    with store._tx() as s:  # nothing was remembered by stamp for a racy file
        from sqlalchemy import func, select

        from aispm.store.tables import FileDigestRow

        assert s.scalar(select(func.count()).select_from(FileDigestRow)) == 0


def test_relative_dataset_paths_resolve_to_the_file_in_the_tree(tmp_path: Path) -> None:
    from aispm.collectors.base import Collector, ModelMention, Observation, SourceFile

    class DatasetMentions(Collector):
        name = "test-datasets"

        def wants(self, file: SourceFile) -> bool:
            return file.suffix == ".ds"

        def collect(self, file: SourceFile) -> list[Observation]:
            return [
                ModelMention(
                    file.loc(1), via="load_dataset", value=v, dataset=True, properties={"source": "file"}
                )
                for v in file.read_text().split()
            ]

    _tree(
        tmp_path,
        {
            "ml/data/train.jsonl": "{}\n",
            "ml/notebooks/nb.ds": "../data/train.jsonl\n",
            "ml/train.ds": "data/train.jsonl missing/file.csv\n",
        },
    )
    r = scan([tmp_path], ScanOptions(collectors=[DatasetMentions()], checks=[]))
    datasets = sorted(a.name for a in r.assets if a.kind is AssetKind.DATASET)
    assert datasets == ["missing/file.csv", "ml/data/train.jsonl"]


# --- code that loads model artifacts, linked to them (built-in collectors) -----------------------------


def _weights_dir(folder: Path, config: Mapping[str, object] | None = None) -> Path:
    import json

    import numpy as np
    from safetensors.numpy import save_file

    folder.mkdir(parents=True, exist_ok=True)
    save_file({"w": np.zeros((2, 2), dtype=np.float32)}, folder / "model.safetensors", {"format": "pt"})
    (folder / "config.json").write_text(
        json.dumps(config or {"architectures": ["BertModel"], "model_type": "bert"})
    )
    return folder


def _artifact_tree(root: Path) -> Path:
    import io

    import joblib
    import numpy as np
    import torch

    (root / "models").mkdir(parents=True)
    torch.save({"w": torch.zeros(2, 2)}, root / "models" / "x.pt")
    _weights_dir(root / "models" / "bert")
    remote = {
        "architectures": ["PhiModel"],
        "model_type": "phi",
        "auto_map": {"AutoModel": "modeling_phi.PhiModel"},
    }
    _weights_dir(root / "models" / "phi", remote)
    (root / "models" / "phi" / "modeling_phi.py").write_text("class PhiModel:\n    pass\n")
    buf = io.BytesIO()
    joblib.dump({"coef": np.arange(3.0)}, buf)
    (root / "svc").mkdir()
    (root / "svc" / "m.joblib").write_bytes(buf.getvalue())
    _tree(
        root,
        {
            "app.py": (
                "import torch\nfrom transformers import AutoModel\n\n"
                "state = torch.load('models/x.pt', weights_only=True)\n"
                "bert = AutoModel.from_pretrained('./models/bert')\n"
                "phi = AutoModel.from_pretrained('models/phi', trust_remote_code=True)\n"
                "gone = torch.load('models/missing.pt')\n"
                "far = torch.load('/opt/weights/abs.pt')\n"
                "url = torch.hub.load_state_dict_from_url('https://example.invalid/w.pt')\n"
            ),
            # Nothing here names an AI SDK or says "model": the loading call alone makes it AI code.
            "svc/run.py": (
                "from pathlib import Path\n\nimport joblib\n\n"
                "clf = joblib.load(Path(__file__).parent / 'm.joblib')\n"
                "other = joblib.load(Path(__file__).parent / 'absent.joblib')\n"
            ),
        },
    )
    return root


def _uses(r: object) -> set[tuple[str, str, str]]:
    """(usage name, usage file, model name) of every uses-model relation."""
    by_id = {a.id: a for a in r.assets}  # type: ignore[attr-defined]
    out = set()
    for rel in r.relations:  # type: ignore[attr-defined]
        if rel.kind is RelationKind.USES_MODEL:
            src, dst = by_id[rel.source], by_id[rel.target]
            out.add((src.name, src.location.path if src.location else "", dst.name))
    return out


def test_code_that_loads_artifacts_is_linked_to_them(tmp_path: Path) -> None:
    r = scan([_artifact_tree(tmp_path)], ScanOptions(collectors=["model-files", "python-code"], checks=[]))
    assert r.errors == ()
    assert _uses(r) == {
        ("torch", "app.py", "models/x.pt"),
        ("transformers", "app.py", "models/bert/model.safetensors"),
        ("transformers", "app.py", "models/phi"),  # the directory asset (it has remote code)
        ("transformers", "app.py", "models/phi/model.safetensors"),
        ("joblib", "svc/run.py", "svc/m.joblib"),
    }
    models = {a.name for a in r.assets if a.kind is AssetKind.MODEL}
    # Paths outside the tree link to nothing and make no model; paths inside the tree are the artifact,
    # not a hub id ("models/phi") nor a second, path-named model ("./models/bert").
    assert models == {
        "models/x.pt",
        "models/bert/model.safetensors",
        "models/phi",
        "models/phi/model.safetensors",
        "svc/m.joblib",
    }
    joblib_usage = next(a for a in r.assets if a.kind is AssetKind.AI_SDK_USAGE and a.name == "joblib")
    loads = joblib_usage.properties["model_loads"]
    assert [(x["path"], x["path_base"]) for x in loads] == [
        ("m.joblib", "source"),
        ("absent.joblib", "source"),
    ]


def test_a_loaded_folder_without_weights_or_config_is_not_an_artifact(tmp_path: Path) -> None:
    _tree(tmp_path, {"src/pkg/__init__.py": "", "app.py": "import torch\nm = torch.load('src/pkg')\n"})
    r = scan([tmp_path], ScanOptions(collectors=["model-files", "python-code"], checks=[]))
    assert _uses(r) == set() and not any(a.kind is AssetKind.MODEL for a in r.assets)


def test_config_json_is_reread_on_a_rescan_while_other_files_come_from_the_cache(
    tmp_path: Path, sqlite_url: str, monkeypatch: object
) -> None:
    import json

    from aispm.collectors import model_files

    root = _weights_dir(tmp_path / "repo" / "m").parent
    (root / "m" / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "BertTokenizerFast"}))
    store = Store.open(sqlite_url)
    configs: list[str] = []
    real = model_files._hf_config

    def counting(file: object) -> object:
        configs.append(file.path)  # type: ignore[attr-defined]
        return real(file)  # type: ignore[arg-type]

    monkeypatch.setattr(model_files, "_hf_config", counting)  # type: ignore[attr-defined]
    opts = ScanOptions(collectors=["model-files"], checks=[], cache=store)
    first = scan([root], opts)
    assert [a.name for a in first.assets] == ["m/model.safetensors"]
    second = scan([root], opts)
    assert configs == ["m/config.json", "m/config.json"]
    assert second.info.stats["cache_hits"] == 1  # the weights; never config.json
    # A neighbour of config.json changes (config.json itself does not): the rescan sees it.
    (root / "m" / "tokenizer_config.json").write_text(
        json.dumps({"auto_map": {"AutoTokenizer": ["tok.T", None]}})
    )
    third = scan([root], opts)
    folder = next(a for a in third.assets if a.name == "m")
    assert [i["rule"] for i in folder.properties["model_dir"]["issues"]] == ["hf.remote-code"]
    assert third.info.stats["cache_hits"] == 1


def test_a_changed_model_card_reaches_cached_weights(tmp_path: Path, sqlite_url: str) -> None:
    root = _weights_dir(tmp_path / "repo" / "m").parent
    (root / "m" / "README.md").write_text("---\nlicense: mit\n---\n")
    opts = ScanOptions(collectors=["model-files"], checks=[], cache=Store.open(sqlite_url))
    scan([root], opts)
    (root / "m" / "README.md").write_text("---\nlicense: apache-2.0\n---\n")
    again = scan([root], opts)
    weights = next(a for a in again.assets if a.name == "m/model.safetensors")
    assert weights.properties["license"] == "apache-2.0"


def test_signed_weights_are_hashed_once_across_scans(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A signature bundle is re-verified on every scan (it is judged with its folder), but the
    # SHA-256 of each unchanged file it covers is remembered by stat stamp in the store.
    from safetensors.numpy import save_file

    from aispm.analysis import artifact_io, hash_book
    from tests.collectors.test_model_files import _sign, hf_folder

    monkeypatch.setattr(hash_book, "MIN_BYTES", 0)  # the test's weights are small; real ones are not
    root = tmp_path / "repo"
    folder = hf_folder(root, "models/signed")
    _sign(folder, tmp_path)
    old = 1_600_000_000
    for p in folder.iterdir():
        os.utime(p, (old, old))
    store = Store.open(sqlite_url)
    scan([root], ScanOptions(collectors=["model-files"], checks=[], cache=store))
    hashed: list[str] = []
    real_sha256 = artifact_io.hashlib.sha256

    def counting() -> object:
        hashed.append("x")
        return real_sha256()

    monkeypatch.setattr(artifact_io, "hashlib", SimpleNamespace(sha256=counting))
    artifact_io._SHA_CACHE.clear()  # as in a new process

    def signature(result: object) -> dict[str, object]:
        (d,) = [a for a in result.assets if a.name == "models/signed"]  # type: ignore[attr-defined]
        return d.properties["signature"]  # type: ignore[no-any-return]

    second = scan([root], ScanOptions(collectors=["model-files"], checks=[], cache=store))
    assert hashed == []
    assert signature(second)["facts"]["integrity"] == "valid-digests"  # type: ignore[index]
    # New weights: only the changed file is hashed again, and the signature no longer matches.
    save_file({"embed.weight": np.ones((8, 4), dtype=np.float32)}, folder / "model.safetensors")
    os.utime(folder / "model.safetensors", (old, old))
    artifact_io._SHA_CACHE.clear()
    third = scan([root], ScanOptions(collectors=["model-files"], checks=[], cache=store))
    assert signature(third)["verdict"] == "malicious"
    assert len(hashed) == 1


def test_a_scan_collects_garbage_less_often_and_restores_the_settings(tmp_path: Path) -> None:
    import gc

    from aispm import pipeline
    from aispm.collectors.base import Collector, SourceFile

    seen: list[tuple[int, int, int]] = []

    class Recorder(Collector):
        name = "gc-recorder"
        version = "1"

        def wants(self, file: SourceFile) -> bool:
            return True

        def collect(self, file: SourceFile) -> list[object]:  # type: ignore[override]
            seen.append(gc.get_threshold())
            return []

    root = _tree(tmp_path / "repo", {"a.txt": "x"})
    before = gc.get_threshold()
    _scan(root, collector=Recorder())
    assert gc.get_threshold() == before
    assert seen and seen[0][0] >= pipeline.GC_YOUNG_THRESHOLD and seen[0][1:] == before[1:]
