"""Environment-variable references inside configuration values.

Configuration often names a model through a variable rather than literally: compose's
``${MODEL_ID:-meta-llama/Llama-3.1-8B}``, Spring-style ``${MODEL:gpt-4o}``, azd's ``${VAR=default}``,
VS Code's ``${env:VAR}``, Kubernetes' ``$(VAR)``. This module recognises a value that *is* such a
reference (so the pipeline can resolve it through the bindings found elsewhere) and finds the
references embedded in a longer string. Nothing here expands anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: The longest value considered; configuration values longer than this are not references.
MAX_REF_LENGTH = 4096
_NAME = r"[A-Za-z_][A-Za-z0-9_.]{0,127}"
# ${NAME}, ${NAME<op>default} with op one of :- - := = :? ? and Spring's bare colon; ${env:NAME}.
_BRACED = re.compile(r"\$\{(?:env:)?(" + _NAME + r")(?:(:-|:=|:\?|:|-|=|\?)(.*))?\}", re.DOTALL)
_BARE = re.compile(r"\$(" + _NAME + r")")
_VSCODE_VARIABLES = frozenset({"input", "command", "config"})
_K8S = re.compile(r"\$\((" + _NAME + r")\)")


@dataclass(frozen=True, slots=True)
class EnvRef:
    """A reference to variable ``name`` with an optional literal ``default``."""

    name: str
    default: str | None
    syntax: str


def parse_env_ref(value: str, *, kubernetes: bool = False) -> EnvRef | None:
    """The reference ``value`` consists of, or None when it is not exactly one reference.

    ``kubernetes`` also accepts ``$(NAME)``, which only Kubernetes container args expand (in a
    shell it is command substitution). A default that is itself a reference is followed to its
    innermost literal default, so ``${A:-${B:-x}}`` yields name ``A`` and default ``x``.
    """
    v = value.strip()
    if not v or len(v) > MAX_REF_LENGTH or "$" not in v:
        return None
    if kubernetes and (m := _K8S.fullmatch(v)):
        return EnvRef(m.group(1), None, "kubernetes")
    if m := _BARE.fullmatch(v):
        return EnvRef(m.group(1), None, "bare")
    if not (v.startswith("${") and v.endswith("}")):
        return None
    end = _matching_brace(v, 1)
    if end != len(v) - 1:
        return None
    m = _BRACED.fullmatch(v)
    if m is None:
        return None
    name, op, default = m.group(1), m.group(2), m.group(3)
    if op == ":" and name in _VSCODE_VARIABLES:
        # VS Code's ``${input:id}`` / ``${command:id}`` prompt the user or run a command.
        return None
    if op in (":?", "?"):
        # ``${VAR:?message}`` fails when unset: the text is an error message, not a value.
        return EnvRef(name, None, "braced")
    if default is not None:
        inner = parse_env_ref(default, kubernetes=kubernetes)
        if inner is not None:
            default = inner.default
        elif "${" in default:
            default = None
    return EnvRef(name, default if default else None, "braced")


def find_env_refs(text: str, *, kubernetes: bool = False) -> list[EnvRef]:
    """Every reference embedded in ``text`` (``--model ${MODEL}`` yields ``MODEL``), in order."""
    if "$" not in text or len(text) > MAX_REF_LENGTH * 16:
        return []
    refs: list[EnvRef] = []
    i = 0
    while (i := text.find("$", i)) != -1:
        if text.startswith("${", i):
            end = _matching_brace(text, i + 1)
            if end == -1:
                break
            ref = parse_env_ref(text[i : end + 1])
            if ref is not None:
                refs.append(ref)
            i = end + 1
            continue
        m = (_K8S.match(text, i) if kubernetes else None) or _BARE.match(text, i)
        if m is not None:
            refs.append(EnvRef(m.group(1), None, "kubernetes" if m.re is _K8S else "bare"))
            i = m.end()
        else:
            i += 1
    return refs


def _matching_brace(text: str, open_at: int) -> int:
    """Index of the ``}`` closing the ``{`` at ``open_at``, or -1."""
    depth = 0
    for j in range(open_at, len(text)):
        c = text[j]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return j
    return -1
