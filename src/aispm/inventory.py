"""The inventory: observations merged into one set of assets and relations.

Collectors see one file at a time, so the same model, package or provider is observed many times.
Merging by id keeps one asset per identity with every place it occurs, and makes the result
independent of the order files were read in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import replace

from aispm.model import Asset, AssetKind, Location, Relation, RelationKind

_NOWHERE = Location()


def merge_assets(observed: Iterable[Asset]) -> list[Asset]:
    """One asset per id: occurrences unioned, scope the closest to production, properties combined.

    Properties from different observations are combined key by key; where two disagree, the
    value observed at the earliest location (path, line) wins, so the outcome is deterministic.
    """
    groups: dict[str, list[Asset]] = defaultdict(list)
    for a in observed:
        groups[a.id].append(a)
    merged: list[Asset] = []
    for group in groups.values():
        group.sort(key=lambda a: (a.location is None, a.location or _NOWHERE, a.name))
        first = group[0]
        occurrences = sorted({o for a in group for o in a.occurrences})
        props: dict[str, object] = {}
        for a in group:
            for k, v in a.properties.items():
                props.setdefault(k, v)
        scope = min((a.scope for a in group), key=lambda s: s.rank)
        location = occurrences[0] if occurrences else first.location
        merged.append(
            replace(first, properties=props, scope=scope, occurrences=tuple(occurrences), location=location)
        )
    merged.sort(key=lambda a: (a.kind.value, a.name, a.id))
    return merged


class Inventory:
    """Assets and relations of one scan, indexed for checks and outputs."""

    def __init__(self, assets: Iterable[Asset], relations: Iterable[Relation]) -> None:
        self.assets: tuple[Asset, ...] = tuple(assets)
        self._by_id = {a.id: a for a in self.assets}
        rels = sorted({r for r in relations if r.source in self._by_id and r.target in self._by_id})
        self.relations: tuple[Relation, ...] = tuple(rels)
        self._out: dict[str, list[Relation]] = defaultdict(list)
        self._in: dict[str, list[Relation]] = defaultdict(list)
        for r in self.relations:
            self._out[r.source].append(r)
            self._in[r.target].append(r)
        self._by_path: dict[str, list[Asset]] = defaultdict(list)
        for a in self.assets:
            for path in {o.path for o in a.occurrences if o.path}:
                self._by_path[path].append(a)

    def get(self, asset_id: str) -> Asset | None:
        return self._by_id.get(asset_id)

    def of_kind(self, *kinds: AssetKind) -> Iterator[Asset]:
        return (a for a in self.assets if a.kind in kinds)

    def at_path(self, path: str) -> list[Asset]:
        """Every asset with an occurrence in the file at ``path``."""
        return list(self._by_path.get(path, ()))

    def outgoing(self, asset_id: str, kind: RelationKind | None = None) -> list[Asset]:
        return [self._by_id[r.target] for r in self._out.get(asset_id, ()) if kind is None or r.kind == kind]

    def incoming(self, asset_id: str, kind: RelationKind | None = None) -> list[Asset]:
        return [self._by_id[r.source] for r in self._in.get(asset_id, ()) if kind is None or r.kind == kind]
