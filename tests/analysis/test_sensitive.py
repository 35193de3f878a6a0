"""Secret-looking names and values, and their redaction."""

from __future__ import annotations

import pytest

from aispm.analysis.sensitive import is_secret_name, looks_secret, redact, redact_args, redact_url


@pytest.mark.parametrize(
    "value",
    [
        "sk-proj-abcdefghijklmnopqrstuvwxyz0123",
        "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "postgres://user:pass@db:5432/app",
        "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZg",
        "0123456789abcdef0123456789abcdef",
    ],
)
def test_secret_values(value: str) -> None:
    assert looks_secret(value)


@pytest.mark.parametrize(
    "value",
    [
        "gpt-4o",
        "claude-3-5-sonnet-20241022",
        "meta-llama/Llama-3.1-8B-Instruct",
        "anthropic.claude-3-sonnet-20240229-v1:0",
        "text-embedding-3-large",
        "https://api.openai.com/v1",
        "info",
    ],
)
def test_ordinary_values(value: str) -> None:
    assert not looks_secret(value)


def test_secret_names() -> None:
    assert all(map(is_secret_name, ["OPENAI_API_KEY", "HF_TOKEN", "db_password", "client_secret", "DSN"]))
    assert not any(map(is_secret_name, ["MODEL_ID", "LOG_LEVEL", "HOST", "PORT"]))


def test_redaction_is_stable_and_hides_the_value() -> None:
    r = redact("sk-proj-abcdefghijklmnopqrstuvwxyz")
    assert (
        r == redact("sk-proj-abcdefghijklmnopqrstuvwxyz") and "abcdefghij" not in r and r.startswith("sk-p")
    )
    assert redact("short").startswith("…")


def test_redact_args_and_urls() -> None:
    args = redact_args(
        ["--api-key", "plainvalue", "--token=abc", "--model", "gpt-4o", "sk-abcdefghijklmnopqrstu"]
    )
    assert args[0] == "--api-key" and "plainvalue" not in args[1]
    assert args[2].startswith("--token=") and "abc" not in args[2][8:12]
    assert args[3:5] == ["--model", "gpt-4o"] and "sk-abcdefghijklmnopqrstu" not in args[5]
    url = redact_url("https://u:p4ss@host/x?api_key=abc&q=1")
    assert "p4ss" not in url and "api_key=abc" not in url and "q=1" in url
