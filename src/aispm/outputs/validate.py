"""Validate rendered outputs against their official schemas, offline.

Each helper takes the rendered text and returns a list of human-readable errors (empty when the
document is valid). They are used by the tests and by the benchmark, which also runs them on the
output of peer tools, so they never raise on bad input: unparsable text is an error like any other.

* CycloneDX: cyclonedx-python-lib's strict JSON validator, which bundles the official schemas.
* SARIF 2.1.0 and SPDX 3.0.1: the vendored schemas in ``schemas/`` (see ``schemas/NOTICE``).
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from jsonschema import Draft202012Validator

SARIF_SCHEMA = "sarif-schema-2.1.0.json"
SPDX_SCHEMA = "spdx-3.0.1.schema.json"
#: Validation stops listing errors after this many; a broken document can have thousands.
MAX_ERRORS = 200


def validate_cyclonedx(text: str, version: str = "1.6") -> list[str]:
    """Errors of ``text`` against the CycloneDX ``version`` JSON schema in strict mode."""
    try:
        schema_version = SchemaVersion.from_version(version)
    except ValueError:
        return [f"unsupported CycloneDX version {version!r}"]
    try:
        json.loads(text)
    except ValueError as exc:
        return [f"not JSON: {exc}"]
    found = JsonStrictValidator(schema_version).validate_str(text, all_errors=True)
    if found is None:
        return []
    return [_describe_cyclonedx(e) for e, _ in zip(found, range(MAX_ERRORS), strict=False)]


def validate_sarif(text: str) -> list[str]:
    """Errors of ``text`` against the SARIF 2.1.0 JSON schema."""
    return _validate(text, SARIF_SCHEMA)


def validate_spdx(text: str) -> list[str]:
    """Errors of ``text`` against the SPDX 3.0.1 JSON schema (Draft 2020-12)."""
    return _validate(text, SPDX_SCHEMA)


def _validate(text: str, schema_name: str) -> list[str]:
    try:
        document = json.loads(text)
    except ValueError as exc:
        return [f"not JSON: {exc}"]
    errors = sorted(_validator(schema_name).iter_errors(document), key=lambda e: list(e.absolute_path))
    return [f"{e.json_path}: {e.message[:300]}" for e in errors[:MAX_ERRORS]]


@cache
def _validator(schema_name: str) -> Draft202012Validator:
    schema: dict[str, Any] = json.loads(
        files("aispm.outputs").joinpath("schemas", schema_name).read_text("utf-8")
    )
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _describe_cyclonedx(error: Any) -> str:
    inner = getattr(error, "data", None)
    if inner is not None and hasattr(inner, "message"):
        path = getattr(inner, "json_path", "$")
        return f"{path}: {str(inner.message)[:300]}"
    return str(error)[:300]
