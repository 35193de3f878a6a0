"""The records every part of aispm speaks: assets, relations, findings, scans.

Records are plain frozen dataclasses. Identity (asset ids, finding fingerprints) is derived only
from what a thing is and where it lives relative to the scanned target, never from absolute paths,
timestamps or scan order, so two scans of the same tree agree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

#: JSON-compatible values held in ``properties`` and ``evidence``.
JSON = Any


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is worse: critical=4 … info=0."""
        return _SEVERITY_RANK[self]

    def at_least(self, other: Severity) -> bool:
        return self.rank >= other.rank


_SEVERITY_RANK = {
    Severity.CRITICAL: 4,
    Severity.HIGH: 3,
    Severity.MEDIUM: 2,
    Severity.LOW: 1,
    Severity.INFO: 0,
}


class AssetKind(StrEnum):
    MODEL = "model"
    DATASET = "dataset"
    AI_SDK_USAGE = "ai-sdk-usage"
    APPLICATION = "application"
    INFERENCE_ENDPOINT = "inference-endpoint"
    PIPELINE = "pipeline"
    AGENT = "agent"
    TOOL = "tool"
    MCP_SERVER = "mcp-server"
    MCP_CLIENT_CONFIG = "mcp-client-config"
    NOTEBOOK = "notebook"
    AI_PROVIDER = "ai-provider"
    PACKAGE = "package"
    IDENTITY = "identity"
    CREDENTIAL = "credential"
    CLOUD_RESOURCE = "cloud-resource"
    HOST = "host"
    REPOSITORY = "repository"


class RelationKind(StrEnum):
    USES_MODEL = "uses-model"
    TRAINED_ON = "trained-on"
    SERVES = "serves"
    CALLS_PROVIDER = "calls-provider"
    EXPOSES = "exposes"
    HAS_TOOL = "has-tool"
    READS = "reads"
    WRITES = "writes"
    SENDS_EXTERNALLY = "sends-externally"
    AUTHENTICATES_WITH = "authenticates-with"
    RUNS_ON = "runs-on"
    CONTAINS = "contains"
    DEPENDS_ON = "depends-on"
    DERIVED_FROM = "derived-from"
    CONFIGURES = "configures"


class Scope(StrEnum):
    """Where an asset sits. Nothing is skipped for its folder; scope feeds risk instead."""

    PRODUCTION = "production"
    TEST = "test"
    EXAMPLE = "example"
    DOCS = "docs"
    VENDORED = "vendored"

    @property
    def rank(self) -> int:
        """Lower is closer to production; a merged asset takes the lowest rank seen."""
        return _SCOPE_RANK[self]


_SCOPE_RANK = {Scope.PRODUCTION: 0, Scope.TEST: 1, Scope.EXAMPLE: 2, Scope.DOCS: 3, Scope.VENDORED: 4}


@dataclass(frozen=True, slots=True, order=True)
class Location:
    """A place in a scanned target: a path relative to the target (POSIX separators) and a line.

    ``path`` is empty for things that live outside files (a URL or an ARN goes in ``uri``).
    """

    path: str = ""
    line: int | None = None
    uri: str | None = None

    def to_dict(self) -> dict[str, JSON]:
        out: dict[str, JSON] = {"path": self.path, "line": self.line}
        if self.uri is not None:
            out["uri"] = self.uri
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, JSON]) -> Location:
        return cls(path=data.get("path", ""), line=data.get("line"), uri=data.get("uri"))


def stable_id(kind: str, *parts: str) -> str:
    """An id that depends only on the kind and the identifying parts given."""
    digest = hashlib.sha256("\x1f".join((kind, *parts)).encode("utf-8")).hexdigest()[:20]
    return f"{kind}:{digest}"


@dataclass(frozen=True, slots=True)
class Asset:
    """A node of the AI estate."""

    id: str
    kind: AssetKind
    name: str
    location: Location | None = None
    properties: Mapping[str, JSON] = field(default_factory=dict)
    scope: Scope = Scope.PRODUCTION
    occurrences: tuple[Location, ...] = ()

    @classmethod
    def create(
        cls,
        kind: AssetKind,
        name: str,
        *,
        key: tuple[str, ...],
        location: Location | None = None,
        properties: Mapping[str, JSON] | None = None,
        scope: Scope = Scope.PRODUCTION,
    ) -> Asset:
        """Build an asset whose id is derived from ``kind`` and ``key`` (what makes it itself)."""
        return cls(
            id=stable_id(kind.value, *key),
            kind=kind,
            name=name,
            location=location,
            properties=dict(properties or {}),
            scope=scope,
            occurrences=(location,) if location is not None else (),
        )

    def to_dict(self) -> dict[str, JSON]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "name": self.name,
            "location": self.location.to_dict() if self.location else None,
            "scope": self.scope.value,
            "properties": dict(self.properties),
            "occurrences": [o.to_dict() for o in self.occurrences],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, JSON]) -> Asset:
        loc = data.get("location")
        return cls(
            id=data["id"],
            kind=AssetKind(data["kind"]),
            name=data["name"],
            location=Location.from_dict(loc) if loc else None,
            properties=dict(data.get("properties") or {}),
            scope=Scope(data.get("scope", Scope.PRODUCTION.value)),
            occurrences=tuple(Location.from_dict(o) for o in data.get("occurrences") or ()),
        )


@dataclass(frozen=True, slots=True, order=True)
class Relation:
    """A typed edge between two assets, by id."""

    source: str
    target: str
    kind: RelationKind

    def to_dict(self) -> dict[str, JSON]:
        return {"source": self.source, "target": self.target, "kind": self.kind.value}

    @classmethod
    def from_dict(cls, data: Mapping[str, JSON]) -> Relation:
        return cls(source=data["source"], target=data["target"], kind=RelationKind(data["kind"]))


@dataclass(frozen=True, slots=True)
class Finding:
    """A check's verdict on an asset. ``evidence`` is always redacted."""

    fingerprint: str
    check_id: str
    severity: Severity
    title: str
    message: str
    asset_id: str
    location: Location | None
    frameworks: tuple[str, ...] = ()
    remediation: str = ""
    evidence: Mapping[str, JSON] = field(default_factory=dict)

    def to_dict(self) -> dict[str, JSON]:
        return {
            "fingerprint": self.fingerprint,
            "check_id": self.check_id,
            "severity": self.severity.value,
            "title": self.title,
            "message": self.message,
            "asset_id": self.asset_id,
            "location": self.location.to_dict() if self.location else None,
            "frameworks": list(self.frameworks),
            "remediation": self.remediation,
            "evidence": dict(self.evidence),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, JSON]) -> Finding:
        loc = data.get("location")
        return cls(
            fingerprint=data["fingerprint"],
            check_id=data["check_id"],
            severity=Severity(data["severity"]),
            title=data["title"],
            message=data["message"],
            asset_id=data["asset_id"],
            location=Location.from_dict(loc) if loc else None,
            frameworks=tuple(data.get("frameworks") or ()),
            remediation=data.get("remediation", ""),
            evidence=dict(data.get("evidence") or {}),
        )


def fingerprint(check_id: str, asset_id: str, *discriminators: str) -> str:
    """A finding's identity across scans: the check, the asset, and what distinguishes it there."""
    return hashlib.sha256("\x1f".join((check_id, asset_id, *discriminators)).encode()).hexdigest()[:32]


class ErrorKind(StrEnum):
    READ = "read"
    PARSE = "parse"
    LIMIT = "limit"
    INTERNAL = "internal"


@dataclass(frozen=True, slots=True, order=True)
class ScanError:
    """Something a scan could not do. Recorded, never swallowed; the scan goes on."""

    path: str
    collector: str
    kind: ErrorKind
    message: str

    def to_dict(self) -> dict[str, JSON]:
        return {
            "path": self.path,
            "collector": self.collector,
            "kind": self.kind.value,
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, JSON]) -> ScanError:
        return cls(
            path=data["path"],
            collector=data["collector"],
            kind=ErrorKind(data["kind"]),
            message=data["message"],
        )


@dataclass(frozen=True, slots=True)
class CheckRun:
    """How one check fared over the inventory: what it assessed and what it could not."""

    check_id: str
    assessed: int
    failed: int
    not_assessed: int = 0
    reason: str = ""

    def to_dict(self) -> dict[str, JSON]:
        return {
            "check_id": self.check_id,
            "assessed": self.assessed,
            "failed": self.failed,
            "not_assessed": self.not_assessed,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class ScanInfo:
    id: str
    started_at: str
    finished_at: str
    targets: tuple[str, ...]
    tool_version: str
    collectors: tuple[str, ...] = ()
    stats: Mapping[str, JSON] = field(default_factory=dict)

    def to_dict(self) -> dict[str, JSON]:
        return {
            "id": self.id,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "targets": list(self.targets),
            "tool_version": self.tool_version,
            "collectors": list(self.collectors),
            "stats": dict(self.stats),
        }


@dataclass(frozen=True, slots=True)
class ScanResult:
    """One whole scan: what ran, what it found, and what it could not do."""

    info: ScanInfo
    assets: tuple[Asset, ...]
    relations: tuple[Relation, ...]
    findings: tuple[Finding, ...]
    errors: tuple[ScanError, ...]
    check_runs: tuple[CheckRun, ...] = ()

    def asset(self, asset_id: str) -> Asset | None:
        for a in self.assets:
            if a.id == asset_id:
                return a
        return None
