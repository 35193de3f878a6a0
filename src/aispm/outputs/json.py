"""The documented scan contract, schema ``aispm.scan/v1`` (docs/schema/aispm.scan.v1.schema.json).

Paths are relative to the scanned target; nothing here is absolute or machine-specific.
"""

from __future__ import annotations

import json
from typing import Any

from aispm.model import ScanResult

SCHEMA_ID = "aispm.scan/v1"


def to_document(result: ScanResult) -> dict[str, Any]:
    """The scan as a JSON-ready dict."""
    scan = result.info.to_dict()
    scan["errors"] = [e.to_dict() for e in result.errors]
    scan["check_runs"] = [c.to_dict() for c in result.check_runs]
    return {
        "schema": SCHEMA_ID,
        "scan": scan,
        "assets": [a.to_dict() for a in result.assets],
        "relations": [r.to_dict() for r in result.relations],
        "findings": [f.to_dict() for f in result.findings],
    }


def render(result: ScanResult) -> str:
    return json.dumps(to_document(result), indent=2, sort_keys=False, ensure_ascii=False) + "\n"
