"""Provenance facts from a model card: the YAML front matter of a Hugging Face ``README.md``.

:func:`read_model_card` returns the license (``license``, and ``license_name``/``license_link`` for
``license: other``), the base model(s) and how the model derives from them (``base_model``,
``base_model_relation``: adapter, merge, quantized, finetune), datasets, languages, pipeline tag,
tags, library and the ``model-index`` name, plus whether access is gated. YAML is read with the
safe, alias-bomb-proof loader of :mod:`aispm.analysis.structured`; everything is bounded, and a
malformed front matter yields what could be read plus an ``error`` note, never an exception.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from aispm.analysis.structured import StructuredLimitError, load_yaml_documents
from aispm.model import JSON

#: Only this much of a README is looked at, and this much of it may be front matter.
MAX_CARD_CHARS = 1024 * 1024
MAX_FRONT_MATTER_CHARS = 256 * 1024
MAX_ITEMS = 100
MAX_STRING = 300

_SIMPLE_LINE = re.compile(
    r"^(license|license_name|license_link|base_model|base_model_relation|pipeline_tag|library_name):"
    r"[ \t]*([^\s\[{&*!|>#][^\n#]*)$",
    re.MULTILINE,
)
_LIST_FIELDS = ("datasets", "language", "tags", "metrics")
_STRING_FIELDS = (
    "license",
    "license_name",
    "license_link",
    "pipeline_tag",
    "library_name",
    "base_model_relation",
)


def front_matter(text: str) -> str | None:
    """The YAML between the opening ``---`` line and the next ``---`` (or ``...``) line, if any."""
    text = text[:MAX_CARD_CHARS].lstrip("\ufeff")
    first, sep, rest = text.partition("\n")
    if first.rstrip() != "---" or not sep:
        return None
    end = 0
    for line in rest.splitlines(keepends=True):
        if line.rstrip() in ("---", "..."):
            return rest[:end]
        end += len(line)
        if end > MAX_FRONT_MATTER_CHARS:
            return None
    return None


def read_model_card(text: str) -> dict[str, JSON]:
    """The provenance facts of a model card's front matter; empty when it has none.

    ``base_model`` is always a list of strings (the card may give one or several). ``error`` is set
    when the front matter is missing its end, too large, not YAML or not a mapping.
    """
    head = text[:MAX_CARD_CHARS].lstrip("\ufeff")
    if not head.startswith("---"):
        return {}
    yaml_text = front_matter(head)
    if yaml_text is None:
        return {"error": "front matter without an end marker, or over the size limit"}
    try:
        docs = load_yaml_documents(yaml_text)
    except (yaml.YAMLError, StructuredLimitError, RecursionError, ValueError) as exc:
        # Salvage the plain ``key: value`` lines a hand-edited card still has right.
        salvaged = _salvage(yaml_text)
        return {**salvaged, "error": f"front matter is not valid YAML: {type(exc).__name__}"}
    if not docs:
        return {}
    doc = docs[0]
    if not isinstance(doc, dict):
        return {"error": "front matter is not a mapping"}
    return _facts(doc)


def _facts(doc: dict[str, Any]) -> dict[str, JSON]:
    out: dict[str, JSON] = {}
    for key in _STRING_FIELDS:
        value = _string(doc.get(key))
        if value is not None:
            out[key] = value
    base = _strings(doc.get("base_model"))
    if base:
        out["base_model"] = base
    for key in _LIST_FIELDS:
        values = _strings(doc.get(key))
        if values:
            out[key] = values
    licenses = _strings(doc.get("license"))
    if "license" not in out and licenses:
        out["license"] = licenses[0]
        if len(licenses) > 1:
            out["licenses"] = licenses
    name = _model_index_name(doc.get("model-index"))
    if name is not None:
        out["model_name"] = name
    gated = doc.get("extra_gated_prompt") or doc.get("extra_gated_fields") or doc.get("gated")
    if gated:
        out["gated"] = True
    if doc.get("inference") is False:
        out["inference"] = False
    return out


def _salvage(text: str) -> dict[str, JSON]:
    out: dict[str, JSON] = {}
    for m in _SIMPLE_LINE.finditer(text):
        key, value = m.group(1), m.group(2).strip().strip("'\"").strip()
        if value and key not in out:
            out[key] = [value[:MAX_STRING]] if key == "base_model" else value[:MAX_STRING]
    return out


def _string(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (str, int, float)):
        text = str(value).strip()
        return text[:MAX_STRING] if text else None
    return None


def _strings(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items[:MAX_ITEMS]:
        text = _string(item)
        if text is not None and text not in out:
            out.append(text)
    return out


def _model_index_name(value: Any) -> str | None:
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return _string(value[0].get("name"))
    return None
