"""CycloneDX 1.6 / 1.7 ML-BOM (JSON) view of one scan.

What the BOM describes: ``metadata.component`` is the scanned target (the targets, when several),
typed ``application``; it depends on every component and service that nothing else in the BOM
depends on, so the whole graph hangs from it. Every other element is one inventory asset, its
``bom-ref`` the asset's stable id (never a path):

* models -> ``machine-learning-model`` with a ``modelCard``, the asset's purl
  (``pkg:huggingface/org/name@commit``) or ``pkg:generic/<provider>/<name>``, SHA-256 hashes of
  weights files, and the provider as supplier/publisher;
* datasets -> ``data`` with ``data[]`` (``type: dataset``);
* packages -> ``library`` with their purl;
* SDK usages, notebooks and MCP client configs -> ``file`` (named by their path: the file is the
  thing that holds the AI use); agents, local MCP servers, tools, pipelines -> ``application``;
* AI providers, inference endpoints and remote (URL) MCP servers -> top-level ``services[]``,
  never a ``service`` inside ``components``.

Credentials and identities are left out: a BOM is shared widely, and where a key leaks is a
finding (SARIF), not a bill of materials. Relations between two listed elements become
``dependencies`` from source to target (``writes`` excepted: producing data is no dependency);
``trained-on`` and other model-dataset relations also fill ``modelCard.modelParameters.datasets``.
Where a file occurrence is known, it is in ``evidence.occurrences`` with its relative path and line.

cyclonedx-python-lib builds and serialises the BOM; what it does not model (``modelCard``,
``data``) is added to the JSON afterwards. Output is deterministic: the serial number derives from
the scan id and the timestamp is the scan's end.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit

from cyclonedx.model import ExternalReference, ExternalReferenceType, HashAlgorithm, HashType, Property, XsUri
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.component_evidence import (
    AnalysisTechnique,
    ComponentEvidence,
    Identity,
    IdentityField,
    Method,
)
from cyclonedx.model.contact import OrganizationalEntity
from cyclonedx.model.license import DisjunctiveLicense, LicenseExpression
from cyclonedx.model.lifecycle import LifecyclePhase, PredefinedLifecycle
from cyclonedx.model.service import Service
from cyclonedx.model.tool import ToolRepository
from cyclonedx.output.json import JsonV1Dot6, JsonV1Dot7
from cyclonedx.spdx import fixup_id, is_expression
from packageurl import PackageURL

from aispm.model import JSON, Asset, AssetKind, RelationKind, ScanResult

SPEC_VERSIONS = ("1.6", "1.7")
ROOT_REF = "aispm:target"
_SERIAL_NAMESPACE = uuid.UUID("2f0e6c1a-8d4b-5e3f-9a7c-1b2d3e4f5a6b")

_COMPONENT_TYPE = {
    AssetKind.MODEL: ComponentType.MACHINE_LEARNING_MODEL,
    AssetKind.DATASET: ComponentType.DATA,
    AssetKind.PACKAGE: ComponentType.LIBRARY,
    AssetKind.AI_SDK_USAGE: ComponentType.FILE,
    AssetKind.NOTEBOOK: ComponentType.FILE,
    AssetKind.MCP_CLIENT_CONFIG: ComponentType.FILE,
    AssetKind.AGENT: ComponentType.APPLICATION,
    AssetKind.MCP_SERVER: ComponentType.APPLICATION,
    AssetKind.TOOL: ComponentType.APPLICATION,
    AssetKind.PIPELINE: ComponentType.APPLICATION,
    AssetKind.APPLICATION: ComponentType.APPLICATION,
    AssetKind.REPOSITORY: ComponentType.APPLICATION,
    AssetKind.CLOUD_RESOURCE: ComponentType.PLATFORM,
    AssetKind.HOST: ComponentType.PLATFORM,
}
_SERVICE_KINDS = frozenset({AssetKind.AI_PROVIDER, AssetKind.INFERENCE_ENDPOINT})
EXCLUDED_KINDS = frozenset({AssetKind.CREDENTIAL, AssetKind.IDENTITY})
_NOT_DEPENDENCIES = frozenset({RelationKind.WRITES})
#: Licence values that say nothing; never written as an id (nor as a name).
NO_LICENSE = frozenset({"", "other", "unknown", "noassertion", "none", "proprietary?"})
#: Public API base URLs of providers whose endpoint is the same for everyone.
PROVIDER_ENDPOINTS = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
    "mistral": "https://api.mistral.ai/v1",
    "cohere": "https://api.cohere.com",
    "deepseek": "https://api.deepseek.com",
    "xai": "https://api.x.ai/v1",
    "groq": "https://api.groq.com/openai/v1",
    "google": "https://generativelanguage.googleapis.com",
    "perplexity": "https://api.perplexity.ai",
    "openrouter": "https://openrouter.ai/api/v1",
    "together": "https://api.together.xyz/v1",
    "fireworks": "https://api.fireworks.ai/inference/v1",
    "replicate": "https://api.replicate.com/v1",
}
_URL_KEYS = ("endpoint", "url", "base_url", "api_base")
_MODEL_CARD_PARAMS = {
    "task": "task",
    "architecture_family": "architectureFamily",
    "architecture": "modelArchitecture",
}


def render(result: ScanResult, *, spec_version: str = "1.6") -> str:
    """The scan as a CycloneDX ``spec_version`` (1.6 or 1.7) JSON ML-BOM."""
    if spec_version not in SPEC_VERSIONS:
        raise ValueError(
            f"CycloneDX {spec_version} is not supported; choose one of {', '.join(SPEC_VERSIONS)}"
        )
    listed = [a for a in result.assets if a.kind not in EXCLUDED_KINDS]
    bom = _bom(result, listed)
    outputter = JsonV1Dot7(bom) if spec_version == "1.7" else JsonV1Dot6(bom)
    document = json.loads(outputter.output_as_string())
    _add_model_cards_and_data(document, listed, result)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _bom(result: ScanResult, listed: list[Asset]) -> Bom:
    info = result.info
    root = Component(type=ComponentType.APPLICATION, name=", ".join(info.targets) or "scan", bom_ref=ROOT_REF)
    tool = Component(type=ComponentType.APPLICATION, name="aispm", version=info.tool_version)
    excluded = sum(1 for a in result.assets if a.kind in EXCLUDED_KINDS)
    metadata = BomMetaData(
        timestamp=_aware(datetime.fromisoformat(info.finished_at)),
        lifecycles=[PredefinedLifecycle(LifecyclePhase.DISCOVERY)],
        tools=ToolRepository(components=[tool]),
        component=root,
        properties=[
            Property(name="aispm:scan-id", value=info.id),
            Property(name="aispm:scan-errors", value=str(len(result.errors))),
            Property(name="aispm:assets-not-listed", value=str(excluded)),
        ],
    )
    elements: dict[str, Component | Service] = {}
    for asset in listed:
        elements[asset.id] = _service(asset) if _is_service(asset) else _component(asset)
    bom = Bom(
        serial_number=uuid.uuid5(_SERIAL_NAMESPACE, info.id),
        metadata=metadata,
        components=[e for e in elements.values() if isinstance(e, Component)],
        services=[e for e in elements.values() if isinstance(e, Service)],
    )
    edges: dict[str, set[str]] = defaultdict(set)
    for rel in result.relations:
        if rel.kind not in _NOT_DEPENDENCIES and rel.source in elements and rel.target in elements:
            edges[rel.source].add(rel.target)
    for source, targets in sorted(edges.items()):
        bom.register_dependency(elements[source], [elements[t] for t in sorted(targets)])
    bom.register_dependency(root, [elements[ref] for ref in entry_refs(elements, edges)])
    return bom


def entry_refs(refs: Iterable[str], edges: Mapping[str, Iterable[str]]) -> list[str]:
    """The fewest refs the root must point at for every ref to be reachable from it.

    Those nothing points at, then (for cycles nothing outside points into) the first of each cycle.
    """
    ordered = sorted(refs)
    pointed_at = {t for targets in edges.values() for t in targets}
    entries = [r for r in ordered if r not in pointed_at]
    reached: set[str] = set()

    def visit(start: str) -> None:
        todo = [start]
        while todo:
            node = todo.pop()
            if node not in reached:
                reached.add(node)
                todo.extend(edges.get(node, ()))

    for ref in entries:
        visit(ref)
    for ref in ordered:
        if ref not in reached:
            entries.append(ref)
            visit(ref)
    return entries


def _aware(moment: datetime) -> datetime:
    """Scan times are UTC; an older record without an offset is read as such."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _is_service(asset: Asset) -> bool:
    return asset.kind in _SERVICE_KINDS or (
        asset.kind == AssetKind.MCP_SERVER and service_endpoint(asset) is not None
    )


def _component(asset: Asset) -> Component:
    props = asset.properties
    kind = asset.kind
    ctype = _COMPONENT_TYPE[kind]
    # "local" says where weights were found, not who made them: no supplier to name.
    provider = _text(props.get("provider")) if kind == AssetKind.MODEL else None
    provider = None if provider == "local" else provider
    is_file = ctype == ComponentType.FILE
    name = asset.location.path if is_file and asset.location and asset.location.path else asset.name
    return Component(
        type=ctype,
        name=name,
        bom_ref=asset.id,
        version=asset_version(asset),
        description=_description(asset) if is_file else None,
        purl=asset_purl(asset),
        supplier=OrganizationalEntity(name=_supplier(asset)) if provider else None,
        publisher=provider,
        hashes=_hashes(props),
        licenses=_licenses(props.get("license")),
        external_references=_external_references(asset),
        evidence=_evidence(asset),
        properties=_properties(asset),
    )


def _service(asset: Asset) -> Service:
    provider = _text(asset.properties.get("provider"))
    endpoint = service_endpoint(asset)
    return Service(
        name=asset.name,
        bom_ref=asset.id,
        provider=OrganizationalEntity(name=provider) if provider else None,
        endpoints=[XsUri(endpoint)] if endpoint else None,
        # A SaaS provider is outside the organisation: data sent to it crosses a trust boundary.
        x_trust_boundary=True if asset.kind == AssetKind.AI_PROVIDER else None,
        properties=_properties(asset),
    )


def _text(value: JSON) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def asset_version(asset: Asset) -> str | None:
    """A package's version, or a model's revision (a commit lower-cased, as purls want it)."""
    if asset.kind == AssetKind.PACKAGE:
        return _text(asset.properties.get("version"))
    revision = _text(asset.properties.get("revision"))
    return revision.lower() if revision and re.fullmatch(r"[0-9a-fA-F]{7,40}", revision) else revision


def _description(asset: Asset) -> str:
    if asset.kind == AssetKind.AI_SDK_USAGE:
        return f"Uses the {asset.name} AI SDK"
    return asset.kind.value.replace("-", " ").capitalize()


def _supplier(asset: Asset) -> str:
    provider = str(asset.properties["provider"])
    if provider == "huggingface" and asset.name.count("/") == 1:
        return asset.name.split("/")[0]
    return provider


def asset_purl(asset: Asset) -> PackageURL | None:
    """The asset's purl, or ``pkg:generic/<provider>/<name>`` for a model no purl type covers."""
    given = _text(asset.properties.get("purl"))
    if given:
        try:
            return PackageURL.from_string(given)
        except ValueError:
            return None
    provider = _text(asset.properties.get("provider"))
    if asset.kind != AssetKind.MODEL or not provider or provider == "local" or "sha256" in asset.properties:
        return None
    # No purl type exists for SaaS or runtime-registry models; pkg:generic still gives them identity.
    return PackageURL(type="generic", namespace=provider, name=asset.name, version=asset_version(asset))


def _hashes(props: Mapping[str, JSON]) -> list[HashType] | None:
    digest = _text(props.get("sha256"))
    if digest and re.fullmatch(r"[0-9a-fA-F]{64}", digest):
        return [HashType(alg=HashAlgorithm.SHA_256, content=digest.lower())]
    return None


def _licenses(value: JSON) -> list[DisjunctiveLicense | LicenseExpression] | None:
    """SPDX ids where the value is one, an expression where it is one, else the name as given."""
    text = _text(value)
    if text is None or text.lower() in NO_LICENSE:
        return None
    spdx_id = fixup_id(text)
    if spdx_id:
        return [DisjunctiveLicense(id=spdx_id)]
    if " " in text and is_expression(text):
        return [LicenseExpression(text)]
    return [DisjunctiveLicense(name=text)]


def _external_references(asset: Asset) -> list[ExternalReference] | None:
    provider = asset.properties.get("provider") or asset.properties.get("source")
    if provider != "huggingface" or asset.name.count("/") != 1:
        return None
    if asset.kind == AssetKind.MODEL:
        url = f"https://huggingface.co/{asset.name}"
        return [ExternalReference(type=ExternalReferenceType.MODEL_CARD, url=XsUri(url))]
    if asset.kind == AssetKind.DATASET:
        url = f"https://huggingface.co/datasets/{asset.name}"
        return [ExternalReference(type=ExternalReferenceType.DISTRIBUTION, url=XsUri(url))]
    return None


def _evidence(asset: Asset) -> ComponentEvidence:
    """How the asset was identified. Occurrences are added to the JSON afterwards (see below)."""
    confidence = _confidence(asset)
    identity = Identity(
        field=IdentityField.PURL if asset.properties.get("purl") else IdentityField.NAME,
        confidence=confidence,
        methods=[
            Method(
                technique=_technique(asset), confidence=confidence, value=_text(asset.properties.get("via"))
            )
        ],
    )
    return ComponentEvidence(identity=[identity])


def _occurrences(asset: Asset) -> list[JSON]:
    """Every file occurrence, in the asset's (sorted) order.

    Written into the JSON directly: the library orders occurrences by an unset bom-ref, which
    differs from run to run.
    """
    return [
        {"location": o.path, **({"line": o.line} if o.line and o.line >= 1 else {})}
        for o in asset.occurrences
        if o.path
    ]


def _technique(asset: Asset) -> AnalysisTechnique:
    if asset.kind == AssetKind.PACKAGE:
        return AnalysisTechnique.MANIFEST_ANALYSIS
    if "sha256" in asset.properties:
        return AnalysisTechnique.BINARY_ANALYSIS
    return AnalysisTechnique.SOURCE_CODE_ANALYSIS


def _confidence(asset: Asset) -> Decimal:
    """How sure the identification is: declared facts are certain, inferred model ids less so."""
    given = asset.properties.get("confidence")
    if isinstance(given, int | float) and not isinstance(given, bool) and 0 <= given <= 1:
        return Decimal(str(given))
    props = asset.properties
    if asset.kind not in (AssetKind.MODEL, AssetKind.DATASET) or "sha256" in props:
        return Decimal("1")
    if props.get("catalog") is True:
        return Decimal("0.95")
    if props.get("purl") or asset.kind == AssetKind.DATASET:
        return Decimal("0.8")
    return Decimal("0.6")


def _properties(asset: Asset) -> list[Property]:
    out = [
        Property(name="aispm:kind", value=asset.kind.value),
        Property(name="aispm:scope", value=asset.scope.value),
    ]
    for key, value in sorted(asset.properties.items()):
        if key == "purl" or value is None:
            continue
        out.append(Property(name=f"aispm:{key}", value=_property_value(value)))
    return out


def _property_value(value: JSON) -> str:
    if isinstance(value, str):
        return public_url(value) or value
    if isinstance(value, Mapping) and "path" in value:
        line = value.get("line")
        return f"{value['path']}:{line}" if line else str(value["path"])
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def service_endpoint(asset: Asset) -> str | None:
    """The public URL an asset is reached at, where one is known."""
    for key in _URL_KEYS:
        url = public_url(_text(asset.properties.get(key)) or "")
        if url:
            return url
    if asset.kind == AssetKind.AI_PROVIDER:
        return PROVIDER_ENDPOINTS.get(str(asset.properties.get("provider")))
    return None


def public_url(value: str) -> str | None:
    """``value`` as an http(s)/ws(s) URL without user info, query or fragment; None if not a URL.

    Those parts are where tokens ride along, and a BOM is shared widely.
    """
    if not re.match(r"^(https?|wss?)://", value, re.IGNORECASE) or any(c.isspace() for c in value):
        return None
    parts = urlsplit(value)
    if not parts.hostname:
        return None
    netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, "", ""))


def _add_model_cards_and_data(document: dict[str, JSON], listed: Iterable[Asset], result: ScanResult) -> None:
    """Add what cyclonedx-python-lib cannot model (well): ``modelCard``, ``data``, occurrences."""
    by_id = {a.id: a for a in listed}
    datasets_of: dict[str, set[str]] = defaultdict(set)
    for rel in result.relations:
        src, dst = by_id.get(rel.source), by_id.get(rel.target)
        if src and dst and {src.kind, dst.kind} == {AssetKind.MODEL, AssetKind.DATASET}:
            model, dataset = (src, dst) if src.kind == AssetKind.MODEL else (dst, src)
            datasets_of[model.id].add(dataset.id)
    for component in document.get("components", []):
        asset = by_id.get(component.get("bom-ref", ""))
        if asset is None:
            continue
        occurrences = _occurrences(asset)
        if occurrences:
            component.setdefault("evidence", {})["occurrences"] = occurrences
        if asset.kind == AssetKind.MODEL:
            component["modelCard"] = _model_card(asset, sorted(datasets_of[asset.id]))
        elif asset.kind == AssetKind.DATASET:
            component["data"] = [_component_data(asset)]


def _model_card(asset: Asset, dataset_refs: list[str]) -> JSON:
    params: dict[str, JSON] = {}
    for key, field in _MODEL_CARD_PARAMS.items():
        value = _text(asset.properties.get(key))
        if value:
            params[field] = value
    if dataset_refs:
        params["datasets"] = [{"ref": ref} for ref in dataset_refs]
    card: dict[str, JSON] = {}
    if params:
        card["modelParameters"] = params
    facts = {"provider": asset.properties.get("provider"), "format": asset.properties.get("format")}
    card["properties"] = [{"name": f"aispm:{k}", "value": str(v)} for k, v in facts.items() if v]
    return card


def _component_data(asset: Asset) -> JSON:
    data: dict[str, JSON] = {"type": "dataset", "name": asset.name}
    refs = _external_references(asset)
    if refs:
        data["contents"] = {"url": str(refs[0].url)}
    source = _text(asset.properties.get("source"))
    if source:
        data["description"] = f"Dataset from {source}"
    return data
