"""CycloneDX ML-BOM output: strict schema validity (1.6 and 1.7), the mapping, and the pitfalls."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.spdx import is_supported_id

from aispm.assets import model_asset
from aispm.model import AssetKind, Location, Relation, RelationKind, ScanResult, Scope
from aispm.outputs import cyclonedx
from aispm.outputs.validate import validate_cyclonedx
from aispm.pipeline import ScanOptions, scan
from tests.helpers import LineCollector, ModelsAreBad
from tests.outputs.conftest import ARTIFACT_SHA256, HF_COMMIT, REDACTED, SCAN_ID

VERSIONS = ["1.6", "1.7"]


def _bom(result: ScanResult, version: str = "1.6") -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(cyclonedx.render(result, spec_version=version))
    return doc


def _components(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in doc["components"]}


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield k
            yield from _strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v)


@pytest.mark.parametrize("version", VERSIONS)
def test_rich_bom_is_strictly_valid(rich_result: ScanResult, version: str) -> None:
    text = cyclonedx.render(rich_result, spec_version=version)
    assert validate_cyclonedx(text, version) == []
    assert json.loads(text)["specVersion"] == version


@pytest.mark.parametrize("version", VERSIONS)
def test_empty_scan_is_strictly_valid(empty_result: ScanResult, version: str) -> None:
    text = cyclonedx.render(empty_result, spec_version=version)
    assert validate_cyclonedx(text, version) == []
    assert json.loads(text).get("components", []) == []


def test_unknown_spec_version_is_refused(rich_result: ScanResult) -> None:
    with pytest.raises(ValueError, match=r"1\.5"):
        cyclonedx.render(rich_result, spec_version="1.5")


def test_validator_reports_errors_instead_of_raising() -> None:
    assert validate_cyclonedx("{not json", "1.6")[0].startswith("not JSON")
    bad = json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"type": "service"}]})
    assert validate_cyclonedx(bad, "1.6")
    assert validate_cyclonedx("{}", "0.9") == ["unsupported CycloneDX version '0.9'"]


def test_metadata_describes_the_scanned_target_deterministically(rich_result: ScanResult) -> None:
    doc = _bom(rich_result)
    meta = doc["metadata"]
    assert meta["component"] == {"bom-ref": cyclonedx.ROOT_REF, "name": "estate", "type": "application"}
    assert meta["lifecycles"] == [{"phase": "discovery"}]
    assert [t["name"] for t in meta["tools"]["components"]] == ["aispm"]
    assert meta["timestamp"].startswith("2025-06-01T12:00:03")
    assert {"name": "aispm:scan-id", "value": SCAN_ID} in meta["properties"]
    assert doc["serialNumber"] == _bom(rich_result)["serialNumber"]
    assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", doc["serialNumber"])
    assert cyclonedx.render(rich_result) == cyclonedx.render(rich_result)


def test_models_are_ml_components_with_model_cards(rich_result: ScanResult) -> None:
    doc = _bom(rich_result)
    models = {a.id for a in rich_result.assets if a.kind is AssetKind.MODEL}
    ml = [c for c in doc["components"] if c["type"] == "machine-learning-model"]
    assert {c["bom-ref"] for c in ml} == models
    assert all("modelCard" in c for c in ml)
    # Pitfall: modelCard is forbidden on anything but a model.
    assert not [c for c in doc["components"] if c["type"] != "machine-learning-model" and "modelCard" in c]


def test_hugging_face_model_has_purl_with_lowercase_commit_and_a_filled_model_card(
    rich_result: ScanResult,
) -> None:
    llama = _components(_bom(rich_result))["meta-llama/Llama-3.1-8B-Instruct"]
    commit = HF_COMMIT.lower()
    assert llama["purl"] == f"pkg:huggingface/meta-llama/Llama-3.1-8B-Instruct@{commit}"
    assert llama["version"] == commit
    assert llama["supplier"] == {"name": "meta-llama"}
    assert llama["licenses"] == [{"license": {"name": "llama3.1"}}]
    params = llama["modelCard"]["modelParameters"]
    assert params["task"] == "text-generation"
    assert params["architectureFamily"] == "llama"
    assert params["modelArchitecture"] == "LlamaForCausalLM"
    data_refs = {c["bom-ref"] for c in _bom(rich_result)["components"] if c["type"] == "data"}
    assert {d["ref"] for d in params["datasets"]} == data_refs
    assert {"type": "model-card", "url": "https://huggingface.co/meta-llama/Llama-3.1-8B-Instruct"} in llama[
        "externalReferences"
    ]


def test_unpinned_hf_model_has_no_invented_version(rich_result: ScanResult) -> None:
    minilm = _components(_bom(rich_result))["sentence-transformers/all-MiniLM-L6-v2"]
    assert minilm["purl"] == "pkg:huggingface/sentence-transformers/all-MiniLM-L6-v2"
    assert "version" not in minilm
    assert minilm["licenses"] == [{"license": {"id": "Apache-2.0"}}]


def test_saas_model_names_its_provider_and_links_to_the_service(rich_result: ScanResult) -> None:
    doc = _bom(rich_result)
    gpt = _components(doc)["gpt-4o"]
    assert gpt["supplier"] == {"name": "openai"} and gpt["publisher"] == "openai"
    assert gpt["purl"] == "pkg:generic/openai/gpt-4o"
    openai = next(s for s in doc["services"] if s["name"] == "openai")
    assert openai["endpoints"] == ["https://api.openai.com/v1"]
    assert openai["x-trust-boundary"] is True
    deps = {d["ref"]: d.get("dependsOn", []) for d in doc["dependencies"]}
    assert deps[gpt["bom-ref"]] == [openai["bom-ref"]]  # model -> service
    usage = next(c for c in doc["components"] if c["name"] == "app/rag.py")
    assert gpt["bom-ref"] in deps[usage["bom-ref"]]  # usage -> model


def test_weights_file_has_hash_and_binary_evidence_but_no_supplier(rich_result: ScanResult) -> None:
    weights = _components(_bom(rich_result))["models/classifier.safetensors"]
    assert weights["hashes"] == [{"alg": "SHA-256", "content": ARTIFACT_SHA256}]
    assert "purl" not in weights and "supplier" not in weights
    assert "licenses" not in weights  # "other" says nothing and is never written
    assert weights["evidence"]["identity"][0]["methods"][0]["technique"] == "binary-analysis"


def test_datasets_are_data_components_with_component_data(rich_result: ScanResult) -> None:
    squad = _components(_bom(rich_result))["rajpurkar/squad"]
    assert squad["type"] == "data"
    assert squad["data"] == [
        {
            "type": "dataset",
            "name": "rajpurkar/squad",
            "contents": {"url": "https://huggingface.co/datasets/rajpurkar/squad"},
            "description": "Dataset from huggingface",
        }
    ]


def test_packages_are_libraries_with_purls(rich_result: ScanResult) -> None:
    comps = _components(_bom(rich_result))
    assert comps["openai"]["type"] == "library"
    assert comps["openai"]["purl"] == "pkg:pypi/openai@1.51.0"
    assert comps["@ai-sdk/openai"]["purl"] == "pkg:npm/%40ai-sdk/openai@1.0.0"
    assert comps["transformers"]["evidence"]["identity"][0]["methods"][0]["technique"] == "manifest-analysis"


def test_files_and_programs_get_the_documented_types(rich_result: ScanResult) -> None:
    comps = _components(_bom(rich_result))
    assert comps["app/rag.py"]["type"] == "file"
    assert comps["app/rag.py"]["description"] == "Uses the openai AI SDK"
    assert comps["notebooks/explore.ipynb"]["type"] == "file"
    assert comps[".cursor/mcp.json"]["type"] == "file"
    assert comps["support-agent"]["type"] == "application"
    assert comps["filesystem"]["type"] == "application"  # a local (command) MCP server


def test_endpoints_are_services_never_components(rich_result: ScanResult) -> None:
    doc = _bom(rich_result)
    assert not [c for c in doc["components"] if c["type"] == "service"]
    services = {s["name"]: s for s in doc["services"]}
    assert set(services) == {"openai", "anthropic", "vllm", "tickets"}
    assert services["tickets"]["endpoints"] == ["https://mcp.example.com/sse"]
    # User info and query strings are where tokens ride; they never reach the BOM.
    assert services["vllm"]["endpoints"] == ["http://vllm:8000/v1"]
    text = cyclonedx.render(rich_result)
    assert "secret" not in text and "token=abc" not in text


def test_every_occurrence_is_evidence_with_relative_path_and_line(rich_result: ScanResult) -> None:
    doc = _bom(rich_result)
    by_ref = {c["bom-ref"]: c for c in doc["components"]}
    for asset in rich_result.assets:
        if asset.id not in by_ref:
            continue
        expected = [{"location": o.path, **({"line": o.line} if o.line else {})} for o in asset.occurrences]
        assert by_ref[asset.id]["evidence"]["occurrences"] == expected
        assert 0 < by_ref[asset.id]["evidence"]["identity"][0]["confidence"] <= 1
    gpt = _components(doc)["gpt-4o"]
    assert gpt["evidence"]["occurrences"] == [
        {"location": ".env.example", "line": 2},
        {"location": "app/rag.py", "line": 14},
        {"location": "web/src/chat.ts", "line": 9},
    ]


def test_dependencies_are_complete_and_never_dangle(rich_result: ScanResult) -> None:
    doc = _bom(rich_result)
    refs = [c["bom-ref"] for c in doc["components"]] + [s["bom-ref"] for s in doc["services"]]
    assert len(refs) == len(set(refs))
    known = {*refs, cyclonedx.ROOT_REF}
    assert isinstance(doc["dependencies"], list)
    for dep in doc["dependencies"]:
        assert dep["ref"] in known
        assert set(dep.get("dependsOn", [])) <= known
    # Everything hangs from the root: reachable by following dependsOn.
    graph = {d["ref"]: d.get("dependsOn", []) for d in doc["dependencies"]}
    seen, todo = set(), [cyclonedx.ROOT_REF]
    while todo:
        ref = todo.pop()
        if ref not in seen:
            seen.add(ref)
            todo.extend(graph.get(ref, []))
    assert seen == known


def test_writes_is_not_a_dependency(rich_result: ScanResult) -> None:
    doc = _bom(rich_result)
    deps = {d["ref"]: d.get("dependsOn", []) for d in doc["dependencies"]}
    weights = _components(doc)["models/classifier.safetensors"]["bom-ref"]
    trainer = _components(doc)["train/finetune.py"]["bom-ref"]
    assert weights not in deps[trainer]


def test_pitfalls_seen_in_the_wild_are_absent(rich_result: ScanResult) -> None:
    doc = _bom(rich_result)
    comps = doc["components"]
    # Libraries, providers and keys are never typed as models.
    ml_names = {c["name"] for c in comps if c["type"] == "machine-learning-model"}
    assert not ml_names & {"openai", "transformers", "@ai-sdk/openai", "anthropic", "openai-api-key"}
    # purls are built, never concatenated: no spaces.
    assert all(" " not in c["purl"] for c in comps if "purl" in c)
    # No absolute host paths anywhere: bom-refs, locations, properties.
    for s in _strings(doc):
        assert not s.startswith(("/", "~")) and not re.match(r"^[A-Za-z]:\\", s), s
    assert all(":" in c["bom-ref"] and "/" not in c["bom-ref"] for c in comps)
    # Licence ids are SPDX ids; "other"/"unknown" never appear as ids.
    for c in comps:
        for lic in c.get("licenses", []):
            if "id" in lic.get("license", {}):
                assert is_supported_id(lic["license"]["id"])
    assert "dependencies" in doc and doc["dependencies"] is not None


def test_credentials_are_never_listed(rich_result: ScanResult) -> None:
    text = cyclonedx.render(rich_result)
    assert REDACTED not in text
    assert "openai-api-key" not in text
    doc = json.loads(text)
    assert {"name": "aispm:assets-not-listed", "value": "1"} in doc["metadata"]["properties"]


def test_output_is_identical_across_processes(rich_result: ScanResult) -> None:
    code = (
        "from tests.outputs.conftest import build_rich_result as b;"
        "from aispm.outputs import cyclonedx, sarif, spdx;"
        "r = b(); print(cyclonedx.render(r), cyclonedx.render(r, spec_version='1.7'));"
        "print(sarif.render(r), spdx.render(r))"
    )
    root = Path(__file__).resolve().parents[2]
    runs = {
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=root,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(runs) == 1


def test_a_real_scan_renders_a_valid_bom(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "svc.ai").write_text("use openai\nmodel gpt-4o\nmodel org/model-a\n")
    (tmp_path / "notes.ai").write_text("model org/model-a\nboom\n")
    result = scan([tmp_path], ScanOptions(collectors=[LineCollector()], checks=[ModelsAreBad()]))
    for version in VERSIONS:
        text = cyclonedx.render(result, spec_version=version)
        assert validate_cyclonedx(text, version) == []
    names = {c["name"]: c for c in json.loads(text)["components"]}
    assert names["org/model-a"]["purl"] == "pkg:huggingface/org/model-a"
    assert [o["location"] for o in names["org/model-a"]["evidence"]["occurrences"]] == [
        "app/svc.ai",
        "notes.ai",
    ]


def test_cycles_still_hang_from_the_root(empty_result: ScanResult) -> None:
    a = model_asset("org/a", "huggingface", Location("a.py", 1), Scope.PRODUCTION)
    b = model_asset("org/b", "huggingface", Location("b.py", 1), Scope.PRODUCTION)
    relations = (
        Relation(a.id, b.id, RelationKind.DERIVED_FROM),
        Relation(b.id, a.id, RelationKind.DERIVED_FROM),
    )
    result = replace(empty_result, assets=(a, b), relations=relations)
    text = cyclonedx.render(result)
    assert validate_cyclonedx(text, "1.6") == []
    deps = {d["ref"]: d.get("dependsOn", []) for d in json.loads(text)["dependencies"]}
    assert deps[cyclonedx.ROOT_REF] == [min(a.id, b.id)]
    assert cyclonedx.entry_refs(["x", "y", "z"], {"x": ["y"]}) == ["x", "z"]
