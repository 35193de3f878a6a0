"""The catalog of AI packages per ecosystem: which dependencies mean "this code uses AI".

The catalog is data (``data/ai_packages.json``): each entry names a package, or a prefix pattern
ending in ``*`` (``@ai-sdk/*``, ``langchain-*``, ``dev.langchain4j:*``), with its category and,
where the package implies one, the provider whose service it reaches. Names are compared in each
ecosystem's normal form (PEP 503 for PyPI, case-insensitive for npm, NuGet and Cargo), so
``LangChain_OpenAI`` and ``langchain-openai`` are the same package.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final

#: Ecosystems the catalog covers, named by their purl type.
ECOSYSTEMS: Final = ("pypi", "npm", "maven", "golang", "cargo", "gem", "nuget")

#: What an AI package is for.
CATEGORIES: Final = frozenset(
    {
        "provider-sdk",
        "framework",
        "agent-framework",
        "runtime",
        "vector-store",
        "observability",
        "guardrails",
        "mlops",
        "mcp",
    }
)

_PEP503 = re.compile(r"[-_.]+")
_GO_MAJOR = re.compile(r"/v[0-9]+$")


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One line of the catalog: an exact name or a ``prefix*`` pattern, in normal form."""

    ecosystem: str
    pattern: str
    category: str
    provider: str | None

    @property
    def is_prefix(self) -> bool:
        return self.pattern.endswith("*")


@dataclass(frozen=True, slots=True)
class AiPackage:
    """A package the catalog recognises: its normalised ``name`` and the entry that matched."""

    ecosystem: str
    name: str
    category: str
    provider: str | None
    pattern: str


def normalize_name(ecosystem: str, name: str) -> str:
    """``name`` in the form the ecosystem compares names in.

    PyPI names follow PEP 503 (lower case, runs of ``-_.`` become ``-``); npm, NuGet and Cargo
    names compare case-insensitively (Cargo also treats ``_`` and ``-`` alike); Maven
    ``group:artifact``, Go module paths and gem names are kept as written, trimmed.
    """
    n = name.strip()
    if ecosystem == "pypi":
        return _PEP503.sub("-", n).lower()
    if ecosystem in ("npm", "nuget"):
        return n.lower()
    if ecosystem == "cargo":
        return n.lower().replace("_", "-")
    return n


@cache
def entries() -> tuple[CatalogEntry, ...]:
    """Every catalog entry, loaded once from the packaged data file."""
    raw = json.loads(resources.files("aispm.catalog").joinpath("data/ai_packages.json").read_text("utf-8"))
    out: list[CatalogEntry] = []
    for eco in ECOSYSTEMS:
        for item in raw.get(eco, []):
            category = item["category"]
            if category not in CATEGORIES:
                raise ValueError(f"catalog entry {item['name']!r} ({eco}) has unknown category {category!r}")
            out.append(CatalogEntry(eco, normalize_name(eco, item["name"]), category, item.get("provider")))
    return tuple(out)


@cache
def _index() -> dict[str, tuple[dict[str, CatalogEntry], tuple[CatalogEntry, ...]]]:
    """Per ecosystem: exact names, and prefix patterns longest first (the most specific wins)."""
    exact: dict[str, dict[str, CatalogEntry]] = {eco: {} for eco in ECOSYSTEMS}
    prefixes: dict[str, list[CatalogEntry]] = {eco: [] for eco in ECOSYSTEMS}
    for e in entries():
        if e.is_prefix:
            prefixes[e.ecosystem].append(e)
        else:
            exact[e.ecosystem][e.pattern] = e
    return {
        eco: (exact[eco], tuple(sorted(prefixes[eco], key=lambda e: -len(e.pattern)))) for eco in ECOSYSTEMS
    }


def lookup(ecosystem: str, name: str) -> AiPackage | None:
    """The catalog's view of package ``name`` in ``ecosystem``, or None when it is not an AI package.

    Go names match a catalogued module path or any package below it, with or without a major
    version suffix (``github.com/openai/openai-go/v2/option`` is ``github.com/openai/openai-go``).
    """
    if ecosystem not in ECOSYSTEMS:
        return None
    norm = normalize_name(ecosystem, name)
    if not norm:
        return None
    exact, prefixes = _index()[ecosystem]
    if ecosystem == "golang":
        return _lookup_go(norm, exact)
    hit = exact.get(norm)
    if hit is None:
        hit = next(
            (e for e in prefixes if norm.startswith(e.pattern[:-1]) and len(norm) > len(e.pattern) - 1), None
        )
    if hit is None:
        return None
    return AiPackage(ecosystem, norm, hit.category, hit.provider, hit.pattern)


def _lookup_go(path: str, exact: dict[str, CatalogEntry]) -> AiPackage | None:
    parts = path.split("/")
    for end in range(len(parts), 0, -1):
        candidate = "/".join(parts[:end])
        for form in (candidate, _GO_MAJOR.sub("", candidate)):
            hit = exact.get(form)
            if hit is not None:
                return AiPackage("golang", form, hit.category, hit.provider, hit.pattern)
    return None


def npm_package_of(specifier: str) -> str | None:
    """The npm package an import specifier names (``@ai-sdk/openai/internal`` -> ``@ai-sdk/openai``).

    None for relative or absolute paths, URLs and Node built-ins, which name no package.
    """
    s = specifier.strip()
    if not s or s.startswith((".", "/", "node:", "http:", "https:", "data:", "file:", "#", "~")):
        return None
    parts = s.split("/")
    if s.startswith("@"):
        return "/".join(parts[:2]) if len(parts) >= 2 and parts[1] else None
    return parts[0]
