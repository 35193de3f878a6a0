"""Framework catalogs as data: requirement ids and short titles, keyed ``framework@edition#id``.

The catalogs live in ``compliance/data/*.json``, one file per framework edition::

    {"framework": "owasp-llm", "edition": "2025", "name": "...", "licence": "...",
     "source_url": "...", "requirements": [{"id": "LLM01", "title": "Prompt Injection"}, ...]}

Requirements may also carry ``kind`` (tactic, technique, mitigation...), ``parent`` and
``aliases`` (older or alternative titles). Only ids and short titles are shipped: OWASP texts are
share-alike (the MCP list non-commercial), ISO's is copyrighted; MITRE ATLAS (Apache-2.0), NIST
(public domain) and the EU AI Act (reuse permitted) could ship more, but ids and titles are all a
mapping needs. A file may set ``subkeys`` to accept refinements of its ids (``art-15.5`` of
``art-15``).

Keys are stored in one canonical form; :func:`normalize` accepts the spellings in circulation
(``GOVERN-1.6``, ``GV-1.6``, ``LLM01:2025``, ``LLM1``, ``T0055``, ``Art. 15(5)``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from aispm.model import JSON


class CatalogError(Exception):
    """A catalog file is malformed (a packaging bug, never user input)."""


@dataclass(frozen=True, slots=True)
class Requirement:
    """One risk, technique, control or article of a framework edition."""

    framework: str
    edition: str
    id: str
    title: str
    kind: str = ""
    parent: str | None = None
    aliases: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """The canonical ``framework@edition#id`` key."""
        return f"{self.framework}@{self.edition}#{self.id}"


@dataclass(frozen=True, slots=True)
class Framework:
    """One edition of a framework and its requirements, by canonical id."""

    id: str
    edition: str
    name: str
    licence: str
    source_url: str
    requirements: Mapping[str, Requirement]
    subkeys: bool = False

    @property
    def key(self) -> str:
        return f"{self.id}@{self.edition}"


_KEY = re.compile(r"^\s*(?P<fw>[A-Za-z0-9-]+)@(?P<ed>[^#\s]+)#(?P<id>.+?)\s*$")


def _numbered(prefix: str) -> Callable[[str], str]:
    """``LLM1``, ``llm01``, ``LLM01:2025`` -> ``LLM01``."""
    rx = re.compile(rf"(?i)^{prefix}0*(\d{{1,2}})(?::\d{{4}})?$")

    def norm(raw: str) -> str:
        m = rx.match(raw)
        return f"{prefix}{int(m.group(1)):02d}" if m else raw

    return norm


_ATLAS = re.compile(r"(?i)^(?:AML\.)?(TA|T|M)(\d{4})(?:\.(\d{3}))?$")


def _atlas(raw: str) -> str:
    m = _ATLAS.match(raw)
    if not m:
        return raw
    base = f"AML.{m.group(1).upper()}{m.group(2)}"
    return f"{base}.{m.group(3)}" if m.group(3) else base


_NIST_FUNCTIONS = {
    "GOVERN": "GOVERN", "GV": "GOVERN", "MAP": "MAP", "MP": "MAP",
    "MEASURE": "MEASURE", "MS": "MEASURE", "MANAGE": "MANAGE", "MG": "MANAGE",
}  # fmt: skip
_NIST = re.compile(r"(?i)^(GOVERN|GV|MAP|MP|MEASURE|MS|MANAGE|MG)[\s_-]*(\d+)\.(\d+)$")


def _nist(raw: str) -> str:
    m = _NIST.match(raw)
    if not m:
        return raw
    return f"{_NIST_FUNCTIONS[m.group(1).upper()]} {int(m.group(2))}.{int(m.group(3))}"


_ISO = re.compile(r"(?i)^(?:A\.?)?(\d+(?:\.\d+)+)$")


def _iso(raw: str) -> str:
    m = _ISO.match(raw)
    return f"A.{m.group(1)}" if m else raw


_EU_ARTICLE = re.compile(r"(?i)^art(?:icle)?[\s.-]*(\d+)\s*((?:[.(]\s*[0-9a-z]+\s*\)?)*)$")
_EU_ANNEX = re.compile(r"(?i)^annex[\s.-]*([ivxlc]+)$")


def _eu(raw: str) -> str:
    m = _EU_ARTICLE.match(raw)
    if m:
        parts = re.findall(r"[0-9a-z]+", m.group(2).lower())
        return ".".join([f"art-{int(m.group(1))}", *parts])
    m = _EU_ANNEX.match(raw)
    return f"annex-{m.group(1).upper()}" if m else raw


_ID_NORMALIZERS: dict[str, Callable[[str], str]] = {
    "owasp-llm": _numbered("LLM"),
    "owasp-asi": _numbered("ASI"),
    "owasp-mcp": _numbered("MCP"),
    "mitre-atlas": _atlas,
    "nist-ai-rmf": _nist,
    "iso-42001": _iso,
    "eu-ai-act": _eu,
}
_EDITION_ALIASES = {("eu-ai-act", "2024-1689"): "2024/1689", ("nist-ai-rmf", "1"): "1.0"}


def normalize(key: str) -> str:
    """The canonical form of a ``framework@edition#id`` key. Raises ValueError when it is not one.

    Only the spelling changes; whether the requirement exists is :func:`resolve`'s question.
    """
    m = _KEY.match(key)
    if not m:
        raise ValueError(f"not a framework@edition#id key: {key!r}")
    fw = m.group("fw").lower()
    edition = _EDITION_ALIASES.get((fw, m.group("ed")), m.group("ed"))
    raw = m.group("id").strip()
    norm = _ID_NORMALIZERS.get(fw)
    return f"{fw}@{edition}#{norm(raw) if norm else raw}"


def resolve(key: str) -> Requirement | None:
    """The requirement a key names, in any accepted spelling; None when unknown or malformed."""
    try:
        canonical = normalize(key)
    except ValueError:
        return None
    fw_key, _, req_id = canonical.partition("#")
    fw = frameworks().get(fw_key)
    if fw is None:
        return None
    found = fw.requirements.get(req_id)
    if found is not None or not fw.subkeys:
        return found
    # ``art-15.5.a`` refines ``art-15``: valid when the article exists.
    parent_id = req_id
    while "." in parent_id:
        parent_id = parent_id.rsplit(".", 1)[0]
        parent = fw.requirements.get(parent_id)
        if parent is not None:
            return Requirement(fw.id, fw.edition, req_id, parent.title, kind="paragraph", parent=parent.id)
    return None


@lru_cache(maxsize=1)
def frameworks() -> Mapping[str, Framework]:
    """Every shipped catalog, by ``framework@edition``."""
    data = resources.files("aispm.compliance") / "data"
    out: dict[str, Framework] = {}
    for entry in sorted(data.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            fw = parse_catalog(json.loads(entry.read_text(encoding="utf-8")), entry.name)
            if fw.key in out:
                raise CatalogError(f"{entry.name}: {fw.key} is defined twice")
            out[fw.key] = fw
    return out


def load_catalog(path: Path) -> Framework:
    """One catalog file (for catalogs kept outside the package, e.g. a plugin's)."""
    return parse_catalog(json.loads(path.read_text(encoding="utf-8")), path.name)


def parse_catalog(doc: Mapping[str, JSON], source: str = "<catalog>") -> Framework:
    """A :class:`Framework` from a catalog document, checking its shape and that ids are canonical."""
    try:
        fw_id, edition = str(doc["framework"]), str(doc["edition"])
        reqs_raw = doc["requirements"]
        name, licence, url = str(doc["name"]), str(doc["licence"]), str(doc["source_url"])
    except KeyError as exc:
        raise CatalogError(f"{source}: missing field {exc}") from exc
    if not isinstance(reqs_raw, list) or not reqs_raw:
        raise CatalogError(f"{source}: requirements must be a non-empty list")
    norm = _ID_NORMALIZERS.get(fw_id)
    reqs: dict[str, Requirement] = {}
    for r in reqs_raw:
        if not isinstance(r, Mapping) or not r.get("id") or not r.get("title"):
            raise CatalogError(f"{source}: every requirement needs an id and a title: {r!r}")
        rid = str(r["id"])
        if norm is not None and norm(rid) != rid:
            raise CatalogError(f"{source}: id {rid!r} is not in canonical form ({norm(rid)!r})")
        if rid in reqs:
            raise CatalogError(f"{source}: id {rid!r} appears twice")
        reqs[rid] = Requirement(
            framework=fw_id,
            edition=edition,
            id=rid,
            title=str(r["title"]),
            kind=str(r.get("kind", "")),
            parent=str(r["parent"]) if r.get("parent") else None,
            aliases=tuple(str(a) for a in r.get("aliases", ())),
        )
    return Framework(fw_id, edition, name, licence, url, reqs, subkeys=bool(doc.get("subkeys")))
