"""Credential rules: every provider's shape, decoys that are not keys, gating, redaction.

Key-shaped values are generated at run time from a seeded random source, never written as literals:
literal sample keys in a repository trip secret-scanning push protection and other scanners.
"""

from __future__ import annotations

import random
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aispm.analysis.secrets import (
    ELLIPSIS,
    RULES,
    decoy_reason,
    find_secrets,
    redact,
    secret_digest,
    shannon_entropy,
)

ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "_-"
HEX = "0123456789abcdef"
LOWER_DIGITS = string.ascii_lowercase + string.digits
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def _r(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def make_value(rule_id: str, rng: random.Random) -> tuple[str, str]:
    """(a line holding a random key of ``rule_id``'s shape, the key itself)."""

    def r(alphabet: str, n: int) -> str:
        return _r(rng, alphabet, n)

    keys: dict[str, tuple[str, str]] = {
        "openai-api-key": ("OPENAI_API_KEY={}", "sk-proj-" + r(URLSAFE, 74) + "T3BlbkFJ" + r(URLSAFE, 74)),
        "openai-legacy-api-key": ("key = '{}'", "sk-" + r(ALNUM, 20) + "T3BlbkFJ" + r(ALNUM, 20)),
        "openai-project-key-unanchored": ('api_key="{}"', "sk-proj-" + r(URLSAFE, 48)),
        "openai-legacy-api-key-gated": ("OPENAI_API_KEY={}", "sk-" + r(ALNUM, 48)),
        "anthropic-api-key": ('ANTHROPIC_API_KEY="{}"', "sk-ant-api03-" + r(URLSAFE, 93) + "AA"),
        "anthropic-admin-api-key": ("admin: {}", "sk-ant-admin01-" + r(URLSAFE, 93) + "AA"),
        "huggingface-access-token": ("HF_TOKEN={}", "hf_" + r(string.ascii_letters, 34)),
        "huggingface-organization-api-token": ("token = '{}'", "api_org_" + r(string.ascii_letters, 34)),
        "google-api-key": ("GEMINI_API_KEY={}", "AIza" + r(URLSAFE, 35)),
        "groq-api-key": ("GROQ_API_KEY={}", "gsk_" + r(ALNUM, 52)),
        "xai-api-key": ("XAI_API_KEY={}", "xai-" + r(ALNUM + "_", 80)),
        "mistral-api-key": ("MISTRAL_API_KEY={}", r(ALNUM, 32)),
        "cohere-api-key": ('"cohere_api_key": "{}"', r(ALNUM, 40)),
        "replicate-api-token": ("REPLICATE_API_TOKEN={}", "r8_" + r(URLSAFE, 37)),
        "deepseek-api-key": ('DEEPSEEK_API_KEY = "{}"', "sk-" + r(LOWER_DIGITS, 32)),
        "perplexity-api-key": ("PPLX_API_KEY={}", "pplx-" + r(ALNUM, 48)),
        "openrouter-api-key": ("OPENROUTER_API_KEY={}", "sk-or-v1-" + r(HEX, 64)),
        "azure-openai-api-key": ("AZURE_OPENAI_API_KEY={}", r(HEX, 32)),
        "langsmith-api-key": ("LANGSMITH_API_KEY={}", "lsv2_pt_" + r(HEX, 32) + "_" + r(HEX, 10)),
        "langfuse-secret-key": (
            "LANGFUSE_SECRET_KEY={}",
            "sk-lf-" + "-".join(r(HEX, n) for n in (8, 4, 4, 4, 12)),
        ),
        "pinecone-api-key": ("PINECONE_API_KEY={}", "pcsk_" + r(ALNUM, 6) + "_" + r(ALNUM, 63)),
        "nvidia-api-key": ("NVIDIA_API_KEY={}", "nvapi-" + r(URLSAFE, 64)),
        "aws-access-key-id": ("aws_access_key_id = {}", "AKIA" + r(BASE32, 16)),
        "aws-secret-access-key": ("aws_secret_access_key = {}", r(ALNUM + "/+", 40)),
    }
    template, key = keys[rule_id]
    return template.format(key), key


RULE_IDS = [r.id for r in RULES]


def test_every_rule_has_a_sample() -> None:
    rng = random.Random(0)
    for rule_id in RULE_IDS:
        make_value(rule_id, rng)


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_each_rule_finds_its_shape_redacted(rule_id: str) -> None:
    rng = random.Random(rule_id)
    line, key = make_value(rule_id, rng)
    text = f"# settings\n\n{line}\n"
    found = list(find_secrets(text))
    assert [m.rule.id for m in found] == [rule_id]
    m = found[0]
    assert (m.line, m.column) == (3, line.index(key) + 1)
    assert m.length == len(key)
    assert m.sha256 == secret_digest(key) and len(m.sha256) == 12
    assert m.redacted.endswith(ELLIPSIS) or m.redacted.startswith(ELLIPSIS)
    shown = m.redacted.split(ELLIPSIS)[0]
    assert key.startswith(shown) and len(shown) <= 15
    assert key not in repr(m)


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_random_keys_are_found_nearly_always(rule_id: str) -> None:
    """The decoy filter must not eat real keys: 300 random keys of each shape, at most 1 missed."""
    rng = random.Random(f"recall-{rule_id}")
    missed = 0
    for _ in range(300):
        line, _key = make_value(rule_id, rng)
        if [m.rule.id for m in find_secrets(line)] != [rule_id]:
            missed += 1
    assert missed <= 1


@pytest.mark.parametrize(
    "text",
    [
        'OPENAI_API_KEY="sk-..."',
        "OPENAI_API_KEY=sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        'OPENAI_API_KEY="your-api-key-here"',
        "OPENAI_API_KEY=<OPENAI_API_KEY>",
        "OPENAI_API_KEY=${OPENAI_API_KEY}",
        'api_key = os.environ["OPENAI_API_KEY"]',
        'api_key = os.getenv("ANTHROPIC_API_KEY", "")',
        "key = 'sk-proj-" + "a" * 150 + "'",
        'key = "sk-proj-XXXX"',
        "key = 'sk-proj-" + "X" * 60 + "T3BlbkFJ" + "X" * 60 + "'",
        "HF_TOKEN=hf_abcdefghijklmnopqrstuvwxyzABCDEFGH",
        "HF_TOKEN=hf_" + "x" * 34,
        "HF_TOKEN=hf_yourHuggingFaceTokenGoesHereQwErTy",
        "hf_hub_download(repo_id='org/name')",
        "mistral_api_key = MistralApiKeyFromEnvironmentVars",
        'mistral_checksum = "9e107d9d372bb6826bd81d3542a419d6"',
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "GROQ_API_KEY=gsk_placeholder",
        "ANTHROPIC_API_KEY=sk-ant-api03-" + "A" * 95,
        "model = 'llama-3.3-70b-versatile'",
        "AIzaSyabcdefghijklmnopqrstuvwxyz1234567",
        "DEEPSEEK_API_KEY=sk-abcdefghijklmnopqrstuvwxyz012345",
        "token = 'sk-proj-PLACEHOLDERReplaceMeWithYourOwnKey0000000000000000000000'",
    ],
)
def test_placeholders_and_decoys_are_not_credentials(text: str) -> None:
    assert list(find_secrets(text)) == []


def test_fake_keys_shaped_like_real_ones_are_still_credentials() -> None:
    """FAKE/EXAMPLE/TEST inside an otherwise random body does not make a key safe to commit."""
    rng = random.Random(7)
    samples = [
        "sk-proj-FAKE" + _r(rng, URLSAFE, 70) + "T3BlbkFJ" + _r(rng, URLSAFE, 66) + "EXAMPLE",
        "sk-ant-api03-EXAMPLE" + _r(rng, URLSAFE, 86) + "AA",
        "gsk_TEST" + _r(rng, ALNUM, 48),
        "hf_FAKE" + _r(rng, string.ascii_letters, 30),
    ]
    for key in samples:
        assert len(list(find_secrets(f'KEY = "{key}"'))) == 1, key


def test_keyword_gated_shapes_need_their_provider() -> None:
    rng = random.Random(3)
    value = _r(rng, ALNUM, 32)
    assert list(find_secrets(f"API_KEY={value}")) == []
    assert [m.rule.id for m in find_secrets(f"MISTRAL_API_KEY={value}")] == ["mistral-api-key"]
    # Provider named a couple of lines above, generic name on the line.
    assert [m.rule.id for m in find_secrets(f"mistral:\n  api_key: {value}\n")] == ["mistral-api-key"]
    # The line names another provider: not a Mistral key even inside a Mistral block.
    assert list(find_secrets(f"# mistral settings\nELEVENLABS_API_KEY={value}\n")) == []
    # No secret word on the line: a 32-character id next to the word mistral is not a key.
    assert list(find_secrets(f'mistral_deployment = "{value}"')) == []


def test_cohere_key_passed_to_the_client_positionally() -> None:
    value = _r(random.Random(4), ALNUM, 40)
    found = list(find_secrets(f'co = cohere.Client("{value}")'))
    assert [m.rule.id for m in found] == ["cohere-api-key"]
    assert found[0].rule.confidence == "medium"


def test_deepseek_key_through_the_openai_sdk() -> None:
    key = "sk-" + _r(random.Random(5), LOWER_DIGITS, 32)
    text = f'client = OpenAI(api_key="{key}", base_url="https://api.deepseek.com")'
    assert [m.rule.id for m in find_secrets(text)] == ["deepseek-api-key"]
    assert list(find_secrets(f'client = OpenAI(api_key="{key}")')) == []


def test_azure_openai_key_near_its_endpoint() -> None:
    key = _r(random.Random(6), HEX, 32)
    endpoint = "https://acme.openai.azure.com/"
    text = f'client = AzureOpenAI(\n    azure_endpoint="{endpoint}",\n    api_key="{key}",\n)\n'
    found = list(find_secrets(text))
    assert [(m.rule.id, m.line) for m in found] == [("azure-openai-api-key", 3)]


def test_prefixed_rules_win_over_generic_shapes() -> None:
    rng = random.Random(8)
    key = "lsv2_pt_" + _r(rng, HEX, 32) + "_" + _r(rng, HEX, 10)
    found = list(find_secrets(f"# azure openai project\nLANGSMITH_API_KEY={key}\n"))
    assert [m.rule.id for m in found] == ["langsmith-api-key"]


def test_cloud_keys_know_whether_they_sit_in_ai_code() -> None:
    rng = random.Random(9)
    aws = "AKIA" + _r(rng, BASE32, 16)
    plain = list(find_secrets(f"import boto3\nkey = '{aws}'\n"))
    assert [(m.ai_context, m.context_provider) for m in plain] == [(False, None)]
    bedrock = list(find_secrets(f"client = boto3.client('bedrock-runtime')\nkey = '{aws}'\n"))
    assert [(m.ai_context, m.context_provider) for m in bedrock] == [(True, "bedrock")]
    sm = list(find_secrets(f"rt = boto3.client('sagemaker-runtime')\nkey = '{aws}'\n"))
    assert [m.context_provider for m in sm] == ["sagemaker"]
    google = "AIza" + _r(rng, URLSAFE, 35)
    firebase = list(find_secrets(f'const firebaseConfig = {{ apiKey: "{google}" }};'))
    assert [m.ai_context for m in firebase] == [False]
    gemini = list(find_secrets(f'genai.configure(api_key="{google}")'))
    assert [(m.ai_context, m.context_provider) for m in gemini] == [(True, "google")]


def test_lines_and_columns_are_exact_with_crlf_and_several_keys() -> None:
    rng = random.Random(10)
    hf = "hf_" + _r(rng, string.ascii_letters, 34)
    groq = "gsk_" + _r(rng, ALNUM, 52)
    text = f"a = 1\r\nb = '{hf}'\r\n\r\n\r\n    c = {{'k': '{groq}'}}\r\n"
    found = list(find_secrets(text))
    assert [(m.rule.id, m.line, m.column) for m in found] == [
        ("huggingface-access-token", 2, 6),
        ("groq-api-key", 5, 16),
    ]


def test_same_key_twice_is_two_matches_with_one_digest() -> None:
    hf = "hf_" + _r(random.Random(11), string.ascii_letters, 34)
    found = list(find_secrets(f"{hf}\n{hf}\n"))
    assert [m.line for m in found] == [1, 2]
    assert len({m.sha256 for m in found}) == 1


def test_keys_glued_to_longer_tokens_are_not_matched() -> None:
    rng = random.Random(12)
    hf = "hf_" + _r(rng, string.ascii_letters, 34)
    assert list(find_secrets(f"x{hf}")) == []
    assert list(find_secrets(f"{hf}Q")) == []
    assert list(find_secrets(f"{hf}9")) == []


def test_redact_shows_only_the_known_prefix() -> None:
    assert redact("sk-proj-", 164) == "sk-proj-…"
    assert redact("", 32) == "…(32 chars)"


def test_entropy() -> None:
    assert shannon_entropy("") == 0.0
    assert shannon_entropy("aaaa") == 0.0
    assert shannon_entropy("abcd") == 2.0


def test_decoy_reasons_name_the_cause() -> None:
    rule = next(r for r in RULES if r.id == "huggingface-access-token")
    assert decoy_reason("hf_x", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", rule) == "repeated character"
    assert decoy_reason("hf_x", "abcdefghijklmnopqrstuvwxyzABCDEFGH", rule) == "character sequence"
    assert decoy_reason("hf_x", "yourApiKeyQwErTyZxCvBnMqWeRtYuIoPa", rule) == "placeholder text"
    assert decoy_reason("hf_x", "abababababababababababababababababab", rule) == "low entropy"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_arbitrary_text_never_breaks_the_scanner(text: str) -> None:
    for m in find_secrets(text):
        assert m.line >= 1 and m.column >= 1


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=ALNUM + "_-", min_size=20, max_size=200))
def test_matches_never_reveal_the_random_part(body: str) -> None:
    text = f"OPENAI_API_KEY=sk-proj-{body}T3BlbkFJ{body[::-1]}"
    for m in find_secrets(text):
        assert m.redacted in ("sk-proj-…", "sk-…")
        assert body not in repr(m)
