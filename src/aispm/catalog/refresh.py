"""Regenerate ``catalog/data/models.json`` from LiteLLM wheels downloaded from PyPI.

Usage (nothing here runs at scan time; the JSON it writes is what ships)::

    pip download --no-deps litellm==1.75.0 -d /tmp/litellm
    pip download --no-deps litellm -d /tmp/litellm
    python -m aispm.catalog.refresh /tmp/litellm/litellm-1.75.0-*.whl /tmp/litellm/litellm-1.109.1-*.whl

Several wheels may be given, oldest first: retired ids (``claude-3-5-sonnet-latest``,
``gemini-1.5-pro``) drop out of LiteLLM's current catalog but live on in code for years, so an older
snapshot is merged under the newest one. Only the catalog member of each wheel is read, as JSON;
LiteLLM itself is never installed or imported.

The output keeps what the classifier needs: for every model id, with LiteLLM's routing prefixes
(``openai/``, ``bedrock/us-east-1/``, ``vertex_ai/``...) stripped, its mode and the providers that
serve it in aispm's vocabulary, the provider that owns the id first.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aispm.analysis.providers import HOST_RANK, ORIGIN_RANK, VENDOR_SLUGS

CATALOG_MEMBER = "litellm/model_prices_and_context_window_backup.json"
DEFAULT_OUTPUT = Path(__file__).parent / "data" / "models.json"

#: LiteLLM ``litellm_provider`` values that differ from aispm's provider names.
PROVIDER_MAP: Mapping[str, str] = {
    "openai": "openai",
    "text-completion-openai": "openai",
    "chatgpt": "openai",
    "anthropic": "anthropic",
    "azure": "azure-openai",
    "azure_text": "azure-openai",
    "azure_ai": "azure-ai",
    "bedrock": "bedrock",
    "bedrock_converse": "bedrock",
    "bedrock_mantle": "bedrock",
    "amazon_nova": "bedrock",
    "agentcore": "bedrock",
    "sagemaker": "sagemaker",
    "gemini": "google",
    "palm": "google",
    "vertex_ai": "google",
    "huggingface": "huggingface",
    "ollama": "ollama",
    "ollama_chat": "ollama",
    "mistral": "mistral",
    "codestral": "mistral",
    "text-completion-codestral": "mistral",
    "cohere": "cohere",
    "cohere_chat": "cohere",
    "deepseek": "deepseek",
    "xai": "xai",
    "groq": "groq",
    "together_ai": "together",
    "fireworks_ai": "fireworks",
    "perplexity": "perplexity",
    "openrouter": "openrouter",
    "replicate": "replicate",
    "ai21": "ai21",
    "voyage": "voyage",
    "cerebras": "cerebras",
    "nvidia_nim": "nvidia-nim",
    "deepinfra": "deepinfra",
    "moonshot": "moonshot",
    "dashscope": "dashscope",
    "qwen_ai_platform": "dashscope",
    "qwencloud": "dashscope",
    "vercel_ai_gateway": "vercel-ai-gateway",
    "github_copilot": "github-copilot",
    "meta_llama": "meta",
    "watsonx": "watsonx",
}

#: Modes that are not models (web search APIs, vector stores, guardrail services).
SKIPPED_MODES = frozenset({"search", "vector_store", "guardrail"})

#: Leading path segments that are pricing tiers, regions or commitments, not part of an id.
_TIER_SEGMENT = re.compile(
    r"^(\*|\d+-month-commitment|[a-z]{2}(-gov)?-[a-z]+-\d+|eu|us|us-gov|apac|global|global-standard"
    r"|claude_platform|invoke|hd|standard|low|medium|high|xhigh|max|\d+-x-\d+|max-x-max|\d+-steps|max-steps)$"
)
#: Pricing buckets that LiteLLM lists as if they were models (``together-ai-4.1b-8b``).
_PRICING_BUCKET = re.compile(r"^(together-ai|fireworks-ai)-")


@dataclass
class _Entry:
    mode: str
    providers: dict[str, bool] = field(default_factory=dict)  # provider -> listed without a route prefix


def provider_for(litellm_provider: str) -> str:
    """aispm's name for a LiteLLM provider (``vertex_ai-anthropic_models`` -> ``google``)."""
    base = litellm_provider.split("-", 1)[0] if litellm_provider.startswith("vertex_ai") else litellm_provider
    if base.startswith("fireworks_ai"):
        base = "fireworks_ai"
    return PROVIDER_MAP.get(base, base.replace("_", "-"))


def strip_route(key: str, litellm_provider: str) -> tuple[str, str | None]:
    """The id with LiteLLM's routing prefix and tiers removed, and the route prefix if one was there."""
    segs = key.split("/")
    routed: str | None = None
    route = (
        litellm_provider.split("-", 1)[0] if litellm_provider.startswith("vertex_ai") else litellm_provider
    )
    route_names = {route, route.replace("_", "-"), route.split("_", 1)[0], "fireworks_ai", "amazon-nova"}
    while len(segs) > 1 and _TIER_SEGMENT.match(segs[0]):
        segs = segs[1:]
    if len(segs) > 1 and segs[0] in route_names:
        routed = segs[0]
        segs = segs[1:]
    while len(segs) > 1 and _TIER_SEGMENT.match(segs[0]):
        segs = segs[1:]
    if segs[:3] == ["accounts", "fireworks", "models"] and len(segs) > 3:
        segs = segs[3:]
    return "/".join(segs), routed


def _rank(provider: str) -> tuple[int, str]:
    if provider in ORIGIN_RANK:
        return (ORIGIN_RANK.index(provider), provider)
    if provider in HOST_RANK:
        return (len(ORIGIN_RANK) + HOST_RANK.index(provider), provider)
    return (len(ORIGIN_RANK) + len(HOST_RANK), provider)


def owner_of(model_id: str, providers: Mapping[str, bool]) -> str:
    """The provider whose id this is: a vendor slug, a Hugging Face org, the native listing, or rank."""
    if "/" in model_id and not model_id.startswith("@"):
        slug = model_id.split("/", 1)[0].lower()
        return VENDOR_SLUGS.get(slug, "huggingface")
    native = [p for p, is_native in providers.items() if is_native]
    origins = [p for p in providers if p in ORIGIN_RANK]
    pool = [p for p in native if p in ORIGIN_RANK] or origins or native or list(providers)
    return min(pool, key=_rank)


def build(catalogs: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Merge LiteLLM catalogs (oldest first) into ``{id: [mode, owner, other providers...]}``."""
    entries: dict[str, _Entry] = {}
    for catalog in catalogs:
        for key, spec in catalog.items():
            if not isinstance(spec, dict) or key == "sample_spec":
                continue
            lp = spec.get("litellm_provider")
            mode = spec.get("mode") or "chat"
            if not isinstance(lp, str) or " " in lp or not isinstance(mode, str) or " " in mode:
                continue
            if mode in SKIPPED_MODES or _PRICING_BUCKET.match(key):
                continue
            model_id, routed = strip_route(key, lp)
            if not model_id or " " in model_id:
                continue
            provider = provider_for(lp)
            if re.fullmatch(r"[A-Za-z]+", model_id) and _rank(provider)[0] >= len(ORIGIN_RANK) + len(
                HOST_RANK
            ):
                continue  # a bare word from a niche provider ("chat", "base") would only ever be noise
            entry = entries.setdefault(model_id, _Entry(mode=mode))
            entry.mode = mode  # later catalogs win
            entry.providers[provider] = entry.providers.get(provider, False) or routed is None
    out: dict[str, list[str]] = {}
    for model_id in sorted(entries):
        entry = entries[model_id]
        owner = owner_of(model_id, entry.providers)
        others = sorted((p for p in entry.providers if p != owner), key=_rank)
        out[model_id] = [entry.mode, owner, *others]
    return out


def routes(catalogs: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """LiteLLM route prefixes seen in the catalogs, mapped to aispm providers (``together_ai``: together)."""
    found: dict[str, set[str]] = defaultdict(set)
    for catalog in catalogs:
        for key, spec in catalog.items():
            if not isinstance(spec, dict) or "/" not in key:
                continue
            lp = spec.get("litellm_provider")
            if not isinstance(lp, str) or " " in lp:
                continue
            _, routed = strip_route(key, lp)
            if routed is not None:
                found[routed].add(provider_for(lp))
    return {prefix: min(ps, key=_rank) for prefix, ps in sorted(found.items())}


def read_wheel(path: Path) -> tuple[str, Mapping[str, Any]]:
    """The LiteLLM version (from the wheel's file name) and its catalog member, parsed as JSON."""
    version = path.name.split("-")[1] if path.name.count("-") >= 2 else "unknown"
    with zipfile.ZipFile(path) as zf:
        data = json.loads(zf.read(CATALOG_MEMBER))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: {CATALOG_MEMBER} is not a JSON object")
    return version, data


def render(versions: Sequence[str], models: Mapping[str, list[str]], route_map: Mapping[str, str]) -> str:
    """The data file: one model per line, so that refreshes diff readably."""
    head = {
        "source": f"LiteLLM {CATALOG_MEMBER} (https://github.com/BerriAI/litellm)",
        "license": "MIT",
        "litellm_versions": list(versions),
        "format": "models: {id: [mode, owning provider, other providers that serve it...]}",
        "routes": dict(route_map),
    }
    lines = [json.dumps(head, indent=1)[:-2] + ',\n "models": {']
    items = [f"  {json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}" for k, v in models.items()]
    lines.append(",\n".join(items))
    lines.append(" }\n}\n")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: wheels in, data file out."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("wheels", nargs="+", type=Path, help="litellm wheels, oldest first")
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    read = [read_wheel(w) for w in args.wheels]
    versions = [v for v, _ in read]
    catalogs = [c for _, c in read]
    models = build(catalogs)
    args.output.write_text(render(versions, models, routes(catalogs)), encoding="utf-8")
    print(f"wrote {len(models)} model ids from litellm {', '.join(versions)} to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
