import random

from aispm.inventory import Inventory, merge_assets
from aispm.model import Asset, AssetKind, Location, Relation, RelationKind, Scope


def _obs(path: str, line: int, scope: Scope, **props: object) -> Asset:
    return Asset.create(
        AssetKind.MODEL,
        "gpt-4o",
        key=("openai", "gpt-4o"),
        location=Location(path, line),
        properties=props,
        scope=scope,
    )


def test_merge_is_order_independent_and_keeps_every_occurrence() -> None:
    obs = [
        _obs("tests/test_a.py", 5, Scope.TEST, via="test"),
        _obs("app/main.py", 10, Scope.PRODUCTION, via="prod"),
        _obs("app/main.py", 2, Scope.PRODUCTION, provider="openai"),
    ]
    results = set()
    for _ in range(5):
        random.shuffle(obs)
        [m] = merge_assets(obs)
        results.add(repr(m))
    assert len(results) == 1
    [m] = merge_assets(obs)
    assert m.scope is Scope.PRODUCTION
    assert m.location == Location("app/main.py", 2)
    assert [o.path for o in m.occurrences] == ["app/main.py", "app/main.py", "tests/test_a.py"]
    # the earliest location's value wins where observations disagree
    assert m.properties["via"] == "prod"
    assert m.properties["provider"] == "openai"


def test_inventory_drops_dangling_relations_and_indexes() -> None:
    a = _obs("a.py", 1, Scope.PRODUCTION)
    b = Asset.create(AssetKind.AI_PROVIDER, "openai", key=("openai",), location=Location("a.py", 1))
    inv = Inventory(
        [a, b],
        [Relation(a.id, b.id, RelationKind.DEPENDS_ON), Relation(a.id, "gone", RelationKind.USES_MODEL)],
    )
    assert inv.relations == (Relation(a.id, b.id, RelationKind.DEPENDS_ON),)
    assert inv.outgoing(a.id) == [b]
    assert inv.incoming(b.id, RelationKind.DEPENDS_ON) == [a]
    assert {x.id for x in inv.at_path("a.py")} == {a.id, b.id}
