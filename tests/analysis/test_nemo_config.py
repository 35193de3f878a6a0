"""Hydra ``_target_`` callables in a NeMo ``model_config.yaml``: attacks, unknown code and decoys."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aispm.analysis import nemo_config
from aispm.analysis.artifact_report import Verdict
from aispm.analysis.nemo_config import analyze_nemo_config

#: Shaped like the configuration NeMo writes for a Conformer CTC model.
ASR_CONFIG = b"""\
sample_rate: 16000
target: nemo.collections.asr.models.ctc_bpe_models.EncDecCTCModelBPE
nemo_version: 2.1.0
tokenizer: {dir: tokenizer, type: bpe}
preprocessor:
  _target_: nemo.collections.asr.modules.AudioToMelSpectrogramPreprocessor
  sample_rate: ${sample_rate}
  features: 80
spec_augment:
  _target_: nemo.collections.asr.modules.SpectrogramAugmentation
encoder:
  _target_: nemo.collections.asr.modules.ConformerEncoder
  feat_in: 80
  n_layers: 18
decoder:
  _target_: nemo.collections.asr.modules.ConvASRDecoder
  num_classes: 128
loss:
  _target_: torch.nn.CrossEntropyLoss
optim:
  name: adamw
  lr: 0.001
  sched: {name: CosineAnnealing, warmup_steps: 1000}
train_ds:
  manifest_filepath: /data/train_manifest.json
  batch_size: 16
"""


def issues(yaml_text: str | bytes) -> list[tuple[str, Verdict]]:
    data = yaml_text.encode() if isinstance(yaml_text, str) else yaml_text
    return [(i.rule, i.verdict) for i in analyze_nemo_config(data, "model_config.yaml").issues]


def test_a_real_shaped_asr_config_is_quiet() -> None:
    result = analyze_nemo_config(ASR_CONFIG, "model_config.yaml")
    assert result.issues == ()
    assert result.facts["hydra_targets"] == 5


@pytest.mark.parametrize(
    "target",
    [
        "os.system",
        "posix.system",
        "subprocess.Popen",
        "builtins.exec",
        "builtins.eval",
        "torch.load",
        "numpy.load",
        "runpy.run_path",
        "importlib.import_module",
        "hydra.utils.get_method",
        "hydra.utils.instantiate",
        "nemo.__builtins__.eval",
        "random._os.system",
    ],
)
def test_code_execution_targets_are_malicious(target: str) -> None:
    found = issues(f"encoder:\n  _target_: {target}\n  _args_: ['touch /tmp/pwned']\n")
    assert found == [("nemo.hydra-target", Verdict.MALICIOUS)]


def test_the_target_is_found_anywhere_in_the_tree() -> None:
    text = "model:\n  layers:\n    - {name: a}\n    - {name: b, cb: {_target_: os.system, command: id}}\n"
    result = analyze_nemo_config(text.encode(), "model_config.yaml")
    assert [i.detail["key"] for i in result.issues] == ["model.layers[1].cb._target_"]


def test_interpolations_are_resolved_as_omegaconf_would() -> None:
    assert issues("m: os\nx:\n  _target_: ${m}.system\n") == [("nemo.hydra-target", Verdict.MALICIOUS)]
    indirect = "m: {cls: nemo.collections.asr.modules.ConformerEncoder}\nx: {_target_: '${m.cls}'}\n"
    assert issues(indirect) == []
    # a resolver (an environment variable) decides at load time: unknown, so suspicious
    assert issues("x:\n  _target_: ${oc.env:TARGET}\n") == [("nemo.untrusted-target", Verdict.SUSPICIOUS)]


def test_a_package_outside_nemo_and_its_stack_is_suspicious() -> None:
    assert issues("x:\n  _target_: my_company.audio.Frontend\n") == [
        ("nemo.untrusted-target", Verdict.SUSPICIOUS)
    ]
    assert issues("x:\n  _target_: 'not a dotted name'\n") == [("nemo.untrusted-target", Verdict.SUSPICIOUS)]


def test_decoys_stay_quiet() -> None:
    # NeMo's own "target" key names the model class and is not instantiated by Hydra; text that
    # mentions a dangerous name is not a target.
    assert issues("target: os.system\n") == []
    assert issues("description: 'never set _target_: os.system'\nnotes: [os.system, eval]\n") == []
    assert issues("x:\n  target_: os.system\n  __target__: builtins.exec\n") == []
    assert issues("") == []
    assert issues("[1, 2, 3]\n") == []


def test_yaml_that_builds_objects_is_not_constructed() -> None:
    # OmegaConf's loader is a safe one too: the tag is data to both, and nothing is called.
    assert issues("!!python/object/apply:os.system ['id']\n") == []


def test_broken_and_oversized_configs_are_unscannable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert issues("a: [unclosed\n") == [("nemo.malformed", Verdict.UNSCANNABLE)]
    assert issues(b"\xff\xfe\x00garbage: [") == [("nemo.malformed", Verdict.UNSCANNABLE)]
    monkeypatch.setattr(nemo_config, "MAX_CONFIG_BYTES", 100)
    assert issues(ASR_CONFIG) == [("nemo.malformed", Verdict.UNSCANNABLE)]


def test_aliases_are_followed_and_bombs_refused() -> None:
    # Every place an alias puts the target is a place Hydra instantiates it.
    result = analyze_nemo_config(b"a: &a {_target_: os.system}\nb: [*a, *a]\n", None)
    assert [i.detail["key"] for i in result.issues] == ["a._target_", "b[0]._target_", "b[1]._target_"]
    laughs = "a: &a [{_target_: nemo.core.Foo}, x]\n" + "".join(
        f"l{i}: &l{i} [{', '.join(['*a' if i == 0 else f'*l{i - 1}'] * 9)}]\n" for i in range(8)
    )
    assert issues(laughs) == [("nemo.malformed", Verdict.UNSCANNABLE)]
    # a node that contains itself cannot be built by OmegaConf either
    assert issues("x: &x\n  self: *x\n  _target_: nemo.core.Foo\n") == [
        ("nemo.malformed", Verdict.UNSCANNABLE)
    ]


def test_node_budget_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nemo_config, "MAX_NODES", 10)
    text = "".join(f"k{i}: {{v: [1]}}\n" for i in range(50))
    assert ("nemo.malformed", Verdict.UNSCANNABLE) in issues(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("_target:os.system${}[]{}-&*!\n '\"abc")), max_size=200))
def test_fuzz_never_raises(text: str) -> None:
    result = analyze_nemo_config(text.encode(), None)
    assert all(i.rule.startswith("nemo.") for i in result.issues)
