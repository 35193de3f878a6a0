"""The aispm.scan/v1 contract: every JSON output validates against the published schema."""

from __future__ import annotations

import json
from pathlib import Path

from jsonschema import Draft202012Validator, FormatChecker

from aispm.outputs import render
from aispm.pipeline import ScanOptions, scan
from tests.helpers import LineCollector, ModelsAreBad

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "docs/schema/aispm.scan.v1.schema.json").read_text()
)


def test_schema_is_itself_valid() -> None:
    Draft202012Validator.check_schema(SCHEMA)


def test_scan_json_validates_and_has_relative_paths(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "svc").mkdir(parents=True)
    (root / "svc" / "a.ai").write_text("use openai\nmodel org/a\nboom\n")
    result = scan([root], ScanOptions(collectors=[LineCollector()], checks=[ModelsAreBad()]))
    doc = json.loads(render("json", result))
    errors = sorted(Draft202012Validator(SCHEMA, format_checker=FormatChecker()).iter_errors(doc), key=str)
    assert not errors, [e.message for e in errors]
    assert doc["schema"] == "aispm.scan/v1"
    assert doc["scan"]["targets"] == ["repo"]
    assert doc["scan"]["errors"][0]["path"] == "svc/a.ai"
    model = next(a for a in doc["assets"] if a["kind"] == "model")
    assert model["name"] == "org/a" and model["location"] == {"path": "svc/a.ai", "line": 2}
    assert model["properties"]["provider"] == "huggingface"
    assert str(tmp_path) not in json.dumps(doc)
    assert doc["findings"][0]["frameworks"] == ["owasp-llm@2025#LLM03"]
