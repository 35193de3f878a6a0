"""The collector seam: what a collector is given, what it may yield, and how collectors are found.

A collector reads one file at a time and yields observations. It never executes, imports or
deserializes what it reads. Anything it cannot do it raises as :class:`CollectorError` (or any
exception: the pipeline records it as a scan error and carries on with the next file).

Observations are of four kinds:

* :class:`~aispm.model.Asset` and :class:`~aispm.model.Relation`: facts, merged by id across files;
* :class:`ModelMention`: a string that *may* name a model; the pipeline decides, with one classifier
  for every source (catalog + provider context + syntax), and resolves env-var indirection;
* :class:`EnvBinding`: an environment variable given a value somewhere in the tree (``.env``,
  compose, Kubernetes, Helm values, tfvars), used to resolve mentions that go through a variable.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from aispm.model import JSON, Asset, ErrorKind, Location, Relation, RelationKind, Scope
from aispm.plugins import load_plugins

#: Default ceiling for files a text collector reads whole.
MAX_TEXT_BYTES = 4 * 1024 * 1024


class CollectorError(Exception):
    """A collector could not read or understand a file. Becomes a recorded scan error."""

    def __init__(self, message: str, kind: ErrorKind = ErrorKind.PARSE) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class ModelMention:
    """A candidate model reference, found in code or configuration.

    Exactly one of ``value`` (the literal text) or ``env_var`` (a variable the value comes from)
    is the usual case; both may be set when the code gives a default
    (``os.getenv("MODEL", "gpt-4o")``, ``${MODEL:-gpt-4o}``).

    ``provider`` is the provider the context implies (the SDK imported, the client built, the
    base URL), or None. ``via`` says how it was found: the keyword or call (``model=``,
    ``from_pretrained``, ``pipeline``, ``load_dataset``, ``env:MODEL_ID``, ``--model``...).
    ``strong`` is True where the position itself means "this is a model id" (``from_pretrained``'s
    first argument, ``--model`` of a serving command) rather than a string that merely sits near
    an SDK. ``dataset`` marks dataset references (``load_dataset``).
    ``owner`` is the id of the asset that uses the model (an ai-sdk-usage, a notebook, a service),
    linked to the model by ``relation``: ``uses-model`` by default, ``serves`` for a model server
    (datasets are always linked with ``reads``).
    """

    location: Location
    via: str
    value: str | None = None
    env_var: str | None = None
    provider: str | None = None
    strong: bool = False
    dataset: bool = False
    owner: str | None = None
    revision: str | None = None
    properties: Mapping[str, JSON] = field(default_factory=dict)
    relation: RelationKind = RelationKind.USES_MODEL


@dataclass(frozen=True, slots=True)
class EnvBinding:
    """An environment variable set to a value in the tree (``MODEL_ID=...`` in a ``.env``)."""

    name: str
    value: str
    location: Location


Observation = Asset | Relation | ModelMention | EnvBinding


def split_suffix(name: str) -> tuple[str, str]:
    """(stem, suffix) of a file name as ``PurePosixPath`` splits it, without building one: a
    dotfile (``.env``) or a trailing dot has no suffix."""
    dot = name.rfind(".")
    if 0 < dot < len(name) - 1:
        return name[:dot], name[dot:]
    return name, ""


class SourceFile:
    """One file of a target, as a collector sees it. Reading is lazy, bounded and cached."""

    __slots__ = ("_bytes", "abs_path", "name", "path", "scope", "size", "stamp", "suffix")

    def __init__(
        self, abs_path: Path, path: str, size: int, scope: Scope, stamp: tuple[int, ...] | None = None
    ) -> None:
        self.abs_path = abs_path
        #: Path relative to the scanned target, POSIX separators.
        self.path = path
        self.size = size
        self.scope = scope
        #: What the walk's ``stat`` said of the file (mtime_ns, ctime_ns, inode, device), or None:
        #: lets a rescan recognise an unchanged file without reading it.
        self.stamp = stamp
        #: The file name, and its last suffix in lower case (``.py``; empty when there is none).
        #: Plain strings, computed once: every collector's ``wants()`` asks for them.
        self.name = path.rpartition("/")[2]
        self.suffix = split_suffix(self.name)[1].lower()
        self._bytes: bytes | None = None

    def loc(self, line: int | None = None) -> Location:
        return Location(path=self.path, line=line)

    def read_bytes(self, limit: int = MAX_TEXT_BYTES) -> bytes:
        """The whole file, or a CollectorError(LIMIT) when it is larger than ``limit``."""
        if self.size > limit:
            raise CollectorError(f"file is {self.size} bytes, over the {limit}-byte limit", ErrorKind.LIMIT)
        if self._bytes is None:
            try:
                with open(self.abs_path, "rb") as fh:
                    self._bytes = fh.read(limit + 1)
            except OSError as exc:
                raise CollectorError(f"cannot read: {exc.strerror or exc}", ErrorKind.READ) from exc
            if len(self._bytes) > limit:
                raise CollectorError(f"file grew past the {limit}-byte limit", ErrorKind.LIMIT)
        return self._bytes

    def read_head(self, n: int) -> bytes:
        """The first ``n`` bytes, without reading the rest."""
        if self._bytes is not None:
            return self._bytes[:n]
        try:
            with open(self.abs_path, "rb") as fh:
                return fh.read(n)
        except OSError as exc:
            raise CollectorError(f"cannot read: {exc.strerror or exc}", ErrorKind.READ) from exc

    def read_text(self, limit: int = MAX_TEXT_BYTES) -> str:
        """The file decoded as UTF-8 (a BOM is dropped; undecodable bytes become U+FFFD)."""
        data = self.read_bytes(limit)
        if b"\x00" in data[:8192]:
            raise CollectorError("binary content where text was expected", ErrorKind.PARSE)
        return data.decode("utf-8-sig", errors="replace")


class Collector(ABC):
    """A source of observations. Subclasses set ``name`` and ``version`` and implement two methods.

    ``version`` is part of the cache key: bump it whenever what the collector yields for the same
    bytes changes.
    """

    name: ClassVar[str]
    version: ClassVar[str] = "1"

    @abstractmethod
    def wants(self, file: SourceFile) -> bool:
        """Whether this collector reads ``file``. Cheap: decide by name, or by a short head read."""

    @abstractmethod
    def collect(self, file: SourceFile) -> Iterable[Observation]:
        """Yield what ``file`` holds. Raise CollectorError for what cannot be read or parsed."""

    def neighbours(self, file: SourceFile) -> Sequence[Path]:
        """Other files whose content ``collect`` reads for ``file`` (a weight file's ``config.json``
        and model card): their stat stamps join ``file``'s cache key, so editing one re-reads it."""
        return ()

    def cacheable(self, file: SourceFile) -> bool:
        """Whether what ``collect`` yields for ``file`` depends on its bytes alone (then it is cached
        by content). Files read together with their neighbours (a model directory's ``config.json``,
        a signature over a folder) say False and are read on every scan."""
        return True


COLLECTOR_GROUP = "aispm.collectors"


def load_collectors(names: Iterable[str] | None = None) -> list[Collector]:
    """Instantiate every registered collector (built-ins and plugins alike), sorted by name."""
    found = load_plugins(COLLECTOR_GROUP, Collector, names)
    return [found[k]() for k in sorted(found)]


_SCOPE_DIRS: dict[str, Scope] = {
    "test": Scope.TEST,
    "tests": Scope.TEST,
    "testing": Scope.TEST,
    "__tests__": Scope.TEST,
    "spec": Scope.TEST,
    "specs": Scope.TEST,
    "fixtures": Scope.TEST,
    "example": Scope.EXAMPLE,
    "examples": Scope.EXAMPLE,
    "sample": Scope.EXAMPLE,
    "samples": Scope.EXAMPLE,
    "demo": Scope.EXAMPLE,
    "demos": Scope.EXAMPLE,
    "cookbook": Scope.EXAMPLE,
    "docs": Scope.DOCS,
    "doc": Scope.DOCS,
    "node_modules": Scope.VENDORED,
    "vendor": Scope.VENDORED,
    "vendored": Scope.VENDORED,
    "third_party": Scope.VENDORED,
    "site-packages": Scope.VENDORED,
    ".venv": Scope.VENDORED,
    "venv": Scope.VENDORED,
}


#: File names that are templates for others to copy (``.env.example``, ``config.sample.yaml``).
_SAMPLE_NAME = re.compile(
    r"\.(example|examples|sample|samples|template|tmpl|dist)(\.|$)|^(example|sample)s?\.(env|ya?ml|json|toml|ini|cfg|conf)$"
)


def scope_of(path: str) -> Scope:
    """The scope a relative path implies. Vendored wins over everything, then the first match.

    A file named as a sample or template (``.env.example``, ``settings.sample.toml``) is example
    scope wherever it sits: it documents a deployment rather than being one.
    """
    parts = path.split("/")
    dirs = [p.lower() for p in parts[:-1]]
    scopes = [_SCOPE_DIRS[d] for d in dirs if d in _SCOPE_DIRS]
    if Scope.VENDORED in scopes:
        return Scope.VENDORED
    if scopes:
        return scopes[0]
    name = parts[-1].lower()
    if name.startswith("test_") or name.endswith(
        ("_test.py", ".test.ts", ".test.js", ".spec.ts", ".spec.js")
    ):
        return Scope.TEST
    if _SAMPLE_NAME.search(name):
        return Scope.EXAMPLE
    return Scope.PRODUCTION


def observation_to_dict(obs: Observation) -> dict[str, JSON]:
    """A JSON form of an observation, for the per-file cache."""
    if isinstance(obs, Asset):
        return {"t": "asset", **obs.to_dict()}
    if isinstance(obs, Relation):
        return {"t": "relation", **obs.to_dict()}
    if isinstance(obs, EnvBinding):
        return {"t": "env", "name": obs.name, "value": obs.value, "location": obs.location.to_dict()}
    return {
        "t": "mention",
        "location": obs.location.to_dict(),
        "via": obs.via,
        "value": obs.value,
        "env_var": obs.env_var,
        "provider": obs.provider,
        "strong": obs.strong,
        "dataset": obs.dataset,
        "owner": obs.owner,
        "revision": obs.revision,
        "properties": dict(obs.properties),
        "relation": obs.relation.value,
    }


def observation_from_dict(data: Mapping[str, JSON]) -> Observation:
    t = data["t"]
    if t == "asset":
        return Asset.from_dict(data)
    if t == "relation":
        return Relation.from_dict(data)
    if t == "env":
        return EnvBinding(data["name"], data["value"], Location.from_dict(data["location"]))
    if t == "mention":
        return ModelMention(
            location=Location.from_dict(data["location"]),
            via=data["via"],
            value=data.get("value"),
            env_var=data.get("env_var"),
            provider=data.get("provider"),
            strong=bool(data.get("strong")),
            dataset=bool(data.get("dataset")),
            owner=data.get("owner"),
            revision=data.get("revision"),
            properties=dict(data.get("properties") or {}),
            relation=RelationKind(data.get("relation", RelationKind.USES_MODEL.value)),
        )
    raise ValueError(f"unknown observation type {t!r}")
