"""The command line. Thin: it parses options, calls the library, and turns errors into exit codes.

Exit codes: 0 success; 1 a finding at or above ``--fail-on`` is open; 2 the command could not do its
job (bad arguments, missing target, store unreachable).
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from aispm import __version__
from aispm.checks.base import CheckMeta
from aispm.model import AssetKind, Finding, ScanResult, Severity
from aispm.outputs import FORMATS, REPORT_FILES, render
from aispm.outputs import terminal as view

if TYPE_CHECKING:
    from aispm.store import Store

EXIT_FAIL_ON = 1
EXIT_ERROR = 2

app = typer.Typer(
    name="aispm",
    help="AI Security Posture Management: discover the AI in an estate, inventory it, assess it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)


class FailOn(StrEnum):
    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"


class ScanFormat(StrEnum):
    table = "table"
    json = "json"
    sarif = "sarif"
    cyclonedx = "cyclonedx"
    spdx = "spdx"


class BomFormat(StrEnum):
    cyclonedx = "cyclonedx"
    spdx = "spdx"


class ListFormat(StrEnum):
    table = "table"
    json = "json"


class FindingsFormat(StrEnum):
    table = "table"
    json = "json"
    sarif = "sarif"


DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db", envvar="AISPM_DATABASE_URL", help="Store URL (sqlite:///file.db, postgresql://...)."
    ),
]
ScanIdOpt = Annotated[str | None, typer.Option("--scan", help="Scan id or unique prefix (default: latest).")]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
]
FailOnOpt = Annotated[
    FailOn | None, typer.Option("--fail-on", help="Exit 1 when an open finding is at or above this severity.")
]
SpecOpt = Annotated[str, typer.Option("--spec-version", help="CycloneDX version: 1.6 or 1.7.")]


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(EXIT_ERROR)


def _open_store(db: str | None) -> Store:
    from aispm.store import Store, StoreError

    try:
        return Store.open(db)
    except StoreError as exc:
        raise _fail(str(exc)) from exc


def _load(db: str | None, scan_id: str | None) -> ScanResult:
    from aispm.store import ScanNotFound, StoreError

    store = _open_store(db)
    try:
        return store.load(scan_id)
    except ScanNotFound as exc:
        raise _fail(str(exc)) from exc
    except StoreError as exc:
        raise _fail(str(exc)) from exc
    finally:
        store.close()


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise _fail(f"cannot write {output}: {exc.strerror or exc}") from exc
    err.print(f"wrote {output}")


def _render(fmt: str, result: ScanResult, spec_version: str) -> str:
    if spec_version not in ("1.6", "1.7"):
        raise _fail(f"--spec-version must be 1.6 or 1.7, not {spec_version!r}")
    options: dict[str, object] = {}
    if fmt == "cyclonedx":
        options["spec_version"] = spec_version
    elif fmt == "sarif":
        options["checks"] = _check_metadata()
    return render(fmt, result, **options)


def _check_metadata() -> dict[str, CheckMeta]:
    """Metadata of the registered checks, for rule descriptions; empty where none can be loaded."""
    from aispm.checks.base import load_checks
    from aispm.plugins import PluginError

    try:
        return {c.meta.id: c.meta for c in load_checks()}
    except PluginError:
        return {}


def _gate(findings: tuple[Finding, ...] | list[Finding], fail_on: FailOn | None) -> None:
    if fail_on is None:
        return
    threshold = Severity(fail_on.value)
    hits = [f for f in findings if f.severity.at_least(threshold)]
    if hits:
        err.print(
            f"[bold red]{len(hits)} finding(s) at or above {threshold.value}[/] (--fail-on {fail_on.value})"
        )
        raise typer.Exit(EXIT_FAIL_ON)


@app.command()
def scan(
    paths: Annotated[list[Path], typer.Argument(help="Directories or files to scan.")],
    db: DbOpt = None,
    fmt: Annotated[ScanFormat, typer.Option("--format", "-f", help="What to print.")] = ScanFormat.table,
    output: OutputOpt = None,
    report_dir: Annotated[
        Path | None, typer.Option("--report-dir", help="Also write every report format into this directory.")
    ] = None,
    fail_on: FailOnOpt = None,
    spec_version: SpecOpt = "1.6",
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Re-read every file, ignoring the cache.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or summary.")] = False,
) -> None:
    """Scan PATHS for AI assets and findings; keep the scan in the store."""
    from aispm.pipeline import ScanOptions
    from aispm.pipeline import scan as run_scan
    from aispm.store import StoreError

    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise _fail(f"no such file or directory: {', '.join(missing)}")
    store = _open_store(db)
    try:
        show_progress = not quiet and err.is_terminal
        with Progress(
            TextColumn("[bold]scanning"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
            disable=not show_progress,
        ) as progress:
            task = progress.add_task("scan", total=None)

            def on_progress(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            opts = ScanOptions(cache=None if no_cache else store, progress=on_progress)
            result = run_scan(paths, opts)
        store.save(result)
    except StoreError as exc:
        raise _fail(str(exc)) from exc
    finally:
        store.close()

    if fmt is ScanFormat.table:
        if output is not None:
            raise _fail("--output needs a file format (--format json|sarif|cyclonedx|spdx)")
        if not quiet:
            view.print_scan(out, result)
    else:
        _emit(_render(fmt.value, result, spec_version), output)
    if report_dir is not None:
        for name in FORMATS:
            _emit(_render(name, result, spec_version), report_dir / REPORT_FILES[name])
    _gate(result.findings, fail_on)


@app.command()
def inventory(
    db: DbOpt = None,
    scan_id: ScanIdOpt = None,
    kind: Annotated[
        list[AssetKind] | None, typer.Option("--kind", "-k", help="Only these asset kinds.")
    ] = None,
    fmt: Annotated[ListFormat, typer.Option("--format", "-f")] = ListFormat.table,
) -> None:
    """List the AI assets of a stored scan."""
    import json

    result = _load(db, scan_id)
    assets = [a for a in result.assets if not kind or a.kind in kind]
    if fmt is ListFormat.json:
        sys.stdout.write(json.dumps([a.to_dict() for a in assets], indent=2) + "\n")
    else:
        out.print(view.inventory_table(assets, title=f"AI inventory (scan {result.info.id[:8]})"))


@app.command()
def findings(
    db: DbOpt = None,
    scan_id: ScanIdOpt = None,
    severity: Annotated[
        Severity | None, typer.Option("--severity", "-s", help="Only findings at or above this severity.")
    ] = None,
    kind: Annotated[
        list[AssetKind] | None, typer.Option("--kind", "-k", help="Only findings on these asset kinds.")
    ] = None,
    check: Annotated[list[str] | None, typer.Option("--check", "-c", help="Only these check ids.")] = None,
    fmt: Annotated[FindingsFormat, typer.Option("--format", "-f")] = FindingsFormat.table,
    output: OutputOpt = None,
    fail_on: FailOnOpt = None,
) -> None:
    """List the findings of a stored scan, filtered."""
    import json
    from dataclasses import replace

    result = _load(db, scan_id)
    kinds = {a.id: a.kind for a in result.assets}
    selected = [
        f
        for f in result.findings
        if (severity is None or f.severity.at_least(severity))
        and (not kind or kinds.get(f.asset_id) in kind)
        and (not check or f.check_id in check)
    ]
    if fmt is FindingsFormat.json:
        _emit(json.dumps([f.to_dict() for f in selected], indent=2) + "\n", output)
    elif fmt is FindingsFormat.sarif:
        _emit(_render("sarif", replace(result, findings=tuple(selected)), "1.6"), output)
    else:
        out.print(view.findings_table(selected, title=f"Findings (scan {result.info.id[:8]})"))
    _gate(selected, fail_on)


@app.command()
def bom(
    db: DbOpt = None,
    scan_id: ScanIdOpt = None,
    fmt: Annotated[BomFormat, typer.Option("--format", "-f")] = BomFormat.cyclonedx,
    spec_version: SpecOpt = "1.6",
    output: OutputOpt = None,
) -> None:
    """Write the AI Bill of Materials of a stored scan (CycloneDX ML-BOM or SPDX 3.0.1)."""
    result = _load(db, scan_id)
    _emit(_render(fmt.value, result, spec_version), output)


@app.command()
def scans(
    db: DbOpt = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many, newest first.")] = 20,
    fmt: Annotated[ListFormat, typer.Option("--format", "-f")] = ListFormat.table,
) -> None:
    """Scan history."""
    import json
    from dataclasses import asdict

    from aispm.store import StoreError

    store = _open_store(db)
    try:
        history = store.scans(limit)
    except StoreError as exc:
        raise _fail(str(exc)) from exc
    finally:
        store.close()
    if fmt is ListFormat.json:
        sys.stdout.write(json.dumps([asdict(s) for s in history], indent=2) + "\n")
    else:
        out.print(view.scans_table(history))


@app.command()
def checks() -> None:
    """List the registered checks with their severity and framework mappings."""
    from rich.table import Table

    from aispm.checks.base import load_checks

    table = Table(title="Checks", title_justify="left")
    for col in ("id", "severity", "title", "reads", "frameworks"):
        table.add_column(col, overflow="fold")
    for c in load_checks():
        m = c.meta
        table.add_row(
            m.id,
            m.severity.value,
            m.title,
            ", ".join(k.value for k in m.asset_kinds),
            "\n".join(m.frameworks),
        )
    out.print(table)


def _version(value: bool) -> None:
    if value:
        out.print(f"aispm {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """AI Security Posture Management."""


def main() -> None:
    """Console-script entry point. Usage errors exit 2 (click's own); so does anything unexpected,
    so that 1 always means "a finding tripped --fail-on"."""
    try:
        app()
    except (SystemExit, KeyboardInterrupt):
        raise
    except Exception as exc:
        err.print(f"[bold red]error:[/] {type(exc).__name__}: {exc}")
        sys.exit(EXIT_ERROR)
