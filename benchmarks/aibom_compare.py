"""Compare aispm's AI-BOM with the open AI-BOM generators on pinned open-source AI applications.

For each project (a source distribution pinned by version and digest, fetched from PyPI or npm
into ``benchmarks/.work/``) every tool writes a CycloneDX document. The script then reports, per
tool and project: the machine-learning-model components (normalised names), precision and recall
against the hand-made answer key in ``benchmarks/answer_keys/``, the junk "models" (listed),
whether the document passes the official CycloneDX JSON schema in strict mode, and wall time, with
aispm's time as a ratio to each peer's. Nothing here asserts; it measures and prints.

Usage (from the repository root, with aispm installed in the interpreter that runs this)::

    python benchmarks/aibom_compare.py setup          # fetch projects, install peers (PyPI/npm only)
    python benchmarks/aibom_compare.py run            # run every tool on every project, print tables
    python benchmarks/aibom_compare.py run --tools aispm,cdxgen --projects gpt-researcher

Peers run with their network-dependent features off (no LLM enrichment, no licence fetching, no
telemetry). cisco-aibom refuses to start without ``--llm-model``; it is given an unreachable
local endpoint, and its time includes whatever it spends discovering that.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import urllib.request
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
KEYS = HERE / "answer_keys"
PYPI_SIMPLE = "https://pypi.org/simple/{name}/"
PEP691 = "application/vnd.pypi.simple.v1+json"


@dataclass(frozen=True)
class Project:
    """A pinned artifact of an open-source AI application."""

    name: str
    version: str
    registry: str  # "pypi" or "npm"
    filename: str
    digest: str  # sha256 hex (PyPI) or the npm "integrity" (sha512-base64)

    @property
    def key(self) -> str:
        return f"{self.name}-{self.version}"

    @property
    def src(self) -> Path:
        return WORK / "src" / self.key


PROJECTS: tuple[Project, ...] = (
    Project(
        "gpt-researcher",
        "0.15.1",
        "pypi",
        "gpt_researcher-0.15.1.tar.gz",
        "ca405d398c994374697253eccfa6214c636dee84a4f0e0e5b2b2114c832fc86c",
    ),
    Project(
        "open-webui",
        "0.12.4",
        "pypi",
        "open_webui-0.12.4.tar.gz",
        "04bff683181768a4c0ab32cd7b4f208f512622fe0066b4e5df22a05a96ac4628",
    ),
)

#: Peer versions, pinned so that a rerun measures the same tools.
CDXGEN = "@cyclonedx/cdxgen@12.8.4"
AI_BOM = "ai-bom==3.6.0"
CISCO_AIBOM = "cisco-aibom[agentic,llm-openai]==1.10.0"
#: An address nothing listens on: cisco-aibom needs an LLM endpoint and must not reach a real one.
UNREACHABLE_LLM = "http://127.0.0.1:9/v1"


# --------------------------------------------------------------------------------------------------
# Fetching


def fetch(project: Project) -> Path:
    """Download and unpack ``project`` into ``.work/src/<name>-<version>`` (once; digests checked)."""
    if project.src.is_dir() and any(project.src.iterdir()):
        return project.src
    data = _download_pypi(project) if project.registry == "pypi" else _download_npm(project)
    tmp = project.src.with_suffix(".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    _unpack(project.filename, data, tmp)
    entries = list(tmp.iterdir())
    # sdists and npm tarballs hold one top folder; scan its contents so paths start at the project.
    root = entries[0] if len(entries) == 1 and entries[0].is_dir() else tmp
    shutil.rmtree(project.src, ignore_errors=True)
    root.rename(project.src)
    shutil.rmtree(tmp, ignore_errors=True)
    return project.src


def _download_pypi(project: Project) -> bytes:
    req = urllib.request.Request(PYPI_SIMPLE.format(name=project.name), headers={"Accept": PEP691})
    with urllib.request.urlopen(req, timeout=60) as resp:
        index = json.load(resp)
    files = [f for f in index["files"] if f["filename"] == project.filename]
    if not files:
        raise SystemExit(f"{project.filename} is not on PyPI")
    with urllib.request.urlopen(files[0]["url"], timeout=300) as resp:
        data: bytes = resp.read()
    if hashlib.sha256(data).hexdigest() != project.digest:
        raise SystemExit(f"{project.filename}: sha256 differs from the pinned digest")
    return data


def _download_npm(project: Project) -> bytes:
    dest = WORK / "dl"
    dest.mkdir(parents=True, exist_ok=True)
    out = subprocess.run(
        ["npm", "pack", f"{project.name}@{project.version}", "--json", "--pack-destination", str(dest)],
        check=True,
        capture_output=True,
        text=True,
    )
    info = json.loads(out.stdout)[0]
    if info["integrity"] != project.digest:
        raise SystemExit(f"{project.key}: npm integrity differs from the pinned digest")
    data = (dest / str(info["filename"])).read_bytes()
    algo, _, b64 = project.digest.partition("-")
    if base64.b64encode(hashlib.new(algo, data).digest()).decode() != b64:
        raise SystemExit(f"{project.key}: tarball does not match its integrity")
    return data


def _unpack(filename: str, data: bytes, dest: Path) -> None:
    if filename.endswith((".tar.gz", ".tgz")):
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            tar.extractall(dest, filter="data")  # "data" refuses links out, absolute paths, devices
    elif filename.endswith((".whl", ".zip")):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for member in zf.namelist():
                target = (dest / member).resolve()
                if not target.is_relative_to(dest.resolve()):
                    raise SystemExit(f"{filename}: unsafe member {member}")
            zf.extractall(dest)
    else:
        raise SystemExit(f"unknown archive type: {filename}")


# --------------------------------------------------------------------------------------------------
# Tools


@dataclass
class Run:
    tool: str
    project: str
    ok: bool
    seconds: float
    output: Path
    note: str = ""
    bom: dict[str, Any] | None = None
    #: The BOM as written, kept in memory so that scoring never rereads a file another run replaced.
    bom_text: str | None = None


def _venv_bin(name: str, exe: str) -> Path:
    return WORK / f"venv-{name}" / "bin" / exe


def setup_tools() -> dict[str, str]:
    """Install each peer in its own venv (PyPI) or node_modules (npm). Returns tool -> status."""
    status: dict[str, str] = {}
    for name, spec, exe in (("ai-bom", AI_BOM, "ai-bom"), ("cisco-aibom", CISCO_AIBOM, "cisco-aibom")):
        if not _venv_bin(name, exe).exists():
            venv = WORK / f"venv-{name}"
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
            proc = subprocess.run(
                [str(venv / "bin" / "pip"), "install", "-q", spec], capture_output=True, text=True
            )
            if proc.returncode != 0:
                status[name] = f"install failed: {proc.stderr.strip().splitlines()[-1:]}"
                continue
        status[name] = "ready"
    cdx = WORK / "cdxgen"
    if not (cdx / "node_modules" / ".bin" / "cdxgen").exists():
        cdx.mkdir(parents=True, exist_ok=True)
        if not (cdx / "package.json").exists():
            (cdx / "package.json").write_text('{"name": "bench-cdxgen", "private": true}\n')
        proc = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", CDXGEN], cwd=cdx, capture_output=True, text=True
        )
        if proc.returncode != 0:
            status["cdxgen"] = f"install failed: {proc.stderr.strip().splitlines()[-1:]}"
            return status
    status["cdxgen"] = "ready"
    return status


def _offline_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    for k in list(env):
        # No peer may find a real key and call a provider with it.
        if k.endswith(("_API_KEY", "_TOKEN")) or k.startswith(("OPENAI", "ANTHROPIC", "AWS_", "AZURE_")):
            del env[k]
    env.update(
        {
            "AI_BOM_TELEMETRY": "false",
            "DO_NOT_TRACK": "1",
            "FETCH_LICENSE": "false",
            "CDXGEN_TELEMETRY": "false",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "HF_HUB_OFFLINE": "1",
            **extra,
        }
    )
    return env


def _timed(
    cmd: Sequence[str], *, env: dict[str, str], cwd: Path | None, timeout: int
) -> tuple[int, float, str]:
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            list(cmd),
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return -9, time.perf_counter() - t0, f"timed out after {timeout}s"
    tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-3:]
    return proc.returncode, time.perf_counter() - t0, " | ".join(tail)


def run_aispm(src: Path, out: Path, timeout: int) -> tuple[int, float, str]:
    aispm = Path(sys.executable).parent / "aispm"
    db = out.with_suffix(".db")
    db.unlink(missing_ok=True)
    cmd = [str(aispm), "scan", str(src), "--db", f"sqlite:///{db}", "--format", "cyclonedx"]
    return _timed(
        [*cmd, "--output", str(out), "--quiet", "--no-cache"], env=_offline_env(), cwd=None, timeout=timeout
    )


def run_cdxgen(src: Path, out: Path, timeout: int) -> tuple[int, float, str]:
    exe = WORK / "cdxgen" / "node_modules" / ".bin" / "aibom"
    cmd = [str(exe), "--no-install-deps", "--spec-version", "1.7", "-o", str(out), str(src)]
    return _timed(cmd, env=_offline_env(), cwd=WORK, timeout=timeout)


def run_ai_bom(src: Path, out: Path, timeout: int) -> tuple[int, float, str]:
    cmd = [str(_venv_bin("ai-bom", "ai-bom")), "scan", str(src), "--format", "cyclonedx", "-o", str(out)]
    return _timed([*cmd, "--quiet", "--no-telemetry"], env=_offline_env(), cwd=WORK, timeout=timeout)


def run_cisco(src: Path, out: Path, timeout: int) -> tuple[int, float, str]:
    exe = str(_venv_bin("cisco-aibom", "cisco-aibom"))
    # cisco-aibom caches scan and enrichment results in ~/.aibom/cache; a second run of the same
    # tree would be timed from its cache, while every other tool here reads everything afresh.
    subprocess.run([exe, "cache", "clear"], env=_offline_env(), capture_output=True, check=False)
    cmd = [
        exe,
        "analyze",
        str(src),
        "--output-format",
        "cyclonedx",
        "--output-file",
        str(out),
        "--llm-model",
        "openai/gpt-4o-mini",
        "--llm-api-base",
        UNREACHABLE_LLM,
        "--llm-api-key",
        "unused",
        "--no-show-summary",
        "--no-progress",
    ]
    return _timed(cmd, env=_offline_env(), cwd=WORK, timeout=timeout)


TOOLS: dict[str, Callable[[Path, Path, int], tuple[int, float, str]]] = {
    "aispm": run_aispm,
    "cdxgen": run_cdxgen,
    "ai-bom": run_ai_bom,
    "cisco-aibom": run_cisco,
}


# --------------------------------------------------------------------------------------------------
# Scoring


def ml_models(bom: dict[str, Any]) -> list[str]:
    """Normalised names of every machine-learning-model component, nested ones included."""
    names: list[str] = []

    def walk(components: Iterable[dict[str, Any]]) -> None:
        for c in components:
            if c.get("type") == "machine-learning-model":
                names.append(normalise(c))
            walk(c.get("components") or ())

    walk(bom.get("components") or ())
    return sorted(set(names))


def normalise(component: dict[str, Any]) -> str:
    """The model id a component names: group/name for Hugging Face, else the name, lower-cased."""
    name = str(component.get("name") or "").strip()
    group = str(component.get("group") or "").strip()
    purl = str(component.get("purl") or "")
    if purl.startswith("pkg:huggingface/") and group and "/" not in name:
        name = f"{group}/{name}"
    return name.lower()


@dataclass
class Score:
    found: list[str]
    matched: list[str]
    acceptable: list[str]
    junk: list[str]
    missed: list[str]
    key_size: int

    @property
    def precision(self) -> float | None:
        """Share of reported names that are real model ids (two spellings of one id both count)."""
        return (len(self.found) - len(self.junk)) / len(self.found) if self.found else None

    @property
    def recall(self) -> float:
        return len({m for m in self.matched}) / self.key_size if self.key_size else 0.0


@dataclass
class AnswerKey:
    models: dict[str, str]  # normalised id -> id as written
    acceptable: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, project: Project) -> AnswerKey:
        data = json.loads((KEYS / f"{project.key}.json").read_text(encoding="utf-8"))
        models = {m["id"].lower(): m["id"] for m in data["models"]}
        acceptable = {a["id"].lower() for a in data.get("acceptable", ())}
        return cls(models, acceptable)

    def resolve(self, found: str) -> tuple[str, str] | None:
        """("model" | "acceptable", key id) for a found name, or None when it is junk.

        A prefixed id (gateway ``provider/model``, ``provider:model``, Google's ``models/x``) matches
        the bare id when the bare id is in the key, since tools differ in whether they keep prefixes.
        """
        candidates = [found]
        for sep in ("/", ":"):
            if sep in found:
                candidates.append(found.split(sep, 1)[1])
        for candidate in candidates:
            if candidate in self.models:
                return "model", candidate
            if candidate in self.acceptable:
                return "acceptable", candidate
        return None


def score(found: list[str], key: AnswerKey) -> Score:
    matched: list[str] = []
    acceptable: list[str] = []
    junk: list[str] = []
    for f in found:
        r = key.resolve(f)
        if r is None:
            junk.append(f)
        elif r[0] == "model":
            matched.append(r[1])
        else:
            acceptable.append(f)
    missed = sorted(key.models[m] for m in set(key.models) - set(matched))
    return Score(found, sorted(set(matched)), acceptable, junk, missed, len(key.models))


def validate(bom_text: str) -> tuple[str, int | None]:
    """(spec version, number of strict-schema errors) — errors None when the version is unknown."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    try:
        spec = str(json.loads(bom_text).get("specVersion", "?"))
    except ValueError:
        return "?", None
    versions = {"1.4": SchemaVersion.V1_4, "1.5": SchemaVersion.V1_5, "1.6": SchemaVersion.V1_6}
    versions["1.7"] = SchemaVersion.V1_7
    if spec not in versions:
        return spec, None
    errors = JsonStrictValidator(versions[spec]).validate_str(bom_text, all_errors=True)
    if errors is None:
        return spec, 0
    # The library gives an iterable of errors when all_errors=True.
    return spec, len(list(errors)) if isinstance(errors, Iterable) else 1


# --------------------------------------------------------------------------------------------------
# Reporting


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b > 0 else "n/a"


def report(runs: list[Run], projects: Sequence[Project]) -> str:
    lines: list[str] = []
    by = {(r.tool, r.project): r for r in runs}
    tools = sorted({r.tool for r in runs}, key=list(TOOLS).index)
    for project in projects:
        key = AnswerKey.load(project)
        lines.append(f"### {project.key} ({len(key.models)} models in the answer key)")
        lines.append("")
        lines.append(
            "| tool | models | matched | recall | precision | junk | schema | time | aispm time / tool |"
        )
        lines.append("|---|---:|---:|---:|---:|---:|---|---:|---:|")
        aispm_run = by.get(("aispm", project.key))
        details: list[str] = []
        for tool in tools:
            r = by.get((tool, project.key))
            if r is None:
                continue
            if r.bom is None:
                lines.append(f"| {tool} | - | - | - | - | - | no BOM: {r.note} | {r.seconds:.1f}s | - |")
                continue
            s = score(ml_models(r.bom), key)
            spec, errors = validate(r.bom_text or json.dumps(r.bom))
            schema = (
                f"{spec}: {'valid' if errors == 0 else f'{errors} errors' if errors else 'unknown version'}"
            )
            prec = f"{s.precision:.0%}" if s.precision is not None else "-"
            ratio = (
                _ratio(aispm_run.seconds, r.seconds) if aispm_run and aispm_run.ok and tool != "aispm" else ""
            )
            lines.append(
                f"| {tool} | {len(s.found)} | {len(s.matched)} | {s.recall:.0%} | {prec} | {len(s.junk)} "
                f"| {schema} | {r.seconds:.1f}s | {ratio} |"
            )
            if s.junk:
                details.append(f"- {tool} junk: {', '.join(s.junk)}")
            if s.missed:
                details.append(f"- {tool} missed: {', '.join(s.missed)}")
            if r.note and not r.ok:
                details.append(f"- {tool} exit note: {r.note}")
        lines.append("")
        lines.extend(details)
        lines.append("")
    return "\n".join(lines)


def load_runs(results: Path) -> list[Run]:
    """The runs recorded in a results file, with their BOMs read back from the outputs."""
    runs: list[Run] = []
    for r in json.loads(results.read_text(encoding="utf-8")):
        out = Path(r.get("output") or WORK / "out" / r["tool"] / f"{r['project']}.cdx.json")
        run = Run(r["tool"], r["project"], r["ok"], r["seconds"], out, r["note"])
        if r.get("models") is not None and out.is_file():
            run.bom_text = out.read_text(encoding="utf-8")
            run.bom = json.loads(run.bom_text)
        runs.append(run)
    return runs


def run_all(projects: Sequence[Project], tools: Sequence[str], timeout: int) -> list[Run]:
    """Run every tool on every project. Outputs go to a folder of this run's own, so two runs at
    once (or a later one) cannot replace the files this one scores."""
    compile_aispm()
    runs: list[Run] = []
    run_dir = WORK / "out" / time.strftime("%Y%m%dT%H%M%S")
    for project in projects:
        src = fetch(project)
        for tool in tools:
            out = run_dir / tool / f"{project.key}.cdx.json"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.unlink(missing_ok=True)
            print(f"running {tool} on {project.key} ...", file=sys.stderr, flush=True)
            rc, seconds, note = TOOLS[tool](src, out, timeout)
            run = Run(tool, project.key, rc == 0, seconds, out, note if rc != 0 else "")
            if out.is_file() and out.stat().st_size:
                try:
                    run.bom_text = out.read_text(encoding="utf-8")
                    run.bom = json.loads(run.bom_text)
                except ValueError as exc:
                    run.note = f"output is not JSON ({exc})"
            elif not run.note:
                run.note = "exited 0 without writing a BOM"
            if run.bom is None and rc != 0:
                run.note = f"exit {rc}: {note}"
            runs.append(run)
    return runs


def compile_aispm() -> None:
    """Byte-compile aispm's sources once, as ``pip install`` does, so that no timed process pays
    for compiling them (an editable checkout under ``PYTHONDONTWRITEBYTECODE`` would, every run)."""
    import aispm

    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(Path(aispm.__file__).parent)],
        check=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    )


def synthetic(files: int, seed: int) -> str:
    """Time a full aispm scan of a generated repository, then a rescan of the unchanged tree."""
    compile_aispm()
    sys.path.insert(0, str(HERE))
    from make_synthetic_repo import generate

    repo = WORK / "synthetic"
    counts = generate(repo, files, seed)
    # A file written within aispm's racy window (2 s) is always re-read, as git does for files
    # modified in the same tick as its index: let the freshly generated tree age past it.
    time.sleep(2.1)
    aispm = Path(sys.executable).parent / "aispm"
    db = WORK / "synthetic.db"
    db.unlink(missing_ok=True)
    cmd = [str(aispm), "scan", str(repo), "--db", f"sqlite:///{db}", "--format", "json", "--output"]
    times: list[float] = []
    inner: list[float] = []
    notes: list[str] = []
    for label in ("full", "rescan"):
        out = WORK / f"synthetic-{label}.json"
        rc, seconds, note = _timed([*cmd, str(out), "--quiet"], env=_offline_env(), cwd=None, timeout=600)
        times.append(seconds)
        stats = json.loads(out.read_text())["scan"].get("stats", {}) if rc == 0 and out.is_file() else {}
        inner.append(float(stats.get("duration_s", "nan")))
        errors = len(json.loads(out.read_text())["scan"].get("errors", [])) if rc == 0 else "?"
        hits = f"{stats.get('cache_hits')}/{stats.get('files_read')} files from cache"
        notes.append(f"exit {rc}: {note}" if rc else f"{hits}, {errors} scan errors")
    # The same two scans in one warm process (a monitor that rescans on a schedule): imports and
    # start-up are paid before the clock starts.
    warm = _warm_rescan(repo)
    lines = [
        f"synthetic repository: {files} files "
        f"({counts['python']} .py, {counts['typescript']} .ts, {counts['config']} config, "
        f"{counts['markdown']} .md; {counts['ai']} with AI usage), seed {seed}",
        "",
        "| run | CLI wall time | pipeline time (scan.stats.duration_s) | notes |",
        "|---|---:|---:|---|",
        f"| full scan (empty store) | {times[0]:.2f}s | {inner[0]:.2f}s | {notes[0]} |",
        f"| rescan, unchanged tree (content-hash cache) | {times[1]:.2f}s | {inner[1]:.2f}s | {notes[1]} |",
        f"| in one process: full scan (empty store) | — | {warm[0]:.3f}s | `aispm.pipeline.scan` |",
        f"| in one process: rescan, unchanged tree | — | {warm[1]:.3f}s | `aispm.pipeline.scan` |",
        f"| in one process: rescan again | — | {warm[2]:.3f}s | `aispm.pipeline.scan` |",
        "",
        f"rescan / full: {times[1] / times[0]:.0%} of CLI wall time (process start-up, store and "
        f"report writing included), {inner[1] / inner[0]:.0%} of pipeline time in a new process "
        f"(collector imports included), {warm[1] / warm[0]:.0%} and {warm[2] / warm[0]:.0%} "
        "in one warm process.",
    ]
    return "\n".join(lines)


_WARM_SCRIPT = """
import json, sys
from pathlib import Path
from aispm.pipeline import ScanOptions, scan
from aispm.store import Store
store = Store.open(sys.argv[2])
runs = [scan([Path(sys.argv[1])], ScanOptions(cache=store)).info.stats["duration_s"] for _ in range(3)]
print(json.dumps(runs))
"""


def _warm_rescan(repo: Path) -> tuple[float, float, float]:
    """A full scan and two rescans of ``repo`` in one Python process with a fresh store."""
    db = WORK / "synthetic-warm.db"
    db.unlink(missing_ok=True)
    proc = subprocess.run(
        [sys.executable, "-c", _WARM_SCRIPT, str(repo), f"sqlite:///{db}"],
        capture_output=True, text=True, env=_offline_env(), timeout=600, check=True,
    )  # fmt: skip
    full, rescan, again = json.loads(proc.stdout.strip().splitlines()[-1])
    return float(full), float(rescan), float(again)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("setup", help="fetch the projects and install the peers")
    run = sub.add_parser("run", help="run the tools and print the comparison")
    run.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset of " + ", ".join(TOOLS))
    run.add_argument("--projects", default="", help="comma-separated project names (default: all)")
    run.add_argument("--timeout", type=int, default=900, help="seconds per tool run")
    run.add_argument("--json", type=Path, help="also write the raw results here")
    rep = sub.add_parser("report", help="re-score the outputs of an earlier run (e.g. after a key changed)")
    rep.add_argument("results", type=Path, help="the --json file an earlier run wrote")
    syn = sub.add_parser("synthetic", help="time aispm on a generated repository, full scan and rescan")
    syn.add_argument("--files", type=int, default=1000)
    syn.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    WORK.mkdir(parents=True, exist_ok=True)
    if args.command == "setup":
        for p in PROJECTS:
            print(f"{p.key}: {fetch(p)}")
        for tool, status in setup_tools().items():
            print(f"{tool}: {status}")
        return 0

    if args.command == "report":
        runs = load_runs(args.results)
        names = {r.project for r in runs}
        print(report(runs, [p for p in PROJECTS if p.key in names]))
        return 0

    if args.command == "synthetic":
        print(synthetic(args.files, args.seed))
        return 0

    wanted = {p.strip() for p in args.projects.split(",") if p.strip()}
    projects = [p for p in PROJECTS if not wanted or p.name in wanted or p.key in wanted]
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = set(tools) - set(TOOLS)
    if unknown:
        parser.error(f"unknown tools: {', '.join(sorted(unknown))}")
    runs = run_all(projects, tools, args.timeout)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = [
            {
                "tool": r.tool,
                "project": r.project,
                "ok": r.ok,
                "seconds": round(r.seconds, 3),
                "note": r.note,
                "output": str(r.output),
                "models": ml_models(r.bom) if r.bom else None,
            }
            for r in runs
        ]
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    print(report(runs, projects))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
