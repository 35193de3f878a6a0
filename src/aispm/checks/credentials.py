"""AISPM-CRED-001: an AI-provider credential is written into a file of the estate.

Reads the ``credential`` assets the credentials collector reports (already redacted). Keys of AI
providers always fail. Keys of general clouds (AWS access keys, Google API keys) fail only where
they are AI credentials: AI words sit next to them (Bedrock, SageMaker, Gemini...) or the same file
uses AI (an SDK, a model, a notebook, an MCP definition, an AI provider).

Severity follows where the key sits, because that is what decides how far it has travelled:

* production code and configuration: **critical** (the meta severity);
* tests, examples, documentation, and sample/template files (``.env.example``, README): **high**.
  A key-shaped value there is still reported: it cannot be told from a live key, and sample keys
  are copied into real configuration;
* vendored third-party code: **medium** (someone else's key, but shipped with this estate);
* keyword-gated shapes (a 32-character value next to ``MISTRAL_API_KEY``, with no fixed prefix)
  are one level lower than the above, as the match is less certain.
"""

from __future__ import annotations

from collections.abc import Iterable

from aispm.checks.base import Check, CheckMeta, NotAssessable
from aispm.inventory import Inventory
from aispm.model import JSON, Asset, AssetKind, Finding, Scope, Severity

#: Asset kinds whose presence in a file makes that file AI code.
AI_KINDS = frozenset(
    {
        AssetKind.AI_SDK_USAGE,
        AssetKind.MODEL,
        AssetKind.NOTEBOOK,
        AssetKind.MCP_SERVER,
        AssetKind.MCP_CLIENT_CONFIG,
        AssetKind.AI_PROVIDER,
        AssetKind.AGENT,
        AssetKind.INFERENCE_ENDPOINT,
    }
)

_SCOPE_SEVERITY = {
    Scope.PRODUCTION: Severity.CRITICAL,
    Scope.TEST: Severity.HIGH,
    Scope.EXAMPLE: Severity.HIGH,
    Scope.DOCS: Severity.HIGH,
    Scope.VENDORED: Severity.MEDIUM,
}
_ONE_LOWER = {
    Severity.CRITICAL: Severity.HIGH,
    Severity.HIGH: Severity.MEDIUM,
    Severity.MEDIUM: Severity.LOW,
    Severity.LOW: Severity.LOW,
    Severity.INFO: Severity.INFO,
}

_EVIDENCE_KEYS = (
    "provider",
    "rule",
    "redacted",
    "sha256",
    "length",
    "line",
    "in_env_file",
    "sample",
    "confidence",
    "ai_service",
)


class HardcodedAiCredential(Check):
    """A hardcoded AI-provider credential (or a cloud key in AI code)."""

    meta = CheckMeta(
        id="AISPM-CRED-001",
        title="Hardcoded AI provider credential",
        severity=Severity.CRITICAL,
        asset_kinds=(AssetKind.CREDENTIAL,),
        frameworks=(
            "owasp-llm@2025#LLM02",
            "owasp-asi@2026#ASI03",
            "mitre-atlas@5.6.0#AML.T0055",
            "nist-ai-rmf@1.0#MEASURE 2.7",
            "eu-ai-act@2024/1689#art-15",
        ),
        remediation=(
            "Treat the key as leaked: revoke or rotate it in the provider's console now (removing it "
            "from the file does not remove it from version-control history). Store the new key in a "
            "secret manager (cloud secret store, Vault, CI secrets) and have the code read it from the "
            "environment, e.g. os.environ['OPENAI_API_KEY']; keep only placeholders such as "
            "OPENAI_API_KEY=<set me> in committed samples, and add .env files to .gitignore."
        ),
        description=(
            "API keys of AI providers written into source, configuration, notebooks or samples give "
            "whoever reads the repository the account: its models, data, fine-tunes and bill."
        ),
        equivalents=(
            "openai-api-key",
            "anthropic-api-key",
            "anthropic-admin-api-key",
            "huggingface-access-token",
            "huggingface-organization-api-token",
            "gcp-api-key",
            "cohere-api-token",
            "perplexity-api-key",
            "aws-access-token",
        ),
    )

    def evaluate(self, asset: Asset, inventory: Inventory) -> Iterable[Finding]:
        """One finding for a hardcoded AI credential; none for a reference or a non-AI cloud key."""
        props = asset.properties
        if props.get("rule") is None:
            if props.get("hardcoded") is False:
                return []
            raise NotAssessable("credential asset carries no secret-rule evidence")
        where = _ai_reason(asset, inventory)
        if where is None:
            return []
        severity = _severity(asset)
        path = asset.location.path if asset.location else ""
        line = props.get("line")
        place = f"{path} line {line}" if line else path
        message = (
            f"{asset.name} {props.get('redacted', '…')} (sha256:{props.get('sha256', '?')}) "
            f"is hardcoded in {place}"
        )
        if where:
            message += f" {where}"
        if props.get("sample"):
            message += "; the file is a sample, but a key of this shape is treated as live"
        evidence: dict[str, JSON] = {k: props[k] for k in _EVIDENCE_KEYS if k in props}
        evidence["scope"] = asset.scope.value
        return [self.finding(asset, message + ".", evidence=evidence, severity=severity)]


def _ai_reason(asset: Asset, inventory: Inventory) -> str | None:
    """Why the credential is an AI credential ('' for AI-provider keys); None when it is not one."""
    props = asset.properties
    if not props.get("ai_gated"):
        return ""
    if props.get("ai_context"):
        service = props.get("ai_service") or props.get("provider")
        return f"next to {service} AI usage"
    paths = {o.path for o in asset.occurrences if o.path}
    for path in sorted(paths):
        if any(a.kind in AI_KINDS for a in inventory.at_path(path)):
            return "in a file that uses AI"
    return None


def _severity(asset: Asset) -> Severity:
    props = asset.properties
    severity = _SCOPE_SEVERITY[asset.scope]
    if props.get("sample") and severity is Severity.CRITICAL:
        severity = Severity.HIGH
    if props.get("confidence") == "medium":
        severity = _ONE_LOWER[severity]
    return severity
