"""SARIF 2.1.0 view of one scan, shaped for GitHub code scanning.

Only findings anchored to a file of the scanned target become results: code scanning can show
nothing else. The others are counted in ``run.properties`` rather than dropped silently. Rules are
the checks that produced findings; scan errors become tool execution notifications.

GitHub constraints honoured here: at most 25,000 results per run (the most severe are kept and the
cut is reported), rule ids are the stable check ids, every result has ``message.text``, locations
are relative URIs under ``%SRCROOT%`` with ``startLine`` >= 1, and ``partialFingerprints`` carry
the finding's stable fingerprint so alerts survive code moves.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import quote

from aispm.checks.base import CheckMeta
from aispm.model import JSON, ErrorKind, Finding, Location, ScanError, ScanResult, Severity

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/aispm/"
SRCROOT = "%SRCROOT%"
MAX_RESULTS = 25_000
#: GitHub reads at most this many tags per rule.
MAX_TAGS = 20
FINGERPRINT_KEY = "aispm/v1"

_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
#: GitHub maps these to its critical/high/medium/low bands; info findings carry none.
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
}
_NOTIFICATION_LEVEL = {
    ErrorKind.READ: "warning",
    ErrorKind.PARSE: "warning",
    ErrorKind.LIMIT: "warning",
    ErrorKind.INTERNAL: "error",
}


def render(result: ScanResult, *, checks: Mapping[str, CheckMeta] | None = None) -> str:
    """The scan as a SARIF 2.1.0 log. ``checks`` (by id) adds descriptions and equivalents to rules."""
    anchored = sorted(
        (
            (f, f.location)
            for f in result.findings
            if f.location is not None and _is_file_path(f.location.path)
        ),
        key=_severest_first,
    )
    kept = anchored[:MAX_RESULTS]
    rules = _rules([f for f, _ in kept], checks or {})
    index = {r["id"]: i for i, r in enumerate(rules)}
    notes = [_error_notification(e) for e in result.errors]
    if len(anchored) > MAX_RESULTS:
        notes.append(_truncation_notification(len(anchored)))
    run: dict[str, JSON] = {
        "tool": {
            "driver": {
                "name": "aispm",
                "version": result.info.tool_version,
                "semanticVersion": result.info.tool_version,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }
        },
        "invocations": [
            {
                # Per-file errors do not fail the scan: it goes on and reports them here.
                "executionSuccessful": True,
                "startTimeUtc": _utc(result.info.started_at),
                "endTimeUtc": _utc(result.info.finished_at),
                "toolExecutionNotifications": notes,
            }
        ],
        "originalUriBaseIds": {SRCROOT: {"description": {"text": "The scanned target"}}},
        "results": [_result(f, loc, index[f.check_id]) for f, loc in kept],
        "properties": {
            "scanId": result.info.id,
            "targets": list(result.info.targets),
            "findingsNotFileAnchored": len(result.findings) - len(anchored),
        },
    }
    log = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _severest_first(anchored: tuple[Finding, Location]) -> tuple[int, str, Location, str]:
    f, loc = anchored
    return (-f.severity.rank, f.check_id, loc, f.fingerprint)


def _utc(timestamp: str) -> str:
    """SARIF wants UTC times written with a ``Z``."""
    moment = datetime.fromisoformat(timestamp)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="milliseconds") + "Z"


def _is_file_path(path: str) -> bool:
    """A non-empty path relative to the target (code scanning resolves it under %SRCROOT%)."""
    absolute = path.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", path) is not None
    return bool(path) and not absolute and ".." not in path.split("/")


def _rules(findings: list[Finding], metas: Mapping[str, CheckMeta]) -> list[JSON]:
    by_check: dict[str, list[Finding]] = {}
    for f in findings:
        by_check.setdefault(f.check_id, []).append(f)
    return [_rule(check_id, by_check[check_id], metas.get(check_id)) for check_id in sorted(by_check)]


def _rule(check_id: str, findings: list[Finding], meta: CheckMeta | None) -> JSON:
    first = findings[0]
    severity = meta.severity if meta else max((f.severity for f in findings), key=lambda s: s.rank)
    frameworks = sorted(set(meta.frameworks if meta else (k for f in findings for k in f.frameworks)))
    properties: dict[str, JSON] = {
        "tags": ["security", "ai", *frameworks][:MAX_TAGS],
        "precision": "high",
        "problem.severity": _problem_severity(severity),
        "frameworks": frameworks,
    }
    if severity in _SECURITY_SEVERITY:
        properties["security-severity"] = _SECURITY_SEVERITY[severity]
    if meta and meta.equivalents:
        properties["equivalents"] = list(meta.equivalents)
    title = meta.title if meta else first.title
    remediation = meta.remediation if meta else first.remediation
    rule: dict[str, JSON] = {
        "id": check_id,
        "name": _rule_name(title) or check_id.replace("-", ""),
        "shortDescription": {"text": title},
        "fullDescription": {"text": (meta.description if meta and meta.description else title)},
        "defaultConfiguration": {"level": _LEVEL[severity]},
        "properties": properties,
    }
    if remediation:
        rule["help"] = {"text": remediation, "markdown": f"**Remediation.** {remediation}"}
    return rule


def _rule_name(title: str) -> str:
    """``Hardcoded AI provider credential`` -> ``HardcodedAiProviderCredential``."""
    return "".join(w[:1].upper() + w[1:].lower() for w in re.findall(r"[A-Za-z0-9]+", title))


def _problem_severity(severity: Severity) -> str:
    return {"error": "error", "warning": "warning", "note": "recommendation"}[_LEVEL[severity]]


def _result(f: Finding, loc: Location, rule_index: int) -> JSON:
    return {
        "ruleId": f.check_id,
        "ruleIndex": rule_index,
        "level": _LEVEL[f.severity],
        "message": {"text": f.message or f.title},
        "locations": [_physical(loc.path, loc.line if loc.line and loc.line >= 1 else 1)],
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
        "properties": {"severity": f.severity.value, "assetId": f.asset_id, "frameworks": list(f.frameworks)},
    }


def _physical(path: str, line: int | None) -> JSON:
    physical: dict[str, JSON] = {"artifactLocation": {"uri": quote(path, safe="/"), "uriBaseId": SRCROOT}}
    if line is not None and line >= 1:
        physical["region"] = {"startLine": line}
    return {"physicalLocation": physical}


def _error_notification(error: ScanError) -> JSON:
    where = f"{error.path}: " if error.path else ""
    note: dict[str, JSON] = {
        "level": _NOTIFICATION_LEVEL[error.kind],
        "message": {"text": f"{where}{error.kind.value} error in {error.collector}: {error.message}"},
        "descriptor": {"id": f"aispm/scan-error/{error.kind.value}"},
        "properties": {"collector": error.collector, "kind": error.kind.value},
    }
    if _is_file_path(error.path):
        note["locations"] = [_physical(error.path, None)]
    return note


def _truncation_notification(total: int) -> JSON:
    return {
        "level": "warning",
        "message": {
            "text": f"{total} file-anchored findings; only the {MAX_RESULTS} most severe are included "
            "(GitHub code scanning accepts at most that many results per run)."
        },
        "descriptor": {"id": "aispm/results-truncated"},
    }
