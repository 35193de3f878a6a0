"""Every registered check (built-in or plugin) declares metadata that the rest of aispm can rely on."""

from __future__ import annotations

import pytest

from aispm.checks.base import CHECK_ID, Check, load_checks
from aispm.compliance.catalog import resolve

CHECKS = load_checks()


def test_checks_are_registered() -> None:
    assert "AISPM-CRED-001" in {c.meta.id for c in CHECKS}


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.meta.id)
def test_check_metadata(check: Check) -> None:
    meta = check.meta
    assert CHECK_ID.match(meta.id)
    assert meta.title.strip() and meta.title == meta.title.strip()
    assert len(meta.remediation.strip()) >= 20
    assert meta.asset_kinds
    assert meta.frameworks, f"{meta.id} maps to no framework"
    assert len(set(meta.frameworks)) == len(meta.frameworks)
    assert len(set(meta.equivalents)) == len(meta.equivalents)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.meta.id)
def test_framework_keys_resolve_in_the_catalogs(check: Check) -> None:
    unresolved = [k for k in check.meta.frameworks if resolve(k) is None]
    assert unresolved == [], f"{check.meta.id}: unknown framework keys {unresolved}"
    # Keys are written in canonical form, so reports group them without re-normalizing.
    for k in check.meta.frameworks:
        req = resolve(k)
        assert req is not None and req.key == k, (
            f"{check.meta.id}: {k!r} is not canonical ({req and req.key!r})"
        )
