"""The check seam: a check declares its metadata beside its logic and reads only the inventory.

A check names the asset kinds it reads; the engine hands it each such asset together with the
whole :class:`~aispm.inventory.Inventory` (for context: what else is in the same file, what the
asset is related to). It returns findings for what fails. A check that cannot assess an asset
raises :class:`NotAssessable`; the engine counts that as could-not-assess, never as a pass.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import ClassVar

from aispm.inventory import Inventory
from aispm.model import JSON, Asset, AssetKind, Finding, Location, Severity, fingerprint
from aispm.plugins import PluginError, load_plugins

CHECK_GROUP = "aispm.checks"
CHECK_ID = re.compile(r"^AISPM-[A-Z]+-\d{3}$")
FRAMEWORK_KEY = re.compile(r"^[a-z0-9-]+@[^#\s]+#.+$")


class NotAssessable(Exception):
    """The check could not assess this asset (data missing, access denied...)."""


@dataclass(frozen=True, slots=True)
class CheckMeta:
    """What a check is. ``frameworks`` hold ``framework@edition#id`` keys."""

    id: str
    title: str
    severity: Severity
    asset_kinds: tuple[AssetKind, ...]
    frameworks: tuple[str, ...]
    remediation: str
    description: str = ""
    equivalents: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not CHECK_ID.match(self.id):
            raise ValueError(f"check id {self.id!r} is not of the form AISPM-<AREA>-<NNN>")
        bad = [k for k in self.frameworks if not FRAMEWORK_KEY.match(k)]
        if bad:
            raise ValueError(f"{self.id}: framework keys not of the form framework@edition#id: {bad}")
        if not self.asset_kinds:
            raise ValueError(f"{self.id}: a check must read at least one asset kind")


class Check(ABC):
    meta: ClassVar[CheckMeta]

    @abstractmethod
    def evaluate(self, asset: Asset, inventory: Inventory) -> Iterable[Finding]:
        """Findings for ``asset``; none means it passes. Raise NotAssessable when it cannot tell."""

    def finding(
        self,
        asset: Asset,
        message: str,
        *,
        discriminator: str = "",
        location: Location | None = None,
        evidence: Mapping[str, JSON] | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        """A finding of this check on ``asset``. ``discriminator`` separates several on one asset."""
        loc = location if location is not None else asset.location
        return Finding(
            fingerprint=fingerprint(self.meta.id, asset.id, discriminator),
            check_id=self.meta.id,
            severity=severity or self.meta.severity,
            title=self.meta.title,
            message=message,
            asset_id=asset.id,
            location=loc,
            frameworks=self.meta.frameworks,
            remediation=self.meta.remediation,
            evidence=dict(evidence or {}),
        )


def load_checks(ids: Iterable[str] | None = None) -> list[Check]:
    """Instantiate every registered check (built-ins and plugins alike), sorted by id."""
    found = load_plugins(CHECK_GROUP, Check, ids)
    for name, cls in found.items():
        if cls.meta.id != name:
            raise PluginError(f"entry point {name!r} registers check {cls.meta.id!r}; the names must agree")
    return [found[k]() for k in sorted(found)]
