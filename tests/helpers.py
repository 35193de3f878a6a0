"""Small collectors and checks used to exercise the pipeline without the built-in ones."""

from __future__ import annotations

from collections.abc import Iterable

from aispm.assets import sdk_usage_asset
from aispm.checks.base import Check, CheckMeta
from aispm.collectors.base import Collector, CollectorError, EnvBinding, ModelMention, Observation, SourceFile
from aispm.inventory import Inventory
from aispm.model import Asset, AssetKind, Finding, Severity


class LineCollector(Collector):
    """Reads ``*.ai`` files: ``use SDK``, ``model VALUE``, ``envmodel VAR [DEFAULT]``, ``set VAR=VALUE``,
    ``boom`` (fails after yielding what came before)."""

    name = "test-lines"
    version = "1"

    def __init__(self) -> None:
        self.calls = 0

    def wants(self, file: SourceFile) -> bool:
        return file.suffix == ".ai"

    def collect(self, file: SourceFile) -> Iterable[Observation]:
        self.calls += 1
        owner = None
        for n, line in enumerate(file.read_text().splitlines(), 1):
            word, _, rest = line.partition(" ")
            if word == "use":
                usage = sdk_usage_asset(rest, file.path, file.loc(n), file.scope, provider=rest)
                owner = usage.id
                yield usage
            elif word == "model":
                yield ModelMention(file.loc(n), via="model=", value=rest, strong=True, owner=owner)
            elif word == "envmodel":
                var, _, default = rest.partition(" ")
                yield ModelMention(
                    file.loc(n), via="env", env_var=var, value=default or None, strong=True, owner=owner
                )
            elif word == "set":
                k, _, v = rest.partition("=")
                yield EnvBinding(k, v, file.loc(n))
            elif word == "boom":
                raise CollectorError("cannot parse line boom")


class ModelsAreBad(Check):
    meta = CheckMeta(
        id="AISPM-TEST-001",
        title="Every model is flagged",
        severity=Severity.HIGH,
        asset_kinds=(AssetKind.MODEL,),
        frameworks=("owasp-llm@2025#LLM03",),
        remediation="Nothing to do: this is a test check.",
    )

    def evaluate(self, asset: Asset, inventory: Inventory) -> Iterable[Finding]:
        yield self.finding(asset, f"model {asset.name} found")


class BrokenCheck(Check):
    meta = CheckMeta(
        id="AISPM-TEST-002",
        title="Always breaks",
        severity=Severity.LOW,
        asset_kinds=(AssetKind.MODEL,),
        frameworks=(),
        remediation="n/a",
    )

    def evaluate(self, asset: Asset, inventory: Inventory) -> Iterable[Finding]:
        raise RuntimeError("bug in check")
