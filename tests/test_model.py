from aispm.model import Asset, AssetKind, Finding, Location, Scope, Severity, fingerprint, stable_id


def test_stable_id_depends_only_on_kind_and_key() -> None:
    assert stable_id("model", "openai", "gpt-4o") == stable_id("model", "openai", "gpt-4o")
    assert stable_id("model", "openai", "gpt-4o") != stable_id("model", "azure-openai", "gpt-4o")
    # parts are separated, so moving a boundary changes the id
    assert stable_id("model", "ab", "c") != stable_id("model", "a", "bc")
    assert stable_id("model", "x").startswith("model:")


def test_severity_order() -> None:
    assert Severity.CRITICAL.at_least(Severity.HIGH)
    assert Severity.HIGH.at_least(Severity.HIGH)
    assert not Severity.LOW.at_least(Severity.MEDIUM)
    assert [s.rank for s in Severity] == [4, 3, 2, 1, 0]


def test_asset_round_trip() -> None:
    a = Asset.create(
        AssetKind.MODEL,
        "gpt-4o",
        key=("openai", "gpt-4o"),
        location=Location("app.py", 3),
        properties={"provider": "openai"},
        scope=Scope.TEST,
    )
    assert Asset.from_dict(a.to_dict()) == a
    assert a.occurrences == (Location("app.py", 3),)


def test_finding_round_trip_and_fingerprint() -> None:
    fp = fingerprint("AISPM-X-001", "model:abc", "k")
    assert len(fp) == 32 and fp == fingerprint("AISPM-X-001", "model:abc", "k")
    f = Finding(
        fp,
        "AISPM-X-001",
        Severity.HIGH,
        "t",
        "m",
        "model:abc",
        Location("a.py", 1),
        ("owasp-llm@2025#LLM03",),
    )
    assert Finding.from_dict(f.to_dict()) == f
