"""Model artifact checks: what the static analysers found in model files and model directories.

The ``model-files`` collector runs the analysers (pickle walker, container readers, Keras,
TensorFlow, ONNX, safetensors and GGUF readers, Hugging Face directory checks, signature
verification) and puts their issues on each ``model`` asset under ``properties.safety`` (the file),
``properties.model_dir`` (the directory it belongs to), ``properties.signature`` and
``properties.ollama`` (an Ollama manifest and the blobs it names); each issue
carries a rule id, a verdict, a severity and where in the file it was seen. These checks judge
those issues, one finding per issue, with the issue's own severity:

* AISPM-MODEL-001: loading the file runs code, or reads or writes files or the network;
* AISPM-MODEL-002: the file references code outside what real model files use;
* AISPM-MODEL-003: the file could not be proven safe (malformed, truncated, over a bound, a
  container that cannot be read): "not scanned" must never look like "clean";
* AISPM-MODEL-004: the model needs remote code (``auto_map``), or ships custom code;
* AISPM-MODEL-005: a signed model whose files no longer match its signature (or an Ollama blob
  that no longer matches the digest its manifest records);
* AISPM-MODEL-006: a model directory that ships pickle weights beside safetensors.

And one check on code: AISPM-MODEL-007, code that loads a model with remote code allowed.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator, Mapping
from typing import ClassVar

from aispm.checks.base import Check, CheckMeta, NotAssessable
from aispm.inventory import Inventory
from aispm.model import JSON, Asset, AssetKind, Finding, Location, Severity

#: Where on a model asset the analysers' issues live.
ISSUE_SOURCES = ("safety", "model_dir", "signature", "ollama")

_SUPPLY_CHAIN = (
    "owasp-llm@2025#LLM03",
    "owasp-asi@2026#ASI04",
    "mitre-atlas@5.6.0#AML.T0010.003",
    "nist-ai-rmf@1.0#MANAGE 3.1",
    "iso-42001@2023#A.10.3",
    "eu-ai-act@2024/1689#art-15",
)
_UNSAFE_ARTIFACT = (
    "owasp-llm@2025#LLM03",
    "owasp-llm@2025#LLM04",
    "owasp-asi@2026#ASI04",
    "mitre-atlas@5.6.0#AML.T0011.000",
    "mitre-atlas@5.6.0#AML.T0018.002",
    "nist-ai-rmf@1.0#MEASURE 2.7",
    "iso-42001@2023#A.10.3",
    "eu-ai-act@2024/1689#art-15",
)


def artifact_issues(asset: Asset) -> Iterator[Mapping[str, JSON]]:
    """Every analyser issue recorded on ``asset``, in a stable order."""
    for key in ISSUE_SOURCES:
        block = asset.properties.get(key)
        if not isinstance(block, Mapping):
            continue
        issues = block.get("issues")
        if isinstance(issues, list):
            yield from (i for i in issues if isinstance(i, Mapping))


def _severity(issue: Mapping[str, JSON], default: Severity) -> Severity:
    try:
        return Severity(str(issue.get("severity")))
    except ValueError:
        return default


class _IssueCheck(Check):
    """Findings for the issues on a model asset that this check owns."""

    #: Verdicts (``malicious``, ``suspicious``, ``unscannable``) this check reports.
    verdicts: ClassVar[frozenset[str]] = frozenset()
    #: Rule ids (exact, or prefixes ending with ``.``) this check reports whatever their verdict.
    rules: ClassVar[tuple[str, ...]] = ()

    def owns(self, issue: Mapping[str, JSON]) -> bool:
        rule = str(issue.get("rule", ""))
        if any(rule == r or (r.endswith(".") and rule.startswith(r)) for r in self.rules):
            return True
        return str(issue.get("verdict")) in self.verdicts and rule not in _SPECIFIC_RULES

    def evaluate(self, asset: Asset, inventory: Inventory) -> Iterable[Finding]:
        if asset.properties.get("source") != "artifact":
            return []  # a model named in code or configuration: no file here to judge
        if not any(isinstance(asset.properties.get(k), Mapping) for k in ISSUE_SOURCES):
            if asset.properties.get("lfs_pointer"):
                raise NotAssessable("Git LFS pointer: the weights are not in the tree")
            raise NotAssessable("no static analysis recorded for this artifact")
        findings: list[Finding] = []
        for issue in artifact_issues(asset):
            if not self.owns(issue):
                continue
            member = issue.get("member")
            where = f" (in {member})" if member else ""
            evidence: dict[str, JSON] = {
                k: issue[k] for k in ("rule", "verdict", "member", "offset", "detail") if k in issue
            }
            detail = issue.get("detail")
            location = self.location_of(detail) or asset.location
            findings.append(
                self.finding(
                    asset,
                    f"{issue.get('message', issue.get('rule'))}{where}",
                    discriminator=f"{issue.get('rule')}|{member or ''}|{_detail_key(detail)}",
                    location=location,
                    evidence=evidence,
                    severity=_severity(issue, self.meta.severity),
                )
            )
        return findings

    def location_of(self, detail: JSON) -> Location | None:
        """Where the issue is, when its detail names a file of the tree (``path``, ``line``)."""
        if isinstance(detail, Mapping) and isinstance(detail.get("path"), str):
            return Location(path=str(detail["path"]), line=_int(detail.get("line")))
        return None


def _int(v: JSON) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _detail_key(detail: JSON) -> str:
    """What tells two issues of one rule and member apart (the global, op, file), for fingerprints."""
    if not isinstance(detail, Mapping):
        return ""
    for k in ("global", "op", "file", "layer", "key", "location", "path"):
        if isinstance(detail.get(k), str):
            return f"{k}={detail[k]}"
    return ""


class ModelRunsCodeOnLoad(_IssueCheck):
    verdicts = frozenset({"malicious"})
    meta = CheckMeta(
        id="AISPM-MODEL-001",
        title="Model file runs code or touches files or the network when loaded",
        severity=Severity.CRITICAL,
        asset_kinds=(AssetKind.MODEL,),
        frameworks=_UNSAFE_ARTIFACT,
        remediation=(
            "Do not load this file. Treat the machine that produced or stored it as possibly "
            "compromised and find where it came from. Replace it with a copy from a trusted source "
            "in a format that cannot carry code (safetensors, GGUF, ONNX without custom ops), verify "
            "its digest or signature, and load pickle-based files only with restricted loaders "
            "(PyTorch's weights_only loading, skops) in an isolated environment."
        ),
        description=(
            "Pickle-based formats execute whatever their opcodes name, Keras Lambda layers and "
            "TensorFlow PyFunc ops run Python, GGUF chat templates are rendered by Jinja, and an "
            "ONNX external-data path can point anywhere: this file uses one of those to run code, "
            "reach files or the network when it is loaded."
        ),
        equivalents=(
            "picklescan:dangerous-import",
            "modelscan:CRITICAL",
            "fickling:OVERTLY_MALICIOUS",
            "modelaudit:pickle",
        ),
    )


class ModelImportsUnknownCode(_IssueCheck):
    verdicts = frozenset({"suspicious"})
    meta = CheckMeta(
        id="AISPM-MODEL-002",
        title="Model file references code outside what model files normally use",
        severity=Severity.MEDIUM,
        asset_kinds=(AssetKind.MODEL,),
        frameworks=_UNSAFE_ARTIFACT,
        remediation=(
            "Find out which code the file imports (named in the finding) and whether it is yours. "
            "If it is, save the model's weights alone (a state dict to safetensors) and rebuild the "
            "object in code; if it is not, do not load the file."
        ),
        description=(
            "Loading the file imports and calls code that real model files do not use: a class of "
            "the training script, a custom Keras object, a custom ONNX operator. It is not a known "
            "attack, but it is code chosen by whoever wrote the file."
        ),
        equivalents=("picklescan:suspicious", "fickling:LIKELY_UNSAFE", "modelaudit:warning"),
    )


class ModelNotScannable(_IssueCheck):
    verdicts = frozenset({"unscannable"})
    meta = CheckMeta(
        id="AISPM-MODEL-003",
        title="Model file could not be proven safe",
        severity=Severity.MEDIUM,
        asset_kinds=(AssetKind.MODEL,),
        frameworks=_UNSAFE_ARTIFACT,
        remediation=(
            "Treat the file as unsafe until it is understood: it is malformed, truncated, encrypted "
            "or larger than the scanner's bounds, so a loader may read something the scanner could "
            "not. Re-export it from a trusted source, or raise the bound if the file is known."
        ),
        description="A file that could not be fully analysed is reported, never passed as clean.",
        equivalents=("modelscan:skipped", "picklescan:scan-error"),
    )


class ModelNeedsRemoteCode(_IssueCheck):
    rules = ("hf.remote-code", "hf.remote-code-external")
    meta = CheckMeta(
        id="AISPM-MODEL-004",
        title="Model needs custom code to load (trust_remote_code)",
        severity=Severity.HIGH,
        asset_kinds=(AssetKind.MODEL,),
        frameworks=_SUPPLY_CHAIN,
        remediation=(
            "Prefer a model whose architecture is built into the library. Otherwise review the "
            "custom code files named in the finding, pin the model to a reviewed commit "
            "(revision=<sha>), and vendor the code instead of loading it from the hub."
        ),
        description=(
            "The model's config maps its classes (auto_map) to Python files that transformers "
            "imports when trust_remote_code is allowed: whoever controls the model repository runs "
            "code in the loading process."
        ),
        equivalents=("modelaudit:huggingface-remote-code",),
    )


class SignedModelChanged(_IssueCheck):
    rules = (
        "signing.mismatch",
        "signing.mismatch-docs",
        "signing.invalid-signature",
        "signing.untrusted-key",
        "ollama.blob-digest-mismatch",
        "ollama.blob-size-mismatch",
    )
    meta = CheckMeta(
        id="AISPM-MODEL-005",
        title="Signed model no longer matches its signature",
        severity=Severity.CRITICAL,
        asset_kinds=(AssetKind.MODEL,),
        frameworks=_SUPPLY_CHAIN,
        remediation=(
            "Do not deploy this model: files were changed, added or removed after it was signed. "
            "Restore the signed files from the publisher, or have the publisher sign the new ones."
        ),
        description=(
            "The model's signature lists files whose digests no longer match what is on disk, or its "
            "signed statement no longer verifies; an Ollama blob differs from its manifest's digest."
        ),
        equivalents=("model-signing:verify",),
    )


class MixedModelFormats(_IssueCheck):
    rules = ("hf.mixed-formats",)
    meta = CheckMeta(
        id="AISPM-MODEL-006",
        title="Model directory ships pickle weights beside safetensors",
        severity=Severity.MEDIUM,
        asset_kinds=(AssetKind.MODEL,),
        frameworks=_SUPPLY_CHAIN,
        remediation=(
            "Delete the pickle-based weights (pytorch_model.bin, *.pt, *.pkl) and keep the "
            "safetensors; loaders fall back to the pickle when asked for it or when the safetensors "
            "file is missing, and a swapped pickle runs code."
        ),
        description="A directory with safetensors weights still ships a pickle-based copy of them.",
    )

    def location_of(self, detail: JSON) -> Location | None:
        """The first pickle file (the issue's ``path`` is its folder, which no report can point at)."""
        if isinstance(detail, Mapping) and isinstance(detail.get("path"), str):
            pickled = detail.get("pickle")
            if isinstance(pickled, list) and pickled and isinstance(pickled[0], str):
                return Location(
                    path=posixpath.normpath(
                        posixpath.join(str(detail["path"]), posixpath.basename(pickled[0]))
                    )
                )
        return super().location_of(detail)


#: Rules that a dedicated check reports, whatever their verdict (the others go by verdict).
_SPECIFIC_RULES = frozenset(
    rule for cls in (ModelNeedsRemoteCode, SignedModelChanged, MixedModelFormats) for rule in cls.rules
)


class CodeAllowsRemoteModelCode(Check):
    meta = CheckMeta(
        id="AISPM-MODEL-007",
        title="Code loads a model with remote code allowed",
        severity=Severity.HIGH,
        asset_kinds=(AssetKind.AI_SDK_USAGE,),
        frameworks=_SUPPLY_CHAIN,
        remediation=(
            "Remove trust_remote_code (or set it to False) and use a model whose architecture the "
            "library ships. Where custom code is needed, pin revision= to a reviewed commit and "
            "vendor the code."
        ),
        description=(
            "from_pretrained/pipeline with trust_remote_code enabled imports Python files from the "
            "model repository, so whoever can push to it runs code in this service."
        ),
        equivalents=("bandit:B615", "semgrep:trust-remote-code"),
    )

    def evaluate(self, asset: Asset, inventory: Inventory) -> Iterable[Finding]:
        loads = asset.properties.get("model_loads")
        if not isinstance(loads, list):
            return []
        findings: list[Finding] = []
        for load in loads:
            flags = load.get("flags") if isinstance(load, Mapping) else None
            if not (isinstance(flags, Mapping) and flags.get("trust_remote_code") is True):
                continue
            line = _int(load.get("line"))
            path = asset.location.path if asset.location else None
            target = load.get("path") or load.get("model") or "a model"
            pinned = " pinned to a revision" if load.get("revision") else " without a pinned revision"
            findings.append(
                self.finding(
                    asset,
                    f"{load.get('loader')} loads {target} with trust_remote_code enabled{pinned}",
                    discriminator=f"{line}|{load.get('loader')}",
                    location=Location(path=path, line=line) if path else asset.location,
                    evidence={
                        k: load[k] for k in ("loader", "path", "model", "revision", "line") if k in load
                    },
                    severity=Severity.MEDIUM if load.get("revision") else None,
                )
            )
        return findings
