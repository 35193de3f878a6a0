"""House rules that hold for the whole tree: ruff and mypy --strict clean, nothing unsafe in src/."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    exe = Path(sys.executable).parent / name
    found = str(exe) if exe.exists() else shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[test]')")
    return found


def test_ruff_clean() -> None:
    dirs = [d for d in ("src", "tests", "benchmarks", "fuzz") if (ROOT / d).is_dir()]
    proc = subprocess.run([_tool("ruff"), "check", *dirs], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_strict_clean() -> None:
    proc = subprocess.run([_tool("mypy")], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


UNSAFE = re.compile(
    r"\b(pickle|cPickle|dill|cloudpickle|joblib|torch|marshal)\.loads?\(|yaml\.load\((?![^)]*Safe)|yaml\.unsafe_load"
    r"|allow_pickle\s*=\s*True|(?<![\w.])(eval|exec)\(|\bload_model\(|trust_remote_code\s*=\s*True"
)


def test_nothing_in_src_loads_or_executes_scanned_content() -> None:
    hits = []
    for path in (ROOT / "src").rglob("*.py"):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if UNSAFE.search(line) and "static-only:" not in line:
                hits.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not hits, "\n".join(hits)
