"""AISPM-MODEL-001..007: what the model analysers found, judged; one finding per issue, with its severity.

Unit cases build ``model`` assets the way the model-file collector does (issues from the real
records of :mod:`aispm.analysis.artifact_report`); end-to-end cases scan trees made with the real
libraries, with malicious payloads that would only create a canary file, which must never appear.
"""

from __future__ import annotations

import json
import pickle
import shutil
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from aispm.analysis.artifact_report import ArtifactReport, Issue, Verdict
from aispm.assets import model_asset, sdk_usage_asset
from aispm.checks.base import Check, NotAssessable, load_checks
from aispm.checks.model_artifacts import (
    CodeAllowsRemoteModelCode,
    MixedModelFormats,
    ModelImportsUnknownCode,
    ModelNeedsRemoteCode,
    ModelNotScannable,
    ModelRunsCodeOnLoad,
    SignedModelChanged,
)
from aispm.inventory import Inventory
from aispm.model import JSON, Asset, Finding, Location, ScanResult, Scope, Severity
from aispm.pipeline import ScanOptions, run_checks, scan
from tests.analysis import pickle_samples as samples

MODEL_CHECKS = [f"AISPM-MODEL-00{i}" for i in range(1, 8)]
ISSUE_CHECKS: list[Check] = [
    ModelRunsCodeOnLoad(),
    ModelImportsUnknownCode(),
    ModelNotScannable(),
    ModelNeedsRemoteCode(),
    SignedModelChanged(),
    MixedModelFormats(),
]
CANARY = "canary-created-if-executed"

C, H, M, L = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW


def artifact(path: str, **blocks: Mapping[str, JSON]) -> Asset:
    """A model artifact asset as the collector makes it, with analysis ``blocks`` (safety, model_dir...)."""
    props: dict[str, JSON] = {
        "source": "artifact",
        "format": "pickle",
        **{k: dict(v) for k, v in blocks.items()},
    }
    return model_asset(path, "local", Location(path), Scope.PRODUCTION, properties=props)


def safety(*issues: Issue) -> dict[str, JSON]:
    return ArtifactReport("pickle", issues=issues).to_dict()


def folder_result(*issues: Issue) -> dict[str, JSON]:
    verdict = max((i.verdict for i in issues), key=lambda v: v.rank, default=Verdict.SAFE)
    return {"verdict": str(verdict), "issues": [i.to_dict() for i in issues], "facts": {}}


def findings_by_check(asset: Asset) -> dict[str, list[Finding]]:
    inv = Inventory([asset], [])
    out: dict[str, list[Finding]] = {}
    for check in ISSUE_CHECKS:
        got = list(check.evaluate(asset, inv))
        if got:
            out[check.meta.id] = got
    return out


def summary(asset: Asset) -> dict[str, list[tuple[Severity, str]]]:
    return {
        k: [(f.severity, str(f.evidence["rule"])) for f in v] for k, v in findings_by_check(asset).items()
    }


# --- each check: a positive case, its benign twin, and the severity the issue carries -------------

EXEC = Issue(
    "pickle.exec", Verdict.MALICIOUS, C, "os.system runs commands", offset=12, detail={"global": "os.system"}
)
FILE = Issue(
    "pickle.file-access", Verdict.MALICIOUS, H, "builtins.open", offset=30, detail={"global": "builtins.open"}
)
UNKNOWN = Issue("pickle.non-allowlisted", Verdict.SUSPICIOUS, M, "acme.Net", detail={"global": "acme.Net"})
TRUNCATED = Issue("pickle.malformed", Verdict.UNSCANNABLE, M, "pickle stream truncated", offset=21)
REMOTE = Issue(
    "hf.remote-code", Verdict.SUSPICIOUS, H, "m/config.json: loading needs remote code", member="config.json",
    detail={"path": "m/config.json", "files": ["modeling_x.py"]},
)  # fmt: skip
EXTERNAL = Issue(
    "hf.remote-code-external", Verdict.SUSPICIOUS, H, "code from another repository", member="config.json",
    detail={"path": "m/config.json", "repo": "someone/else"},
)  # fmt: skip
DANGEROUS_CODE = Issue(
    "hf.custom-code-dangerous", Verdict.MALICIOUS, H, "requests.post uses the network",
    member="modeling_x.py", detail={"path": "m/modeling_x.py", "line": 19, "call": "requests.post"},
)  # fmt: skip
MIXED = Issue(
    "hf.mixed-formats", Verdict.SUSPICIOUS, M, "pickle beside safetensors", detail={"pickle": ["a.bin"]}
)
MISMATCH = Issue("signing.mismatch", Verdict.MALICIOUS, C, "no longer match", member="model.sig")
INVALID_SIG = Issue(
    "signing.invalid-signature", Verdict.MALICIOUS, C, "statement altered", member="model.sig"
)
DOCS_ONLY = Issue(
    "signing.mismatch-docs", Verdict.SUSPICIOUS, L, "only README.md differs", member="model.sig"
)
UNVERIFIABLE = Issue("signing.unverifiable", Verdict.UNSCANNABLE, M, "over the bound", member="model.sig")
BLOB_SIZE = Issue(
    "ollama.blob-size-mismatch", Verdict.SUSPICIOUS, M, "blob altered", detail={"role": "model"}
)
BLOB_MISSING = Issue(
    "ollama.blob-missing", Verdict.UNSCANNABLE, L, "blob not in the store", detail={"role": "model"}
)


#: (where the collector puts it, issue, the check that reports it)
ROUTES: list[tuple[str, Issue, str]] = [
    ("safety", EXEC, "AISPM-MODEL-001"),
    ("safety", FILE, "AISPM-MODEL-001"),
    ("model_dir", DANGEROUS_CODE, "AISPM-MODEL-001"),
    ("safety", UNKNOWN, "AISPM-MODEL-002"),
    ("safety", TRUNCATED, "AISPM-MODEL-003"),
    ("signature", UNVERIFIABLE, "AISPM-MODEL-003"),
    ("ollama", BLOB_MISSING, "AISPM-MODEL-003"),
    ("model_dir", REMOTE, "AISPM-MODEL-004"),
    ("model_dir", EXTERNAL, "AISPM-MODEL-004"),
    ("signature", MISMATCH, "AISPM-MODEL-005"),
    ("signature", INVALID_SIG, "AISPM-MODEL-005"),
    ("signature", DOCS_ONLY, "AISPM-MODEL-005"),
    ("ollama", BLOB_SIZE, "AISPM-MODEL-005"),
    ("model_dir", MIXED, "AISPM-MODEL-006"),
]


@pytest.mark.parametrize(("block", "issue", "check_id"), ROUTES, ids=[f"{i.rule}-{c}" for _, i, c in ROUTES])
def test_each_issue_goes_to_one_check_with_its_own_severity(block: str, issue: Issue, check_id: str) -> None:
    analysis = safety(issue) if block == "safety" else folder_result(issue)
    assert summary(artifact("models/m.bin", **{block: analysis})) == {
        check_id: [(issue.severity, issue.rule)]
    }


@pytest.mark.parametrize(
    "blocks",
    [
        {"safety": safety()},
        {"safety": safety(), "model_dir": folder_result(), "signature": folder_result()},
        {"ollama": folder_result()},
    ],
)
def test_clean_analysis_passes_every_check(blocks: dict[str, Mapping[str, JSON]]) -> None:
    assert summary(artifact("models/m.bin", **blocks)) == {}


def test_every_issue_of_a_file_is_its_own_finding_with_evidence() -> None:
    second = Issue(
        "pickle.exec", Verdict.MALICIOUS, C, "subprocess", offset=80, detail={"global": "subprocess.Popen"}
    )
    member = Issue(
        "pickle.exec",
        Verdict.MALICIOUS,
        C,
        "in a member",
        member="archive/data.pkl",
        detail={"global": "os.system"},
    )
    asset = artifact("models/m.pt", safety=safety(EXEC, second, member, UNKNOWN))
    found = findings_by_check(asset)
    runs = found["AISPM-MODEL-001"]
    assert len(runs) == 3 and len({f.fingerprint for f in runs}) == 3
    assert found["AISPM-MODEL-002"][0].severity is M
    f = runs[0]
    assert f.evidence == {
        "rule": "pickle.exec",
        "verdict": "malicious",
        "offset": 12,
        "detail": {"global": "os.system"},
    }
    assert f.message == "os.system runs commands" and f.location == Location("models/m.pt")
    assert any(x.message.endswith("(in archive/data.pkl)") for x in runs)
    assert f.check_id == "AISPM-MODEL-001" and f.asset_id == asset.id
    assert "owasp-llm@2025#LLM03" in f.frameworks and f.remediation


def test_an_issue_in_custom_code_is_located_in_that_file() -> None:
    d = artifact("m", model_dir=folder_result(DANGEROUS_CODE, REMOTE))
    (code,) = findings_by_check(d)["AISPM-MODEL-001"]
    assert code.location == Location("m/modeling_x.py", 19)
    (remote,) = findings_by_check(d)["AISPM-MODEL-004"]
    assert remote.location == Location("m/config.json")


def test_an_unknown_severity_falls_back_to_the_check_default() -> None:
    issue = {"rule": "pickle.exec", "verdict": "malicious", "severity": "apocalyptic", "message": "x"}
    asset = artifact("m.pkl", safety={"verdict": "malicious", "issues": [issue]})
    (f,) = findings_by_check(asset)["AISPM-MODEL-001"]
    assert f.severity is ModelRunsCodeOnLoad.meta.severity


def test_malformed_issue_blocks_are_ignored_not_fatal() -> None:
    asset = artifact("m.pkl", safety={"verdict": "malicious", "issues": ["not a mapping", 3, None]})
    assert summary(asset) == {}
    asset = artifact("m.pkl", safety={"verdict": "malicious", "issues": "nope"})
    assert summary(asset) == {}


# --- what is not assessed, and what is not an artifact ----------------------------------------------


def test_models_named_in_code_are_not_artifacts_and_pass() -> None:
    hub = model_asset("google-bert/bert-base-uncased", "huggingface", Location("app.py", 3), Scope.PRODUCTION)
    saas = model_asset("gpt-4o", "openai", Location("app.py", 4), Scope.PRODUCTION)
    inv = Inventory([hub, saas], [])
    _, runs, errors = run_checks(ISSUE_CHECKS, inv)
    assert errors == []
    assert {(r.check_id, r.assessed, r.failed, r.not_assessed) for r in runs} == {
        (c.meta.id, 2, 0, 0) for c in ISSUE_CHECKS
    }


def test_artifact_without_analysis_is_counted_as_not_assessed() -> None:
    bare = artifact("models/m.tflite")
    lfs = model_asset(
        "models/big.safetensors", "local", Location("models/big.safetensors"), Scope.PRODUCTION,
        properties={"source": "artifact", "lfs_pointer": True, "format": "safetensors"},
    )  # fmt: skip
    clean = artifact("models/ok.pkl", safety=safety())
    for check in ISSUE_CHECKS:
        with pytest.raises(NotAssessable, match="no static analysis"):
            list(check.evaluate(bare, Inventory([bare], [])))
        with pytest.raises(NotAssessable, match="Git LFS pointer"):
            list(check.evaluate(lfs, Inventory([lfs], [])))
    findings, runs, errors = run_checks(ISSUE_CHECKS, Inventory([bare, lfs, clean], []))
    assert findings == [] and errors == []
    for run in runs:
        assert (run.assessed, run.failed, run.not_assessed) == (1, 0, 2)
        assert "Git LFS pointer" in run.reason and "no static analysis" in run.reason


def test_checks_are_registered_so_the_generic_metadata_tests_cover_them() -> None:
    # tests/checks/test_check_metadata.py resolves every registered check's framework keys.
    registered = {c.meta.id: type(c) for c in load_checks()}
    expected = [*(type(c) for c in ISSUE_CHECKS), CodeAllowsRemoteModelCode]
    assert [registered.get(i) for i in MODEL_CHECKS] == expected


def test_severity_defaults_follow_the_issue() -> None:
    # The issue text: malicious CRITICAL/HIGH, suspicious MEDIUM, unscannable MEDIUM; remote code HIGH,
    # a changed signed model CRITICAL, mixed formats MEDIUM, trust_remote_code in code HIGH.
    assert [c.meta.severity for c in [*ISSUE_CHECKS, CodeAllowsRemoteModelCode()]] == [C, M, M, H, C, M, H]


# --- AISPM-MODEL-007: code that allows remote code ---------------------------------------------------


def usage(*loads: dict[str, JSON], path: str = "svc/app.py") -> Asset:
    return sdk_usage_asset(
        "transformers", path, Location(path, 1), Scope.PRODUCTION, model_loads=[dict(x) for x in loads]
    )


LOAD: dict[str, JSON] = {
    "loader": "transformers.AutoModel.from_pretrained",
    "format": "huggingface",
    "line": 7,
}


@pytest.mark.parametrize(
    ("load", "severity"),
    [
        ({**LOAD, "model": "org/phi", "flags": {"trust_remote_code": True}}, H),
        ({**LOAD, "path": "./models/phi", "flags": {"trust_remote_code": True}}, H),
        ({**LOAD, "model": "org/phi", "revision": "0" * 40, "flags": {"trust_remote_code": True}}, M),
        ({**LOAD, "model": "org/phi", "flags": {"trust_remote_code": False}}, None),
        ({**LOAD, "model": "org/phi", "flags": {"trust_remote_code": "dynamic"}}, None),
        ({**LOAD, "model": "org/phi", "flags": {}}, None),
        ({**LOAD, "model": "org/phi"}, None),
    ],
)
def test_trust_remote_code_in_code(load: dict[str, JSON], severity: Severity | None) -> None:
    u = usage(load)
    found = list(CodeAllowsRemoteModelCode().evaluate(u, Inventory([u], [])))
    assert [f.severity for f in found] == ([severity] if severity else [])
    if found:
        assert found[0].location == Location("svc/app.py", 7)
        assert "trust_remote_code" in found[0].message


def test_usage_without_loads_or_with_odd_loads_passes() -> None:
    odd = sdk_usage_asset(
        "transformers", "a.py", Location("a.py", 1), Scope.PRODUCTION, model_loads=["x", {"flags": "x"}, 3]
    )
    plain = sdk_usage_asset("openai", "a.py", Location("a.py", 1), Scope.PRODUCTION)
    for u in (odd, plain):
        assert list(CodeAllowsRemoteModelCode().evaluate(u, Inventory([u], []))) == []


# --- end to end: a generated estate, its clean twin, stable fingerprints ----------------------------


def _u(s: str) -> bytes:
    raw = s.encode()
    return b"\x8c" + bytes([len(raw)]) + raw


def custom_class_pickle() -> bytes:
    """``acme_ml.nets.Net()`` in protocol 4 opcodes (outside the allowlist, but no known primitive)."""
    return b"\x80\x04" + _u("acme_ml.nets") + _u("Net") + b"\x93)\x81}b."


def hf_dir(folder: Path, config: Mapping[str, object] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    save_file({"w": np.zeros((4, 4), dtype=np.float32)}, folder / "model.safetensors", {"format": "pt"})
    (folder / "config.json").write_text(
        json.dumps(config or {"architectures": ["BertModel"], "model_type": "bert"})
    )
    return folder


def sign(folder: Path, key_dir: Path) -> None:
    model_signing = pytest.importorskip("model_signing")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    private = key_dir / "signer.pem"
    private.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    hashing = model_signing.hashing.Config().use_file_serialization().set_ignored_paths(paths=["model.sig"])
    config = model_signing.signing.Config().use_elliptic_key_signer(private_key=private)
    config.set_hashing_config(hashing)
    config.sign(folder, folder / "model.sig")


def build_estate(root: Path, key_dir: Path, *, bad: bool) -> Path:
    """A tree with one case per check (``bad``) or its benign twin (not ``bad``)."""
    models = root / "models"
    models.mkdir(parents=True)
    torch = pytest.importorskip("torch")
    if bad:
        (models / "evil.pkl").write_bytes(samples.os_system_p2_global(root.parent / CANARY))
        (models / "custom.pkl").write_bytes(custom_class_pickle())
        (models / "trunc.pkl").write_bytes(pickle.dumps({"a": [1, 2, 3]}, protocol=2)[:-4])
    else:
        (models / "evil.pkl").write_bytes(pickle.dumps({"coef": [1.0, 2.0]}, protocol=2))
        (models / "custom.pkl").write_bytes(pickle.dumps({"net": "acme_ml.nets.Net"}, protocol=4))
        (models / "trunc.pkl").write_bytes(pickle.dumps({"a": [1, 2, 3]}, protocol=2))
    remote: dict[str, object] = {"architectures": ["PhiForCausalLM"], "model_type": "phi"}
    if bad:
        remote["auto_map"] = {"AutoModelForCausalLM": "modeling_phi.PhiForCausalLM"}
    hf_dir(models / "remote", remote)
    (models / "remote" / "modeling_phi.py").write_text(
        "import torch\n\nclass PhiForCausalLM(torch.nn.Module):\n    pass\n"
    )
    signed = hf_dir(models / "signed")
    (signed / "README.md").write_text("---\nlicense: mit\n---\n")
    sign(signed, key_dir)
    if bad:
        save_file({"w": np.ones((4, 4), dtype=np.float32)}, signed / "model.safetensors", {"format": "pt"})
    mixed = hf_dir(models / "mixed")
    torch.save({"w": torch.zeros(4, 4)}, mixed / ("pytorch_model.bin" if bad else "training_args.bin"))
    (root / "app.py").write_text(
        "from transformers import AutoModelForCausalLM\n\n"
        f"model = AutoModelForCausalLM.from_pretrained('models/remote', trust_remote_code={bad})\n"
    )
    return root


def run(root: Path) -> ScanResult:
    return scan([root], ScanOptions(collectors=["model-files", "python-code"], checks=MODEL_CHECKS))


def table(result: ScanResult) -> list[tuple[str, str, str, str | None]]:
    return sorted(
        (
            f.check_id,
            str(f.severity),
            str(f.evidence.get("rule", "")),
            f.location.path if f.location else None,
        )
        for f in result.findings
    )


def test_generated_estate_fails_each_check_where_expected(tmp_path: Path) -> None:
    result = run(build_estate(tmp_path / "repo", tmp_path, bad=True))
    assert result.errors == ()
    assert table(result) == [
        ("AISPM-MODEL-001", "critical", "pickle.exec", "models/evil.pkl"),
        ("AISPM-MODEL-002", "medium", "pickle.non-allowlisted", "models/custom.pkl"),
        ("AISPM-MODEL-003", "medium", "pickle.malformed", "models/trunc.pkl"),
        ("AISPM-MODEL-004", "high", "hf.remote-code", "models/remote/config.json"),
        ("AISPM-MODEL-005", "critical", "signing.mismatch", "models/signed/model.sig"),
        ("AISPM-MODEL-006", "medium", "hf.mixed-formats", "models/mixed/pytorch_model.bin"),
        ("AISPM-MODEL-007", "high", "", "app.py"),
    ]
    runs = {r.check_id: r for r in result.check_runs}
    assert all(runs[c].failed == 1 and runs[c].not_assessed == 0 for c in MODEL_CHECKS)
    assert not (tmp_path / CANARY).exists()


def test_benign_twin_estate_has_no_findings(tmp_path: Path) -> None:
    result = run(build_estate(tmp_path / "repo", tmp_path, bad=False))
    assert result.errors == ()
    assert table(result) == []
    runs = {r.check_id: r for r in result.check_runs}
    assert all(runs[c].not_assessed == 0 and runs[c].assessed > 0 for c in MODEL_CHECKS)


def test_fingerprints_are_stable_across_places_and_runs(tmp_path: Path) -> None:
    one = run(build_estate(tmp_path / "a" / "repo", tmp_path / "a", bad=True))
    two = run(build_estate(tmp_path / "b" / "elsewhere" / "repo", tmp_path / "b", bad=True))
    again = run(tmp_path / "a" / "repo")
    prints = [f.fingerprint for f in one.findings]
    assert len(prints) == len(set(prints)) == 7
    assert prints == [f.fingerprint for f in two.findings] == [f.fingerprint for f in again.findings]
    shutil.rmtree(tmp_path / "b")
