"""Calls that load model artifacts, found in source with their paths and flags."""

from __future__ import annotations

import ast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aispm.analysis.model_loading import ModelLoad, find_model_loads, import_aliases, qualified_name


def loads(source: str) -> list[ModelLoad]:
    return find_model_loads(ast.parse(source))


def one(source: str) -> ModelLoad:
    found = loads(source)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    ("source", "loader", "fmt", "path", "unsafe"),
    [
        ("import torch\ntorch.load('ckpt/model.pt')", "torch.load", "pytorch", "ckpt/model.pt", False),
        ("import torch\ntorch.jit.load('m.ts')", "torch.jit.load", "torchscript", "m.ts", False),
        ("import joblib\njoblib.load('clf.joblib')", "joblib.load", "joblib", "clf.joblib", True),
        ("from joblib import load\nload('clf.joblib')", "joblib.load", "joblib", "clf.joblib", True),
        ("import pickle\npickle.load(open('m.pkl', 'rb'))", "pickle.load", "pickle", "m.pkl", True),
        ("import pandas as pd\npd.read_pickle('df.pkl')", "pandas.read_pickle", "pickle", "df.pkl", True),
        ("import numpy as np\nnp.load('a.npy')", "numpy.load", "numpy", "a.npy", False),
        (
            "import tensorflow as tf\ntf.keras.models.load_model('m.keras')",
            "tensorflow.keras.models.load_model", "keras", "m.keras", False,
        ),
        (
            "from keras.models import load_model\nload_model('m.h5')",
            "keras.models.load_model", "keras", "m.h5", False,
        ),
        (
            "import tensorflow as tf\ntf.saved_model.load('export/1')",
            "tensorflow.saved_model.load", "tensorflow-savedmodel", "export/1", False,
        ),
        (
            "import onnxruntime as ort\nort.InferenceSession('m.onnx')",
            "onnxruntime.InferenceSession", "onnx", "m.onnx", False,
        ),
        (
            "from safetensors.torch import load_file\nload_file('m.safetensors')",
            "safetensors.torch.load_file", "safetensors", "m.safetensors", False,
        ),
        (
            "from llama_cpp import Llama\nLlama(model_path='models/q4.gguf', n_ctx=2048)",
            "llama_cpp.Llama", "gguf", "models/q4.gguf", False,
        ),
        (
            "import torch\ntorch.hub.load('pytorch/vision', 'resnet18')",
            "torch.hub.load", "torch-hub", "pytorch/vision", True,
        ),
    ],
)  # fmt: skip
def test_loaders(source: str, loader: str, fmt: str, path: str, unsafe: bool) -> None:
    found = one(source)
    assert (found.loader, found.format, found.path, found.path_base, found.unsafe) == (
        loader, fmt, path, "cwd", unsafe,
    )  # fmt: skip
    assert found.line == 2


def test_unsafe_flags_are_reported() -> None:
    flag_true = "=" + "True"
    src = (
        "import torch, numpy as np\nfrom tensorflow import keras\n"
        "torch.load('a.pt', weights_only=False)\n"
        "torch.load('b.pt', weights_only" + flag_true + ")\n"
        "np.load('c.npy', allow_pickle" + flag_true + ")\n"
        "keras.models.load_model('d.keras', safe_mode=False)\n"
    )
    a, b, c, d = loads(src)
    assert (a.flags, a.unsafe) == ({"weights_only": False}, True)
    assert (b.flags, b.unsafe) == ({"weights_only": True}, False)
    assert (c.flags, c.unsafe) == ({"allow_pickle": True}, True)
    assert (d.loader, d.flags, d.unsafe) == ("tensorflow.keras.models.load_model", {"safe_mode": False}, True)


def test_hugging_face_loaders_and_remote_code() -> None:
    src = (
        "from transformers import AutoModelForCausalLM, AutoTokenizer, pipeline\n"
        "from peft import PeftModel\n"
        "import sentence_transformers as st\n"
        "m = AutoModelForCausalLM.from_pretrained('./local/dir', trust_remote_code" + "=True)\n"
        "t = AutoTokenizer.from_pretrained('org/name')\n"
        "p = pipeline('text-generation', model='./d', model_kwargs={'trust_remote_code': True})\n"
        "a = PeftModel.from_pretrained(m, 'adapters/lora')\n"
        "e = st.SentenceTransformer('models/emb', trust_remote_code=flag)\n"
    )
    m, t, p, a, e = loads(src)
    assert (m.loader, m.path, m.flags, m.unsafe) == (
        "transformers.AutoModelForCausalLM.from_pretrained", "./local/dir", {"trust_remote_code": True}, True,
    )  # fmt: skip
    assert (t.path, t.flags, t.unsafe) == ("org/name", {}, False)
    assert (p.loader, p.path, p.flags, p.unsafe) == (
        "transformers.pipeline",
        "./d",
        {"trust_remote_code": True},
        True,
    )
    assert (a.path, a.unsafe) == ("adapters/lora", False)
    assert (e.loader, e.flags, e.unsafe) == (
        "sentence_transformers.SentenceTransformer",
        {"trust_remote_code": "dynamic"},
        False,
    )


def test_nemo_restore_from() -> None:
    src = (
        "import nemo.collections.asr as nemo_asr\n"
        "a = nemo_asr.models.ASRModel.restore_from('models/asr.nemo')\n"
        "b = nemo_asr.models.EncDecCTCModelBPE.restore_from(restore_path='models/b.nemo', strict=False)\n"
        "c = cache.restore_from(key)\n"
    )
    a, b, c = loads(src)
    assert (a.loader, a.format, a.path) == (
        "nemo.collections.asr.models.ASRModel.restore_from",
        "nemo",
        "models/asr.nemo",
    )
    assert (b.format, b.path) == ("nemo", "models/b.nemo")
    assert (c.path, c.expr) == (None, "key")  # a restore_from of something else keeps no path


def test_paths_built_from_constants_and_file_relative_paths() -> None:
    src = (
        "import os, pickle, joblib, torch\nfrom pathlib import Path\n"
        "HERE = Path(__file__).resolve().parent\n"
        "ROOT = os.path.dirname(os.path.abspath(__file__))\n"
        "MODEL = 'models/clf.joblib'\n"
        "joblib.load(MODEL)\n"
        "torch.load(HERE / 'weights' / 'model.pt')\n"
        "torch.load(HERE.parent / 'shared' / 'x.pt')\n"
        "torch.load(os.path.join(ROOT, 'ckpt', 'y.pt'))\n"
        "torch.load(os.path.join('/srv/models', 'z.pt'))\n"
        "torch.load(Path('data').joinpath('a', 'b.pt'))\n"
        "torch.load(str(Path('c') / 'd.pt'))\n"
        "torch.load('dir/' + 'e.pt')\n"
        "with open(os.path.join(ROOT, 'm.pkl'), 'rb') as fh:\n    pickle.load(fh)\n"
        "pickle.load(Path('n.pkl').open('rb'))\n"
    )
    found = [(x.path, x.path_base) for x in loads(src)]
    assert found == [
        ("models/clf.joblib", "cwd"),
        ("weights/model.pt", "source"),
        ("../shared/x.pt", "source"),
        ("ckpt/y.pt", "source"),
        ("/srv/models/z.pt", "cwd"),
        ("data/a/b.pt", "cwd"),
        ("c/d.pt", "cwd"),
        ("dir/e.pt", "cwd"),
        ("m.pkl", "source"),
        ("n.pkl", "cwd"),
    ]


def test_dynamic_paths_keep_their_expression() -> None:
    src = (
        "import torch, os\n"
        "def f(path):\n    return torch.load(path)\n"
        "torch.load(os.environ['MODEL'])\n"
        "torch.load(f'{base}/m.pt')\n"
        "name = 'a.pt'\nname = 'b.pt'\ntorch.load(name)\n"
    )
    found = loads(src)
    assert [(x.path, x.expr) for x in found] == [
        (None, "path"),
        (None, "os.environ['MODEL']"),
        (None, "f'{base}/m.pt'"),
        (None, "name"),  # assigned twice: not static
    ]
    assert found[0].to_dict() == {
        "loader": "torch.load", "format": "pytorch", "line": 3, "expr": "path", "unsafe": False,
    }  # fmt: skip


@pytest.mark.parametrize(
    "source",
    [
        "import json\njson.load(open('config.json'))",
        "model.load('x.pt')",  # unknown receiver
        "load('x.pt')",  # not imported
        "from mylib import load\nload('x.pt')",
        "import yaml\nyaml.safe_load(open('c.yaml'))",
        "x = torch.load",  # a reference, not a call
        "import re\nre.compile('x')",
    ],
)
def test_near_misses_are_not_loads(source: str) -> None:
    assert loads(source) == []


def test_shadowing_parameter_is_not_a_constant() -> None:
    src = "import torch\nMODEL = 'a.pt'\ndef f(MODEL):\n    return torch.load(MODEL)\n"
    assert one(src).path is None


def test_import_helpers() -> None:
    tree = ast.parse("import numpy as np\nimport os.path\nfrom torch import load as L\nfrom . import utils\n")
    aliases = import_aliases(tree)
    assert aliases == {"np": "numpy", "os": "os", "L": "torch.load", "utils": ".utils"}
    expr = ast.parse("np.linalg.norm", mode="eval").body
    assert qualified_name(expr, aliases) == "numpy.linalg.norm"
    assert qualified_name(ast.parse("f().x", mode="eval").body, aliases) is None


@settings(max_examples=100)
@given(st.lists(st.sampled_from([
    "import torch", "import joblib as jl", "p = 'x.pt'", "torch.load(p)", "jl.load(p, mmap_mode='r')",
    "torch.load(p / 'a')", "x = Path(__file__).parent", "torch.load(x / p)", "def f(p):\n    torch.load(p)",
    "torch.load(*args)", "torch.load(**kw)", "torch.load()",
]), max_size=12))  # fmt: skip
def test_random_programs_never_raise(lines: list[str]) -> None:
    src = "\n".join(lines)
    for load in find_model_loads(ast.parse(src)):
        assert load.line >= 1
