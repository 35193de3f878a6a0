"""AISPM-CRED-001: which credentials fail, how severe, and that findings carry no clear secret.

Key-shaped values are generated at run time (see tests/analysis/test_secrets.py for why).
"""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

import pytest

from aispm.analysis.secrets import find_secrets
from aispm.assets import sdk_usage_asset
from aispm.checks.base import NotAssessable
from aispm.checks.credentials import HardcodedAiCredential
from aispm.collectors.base import scope_of
from aispm.collectors.credentials import credential_observations
from aispm.inventory import Inventory, merge_assets
from aispm.model import Asset, AssetKind, Location, Relation, ScanResult, Severity
from aispm.pipeline import ScanOptions, scan

ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "_-"
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
CHECK = HardcodedAiCredential()


def _r(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def openai_key(seed: int = 1) -> str:
    rng = random.Random(seed)
    return "sk-proj-" + _r(rng, URLSAFE, 74) + "T3BlbkFJ" + _r(rng, URLSAFE, 74)


def aws_key_id(seed: int = 3) -> str:
    return "AKIA" + _r(random.Random(seed), BASE32, 16)


def _inventory(path: str, text: str, *extra: Asset) -> Inventory:
    assets: list[Asset] = list(extra)
    relations: list[Relation] = []
    for obs in credential_observations(path, scope_of(path), find_secrets(text)):
        if isinstance(obs, Asset):
            assets.append(obs)
        elif isinstance(obs, Relation):
            relations.append(obs)
    return Inventory(merge_assets(assets), relations)


def _evaluate(inv: Inventory) -> list[tuple[str, Severity, str]]:
    out = []
    for a in inv.of_kind(AssetKind.CREDENTIAL):
        for f in CHECK.evaluate(a, inv):
            out.append((a.properties["rule"], f.severity, f.message))
    return out


@pytest.mark.parametrize(
    ("path", "severity"),
    [
        ("svc/.env", Severity.CRITICAL),
        ("svc/app.py", Severity.CRITICAL),
        ("svc/.env.example", Severity.HIGH),
        ("README.md", Severity.HIGH),
        ("tests/test_client.py", Severity.HIGH),
        ("examples/chat.py", Severity.HIGH),
        ("docs/setup.md", Severity.HIGH),
        ("node_modules/pkg/index.js", Severity.MEDIUM),
    ],
)
def test_severity_follows_scope(path: str, severity: Severity) -> None:
    inv = _inventory(path, f"OPENAI_API_KEY={openai_key()}\n")
    assert [s for _, s, _ in _evaluate(inv)] == [severity]


def test_keyword_gated_shapes_are_one_level_lower() -> None:
    value = _r(random.Random(4), ALNUM, 32)
    inv = _inventory("svc/.env", f"MISTRAL_API_KEY={value}\n")
    assert [(rule, s) for rule, s, _ in _evaluate(inv)] == [("mistral-api-key", Severity.HIGH)]


def test_message_names_provider_place_and_redacted_value_only() -> None:
    key = openai_key()
    inv = _inventory("svc/.env", f"\nOPENAI_API_KEY={key}\n")
    cred = next(inv.of_kind(AssetKind.CREDENTIAL))
    [finding] = list(CHECK.evaluate(cred, inv))
    assert finding.message.startswith("OpenAI API key sk-proj-… (sha256:")
    assert "svc/.env line 2" in finding.message
    assert finding.location == Location("svc/.env", 2)
    assert finding.evidence["redacted"] == "sk-proj-…" and finding.evidence["provider"] == "openai"
    assert finding.check_id == "AISPM-CRED-001"
    assert "owasp-llm@2025#LLM02" in finding.frameworks
    assert "revoke" in finding.remediation.lower() and "secret manager" in finding.remediation
    assert key not in json.dumps(finding.to_dict())


def test_aws_key_outside_ai_code_passes() -> None:
    inv = _inventory("infra/s3.py", f"import boto3\nKEY = '{aws_key_id()}'\n")
    assert _evaluate(inv) == []


def test_aws_key_in_a_file_that_uses_ai_fails() -> None:
    path = "svc/rag.py"
    usage = sdk_usage_asset("openai", path, Location(path, 1), scope_of(path))
    inv = _inventory(path, f"import openai\nKEY = '{aws_key_id()}'\n", usage)
    [(rule, severity, message)] = _evaluate(inv)
    assert rule == "aws-access-key-id" and severity is Severity.CRITICAL
    assert "in a file that uses AI" in message


def test_aws_key_next_to_bedrock_fails() -> None:
    inv = _inventory("svc/llm.py", f"br = boto3.client('bedrock-runtime')\nKEY = '{aws_key_id()}'\n")
    [(_, _, message)] = _evaluate(inv)
    assert "next to bedrock AI usage" in message


def test_google_key_only_in_ai_context() -> None:
    key = "AIza" + _r(random.Random(5), URLSAFE, 35)
    assert _evaluate(_inventory("web/firebase.js", f'const cfg = {{ apiKey: "{key}" }};\n')) == []
    assert len(_evaluate(_inventory("svc/gemini.py", f'genai.configure(api_key="{key}")\n'))) == 1


def test_credentials_without_rule_evidence() -> None:
    inv = Inventory([], [])
    reference = Asset.create(
        AssetKind.CREDENTIAL, "OPENAI_API_KEY", key=("ref",), properties={"hardcoded": False}
    )
    assert list(CHECK.evaluate(reference, inv)) == []
    unknown = Asset.create(AssetKind.CREDENTIAL, "token", key=("x",), properties={})
    with pytest.raises(NotAssessable):
        list(CHECK.evaluate(unknown, inv))


def _full_scan(root: Path) -> ScanResult:
    return scan([root], ScanOptions(collectors=["credentials"], checks=["AISPM-CRED-001"]))


def test_end_to_end_findings_and_no_clear_secret_anywhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = {
        "openai": openai_key(31),
        "hf": "hf_" + _r(random.Random(32), string.ascii_letters, 34),
        "aws": aws_key_id(33),
        "anthropic": "sk-ant-api03-" + _r(random.Random(34), URLSAFE, 93) + "AA",
    }
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / ".env").write_text(
        f"OPENAI_API_KEY={keys['openai']}\nAWS_ACCESS_KEY_ID={keys['aws']}\n"
    )
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "hub.py").write_text(f"login(token='{keys['hf']}')\n")
    (tmp_path / "notes.md").write_text(f"Use `{keys['anthropic']}` for the demo.\n")
    result = _full_scan(tmp_path)
    got = sorted((f.location.path if f.location else "", f.severity.value) for f in result.findings)
    assert got == [
        ("examples/hub.py", "high"),
        ("notes.md", "critical"),
        ("svc/.env", "critical"),
        ("svc/.env", "critical"),
    ]
    assert result.check_runs[0].failed == 4 and result.check_runs[0].not_assessed == 0
    print(*(f.message for f in result.findings), sep="\n")
    dumped = json.dumps(
        {
            "assets": [a.to_dict() for a in result.assets],
            "relations": [r.to_dict() for r in result.relations],
            "findings": [f.to_dict() for f in result.findings],
            "errors": [e.to_dict() for e in result.errors],
        }
    )
    printed = capsys.readouterr().out
    assert "sk-ant-api03-…" in printed
    for k in keys.values():
        assert k not in dumped and k not in printed
        assert k[6:28] not in dumped and k[6:28] not in printed


def test_findings_are_stable_across_scans(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"OPENAI_API_KEY={openai_key()}\n")
    first = {f.fingerprint for f in _full_scan(tmp_path).findings}
    second = {f.fingerprint for f in _full_scan(tmp_path).findings}
    assert first == second and len(first) == 1
