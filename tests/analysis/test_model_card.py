"""Model card front matter: license and base model, tolerant of what real READMEs contain."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from aispm.analysis.model_card import MAX_FRONT_MATTER_CHARS, MAX_ITEMS, front_matter, read_model_card

LLAMA_FINETUNE = """---
license: llama3.1
base_model: meta-llama/Llama-3.1-8B-Instruct
base_model_relation: finetune
datasets:
  - HuggingFaceH4/ultrachat_200k
language:
  - en
  - de
pipeline_tag: text-generation
library_name: transformers
tags:
  - trl
  - sft
model-index:
  - name: llama-3.1-8b-sft
    results: []
extra_gated_prompt: You agree to the license.
---

# llama-3.1-8b-sft

This model is a fine-tuned version of meta-llama/Llama-3.1-8B-Instruct.
"""


def test_fine_tune_card() -> None:
    card = read_model_card(LLAMA_FINETUNE)
    assert card == {
        "license": "llama3.1",
        "pipeline_tag": "text-generation",
        "library_name": "transformers",
        "base_model_relation": "finetune",
        "base_model": ["meta-llama/Llama-3.1-8B-Instruct"],
        "datasets": ["HuggingFaceH4/ultrachat_200k"],
        "language": ["en", "de"],
        "tags": ["trl", "sft"],
        "model_name": "llama-3.1-8b-sft",
        "gated": True,
    }


def test_merge_with_several_base_models_and_other_license() -> None:
    text = (
        "---\nlicense: other\nlicense_name: tongyi-qianwen\nlicense_link: https://example.org/LICENSE\n"
        "base_model:\n- org/a\n- org/b\n- org/a\nbase_model_relation: merge\ntags: merge\n---\nbody\n"
    )
    card = read_model_card(text)
    assert card["license"] == "other"
    assert card["license_name"] == "tongyi-qianwen"
    assert card["license_link"] == "https://example.org/LICENSE"
    assert card["base_model"] == ["org/a", "org/b"]
    assert card["base_model_relation"] == "merge"
    assert card["tags"] == ["merge"]


def test_license_as_a_list_and_crlf_and_bom() -> None:
    card = read_model_card(
        "\ufeff---\r\nlicense:\r\n  - apache-2.0\r\n  - mit\r\ninference: false\r\n---\r\n"
    )
    assert card["license"] == "apache-2.0"
    assert card["licenses"] == ["apache-2.0", "mit"]
    assert card["inference"] is False


def test_readme_without_front_matter() -> None:
    assert read_model_card("# A model\n\nlicense: mit\n") == {}
    assert read_model_card("") == {}
    assert read_model_card("---\n---\n# empty front matter\n") == {}


def test_horizontal_rule_later_in_the_text_is_not_front_matter() -> None:
    assert read_model_card("# Title\n\n---\nlicense: mit\n---\n") == {}


def test_malformed_front_matter_gives_an_error_note() -> None:
    assert "error" in read_model_card("---\nlicense: [unclosed\n---\n")
    salvaged = read_model_card("---\nlicense: 'mit'\nbase_model: org/base\ntags: [a, b\n  oops: : :\n---\n")
    assert salvaged["license"] == "mit"
    assert salvaged["base_model"] == ["org/base"]
    assert salvaged["error"].startswith("front matter is not valid YAML")
    assert read_model_card("---\nlicense: mit\n")["error"].startswith("front matter without an end")
    assert read_model_card("---\n- just\n- a list\n---\n") == {"error": "front matter is not a mapping"}


def test_yaml_tags_do_not_construct_objects(tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    text = f"---\nlicense: !!python/object/apply:os.system ['touch {canary}']\nbase_model: a/b\n---\n"
    card = read_model_card(text)
    assert card["base_model"] == ["a/b"]
    assert all(isinstance(v, (str, list, bool)) for v in card.values())
    assert not canary.exists()


def test_alias_bomb_is_refused() -> None:
    bomb = "---\na: &a [x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 12):
        this, prev = chr(97 + i), chr(96 + i)
        bomb += f"{this}: &{this} [*{prev}, *{prev}, *{prev}, *{prev}]\n"
    bomb += "license: mit\n---\n"
    card = read_model_card(bomb)
    assert "error" in card


def test_huge_front_matter_is_bounded() -> None:
    text = "---\n" + "tags:\n" + "".join(f"  - t{i}\n" for i in range(MAX_ITEMS * 3)) + "---\n"
    assert len(read_model_card(text)["tags"]) == MAX_ITEMS
    endless = "---\n" + "k: v\n" * (MAX_FRONT_MATTER_CHARS // 4) + "---\n"
    assert "error" in read_model_card(endless)
    assert front_matter(endless) is None


def test_odd_value_types_are_ignored() -> None:
    card = read_model_card(
        "---\nlicense: {a: 1}\nbase_model: [1.5, null, true, {x: y}, org/m]\npipeline_tag: 7\n---\n"
    )
    assert "license" not in card
    assert card["base_model"] == ["1.5", "org/m"]
    assert card["pipeline_tag"] == "7"


@settings(max_examples=200)
@given(st.text(max_size=400))
def test_arbitrary_text_never_raises(body: str) -> None:
    result = read_model_card("---\n" + body + "\n---\n")
    assert isinstance(result, dict)
