"""SPDX 3.0.1 JSON-LD view of one scan, with the AI and Dataset profiles.

The document's root element is a ``software_Package`` for the scanned target (``application``).
It ``contains`` the files that hold AI use (SDK usages, notebooks, MCP client configs) and
``dependsOn`` every other element that nothing else depends on. Each inventory asset is one
element whose ``spdxId`` ends in the asset's stable id (never a path):

* models -> ``ai_AIPackage`` (primaryPurpose ``model``): ``suppliedBy`` the provider,
  ``originatedBy`` the Hugging Face namespace, ``packageVersion`` the revision, ``packageUrl``,
  ``downloadLocation`` on the Hugging Face hub, a SHA-256 for weights files;
* datasets -> ``dataset_DatasetPackage`` (``datasetType`` ``noAssertion`` unless known);
* packages -> ``software_Package`` (``library``); files -> ``software_File``; agents, MCP servers,
  endpoints and other programs -> ``software_Package`` (``application``);
* AI providers -> ``Organization``: the agent models are supplied by.

The AI profile asks for ``releaseTime``, ``downloadLocation`` and ``packageVersion``; a scan of
source code rarely knows them for a SaaS model, and they are left out rather than invented.
Relations map to SPDX types (``trained-on`` -> ``trainedOn``, ``uses-model`` -> ``dependsOn``,
``reads`` -> ``hasInput``...); those SPDX has no word for become ``other`` with the aispm kind as
comment. Credentials and identities are left out, as in the CycloneDX view.

spdx-python-model builds and serialises the graph (checking types as it goes); output is
deterministic for a given scan.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from cyclonedx.spdx import fixup_id
from spdx_python_model import v3_0_1 as spdx

from aispm.model import JSON, Asset, AssetKind, Relation, RelationKind, ScanResult
from aispm.outputs.cyclonedx import (
    EXCLUDED_KINDS,
    NO_LICENSE,
    asset_purl,
    asset_version,
    entry_refs,
    service_endpoint,
)

_NAMESPACE = uuid.UUID("7c1e5b2a-4f3d-5a6b-8c9d-0e1f2a3b4c5d")
_FILE_KINDS = {
    AssetKind.AI_SDK_USAGE: "source",
    AssetKind.NOTEBOOK: "source",
    AssetKind.MCP_CLIENT_CONFIG: "configuration",
}
_PACKAGE_PURPOSE = {
    AssetKind.PACKAGE: "library",
    AssetKind.CLOUD_RESOURCE: "platform",
    AssetKind.HOST: "platform",
}
_RELATIONSHIP = {
    RelationKind.USES_MODEL: "dependsOn",
    RelationKind.DEPENDS_ON: "dependsOn",
    RelationKind.TRAINED_ON: "trainedOn",
    RelationKind.SERVES: "dependsOn",
    RelationKind.READS: "hasInput",
    RelationKind.WRITES: "hasOutput",
    RelationKind.CONTAINS: "contains",
    RelationKind.CONFIGURES: "configures",
    RelationKind.HAS_TOOL: "usesTool",
    RelationKind.DERIVED_FROM: "descendantOf",
    RelationKind.RUNS_ON: "hasHost",
}


def render(result: ScanResult) -> str:
    """The scan as an SPDX 3.0.1 JSON-LD document (profiles core, software, ai, dataset)."""
    builder = _Builder(result)
    objects = spdx.SHACLObjectSet()
    for obj in builder.build():
        objects.add(obj)
    buffer = io.BytesIO()
    spdx.JSONLDSerializer().write(objects, buffer)
    document: dict[str, Any] = json.loads(buffer.getvalue())
    document["@graph"].sort(key=lambda o: (o.get("type", ""), o.get("spdxId") or o.get("@id", "")))
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


class _Builder:
    """Turns one scan into SPDX objects. Holds the shared CreationInfo and the agents made so far."""

    def __init__(self, result: ScanResult) -> None:
        self.result = result
        self.ns = f"urn:uuid:{uuid.uuid5(_NAMESPACE, result.info.id)}#"
        self.info = spdx.CreationInfo(specVersion="3.0.1", created=_created(result.info.finished_at))
        agent = spdx.SoftwareAgent(spdxId=self.ns + "agent-aispm", name="aispm", creationInfo=self.info)
        self.info.createdBy = [agent]
        self.info.createdUsing = [
            spdx.Tool(
                spdxId=self.ns + "tool-aispm",
                name=f"aispm {result.info.tool_version}",
                creationInfo=self.info,
            )
        ]
        self.extra: list[Any] = [agent, *self.info.createdUsing]
        self.orgs: dict[str, Any] = {}
        self.licenses: dict[str, Any] = {}

    def build(self) -> list[Any]:
        listed = [a for a in self.result.assets if a.kind not in EXCLUDED_KINDS]
        elements: dict[str, Any] = {}
        for asset in listed:
            if asset.kind == AssetKind.AI_PROVIDER:
                elements[asset.id] = self._org(str(asset.properties.get("provider") or asset.name))
            else:
                elements[asset.id] = self._element(asset)
        relationships = [
            self._relationship(rel, elements)
            for rel in sorted(self.result.relations)
            if rel.source in elements and rel.target in elements
        ]
        relationships.extend(self._license_relationships(listed, elements))
        root = spdx.software_Package(
            spdxId=self.ns + "target",
            name=", ".join(self.result.info.targets) or "scan",
            software_primaryPurpose=spdx.software_SoftwarePurpose.application,
            creationInfo=self.info,
        )
        relationships.extend(self._root_relationships(root, listed, elements))
        members = [root, *elements.values(), *self.orgs.values(), *self.licenses.values(), *relationships]
        document = spdx.SpdxDocument(
            spdxId=self.ns + "document",
            name=f"aispm AI-BOM of {root.name}",
            comment=f"aispm scan {self.result.info.id}; {len(self.result.errors)} scan errors",
            creationInfo=self.info,
            profileConformance=[
                getattr(spdx.ProfileIdentifierType, p)
                for p in ("core", "software", "ai", "dataset", "simpleLicensing")
            ],
            rootElement=[root],
            element=_unique(members),
        )
        return _unique([document, *members, *self.extra])

    def _element(self, asset: Asset) -> Any:
        common: dict[str, Any] = {
            "spdxId": self.ns + asset.id,
            "creationInfo": self.info,
            "comment": _comment(asset),
        }
        if asset.kind in _FILE_KINDS:
            path = asset.location.path if asset.location and asset.location.path else asset.name
            purpose = getattr(spdx.software_SoftwarePurpose, _FILE_KINDS[asset.kind])
            summary = f"Uses the {asset.name} AI SDK" if asset.kind == AssetKind.AI_SDK_USAGE else None
            return _new(
                spdx.software_File, name=path, software_primaryPurpose=purpose, summary=summary, **common
            )
        element: Any
        if asset.kind == AssetKind.MODEL:
            element = spdx.ai_AIPackage(
                name=asset.name, software_primaryPurpose=spdx.software_SoftwarePurpose.model, **common
            )
            provider = str(asset.properties.get("provider") or "")
            if provider and provider != "local":
                element.suppliedBy = self._org(provider)
        elif asset.kind == AssetKind.DATASET:
            element = spdx.dataset_DatasetPackage(
                name=asset.name,
                software_primaryPurpose=spdx.software_SoftwarePurpose.data,
                dataset_datasetType=[_dataset_type(asset.properties.get("dataset_type"))],
                **common,
            )
        else:
            purpose = _PACKAGE_PURPOSE.get(asset.kind, "application")
            element = spdx.software_Package(
                name=asset.name,
                software_primaryPurpose=getattr(spdx.software_SoftwarePurpose, purpose),
                **common,
            )
        self._describe_package(element, asset)
        return element

    def _describe_package(self, element: Any, asset: Asset) -> None:
        version = asset_version(asset)
        if version:
            element.software_packageVersion = version
        purl = asset_purl(asset)
        if purl is not None:
            element.software_packageUrl = purl.to_string()
        hub = _hub_url(asset)
        if hub:
            element.software_downloadLocation = hub
            element.originatedBy = [self._org(asset.name.split("/")[0])]
        endpoint = service_endpoint(asset)
        if endpoint and asset.kind != AssetKind.MODEL:
            element.summary = f"Reached at {endpoint}"
        digest = str(asset.properties.get("sha256") or "")
        if re.fullmatch(r"[0-9a-fA-F]{64}", digest):
            element.verifiedUsing = [spdx.Hash(algorithm=spdx.HashAlgorithm.sha256, hashValue=digest.lower())]

    def _org(self, name: str) -> Any:
        if name not in self.orgs:
            self.orgs[name] = spdx.Organization(
                spdxId=self.ns + "org-" + quote(name, safe=""), name=name, creationInfo=self.info
            )
        return self.orgs[name]

    def _relationship(self, rel: Relation, elements: dict[str, Any]) -> Any:
        to = elements[rel.target]
        kind = _RELATIONSHIP.get(rel.kind)
        if rel.kind == RelationKind.DEPENDS_ON and isinstance(to, spdx.Organization):
            kind = "availableFrom"  # a SaaS model is available from its provider
        comment = rel.kind.value if kind is None else None
        return self._link(elements[rel.source], kind or "other", [to], comment, origin=rel.kind.value)

    def _link(
        self, source: Any, kind: str, targets: list[Any], comment: str | None = None, origin: str = ""
    ) -> Any:
        # ``origin`` keeps apart two aispm relations that map to one SPDX type (uses-model, serves).
        key = "\x1f".join([source.spdxId, kind, origin, *sorted(t.spdxId for t in targets)])
        return _new(
            spdx.Relationship,
            spdxId=self.ns + "rel-" + hashlib.sha256(key.encode()).hexdigest()[:20],
            creationInfo=self.info,
            from_=source,
            to=targets,
            relationshipType=getattr(spdx.RelationshipType, kind),
            comment=comment,
        )

    def _license_relationships(self, listed: Iterable[Asset], elements: dict[str, Any]) -> list[Any]:
        out = []
        for asset in listed:
            expression = _license_expression(asset.properties.get("license"))
            if expression is None or asset.kind == AssetKind.AI_PROVIDER:
                continue
            if expression not in self.licenses:
                self.licenses[expression] = spdx.simplelicensing_LicenseExpression(
                    spdxId=self.ns + "license-" + quote(expression, safe=""),
                    simplelicensing_licenseExpression=expression,
                    creationInfo=self.info,
                )
            out.append(self._link(elements[asset.id], "hasDeclaredLicense", [self.licenses[expression]]))
        return out

    def _root_relationships(self, root: Any, listed: list[Asset], elements: dict[str, Any]) -> list[Any]:
        edges: dict[str, set[str]] = {}
        for r in self.result.relations:
            if r.source in elements and r.target in elements:
                edges.setdefault(r.source, set()).add(r.target)
        files = [elements[a.id] for a in listed if a.kind in _FILE_KINDS]
        packages = [a.id for a in listed if a.kind not in _FILE_KINDS and a.kind != AssetKind.AI_PROVIDER]
        # Files are all contained; of the rest, the root depends on those nothing else leads to.
        reached_from_files = {a.id for a in listed if a.kind in _FILE_KINDS}
        others = [
            elements[ref]
            for ref in entry_refs([*reached_from_files, *packages], edges)
            if ref not in reached_from_files
        ]
        return [
            self._link(root, kind, group)
            for kind, group in (("contains", files), ("dependsOn", others))
            if group
        ]


def _created(timestamp: str) -> datetime:
    """SPDX wants UTC to the second."""
    moment = datetime.fromisoformat(timestamp)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0)


def _comment(asset: Asset) -> str:
    where = [f"{o.path}:{o.line}" if o.line else o.path for o in asset.occurrences if o.path]
    found = f"; found at {', '.join(where[:5])}" + (f" and {len(where) - 5} more" if len(where) > 5 else "")
    return f"aispm {asset.kind.value} ({asset.scope.value}){found if where else ''}"


def _dataset_type(value: JSON) -> Any:
    named = str(value) if isinstance(value, str) else "noAssertion"
    return getattr(spdx.dataset_DatasetType, named, spdx.dataset_DatasetType.noAssertion)


def _hub_url(asset: Asset) -> str | None:
    source = asset.properties.get("provider") or asset.properties.get("source")
    if source != "huggingface" or asset.name.count("/") != 1:
        return None
    if asset.kind == AssetKind.MODEL:
        return f"https://huggingface.co/{asset.name}"
    if asset.kind == AssetKind.DATASET:
        return f"https://huggingface.co/datasets/{asset.name}"
    return None


def _license_expression(value: JSON) -> str | None:
    """An SPDX licence id where the value is one, else a ``LicenseRef-`` of the value given."""
    if not isinstance(value, str) or value.strip().lower() in NO_LICENSE:
        return None
    text = value.strip()
    spdx_id = fixup_id(text)
    if spdx_id:
        return str(spdx_id)
    return "LicenseRef-" + re.sub(r"[^A-Za-z0-9.-]+", "-", text).strip("-")


def _new(cls: Any, **props: Any) -> Any:
    """An SPDX object with the properties given; None means "not known", so it is left unset."""
    return cls(**{k: v for k, v in props.items() if v is not None})


def _unique(objects: Iterable[Any]) -> list[Any]:
    seen: dict[int, Any] = {}
    for obj in objects:
        seen.setdefault(id(obj), obj)
    return list(seen.values())
