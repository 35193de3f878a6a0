"""The command line, end to end against a real SQLite store: exit codes, outputs, history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from aispm import cli
from aispm.cli import app

runner = CliRunner()

FAKE_KEY = "sk-proj-" + "Q7fLm2Rx9KpV4sTz8WnB3cYd" + "T3BlbkFJ" + "h6JqX1uE5oA0iG7rN2mP4kLs"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "app").mkdir(parents=True)
    (root / "app" / "chat.py").write_text(
        "from openai import OpenAI\n"
        "client = OpenAI()\n"
        'resp = client.chat.completions.create(model="gpt-4o", messages=[])\n'
    )
    (root / "app" / "train.py").write_text(
        "from transformers import AutoModel\n"
        'm = AutoModel.from_pretrained("acme-research/tiny-bert",\n'
        '                              revision="0123456789abcdef0123456789abcdef01234567")\n'
    )
    (root / "app" / "settings.py").write_text(f'OPENAI_API_KEY = "{FAKE_KEY}"\n')
    return root


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables wrap at the terminal width; a wide console keeps names on one line for assertions."""
    monkeypatch.setattr(cli, "out", Console(width=250))


def _invoke(*args: str) -> tuple[int, str]:
    res = runner.invoke(app, list(args), catch_exceptions=False)
    return res.exit_code, res.output


def test_scan_prints_inventory_and_keeps_history(repo: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'h.db'}"
    code, out = _invoke("scan", str(repo), "--db", db)
    assert code == 0, out
    assert "gpt-4o" in out and "acme-research/tiny-bert" in out
    assert FAKE_KEY not in out
    code, _ = _invoke("scan", str(repo), "--db", db)
    code, out = _invoke("scans", "--db", db, "--format", "json")
    history = json.loads(out)
    assert len(history) == 2 and history[0]["assets"] == history[1]["assets"]


def test_fail_on_gates_and_errors_exit_2(repo: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'h.db'}"
    code, _ = _invoke("scan", str(repo), "--db", db, "--fail-on", "high", "-q")
    assert code == 1
    code, _ = _invoke("scan", str(repo / "app" / "chat.py"), "--db", db, "--fail-on", "low", "-q")
    assert code == 0
    code, _ = _invoke("scan", str(tmp_path / "nope"), "--db", db)
    assert code == 2
    code, _ = _invoke("inventory", "--db", db, "--scan", "doesnotexist")
    assert code == 2


def test_report_dir_and_formats(repo: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'h.db'}"
    reports = tmp_path / "reports"
    code, out = _invoke("scan", str(repo), "--db", db, "--report-dir", str(reports), "-q")
    assert code == 0, out
    names = sorted(p.name for p in reports.iterdir())
    assert names == ["aibom.cdx.json", "aibom.spdx.json", "aispm-scan.json", "aispm.sarif"]
    for p in reports.iterdir():
        text = p.read_text()
        json.loads(text)
        assert FAKE_KEY not in text
    code, out = _invoke("bom", "--db", db, "--spec-version", "1.7")
    assert code == 0 and json.loads(out)["specVersion"] == "1.7"
    code, out = _invoke("bom", "--db", db, "--format", "spdx")
    assert code == 0 and "@context" in json.loads(out)


def test_inventory_and_findings_filters(repo: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'h.db'}"
    _invoke("scan", str(repo), "--db", db, "-q")
    code, out = _invoke("inventory", "--db", db, "--kind", "model", "--format", "json")
    assert code == 0
    models = json.loads(out)
    assert {m["name"] for m in models} == {"gpt-4o", "acme-research/tiny-bert"}
    assert {m["kind"] for m in models} == {"model"}
    code, out = _invoke("findings", "--db", db, "--format", "json", "--check", "AISPM-CRED-001")
    found = json.loads(out)
    assert found and {f["check_id"] for f in found} == {"AISPM-CRED-001"}
    code, out = _invoke("findings", "--db", db, "--format", "json", "--kind", "model")
    assert json.loads(out) == []
    code, out = _invoke("findings", "--db", db, "--format", "sarif")
    assert json.loads(out)["version"] == "2.1.0"
    code, _ = _invoke("findings", "--db", db, "--severity", "high", "--fail-on", "high")
    assert code == 1


def test_the_store_never_holds_a_secret_in_clear(repo: Path, tmp_path: Path) -> None:
    db_file = tmp_path / "h.db"
    _invoke("scan", str(repo), "--db", f"sqlite:///{db_file}", "-q")
    blob = b"".join(p.read_bytes() for p in tmp_path.glob("h.db*"))
    assert FAKE_KEY.encode() not in blob
    assert FAKE_KEY[8:30].encode() not in blob
