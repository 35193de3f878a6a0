"""AI packages declared in dependency manifests and lock files, for every ecosystem the catalog knows.

Only packages in the AI package catalog become assets (``package`` kind, with a purl). A manifest
entry pinned exactly (``==1.2``, ``"1.2.3"`` in package.json) carries its version; a range carries
``version: None`` and the declared ``spec``; lock files carry the exact version resolved. So the same
package seen in ``requirements.txt`` (``openai>=1``) and ``uv.lock`` (``1.54.0``) is two assets, one
per version known, and merges only where the versions agree.

Nothing is installed, resolved online or executed: TOML, JSON and YAML are parsed with safe
parsers, XML with entity expansion and DTDs refused, and the rest (requirements, yarn.lock,
go.mod, Gemfile, Gradle) line by line. Each entry the parser cannot read is reported once the
readable ones have been yielded.
"""

from __future__ import annotations

import json
import re
import tomllib
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import accumulate
from typing import TYPE_CHECKING, Any, Final
from xml.etree.ElementTree import Element

import yaml
from packageurl import PackageURL

from aispm.assets import package_asset
from aispm.catalog.ai_packages import lookup, normalize_name
from aispm.collectors.base import (
    MAX_TEXT_BYTES,
    Collector,
    CollectorError,
    Observation,
    SourceFile,
    split_suffix,
)
from aispm.model import JSON, Asset, ErrorKind

if TYPE_CHECKING:
    from packaging.requirements import Requirement

#: Lock files of large monorepos are big; they are still read whole, up to this size.
MAX_LOCK_BYTES: Final = 32 * 1024 * 1024
#: Groups of optional or grouped dependencies whose names say they are for development only.
_DEV_GROUPS: Final = frozenset(
    {"dev", "develop", "development", "test", "tests", "testing", "lint", "linting", "typing", "docs", "doc"}
)
_EXACT_NPM: Final = re.compile(r"^=?v?(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?)$")
_EXACT_PLAIN: Final = re.compile(r"^(\d+(?:\.\d+)*(?:[-+._]?[0-9A-Za-z]+)*)$")
_REQ_FILE: Final = re.compile(r"(?i)^(?:.*requirements.*|constraints.*)\.(?:txt|in)$")
_REQ_DIR: Final = re.compile(r"(?i)^requirements?$")
_COMMENT: Final = re.compile(r"(^|\s)#.*$")
_TRAILING_OPTION: Final = re.compile(r"\s+--?[A-Za-z]")
_WHEEL: Final = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._]*)-([0-9][^-]*)-.*\.whl$")
_SDIST: Final = re.compile(
    r"^([A-Za-z0-9][A-Za-z0-9._-]*?)-([0-9][A-Za-z0-9.+!_-]*)\.(?:tar\.gz|tar\.bz2|zip|tgz)$"
)
_EGG: Final = re.compile(r"[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)")
_MAVEN_PROP: Final = re.compile(r"\$\{([^}]+)\}")
_GRADLE_COORD: Final = re.compile(
    r"""^\s*([A-Za-z][A-Za-z0-9_]*)\s*\(?\s*(?:platform\s*\(\s*|enforcedPlatform\s*\(\s*)?["']"""
    r"""([A-Za-z0-9_.-]+):([A-Za-z0-9_.-]+)(?::([^"':@]+))?(?::[^"'@]*)?(?:@[^"']*)?["']"""
)
_GRADLE_MAP: Final = re.compile(
    r"""^\s*([A-Za-z][A-Za-z0-9_]*)\s*\(?\s*group\s*[:=]\s*["']([^"']+)["']\s*,\s*name\s*[:=]\s*["']([^"']+)["']"""
    r"""(?:\s*,\s*version\s*[:=]\s*["']([^"']+)["'])?"""
)
_GEM: Final = re.compile(r"""^\s*gem\s*\(?\s*["']([^"']+)["']((?:\s*,\s*["'][^"']*["'])*)(.*)$""")
_GEM_GROUP: Final = re.compile(r"""^\s*group\s+(.+?)\s+do\b""")
_BLOCK_OPEN: Final = re.compile(r"\bdo\b(\s*\|[^|]*\|)?\s*(#.*)?$")
_BLOCK_END: Final = re.compile(r"^\s*end\b")


def _is_requirements(file: SourceFile) -> bool:
    if _REQ_FILE.match(file.name):
        return True
    if split_suffix(file.name)[1] not in (".txt", ".in"):
        return False
    parent = file.path.rpartition("/")[0].rpartition("/")[2]
    return bool(_REQ_DIR.match(parent))


_BY_NAME: Final[dict[str, str]] = {
    "pyproject.toml": "pyproject",
    "pipfile": "pipfile",
    "pipfile.lock": "pipfile_lock",
    "poetry.lock": "poetry_lock",
    "uv.lock": "uv_lock",
    "package.json": "package_json",
    "package-lock.json": "package_lock",
    "npm-shrinkwrap.json": "package_lock",
    "yarn.lock": "yarn_lock",
    "pnpm-lock.yaml": "pnpm_lock",
    "pom.xml": "pom",
    "build.gradle": "gradle",
    "build.gradle.kts": "gradle",
    "libs.versions.toml": "gradle_catalog",
    "go.mod": "go_mod",
    "cargo.toml": "cargo_toml",
    "cargo.lock": "cargo_lock",
    "gemfile": "gemfile",
    "directory.packages.props": "msbuild",
}
_MSBUILD_SUFFIXES: Final = frozenset({".csproj", ".fsproj", ".vbproj"})


def _kind_of(file: SourceFile) -> str | None:
    name = file.name.lower()
    if name in _BY_NAME:
        return _BY_NAME[name]
    if file.suffix in _MSBUILD_SUFFIXES:
        return "msbuild"
    if _is_requirements(file):
        return "requirements"
    return None


class ManifestCollector(Collector):
    """Package assets for the AI packages that dependency manifests and lock files declare."""

    name = "manifests"
    version = "2"

    def wants(self, file: SourceFile) -> bool:
        return _kind_of(file) is not None

    def collect(self, file: SourceFile) -> Iterable[Observation]:
        kind = _kind_of(file)
        if kind is None:
            return
        limit = MAX_LOCK_BYTES if kind.endswith("_lock") else MAX_TEXT_BYTES
        text = file.read_text(limit)
        out = _Out(file, text)
        _PARSERS[kind](out)
        yield from out.assets
        if out.problems:
            shown = "; ".join(out.problems[:3])
            more = f" (and {len(out.problems) - 3} more)" if len(out.problems) > 3 else ""
            raise CollectorError(
                f"{len(out.problems)} entries could not be read: {shown}{more}", ErrorKind.PARSE
            )


# --------------------------------------------------------------------------------------------------
# Output: one place that turns a declared dependency into an asset


@dataclass
class _Out:
    """What one manifest produces: AI package assets, and the entries it could not read."""

    file: SourceFile
    text: str
    assets: list[Asset] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    _lines: list[str] | None = None
    _starts: list[int] | None = None

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = self.text.splitlines()
        return self._lines

    @property
    def starts(self) -> list[int]:
        """Offsets at which each line starts (lines as ``str.splitlines`` counts them)."""
        if self._starts is None:
            self._starts = [0, *accumulate(len(x) for x in self.text.splitlines(keepends=True))]
        return self._starts

    def line_of(self, *needles: str, after: int = 0) -> int | None:
        """The first line (1-based) at or after ``after`` that holds any of ``needles``.

        One ``str.find`` per needle over the text: lock files list thousands of packages, and a
        line-by-line scan per package made them quadratic.
        """
        starts = self.starts
        begin = starts[min(after - 1, len(starts) - 1)] if after > 1 else 0
        hits = [p for n in needles if (p := self.text.find(n, begin)) >= 0]
        if hits:
            return bisect_right(starts, min(hits))
        if after:
            return self.line_of(*needles)
        return None

    def section_line(self, header: str) -> int:
        return self.line_of(header) or 0

    def add(
        self,
        ecosystem: str,
        name: str,
        *,
        version: str | None,
        spec: str | None,
        dev: bool,
        line: int | None,
        **extra: JSON,
    ) -> None:
        """An asset for ``name`` if the catalog calls it an AI package; nothing otherwise."""
        info = lookup(ecosystem, name)
        if info is None:
            return
        display = _display_name(ecosystem, name)
        props: dict[str, JSON] = {
            "category": info.category,
            "spec": spec or None,
            "dev": dev,
            "manifest": self.file.path,
            "purl": _purl(ecosystem, display, version),
            **{k: v for k, v in extra.items() if v not in (None, "", [], {})},
        }
        if info.provider:
            props["provider"] = info.provider
        self.assets.append(
            package_asset(ecosystem, display, version, self.file.loc(line), self.file.scope, **props)
        )


def _display_name(ecosystem: str, name: str) -> str:
    if ecosystem in ("pypi", "npm", "cargo"):
        return normalize_name(ecosystem, name)
    return name.strip()


def _purl(ecosystem: str, name: str, version: str | None) -> str:
    """The package URL, with the namespace split out where the ecosystem has one."""
    namespace: str | None = None
    if ecosystem == "maven" and ":" in name:
        namespace, name = name.split(":", 1)
    elif ecosystem in ("npm", "golang") and "/" in name:
        namespace, name = name.rsplit("/", 1)
    return str(
        PackageURL(type=ecosystem, namespace=namespace, name=name, version=version or None).to_string()
    )


def _pep440_pin(req: Requirement) -> str | None:
    specs = list(req.specifier)
    if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
        return specs[0].version
    return None


# --------------------------------------------------------------------------------------------------
# Python


@dataclass(frozen=True, slots=True)
class RequirementLine:
    """One requirement of a pip requirements file, as written."""

    line: int
    name: str
    spec: str
    version: str | None
    extras: tuple[str, ...] = ()
    marker: str | None = None
    url: str | None = None
    hashed: bool = False
    editable: bool = False


@dataclass
class ParsedRequirements:
    """A pip requirements file: its requirements, the files it includes, and lines it could not read."""

    requirements: list[RequirementLine] = field(default_factory=list)
    includes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def parse_requirements(text: str) -> ParsedRequirements:
    """Parse pip requirements syntax without pip: never raises, reports unreadable lines instead.

    Handles comments, line continuations, ``-r``/``-c`` includes (recorded, not followed: the
    included file is scanned on its own), ``-e`` and direct URLs (name from ``#egg=`` or the
    wheel/sdist file name), extras, environment markers and per-requirement ``--hash`` options.
    """
    out = ParsedRequirements()
    for number, logical in _logical_lines(text):
        line = _COMMENT.sub("", logical).strip()
        if not line:
            continue
        if line.startswith("-"):
            _requirement_option(number, line, out)
            continue
        hashed = "--hash" in line
        cut = _TRAILING_OPTION.search(line)
        if cut is not None:
            line = line[: cut.start()].strip()
        req = _requirement_or_url(number, line, out)
        if req is not None:
            out.requirements.append(_with(req, hashed=hashed))
    return out


def _with(req: RequirementLine, *, hashed: bool) -> RequirementLine:
    if not hashed:
        return req
    return RequirementLine(
        req.line, req.name, req.spec, req.version, req.extras, req.marker, req.url, True, req.editable
    )


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    buf: list[str] = []
    start = 0
    for i, raw in enumerate(text.splitlines(), 1):
        if not buf:
            start = i
        if raw.endswith("\\") and not _COMMENT.search(raw):
            buf.append(raw[:-1])
            continue
        buf.append(raw)
        yield start, " ".join(buf)
        buf = []
    if buf:
        yield start, " ".join(buf)


def _requirement_option(number: int, line: str, out: ParsedRequirements) -> None:
    opt, _, rest = line.partition(" ")
    if "=" in opt and opt.startswith("--"):
        opt, _, rest = opt.partition("=")
    elif opt[:2] in ("-r", "-c", "-e") and len(opt) > 2:
        opt, rest = opt[:2], opt[2:]
    rest = rest.strip()
    if opt in ("-r", "--requirement", "-c", "--constraint"):
        if rest:
            out.includes.append(rest)
    elif opt in ("-e", "--editable"):
        egg = _EGG.search(rest)
        if egg:
            name = egg.group(1)
            out.requirements.append(RequirementLine(number, name, rest, None, url=rest, editable=True))


def _requirement_or_url(number: int, line: str, out: ParsedRequirements) -> RequirementLine | None:
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", line) or line.startswith(("git+", "file:", "./", "../", "/")):
        egg = _EGG.search(line)
        if egg:
            return RequirementLine(number, egg.group(1), line, None, url=line)
        filename = line.split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        m = _WHEEL.match(filename) or _SDIST.match(filename)
        if m:
            return RequirementLine(number, m.group(1), line, m.group(2), url=line)
        return None  # a local directory or an archive without a name: nothing to attribute
    from packaging.requirements import InvalidRequirement, Requirement  # imported on first use: slow

    try:
        req = Requirement(line)
    except InvalidRequirement as exc:
        out.problems.append(f"line {number}: {str(exc).splitlines()[0][:120]}")
        return None
    return RequirementLine(
        line=number,
        name=req.name,
        spec=str(req.specifier),
        version=_pep440_pin(req),
        extras=tuple(sorted(req.extras)),
        marker=str(req.marker) if req.marker else None,
        url=req.url,
    )


def _requirements(out: _Out) -> None:
    parsed = parse_requirements(out.text)
    for r in parsed.requirements:
        out.add(
            "pypi",
            r.name,
            version=r.version,
            spec=r.spec,
            dev=False,
            line=r.line,
            extras=list(r.extras),
            marker=r.marker,
            url=r.url,
            hashed=r.hashed or None,
            editable=r.editable or None,
            includes=parsed.includes,
        )
    out.problems.extend(parsed.problems)


def _load_toml(out: _Out) -> dict[str, Any]:
    try:
        return tomllib.loads(out.text)
    except tomllib.TOMLDecodeError as exc:
        raise CollectorError(f"invalid TOML: {exc}") from exc


def _pep508(out: _Out, item: object, *, dev: bool, group: str | None, section: str) -> None:
    if not isinstance(item, str):
        return  # PEP 735 ``{include-group = "..."}`` tables name other groups, not packages
    from packaging.requirements import InvalidRequirement, Requirement  # imported on first use: slow

    try:
        req = Requirement(item)
    except InvalidRequirement as exc:
        out.problems.append(f"{item!r}: {str(exc).splitlines()[0][:120]}")
        return
    out.add(
        "pypi",
        req.name,
        version=_pep440_pin(req),
        spec=str(req.specifier) or None,
        dev=dev,
        line=out.line_of(f'"{req.name}', f"'{req.name}", after=out.section_line(section)),
        extras=sorted(req.extras),
        marker=str(req.marker) if req.marker else None,
        url=req.url,
        group=group,
    )


def _poetry_spec(value: object) -> tuple[str | None, str | None]:
    """``(spec, exact version)`` of a Poetry dependency value (``"^1.2"``, ``{version = "1.2"}``...)."""
    if isinstance(value, list):
        return ", ".join(s for v in value if (s := _poetry_spec(v)[0])), None
    if isinstance(value, dict):
        raw = value.get("version")
        if not isinstance(raw, str):
            src = next((str(value[k]) for k in ("git", "url", "path") if k in value), None)
            return src, None
        value = raw
    if not isinstance(value, str):
        return None, None
    v = value.strip()
    if v.startswith("==") and _EXACT_PLAIN.match(v[2:].strip()):
        return v, v[2:].strip()
    if _EXACT_PLAIN.match(v):  # Poetry reads a bare version as an exact pin
        return v, v
    return v, None


def _pyproject(out: _Out) -> None:
    doc = _load_toml(out)
    project = doc.get("project")
    if isinstance(project, dict):
        for item in _list(project.get("dependencies")):
            _pep508(out, item, dev=False, group=None, section="[project]")
        for group, items in _dict(project.get("optional-dependencies")).items():
            for item in _list(items):
                _pep508(out, item, dev=group in _DEV_GROUPS, group=group, section="optional-dependencies")
    for group, items in _dict(doc.get("dependency-groups")).items():
        for item in _list(items):
            _pep508(out, item, dev=True, group=group, section="[dependency-groups]")
    tool = _dict(doc.get("tool"))
    for item in _list(_dict(tool.get("uv")).get("dev-dependencies")):
        _pep508(out, item, dev=True, group="dev", section="[tool.uv]")
    for group, items in _dict(_dict(tool.get("pdm")).get("dev-dependencies")).items():
        for item in _list(items):
            _pep508(out, item, dev=True, group=group, section="[tool.pdm")
    poetry = _dict(tool.get("poetry"))
    sections: list[tuple[str, object, bool, str]] = [
        ("main", poetry.get("dependencies"), False, "[tool.poetry.dependencies]"),
        ("dev", poetry.get("dev-dependencies"), True, "[tool.poetry.dev-dependencies]"),
    ]
    for group, body in _dict(poetry.get("group")).items():
        sections.append(
            (group, _dict(body).get("dependencies"), group != "main", f"[tool.poetry.group.{group}")
        )
    for group, deps, dev, header in sections:
        for name, value in _dict(deps).items():
            if name.lower() == "python":
                continue
            spec, version = _poetry_spec(value)
            extras = _dict(value).get("extras") if isinstance(value, dict) else None
            out.add(
                "pypi",
                name,
                version=version,
                spec=spec,
                dev=dev,
                line=out.line_of(f"{name} ", f"{name}=", f'"{name}"', after=out.section_line(header)),
                group=group,
                extras=sorted(str(e) for e in _list(extras)),
            )


def _pipfile(out: _Out) -> None:
    doc = _load_toml(out)
    for section, dev in (("packages", False), ("dev-packages", True)):
        header = out.section_line(f"[{section}]")
        for name, value in _dict(doc.get(section)).items():
            spec, version = _poetry_spec(value)
            if spec == "*":
                spec = None
            if version is not None and not (spec or "").startswith("=="):
                version = None  # Pipfile reads a bare version as a range, unlike Poetry
            out.add(
                "pypi",
                name,
                version=version,
                spec=spec,
                dev=dev,
                line=out.line_of(f"{name} ", f"{name}=", f'"{name}"', after=header),
            )


def _load_json(out: _Out) -> Any:
    try:
        return json.loads(out.text)
    except json.JSONDecodeError as exc:
        raise CollectorError(f"invalid JSON: {exc}") from exc


def _pipfile_lock(out: _Out) -> None:
    doc = _dict(_load_json(out))
    for section, dev in (("default", False), ("develop", True)):
        for name, value in _dict(doc.get(section)).items():
            raw = _dict(value).get("version")
            version = raw[2:] if isinstance(raw, str) and raw.startswith("==") else None
            out.add("pypi", name, version=version, spec=None, dev=dev, line=out.line_of(f'"{name}"'))


def _lock_packages(out: _Out) -> list[dict[str, Any]]:
    doc = _load_toml(out)
    packages = doc.get("package", [])
    if not isinstance(packages, list):
        raise CollectorError("lock file has no [[package]] array")
    return [p for p in packages if isinstance(p, dict)]


def _poetry_lock(out: _Out) -> None:
    for p in _lock_packages(out):
        name, version = p.get("name"), p.get("version")
        if not isinstance(name, str):
            continue
        groups = _list(p.get("groups"))
        dev = p.get("category") == "dev" or (bool(groups) and "main" not in groups)
        line = out.line_of(f'name = "{name}"')
        out.add("pypi", name, version=str(version) if version else None, spec=None, dev=dev, line=line)


def _uv_lock(out: _Out) -> None:
    packages = _lock_packages(out)
    runtime: set[str] = set()
    dev_only: set[str] = set()
    for p in packages:
        source = _dict(p.get("source"))
        if "editable" in source or "virtual" in source:
            runtime.update(_dep_names(p.get("dependencies")))
            for deps in _dict(p.get("optional-dependencies")).values():
                runtime.update(_dep_names(deps))
            for deps in _dict(p.get("dev-dependencies")).values():
                dev_only.update(_dep_names(deps))
    dev_only -= runtime
    for p in packages:
        name, version = p.get("name"), p.get("version")
        if not isinstance(name, str) or "editable" in _dict(p.get("source")):
            continue
        dev = normalize_name("pypi", name) in dev_only
        line = out.line_of(f'name = "{name}"')
        out.add("pypi", name, version=str(version) if version else None, spec=None, dev=dev, line=line)


def _dep_names(deps: object) -> set[str]:
    return {
        normalize_name("pypi", str(d["name"])) for d in _list(deps) if isinstance(d, dict) and "name" in d
    }


# --------------------------------------------------------------------------------------------------
# JavaScript


def _npm_spec(name: str, spec: object) -> tuple[str, str | None, str | None]:
    """``(real name, spec, exact version)``; ``npm:other@1.2.3`` aliases name the real package."""
    s = spec.strip() if isinstance(spec, str) else ""
    if s.startswith("npm:"):
        target = s[4:]
        at = target.rfind("@")
        if at > 0:
            name, s = target[:at], target[at + 1 :]
        else:
            name, s = target, ""
    m = _EXACT_NPM.match(s)
    return name, s or None, (m.group(1) if m else None)


def _package_json(out: _Out) -> None:
    doc = _load_json(out)
    if not isinstance(doc, dict):
        raise CollectorError("package.json is not a JSON object")
    if "node_modules" in out.file.path.split("/")[:-1]:
        # An installed package: what it is (name and exact version) is the fact; the ranges it
        # declares for its own dependencies are its business, and the lock file has the rest.
        name, version = doc.get("name"), doc.get("version")
        if isinstance(name, str) and isinstance(version, str):
            out.add(
                "npm",
                name,
                version=version,
                spec=None,
                dev=False,
                line=out.line_of('"version"'),
                installed=True,
            )
        return
    for section, dev in (
        ("dependencies", False),
        ("devDependencies", True),
        ("peerDependencies", False),
        ("optionalDependencies", False),
    ):
        header = out.section_line(f'"{section}"')
        for raw_name, raw_spec in _dict(doc.get(section)).items():
            name, spec, version = _npm_spec(raw_name, raw_spec)
            out.add(
                "npm",
                name,
                version=version,
                spec=spec,
                dev=dev,
                line=out.line_of(f'"{raw_name}"', after=header),
                dependency_type=section,
            )


def _package_lock(out: _Out) -> None:
    doc = _dict(_load_json(out))
    packages = doc.get("packages")
    if isinstance(packages, dict):
        for key, meta in packages.items():
            if "node_modules/" not in key or not isinstance(meta, dict):
                continue
            name = str(meta.get("name") or key.rsplit("node_modules/", 1)[1])
            version = meta.get("version")
            out.add(
                "npm",
                name,
                version=str(version) if version else None,
                spec=None,
                dev=bool(meta.get("dev") or meta.get("devOptional")),
                line=out.line_of(f'"{key}"'),
            )
        return
    # lockfileVersion 1: nested ``dependencies``, walked without recursion.
    stack: list[Mapping[str, Any]] = [_dict(doc.get("dependencies"))]
    while stack:
        deps = stack.pop()
        for name, meta in deps.items():
            if not isinstance(meta, dict):
                continue
            version = meta.get("version")
            exact = str(version) if isinstance(version, str) and _EXACT_NPM.match(version) else None
            out.add(
                "npm",
                name,
                version=exact,
                spec=None,
                dev=bool(meta.get("dev")),
                line=out.line_of(f'"{name}"'),
            )
            if isinstance(meta.get("dependencies"), dict):
                stack.append(meta["dependencies"])


def _yarn_name(spec: str) -> str | None:
    spec = spec.strip().strip('"').strip("'")
    at = spec.find("@", 1)
    return spec[:at] if at > 0 else None


def _yarn_lock(out: _Out) -> None:
    """yarn.lock, classic (v1) and Berry: a header line of specs, then an indented ``version``."""
    names: list[str] = []
    header_line = 0
    for i, raw in enumerate(out.lines, 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if not raw[0].isspace():
            header = raw.rstrip()
            if not header.endswith(":"):
                out.problems.append(f"line {i}: expected an entry header ending with ':'")
                names = []
                continue
            specs = [s for s in header[:-1].split(",") if s.strip()]
            if header[:-1].strip() == "__metadata" or any("@workspace:" in s or "@link:" in s for s in specs):
                names = []
                continue
            names = sorted({n for s in specs if (n := _yarn_name(s))})
            header_line = i
            continue
        m = re.match(r"""^\s+version:?\s+["']?([^"'\s]+)["']?\s*$""", raw)
        if m and names:
            for name in names:
                out.add("npm", name, version=m.group(1), spec=None, dev=False, line=header_line)
            names = []


#: libyaml's SafeLoader where PyYAML was built with it (lock files are large), else the pure one.
_SafeYamlLoader: Final = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _safe_yaml(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_SafeYamlLoader)  # noqa: S506 - the C build of SafeLoader
    except yaml.YAMLError as exc:
        raise CollectorError(f"invalid YAML: {str(exc).splitlines()[0]}") from exc


def _pnpm_key(key: str, v5: bool) -> tuple[str, str] | None:
    k = key.lstrip("/").split("(", 1)[0]
    if v5:
        name, _, version = k.rpartition("/")
        version = version.split("_", 1)[0]
    else:
        at = k.rfind("@")
        if at <= 0:
            return None
        name, version = k[:at], k[at + 1 :]
    return (name, version) if name and version else None


def _pnpm_lock(out: _Out) -> None:
    doc = _safe_yaml(out.text)
    if not isinstance(doc, dict):
        raise CollectorError("pnpm-lock.yaml is not a YAML mapping")
    v5 = str(doc.get("lockfileVersion", "")).startswith("5")
    dev_names = set(_dict(doc.get("devDependencies")))
    for importer in _dict(doc.get("importers")).values():
        dev_names.update(_dict(_dict(importer).get("devDependencies")))
    for key, meta in _dict(doc.get("packages")).items():
        parsed = _pnpm_key(str(key), v5)
        if parsed is None:
            out.problems.append(f"unreadable package key {str(key)[:80]!r}")
            continue
        name, version = parsed
        dev = bool(_dict(meta).get("dev")) or name in dev_names
        out.add("npm", name, version=version, spec=None, dev=dev, line=out.line_of(str(key)))


# --------------------------------------------------------------------------------------------------
# JVM, .NET


def _parse_xml(out: _Out) -> Element:
    """Parse XML with no DTD, no entities, no external references (XXE and billion laughs refused)."""
    try:
        import defusedxml.ElementTree as safe_et
        from defusedxml import DefusedXmlException
    except ImportError:  # pragma: no cover - defusedxml is a dependency; refuse DTDs without it
        return _parse_xml_without_dtd(out.text)
    from xml.etree.ElementTree import ParseError

    try:
        root: Element = safe_et.fromstring(out.text.encode("utf-8"), forbid_dtd=True)
    except DefusedXmlException as exc:
        raise CollectorError(f"XML with a DTD or entities refused ({type(exc).__name__})") from exc
    except ParseError as exc:
        raise CollectorError(f"invalid XML: {exc}") from exc
    return root


def _parse_xml_without_dtd(text: str) -> Element:
    from xml.etree.ElementTree import ParseError, XMLParser

    if re.search(r"<!(?:DOCTYPE|ENTITY)", text, re.IGNORECASE):
        raise CollectorError("XML with a DTD or entities refused")
    parser = XMLParser()  # noqa: S314 - any DTD, hence any entity, was refused just above
    try:
        parser.feed(text)
        return parser.close()
    except ParseError as exc:
        raise CollectorError(f"invalid XML: {exc}") from exc


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _child_text(el: Element, name: str) -> str | None:
    for c in el:
        if _local(c.tag) == name:
            return (c.text or "").strip() or None
    return None


def _pom(out: _Out) -> None:
    root = _parse_xml(out)
    props: dict[str, str] = {}
    for el in root:
        if _local(el.tag) == "properties":
            props.update({_local(p.tag): (p.text or "").strip() for p in el})
    for key in ("version", "groupId"):
        if value := _child_text(root, key):
            props[f"project.{key}"] = value

    def resolve(v: str | None) -> str | None:
        for _ in range(5):
            if v is None or "${" not in v:
                return v
            v = _MAVEN_PROP.sub(lambda m: props.get(m.group(1), m.group(0)), v)
        return v

    for dep in root.iter():
        if _local(dep.tag) != "dependency":
            continue
        group, artifact = resolve(_child_text(dep, "groupId")), resolve(_child_text(dep, "artifactId"))
        if not group or not artifact:
            continue
        declared = _child_text(dep, "version")
        version = resolve(declared)
        exact = version if version and "${" not in version and not version.startswith(("[", "(")) else None
        scope = _child_text(dep, "scope")
        out.add(
            "maven",
            f"{group}:{artifact}",
            version=exact,
            spec=declared,
            dev=scope == "test",
            line=out.line_of(f"<artifactId>{artifact}</artifactId>"),
            maven_scope=scope,
        )


def _gradle(out: _Out) -> None:
    for i, line in enumerate(out.lines, 1):
        m = _GRADLE_COORD.match(line) or _GRADLE_MAP.match(line)
        if not m:
            continue
        config, group, artifact, version = m.group(1), m.group(2), m.group(3), m.group(4)
        exact = version if version and "$" not in version and not version.startswith(("[", "(")) else None
        out.add(
            "maven",
            f"{group}:{artifact}",
            version=exact,
            spec=version,
            dev=config.lower().startswith("test"),
            line=i,
            configuration=config,
        )


def _gradle_catalog(out: _Out) -> None:
    doc = _load_toml(out)
    versions = _dict(doc.get("versions"))
    for alias, lib in _dict(doc.get("libraries")).items():
        version: object = None
        if isinstance(lib, str):
            parts = lib.split(":")
            coord, version = ":".join(parts[:2]), parts[2] if len(parts) > 2 else None
        elif isinstance(lib, dict):
            coord = str(lib.get("module") or f"{lib.get('group')}:{lib.get('name')}")
            v = lib.get("version")
            version = versions.get(str(_dict(v).get("ref"))) if isinstance(v, dict) else v
        else:
            continue
        if isinstance(version, dict):
            version = version.get("strictly") or version.get("require")
        exact = str(version) if isinstance(version, str) and not version.startswith(("[", "(")) else None
        out.add(
            "maven", coord, version=exact, spec=exact, dev=False, line=out.line_of(f"{alias} ", f"{alias}=")
        )


def _msbuild(out: _Out) -> None:
    root = _parse_xml(out)
    for el in root.iter():
        if _local(el.tag) not in ("PackageReference", "PackageVersion"):
            continue
        name = el.get("Include") or el.get("Update")
        if not name:
            continue
        declared = el.get("Version") or el.get("VersionOverride") or _child_text(el, "Version")
        # NuGet resolves a plain version to the lowest match, that version itself; ranges stay specs.
        exact = declared if declared and not declared.startswith(("[", "(")) and "*" not in declared else None
        if declared and declared.startswith("[") and declared.endswith("]") and "," not in declared:
            exact = declared[1:-1].strip()
        dev = (el.get("PrivateAssets") or _child_text(el, "PrivateAssets") or "").lower() == "all"
        out.add("nuget", name, version=exact, spec=declared, dev=dev, line=out.line_of(f'"{name}"'))


# --------------------------------------------------------------------------------------------------
# Go, Rust, Ruby


def _go_mod(out: _Out) -> None:
    in_block = False
    for i, raw in enumerate(out.lines, 1):
        line = raw.split("//", 1)[0].strip()
        indirect = "// indirect" in raw
        if in_block:
            if line == ")":
                in_block = False
                continue
            body = line
        elif line.startswith("require"):
            rest = line[len("require") :].strip()
            if rest == "(":
                in_block = True
                continue
            body = rest
        else:
            continue
        if not body:
            continue
        parts = body.split()
        if len(parts) != 2 or not parts[1].startswith("v"):
            out.problems.append(f"line {i}: expected 'module version'")
            continue
        out.add("golang", parts[0], version=parts[1], spec=None, dev=False, line=i, indirect=indirect or None)
    if in_block:
        out.problems.append("unterminated require ( block")


def _cargo_toml(out: _Out) -> None:
    doc = _load_toml(out)
    tables: list[tuple[str, object, bool]] = [
        ("dependencies", doc.get("dependencies"), False),
        ("dev-dependencies", doc.get("dev-dependencies"), True),
        ("build-dependencies", doc.get("build-dependencies"), False),
        ("workspace.dependencies", _dict(doc.get("workspace")).get("dependencies"), False),
    ]
    for target in _dict(doc.get("target")).values():
        for key in ("dependencies", "dev-dependencies", "build-dependencies"):
            tables.append((key, _dict(target).get(key), key == "dev-dependencies"))
    for section, deps, dev in tables:
        for key, value in _dict(deps).items():
            name = str(value.get("package", key)) if isinstance(value, dict) else key
            spec = value if isinstance(value, str) else _dict(value).get("version")
            spec_s = str(spec) if isinstance(spec, str) else None
            exact = spec_s[1:].strip() if spec_s and spec_s.startswith("=") else None
            out.add(
                "cargo",
                name,
                version=exact,
                spec=spec_s,
                dev=dev,
                line=out.line_of(f"{key} ", f"{key}=", f"{key}.", after=out.section_line(section)),
                section=section,
            )


def _cargo_lock(out: _Out) -> None:
    for p in _lock_packages(out):
        name, version = p.get("name"), p.get("version")
        if isinstance(name, str):
            line = out.line_of(f'name = "{name}"')
            out.add("cargo", name, version=str(version) if version else None, spec=None, dev=False, line=line)


def _gemfile(out: _Out) -> None:
    stack: list[bool] = []
    for i, raw in enumerate(out.lines, 1):
        line = raw.split("#", 1)[0] if not raw.lstrip().startswith("#") else ""
        if not line.strip():
            continue
        g = _GEM_GROUP.match(line)
        if g:
            groups = set(re.findall(r":(\w+)|[\"'](\w+)[\"']", g.group(1)))
            names = {a or b for a, b in groups}
            stack.append(bool(names) and names <= {"development", "test"})
            continue
        if _BLOCK_END.match(line):
            if stack:
                stack.pop()
            continue
        m = _GEM.match(line)
        if m:
            constraints = re.findall(r"""["']([^"']*)["']""", m.group(2))
            spec = ", ".join(constraints) or None
            exact = _gem_pin(constraints)
            tail = m.group(3)
            dev = any(stack) or bool(re.search(r"groups?:\s*\[?\s*:(development|test)", tail))
            out.add("gem", m.group(1), version=exact, spec=spec, dev=dev, line=i)
        elif _BLOCK_OPEN.search(line):
            stack.append(False)


def _gem_pin(constraints: list[str]) -> str | None:
    """The version of a single exact constraint (``"1.2.3"`` or ``"= 1.2.3"``), else None."""
    if len(constraints) != 1:
        return None
    c = constraints[0].strip()
    if c.startswith(("~", ">", "<", "!")):
        return None
    c = c.lstrip("= ").strip()
    return c if _EXACT_PLAIN.match(c) else None


# --------------------------------------------------------------------------------------------------


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


_PARSERS: Final[dict[str, Callable[[_Out], None]]] = {
    "requirements": _requirements,
    "pyproject": _pyproject,
    "pipfile": _pipfile,
    "pipfile_lock": _pipfile_lock,
    "poetry_lock": _poetry_lock,
    "uv_lock": _uv_lock,
    "package_json": _package_json,
    "package_lock": _package_lock,
    "yarn_lock": _yarn_lock,
    "pnpm_lock": _pnpm_lock,
    "pom": _pom,
    "gradle": _gradle,
    "gradle_catalog": _gradle_catalog,
    "msbuild": _msbuild,
    "go_mod": _go_mod,
    "cargo_toml": _cargo_toml,
    "cargo_lock": _cargo_lock,
    "gemfile": _gemfile,
}
