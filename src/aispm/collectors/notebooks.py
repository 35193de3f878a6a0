"""AI discovery in Jupyter notebooks: the code cells as Python, the outputs as text.

A notebook is read as JSON (never executed). Its code cells are joined and analysed exactly like a
Python file (:mod:`aispm.collectors.python_code`), with IPython magics and shell escapes blanked
out first; what is found carries the cell index and the line within the cell, and a line of the
``.ipynb`` file where one can be told. Outputs are scanned only for strong cues, such as
``"model": "gpt-4o"`` printed by an API response, so that prose in an output is never a model.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from aispm.collectors.base import Collector, CollectorError, ModelMention, Observation, SourceFile
from aispm.collectors.python_code import MAX_AST_DEPTH, analyze_module, parse_python
from aispm.model import JSON, Asset, AssetKind, ErrorKind, Location

#: Notebooks keep images and tables in their outputs, so they may be larger than source files.
MAX_NOTEBOOK_BYTES = 16 * 1024 * 1024
#: How much of one output, and of all outputs, is scanned for model ids.
MAX_OUTPUT_CHARS = 64 * 1024
MAX_OUTPUTS_CHARS = 1024 * 1024

#: Cell magics whose body is still Python.
_PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "python", "python3", "memit"})
#: ``x = !ls``, ``out = %sx cmd``: assignments from shell escapes or line magics.
_MAGIC_ASSIGN = re.compile(r"^\s*[\w.,\s\[\]]+=\s*[!%]")
#: A cell's ``"source"`` key as Jupyter writes it, one key per line.
_SOURCE_KEY = re.compile(r'^\s*"source"\s*:\s*(\[)?')
#: Strong cues in printed output: a model field with a quoted value.
_OUTPUT_CUE = re.compile(
    r"""["']?\b(model|model_name|model_id|modelId|_name_or_path)\b["']?\s*[:=]\s*["']([^"'\s]{2,200})["']"""
)


class NotebookCollector(Collector):
    """Jupyter notebooks (``*.ipynb``): a notebook asset owning the AI its cells use."""

    name = "notebooks"
    version = "2"

    def wants(self, file: SourceFile) -> bool:
        return file.suffix == ".ipynb"

    def collect(self, file: SourceFile) -> Iterable[Observation]:
        nb = _load(file.read_text(MAX_NOTEBOOK_BYTES))
        cells = _cells(nb)
        language = _language(nb)
        code_cells = [(i, c) for i, c in enumerate(cells) if c.get("cell_type") == "code"]
        notebook = Asset.create(
            AssetKind.NOTEBOOK,
            file.name,
            key=(file.path,),
            location=file.loc(1),
            properties={
                "format": "jupyter",
                "nbformat": nb.get("nbformat") if isinstance(nb.get("nbformat"), int) else None,
                "language": language,
                "kernel": _kernel(nb),
                "cells": len(cells),
                "code_cells": len(code_cells),
            },
            scope=file.scope,
        )
        yield notebook
        if language not in ("python", "unknown"):
            return
        source_lines = _source_key_lines(file, len(cells))
        code = _JoinedCode.build(code_cells, source_lines)
        tree, bad_cells = _parse_cells(code)
        sdk_ids: tuple[str, ...] = ()
        truncated = False
        if tree is not None:
            analysis = analyze_module(
                tree, path=file.path, scope=file.scope, line_map=code.line_map, fallback_owner=notebook.id
            )
            yield from analysis.observations
            sdk_ids, truncated = analysis.sdk_ids, analysis.truncated
        owner = sdk_ids[0] if len(sdk_ids) == 1 else notebook.id
        yield from _output_mentions(file, code_cells, owner)
        if bad_cells:
            listed = ", ".join(str(i) for i in bad_cells[:20])
            raise CollectorError(f"code cell(s) {listed} are not valid Python; the other cells were analysed")
        if truncated:
            raise CollectorError(
                f"syntax nested deeper than {MAX_AST_DEPTH} levels was not analysed", ErrorKind.LIMIT
            )


def _load(text: str) -> dict[str, Any]:
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CollectorError(f"not valid notebook JSON: {exc.msg} (line {exc.lineno})") from exc
    except RecursionError as exc:
        raise CollectorError("notebook JSON nested too deeply", ErrorKind.LIMIT) from exc
    if not isinstance(nb, dict):
        raise CollectorError("not a notebook: the JSON document is not an object")
    if not isinstance(nb.get("cells"), list) and not isinstance(nb.get("worksheets"), list):
        raise CollectorError("not a notebook: no cells")
    return nb


def _cells(nb: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Cells of nbformat 4 (``cells``) or 3 (``worksheets[].cells``, code in ``input``)."""
    if isinstance(nb.get("cells"), list):
        raw = nb["cells"]
    else:
        raw = [c for ws in nb["worksheets"] if isinstance(ws, dict) for c in ws.get("cells") or []]
    out: list[dict[str, Any]] = []
    for c in raw:
        if not isinstance(c, dict):
            continue
        if "source" not in c and "input" in c:
            c = {**c, "source": c["input"]}
        out.append(c)
    return out


def _text(value: Any) -> str:
    """Notebook text fields are a string or a list of strings."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(v for v in value if isinstance(v, str))
    return ""


def _language(nb: Mapping[str, Any]) -> str:
    meta = nb.get("metadata")
    if not isinstance(meta, dict):
        return "unknown"
    for holder, key in (("kernelspec", "language"), ("language_info", "name")):
        section = meta.get(holder)
        if isinstance(section, dict) and isinstance(section.get(key), str):
            return str(section[key]).lower()
    return "unknown"


def _kernel(nb: Mapping[str, Any]) -> str | None:
    meta = nb.get("metadata")
    spec = meta.get("kernelspec") if isinstance(meta, dict) else None
    name = spec.get("name") if isinstance(spec, dict) else None
    return name if isinstance(name, str) else None


def _source_key_lines(file: SourceFile, n_cells: int) -> list[tuple[int, bool]] | None:
    """Per cell, the file line of its ``"source"`` key and whether the source is a multi-line array.

    Only trusted when there is exactly one such key per cell (the layout Jupyter writes); otherwise
    lines inside the ``.ipynb`` file are left unknown and only cell positions are reported.
    """
    found: list[tuple[int, bool]] = []
    for n, line in enumerate(file.read_text(MAX_NOTEBOOK_BYTES).splitlines(), 1):
        m = _SOURCE_KEY.match(line)
        if m:
            found.append((n, m.group(1) is not None and line.rstrip().endswith("[")))
    return found if len(found) == n_cells else None


@dataclass
class _JoinedCode:
    """Code cells joined into one module, with a map from module lines back to cells."""

    cells: list[tuple[int, list[str]]]  # (cell index, sanitized lines)
    origin: list[tuple[int, int]]  # module line - 1 -> (cell index, line in cell)
    file_lines: Mapping[int, tuple[int, bool]]  # cell index -> ("source" key line, multi-line)

    @classmethod
    def build(
        cls, code_cells: list[tuple[int, dict[str, Any]]], source_lines: list[tuple[int, bool]] | None
    ) -> _JoinedCode:
        cells: list[tuple[int, list[str]]] = []
        origin: list[tuple[int, int]] = []
        for index, cell in code_cells:
            lines = _sanitize(_text(cell.get("source")).splitlines())
            cells.append((index, lines))
            origin.extend((index, n) for n in range(1, len(lines) + 1))
        file_lines = dict(enumerate(source_lines)) if source_lines is not None else {}
        return cls(cells, origin, file_lines)

    def source(self, keep: Iterable[int] | None = None) -> str:
        """The joined module; cells not in ``keep`` are blanked so that line numbers stay put."""
        wanted = set(keep) if keep is not None else None
        out: list[str] = []
        for index, lines in self.cells:
            out.extend(lines if wanted is None or index in wanted else [""] * len(lines))
        return "\n".join(out) + "\n"

    def line_map(self, lineno: int) -> tuple[int | None, Mapping[str, JSON]]:
        if not 1 <= lineno <= len(self.origin):
            return None, {}
        cell, line_in_cell = self.origin[lineno - 1]
        key = self.file_lines.get(cell)
        file_line = None
        if key is not None:
            file_line = key[0] + line_in_cell if key[1] else key[0]
        return file_line, {"cell": cell, "cell_line": line_in_cell}


def _sanitize(lines: list[str]) -> list[str]:
    """Blank IPython syntax (magics, shell escapes, help) so the rest parses as Python; keep line count."""
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].lstrip()[2:].split(None, 1)[0] if lines[0].strip() != "%%" else ""
        if magic not in _PYTHON_CELL_MAGICS:
            return [""] * len(lines)  # %%bash, %%html, %%writefile...: not Python
        lines = ["", *lines[1:]]
    out: list[str] = []
    for line in lines:
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        if (
            stripped.startswith(("%", "!", "?"))
            or _MAGIC_ASSIGN.match(line)
            or stripped.rstrip().endswith("?")
        ):
            out.append(f"{indent}pass" if indent else "")
        else:
            out.append(line)
    return out


def _parse_cells(code: _JoinedCode) -> tuple[ast.Module | None, list[int]]:
    """The joined cells parsed; when some cells are not Python, the others, and the bad cells' indices."""
    try:
        return parse_python(code.source()), []
    except CollectorError as exc:
        if exc.kind is not ErrorKind.PARSE:
            raise
    good: list[int] = []
    bad: list[int] = []
    for index, lines in code.cells:
        try:
            parse_python("\n".join(lines) + "\n")
            good.append(index)
        except CollectorError:
            bad.append(index)
    try:
        return parse_python(code.source(good)), bad
    except CollectorError:
        return None, bad  # cells that parse alone but not together: report rather than guess


def _output_mentions(
    file: SourceFile, code_cells: list[tuple[int, dict[str, Any]]], owner: str
) -> Iterator[ModelMention]:
    budget = MAX_OUTPUTS_CHARS
    seen: set[tuple[int, str, str]] = set()
    for index, cell in code_cells:
        outputs = cell.get("outputs")
        if not isinstance(outputs, list):
            continue
        for out_index, output in enumerate(outputs):
            if budget <= 0:
                return
            text = _output_text(output)[:MAX_OUTPUT_CHARS]
            budget -= len(text)
            for m in _OUTPUT_CUE.finditer(text):
                field, value = m.group(1), m.group(2)
                if (index, field, value) in seen:
                    continue
                seen.add((index, field, value))
                hf = field == "_name_or_path"
                yield ModelMention(
                    location=Location(file.path, None),
                    via=f"notebook-output:{field}",
                    value=value,
                    provider="huggingface" if hf else None,
                    strong=hf,
                    owner=owner,
                    properties={"cell": index, "output": out_index},
                )


def _output_text(output: Any) -> str:
    if not isinstance(output, dict):
        return ""
    if output.get("output_type") == "stream":
        return _text(output.get("text"))
    data = output.get("data")
    if isinstance(data, dict):
        return _text(data.get("text/plain"))
    return ""
