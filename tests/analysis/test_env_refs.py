"""Environment-variable references in configuration values."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from aispm.analysis.env_refs import EnvRef, find_env_refs, parse_env_ref


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("${MODEL}", EnvRef("MODEL", None, "braced")),
        ("${MODEL:-gpt-4o}", EnvRef("MODEL", "gpt-4o", "braced")),
        ("${MODEL-gpt-4o}", EnvRef("MODEL", "gpt-4o", "braced")),
        ("${MODEL:gpt-4o}", EnvRef("MODEL", "gpt-4o", "braced")),
        ("${MODEL:=org/name}", EnvRef("MODEL", "org/name", "braced")),
        ("${AZURE_OPENAI_MODEL=gpt-4o}", EnvRef("AZURE_OPENAI_MODEL", "gpt-4o", "braced")),
        ("${MODEL:?must be set}", EnvRef("MODEL", None, "braced")),
        ("${MODEL:-}", EnvRef("MODEL", None, "braced")),
        ("${env:OPENAI_MODEL}", EnvRef("OPENAI_MODEL", None, "braced")),
        ("${A:-${B:-inner/model}}", EnvRef("A", "inner/model", "braced")),
        ("$MODEL_ID", EnvRef("MODEL_ID", None, "bare")),
        ("  ${X:-a:b}  ", EnvRef("X", "a:b", "braced")),
    ],
)
def test_parse_env_ref(value: str, expected: EnvRef) -> None:
    assert parse_env_ref(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "gpt-4o",
        "prefix-${MODEL}",
        "${MODEL}-suffix",
        "${A}${B}",
        "${input:apiKey}",
        "${1BAD}",
        "${",
        "$",
        "$(X)",
        "",
    ],
)
def test_not_a_single_reference(value: str) -> None:
    assert parse_env_ref(value) is None


def test_kubernetes_syntax_only_when_asked() -> None:
    assert parse_env_ref("$(MODEL)", kubernetes=True) == EnvRef("MODEL", None, "kubernetes")
    assert parse_env_ref("$(MODEL)") is None


def test_find_env_refs() -> None:
    refs = find_env_refs("--model ${MODEL_ID:-org/m} --port $PORT --x $(Y)", kubernetes=True)
    assert [(r.name, r.default) for r in refs] == [("MODEL_ID", "org/m"), ("PORT", None), ("Y", None)]
    assert find_env_refs("no references here") == []
    assert find_env_refs("${unterminated") == []


NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,20}", fullmatch=True)
DEFAULTS = st.text(st.characters(exclude_characters="{}$"), min_size=1, max_size=30)


@given(NAMES, DEFAULTS, st.sampled_from([":-", "-", ":", ":=", "="]))
def test_round_trip(name: str, default: str, op: str) -> None:
    # A default that starts with an operator character spells another operator ("${A:" + "=x}" is
    # ":=", "${A:" + "?x}" is ":?"), not a default that starts with that character.
    assume(default[0] not in "-=?+:")
    ref = parse_env_ref(f"${{{name}{op}{default}}}")
    assert ref is not None and ref.name == name
    if name not in ("input", "command", "config") or op != ":":
        assert ref.default == (default.strip() or None) or ref.default == default


@given(st.text(max_size=200))
def test_never_raises(text: str) -> None:
    parse_env_ref(text)
    parse_env_ref(text, kubernetes=True)
    find_env_refs(text, kubernetes=True)
