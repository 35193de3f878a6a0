"""A rich, hand-built ScanResult that every output is rendered from.

It holds one of everything an output has to map: SaaS and open models (a Hugging Face model
pinned to a commit, one unpinned, an Ollama tag, a local weights file with a hash), datasets,
SDK usages, packages, providers, an inference endpoint, local and remote MCP servers, an agent,
a notebook, an MCP client config, a (redacted) credential, relations of many kinds, findings
with and without a file, and scan errors.
"""

from __future__ import annotations

import pytest

from aispm.assets import dataset_asset, model_asset, package_asset, provider_asset, sdk_usage_asset
from aispm.model import (
    Asset,
    AssetKind,
    ErrorKind,
    Finding,
    Location,
    Relation,
    RelationKind,
    ScanError,
    ScanInfo,
    ScanResult,
    Scope,
    Severity,
    fingerprint,
)

SCAN_ID = "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"
HF_COMMIT = "0E9E39F249A16976918F6564B8830BC894C89659"
#: What a redacted credential looks like in the inventory: a prefix and a hash, never the value.
REDACTED = "sk-proj-****#3f9a1c2b"
ARTIFACT_SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
CRED_CHECK = "AISPM-CRED-001"
CRED_FRAMEWORKS = ("owasp-llm@2025#LLM02", "mitre-atlas@5.6.0#AML.T0055", "nist-ai-rmf@1.0#MAP 4.1")

P = Scope.PRODUCTION


def _loc(path: str, line: int | None = None) -> Location:
    return Location(path=path, line=line)


def _with_occurrences(asset: Asset, *more: Location) -> Asset:
    from dataclasses import replace

    return replace(asset, occurrences=tuple(sorted({*asset.occurrences, *more})))


def build_rich_result() -> ScanResult:
    """Build the shared ScanResult. Deterministic: same input, same record."""
    openai = provider_asset("openai", _loc("app/rag.py", 3), P)
    anthropic = provider_asset("anthropic", _loc("agents/support.py", 2), P)

    usage_openai = sdk_usage_asset("openai", "app/rag.py", _loc("app/rag.py", 3), P, language="python")
    usage_hf = sdk_usage_asset("transformers", "train/finetune.py", _loc("train/finetune.py", 1), P)
    usage_ai = sdk_usage_asset("@ai-sdk/openai", "web/src/chat.ts", _loc("web/src/chat.ts", 1), P)

    gpt = _with_occurrences(
        model_asset(
            "gpt-4o", "openai", _loc("app/rag.py", 14), P, properties={"catalog": True, "via": "model="}
        ),
        _loc("web/src/chat.ts", 9),
        _loc(".env.example", 2),
    )
    claude = model_asset("claude-3-5-sonnet-20241022", "anthropic", _loc("agents/support.py", 20), P)
    llama = model_asset(
        "meta-llama/Llama-3.1-8B-Instruct",
        "huggingface",
        _loc("train/finetune.py", 12),
        P,
        revision=HF_COMMIT,
        properties={
            "task": "text-generation",
            "architecture": "LlamaForCausalLM",
            "architecture_family": "llama",
            "license": "llama3.1",
            "via": "from_pretrained",
        },
    )
    minilm = model_asset(
        "sentence-transformers/all-MiniLM-L6-v2",
        "huggingface",
        _loc("notebooks/explore.ipynb", 4),
        Scope.EXAMPLE,
        properties={"license": "apache-2.0", "task": "sentence-similarity"},
    )
    ollama = model_asset("llama3.2:3b", "ollama", _loc("deploy/compose.yaml", 18), P)
    weights = model_asset(
        "models/classifier.safetensors",
        "local",
        _loc("models/classifier.safetensors"),
        P,
        properties={"format": "safetensors", "sha256": ARTIFACT_SHA256, "size": 1048576, "license": "other"},
    )

    squad = dataset_asset("rajpurkar/squad", "huggingface", _loc("train/finetune.py", 20), P)
    local_data = dataset_asset("data/train.jsonl", "file", _loc("data/train.jsonl"), P, dataset_type="text")

    pkgs = [
        package_asset("pypi", "openai", "1.51.0", _loc("requirements.txt", 1), P),
        package_asset("pypi", "transformers", None, _loc("train/requirements.txt", 2), P),
        package_asset("npm", "@ai-sdk/openai", "1.0.0", _loc("web/package.json", 12), P),
    ]

    vllm = Asset.create(
        AssetKind.INFERENCE_ENDPOINT,
        "vllm",
        key=("deploy/compose.yaml", "vllm"),
        location=_loc("deploy/compose.yaml", 10),
        properties={"url": "http://user:secret@vllm:8000/v1?token=abc", "image": "vllm/vllm-openai:v0.6.3"},
    )
    mcp_local = Asset.create(
        AssetKind.MCP_SERVER,
        "filesystem",
        key=(".cursor/mcp.json", "filesystem"),
        location=_loc(".cursor/mcp.json", 3),
        properties={"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "."]},
    )
    mcp_remote = Asset.create(
        AssetKind.MCP_SERVER,
        "tickets",
        key=(".cursor/mcp.json", "tickets"),
        location=_loc(".cursor/mcp.json", 9),
        properties={"url": "https://mcp.example.com/sse", "transport": "sse"},
    )
    mcp_config = Asset.create(
        AssetKind.MCP_CLIENT_CONFIG,
        ".cursor/mcp.json",
        key=(".cursor/mcp.json",),
        location=_loc(".cursor/mcp.json"),
    )
    agent = Asset.create(
        AssetKind.AGENT,
        "support-agent",
        key=("agents/support.py", "support-agent"),
        location=_loc("agents/support.py", 18),
        properties={"framework": "langgraph"},
    )
    notebook = Asset.create(
        AssetKind.NOTEBOOK,
        "notebooks/explore.ipynb",
        key=("notebooks/explore.ipynb",),
        location=_loc("notebooks/explore.ipynb"),
        scope=Scope.EXAMPLE,
    )
    credential = Asset.create(
        AssetKind.CREDENTIAL,
        "openai-api-key",
        key=("app/settings.py", "openai"),
        location=_loc("app/settings.py", 7),
        properties={"provider": "openai", "rule": "openai-project-key", "redacted": REDACTED},
    )

    assets = [
        openai, anthropic, usage_openai, usage_hf, usage_ai, gpt, claude, llama, minilm, ollama, weights,
        squad, local_data, *pkgs, vllm, mcp_local, mcp_remote, mcp_config, agent, notebook, credential,
    ]  # fmt: skip
    R = RelationKind
    relations = [
        Relation(usage_openai.id, gpt.id, R.USES_MODEL),
        Relation(usage_openai.id, openai.id, R.CALLS_PROVIDER),
        Relation(usage_ai.id, gpt.id, R.USES_MODEL),
        Relation(gpt.id, openai.id, R.DEPENDS_ON),
        Relation(claude.id, anthropic.id, R.DEPENDS_ON),
        Relation(agent.id, claude.id, R.USES_MODEL),
        Relation(agent.id, mcp_local.id, R.HAS_TOOL),
        Relation(usage_hf.id, llama.id, R.USES_MODEL),
        Relation(usage_hf.id, local_data.id, R.READS),
        Relation(llama.id, squad.id, R.TRAINED_ON),
        Relation(llama.id, local_data.id, R.TRAINED_ON),
        Relation(vllm.id, llama.id, R.SERVES),
        Relation(notebook.id, minilm.id, R.USES_MODEL),
        Relation(notebook.id, squad.id, R.READS),
        Relation(mcp_config.id, mcp_local.id, R.CONFIGURES),
        Relation(mcp_config.id, mcp_remote.id, R.CONFIGURES),
        Relation(usage_openai.id, credential.id, R.AUTHENTICATES_WITH),
        Relation(usage_hf.id, weights.id, R.WRITES),
    ]

    cred_location = _loc("app/settings.py", 7)
    findings = [
        Finding(
            fingerprint=fingerprint(CRED_CHECK, credential.id, "app/settings.py:7"),
            check_id=CRED_CHECK,
            severity=Severity.CRITICAL,
            title="Hardcoded AI provider credential",
            message=f"OpenAI project key {REDACTED} is hardcoded in app/settings.py",
            asset_id=credential.id,
            location=cred_location,
            frameworks=CRED_FRAMEWORKS,
            remediation="Revoke the key and load it from a secret store or the environment.",
            evidence={"redacted": REDACTED},
        ),
        Finding(
            fingerprint=fingerprint("AISPM-MODEL-001", minilm.id),
            check_id="AISPM-MODEL-001",
            severity=Severity.MEDIUM,
            title="Hugging Face model not pinned to a commit",
            message="sentence-transformers/all-MiniLM-L6-v2 is loaded without revision=",
            asset_id=minilm.id,
            location=_loc("notebooks/explore.ipynb", None),
            frameworks=("owasp-llm@2025#LLM03",),
            remediation="Pass revision=<commit sha>.",
        ),
        Finding(
            fingerprint=fingerprint("AISPM-MCP-001", mcp_remote.id),
            check_id="AISPM-MCP-001",
            severity=Severity.LOW,
            title="Remote MCP server",
            message="tickets is reached over the network",
            asset_id=mcp_remote.id,
            location=Location(uri="https://mcp.example.com/sse"),
            frameworks=("owasp-asi@2026#ASI04",),
        ),
    ]
    errors = [
        ScanError("notebooks/broken.ipynb", "notebooks", ErrorKind.PARSE, "invalid JSON at line 1"),
        ScanError("models/huge.bin", "model-files", ErrorKind.LIMIT, "file over the size limit"),
        ScanError("app/odd.py", "python-code", ErrorKind.INTERNAL, "RecursionError"),
    ]
    info = ScanInfo(
        id=SCAN_ID,
        started_at="2025-06-01T12:00:00.250000+00:00",
        finished_at="2025-06-01T12:00:03.750000+00:00",
        targets=("estate",),
        tool_version="0.1.0",
        collectors=("python-code", "notebooks"),
    )
    return ScanResult(
        info=info,
        assets=tuple(sorted(assets, key=lambda a: (a.kind.value, a.name, a.id))),
        relations=tuple(sorted(set(relations))),
        findings=tuple(findings),
        errors=tuple(sorted(errors)),
    )


@pytest.fixture
def rich_result() -> ScanResult:
    return build_rich_result()


@pytest.fixture
def empty_result() -> ScanResult:
    """A scan that found nothing: every output must still be valid."""
    info = ScanInfo(
        id="00000000-0000-4000-8000-000000000000",
        started_at="2025-06-01T12:00:00+00:00",
        finished_at="2025-06-01T12:00:01+00:00",
        targets=("empty",),
        tool_version="0.1.0",
    )
    return ScanResult(info=info, assets=(), relations=(), findings=(), errors=())
