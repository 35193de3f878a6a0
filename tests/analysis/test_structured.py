"""Safe YAML loading with lines, alias-bomb refusal, and JSONC."""

from __future__ import annotations

import pytest
import yaml

from aispm.analysis.structured import (
    LineIndex,
    LocatedDict,
    StructuredLimitError,
    load_json,
    load_yaml_documents,
)


def test_lines_merge_keys_and_unknown_tags() -> None:
    docs = load_yaml_documents(
        "base: &b\n  x: 1\nchild:\n  <<: *b\n  y: !Ref Other\non: push\nwhen: 2020-01-01\n---\nk: v\n"
    )
    assert len(docs) == 2
    first = docs[0]
    assert isinstance(first, LocatedDict)
    assert first["child"] == {"y": "Other", "x": 1}
    assert first.lines == {"base": 1, "child": 3, "true": 6, "when": 7}
    assert first["when"] == "2020-01-01" and first["true"] == "push"


def test_python_tags_are_not_constructed() -> None:
    (doc,) = load_yaml_documents(
        "a: !!python/object/apply:os.system ['echo hi']\nb: !!python/name:os.system\n"
    )
    assert doc["a"] == ["echo hi"] and doc["b"] == ""


def test_alias_bomb_is_refused() -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 10):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    with pytest.raises(StructuredLimitError, match="alias"):
        load_yaml_documents("\n".join(lines))


def test_reasonable_aliases_are_fine() -> None:
    text = "d: &d {a: 1, b: 2}\n" + "".join(f"k{i}: *d\n" for i in range(500))
    (doc,) = load_yaml_documents(text)
    assert doc["k499"] == {"a": 1, "b": 2}


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(StructuredLimitError):
        load_yaml_documents("a: " + "[" * 300 + "]" * 300)


def test_malformed_yaml_raises_yaml_error() -> None:
    with pytest.raises(yaml.YAMLError):
        load_yaml_documents("a: [1\n")


def test_json_and_jsonc() -> None:
    assert load_json('{"a": 1}') == {"a": 1}
    assert load_json('{// c\n"a": 1,}', jsonc=True) == {"a": 1}
    with pytest.raises(ValueError):
        load_json('{"a": 1,}')
    with pytest.raises(ValueError):
        load_json("{", jsonc=True)


def test_line_index() -> None:
    idx = LineIndex('{\n  "model": "x",\n  "other": "x"\n}\n')
    assert idx.find('"other"', "x") == 3 and idx.find("x") == 2 and idx.find("absent") is None
    assert idx.line_at(0) == 1 and idx.offset_of_line(2) == 2
