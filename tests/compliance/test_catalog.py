"""Framework catalogs: shape, counts the standards fix, aliases and resolution."""

from __future__ import annotations

import json
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest

from aispm.compliance.catalog import CatalogError, frameworks, load_catalog, normalize, parse_catalog, resolve

DATA = resources.files("aispm.compliance") / "data"


def test_every_catalog_file_has_the_documented_shape() -> None:
    files = sorted(e.name for e in DATA.iterdir() if e.name.endswith(".json"))
    assert files == [
        "eu-ai-act-2024-1689.json",
        "iso-42001-2023.json",
        "mitre-atlas-5.6.0.json",
        "nist-ai-rmf-1.0.json",
        "owasp-asi-2026.json",
        "owasp-llm-2025.json",
        "owasp-mcp-2025.json",
    ]
    for name in files:
        doc = json.loads((DATA / name).read_text(encoding="utf-8"))
        assert {"framework", "edition", "name", "licence", "source_url", "requirements"} <= set(doc), name
        assert doc["source_url"].startswith("https://"), name
        for r in doc["requirements"]:
            assert set(r) <= {"id", "title", "kind", "parent", "aliases"}, (name, r)
            # Short titles only: no requirement text is shipped.
            assert 0 < len(r["title"]) <= 110, (name, r)


def test_frameworks_by_key() -> None:
    assert set(frameworks()) == {
        "owasp-llm@2025",
        "owasp-asi@2026",
        "owasp-mcp@2025",
        "mitre-atlas@5.6.0",
        "nist-ai-rmf@1.0",
        "iso-42001@2023",
        "eu-ai-act@2024/1689",
    }


def test_nist_ai_rmf_has_all_72_subcategories() -> None:
    reqs = frameworks()["nist-ai-rmf@1.0"].requirements
    assert len(reqs) == 72
    per_function = Counter(rid.split(" ")[0] for rid in reqs)
    assert per_function == {"GOVERN": 19, "MAP": 18, "MEASURE": 22, "MANAGE": 13}
    categories = {rid.split(".")[0] for rid in reqs}
    assert len(categories) == 19
    assert reqs["GOVERN 1.6"].title.lower().find("inventory") >= 0
    assert "MEASURE 2.13" in reqs and "MEASURE 2.14" not in reqs


def test_iso_42001_has_38_annex_a_controls() -> None:
    reqs = frameworks()["iso-42001@2023"].requirements
    assert len(reqs) == 38
    # CSA's stray category-level ids are not controls.
    for stray in ("A.4", "A.6.1", "A.6.2", "A.8.2.2", "A.8.3.1"):
        assert stray not in reqs


@pytest.mark.parametrize("key", ["owasp-llm@2025", "owasp-asi@2026", "owasp-mcp@2025"])
def test_owasp_lists_have_ten(key: str) -> None:
    assert len(frameworks()[key].requirements) == 10


def test_atlas_holds_the_listed_tactics_techniques_and_mitigations() -> None:
    reqs = frameworks()["mitre-atlas@5.6.0"].requirements
    kinds = Counter(r.kind for r in reqs.values())
    assert kinds["tactic"] == 16
    assert kinds["mitigation"] == 19
    assert reqs["AML.T0055"].title == "Unsecured Credentials"
    assert reqs["AML.T0018"].title == "Manipulate AI Model"
    assert "Backdoor ML Model" in reqs["AML.T0018"].aliases
    assert reqs["AML.T0051.001"].parent == "AML.T0051"
    for r in reqs.values():
        if r.parent:
            assert r.parent in reqs


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("nist-ai-rmf@1.0#GOVERN 1.6", "nist-ai-rmf@1.0#GOVERN 1.6"),
        ("nist-ai-rmf@1.0#GOVERN-1.6", "nist-ai-rmf@1.0#GOVERN 1.6"),
        ("nist-ai-rmf@1.0#GV-1.6", "nist-ai-rmf@1.0#GOVERN 1.6"),
        ("nist-ai-rmf@1.0#ms-2.7", "nist-ai-rmf@1.0#MEASURE 2.7"),
        ("nist-ai-rmf@1#MANAGE 4.1", "nist-ai-rmf@1.0#MANAGE 4.1"),
        ("owasp-llm@2025#LLM01:2025", "owasp-llm@2025#LLM01"),
        ("owasp-llm@2025#LLM1:2025", "owasp-llm@2025#LLM01"),
        ("owasp-llm@2025#llm10", "owasp-llm@2025#LLM10"),
        ("owasp-mcp@2025#MCP1:2025", "owasp-mcp@2025#MCP01"),
        ("owasp-asi@2026#ASI3", "owasp-asi@2026#ASI03"),
        ("mitre-atlas@5.6.0#T0055", "mitre-atlas@5.6.0#AML.T0055"),
        ("mitre-atlas@5.6.0#aml.t0051.001", "mitre-atlas@5.6.0#AML.T0051.001"),
        ("mitre-atlas@5.6.0#AML.TA0013", "mitre-atlas@5.6.0#AML.TA0013"),
        ("mitre-atlas@5.6.0#M0023", "mitre-atlas@5.6.0#AML.M0023"),
        ("iso-42001@2023#6.2.8", "iso-42001@2023#A.6.2.8"),
        ("eu-ai-act@2024/1689#Art. 15(5)", "eu-ai-act@2024/1689#art-15.5"),
        ("eu-ai-act@2024/1689#Article 10(2)(f)", "eu-ai-act@2024/1689#art-10.2.f"),
        ("eu-ai-act@2024-1689#art-15", "eu-ai-act@2024/1689#art-15"),
        ("eu-ai-act@2024/1689#annex-iv", "eu-ai-act@2024/1689#annex-IV"),
        ("OWASP-LLM@2025#LLM02", "owasp-llm@2025#LLM02"),
    ],
)
def test_aliases_normalize_and_resolve(alias: str, canonical: str) -> None:
    assert normalize(alias) == canonical
    req = resolve(alias)
    assert req is not None and req.key == canonical


def test_resolve_unknown_and_malformed() -> None:
    assert resolve("owasp-llm@2025#LLM11") is None
    assert resolve("owasp-llm@2023#LLM01") is None  # editions are not interchangeable
    assert resolve("nist-ai-rmf@1.0#MEASURE 2.14") is None
    assert resolve("eu-ai-act@2024/1689#art-16") is None
    assert resolve("eu-ai-act@2024/1689#art-16.1") is None
    assert resolve("iso-42001@2023#A.4") is None
    assert resolve("mitre-atlas@5.6.0#AML.T0055.001") is None
    assert resolve("no-such@1#x") is None
    assert resolve("LLM01") is None
    with pytest.raises(ValueError):
        normalize("owasp-llm#LLM01")


def test_eu_paragraph_keys_resolve_through_their_article() -> None:
    req = resolve("eu-ai-act@2024/1689#art-15.5")
    assert req is not None
    assert (req.id, req.parent, req.title) == ("art-15.5", "art-15", "Accuracy, robustness and cybersecurity")
    deep = resolve("eu-ai-act@2024/1689#art-10.2.f")
    assert deep is not None and deep.parent == "art-10"


def test_parse_catalog_rejects_bad_documents(tmp_path: Path) -> None:
    base = {
        "framework": "owasp-llm",
        "edition": "2025",
        "name": "n",
        "licence": "l",
        "source_url": "https://x",
    }
    with pytest.raises(CatalogError, match="missing field"):
        parse_catalog({"framework": "x"})
    with pytest.raises(CatalogError, match="non-empty"):
        parse_catalog({**base, "requirements": []})
    with pytest.raises(CatalogError, match="canonical"):
        parse_catalog({**base, "requirements": [{"id": "LLM1", "title": "t"}]})
    with pytest.raises(CatalogError, match="twice"):
        parse_catalog(
            {**base, "requirements": [{"id": "LLM01", "title": "t"}, {"id": "LLM01", "title": "u"}]}
        )
    with pytest.raises(CatalogError, match="id and a title"):
        parse_catalog({**base, "requirements": [{"id": "LLM01"}]})
    path = tmp_path / "custom.json"
    path.write_text(json.dumps({**base, "requirements": [{"id": "LLM01", "title": "t"}]}))
    assert load_catalog(path).requirements["LLM01"].key == "owasp-llm@2025#LLM01"
