"""Human views of a scan for the terminal (rich tables). Evidence shown here is already redacted."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from aispm.model import Asset, AssetKind, Finding, ScanResult, Severity

if TYPE_CHECKING:
    from aispm.store.db import ScanSummary

SEVERITY_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}

#: Order in which kinds are listed: the AI itself first, plumbing after.
KIND_ORDER = [
    AssetKind.MODEL, AssetKind.DATASET, AssetKind.AI_PROVIDER, AssetKind.INFERENCE_ENDPOINT, AssetKind.AGENT,
    AssetKind.MCP_SERVER, AssetKind.MCP_CLIENT_CONFIG, AssetKind.AI_SDK_USAGE, AssetKind.NOTEBOOK,
    AssetKind.PACKAGE, AssetKind.CREDENTIAL, AssetKind.CLOUD_RESOURCE,
]  # fmt: skip


def _kind_rank(kind: AssetKind) -> int:
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)


def _where(a: Asset) -> str:
    if not a.location:
        return ""
    loc = a.location.path + (f":{a.location.line}" if a.location.line else "")
    more = len(a.occurrences) - 1
    return f"{loc} (+{more})" if more > 0 else loc


def _detail(a: Asset) -> str:
    p = a.properties
    keys = ("provider", "format", "server", "client", "ecosystem", "version", "sdk", "transport", "redacted")
    return ", ".join(f"{k}={p[k]}" for k in keys if p.get(k) not in (None, "", [])) or ""


def inventory_table(assets: Iterable[Asset], title: str = "AI inventory") -> Table:
    table = Table(title=title, title_justify="left", expand=False)
    table.add_column("kind", style="bold")
    table.add_column("name", overflow="fold")
    table.add_column("details", overflow="fold")
    table.add_column("scope")
    table.add_column("where", overflow="fold")
    for a in sorted(assets, key=lambda a: (_kind_rank(a.kind), a.name.lower(), a.id)):
        scope = Text(a.scope.value, style="green" if a.scope.value == "production" else "dim")
        table.add_row(a.kind.value, a.name, _detail(a), scope, _where(a))
    return table


def findings_table(findings: Sequence[Finding], title: str = "Findings") -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("severity")
    table.add_column("check")
    table.add_column("message", overflow="fold")
    table.add_column("where", overflow="fold")
    for f in findings:
        loc = ""
        if f.location:
            loc = f.location.path + (f":{f.location.line}" if f.location.line else "")
        table.add_row(Text(f.severity.value, style=SEVERITY_STYLE[f.severity]), f.check_id, f.message, loc)
    return table


def summary_table(result: ScanResult) -> Table:
    kinds = Counter(a.kind for a in result.assets)
    sev = Counter(f.severity for f in result.findings)
    table = Table(
        title=f"Scan {result.info.id[:8]} of {', '.join(result.info.targets)}", title_justify="left"
    )
    table.add_column("what", style="bold")
    table.add_column("count", justify="right")
    for kind in sorted(kinds, key=_kind_rank):
        table.add_row(kind.value, str(kinds[kind]))
    for s in Severity:
        if sev[s]:
            table.add_row(Text(f"findings: {s.value}", style=SEVERITY_STYLE[s]), str(sev[s]))
    stats = result.info.stats
    table.add_row("files read", f"{stats.get('files_read', 0)} of {stats.get('files_seen', 0)}")
    if stats.get("cache_hits"):
        table.add_row("unchanged (cached)", str(stats["cache_hits"]))
    table.add_row("scan errors", Text(str(len(result.errors)), style="red" if result.errors else ""))
    for reason, n in dict(stats.get("skipped") or {}).items():
        table.add_row(f"skipped: {reason}", str(n))
    table.add_row("time", f"{stats.get('duration_s', 0)} s")
    return table


def errors_table(result: ScanResult, limit: int = 20) -> Table:
    table = Table(title="Scan errors (recorded; the scan went on)", title_justify="left")
    table.add_column("path", overflow="fold")
    table.add_column("by")
    table.add_column("kind")
    table.add_column("message", overflow="fold")
    for e in result.errors[:limit]:
        table.add_row(e.path, e.collector, e.kind.value, e.message)
    if len(result.errors) > limit:
        table.add_row("…", "", "", f"{len(result.errors) - limit} more (aispm findings --format json)")
    return table


def scans_table(summaries: Sequence[ScanSummary]) -> Table:
    table = Table(title="Scan history", title_justify="left")
    for col in ("id", "started", "targets", "assets", "findings", "errors"):
        table.add_column(col, justify="right" if col in ("assets", "findings", "errors") else "left")
    for s in summaries:
        table.add_row(
            s.id[:8], s.started_at[:19], ", ".join(s.targets), str(s.assets), str(s.findings), str(s.errors)
        )
    return table


def print_scan(console: Console, result: ScanResult) -> None:
    """The scan's inventory, findings and summary, as `aispm scan` prints them."""
    if result.assets:
        console.print(inventory_table(result.assets))
    if result.findings:
        console.print(findings_table(result.findings))
    if result.errors:
        console.print(errors_table(result))
    console.print(summary_table(result))
