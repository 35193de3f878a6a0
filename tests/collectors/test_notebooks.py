"""AI discovery in Jupyter notebooks: code cells as Python (magics skipped), outputs as text."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aispm.collectors.base import CollectorError, ModelMention, Observation, SourceFile, scope_of
from aispm.collectors.notebooks import NotebookCollector
from aispm.model import Asset, AssetKind, RelationKind, Scope
from aispm.pipeline import ScanOptions, scan


def _code(source: str, outputs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    lines = source.splitlines(keepends=True)
    return {
        "cell_type": "code",
        "execution_count": 1,
        "metadata": {},
        "outputs": outputs or [],
        "source": lines,
    }


def _md(text: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "metadata": {}, "source": text.splitlines(keepends=True)}


def _notebook(cells: list[dict[str, Any]], language: str = "python") -> str:
    nb = {
        "cells": cells,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": language}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(nb, indent=1)  # the layout Jupyter writes


def _file(tmp_path: Path, text: str | bytes, name: str = "analysis.ipynb") -> SourceFile:
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text)
    return SourceFile(p, name, p.stat().st_size, scope_of(name))


def _collect(tmp_path: Path, text: str, name: str = "analysis.ipynb") -> list[Observation]:
    return list(NotebookCollector().collect(_file(tmp_path, text, name)))


def _mentions(obs: Iterable[Observation]) -> list[ModelMention]:
    return [o for o in obs if isinstance(o, ModelMention)]


def test_code_cells_are_analysed_with_cell_positions(tmp_path: Path) -> None:
    text = _notebook(
        [
            _md("# Evaluation\nWe compare gpt-4o with claude here."),
            _code("%pip install openai\n!nvidia-smi\nfrom openai import OpenAI\nMODEL = 'gpt-4o-mini'\n"),
            _code(
                "client = OpenAI()\nfor q in qs:\n    !echo hi\n    r = client.chat.completions.create(\n"
                "        model=MODEL)"
            ),
        ]
    )
    obs = _collect(tmp_path, text)
    notebook = next(o for o in obs if isinstance(o, Asset) and o.kind is AssetKind.NOTEBOOK)
    assert notebook.name == "analysis.ipynb"  # the file name; the id is keyed by the path
    assert notebook.properties["language"] == "python"
    assert notebook.properties["code_cells"] == 2
    usage = next(o for o in obs if isinstance(o, Asset) and o.kind is AssetKind.AI_SDK_USAGE)
    assert usage.properties["cell"] == 1 and usage.properties["cell_line"] == 3
    [m] = _mentions(obs)
    assert (m.value, m.provider, m.owner) == ("gpt-4o-mini", "openai", usage.id)
    assert m.properties["cell"] == 2 and m.properties["cell_line"] == 5
    # the line is the .ipynb line holding that source line
    raw_lines = text.splitlines()
    assert m.location.line is not None
    assert "model=MODEL" in raw_lines[m.location.line - 1]
    contains = [o for o in obs if getattr(o, "kind", None) is RelationKind.CONTAINS]
    assert [(c.source, c.target) for c in contains] == [(notebook.id, usage.id)]  # type: ignore[union-attr]


def test_notebook_end_to_end(tmp_path: Path) -> None:
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "finetune.ipynb").write_text(
        _notebook(
            [
                _code("from transformers import AutoModelForCausalLM\nfrom datasets import load_dataset\n"),
                _code("ds = load_dataset('imdb')\nm = AutoModelForCausalLM.from_pretrained('gpt2')\n"),
            ]
        )
    )
    r = scan([tmp_path], ScanOptions(collectors=["notebooks"], checks=[]))
    assert r.errors == ()
    models = {a.name: a for a in r.assets if a.kind is AssetKind.MODEL}
    assert models["gpt2"].properties["provider"] == "huggingface"
    assert models["gpt2"].properties["cell"] == 1
    assert {a.name for a in r.assets if a.kind is AssetKind.DATASET} == {"imdb"}
    assert {a.kind for a in r.assets} >= {AssetKind.NOTEBOOK, AssetKind.AI_SDK_USAGE, AssetKind.MODEL}


def test_cell_magics_and_ipython_syntax_are_skipped(tmp_path: Path) -> None:
    text = _notebook(
        [
            _code("%%bash\npip install anthropic\necho model='gpt-4o'\n"),
            _code("%%time\nimport anthropic\nc = anthropic.Anthropic()\n"),
            _code(
                "files = !ls\nc?\n??c\n%matplotlib inline\nc.messages.create(model='claude-3-5-haiku-latest')"
            ),
            _code(
                "%%writefile app.py\nimport openai\nopenai.OpenAI().chat.completions.create(model='gpt-4o')"
            ),
        ]
    )
    obs = _collect(tmp_path, text)
    assert [m.value for m in _mentions(obs)] == ["claude-3-5-haiku-latest"]
    assert {o.name for o in obs if isinstance(o, Asset) and o.kind is AssetKind.AI_SDK_USAGE} == {"anthropic"}


def test_outputs_are_scanned_only_for_strong_cues(tmp_path: Path) -> None:
    stream = {
        "output_type": "stream",
        "name": "stdout",
        "text": ['{"id": "chatcmpl-1", "model": "gpt-4o-2024-08-06"}\n'],
    }
    result = {
        "output_type": "execute_result",
        "execution_count": 2,
        "metadata": {},
        "data": {
            "text/plain": ["ChatCompletion(id='x', model='gpt-4o-mini-2024-07-18', object='chat.completion')"]
        },
    }
    prose = {
        "output_type": "stream",
        "name": "stdout",
        "text": ["We tried gpt-4o and claude-3-opus; model quality varied.\n"],
    }
    decoy = {"output_type": "stream", "name": "stdout", "text": ["model: 'not-a-model'\n"]}
    text = _notebook([_code("print(resp)\n", [stream, result, prose, decoy])])
    r_dir = tmp_path / "nb"
    r_dir.mkdir()
    (r_dir / "out.ipynb").write_text(text)
    r = scan([r_dir], ScanOptions(collectors=["notebooks"], checks=[]))
    models = {a.name for a in r.assets if a.kind is AssetKind.MODEL}
    assert models == {"gpt-4o-2024-08-06", "gpt-4o-mini-2024-07-18"}
    notebook = next(a for a in r.assets if a.kind is AssetKind.NOTEBOOK)
    owners = {rel.source for rel in r.relations if rel.kind is RelationKind.USES_MODEL}
    assert owners == {notebook.id}  # nothing imported: the notebook owns what its outputs show


def test_non_python_notebooks_are_inventoried_only(tmp_path: Path) -> None:
    obs = _collect(tmp_path, _notebook([_code('library(openai)\nmodel <- "gpt-4o"\n')], language="R"))
    assert [o.kind for o in obs if isinstance(o, Asset)] == [AssetKind.NOTEBOOK]


def test_a_bad_cell_is_reported_and_the_rest_analysed(tmp_path: Path) -> None:
    text = _notebook(
        [
            _code("from openai import OpenAI\n"),
            _code("def broken(:\n"),
            _code("OpenAI().chat.completions.create(model='gpt-4o')\n"),
        ]
    )
    f = _file(tmp_path, text)
    got: list[Observation] = []
    with pytest.raises(CollectorError) as err:
        for o in NotebookCollector().collect(f):
            got.append(o)
    assert "1" in str(err.value)
    assert [m.value for m in _mentions(got)] == ["gpt-4o"]


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        "[1, 2, 3]",
        '{"metadata": {}}',
        "[" * 100_000 + "]" * 100_000,
    ],
)
def test_malformed_notebooks_are_collector_errors(tmp_path: Path, text: str) -> None:
    with pytest.raises(CollectorError):
        _collect(tmp_path, text)


def test_binary_notebook_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CollectorError):
        list(NotebookCollector().collect(_file(tmp_path, b"\x00PK\x03\x04binary")))


def test_nbformat_3_worksheets(tmp_path: Path) -> None:
    nb = {
        "nbformat": 3,
        "metadata": {},
        "worksheets": [
            {
                "cells": [
                    {
                        "cell_type": "code",
                        "input": [
                            "import openai\n",
                            "openai.ChatCompletion.create(engine='gpt-35-turbo', model='gpt-3.5-turbo')\n",
                        ],
                    }
                ]
            }
        ],
    }
    obs = _collect(tmp_path, json.dumps(nb))
    assert {m.value for m in _mentions(obs)} == {"gpt-35-turbo", "gpt-3.5-turbo"}


def test_scope_follows_the_folder(tmp_path: Path) -> None:
    obs = _collect(tmp_path, _notebook([_code("import openai\n")]), name="examples/demo.ipynb")
    assert all(o.scope is Scope.EXAMPLE for o in obs if isinstance(o, Asset))


_CELL = st.one_of(
    st.sampled_from(
        ["%pip install x", "!ls", "import openai", "MODEL='gpt-4o'", "%%bash\nls", "def f(:", "x?"]
    ),
    st.text(max_size=40),
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(_CELL, max_size=8), junk=st.one_of(st.none(), st.text(max_size=50)))
def test_collector_never_crashes(tmp_path: Path, cells: list[str], junk: str | None) -> None:
    text = junk if junk is not None else _notebook([_code(c) for c in cells])
    with contextlib.suppress(CollectorError):
        list(NotebookCollector().collect(_file(tmp_path, text)))
