"""Canary: scanning the whole malicious corpus through the command line never runs a payload.

Every malicious sample of ``tests/analysis/pickle_samples.py`` is built with a payload that, if it
were ever loaded, would create a canary file (or reach the dangerous callable). They are laid out as
plain files under model names, under names that hide them (``.txt``, no extension), and inside
containers (gzip, zip, tar.xz, a zip inside a zip), beside the example estate's poisoned PyTorch
checkpoint. ``aispm scan`` runs over the tree in this process, with the cache, twice; afterwards no
canary exists, and every file holding a sample carries an AISPM-MODEL-001 finding.
"""

from __future__ import annotations

import gzip
import io
import json
import lzma
import shutil
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aispm.cli import app
from tests.analysis import pickle_samples as samples
from tests.analysis.artifact_samples import tar_of

ESTATE_CHECKPOINT = Path(__file__).parent.parent / "examples/estate/ml/models/churn/churn_model.pt"
_SUFFIX = {"zip": ".pt", "npy": ".npy", "pickle": ".pkl"}


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


def _layouts(name: str, data: bytes) -> dict[str, bytes]:
    """Where one sample is put in the tree: relative path -> file bytes."""
    kind = samples.kind_of(data)
    inner = f"model{_SUFFIX[kind]}"
    return {
        f"plain/{name}{_SUFFIX[kind]}": data,
        f"hidden/{name}.txt": data,
        f"hidden/{name}": data,
        f"gz/{name}{_SUFFIX[kind]}.gz": gzip.compress(data),
        f"zip/{name}.zip": _zip({"README.md": b"# weights\n", f"weights/{inner}": data}),
        f"tar/{name}.tar.xz": lzma.compress(tar_of({f"{name}/{inner}": data})),
        f"nested/{name}.zip": _zip({"outer/inner.zip": _zip({inner: data})}),
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    """(tree, canary folder, sample file -> sample name) of the whole malicious corpus."""
    base = tmp_path_factory.mktemp("canary")
    canaries = base / "canaries"
    canaries.mkdir()
    tree = base / "tree"
    files: dict[str, str] = {}
    for name, build in sorted(samples.MALICIOUS.items()):
        for rel, data in _layouts(name, build(canaries / name)).items():
            path = tree / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            files[rel] = name
    shutil.copyfile(ESTATE_CHECKPOINT, tree / "churn_model.pt")
    files["churn_model.pt"] = "estate:churn_model"
    return tree, canaries, files


def _scan(tree: Path, db: str, out: Path) -> dict[str, object]:
    result = CliRunner().invoke(
        app,
        ["scan", str(tree), "--db", db, "--format", "json", "--output", str(out), "--quiet"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    report: dict[str, object] = json.loads(out.read_text())
    return report


def test_scanning_the_malicious_corpus_never_runs_a_payload(
    corpus: tuple[Path, Path, dict[str, str]], tmp_path: Path
) -> None:
    tree, canaries, files = corpus
    db = f"sqlite:///{tmp_path / 'canary.db'}"
    first = _scan(tree, db, tmp_path / "first.json")
    assert list(canaries.iterdir()) == []
    second = _scan(tree, db, tmp_path / "second.json")  # from the cache: the findings must not change
    assert list(canaries.iterdir()) == []
    info = first["scan"]
    assert isinstance(info, dict) and info["errors"] == []
    runs = {r["check_id"]: r for r in info["check_runs"]}
    assert (runs["AISPM-MODEL-001"]["failed"], runs["AISPM-MODEL-001"]["not_assessed"]) == (len(files), 0)
    findings = first["findings"]
    assert isinstance(findings, list)
    by_path: dict[str, list[dict[str, object]]] = {}
    for f in findings:
        if f["check_id"] == "AISPM-MODEL-001" and f["severity"] in ("critical", "high"):
            by_path.setdefault(f["location"]["path"], []).append(f)
    missed = sorted(rel for rel in files if rel not in by_path)
    assert missed == [], f"no high/critical AISPM-MODEL-001 finding for {len(missed)} files: {missed[:20]}"
    # Each plain sample is named for the technique the analyser tests expect of it.
    for rel, name in files.items():
        if rel.startswith("plain/"):
            text = json.dumps(by_path[rel])
            assert samples.MALICIOUS_EXPECT[name] in text, (rel, samples.MALICIOUS_EXPECT[name])
    assert "os.system" in json.dumps(by_path["churn_model.pt"])
    again = second["findings"]
    assert isinstance(again, list)
    assert sorted(f["fingerprint"] for f in findings) == sorted(f["fingerprint"] for f in again)
