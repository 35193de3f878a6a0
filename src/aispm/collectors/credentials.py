"""Hardcoded AI-provider credentials in any text file: source, configuration, ``.env*``, notebooks, docs.

Every credential becomes a ``credential`` asset keyed by (path, SHA-256 prefix of the value), so the
same key in two files is two assets: each place is a separate thing to clean up. The clear value is
never stored: see :mod:`aispm.analysis.secrets` for the rules, the decoy filter and the redaction.

A key also says which provider the code talks to. Where the provider is an AI service, the
collector yields its ``ai-provider`` asset and a relation ``credential -authenticates-with->
provider`` (the credential is the subject: it authenticates with the provider, as a workload
authenticates with a service). AWS and Google API keys are credentials of general clouds: they are
tied to an AI provider (``bedrock``, ``sagemaker``, ``google``) only when AI words sit next to them;
the check decides whether they matter from the rest of the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import PurePosixPath
from typing import ClassVar

from aispm.analysis.secrets import SecretMatch, find_secrets
from aispm.assets import SAAS_PROVIDERS, provider_asset
from aispm.collectors.base import (
    MAX_TEXT_BYTES,
    Collector,
    CollectorError,
    Observation,
    SourceFile,
    split_suffix,
)
from aispm.model import JSON, Asset, AssetKind, ErrorKind, Location, Relation, RelationKind, Scope

#: Files up to this size are read whole (larger text files are rare, but tokenizer vocabularies
#: and data dumps reach tens of MiB; beyond this the file is reported as not scanned).
MAX_SCAN_BYTES = 64 * 1024 * 1024
#: A NUL byte in the head means binary content, which does not carry typed-in keys.
BINARY_SNIFF_BYTES = 8192

_TEXT_SUFFIXES = frozenset(
    {
        # code
        ".py", ".pyi", ".pyw", ".ipynb", ".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs", ".mts", ".cts",
        ".java", ".kt", ".kts", ".scala", ".groovy", ".gradle", ".go", ".rs", ".rb", ".php", ".cs",
        ".swift", ".m", ".c", ".cc", ".cpp", ".h", ".hpp", ".r", ".jl", ".lua", ".dart", ".ex", ".exs",
        ".vue", ".svelte", ".astro", ".html", ".htm", ".sql", ".pl",
        # shell and build
        ".sh", ".bash", ".zsh", ".fish", ".ps1", ".psm1", ".bat", ".cmd", ".mk", ".dockerfile",
        # configuration and infrastructure
        ".env", ".cfg", ".ini", ".conf", ".config", ".toml", ".yaml", ".yml", ".json", ".jsonc",
        ".json5", ".xml", ".properties", ".plist", ".tf", ".tfvars", ".hcl", ".bicep", ".bicepparam",
        ".nomad", ".tpl", ".j2", ".jinja", ".jinja2", ".envrc",
        # text and docs
        ".md", ".mdx", ".rst", ".txt", ".adoc", ".org", ".tex", ".log",
    }
)  # fmt: skip

_TEXT_NAMES = frozenset(
    {
        "dockerfile", "containerfile", "makefile", "jenkinsfile", "procfile", "vagrantfile", "gemfile",
        "rakefile", "justfile", "brewfile", "credentials", "config", ".npmrc", ".pypirc", ".netrc",
        ".bashrc", ".zshrc", ".profile", ".bash_profile", ".envrc", ".gitlab-ci.yml",
    }
)  # fmt: skip

#: Suffixes that mark a copy or template of another file (``.env.example``, ``settings.json.dist``).
_SAMPLE_MARKS = frozenset({"example", "examples", "sample", "samples", "template", "tmpl", "dist", "tpl"})
_COPY_SUFFIXES = _SAMPLE_MARKS | {"bak", "orig", "local", "old", "save"}

#: Generated lock files hold package hashes and URLs, not keys typed by people (gitleaks skips them too).
_LOCK_FILES = frozenset(
    {
        "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lock",
        "poetry.lock", "pipfile.lock", "uv.lock", "pdm.lock", "cargo.lock", "go.sum", "gemfile.lock",
        "composer.lock", "packages.lock.json", "deno.lock",
    }
)  # fmt: skip

#: Providers whose assets are AI providers (SaaS model APIs and the Hugging Face Hub).
_AI_PROVIDERS = SAAS_PROVIDERS | {"huggingface"}


def is_env_file(name: str) -> bool:
    """``.env``, ``.env.local``, ``prod.env``: files of ``NAME=value`` lines."""
    low = name.lower()
    return low == ".env" or low.startswith(".env.") or low.endswith(".env")


def is_sample_file(path: str) -> bool:
    """Whether the file is a template or sample of real configuration (``.env.example``, README)."""
    name = PurePosixPath(path).name.lower()
    if name.startswith("readme"):
        return True
    parts = name.split(".")
    return any(p in _SAMPLE_MARKS for p in parts[1:]) or parts[0] in _SAMPLE_MARKS


def _wanted_name(name: str) -> bool:
    low = name.lower()
    if low in _LOCK_FILES:
        return False
    if low in _TEXT_NAMES or is_env_file(low) or low.startswith(("dockerfile", "containerfile")):
        return True
    stem, suffix = split_suffix(low)
    # ``config.yaml.example`` is read as ``config.yaml``.
    while suffix and suffix[1:] in _COPY_SUFFIXES:
        if is_env_file(stem):
            return True
        stem, suffix = split_suffix(stem)
    # No suffix: scripts, ``.dockerignore``-style dotfiles, ``credentials``; binaries are sniffed out.
    return not suffix or suffix in _TEXT_SUFFIXES


class CredentialCollector(Collector):
    """Finds hardcoded AI-provider keys in text files and inventories them, redacted."""

    name: ClassVar[str] = "credentials"
    version: ClassVar[str] = "1"

    def wants(self, file: SourceFile) -> bool:
        """Text-like files by name; empty files are skipped (they hold nothing)."""
        return file.size > 0 and _wanted_name(file.name)

    def collect(self, file: SourceFile) -> Iterable[Observation]:
        """Credential assets (and the providers they authenticate with) found in ``file``."""
        data = self._read(file)
        if b"\x00" in data[:BINARY_SNIFF_BYTES]:
            return
        text = data.decode("utf-8", errors="replace")
        yield from credential_observations(file.path, file.scope, find_secrets(text))

    @staticmethod
    def _read(file: SourceFile) -> bytes:
        if file.size <= MAX_TEXT_BYTES:
            return file.read_bytes()
        if file.size > MAX_SCAN_BYTES:
            raise CollectorError(
                f"file is {file.size} bytes, over the {MAX_SCAN_BYTES}-byte limit for credential scanning",
                ErrorKind.LIMIT,
            )
        # Read large files directly rather than through SourceFile's cache, which would keep them
        # in memory for the rest of the scan.
        try:
            with open(file.abs_path, "rb") as fh:
                return fh.read(MAX_SCAN_BYTES + 1)[:MAX_SCAN_BYTES]
        except OSError as exc:
            raise CollectorError(f"cannot read: {exc.strerror or exc}", ErrorKind.READ) from exc


def credential_observations(path: str, scope: Scope, matches: Iterable[SecretMatch]) -> Iterator[Observation]:
    """The assets and relations for credentials found in the file at ``path``.

    Public so that collectors that parse a format themselves (an MCP client config, say) can
    report what :func:`~aispm.analysis.secrets.find_secrets` finds in a value the same way.
    """
    name = PurePosixPath(path).name
    in_env = is_env_file(name)
    sample = is_sample_file(path)
    for m in matches:
        location = Location(path=path, line=m.line)
        provider = m.context_provider or m.rule.provider
        props: dict[str, JSON] = {
            "provider": m.rule.provider,
            "rule": m.rule.id,
            "redacted": m.redacted,
            "sha256": m.sha256,
            "length": m.length,
            "line": m.line,
            "column": m.column,
            "in_env_file": in_env,
            "sample": sample,
            "confidence": m.rule.confidence,
            "hardcoded": True,
        }
        if m.rule.ai_gated:
            props["ai_gated"] = True
            props["ai_context"] = m.ai_context
        if m.context_provider and m.context_provider != m.rule.provider:
            props["ai_service"] = m.context_provider
        if m.rule.gitleaks:
            props["gitleaks_rule"] = m.rule.gitleaks
        cred = Asset.create(
            AssetKind.CREDENTIAL,
            m.rule.label,
            key=(path, m.sha256),
            location=location,
            properties=props,
            scope=scope,
        )
        yield cred
        if m.ai_context and provider in _AI_PROVIDERS:
            prov = provider_asset(provider, location, scope)
            yield prov
            yield Relation(cred.id, prov.id, RelationKind.AUTHENTICATES_WITH)
