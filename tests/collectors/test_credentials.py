"""CredentialCollector: which files it reads, what it yields, and that nothing leaks in clear.

Key-shaped values are generated at run time (see tests/analysis/test_secrets.py for why).
"""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

import pytest

from aispm.collectors import credentials as cred_module
from aispm.collectors.base import CollectorError, SourceFile, observation_to_dict, scope_of
from aispm.collectors.credentials import CredentialCollector, is_env_file, is_sample_file
from aispm.model import AssetKind, ErrorKind, RelationKind, ScanResult, Scope
from aispm.pipeline import ScanOptions, scan

ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "_-"
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def _r(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def openai_key(seed: int = 1) -> str:
    rng = random.Random(seed)
    return "sk-proj-" + _r(rng, URLSAFE, 74) + "T3BlbkFJ" + _r(rng, URLSAFE, 74)


def hf_token(seed: int = 2) -> str:
    return "hf_" + _r(random.Random(seed), string.ascii_letters, 34)


def aws_key_id(seed: int = 3) -> str:
    return "AKIA" + _r(random.Random(seed), BASE32, 16)


def _scan(root: Path) -> ScanResult:
    return scan([root], ScanOptions(collectors=["credentials"], checks=[]))


def _source(tmp_path: Path, rel: str, content: bytes | str) -> SourceFile:
    p = tmp_path / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        p.write_text(content, encoding="utf-8")
    else:
        p.write_bytes(content)
    return SourceFile(p, rel, p.stat().st_size, scope_of(rel))


@pytest.mark.parametrize(
    "rel",
    [
        "app.py",
        "src/index.ts",
        ".env",
        ".env.local",
        ".env.example",
        "prod.env",
        "config.yaml",
        "config.yaml.example",
        "settings.json.dist",
        "notebook.ipynb",
        "Dockerfile",
        "Dockerfile.prod",
        "docker-compose.yml",
        "main.tf",
        "prod.tfvars",
        "README.md",
        "notes.txt",
        "deploy.sh",
        "pyproject.toml",
        ".aws/credentials",
        "scripts/entrypoint",
        "values.yaml",
        "App.java",
        "main.go",
    ],
)
def test_wants_text_files_that_can_hold_keys(tmp_path: Path, rel: str) -> None:
    assert CredentialCollector().wants(_source(tmp_path, rel, "x = 1\n"))


@pytest.mark.parametrize(
    "rel",
    [
        "model.safetensors",
        "weights.bin",
        "logo.png",
        "package-lock.json",
        "yarn.lock",
        "poetry.lock",
        "go.sum",
    ],
)
def test_does_not_want_binaries_or_lock_files(tmp_path: Path, rel: str) -> None:
    assert not CredentialCollector().wants(_source(tmp_path, rel, "x = 1\n"))


def test_does_not_want_empty_files(tmp_path: Path) -> None:
    assert not CredentialCollector().wants(_source(tmp_path, "empty.py", ""))


def test_env_and_sample_names() -> None:
    assert is_env_file(".env") and is_env_file(".env.production") and is_env_file("local.env")
    assert not is_env_file("environment.py")
    assert is_sample_file("svc/.env.example") and is_sample_file("config.sample.yaml")
    assert is_sample_file("README.md") and is_sample_file("settings.json.dist")
    assert not is_sample_file("svc/.env") and not is_sample_file("examples/app.py")


def test_credential_asset_is_redacted_and_located(tmp_path: Path) -> None:
    key = openai_key()
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / ".env").write_text(f"# service\nMODEL=gpt-4o\nOPENAI_API_KEY={key}\n")
    result = _scan(tmp_path)
    assert result.errors == ()
    creds = [a for a in result.assets if a.kind is AssetKind.CREDENTIAL]
    assert len(creds) == 1
    c = creds[0]
    assert c.name == "OpenAI API key"
    assert c.location is not None and (c.location.path, c.location.line) == ("svc/.env", 3)
    p = c.properties
    assert p["provider"] == "openai" and p["rule"] == "openai-api-key"
    assert p["redacted"] == "sk-proj-…"
    assert len(p["sha256"]) == 12 and p["length"] == len(key)
    assert p["in_env_file"] is True and p["sample"] is False
    assert c.scope is Scope.PRODUCTION


def test_provider_asset_and_authenticates_with_relation(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(f'HF = "{hf_token()}"\n')
    result = _scan(tmp_path)
    cred = next(a for a in result.assets if a.kind is AssetKind.CREDENTIAL)
    prov = next(a for a in result.assets if a.kind is AssetKind.AI_PROVIDER)
    assert prov.name == "huggingface"
    assert [(r.source, r.target, r.kind) for r in result.relations] == [
        (cred.id, prov.id, RelationKind.AUTHENTICATES_WITH)
    ]


def test_same_key_in_two_files_is_two_assets_and_twice_in_one_file_is_one(tmp_path: Path) -> None:
    key = openai_key()
    (tmp_path / ".env").write_text(f"OPENAI_API_KEY={key}\n")
    (tmp_path / "app.py").write_text(f'KEY = "{key}"\nOTHER = "{key}"\n')
    result = _scan(tmp_path)
    creds = sorted((a for a in result.assets if a.kind is AssetKind.CREDENTIAL), key=lambda a: a.id)
    assert len(creds) == 2
    assert {c.properties["sha256"] for c in creds} == {creds[0].properties["sha256"]}
    by_path = {c.location.path: c for c in creds if c.location}
    assert [o.line for o in by_path["app.py"].occurrences] == [1, 2]
    # One provider asset for the scan, seen in both files.
    providers = [a for a in result.assets if a.kind is AssetKind.AI_PROVIDER]
    assert len(providers) == 1 and {o.path for o in providers[0].occurrences} == {".env", "app.py"}


def test_scope_and_sample_flags(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_api.py").write_text(f"KEY = '{hf_token(5)}'\n")
    (tmp_path / ".env.example").write_text(f"HF_TOKEN={hf_token(6)}\n")
    result = _scan(tmp_path)
    creds = {a.location.path: a for a in result.assets if a.kind is AssetKind.CREDENTIAL and a.location}
    assert creds["tests/test_api.py"].scope is Scope.TEST
    assert creds[".env.example"].properties["sample"] is True
    assert creds[".env.example"].properties["in_env_file"] is True


def test_aws_key_without_ai_context_has_no_provider(tmp_path: Path) -> None:
    (tmp_path / "s3.py").write_text(f"import boto3\nKEY_ID = '{aws_key_id()}'\n")
    result = _scan(tmp_path)
    cred = next(a for a in result.assets if a.kind is AssetKind.CREDENTIAL)
    assert cred.properties["provider"] == "aws"
    assert cred.properties["ai_gated"] is True and cred.properties["ai_context"] is False
    assert not [a for a in result.assets if a.kind is AssetKind.AI_PROVIDER]
    assert result.relations == ()


def test_aws_key_next_to_bedrock_authenticates_with_bedrock(tmp_path: Path) -> None:
    (tmp_path / "llm.py").write_text(
        f"import boto3\nbr = boto3.client('bedrock-runtime', aws_access_key_id='{aws_key_id()}')\n"
    )
    result = _scan(tmp_path)
    cred = next(a for a in result.assets if a.kind is AssetKind.CREDENTIAL)
    assert cred.properties["ai_context"] is True and cred.properties["ai_service"] == "bedrock"
    prov = next(a for a in result.assets if a.kind is AssetKind.AI_PROVIDER)
    assert prov.name == "bedrock"
    assert result.relations[0].kind is RelationKind.AUTHENTICATES_WITH


def test_notebook_keys_have_exact_json_lines(tmp_path: Path) -> None:
    key = openai_key(9)
    nb = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Demo\n"]},
            {
                "cell_type": "code",
                "metadata": {},
                "outputs": [],
                "source": ["import openai\n", f'client = openai.OpenAI(api_key="{key}")\n'],
            },
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    text = json.dumps(nb, indent=1)
    (tmp_path / "demo.ipynb").write_text(text)
    expected_line = next(i for i, line in enumerate(text.splitlines(), 1) if key in line)
    result = _scan(tmp_path)
    cred = next(a for a in result.assets if a.kind is AssetKind.CREDENTIAL)
    assert cred.location is not None and cred.location.line == expected_line


def test_binary_files_are_skipped_without_error(tmp_path: Path) -> None:
    (tmp_path / "blob.txt").write_bytes(b"\x00\x01\x02" + hf_token().encode() + b"\x00")
    result = _scan(tmp_path)
    assert result.assets == () and result.errors == ()


def test_invalid_utf8_is_still_scanned(tmp_path: Path) -> None:
    (tmp_path / "legacy.cfg").write_bytes(b"name=caf\xe9\xff\ntoken=" + hf_token().encode() + b"\n")
    result = _scan(tmp_path)
    creds = [a for a in result.assets if a.kind is AssetKind.CREDENTIAL]
    assert len(creds) == 1 and creds[0].location is not None and creds[0].location.line == 2


def test_large_files_are_read_past_the_shared_text_limit(tmp_path: Path) -> None:
    filler = ("# " + "x" * 78 + "\n") * 60_000  # about 4.8 MB
    (tmp_path / "big.txt").write_text(filler + f"HF_TOKEN={hf_token()}\n")
    result = _scan(tmp_path)
    creds = [a for a in result.assets if a.kind is AssetKind.CREDENTIAL]
    assert len(creds) == 1 and creds[0].location is not None and creds[0].location.line == 60_001


def test_files_over_the_scan_limit_are_a_recorded_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cred_module, "MAX_TEXT_BYTES", 100)
    monkeypatch.setattr(cred_module, "MAX_SCAN_BYTES", 1000)
    (tmp_path / "huge.md").write_text("y" * 2000)
    (tmp_path / "ok.py").write_text(f"T = '{hf_token()}'\n")
    result = _scan(tmp_path)
    assert [(e.path, e.collector, e.kind) for e in result.errors] == [
        ("huge.md", "credentials", ErrorKind.LIMIT)
    ]
    assert len([a for a in result.assets if a.kind is AssetKind.CREDENTIAL]) == 1


def test_unreadable_file_raises_a_read_error(tmp_path: Path) -> None:
    gone = SourceFile(tmp_path / "missing.env", "missing.env", 10, Scope.PRODUCTION)
    with pytest.raises(CollectorError) as info:
        list(CredentialCollector().collect(gone))
    assert info.value.kind is ErrorKind.READ


def test_no_clear_secret_in_any_observation_or_result(tmp_path: Path) -> None:
    keys = [openai_key(21), hf_token(22), aws_key_id(23)]
    (tmp_path / ".env").write_text("\n".join(f"K{i}={k}" for i, k in enumerate(keys)) + "\n")
    (tmp_path / "bedrock.py").write_text(f"# bedrock\nKEY = '{keys[2]}'\n")
    result = _scan(tmp_path)
    assert len([a for a in result.assets if a.kind is AssetKind.CREDENTIAL]) == 4
    dumped = json.dumps(
        {
            "assets": [a.to_dict() for a in result.assets],
            "relations": [r.to_dict() for r in result.relations],
            "errors": [e.to_dict() for e in result.errors],
        }
    )
    collector = CredentialCollector()
    for rel in (".env", "bedrock.py"):
        f = SourceFile(tmp_path / rel, rel, (tmp_path / rel).stat().st_size, Scope.PRODUCTION)
        dumped += json.dumps([observation_to_dict(o) for o in collector.collect(f)])
        dumped += repr(list(collector.collect(f)))
    for k in keys:
        assert k not in dumped
        assert k[8:30] not in dumped
