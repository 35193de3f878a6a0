"""What the static analysers of model artifacts say about one file: a verdict and its reasons.

Every analyser (the pickle walker, the container readers, the Keras, TensorFlow, ONNX, safetensors
and GGUF readers, the Hugging Face directory checks) speaks these records, so that the model-file
collector can put one verdict and a list of issues on a ``model`` asset and the model checks can
turn them into findings without knowing which analyser produced them.

A verdict is about the file alone: it never depends on what is installed where aispm runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from aispm.model import JSON, Severity


class Verdict(StrEnum):
    """How safe loading a file is, as far as static analysis can tell."""

    SAFE = "safe"  #: only reconstructions real model files use
    UNSCANNABLE = "unscannable"  #: malformed, truncated, encrypted or over a bound: not proven safe
    SUSPICIOUS = "suspicious"  #: something outside the allowlist, not a known attack
    MALICIOUS = "malicious"  #: a known code-execution, file or network primitive

    @property
    def rank(self) -> int:
        """Higher is worse: safe=0 … malicious=3."""
        return _VERDICT_RANK[self]


_VERDICT_RANK = {Verdict.SAFE: 0, Verdict.UNSCANNABLE: 1, Verdict.SUSPICIOUS: 2, Verdict.MALICIOUS: 3}


def worst(verdicts: Iterable[Verdict]) -> Verdict:
    """The worst of ``verdicts``; SAFE when there are none."""
    return max(verdicts, key=lambda v: v.rank, default=Verdict.SAFE)


@dataclass(frozen=True, slots=True)
class Issue:
    """One reason a file is not safe.

    ``rule`` is a stable dotted id of what was seen (``pickle.exec``, ``pickle.non-allowlisted``,
    ``keras.lambda-layer``, ``onnx.external-data-escape``, ``gguf.template-ssti``, ``container.bad-crc``...).
    ``member`` locates it inside containers, outermost first, joined by ``!``
    (``model.tar.gz!inner.zip!archive/data.pkl``); None for the file itself. ``detail`` holds
    short facts for evidence (``{"global": "os.system", "opcode": "STACK_GLOBAL"}``) and must never
    hold secrets or large payloads: arguments are summarised (type, length, a short prefix).
    """

    rule: str
    verdict: Verdict
    severity: Severity
    message: str
    member: str | None = None
    offset: int | None = None
    detail: Mapping[str, JSON] = field(default_factory=dict)

    def to_dict(self) -> dict[str, JSON]:
        out: dict[str, JSON] = {
            "rule": self.rule,
            "verdict": str(self.verdict),
            "severity": str(self.severity),
            "message": self.message,
        }
        if self.member is not None:
            out["member"] = self.member
        if self.offset is not None:
            out["offset"] = self.offset
        if self.detail:
            out["detail"] = dict(self.detail)
        return out


@dataclass(frozen=True, slots=True)
class FormatResult:
    """What a format analyser read from one file or member: facts for the inventory, and issues."""

    facts: Mapping[str, JSON] = field(default_factory=dict)
    issues: tuple[Issue, ...] = ()


@dataclass(frozen=True, slots=True)
class ArtifactReport:
    """The whole static verdict on one file.

    ``format`` is what the content is (``pytorch-zip``, ``pickle``, ``joblib``, ``keras``, ...),
    whatever the extension says. ``globals`` lists every ``module.name`` the pickles in it import
    (sorted, unique), for the inventory. ``members`` counts the streams read (pickles and
    container members); ``bytes_read`` is what analysis read of the file, to show it stays small.
    """

    format: str
    issues: tuple[Issue, ...] = ()
    facts: Mapping[str, JSON] = field(default_factory=dict)
    globals: tuple[str, ...] = ()
    members: int = 0
    bytes_read: int = 0

    @property
    def verdict(self) -> Verdict:
        return worst(i.verdict for i in self.issues)

    def to_dict(self) -> dict[str, JSON]:
        return {
            "format": self.format,
            "verdict": str(self.verdict),
            "issues": [i.to_dict() for i in self.issues],
            "globals": list(self.globals),
            "members": self.members,
            "bytes_read": self.bytes_read,
        }
