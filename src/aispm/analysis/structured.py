"""Safe, bounded loading of YAML, JSON and JSONC, keeping the line of every key where possible.

YAML is composed with PyYAML's safe (C, where available) composer and then turned into Python
values here, so that no constructor ever runs for a tag we do not know and so that alias
expansion is counted: an alias bomb ("billion laughs") is a tiny node graph that expands
exponentially, and it is refused once the expansion outgrows the document.
Unknown tags (CloudFormation's ``!Ref``, GitLab's ``!reference``) are read as the plain value
underneath instead of failing the file.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterator
from typing import Any

import json5
import yaml

_Loader: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: Alias expansion allowed beyond the document's own size before it is treated as a bomb.
ALIAS_EXPANSION_ALLOWANCE = 100_000
MAX_DEPTH = 200
_SCALAR_CONSTRUCTOR = yaml.SafeLoader("")
_MERGE_TAG = "tag:yaml.org,2002:merge"


class StructuredLimitError(ValueError):
    """The document is too deep or expands too far (an alias bomb) to be read safely."""


class LocatedDict(dict[str, Any]):
    """A mapping that remembers the 1-based line of itself and of each of its keys."""

    __slots__ = ("line", "lines")

    def __init__(self, line: int | None = None) -> None:
        super().__init__()
        self.line = line
        self.lines: dict[str, int] = {}


class LocatedList(list[Any]):
    """A sequence that remembers the 1-based line of itself and of each item."""

    __slots__ = ("line", "lines")

    def __init__(self, line: int | None = None) -> None:
        super().__init__()
        self.line = line
        self.lines: list[int] = []


def load_yaml_documents(text: str) -> list[Any]:
    """Every document of a YAML stream as Python values (mappings as :class:`LocatedDict`).

    Raises ``yaml.YAMLError`` for malformed YAML and :class:`StructuredLimitError` for an alias
    bomb or excessive nesting.
    """
    docs: list[Any] = []
    for node in yaml.compose_all(text, Loader=_Loader):
        if node is None:
            continue
        distinct = _count_distinct(node)
        builder = _Builder(budget=distinct + ALIAS_EXPANSION_ALLOWANCE)
        docs.append(builder.build(node, 0))
    return docs


def load_json(text: str, *, jsonc: bool = False) -> Any:
    """A JSON document; with ``jsonc``, comments and trailing commas are allowed (via json5).

    Strict JSON is tried first because it is much faster; JSONC is the fallback.
    Raises ``ValueError`` when the text is neither.
    """
    try:
        return json.loads(text)
    except ValueError:
        if not jsonc:
            raise
    try:
        return json5.loads(text)
    except ValueError:
        raise
    except Exception as exc:  # json5 raises assorted errors for malformed input
        raise ValueError(f"invalid JSONC: {exc}") from exc


class LineIndex:
    """Maps character offsets of a text to 1-based line numbers, and finds text by line."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts = [0]
        pos = text.find("\n")
        while pos != -1:
            self._starts.append(pos + 1)
            pos = text.find("\n", pos + 1)

    def line_at(self, offset: int) -> int:
        """The line holding character ``offset``."""
        return bisect.bisect_right(self._starts, offset)

    def find(self, *needles: str, start: int = 0) -> int | None:
        """The first line holding every needle (the first needle's line when they never meet)."""
        needles = tuple(n for n in needles if n)
        if not needles:
            return None
        first = self.text.find(needles[0], start)
        if first == -1:
            return None
        pos = first
        while pos != -1:
            line = self.line_at(pos)
            s = self._starts[line - 1]
            e = self._starts[line] if line < len(self._starts) else len(self.text)
            if all(n in self.text[s:e] for n in needles[1:]):
                return line
            pos = self.text.find(needles[0], pos + 1)
        return self.line_at(first)

    def offset_of_line(self, line: int) -> int:
        """The character offset where ``line`` begins."""
        return self._starts[max(0, min(line - 1, len(self._starts) - 1))]


def _count_distinct(root: yaml.Node) -> int:
    seen: set[int] = set()
    stack: list[yaml.Node] = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                stack.append(k)
                stack.append(v)
    return len(seen)


class _Builder:
    def __init__(self, budget: int) -> None:
        self.budget = budget

    def build(self, node: yaml.Node, depth: int) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise StructuredLimitError("YAML aliases expand far beyond the document (alias bomb)")
        if depth > MAX_DEPTH:
            raise StructuredLimitError(f"YAML nested deeper than {MAX_DEPTH} levels")
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            out = LocatedDict(line)
            merged: list[LocatedDict] = []
            for knode, vnode in node.value:
                if knode.tag == _MERGE_TAG:
                    merged.extend(self._merge_sources(vnode, depth))
                    continue
                key = self.build(knode, depth + 1)
                key = key if isinstance(key, str) else _key_text(key)
                out[key] = self.build(vnode, depth + 1)
                out.lines[key] = knode.start_mark.line + 1
            for src in merged:
                for k, v in src.items():
                    if k not in out:
                        out[k] = v
                        out.lines[k] = src.lines.get(k, line)
            return out
        if isinstance(node, yaml.SequenceNode):
            seq = LocatedList(line)
            for item in node.value:
                seq.append(self.build(item, depth + 1))
                seq.lines.append(item.start_mark.line + 1)
            return seq
        return _scalar(node)

    def _merge_sources(self, vnode: yaml.Node, depth: int) -> Iterator[LocatedDict]:
        value = self.build(vnode, depth + 1)
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, LocatedDict):
                yield item


def _scalar(node: yaml.Node) -> Any:
    if not node.tag.startswith("tag:yaml.org,2002:"):
        # An application tag (``!Ref x``): keep the text underneath.
        return str(node.value)
    construct = _SCALAR_CONSTRUCTOR.yaml_constructors.get(node.tag)
    if construct is None:
        return str(node.value)
    try:
        # Called directly rather than through construct_object, which would keep every node.
        value = construct(_SCALAR_CONSTRUCTOR, node)
    except (yaml.YAMLError, ValueError, TypeError):
        return str(node.value)
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    # Timestamps, binary: their text is all discovery needs.
    return str(node.value)


def _key_text(key: Any) -> str:
    if key is None:
        return "null"
    if isinstance(key, bool):
        # YAML 1.1 reads ``on:`` / ``yes:`` as booleans; keep a readable key.
        return "true" if key else "false"
    return str(key)
