"""The configuration inside a NeMo ``.nemo`` archive: Hydra ``_target_`` callables it instantiates.

Restoring a NeMo model (``restore_from``, ``from_pretrained``) reads ``model_config.yaml`` from the
archive and hands it to Hydra, which imports and calls every ``_target_`` it names, with the
sibling keys (and ``_args_``) as arguments. A ``_target_`` of ``os.system`` or
``builtins.exec`` is code execution on load, the flaw NVIDIA fixed as CVE-2025-23304; a target in
an unknown package is code chosen by whoever wrote the file.

The YAML is read by :func:`structured.load_yaml_documents` (PyYAML's safe loader: no tags that
build objects; alias bombs and deep nesting refused) within a size bound, and walked with a node
budget and cycle detection. Targets are judged with the pickle policy's denylist, since Hydra
imports by dotted name as a pickle ``GLOBAL`` does; Hydra's own string-to-callable helpers are
import indirection.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import yaml

from aispm.analysis import pickle_policy as policy
from aispm.analysis.artifact_report import FormatResult, Issue, Verdict
from aispm.analysis.structured import StructuredLimitError, load_yaml_documents
from aispm.model import JSON, Severity

#: The most bytes of ``model_config.yaml`` read; NeMo configs are a few hundred KiB at most.
MAX_CONFIG_BYTES = 16 * 1024 * 1024
#: The most nodes visited (aliases can make a small document a very large tree).
MAX_NODES = 200_000

#: Packages whose classes NeMo configurations name: models, modules, data, tokenizers, optimisers.
TRUSTED_TARGETS = (
    "nemo",
    "nemo_text_processing",
    "torch",
    "torchaudio",
    "torchvision",
    "pytorch_lightning",
    "lightning",
    "megatron",
    "apex",
    "transformer_engine",
    "transformers",
    "sentencepiece",
    "tokenizers",
    "omegaconf",
    "lhotse",
    "numpy",
)

#: Hydra helpers that turn a string into any callable: a target through them can reach anything.
HYDRA_INDIRECTION = frozenset(
    {
        "hydra.utils.get_method",
        "hydra.utils.get_class",
        "hydra.utils.get_object",
        "hydra.utils.instantiate",
        "hydra.utils.call",
        "hydra._internal.utils._locate",
        "hydra._internal.instantiate._instantiate2.instantiate",
    }
)


def analyze_nemo_config(data: bytes, member: str | None) -> FormatResult:
    """Issues for the Hydra targets of one NeMo configuration (YAML bytes)."""
    if len(data) > MAX_CONFIG_BYTES:
        return _result(
            {}, [_malformed(member, f"configuration of {len(data)} bytes is over {MAX_CONFIG_BYTES}")]
        )
    try:
        documents = load_yaml_documents(data.decode("utf-8"))
    except (yaml.YAMLError, StructuredLimitError, RecursionError, UnicodeDecodeError) as exc:
        return _result({}, [_malformed(member, f"configuration is not readable YAML ({type(exc).__name__})")])
    config = documents[0] if len(documents) == 1 else documents
    issues: list[Issue] = []
    targets: set[str] = set()
    try:
        for path, raw_target in _targets(config):
            target = _interpolate(raw_target, config)
            if target is None:
                issues.append(_unresolved(raw_target, path, member))
                continue
            targets.add(target)
            issue = judge_target(target, path, member)
            if issue is not None:
                issues.append(issue)
    except _TooBig:
        issues.append(_malformed(member, f"configuration has more than {MAX_NODES} nodes"))
    facts: dict[str, JSON] = {"hydra_targets": len(targets)}
    return _result(facts, issues)


def judge_target(target: str, path: str, member: str | None) -> Issue | None:
    """The issue for one ``_target_`` value at ``path`` (None: a known package's class or function)."""
    name = target.strip()
    detail: dict[str, JSON] = {"key": path[:200], "global": name[:200]}
    if name in HYDRA_INDIRECTION:
        return Issue(
            "nemo.hydra-target",
            Verdict.MALICIOUS,
            Severity.CRITICAL,
            f"Hydra target {name} at {path} imports and calls any callable named by a string when "
            "the model is restored",
            member=member,
            detail=detail,
        )
    ruling = policy.denied(name) if name else None
    if ruling is None and name:
        ruling = policy.judge(name, policy.Role.CALL)
        if ruling is not None and ruling.rule == policy.NON_ALLOWLISTED:
            ruling = None  # the pickle allowlist is not the measure here: the trusted packages are
    if ruling is not None:
        return Issue(
            "nemo.hydra-target",
            Verdict.MALICIOUS,
            ruling.severity,
            f"Hydra target {name} at {path}: restoring the model calls it ({ruling.reason})",
            member=member,
            detail=detail,
        )
    if _trusted(name):
        return None
    return Issue(
        "nemo.untrusted-target",
        Verdict.SUSPICIOUS,
        Severity.MEDIUM,
        f"Hydra target {name[:200]!r} at {path} is outside the packages NeMo models use: restoring "
        "the model imports and calls it",
        member=member,
        detail=detail,
    )


_INTERPOLATION = re.compile(r"\$\{([^${}]*)\}")


def _interpolate(value: str, root: Any) -> str | None:
    """``value`` with OmegaConf's absolute ``${a.b}`` interpolations replaced from the document, as
    OmegaConf does when the target is read (None when one cannot be resolved statically: a
    resolver such as ``${oc.env:X}``, a relative path, a missing key)."""
    for _ in range(8):
        match = _INTERPOLATION.search(value)
        if match is None:
            return value
        node = root
        for key in match.group(1).strip().split("."):
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        if not isinstance(node, (str, int, float)) or isinstance(node, bool):
            return None
        value = value[: match.start()] + str(node) + value[match.end() :]
    return None


def _unresolved(target: str, path: str, member: str | None) -> Issue:
    return Issue(
        "nemo.untrusted-target",
        Verdict.SUSPICIOUS,
        Severity.MEDIUM,
        f"Hydra target {target[:200]!r} at {path} is built by an interpolation that cannot be resolved "
        "without running the loader (an environment variable, a resolver): what it calls is unknown",
        member=member,
        detail={"key": path[:200], "global": target[:200]},
    )


def _trusted(name: str) -> bool:
    parts = name.split(".")
    if len(parts) < 2 or not all(p.isidentifier() for p in parts):
        return False
    if any(p.startswith("__") and p.endswith("__") for p in parts):
        return False
    return parts[0] in TRUSTED_TARGETS


class _TooBig(Exception):
    pass


def _targets(config: Any) -> Iterator[tuple[str, str]]:
    """(key path, target) for every ``_target_`` in the document, in document order, each node
    visited once."""
    seen: set[int] = set()
    budget = MAX_NODES
    stack: list[tuple[str, Any]] = [("", config)]
    while stack:
        path, node = stack.pop()
        budget -= 1
        if budget < 0:
            raise _TooBig
        if isinstance(node, dict):
            if id(node) in seen:
                continue
            seen.add(id(node))
            target = node.get("_target_")
            if isinstance(target, str):
                yield (path + "._target_").lstrip("."), target
            elif target is not None:
                yield (path + "._target_").lstrip("."), str(target)[:200]
            for key, value in reversed(node.items()):  # popped in document order
                if isinstance(value, (dict, list)):
                    stack.append((f"{path}.{str(key)[:100]}", value))
        elif isinstance(node, list):
            if id(node) in seen:
                continue
            seen.add(id(node))
            for i in range(len(node) - 1, -1, -1):
                if isinstance(node[i], (dict, list)):
                    stack.append((f"{path}[{i}]", node[i]))


def _malformed(member: str | None, reason: str) -> Issue:
    return Issue("nemo.malformed", Verdict.UNSCANNABLE, Severity.MEDIUM, reason, member=member)


def _result(facts: dict[str, JSON], issues: list[Issue]) -> FormatResult:
    return FormatResult(facts, tuple(issues))
