"""The vendored model catalog: known model ids, whose they are, and who serves them.

The data (``data/models.json``) is a reduced snapshot of LiteLLM's MIT-licensed catalog; see
``data/NOTICE.models.txt`` and :mod:`aispm.catalog.refresh`. It is read once, lazily.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from types import MappingProxyType
from typing import Any

from aispm.analysis.providers import EXTRA_ROUTES


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One known model id: its mode (chat, embedding...), owner, and every provider that serves it."""

    model_id: str
    mode: str
    owner: str
    providers: frozenset[str]


@dataclass(frozen=True, slots=True)
class ModelCatalog:
    """Lookup over the vendored snapshot."""

    entries: MappingProxyType[str, tuple[str, ...]]
    #: LiteLLM route prefixes (``groq``, ``together_ai``, ``bedrock``) -> provider.
    routes: MappingProxyType[str, str]
    versions: tuple[str, ...]

    def get(self, model_id: str) -> CatalogEntry | None:
        """The entry for ``model_id`` exactly as written (case-sensitive, as providers are), or None."""
        raw = self.entries.get(model_id)
        if raw is None:
            return None
        mode, owner, *others = raw
        return CatalogEntry(model_id, mode, owner, frozenset((owner, *others)))

    def route(self, prefix: str) -> str | None:
        """The provider a LiteLLM-style route prefix names (``groq`` in ``groq/llama3-8b-8192``)."""
        return self.routes.get(prefix)

    def __len__(self) -> int:
        return len(self.entries)


def _parse(data: Any) -> ModelCatalog:
    models = data["models"]
    routes = {**EXTRA_ROUTES, **data.get("routes", {})}
    return ModelCatalog(
        entries=MappingProxyType({k: tuple(v) for k, v in models.items()}),
        routes=MappingProxyType(routes),
        versions=tuple(data.get("litellm_versions", ())),
    )


@lru_cache(maxsize=1)
def catalog() -> ModelCatalog:
    """The shipped catalog (loaded on first use, then shared)."""
    text = files("aispm.catalog").joinpath("data", "models.json").read_text(encoding="utf-8")
    return _parse(json.loads(text))
