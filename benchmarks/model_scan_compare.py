"""Compare aispm's model-file safety verdicts with modelscan, picklescan, fickling and modelaudit.

Runs every tool on the corpus that ``make_model_corpus.py`` wrote (``benchmarks/.work/model-corpus``)
in one run, on one machine, and prints three Markdown tables:

1. **Detection** per technique, side by side: each malicious technique (raw, then in containers)
   and each benign twin, with the cell ``caught`` (high/critical), ``warn`` (suspicious, warning,
   medium, unscannable), ``missed`` (clean), ``error`` (the tool failed on the file) or ``skipped``
   (the tool did not look at it). Totals: malicious caught, benign flagged.
2. **Speed**: the large checkpoints one file per invocation, the 500 small pickles and the whole
   corpus in one invocation each, with aispm's time as a ratio to each peer's (below 1: aispm is
   faster), and the floor: reading the bytes aispm read, and a full SHA-256 read.
3. **Memory**: peak RSS of each invocation (``wait4`` of the process tree).

Nothing asserts; it measures and prints. Usage (from the repository root, aispm installed in the
interpreter that runs this)::

    python benchmarks/make_model_corpus.py            # the corpus (once; --small skips the multi-GB file)
    python benchmarks/model_scan_compare.py run       # installs the peers on first use, runs, prints
    python benchmarks/model_scan_compare.py run --tools aispm,picklescan --parts detection
    python benchmarks/model_scan_compare.py report benchmarks/results/model-scan-<stamp>.json

Peers are installed, pinned, each in its own venv under ``benchmarks/.work/``. Every tool reads
the files statically; none loads them. modelaudit runs with telemetry off and, where ``unshare -n``
works, in a network namespace of its own with no network at all. The payloads would write canary
files into ``benchmarks/.work/model-canary/``; the run ends by checking that folder is empty.

The script's ``_driver`` command is how aispm's ``scan_model_file`` and fickling's Python API are run:
one process per batch of files, timing each file inside the process. It uses only the standard
library at import time, so any venv's interpreter can run this file.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
CORPUS = WORK / "model-corpus"
RESULTS = HERE / "results"
OUT = WORK / "model-scan-out"

#: Peer versions, pinned so that a rerun measures the same tools. modelaudit's verdicts depend on
#: what is installed beside it (it reads the installed source of referenced globals), so it gets the
#: libraries the corpus was made with: its best case on benign files. torch is the CPU build.
PEERS: dict[str, tuple[str, ...]] = {
    # picklescan imports numpy to read .npy/.npz members without declaring it; users have numpy.
    "picklescan": ("picklescan[7z]==1.0.5", "numpy"),
    "modelscan": ("modelscan[h5py]==0.8.8",),
    # fickling 0.1.12 imports typing_extensions without declaring it.
    "fickling": ("fickling[archive]==0.1.12", "typing_extensions"),
    "modelaudit": (
        "torch==2.13.0",
        "modelaudit[pytorch,joblib,h5,onnx,safetensors,sevenzip,dill,xgboost]==0.2.54",
    ),
}
TOOLS = ("aispm", "aispm-cli", "picklescan", "modelscan", "fickling", "modelaudit")
TOOL_LABEL = {
    "aispm": "aispm scan_model_file",
    "aispm-cli": "aispm CLI",
    "fickling": "fickling (API)",
}

CAUGHT, WARN, MISSED, ERROR, SKIPPED = "caught", "warn", "missed", "error", "skipped"
CELLS = (CAUGHT, WARN, MISSED, ERROR, SKIPPED)


# --------------------------------------------------------------------------------------------------
# Records


@dataclass
class FileVerdict:
    """One tool's verdict on one file."""

    cell: str
    detail: str = ""
    seconds: float | None = None
    bytes_read: int | None = None


@dataclass
class Invocation:
    """One process: its wall time, peak RSS and what it said."""

    tool: str
    label: str  # detect, startup, large:<file>, small, corpus, corpus-cached
    seconds: float
    max_rss_kib: int
    rc: int
    files: int = 0
    note: str = ""
    inner_seconds: float | None = None  # time spent scanning, measured inside the process (drivers)
    flagged: int | None = None  # files the tool put at high/critical
    verdicts: dict[str, FileVerdict] = field(default_factory=dict)


@dataclass
class RunResult:
    meta: dict[str, Any]
    invocations: list[Invocation] = field(default_factory=list)
    floor: dict[str, dict[str, float]] = field(default_factory=dict)
    canary: list[str] = field(default_factory=list)
    skipped_tools: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "meta": self.meta,
            "invocations": [asdict(i) for i in self.invocations],
            "floor": self.floor,
            "canary": self.canary,
            "skipped_tools": self.skipped_tools,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunResult:
        invs = []
        for i in data["invocations"]:
            verdicts = {k: FileVerdict(**v) for k, v in i.pop("verdicts").items()}
            invs.append(Invocation(**i, verdicts=verdicts))
        return cls(data["meta"], invs, data["floor"], data["canary"], data.get("skipped_tools", {}))


# --------------------------------------------------------------------------------------------------
# Processes


def _venv(name: str) -> Path:
    return WORK / f"venv-{name}"


def setup_peers(names: Iterable[str]) -> dict[str, str]:
    """Install each peer, pinned, in its own venv (once). Returns name -> status."""
    status: dict[str, str] = {}
    for name in names:
        if name not in PEERS:
            continue
        venv = _venv(name)
        marker = venv / ".installed"
        if marker.is_file() and marker.read_text() == "\n".join(PEERS[name]):
            status[name] = "ready"
            continue
        print(f"installing {' '.join(PEERS[name])} into {venv} ...", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        proc = subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", *PEERS[name]], capture_output=True, text=True
        )
        if proc.returncode != 0:
            status[name] = f"install failed: {proc.stderr.strip().splitlines()[-1:]}"
            continue
        marker.write_text("\n".join(PEERS[name]))
        status[name] = "ready"
    return status


def _env() -> dict[str, str]:
    env = dict(os.environ)
    for k in list(env):
        if k.endswith(("_API_KEY", "_TOKEN")) or k.startswith(
            ("OPENAI", "ANTHROPIC", "AWS_", "AZURE_", "HF_")
        ):
            del env[k]
    env.update(
        {
            "PROMPTFOO_DISABLE_TELEMETRY": "1",
            "DO_NOT_TRACK": "1",
            "HF_HUB_OFFLINE": "1",
            "NO_COLOR": "1",
            "TERM": "dumb",
            "COLUMNS": "200",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


def _no_network_prefix() -> list[str]:
    """``unshare -n`` (a network namespace with only a down loopback) where it works, else nothing."""
    exe = shutil.which("unshare")
    if exe and subprocess.run([exe, "-n", "true"], capture_output=True, check=False).returncode == 0:
        return [exe, "-n"]
    return []


def measure(cmd: Sequence[str], log: Path, timeout: float) -> tuple[int, float, int]:
    """Run ``cmd`` (output to ``log``); return (exit code, wall seconds, peak RSS KiB of its tree).
    The exit code is -9 when it ran past ``timeout`` and was killed."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            list(cmd), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=_env(),
            cwd=WORK, start_new_session=True,
        )  # fmt: skip
        killed: list[bool] = []

        def kill() -> None:
            killed.append(True)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # the group this Popen started, nothing else

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return (-9 if killed else proc.returncode), seconds, usage.ru_maxrss


def _tail(log: Path, n: int = 2) -> str:
    try:
        lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return " | ".join(ln.strip()[:160] for ln in lines[-n:])


# --------------------------------------------------------------------------------------------------
# Drivers: aispm's scan_model_file and fickling's API, one process per batch


def _driver(tool: str, list_file: str, out_file: str) -> int:
    """Scan every path listed in ``list_file``; write one JSON line per file to ``out_file``."""
    paths = [p for p in Path(list_file).read_text().splitlines() if p]
    scan: Callable[[str], dict[str, Any]]
    if tool == "aispm":
        try:
            from aispm.analysis.model_scan import scan_model_file
        except ImportError as exc:
            print(f"UNAVAILABLE: aispm.analysis.model_scan: {exc}")
            return 3

        def scan_aispm(p: str) -> dict[str, Any]:
            report = scan_model_file(Path(p))
            if report is None:
                return {"cell": MISSED, "detail": "not a model artifact", "bytes_read": 0}
            verdict = str(report.verdict)
            cell = {"malicious": CAUGHT, "suspicious": WARN, "unscannable": WARN}.get(verdict, MISSED)
            rules = sorted({i.rule for i in report.issues})
            return {
                "cell": cell,
                "detail": f"{verdict} {report.format}: {', '.join(rules[:4])}".strip(": "),
                "bytes_read": int(report.bytes_read),
            }

        scan = scan_aispm
    elif tool == "fickling":
        from fickling.analysis import Severity  # type: ignore[import-not-found]
        from fickling.loader import scan_file, scan_zip_archive  # type: ignore[import-not-found]

        def scan_fickling(p: str) -> dict[str, Any]:
            results = (
                scan_zip_archive(p, graceful=True)
                if zipfile.is_zipfile(p)
                else {p: scan_file(p, graceful=True)}
            )
            analysed = [a.severity for r in results.values() for a in r.results]
            errors = [e for r in results.values() for e in r.errors]
            worst = max(analysed, default=Severity.LIKELY_SAFE)
            if worst >= Severity.LIKELY_UNSAFE:
                cell = CAUGHT
            elif errors:
                cell = ERROR
            elif not results:
                cell = SKIPPED  # a zip without .pkl/.pickle/.bin members: nothing scanned
            else:
                cell = WARN if worst > Severity.LIKELY_SAFE else MISSED
            return {"cell": cell, "detail": f"{worst.name}{'; ' + errors[0][:100] if errors else ''}"}

        scan = scan_fickling
    else:
        print(f"unknown driver {tool}")
        return 2
    with open(out_file, "w", encoding="utf-8") as out:
        for p in paths:
            t0 = time.perf_counter()
            try:
                rec = scan(p)
            except Exception as exc:  # a tool's crash on one file is its verdict on that file
                rec = {"cell": ERROR, "detail": f"{type(exc).__name__}: {str(exc)[:120]}"}
            rec["seconds"] = time.perf_counter() - t0
            rec["path"] = p
            out.write(json.dumps(rec) + "\n")
            out.flush()
    return 0


# --------------------------------------------------------------------------------------------------
# Tools


class Tool:
    """How one tool is run on one file, on a batch of files, and on a directory."""

    name = ""
    batch = False  #: one invocation can take a list of files (else one invocation per file)

    def __init__(self, corpus: Path, timeout: float) -> None:
        self.corpus = corpus
        self.timeout = timeout
        self.out = OUT / self.name
        self.out.mkdir(parents=True, exist_ok=True)

    def rel(self, path: str | Path) -> str:
        p = Path(path)
        try:
            return p.resolve().relative_to(self.corpus.resolve()).as_posix()
        except ValueError:
            return str(path)

    def available(self) -> str | None:
        """None when the tool can run; else why not."""
        return None

    def run(self, label: str, targets: Sequence[Path]) -> Invocation:
        """One invocation on ``targets`` (files, or one directory)."""
        raise NotImplementedError

    def detect(self, files: Sequence[Path]) -> list[Invocation]:
        """Verdicts on ``files``: one batch invocation, or one invocation per file."""
        if self.batch:
            return [self.run("detect", files)]
        invs = []
        for f in files:
            inv = self.run("detect", [f])
            invs.append(inv)
        return invs


class DriverTool(Tool):
    """aispm's scan_model_file or fickling's API, in one process over a list of files."""

    batch = True
    python: Path = Path(sys.executable)

    def run(self, label: str, targets: Sequence[Path]) -> Invocation:
        files = _expand(targets)
        stem = _stem(label)
        listing = self.out / f"{stem}.list"
        listing.write_text("\n".join(str(f) for f in files) + "\n")
        out = self.out / f"{stem}.jsonl"
        out.unlink(missing_ok=True)
        log = self.out / f"{stem}.log"
        cmd = [str(self.python), str(Path(__file__).resolve()), "_driver", self.name, str(listing), str(out)]
        rc, seconds, rss = measure(cmd, log, self.timeout)
        inv = Invocation(self.name, label, seconds, rss, rc, files=len(files))
        if out.is_file():
            for line in out.read_text().splitlines():
                rec = json.loads(line)
                inv.verdicts[self.rel(rec["path"])] = FileVerdict(
                    rec["cell"], rec.get("detail", ""), rec["seconds"], rec.get("bytes_read")
                )
        inv.inner_seconds = sum(v.seconds or 0.0 for v in inv.verdicts.values())
        inv.flagged = sum(v.cell == CAUGHT for v in inv.verdicts.values())
        if rc != 0:
            inv.note = f"exit {rc}: {_tail(log)}" if rc != -9 else f"timed out after {self.timeout:.0f}s"
        return inv


class AispmApi(DriverTool):
    name = "aispm"

    def available(self) -> str | None:
        probe = subprocess.run(
            [str(self.python), "-c", "import aispm.analysis.model_scan as m; m.scan_model_file"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode != 0:
            last = (probe.stderr.strip().splitlines() or ["?"])[-1]
            return f"aispm.analysis.model_scan.scan_model_file is not importable ({last})"
        return None


class FicklingApi(DriverTool):
    name = "fickling"
    python = _venv("fickling") / "bin" / "python"

    def available(self) -> str | None:
        return None if self.python.exists() else "not installed (run setup)"


class AispmCli(Tool):
    """``aispm scan <target> --format json``; verdicts from model assets' ``properties.safety``."""

    name = "aispm-cli"
    batch = True

    def __init__(self, corpus: Path, timeout: float) -> None:
        super().__init__(corpus, timeout)
        self.exe = Path(sys.executable).parent / "aispm"

    def available(self) -> str | None:
        return None if self.exe.exists() else f"{self.exe} not found"

    def run(self, label: str, targets: Sequence[Path], *, cached: bool = False) -> Invocation:
        stem = _stem(label)
        db = self.out / f"{stem.removesuffix('-cached')}.db"
        if not cached:
            db.unlink(missing_ok=True)
        out = self.out / f"{stem}.json"
        out.unlink(missing_ok=True)
        cmd = [str(self.exe), "scan", *map(str, targets), "--db", f"sqlite:///{db}", "--format", "json"]
        cmd += ["--output", str(out), "--quiet"] + ([] if cached else ["--no-cache"])
        rc, seconds, rss = measure(cmd, self.out / f"{stem}.log", self.timeout)
        inv = Invocation(self.name, label, seconds, rss, rc, files=len(_expand(targets)))
        if rc != 0 or not out.is_file():
            inv.note = f"exit {rc}: {_tail(self.out / f'{stem}.log')}"
            return inv
        doc = json.loads(out.read_text())
        # Asset paths are relative to the scanned target (the common parent of several targets).
        base = targets[0] if len(targets) == 1 and targets[0].is_dir() else _common_parent(targets)
        wired = False
        for asset in doc.get("assets", []):
            if asset.get("kind") != "model" or not (asset.get("location") or {}).get("path"):
                continue
            props = asset.get("properties") or {}
            safety = props.get("safety")
            verdict = (
                safety.get("verdict")
                if isinstance(safety, dict)
                else safety
                if isinstance(safety, str)
                else None
            )
            wired |= verdict is not None
            cell = {"malicious": CAUGHT, "suspicious": WARN, "unscannable": WARN, "safe": MISSED}.get(
                str(verdict), SKIPPED
            )
            rel = self.rel(base / asset["location"]["path"])
            inv.verdicts[rel] = FileVerdict(
                cell, f"{verdict or 'no safety verdict'} {props.get('format', '')}"
            )
        if not wired:
            inv.note = "no model asset carries properties.safety.verdict (not wired yet)"
            inv.verdicts = {}
        inv.flagged = sum(v.cell == CAUGHT for v in inv.verdicts.values())
        stats = doc.get("scan", {}).get("stats", {})
        inv.inner_seconds = stats.get("duration_s")
        return inv


class Picklescan(Tool):
    name = "picklescan"
    exe = _venv("picklescan") / "bin" / "picklescan"

    def available(self) -> str | None:
        return None if self.exe.exists() else "not installed (run setup)"

    def run(self, label: str, targets: Sequence[Path]) -> Invocation:
        (target,) = targets
        log = self.out / f"{_stem(label)}-{_stem(self.rel(target))}.log"
        cmd = [str(self.exe), "-p", str(target)] + ([] if target.is_dir() else ["-g"])
        rc, seconds, rss = measure(cmd, log, self.timeout)
        text = log.read_text(errors="replace")
        inv = Invocation(self.name, label, seconds, rss, rc, files=len(_expand(targets)))
        count = _count_after(text, "Dangerous globals:")
        suspicious = _count_after(text, "Suspicious globals:")
        scanned = _count_after(text, "Scanned files:")
        failed = "could not parse" in text or "ERROR: parsing" in text or "Unhandled exception" in text
        if target.is_dir():
            flagged = {m.group(1) for m in re.finditer(r"^(.+?): dangerous import", text, re.M)}
            for f in flagged:
                inv.verdicts[self.rel(f)] = FileVerdict(CAUGHT)
            inv.flagged = len(flagged)
            inv.note = f"scanned {scanned} files; exit {rc}"
            return inv
        if rc == -9:
            cell, detail = ERROR, f"timed out after {self.timeout:.0f}s"
        elif count:
            cell, detail = CAUGHT, f"{count} dangerous; exit {rc}"
        elif rc == 2 or failed:
            cell, detail = ERROR, f"exit {rc}: {_first_line(text, ('could not parse', 'ERROR', 'exception'))}"
        elif suspicious:
            cell, detail = WARN, f"{suspicious} suspicious; exit {rc}"
        elif scanned == 0:
            cell, detail = SKIPPED, f"scanned 0 files; exit {rc}"
        else:
            cell, detail = MISSED, f"exit {rc}"
        inv.verdicts[self.rel(target)] = FileVerdict(cell, detail, seconds)
        inv.flagged = int(cell == CAUGHT)
        return inv


class Modelscan(Tool):
    name = "modelscan"
    exe = _venv("modelscan") / "bin" / "modelscan"

    def available(self) -> str | None:
        return None if self.exe.exists() else "not installed (run setup)"

    def run(self, label: str, targets: Sequence[Path]) -> Invocation:
        (target,) = targets
        stem = f"{_stem(label)}-{_stem(self.rel(target))}"
        out = self.out / f"{stem}.json"
        out.unlink(missing_ok=True)
        log = self.out / f"{stem}.log"
        rc, seconds, rss = measure(
            [str(self.exe), "-p", str(target), "-r", "json", "-o", str(out)], log, self.timeout
        )
        inv = Invocation(self.name, label, seconds, rss, rc, files=len(_expand(targets)))
        try:
            doc = json.loads(out.read_text())
        except (OSError, ValueError):
            doc = None
        if doc is None:
            detail = (
                f"timed out after {self.timeout:.0f}s"
                if rc == -9
                else f"exit {rc}, no report: {_tail(log, 1)}"
            )
            if not target.is_dir():
                inv.verdicts[self.rel(target)] = FileVerdict(ERROR, detail, seconds)
            inv.note = detail
            return inv
        base = Path(doc["summary"].get("absolute_path") or target)
        by_file: dict[str, list[str]] = {}
        for issue in doc.get("issues", []):
            by_file.setdefault(self.rel(base / issue["source"]), []).append(str(issue.get("severity")))
        errors = {
            self.rel(base / e["source"]): str(e.get("description"))
            for e in doc.get("errors", [])
            if e.get("source")
        }
        scanned = doc["summary"].get("scanned", {}).get("total_scanned", 0)
        if target.is_dir():
            flagged = [f for f, sev in by_file.items() if {"HIGH", "CRITICAL"} & set(sev)]
            for f in flagged:
                inv.verdicts[f] = FileVerdict(CAUGHT)
            inv.flagged = len(flagged)
            inv.note = f"scanned {scanned} files, {len(errors)} errors; exit {rc}"
            return inv
        sev = {s for f, ss in by_file.items() for s in ss}
        if {"HIGH", "CRITICAL"} & sev:
            cell, detail = CAUGHT, f"{'/'.join(sorted(sev))}; exit {rc}"
        elif errors:
            cell, detail = ERROR, f"exit {rc}: {next(iter(errors.values()))[:100]}"
        elif sev:
            cell, detail = WARN, f"{'/'.join(sorted(sev))}; exit {rc}"
        elif scanned == 0:
            cell, detail = SKIPPED, f"not scanned; exit {rc}"
        else:
            cell, detail = MISSED, f"exit {rc}"
        inv.verdicts[self.rel(target)] = FileVerdict(cell, detail, seconds)
        inv.flagged = int(cell == CAUGHT)
        return inv


class Modelaudit(Tool):
    name = "modelaudit"
    batch = True
    exe = _venv("modelaudit") / "bin" / "modelaudit"

    def available(self) -> str | None:
        return None if self.exe.exists() else "not installed (run setup)"

    def run(self, label: str, targets: Sequence[Path]) -> Invocation:
        stem = _stem(label)
        out = self.out / f"{stem}.json"
        out.unlink(missing_ok=True)
        log = self.out / f"{stem}.log"
        cmd = [*_no_network_prefix(), str(self.exe), "scan", "--format", "json", "--output", str(out)]
        cmd += ["--no-cache", "--timeout", str(int(self.timeout)), *map(str, targets)]
        rc, seconds, rss = measure(cmd, log, self.timeout + 30)
        files = _expand(targets)
        inv = Invocation(self.name, label, seconds, rss, rc, files=len(files))
        try:
            doc = json.loads(out.read_text())
        except (OSError, ValueError):
            detail = (
                f"timed out after {self.timeout:.0f}s"
                if rc == -9
                else f"exit {rc}, no report: {_tail(log, 1)}"
            )
            inv.note = detail
            for f in files:
                inv.verdicts[self.rel(f)] = FileVerdict(ERROR, detail)
            return inv
        known = {str(f.resolve()): self.rel(f) for f in files}
        seen = {str(Path(a["path"]).resolve()) for a in doc.get("assets", []) if a.get("path")}
        seen |= {str(Path(p).resolve()) for p in doc.get("file_metadata", {})}
        sev: dict[str, set[str]] = {}
        first: dict[str, str] = {}
        for issue in doc.get("issues", []):
            owner = _owner(str(issue.get("location") or ""), known)
            if owner is None:
                continue
            sev.setdefault(owner, set()).add(str(issue.get("severity")))
            if issue.get("severity") in ("critical", "warning"):
                first.setdefault(
                    owner, f"{issue.get('rule_code') or ''} {str(issue.get('message'))[:90]}".strip()
                )
        for abs_path, rel in known.items():
            s = sev.get(rel, set())
            if "critical" in s:
                cell = CAUGHT
            elif "warning" in s:
                cell = WARN
            elif abs_path not in seen and not s:
                cell = SKIPPED
            else:
                cell = MISSED
            inv.verdicts[rel] = FileVerdict(cell, first.get(rel, ""))
        inv.flagged = sum(v.cell == CAUGHT for v in inv.verdicts.values())
        inv.note = f"exit {rc}; {doc.get('files_scanned')} of {len(files)} files scanned"
        if any("Scan timeout after" in str(i.get("message")) for i in doc.get("issues", [])):
            inv.rc = -9  # it stopped itself at --timeout and wrote what it had: not a finished run
            inv.note = f"stopped by its --timeout {self.timeout:.0f}s; {inv.note}"
        return inv


def _owner(location: str, known: dict[str, str]) -> str | None:
    """The corpus file an issue's location names: ``/abs/file``, then nothing or `` (pos 3)``,
    ``:member``, `` -> inner`` or `` (decompressed)``."""
    best = None
    for abs_path, rel in known.items():
        if location.startswith(abs_path):
            rest = location[len(abs_path) :]
            if (not rest or rest[0] in " :") and (best is None or len(abs_path) > len(best[0])):
                best = (abs_path, rel)
    return best[1] if best else None


TOOL_CLASSES: dict[str, type[Tool]] = {
    "aispm": AispmApi,
    "aispm-cli": AispmCli,
    "picklescan": Picklescan,
    "modelscan": Modelscan,
    "fickling": FicklingApi,
    "modelaudit": Modelaudit,
}


# --------------------------------------------------------------------------------------------------
# Helpers


def _expand(targets: Sequence[Path]) -> list[Path]:
    files: list[Path] = []
    for t in targets:
        if t.is_dir():
            files.extend(sorted(p for p in t.rglob("*") if p.is_file() and p.name != "manifest.json"))
        else:
            files.append(t)
    return files


def _common_parent(paths: Sequence[Path]) -> Path:
    return Path(os.path.commonpath([str(p.resolve()) for p in paths]))


def _stem(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", label)[:120].strip("_") or "root"


def _count_after(text: str, prefix: str) -> int:
    m = re.search(re.escape(prefix) + r"\s*(\d+)", text)
    return int(m.group(1)) if m else 0


def _first_line(text: str, needles: Sequence[str]) -> str:
    for line in text.splitlines():
        if any(n in line for n in needles):
            return line.strip()[:120]
    return ""


def floor_times(files: Sequence[Path], read: dict[str, int] | None, corpus: Path) -> dict[str, float]:
    """The floor for ``files``, in this process with the page cache as it is: seconds to SHA-256
    every byte, and (when aispm ran) seconds to read as many bytes of each file as aispm read."""
    chunk = 1 << 20
    out: dict[str, float] = {
        "files": float(len(files)),
        "bytes_total": float(sum(f.stat().st_size for f in files)),
    }
    t0 = time.perf_counter()
    for f in files:
        h = hashlib.sha256()
        with f.open("rb") as fh:
            while block := fh.read(chunk):
                h.update(block)
    out["sha256_s"] = time.perf_counter() - t0
    if read is None:
        return out
    t0 = time.perf_counter()
    total = 0
    for f in files:
        left = read.get(f.relative_to(corpus).as_posix(), f.stat().st_size)
        with f.open("rb") as fh:
            while left > 0 and (got := fh.read(min(chunk, left))):
                left -= len(got)
                total += len(got)
    out["read_aispm_bytes_s"] = time.perf_counter() - t0
    out["bytes_aispm"] = float(total)
    return out


# --------------------------------------------------------------------------------------------------
# The run


def compile_aispm() -> None:
    """Byte-compile aispm's sources once, as ``pip install`` does for the peers' packages.

    Every tool then runs with ``PYTHONDONTWRITEBYTECODE=1`` from bytecode compiled in advance; an
    editable checkout otherwise recompiles its sources in every process and loses its start-up
    to the compiler, which no installed copy does.
    """
    import aispm

    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(Path(aispm.__file__).parent)],
        check=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    )


def run_all(corpus: Path, tools: Sequence[str], parts: set[str], timeout: float) -> RunResult:
    compile_aispm()
    manifest = json.loads((corpus / "manifest.json").read_text())
    entries: dict[str, dict[str, Any]] = manifest["files"]
    canary = Path(manifest["meta"].get("canary_dir", WORK / "model-canary"))
    before = set(canary.glob("*")) if canary.is_dir() else set()
    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{os.cpu_count()} CPUs, {platform_summary()}",
        "corpus": manifest["meta"],
        "peers": {k: list(v) for k, v in PEERS.items()},
        "network": "modelaudit in `unshare -n`" if _no_network_prefix() else "no network namespace available",
        "timeout_s": timeout,
    }
    result = RunResult(meta)
    setup_peers([t for t in tools if t in PEERS])
    runners: dict[str, Tool] = {}
    for name in tools:
        tool = TOOL_CLASSES[name](corpus, timeout)
        why = tool.available()
        if why:
            print(f"skipping {name}: {why}", file=sys.stderr)
            result.skipped_tools[name] = why
        else:
            runners[name] = tool

    def log(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    detect_files = [
        corpus / rel for rel, e in entries.items() if e["group"] in ("malicious", "benign", "containers")
    ]
    large = [corpus / rel for rel, e in entries.items() if e["group"] == "large"]
    small_dir = corpus / "small"
    tiny = sorted(small_dir.glob("*dict-config*"))[:1]

    if "speed" in parts:
        log("reading the large files once (warms the page cache)")
        floor_times(large, None, corpus)

    if "detection" in parts:
        for name, tool in runners.items():
            if name == "aispm-cli":
                continue  # its verdicts come from the whole-corpus run below
            log(f"detection: {name} on {len(detect_files)} files")
            result.invocations.extend(tool.detect(detect_files))

    if "speed" in parts:
        for name, tool in runners.items():
            for f in tiny:
                log(f"startup: {name}")
                result.invocations.append(tool.run("startup", [f]))
            for f in large:
                log(f"large: {name} on {f.name}")
                result.invocations.append(tool.run(f"large:{f.name}", [f]))
            log(f"small: {name} on {small_dir.name}/ ({len(list(small_dir.iterdir()))} files)")
            small_inv = tool.run("small", [small_dir])
            result.invocations.append(small_inv)
            if small_inv.rc == -9:
                result.invocations.append(
                    Invocation(name, "corpus", float("nan"), 0, -9, note="not run: timed out on small/")
                )
                continue
            log(f"corpus: {name}")
            result.invocations.append(tool.run("corpus", [corpus]))
            if isinstance(tool, AispmCli):
                log("corpus: aispm-cli again, store warm (cached digests)")
                result.invocations.append(tool.run("corpus-cached", [corpus], cached=True))

    if "speed" in parts:
        log("floor: SHA-256 and the bytes aispm read")
        api = [i for i in result.invocations if i.tool == "aispm"]
        read = {rel: v.bytes_read for i in api for rel, v in i.verdicts.items() if v.bytes_read is not None}
        for f in large:
            result.floor[f"large:{f.name}"] = floor_times([f], read or None, corpus)
        result.floor["startup"] = floor_times(tiny, read or None, corpus)
        result.floor["small"] = floor_times(_expand([small_dir]), read or None, corpus)
        result.floor["corpus"] = floor_times(_expand([corpus]), read or None, corpus)

    after = set(canary.glob("*")) if canary.is_dir() else set()
    result.canary = sorted(str(p) for p in after - before)
    return result


def platform_summary() -> str:
    import platform

    return f"Python {platform.python_version()}, {platform.system()} {platform.release()}"


# --------------------------------------------------------------------------------------------------
# Reporting


def _fmt_s(s: float | None) -> str:
    if s is None or s != s:
        return "-"
    if s < 0.001:
        return f"{s * 1e6:.0f} µs"
    if s < 0.1:
        return f"{s * 1000:.1f} ms"
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.2f} s" if s < 100 else f"{s:.0f} s"


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or a != a or b != b or b <= 0:
        return ""
    return f" ({a / b:.2f}x)"


def detection_table(result: RunResult, manifest: dict[str, dict[str, Any]]) -> str:
    ran = [t for t in TOOLS if any(i.tool == t for i in result.invocations)]
    verdicts: dict[str, dict[str, FileVerdict]] = {t: {} for t in ran}
    for inv in result.invocations:
        if inv.tool in verdicts and (
            inv.label == "detect" or (inv.label == "corpus" and inv.tool == "aispm-cli")
        ):
            verdicts[inv.tool].update(inv.verdicts)
    tools = [t for t in ran if verdicts[t]]
    lines = ["### Detection", ""]
    for t in ran:
        if t not in tools:
            lines += [f"- {TOOL_LABEL.get(t, t)}: no per-file verdicts (see the notes above).", ""]
    lines += ["| technique | " + " | ".join(TOOL_LABEL.get(t, t) for t in tools) + " |"]
    lines.append("|---|" + "---|" * len(tools))

    def verdict(tool: str, rel: str) -> str:
        """A file a tool did not report on (the CLI lists only what it takes for a model) is skipped."""
        v = verdicts[tool].get(rel)
        return SKIPPED if v is None else v.cell

    def cell(tool: str, rel: str) -> str:
        v = verdict(tool, rel)
        if manifest[rel]["expected"] == "benign" and v == MISSED:
            return "clean"
        return f"**{v}**" if v == CAUGHT else v

    mal = [r for r, e in manifest.items() if e["group"] == "malicious"]
    for rel in sorted(mal, key=lambda r: manifest[r]["technique"]):
        lines.append(f"| {manifest[rel]['technique']} | " + " | ".join(cell(t, rel) for t in tools) + " |")
    containers = sorted({e["container"] for e in manifest.values() if e["group"] == "containers"})
    for c in containers:
        rels = [r for r, e in manifest.items() if e["container"] == c and e["expected"] == "malicious"]
        cells = []
        for t in tools:
            counts = {k: sum(1 for r in rels if verdict(t, r) == k) for k in CELLS}
            parts = [f"{counts[CAUGHT]}/{len(rels)}"] + [
                f"{k} {n}" for k, n in counts.items() if n and k != CAUGHT
            ]
            cells.append(" ".join(parts))
        lines.append(f"| in container: {c} | " + " | ".join(cells) + " |")
    lines.append(f"| *benign twins* |{' |' * len(tools)}")
    ben = [
        r for r, e in manifest.items() if e["expected"] == "benign" and e["group"] in ("benign", "containers")
    ]
    for rel in sorted(ben):
        e = manifest[rel]
        label = e["technique"] if e["group"] == "benign" else f"twin in {e['container']}"
        lines.append(f"| {label} | " + " | ".join(cell(t, rel) for t in tools) + " |")

    def total(rels: list[str], t: str, k: str) -> int:
        return sum(1 for r in rels if verdict(t, r) == k)

    def row(title: str, cells: Iterable[str]) -> None:
        lines.append(f"| {title} | {' | '.join(cells)} |")

    all_mal = [r for r, e in manifest.items() if e["expected"] == "malicious"]
    row(
        "**malicious caught (high/critical)**",
        (f"**{total(all_mal, t, CAUGHT)}/{len(all_mal)}**" for t in tools),
    )
    for k in (WARN, MISSED, ERROR, SKIPPED):
        row(f"malicious {k}", (str(total(all_mal, t, k)) for t in tools))
    row("**benign flagged (high/critical)**", (f"**{total(ben, t, CAUGHT)}/{len(ben)}**" for t in tools))
    row("benign warn", (str(total(ben, t, WARN)) for t in tools))
    row("benign error/skipped", (str(total(ben, t, ERROR) + total(ben, t, SKIPPED)) for t in tools))
    by = {(i.tool, i.label): i for i in result.invocations}
    n_small = sum(1 for e in manifest.values() if e["group"] == "small")
    small_row = []
    for t in tools:
        small_inv = by.get((t, "small"))
        flagged = None if small_inv is None else small_inv.flagged
        partial = " (partial: timed out)" if small_inv is not None and small_inv.rc == -9 else ""
        small_row.append("-" if flagged is None else f"{flagged}/{n_small}{partial}")
    row("small benign pickles flagged (one directory run)", small_row)
    large = [r for r, e in manifest.items() if e["group"] == "large"]
    large_row = []
    for t in tools:
        runs = [by[(t, f"large:{Path(r).name}")] for r in large if (t, f"large:{Path(r).name}") in by]
        large_row.append(f"{sum(i.flagged or 0 for i in runs)}/{len(runs)}" if runs else "-")
    row("large benign files flagged", large_row)
    lines.append("")
    lines.append(
        "Cells: **caught** = high/critical (picklescan: a dangerous global; modelscan: HIGH/CRITICAL; "
        "fickling: LIKELY_UNSAFE or worse; modelaudit: critical; aispm: malicious), warn = suspicious/"
        "warning/medium (aispm: suspicious or unscannable), missed = reported clean, error = the tool "
        "failed on the file, skipped = the tool did not scan it (or, for the CLI, did not list it as a "
        "model). On benign rows a clean verdict reads `clean`."
    )
    return "\n".join(lines)


SPEED_COLS = ("startup", "large", "small", "corpus", "corpus-cached")


def speed_table(result: RunResult) -> str:
    by = {(i.tool, i.label): i for i in result.invocations}
    tools = [t for t in TOOLS if any(i.tool == t for i in result.invocations)]
    labels = ["startup"]
    labels += sorted({i.label for i in result.invocations if i.label.startswith("large:")})
    labels += ["small", "corpus"]
    head = (
        "| tool | " + " | ".join(_col_name(lb, result) for lb in labels) + " | median per file (detection) |"
    )
    lines = ["### Speed", "", head, "|---|" + "---:|" * (len(labels) + 1)]
    ref = "aispm" if any(i.tool == "aispm" for i in result.invocations) else "aispm-cli"
    base = {lb: by[(ref, lb)].seconds for lb in labels if (ref, lb) in by and by[(ref, lb)].rc != -9}
    if any(("aispm", lb) in by for lb in labels):
        cells = []
        for lb in labels:
            inv = by.get(("aispm", lb))
            cells.append(_fmt_s(inv.inner_seconds) if inv else "-")
        det = [
            v.seconds
            for i in result.invocations
            if i.tool == "aispm" and i.label == "detect"
            for v in i.verdicts.values()
        ]
        med = _fmt_s(statistics.median([d for d in det if d is not None])) if det else "-"
        lines.append(f"| aispm scan_model_file, in-process scan time | {' | '.join(cells)} | {med} |")
    for t in tools:
        cells = []
        for lb in labels:
            inv = by.get((t, lb))
            if inv is None:
                cells.append("-")
                continue
            s = _fmt_s(inv.seconds) if inv.rc != -9 else f"> {_fmt_s(inv.seconds)} (timed out)"
            if inv.rc == -9 and inv.seconds != inv.seconds:
                s = "not run"
            ratio = _ratio(base.get(lb), inv.seconds) if t != ref and inv.rc != -9 else ""
            cells.append(s + ratio)
        det_invs = [i for i in result.invocations if i.tool == t and i.label == "detect"]
        if len(det_invs) > 1:
            med = _fmt_s(statistics.median(i.seconds for i in det_invs)) + " / process"
        elif det_invs and det_invs[0].files:
            inner = [v.seconds for v in det_invs[0].verdicts.values() if v.seconds is not None]
            med = (
                _fmt_s(statistics.median(inner)) + " in-process"
                if inner
                else _fmt_s(det_invs[0].seconds / det_invs[0].files) + " (batch mean)"
            )
        else:
            med = "-"
        lines.append(f"| {TOOL_LABEL.get(t, t)} (process wall) | {' | '.join(cells)} | {med} |")
        cached = by.get((t, "corpus-cached"))
        if cached:
            blanks = " | ".join("" for _ in labels[:-1])
            lines.append(f"| {TOOL_LABEL.get(t, t)}, store warm | {blanks} | {_fmt_s(cached.seconds)} | |")
    fl = result.floor
    if fl:
        rows = (
            ("floor: read the bytes aispm read", "read_aispm_bytes_s", _fmt_s),
            ("(bytes aispm read)", "bytes_aispm", _mib),
            ("floor: SHA-256 of every byte", "sha256_s", _fmt_s),
            ("(bytes in the files)", "bytes_total", _mib),
        )
        for title, key, fmt in rows:
            cells = [fmt(fl.get(lb, {}).get(key)) for lb in labels]
            lines.append(f"| {title} | {' | '.join(cells)} | |")
    lines.append("")
    lines.append(
        "Process wall time includes interpreter start-up and imports. In brackets: "
        f"{TOOL_LABEL.get(ref, ref)}'s process wall time divided by the tool's (below 1x: aispm is faster). "
        "The page cache is warm (the large files are read once before any tool runs). "
        "`startup` is one tiny pickle."
    )
    return "\n".join(lines)


def _mib(b: float | None) -> str:
    if b is None or b != b:
        return "-"
    if b < 1024:
        return f"{b:.0f} B"
    return f"{b / (1 << 20):.2f} MiB" if b >= 1 << 20 else f"{b / 1024:.1f} KiB"


def _col_name(label: str, result: RunResult | None = None) -> str:
    if label.startswith("large:"):
        return label.split(":", 1)[1]
    if label == "small" and result is not None:
        n = max((i.files for i in result.invocations if i.label == "small"), default=0)
        return f"{n} small (one invocation)"
    return {"small": "small/ (one invocation)", "corpus": "whole corpus (one invocation)"}.get(label, label)


def memory_table(result: RunResult) -> str:
    by = {(i.tool, i.label): i for i in result.invocations}
    tools = [t for t in TOOLS if any(i.tool == t for i in result.invocations)]
    labels = ["startup", *sorted({i.label for i in result.invocations if i.label.startswith("large:")})]
    labels += ["small", "corpus"]
    lines = ["### Peak memory (RSS of the process tree)", ""]
    lines.append("| tool | " + " | ".join(_col_name(lb, result) for lb in labels) + " |")
    lines.append("|---|" + "---:|" * len(labels))
    for t in tools:
        cells = []
        for lb in labels:
            inv = by.get((t, lb))
            cells.append(f"{inv.max_rss_kib / 1024:.0f} MiB" if inv and inv.max_rss_kib else "-")
        lines.append(f"| {TOOL_LABEL.get(t, t)} | {' | '.join(cells)} |")
    return "\n".join(lines)


def report(result: RunResult, manifest: dict[str, dict[str, Any]]) -> str:
    meta = result.meta
    corpus_meta = meta.get("corpus", {})
    out = [
        f"Date: {meta.get('date')}. Machine: {meta.get('machine')}. Samples: {corpus_meta.get('samples')}. "
        f"Network: {meta.get('network')}.",
        "",
    ]
    for name, why in result.skipped_tools.items():
        out.append(f"- **{name} skipped**: {why}")
    notes = {i.tool: i.note for i in result.invocations if i.label == "corpus" and i.note}
    for t, n in notes.items():
        out.append(f"- {t} whole-corpus run: {n}")
    out.append("")
    out.append(detection_table(result, manifest))
    out.append("")
    if any(i.label != "detect" for i in result.invocations):
        out.append(speed_table(result))
        out.append("")
        out.append(memory_table(result))
        out.append("")
    out.append(
        "Canary: no payload executed." if not result.canary else f"**CANARY FILES APPEARED: {result.canary}**"
    )
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] == "_driver":
        return _driver(*argv[1:4])
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("setup", help="install the peers into benchmarks/.work/venv-<peer>")
    run = sub.add_parser("run", help="run the tools on the corpus and print the tables")
    run.add_argument("--corpus", type=Path, default=CORPUS)
    run.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset of " + ", ".join(TOOLS))
    run.add_argument("--parts", default="detection,speed", help="detection, speed or both")
    run.add_argument("--timeout", type=float, default=3600, help="seconds per invocation")
    run.add_argument(
        "--json", type=Path, help="results file (default benchmarks/results/model-scan-<time>.json)"
    )
    rep = sub.add_parser("report", help="print the tables of an earlier run's results file")
    rep.add_argument("results", type=Path, nargs="+", help="one or more results files (merged in order)")
    rep.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args(argv)

    WORK.mkdir(parents=True, exist_ok=True)
    if args.command == "setup":
        for name, status in setup_peers(PEERS).items():
            print(f"{name}: {status}")
        return 0
    if args.command == "report":
        result = RunResult.from_json(json.loads(args.results[0].read_text()))
        for more in args.results[1:]:  # e.g. a slow peer run on its own
            extra = RunResult.from_json(json.loads(more.read_text()))
            result.invocations += extra.invocations
            result.skipped_tools |= extra.skipped_tools
            result.canary += extra.canary
            result.floor = result.floor or extra.floor
        manifest = json.loads((args.corpus / "manifest.json").read_text())["files"]
        print(report(result, manifest))
        return 0

    if not (args.corpus / "manifest.json").is_file():
        parser.error(f"no corpus at {args.corpus}: run python benchmarks/make_model_corpus.py first")
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = set(tools) - set(TOOLS)
    if unknown:
        parser.error(f"unknown tools: {', '.join(sorted(unknown))}")
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    result = run_all(args.corpus.resolve(), tools, parts, args.timeout)
    dest = args.json or RESULTS / f"model-scan-{time.strftime('%Y%m%dT%H%M%S')}.json"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(result.to_json(), indent=1) + "\n", encoding="utf-8")
    manifest = json.loads((args.corpus / "manifest.json").read_text())["files"]
    print(report(result, manifest))
    print(f"\nresults: {dest}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
