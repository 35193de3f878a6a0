"""Builders for the assets several sources observe, so that every collector keys them alike.

Two collectors that both see the ``openai`` package, the OpenAI provider or ``gpt-4o`` must
produce the same asset id, or the inventory would hold duplicates. Build those assets here.
"""

from __future__ import annotations

from collections.abc import Mapping

from packageurl import PackageURL

from aispm.analysis.providers import HOST_RANK, ORIGIN_RANK
from aispm.model import JSON, Asset, AssetKind, Location, Scope

#: Providers whose models run as someone else's service (SaaS). Others (huggingface, ollama,
#: local) name weights that run where the code runs; "meta" names a model maker, not an API here.
SAAS_PROVIDERS = frozenset(ORIGIN_RANK + HOST_RANK) - {"ollama", "huggingface", "local", "meta"}


def provider_asset(provider: str, location: Location | None, scope: Scope, **props: JSON) -> Asset:
    """The SaaS AI provider ``provider`` (one asset per provider per scan)."""
    return Asset.create(
        AssetKind.AI_PROVIDER,
        provider,
        key=(provider,),
        location=location,
        properties={"provider": provider, **props},
        scope=scope,
    )


def model_asset(
    name: str,
    provider: str,
    location: Location | None,
    scope: Scope,
    *,
    revision: str | None = None,
    properties: Mapping[str, JSON] | None = None,
) -> Asset:
    """A model, named exactly as the code names it; one asset per (provider, name, revision)."""
    props: dict[str, JSON] = {"provider": provider, **(properties or {})}
    if revision:
        props["revision"] = revision
    purl = model_purl(name, provider, revision)
    if purl:
        props.setdefault("purl", purl)
    return Asset.create(
        AssetKind.MODEL,
        name,
        key=(provider, name, revision or ""),
        location=location,
        properties=props,
        scope=scope,
    )


def dataset_asset(name: str, source: str, location: Location | None, scope: Scope, **props: JSON) -> Asset:
    """A dataset referenced or present (``source``: huggingface, file, s3...)."""
    return Asset.create(
        AssetKind.DATASET,
        name,
        key=(source, name),
        location=location,
        properties={"source": source, **props},
        scope=scope,
    )


def package_asset(
    ecosystem: str, name: str, version: str | None, location: Location | None, scope: Scope, **props: JSON
) -> Asset:
    """A declared dependency: one asset per (ecosystem, name, version)."""
    purl = PackageURL(type=ecosystem, name=name, version=version or None).to_string() if ecosystem else None
    base: dict[str, JSON] = {"ecosystem": ecosystem, "version": version}
    if purl:
        base["purl"] = purl
    return Asset.create(
        AssetKind.PACKAGE,
        name,
        key=(ecosystem, name.lower(), version or ""),
        location=location,
        properties={**base, **props},
        scope=scope,
    )


def sdk_usage_asset(sdk: str, path: str, location: Location, scope: Scope, **props: JSON) -> Asset:
    """Use of one AI SDK or framework in one source file."""
    return Asset.create(
        AssetKind.AI_SDK_USAGE,
        sdk,
        key=(path, sdk),
        location=location,
        properties={"sdk": sdk, **props},
        scope=scope,
    )


def model_purl(name: str, provider: str, revision: str | None) -> str | None:
    """``pkg:huggingface/org/name@commit`` for Hugging Face ids; None where no purl type exists.

    The version is the lower-cased commit and is omitted rather than invented when unknown.
    """
    if provider != "huggingface" or name.count("/") != 1:
        return None
    namespace, model = name.split("/")
    version = revision.lower() if revision and _is_commit(revision) else None
    return PackageURL(type="huggingface", namespace=namespace, name=model, version=version).to_string()


def _is_commit(rev: str) -> bool:
    return 7 <= len(rev) <= 40 and all(c in "0123456789abcdefABCDEF" for c in rev)
