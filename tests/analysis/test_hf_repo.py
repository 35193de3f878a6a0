"""Hugging Face model folders: remote code, the Python it runs, mixed formats, broken input."""

from __future__ import annotations

import json
import pickle
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from safetensors.numpy import save_file

from aispm.analysis import hf_repo
from aispm.analysis.artifact_report import FormatResult, Issue, Verdict
from aispm.analysis.hf_repo import analyze_model_dir, check_custom_code, is_model_dir
from aispm.model import Severity

CHAT_TEMPLATE = (
    "{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + eos_token }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}"
)
BENIGN_MODELING = '''"""Modeling code as remote-code repositories ship it (docs may say ~/.ssh/; not read)."""
import base64
import importlib
import math
import os
import re
from shutil import copyfile

import torch
from torch import nn

from .configuration_tiny import TinyConfig

_FLASH = importlib.util.find_spec("flash_attn") is not None
_LLAMA = importlib.import_module("transformers.models.llama")
_SPLIT = re.compile(r"\\s+")


def load_tiktoken_bpe(path):
    with open(path, "rb") as fh:
        return {base64.b64decode(tok): int(rank) for tok, rank in (line.split() for line in fh if line)}


class TinyModel(nn.Module):
    config_class = TinyConfig

    def __init__(self, config):
        super().__init__()
        self.proj = nn.Linear(config.hidden_size, config.hidden_size)
        self.cache_dir = os.environ.get("TINY_CACHE", os.path.join(os.getcwd(), "cache"))

    def forward(self, x):
        return torch.compile(self.proj)(x) * math.sqrt(2)

    def eval(self):
        return super().eval()

    def save_vocabulary(self, save_directory):
        copyfile(self.vocab_file, os.path.join(save_directory, "vocab.txt"))


def compile(model):
    return model


compile(TinyModel).eval()
'''


def write_json(path: Path, doc: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))


def make_model(folder: Path, *, config: dict[str, object] | None = None) -> Path:
    """A normal transformers model folder, written with the real safetensors library."""
    folder.mkdir(parents=True, exist_ok=True)
    save_file(
        {"embed.weight": np.zeros((16, 8), dtype=np.float32)}, folder / "model.safetensors", {"format": "pt"}
    )
    write_json(
        folder / "config.json",
        config
        or {
            "_name_or_path": "org/tiny-llama",
            "architectures": ["LlamaForCausalLM"],
            "model_type": "llama",
            "torch_dtype": "bfloat16",
            "transformers_version": "4.46.0",
            "quantization_config": {"quant_method": "bitsandbytes"},
        },
    )
    write_json(
        folder / "tokenizer_config.json",
        {"tokenizer_class": "LlamaTokenizerFast", "chat_template": CHAT_TEMPLATE, "eos_token": "</s>"},
    )
    write_json(
        folder / "tokenizer.json", {"version": "1.0", "model": {"type": "BPE", "vocab": {}, "merges": []}}
    )
    write_json(folder / "generation_config.json", {"do_sample": True, "temperature": 0.6})
    write_json(folder / "special_tokens_map.json", {"eos_token": "</s>"})
    (folder / "README.md").write_text("---\nlicense: apache-2.0\n---\n# tiny\n")
    return folder


CRIT, HIGH = Severity.CRITICAL, Severity.HIGH


def rules(result: FormatResult) -> list[str]:
    return [i.rule for i in result.issues]


@pytest.fixture
def no_template_checker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "aispm.analysis.gguf_template", None)


@pytest.fixture
def template_checker(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str | None, str]]:
    """A stand-in for gguf_template.analyze_chat_template that flags ``__globals__``."""
    calls: list[tuple[str, str | None, str]] = []

    def analyze_chat_template(template: str, *, member: str | None = None, key: str = "") -> FormatResult:
        calls.append((template, member, key))
        if "__globals__" in template:
            issue = Issue("gguf.template-ssti", Verdict.MALICIOUS, Severity.CRITICAL, "ssti", member=member)
            return FormatResult(issues=(issue,))
        return FormatResult()

    module = types.ModuleType("aispm.analysis.gguf_template")
    module.analyze_chat_template = analyze_chat_template  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "aispm.analysis.gguf_template", module)
    return calls


# --- benign folders -----------------------------------------------------------------------------


def test_ordinary_model_folder_is_quiet(tmp_path: Path, template_checker: list[object]) -> None:
    folder = make_model(tmp_path / "tiny")
    write_json(
        folder / "model.safetensors.index.json", {"metadata": {"total_size": 512, "total_parameters": 128}}
    )
    result = analyze_model_dir(folder, rel_dir="models/tiny")
    assert result.issues == ()
    assert result.facts == {
        "name_or_path": "org/tiny-llama",
        "model_type": "llama",
        "architectures": ["LlamaForCausalLM"],
        "transformers_version": "4.46.0",
        "torch_dtype": "bfloat16",
        "quantization": "bitsandbytes",
        "chat_template": True,
        "chat_template_checked": True,
        "weight_files": ["model.safetensors"],
        "parameter_count": 128,
        "weights_total_size": 512,
    }
    assert template_checker == [(CHAT_TEMPLATE, "tokenizer_config.json", "chat_template")]
    assert is_model_dir(folder)
    assert not is_model_dir(tmp_path)


def test_benign_custom_code_without_auto_map_has_no_issue(tmp_path: Path, no_template_checker: None) -> None:
    folder = make_model(tmp_path / "m")
    (folder / "modeling_tiny.py").write_text(BENIGN_MODELING)
    (folder / "configuration_tiny.py").write_text("from transformers import PretrainedConfig\n")
    result = analyze_model_dir(folder, rel_dir="m")
    assert result.issues == ()
    assert result.facts["custom_code_files"] == ["configuration_tiny.py", "modeling_tiny.py"]
    assert result.facts["chat_template_checked"] is False


@pytest.mark.parametrize(
    "auto_map",
    [{}, {"AutoTokenizer": [None, None]}, {"AutoModel": ""}, {"AutoModel": 3}, []],
)
def test_empty_or_null_auto_map_is_not_remote_code(
    tmp_path: Path, no_template_checker: None, auto_map: object
) -> None:
    folder = make_model(
        tmp_path / "m", config={"architectures": ["BertModel"], "model_type": "bert", "auto_map": auto_map}
    )
    assert analyze_model_dir(folder, rel_dir="m").issues == ()


def test_auto_map_text_inside_a_value_is_not_remote_code(tmp_path: Path, no_template_checker: None) -> None:
    folder = make_model(tmp_path / "m")
    write_json(
        folder / "tokenizer_config.json",
        {"chat_template": "auto_map: modeling_x.Evil", "model_max_length": 8},
    )
    assert analyze_model_dir(folder, rel_dir="m").issues == ()


# --- remote code --------------------------------------------------------------------------------


def test_auto_map_is_remote_code(tmp_path: Path, no_template_checker: None) -> None:
    folder = make_model(
        tmp_path / "phi",
        config={
            "architectures": ["TinyForCausalLM"],
            "model_type": "tiny",
            "auto_map": {
                "AutoConfig": "configuration_tiny.TinyConfig",
                "AutoModelForCausalLM": "modeling_tiny.TinyModel",
            },
        },
    )
    write_json(
        folder / "tokenizer_config.json",
        {"auto_map": {"AutoTokenizer": ["tokenization_tiny.TinyTokenizer", None]}},
    )
    (folder / "modeling_tiny.py").write_text(BENIGN_MODELING)
    (folder / "configuration_tiny.py").write_text("from transformers import PretrainedConfig\n")
    result = analyze_model_dir(folder, rel_dir="models/phi")
    assert rules(result) == ["hf.remote-code", "hf.remote-code"]
    config_issue, tok_issue = result.issues
    assert (config_issue.verdict, config_issue.severity) == (Verdict.SUSPICIOUS, Severity.HIGH)
    assert config_issue.member == "config.json"
    assert config_issue.detail["files"] == ["configuration_tiny.py", "modeling_tiny.py"]
    assert config_issue.detail["path"] == "models/phi/config.json"
    assert "missing" not in config_issue.detail
    assert tok_issue.detail["missing"] == ["tokenization_tiny.py"]
    assert "not in the folder" in tok_issue.message
    assert result.facts["remote_code"] is True
    assert result.facts["auto_map"] == {
        "AutoConfig": ["configuration_tiny.TinyConfig"],
        "AutoModelForCausalLM": ["modeling_tiny.TinyModel"],
        "AutoTokenizer": ["tokenization_tiny.TinyTokenizer"],
    }


def test_code_from_another_repository(tmp_path: Path, no_template_checker: None) -> None:
    folder = make_model(
        tmp_path / "m",
        config={"model_type": "x", "auto_map": {"AutoModel": "someone/else--modeling_x.XModel"}},
    )
    result = analyze_model_dir(folder, rel_dir="m")
    assert rules(result) == ["hf.remote-code-external"]
    issue = result.issues[0]
    assert (issue.verdict, issue.severity, issue.detail["repo"]) == (
        Verdict.SUSPICIOUS,
        Severity.HIGH,
        "someone/else",
    )


def test_reference_escaping_the_folder(tmp_path: Path, no_template_checker: None) -> None:
    folder = make_model(tmp_path / "m", config={"model_type": "x", "auto_map": {"AutoModel": "/etc/evil.X"}})
    assert rules(analyze_model_dir(folder, rel_dir="m")) == ["hf.remote-code-external"]


def test_custom_pipelines_modules_and_diffusers_components(tmp_path: Path, no_template_checker: None) -> None:
    folder = make_model(
        tmp_path / "m",
        config={"model_type": "x", "custom_pipelines": {"text-classification": {"impl": "pipe.MyPipe"}}},
    )
    (folder / "pipe.py").write_text("class MyPipe: pass\n")
    write_json(
        folder / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Custom", "type": "custom_st.Layer"},
        ],
    )
    write_json(
        folder / "model_index.json",
        {
            "_class_name": "StableDiffusionPipeline",
            "scheduler": ["diffusers", "PNDMScheduler"],
            "safety_checker": ["stable_diffusion", "StableDiffusionSafetyChecker"],
            "unet": ["my_unet", "MyUNet"],
        },
    )
    (folder / "unet").mkdir()
    (folder / "unet" / "my_unet.py").write_text("class MyUNet: pass\n")
    result = analyze_model_dir(folder, rel_dir="m")
    by_member = {i.member: i for i in result.issues}
    assert set(by_member) == {"config.json", "modules.json", "model_index.json"}
    assert by_member["config.json"].detail["files"] == ["pipe.py"]
    assert by_member["modules.json"].detail["files"] == ["custom_st.py"]
    assert by_member["model_index.json"].detail["files"] == ["unet/my_unet.py"]


# --- custom code checks -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "call", "kind", "severity"),
    [
        ("import os\nos.system('id')\n", "os.system", "process", CRIT),
        ("import subprocess as sp\ndef f():\n    sp.run(['id'])\n", "subprocess.run", "process", CRIT),
        ("from subprocess import Popen\nPopen('id')\n", "subprocess.Popen", "process", CRIT),
        ("eval('1+1')\n", "eval", "exec", CRIT),
        ("def f(s):\n    exec(s)\n", "exec", "exec", CRIT),
        ("__import__('os').system('id')\n", "__import__", "exec", CRIT),
        ("import builtins\ngetattr(builtins, 'ev' + 'al')('1')\n", "getattr(builtins, ...)", "exec", CRIT),
        ("getattr(__builtins__, 'exec')('1')\n", "exec", "exec", CRIT),
        ("__builtins__['eval']('1')\n", "__builtins__[...]", "exec", CRIT),
        ("import ctypes\nctypes.CDLL('libevil.so')\n", "ctypes.CDLL", "process", CRIT),
        ("import marshal\nmarshal.loads(b'')\n", "marshal.loads", "deserialize", CRIT),
        ("import socket\ns = socket.socket()\n", "socket.socket", "network-at-import", CRIT),
        ("import requests\nrequests.post('https://x.example')\n", "requests.post", "network-at-import", CRIT),
        ("import requests\ndef f():\n    requests.get('https://x')\n", "requests.get", "network", HIGH),
        ("from urllib.request import urlopen\ndef f():\n    urlopen('x')\n", "urllib.request.urlopen",
         "network", HIGH),
        ("import shutil\ndef f():\n    shutil.rmtree('/')\n", "shutil.rmtree", "file", HIGH),
        ("def f():\n    return open('/home/u/.ssh/id_rsa')\n", "/home/u/.ssh/id_rsa", "sensitive-path", HIGH),
        ("import importlib\ndef f(n):\n    importlib.import_module(n)\n", "importlib.import_module",
         "dynamic-import", HIGH),
        ("import pickle\ndef f(p):\n    pickle.load(open(p, 'rb'))\n", "pickle.load", "unpickle-file", HIGH),
    ],
)  # fmt: skip
def test_dangerous_custom_code(code: str, call: str, kind: str, severity: Severity) -> None:
    issues = check_custom_code(code.encode(), path="m/modeling_x.py", member="modeling_x.py")
    assert [i.rule for i in issues] == ["hf.custom-code-dangerous"]
    issue = issues[0]
    assert issue.verdict == Verdict.MALICIOUS
    assert (issue.detail["call"], issue.detail["kind"], issue.severity) == (call, kind, severity)
    assert issue.message.startswith(f"m/modeling_x.py:{issue.detail['line']}: ")
    assert issue.member == "modeling_x.py"


def test_obfuscated_exec_is_marked_and_located() -> None:
    code = "import base64\n\n\nexec(base64.b64decode('cHJpbnQoMSk='))\n"
    (issue,) = check_custom_code(code, path="x.py")
    assert issue.detail == {"path": "x.py", "line": 4, "call": "exec", "kind": "exec", "obfuscated": True}
    assert "decoded bytes" in issue.message


def test_every_hit_is_reported_with_its_line(tmp_path: Path, no_template_checker: None) -> None:
    folder = make_model(tmp_path / "m", config={"model_type": "x", "auto_map": {"AutoModel": "modeling_x.X"}})
    (folder / "modeling_x.py").write_text(
        "import os, subprocess\nimport requests\n\nrequests.get('http://c2.example/x')\n"
        "class X:\n    def __init__(self):\n        os.system('id')\n"
        "        subprocess.check_output(['id'])\n"
    )
    result = analyze_model_dir(folder, rel_dir="m")
    dangerous = [i for i in result.issues if i.rule == "hf.custom-code-dangerous"]
    assert [(i.detail["line"], i.detail["call"]) for i in dangerous] == [
        (4, "requests.get"), (7, "os.system"), (8, "subprocess.check_output"),
    ]  # fmt: skip
    assert rules(result)[0] == "hf.remote-code"
    assert max(i.verdict.rank for i in result.issues) == Verdict.MALICIOUS.rank


def test_benign_modeling_code_near_misses() -> None:
    assert check_custom_code(BENIGN_MODELING, path="modeling_tiny.py") == []


def test_risky_import_without_use_is_suspicious() -> None:
    (issue,) = check_custom_code("import subprocess\nfrom urllib import request\nX = 1\n", path="t.py")
    assert (issue.rule, issue.verdict, issue.severity) == (
        "hf.custom-code-risky-import", Verdict.SUSPICIOUS, Severity.MEDIUM,
    )  # fmt: skip
    assert issue.detail["modules"] == ["subprocess", "urllib.request"]


@pytest.mark.parametrize(
    "source",
    [b"\x00\x01\x02binary\xff", b"def f(:\n", "(" * 500, b"\xff\xfe invalid utf8 \x80"],
)
def test_unparseable_code_is_unscannable(source: bytes | str) -> None:
    (issue,) = check_custom_code(source, path="m/bad.py", member="bad.py")
    assert (issue.rule, issue.verdict) == ("hf.custom-code-unparseable", Verdict.UNSCANNABLE)


def test_deep_nesting_does_not_crash() -> None:
    deep = (
        "x = "
        + "[" * 180
        + "]" * 180
        + "\n"
        + "if a:\n"
        + "".join("    " * i + "if a:\n" for i in range(1, 90))
        + "    " * 90
        + "pass\n"
    )
    issues = check_custom_code(deep, path="deep.py")
    assert all(i.rule == "hf.custom-code-unparseable" for i in issues)


def test_oversized_code_is_unscannable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_template_checker: None
) -> None:
    monkeypatch.setattr(hf_repo, "MAX_CODE_BYTES", 64)
    folder = make_model(tmp_path / "m")
    (folder / "modeling_big.py").write_text("x = 1\n" * 100)
    result = analyze_model_dir(folder, rel_dir="m")
    assert rules(result) == ["hf.custom-code-unparseable"]
    assert "limit" in result.issues[0].message


# --- mixed formats ------------------------------------------------------------------------------


def test_safetensors_with_pickle_weights(tmp_path: Path, no_template_checker: None) -> None:
    folder = make_model(tmp_path / "m")
    (folder / "pytorch_model.bin").write_bytes(pickle.dumps({"embed.weight": [0.0]}, protocol=2))
    (folder / "adapter").mkdir()
    save_file({"a": np.zeros(2, dtype=np.float32)}, folder / "adapter" / "adapter_model.safetensors")
    (folder / "adapter" / "adapter_model.bin").write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    result = analyze_model_dir(folder, rel_dir="m")
    assert rules(result) == ["hf.mixed-formats", "hf.mixed-formats"]
    root, adapter = result.issues
    assert (root.verdict, root.severity) == (Verdict.SUSPICIOUS, Severity.MEDIUM)
    assert root.detail["pickle"] == ["pytorch_model.bin"]
    assert adapter.detail["pickle"] == ["adapter/adapter_model.bin"]
    assert result.facts["mixed_formats"] == [".", "adapter"]


def test_mixed_format_decoys(tmp_path: Path, no_template_checker: None) -> None:
    folder = make_model(tmp_path / "m")
    # Trainer state is a pickle but no loader takes it for weights.
    (folder / "training_args.bin").write_bytes(pickle.dumps({"lr": 1e-4}, protocol=2))
    (folder / "optimizer.pt").write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    # OpenVINO weights are raw floats named .bin.
    (folder / "openvino_model.bin").write_bytes(np.zeros(64, dtype=np.float32).tobytes())
    # A pickle in another folder than the safetensors.
    (folder / "legacy").mkdir()
    (folder / "legacy" / "pytorch_model.bin").write_bytes(pickle.dumps({"w": 1}, protocol=2))
    assert analyze_model_dir(folder, rel_dir="m").issues == ()


# --- chat templates -----------------------------------------------------------------------------


def test_chat_templates_are_checked_wherever_they_live(
    tmp_path: Path, template_checker: list[tuple[str, str | None, str]]
) -> None:
    folder = make_model(tmp_path / "m")
    write_json(
        folder / "tokenizer_config.json",
        {"chat_template": [{"name": "default", "template": CHAT_TEMPLATE},
                           {"name": "tool_use", "template": "{{ cycler.__init__.__globals__.os }}"}]},
    )  # fmt: skip
    (folder / "chat_template.jinja").write_text("{{ messages }}")
    write_json(folder / "processor" / "chat_template.json", {"chat_template": "{{ x }}"})
    result = analyze_model_dir(folder, rel_dir="m")
    assert rules(result) == ["gguf.template-ssti"]
    assert result.issues[0].member == "tokenizer_config.json"
    assert [(member, key) for _, member, key in template_checker] == [
        ("tokenizer_config.json", "chat_template.default"),
        ("tokenizer_config.json", "chat_template.tool_use"),
        ("chat_template.jinja", "chat_template"),
        ("processor/chat_template.json", "chat_template"),
    ]


def test_a_failing_template_checker_is_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def analyze_chat_template(template: str, *, member: str | None = None, key: str = "") -> list[Issue]:
        raise RecursionError

    module = types.ModuleType("aispm.analysis.gguf_template")
    module.analyze_chat_template = analyze_chat_template  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "aispm.analysis.gguf_template", module)
    result = analyze_model_dir(make_model(tmp_path / "m"), rel_dir="m")
    assert rules(result) == ["hf.template-unchecked"]
    assert result.issues[0].verdict == Verdict.UNSCANNABLE


def test_real_template_checker_when_present(tmp_path: Path) -> None:
    pytest.importorskip("aispm.analysis.gguf_template")
    folder = make_model(tmp_path / "m")
    assert analyze_model_dir(folder, rel_dir="m").issues == ()
    write_json(
        folder / "tokenizer_config.json",
        {"chat_template": "{{ cycler.__init__.__globals__.os.popen('id').read() }}"},
    )
    result = analyze_model_dir(folder, rel_dir="m")
    assert result.issues and all(i.verdict.rank >= Verdict.SUSPICIOUS.rank for i in result.issues)


# --- broken input and bounds --------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"\xff\xfe\x00binary", b"[1, 2", b"{" * 100_000 + b"}" * 100_000],
)
def test_malformed_config_is_unscannable(tmp_path: Path, no_template_checker: None, content: bytes) -> None:
    folder = make_model(tmp_path / "m")
    (folder / "config.json").write_bytes(content)
    result = analyze_model_dir(folder, rel_dir="m")
    assert rules(result) == ["hf.config-malformed"]
    assert result.issues[0].verdict == Verdict.UNSCANNABLE
    assert result.issues[0].detail["path"] == "m/config.json"


def test_oversized_config_is_unscannable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_template_checker: None
) -> None:
    monkeypatch.setattr(hf_repo, "MAX_CONFIG_BYTES", 100)
    folder = make_model(tmp_path / "m")
    write_json(folder / "tokenizer_config.json", {"added_tokens_decoder": {str(i): "t" for i in range(100)}})
    result = analyze_model_dir(folder, rel_dir="m")
    assert {(i.rule, i.member) for i in result.issues} == {
        ("hf.config-malformed", "config.json"),
        ("hf.config-malformed", "tokenizer_config.json"),
    }
    assert "limit" in result.issues[0].message


def test_too_many_files_is_unscannable(tmp_path: Path, no_template_checker: None) -> None:
    folder = make_model(tmp_path / "m")
    result = analyze_model_dir(folder, rel_dir="m", max_files=3)
    assert rules(result)[0] == "hf.too-many-files"


def test_too_many_config_files_is_unscannable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_template_checker: None
) -> None:
    monkeypatch.setattr(hf_repo, "MAX_CONFIG_FILES", 2)
    result = analyze_model_dir(make_model(tmp_path / "m"), rel_dir="m")
    assert rules(result) == ["hf.too-many-files"]
    assert result.issues[0].detail["limit"] == 2


def test_hidden_folders_are_skipped_and_cache_symlinks_followed(
    tmp_path: Path, no_template_checker: None
) -> None:
    blobs = tmp_path / "models--org--tiny" / "blobs"
    snapshot = tmp_path / "models--org--tiny" / "snapshots" / ("a" * 40)
    source = make_model(tmp_path / "src")
    blobs.mkdir(parents=True)
    snapshot.mkdir(parents=True)
    for i, file in enumerate(sorted(p for p in source.iterdir() if p.is_file())):
        blob = blobs / f"{i:064x}"
        blob.write_bytes(file.read_bytes())
        (snapshot / file.name).symlink_to(blob)
    (snapshot / ".git").mkdir()
    (snapshot / ".git" / "evil.py").write_text("import os\nos.system('id')\n")
    result = analyze_model_dir(snapshot, rel_dir="cache")
    assert result.issues == ()
    assert result.facts["model_type"] == "llama"
    assert result.facts["weight_files"] == ["model.safetensors"]


def json_values() -> st.SearchStrategy[object]:
    leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=30))
    return st.recursive(
        leaf, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=12), c, max_size=4)
    )


@settings(max_examples=100)
@given(
    config=st.dictionaries(st.sampled_from(["auto_map", "custom_pipelines", "architectures", "model_type",
                                            "torch_dtype", "_name_or_path", "chat_template"]), json_values()),
    modules=json_values(),
)  # fmt: skip
def test_arbitrary_configs_never_raise(
    tmp_path_factory: pytest.TempPathFactory, config: dict[str, object], modules: object
) -> None:
    folder = tmp_path_factory.mktemp("m")
    write_json(folder / "config.json", config)
    write_json(folder / "tokenizer_config.json", config)
    write_json(folder / "modules.json", modules)
    write_json(folder / "model_index.json", modules)
    result = analyze_model_dir(folder, rel_dir="m")
    assert all(i.rule.startswith(("hf.", "gguf.")) for i in result.issues)


@settings(max_examples=200)
@given(st.binary(max_size=300) | st.text(max_size=300))
def test_arbitrary_source_never_raises(source: bytes | str) -> None:
    for issue in check_custom_code(source, path="f.py"):
        assert issue.rule.startswith("hf.custom-code")
