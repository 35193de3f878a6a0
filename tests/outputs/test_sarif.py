"""SARIF 2.1.0 output: schema validity and what GitHub code scanning needs."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from aispm.checks.base import CheckMeta
from aispm.model import AssetKind, Finding, Location, ScanResult, Severity
from aispm.outputs import sarif
from aispm.outputs.validate import validate_sarif
from aispm.pipeline import ScanOptions, scan
from tests.helpers import LineCollector, ModelsAreBad
from tests.outputs.conftest import CRED_CHECK, CRED_FRAMEWORKS, REDACTED, SCAN_ID


def _run(result: ScanResult, **opts: Any) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(sarif.render(result, **opts))
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1
    run: dict[str, Any] = log["runs"][0]
    return run


def test_rich_log_is_schema_valid(rich_result: ScanResult) -> None:
    assert validate_sarif(sarif.render(rich_result)) == []


def test_empty_log_is_schema_valid(empty_result: ScanResult) -> None:
    text = sarif.render(empty_result)
    assert validate_sarif(text) == []
    run = json.loads(text)["runs"][0]
    assert run["results"] == [] and run["tool"]["driver"]["rules"] == []


def test_validator_reports_errors_instead_of_raising() -> None:
    assert validate_sarif("[")[0].startswith("not JSON")
    assert validate_sarif(json.dumps({"version": "2.1.0", "runs": [{"tool": {}}]}))


def test_driver_names_aispm(rich_result: ScanResult) -> None:
    driver = _run(rich_result)["tool"]["driver"]
    assert driver["name"] == "aispm"
    assert driver["version"] == "0.1.0"
    assert driver["informationUri"].startswith("https://")


def test_only_file_anchored_findings_become_results(rich_result: ScanResult) -> None:
    run = _run(rich_result)
    assert [r["ruleId"] for r in run["results"]] == [CRED_CHECK, "AISPM-MODEL-001"]
    assert run["properties"]["findingsNotFileAnchored"] == 1  # counted, not silently dropped
    assert run["properties"]["scanId"] == SCAN_ID
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [CRED_CHECK, "AISPM-MODEL-001"]


def test_results_carry_what_code_scanning_requires(rich_result: ScanResult) -> None:
    run = _run(rich_result)
    rules = run["tool"]["driver"]["rules"]
    by_fp = {f.fingerprint: f for f in rich_result.findings}
    for result in run["results"]:
        assert result["message"]["text"]
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        finding = by_fp[result["partialFingerprints"]["aispm/v1"]]
        physical = result["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"] == {"uri": finding.location.path, "uriBaseId": "%SRCROOT%"}  # type: ignore[union-attr]
        assert physical["region"]["startLine"] >= 1
    cred = run["results"][0]
    assert cred["level"] == "error"
    assert cred["locations"][0]["physicalLocation"]["region"] == {"startLine": 7}
    assert REDACTED in cred["message"]["text"]  # the message holds only the redacted value
    # A finding on a file without a line still points at the file, at line 1.
    assert run["results"][1]["locations"][0]["physicalLocation"]["region"] == {"startLine": 1}


def test_rules_carry_severity_tags_and_help(rich_result: ScanResult) -> None:
    rule = _run(rich_result)["tool"]["driver"]["rules"][0]
    assert rule["name"] == "HardcodedAiProviderCredential"
    assert rule["shortDescription"]["text"] == "Hardcoded AI provider credential"
    assert rule["fullDescription"]["text"]
    assert rule["defaultConfiguration"]["level"] == "error"
    props = rule["properties"]
    assert props["security-severity"] == "9.5"
    assert props["precision"] == "high"
    assert set(CRED_FRAMEWORKS) <= set(props["tags"])
    assert rule["help"]["text"].startswith("Revoke")


@pytest.mark.parametrize(
    ("severity", "level", "score"),
    [
        (Severity.CRITICAL, "error", "9.5"),
        (Severity.HIGH, "error", "8.0"),
        (Severity.MEDIUM, "warning", "5.5"),
        (Severity.LOW, "note", "3.0"),
        (Severity.INFO, "note", None),
    ],
)
def test_severity_maps_to_level_and_security_severity(
    rich_result: ScanResult, severity: Severity, level: str, score: str | None
) -> None:
    finding = replace(rich_result.findings[0], severity=severity)
    run = _run(replace(rich_result, findings=(finding,)))
    assert run["results"][0]["level"] == level
    rule = run["tool"]["driver"]["rules"][0]
    assert rule["defaultConfiguration"]["level"] == level
    assert rule["properties"].get("security-severity") == score


def test_check_metadata_enriches_rules(rich_result: ScanResult) -> None:
    meta = CheckMeta(
        id=CRED_CHECK,
        title="Hardcoded AI provider credential",
        severity=Severity.CRITICAL,
        asset_kinds=(AssetKind.CREDENTIAL,),
        frameworks=CRED_FRAMEWORKS,
        remediation="Rotate it.",
        description="An API key for an AI provider is written in the code.",
        equivalents=("generic-api-key",),
    )
    rule = _run(rich_result, checks={CRED_CHECK: meta})["tool"]["driver"]["rules"][0]
    assert rule["fullDescription"]["text"] == meta.description
    assert rule["properties"]["equivalents"] == ["generic-api-key"]
    assert rule["help"]["text"] == "Rotate it."


def test_scan_errors_become_notifications(rich_result: ScanResult) -> None:
    invocation = _run(rich_result)["invocations"][0]
    assert invocation["executionSuccessful"] is True
    assert invocation["endTimeUtc"] == "2025-06-01T12:00:03.750Z"
    notes = invocation["toolExecutionNotifications"]
    assert len(notes) == len(rich_result.errors)
    assert {n["descriptor"]["id"] for n in notes} == {
        "aispm/scan-error/parse",
        "aispm/scan-error/limit",
        "aispm/scan-error/internal",
    }
    internal = next(n for n in notes if n["properties"]["kind"] == "internal")
    assert internal["level"] == "error"
    assert internal["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "app/odd.py"


def test_paths_outside_the_target_are_not_results_and_odd_paths_are_encoded(rich_result: ScanResult) -> None:
    base = rich_result.findings[0]
    odd = [
        replace(base, fingerprint="a", location=Location("/etc/passwd", 1)),
        replace(base, fingerprint="b", location=Location("../elsewhere.py", 1)),
        replace(base, fingerprint="c", location=Location("my app/main file.py", 3)),
    ]
    text = sarif.render(replace(rich_result, findings=tuple(odd)))
    assert validate_sarif(text) == []
    results = json.loads(text)["runs"][0]["results"]
    assert [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results] == [
        "my%20app/main%20file.py"
    ]


def test_results_are_capped_for_github_keeping_the_most_severe(
    rich_result: ScanResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sarif, "MAX_RESULTS", 2)
    base = rich_result.findings[0]
    many: list[Finding] = [
        replace(base, fingerprint=f"low{i}", severity=Severity.LOW, location=Location("a.py", i + 1))
        for i in range(3)
    ]
    many.append(replace(base, fingerprint="crit", location=Location("z.py", 1)))
    run = _run(replace(rich_result, findings=tuple(many), errors=()))
    assert [r["partialFingerprints"]["aispm/v1"] for r in run["results"]] == ["crit", "low0"]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert [n["descriptor"]["id"] for n in notes] == ["aispm/results-truncated"]


def test_a_real_scan_renders_a_valid_log(tmp_path: Path) -> None:
    (tmp_path / "svc.ai").write_text("use openai\nmodel gpt-4o\nboom\n")
    result = scan([tmp_path], ScanOptions(collectors=[LineCollector()], checks=[ModelsAreBad()]))
    text = sarif.render(result)
    assert validate_sarif(text) == []
    run = json.loads(text)["runs"][0]
    assert [r["ruleId"] for r in run["results"]] == ["AISPM-TEST-001"]
    assert run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "svc.ai"
    assert run["invocations"][0]["toolExecutionNotifications"]  # the "boom" line is a parse error
