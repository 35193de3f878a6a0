"""SPDX 3.0.1 output: schema validity, the AI and Dataset profiles, and the graph's integrity."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from aispm.model import AssetKind, Relation, RelationKind, ScanResult
from aispm.outputs import spdx
from aispm.outputs.validate import validate_spdx
from aispm.pipeline import ScanOptions, scan
from tests.helpers import LineCollector
from tests.outputs.conftest import ARTIFACT_SHA256, HF_COMMIT, REDACTED


def _graph(result: ScanResult) -> list[dict[str, Any]]:
    doc = json.loads(spdx.render(result))
    assert doc["@context"] == "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"
    graph: list[dict[str, Any]] = doc["@graph"]
    return graph


def _of_type(graph: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["name"]: o for o in graph if o["type"] == kind}


def _id_of(graph: list[dict[str, Any]], suffix: str) -> str:
    return next(o["spdxId"] for o in graph if o.get("spdxId", "").endswith("#" + suffix))


def test_rich_document_is_schema_valid(rich_result: ScanResult) -> None:
    assert validate_spdx(spdx.render(rich_result)) == []


def test_empty_document_is_schema_valid(empty_result: ScanResult) -> None:
    assert validate_spdx(spdx.render(empty_result)) == []


def test_validator_reports_errors_instead_of_raising() -> None:
    assert validate_spdx("nope")[0].startswith("not JSON")
    bad = {"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": [{"type": "ai_AIPackage"}]}
    assert validate_spdx(json.dumps(bad))


def test_document_declares_the_ai_and_dataset_profiles(rich_result: ScanResult) -> None:
    graph = _graph(rich_result)
    doc = next(o for o in graph if o["type"] == "SpdxDocument")
    assert {"core", "software", "ai", "dataset"} <= set(doc["profileConformance"])
    root = _of_type(graph, "software_Package")["estate"]
    assert doc["rootElement"] == [root["spdxId"]]
    assert root["software_primaryPurpose"] == "application"
    info = next(o for o in graph if o["type"] == "CreationInfo")
    assert info["created"] == "2025-06-01T12:00:03Z"
    assert info["specVersion"] == "3.0.1"


def test_models_are_ai_packages(rich_result: ScanResult) -> None:
    graph = _graph(rich_result)
    models = _of_type(graph, "ai_AIPackage")
    assert set(models) == {a.name for a in rich_result.assets if a.kind is AssetKind.MODEL}
    assert all(m["software_primaryPurpose"] == "model" for m in models.values())
    llama = models["meta-llama/Llama-3.1-8B-Instruct"]
    assert llama["software_packageVersion"] == HF_COMMIT.lower()
    assert llama["software_packageUrl"].endswith("@" + HF_COMMIT.lower())
    assert llama["software_downloadLocation"] == "https://huggingface.co/meta-llama/Llama-3.1-8B-Instruct"
    assert llama["suppliedBy"] == _id_of(graph, "org-huggingface")
    assert llama["originatedBy"] == [_id_of(graph, "org-meta-llama")]
    gpt = models["gpt-4o"]
    assert gpt["suppliedBy"] == _id_of(graph, "org-openai")
    weights = models["models/classifier.safetensors"]
    assert weights["verifiedUsing"] == [{"type": "Hash", "algorithm": "sha256", "hashValue": ARTIFACT_SHA256}]
    assert "suppliedBy" not in weights


def test_datasets_and_training_lineage(rich_result: ScanResult) -> None:
    graph = _graph(rich_result)
    datasets = _of_type(graph, "dataset_DatasetPackage")
    assert datasets["data/train.jsonl"]["dataset_datasetType"] == ["text"]
    assert datasets["rajpurkar/squad"]["dataset_datasetType"] == ["noAssertion"]
    llama = _of_type(graph, "ai_AIPackage")["meta-llama/Llama-3.1-8B-Instruct"]["spdxId"]
    trained = [o for o in graph if o["type"] == "Relationship" and o["relationshipType"] == "trainedOn"]
    assert {t for r in trained if r["from"] == llama for t in r["to"]} == {
        d["spdxId"] for d in datasets.values()
    }


def test_packages_files_and_licences(rich_result: ScanResult) -> None:
    graph = _graph(rich_result)
    packages = _of_type(graph, "software_Package")
    assert packages["openai"]["software_primaryPurpose"] == "library"
    assert packages["openai"]["software_packageUrl"] == "pkg:pypi/openai@1.51.0"
    files = _of_type(graph, "software_File")
    assert set(files) == {
        "app/rag.py",
        "train/finetune.py",
        "web/src/chat.ts",
        "notebooks/explore.ipynb",
        ".cursor/mcp.json",
    }
    licences = {
        o["simplelicensing_licenseExpression"]
        for o in graph
        if o["type"] == "simplelicensing_LicenseExpression"
    }
    assert licences == {"Apache-2.0", "LicenseRef-llama3.1"}


def test_relations_without_an_spdx_word_keep_their_kind(rich_result: ScanResult) -> None:
    graph = _graph(rich_result)
    others = [o for o in graph if o["type"] == "Relationship" and o["relationshipType"] == "other"]
    assert [o["comment"] for o in others] == ["calls-provider"]
    available = [o for o in graph if o["type"] == "Relationship" and o["relationshipType"] == "availableFrom"]
    assert len(available) == 2


def test_graph_has_unique_ids_and_no_dangling_references(rich_result: ScanResult) -> None:
    graph = _graph(rich_result)
    ids = [o["spdxId"] for o in graph if "spdxId" in o]
    assert len(ids) == len(set(ids))
    known = set(ids)
    for o in graph:
        if o["type"] == "Relationship":
            assert o["from"] in known and set(o["to"]) <= known
    doc = next(o for o in graph if o["type"] == "SpdxDocument")
    assert set(doc["element"]) <= known


def test_everything_hangs_from_the_root(rich_result: ScanResult) -> None:
    graph = _graph(rich_result)
    edges: dict[str, set[str]] = {}
    for o in graph:
        if o["type"] == "Relationship":
            edges.setdefault(o["from"], set()).update(o["to"])
    root = next(o for o in graph if o["type"] == "SpdxDocument")["rootElement"][0]
    seen, todo = set(), [root]
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(edges.get(node, ()))
    packages = {
        o["spdxId"] for o in graph if o["type"] in {"ai_AIPackage", "dataset_DatasetPackage", "software_File"}
    }
    assert packages <= seen


def test_no_credentials_and_no_absolute_paths(rich_result: ScanResult) -> None:
    text = spdx.render(rich_result)
    assert REDACTED not in text and "openai-api-key" not in text and "secret" not in text
    for value in re.findall(r'"([^"]*)"', text):
        assert not value.startswith("/"), value


def test_a_real_scan_renders_a_valid_document(tmp_path: Path) -> None:
    (tmp_path / "svc.ai").write_text("use transformers\nmodel org/model-a\nmodel gpt-4o\n")
    result = scan([tmp_path], ScanOptions(collectors=[LineCollector()], checks=[]))
    text = spdx.render(result)
    assert validate_spdx(text) == []
    assert "org/model-a" in _of_type(json.loads(text)["@graph"], "ai_AIPackage")


def test_two_relations_mapping_to_one_spdx_type_stay_distinct(rich_result: ScanResult) -> None:
    usage = next(a for a in rich_result.assets if a.kind is AssetKind.AI_SDK_USAGE)
    model = next(a for a in rich_result.assets if a.kind is AssetKind.MODEL)
    extra = (
        Relation(usage.id, model.id, RelationKind.USES_MODEL),
        Relation(usage.id, model.id, RelationKind.DEPENDS_ON),
    )
    text = spdx.render(replace(rich_result, relations=(*rich_result.relations, *extra)))
    assert validate_spdx(text) == []
    ids = [o["spdxId"] for o in json.loads(text)["@graph"] if "spdxId" in o]
    assert len(ids) == len(set(ids))
