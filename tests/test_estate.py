"""The bundled example estate, scanned with every collector and check, against its answer key.

``examples/estate/EXPECTED.json`` lists every AI asset planted there and the decoys that must not
be reported. This is the golden-corpus test of the whole discovery pipeline: a collector that
stops finding something, or starts reporting a decoy, fails here by name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest

from aispm.model import Asset, AssetKind, RelationKind, ScanResult
from aispm.pipeline import ScanOptions, scan

ESTATE = Path(__file__).resolve().parent.parent / "examples" / "estate"
EXPECTED: dict[str, Any] = json.loads((ESTATE / "EXPECTED.json").read_text(encoding="utf-8"))

#: Shapes of the fake secrets planted in the estate; none may come back in clear.
_SECRET_SHAPES = (
    re.compile(r"sk-proj-[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}"),
    re.compile(r"sk-ant-api03-[\w-]{93}AA"),
    re.compile(r"\bhf_[A-Za-z]{34}\b"),
    re.compile(r"\bghp_[A-Za-z0-9]{36}\b"),
)


@pytest.fixture(scope="module")
def result() -> ScanResult:
    return scan([ESTATE], ScanOptions())


def _item_id(item: Mapping[str, Any]) -> str:
    where = (item.get("paths") or item.get("path_any") or [""])[0]
    provider = f"[{item['provider']}]" if "provider" in item else ""
    return f"{item['kind']}:{item['name']}{provider}@{where}"


def _fold(name: str) -> str:
    return name.lower().replace("_", "-")


def _names(item: Mapping[str, Any]) -> set[str]:
    names = {item["name"], *item.get("aliases", ())}
    return {_fold(n) for n in names} if item["kind"] == AssetKind.PACKAGE.value else names


def _candidates(result: ScanResult, item: Mapping[str, Any]) -> list[Asset]:
    """Assets of the item's kind whose name, provider and package facts agree with it."""
    kind = AssetKind(item["kind"])
    names = _names(item)
    out = []
    for a in result.assets:
        if a.kind != kind:
            continue
        if item.get("match") != "path":
            name = _fold(a.name) if kind == AssetKind.PACKAGE else a.name
            if name not in names:
                continue
        if not all(a.properties.get(k) == item[k] for k in ("provider", "ecosystem", "version") if k in item):
            continue
        out.append(a)
    return out


def _paths(assets: Iterable[Asset]) -> set[str]:
    paths: set[str] = set()
    for a in assets:
        paths.update(o.path for o in a.occurrences)
        if a.location is not None:
            paths.add(a.location.path)
    return paths


@pytest.mark.parametrize("item", EXPECTED["assets"], ids=_item_id)
def test_planted_asset_is_found(result: ScanResult, item: Mapping[str, Any]) -> None:
    found = _candidates(result, item)
    if item.get("match") == "path":
        found = [a for a in found if _paths([a]) & {*item.get("paths", ()), *item.get("path_any", ())}]
    assert found, f"not found: {_item_id(item)}"
    seen = _paths(found)
    missing = [p for p in item.get("paths", ()) if p not in seen]
    assert not missing, f"{_item_id(item)} found, but not at {missing} (seen at {sorted(seen)})"
    if "path_any" in item:
        assert seen & set(item["path_any"]), f"{_item_id(item)} not at any of {item['path_any']}"
    for key in ("revision", "purl"):
        if key in item:
            assert any(a.properties.get(key) == item[key] for a in found), f"{_item_id(item)}: {key}"


def test_each_path_matched_item_is_a_distinct_asset(result: ScanResult) -> None:
    """Two endpoints planted in one compose file must be two assets, not one."""
    wanted: dict[tuple[str, str], int] = {}
    for item in EXPECTED["assets"]:
        if item.get("match") == "path" and len(item.get("paths", ())) == 1:
            key = (item["kind"], item["paths"][0])
            wanted[key] = wanted.get(key, 0) + 1
    for (kind, path), count in wanted.items():
        have = [a for a in result.assets if a.kind == AssetKind(kind) and path in _paths([a])]
        assert len(have) >= count, f"{count} {kind} expected at {path}, found {len(have)}"


@pytest.mark.parametrize("item", [i for i in EXPECTED["assets"] if "finding" in i], ids=_item_id)
def test_planted_mistake_is_flagged(result: ScanResult, item: Mapping[str, Any]) -> None:
    path = item.get("finding_path", item["paths"][0])
    located = [f for f in result.findings if f.location and f.location.path == path]
    hits = [f for f in located if f.check_id == item["finding"]]
    assert hits, f"no {item['finding']} finding at {path}"


@pytest.mark.parametrize("decoy", EXPECTED["decoys"]["not_models"], ids=lambda d: f"{d['name']}@{d['path']}")
def test_decoy_is_not_a_model(result: ScanResult, decoy: Mapping[str, str]) -> None:
    wrong = [a for a in result.assets if a.kind == AssetKind.MODEL and a.name == decoy["name"]]
    assert not wrong, f"{decoy['name']!r} reported as a model ({decoy['why']}): {_paths(wrong)}"


@pytest.mark.parametrize(
    "decoy", EXPECTED["decoys"]["not_datasets"], ids=lambda d: f"{d['name']}@{d['path']}"
)
def test_decoy_is_not_a_dataset(result: ScanResult, decoy: Mapping[str, str]) -> None:
    wrong = [a for a in result.assets if a.kind == AssetKind.DATASET and a.name == decoy["name"]]
    assert not wrong, f"{decoy['name']!r} reported as a dataset ({decoy['why']})"


@pytest.mark.parametrize("decoy", EXPECTED["decoys"]["no_credential_findings"], ids=lambda d: str(d["path"]))
def test_placeholder_or_reference_is_not_a_hardcoded_credential(
    result: ScanResult, decoy: Mapping[str, str]
) -> None:
    wrong = [f for f in result.findings if f.location and f.location.path == decoy["path"]]
    wrong = [f for f in wrong if f.check_id == "AISPM-CRED-001"]
    assert not wrong, f"{decoy['path']}: {decoy['why']}"


def test_no_model_is_invented(result: ScanResult) -> None:
    """Every model reported is one the answer key plants: no junk models."""
    planted = {(n, i.get("provider")) for i in EXPECTED["assets"] if i["kind"] == "model" for n in _names(i)}
    extra = sorted(
        (a.name, str(a.properties.get("provider")))
        for a in result.assets
        if a.kind == AssetKind.MODEL and (a.name, a.properties.get("provider")) not in planted
    )
    assert not extra, f"models not in EXPECTED.json: {extra}"


def test_secrets_never_come_back_in_clear(result: ScanResult) -> None:
    dumped = json.dumps(
        {
            "assets": [a.to_dict() for a in result.assets],
            "findings": [f.to_dict() for f in result.findings],
            "errors": [e.to_dict() for e in result.errors],
        }
    )
    for shape in _SECRET_SHAPES:
        assert not shape.search(dumped), f"a planted secret came back in clear ({shape.pattern})"


def test_estate_scans_without_errors(result: ScanResult) -> None:
    assert result.errors == (), [e.to_dict() for e in result.errors]


def test_answer_key_paths_exist() -> None:
    """The key itself stays honest: every path it names is a file of the estate."""
    named = {p for i in EXPECTED["assets"] for p in (*i.get("paths", ()), *i.get("path_any", ()))}
    named |= {d["path"] for group in EXPECTED["decoys"].values() for d in group}
    missing = sorted(p for p in named if not (ESTATE / p).is_file())
    assert not missing, missing


def test_notebook_is_valid_nbformat_4() -> None:
    nb = json.loads((ESTATE / "ml/fine-tune/notebooks/explore.ipynb").read_text(encoding="utf-8"))
    assert nb["nbformat"] == 4
    assert all({"cell_type", "id", "metadata", "source"} <= set(c) for c in nb["cells"])
    assert any(c["cell_type"] == "code" and c["outputs"] for c in nb["cells"])


@pytest.mark.parametrize("item", [i for i in EXPECTED["assets"] if "verdict" in i], ids=_item_id)
def test_model_file_verdict(result: ScanResult, item: Mapping[str, Any]) -> None:
    found = _candidates(result, item)
    assert found, f"not found: {_item_id(item)}"
    verdicts = {str(a.properties.get("safety", {}).get("verdict")) for a in found}
    assert verdicts == {item["verdict"]}, f"{_item_id(item)}: {verdicts}"
    if item.get("no_findings"):
        ids = {a.id for a in found}
        assert not [f for f in result.findings if f.asset_id in ids]


@pytest.mark.parametrize("item", [i for i in EXPECTED["assets"] if "loaded_by" in i], ids=_item_id)
def test_code_is_linked_to_the_model_it_loads(result: ScanResult, item: Mapping[str, Any]) -> None:
    targets = {a.id for a in _candidates(result, item)}
    loaders = {a.id for a in result.assets if a.location is not None and a.location.path == item["loaded_by"]}
    links = [r for r in result.relations if r.source in loaders and r.target in targets]
    assert links and all(r.kind == RelationKind.USES_MODEL for r in links)


def test_estate_model_files_are_reproducible() -> None:
    """The binary model files are written by examples/make_estate_models.py, byte for byte."""
    import importlib.util

    script = ESTATE.parent / "make_estate_models.py"
    spec = importlib.util.spec_from_file_location("make_estate_models", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for rel, data in module.files().items():
        assert (ESTATE / rel).read_bytes() == data, f"{rel} differs from what the script writes"
