"""Write seed corpora for ``fuzz/harnesses.py`` into ``fuzz/corpus/<target>/`` (not committed).

Seeds are made by the real libraries (pickle, torch, numpy, h5py, safetensors, zipfile...) and by
the malicious and benign pickle builders of the test suite, so the fuzzer starts from every
format and technique aispm knows.

    python fuzz/make_seeds.py
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import pickle
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def pickle_seeds() -> list[bytes]:
    from tests.analysis import pickle_samples as samples

    canary = Path(tempfile.gettempdir()) / "aispm-fuzz-canary"
    seeds = [build(canary) for build in samples.MALICIOUS.values()]
    seeds += [build() for build in samples.BENIGN.values()]
    seeds += [build() for build in samples.DECOYS.values()]
    seeds += [pickle.dumps({"a": [1, 2.0, "x", b"y"], "b": {1, 2}}, protocol=p) for p in range(6)]
    return seeds


def container_seeds(pickles: list[bytes]) -> list[bytes]:
    import h5py
    import numpy as np
    import torch
    from safetensors.numpy import save as st_save
    from tests.analysis.artifact_samples import tar_of

    seeds: list[bytes] = []
    buf = io.BytesIO()
    torch.save({"w": torch.ones(2, 2)}, buf)
    seeds.append(buf.getvalue())
    buf = io.BytesIO()
    torch.save({"w": torch.ones(2)}, buf, _use_new_zipfile_serialization=False)
    seeds.append(buf.getvalue())
    buf = io.BytesIO()
    np.savez(buf, a=np.arange(3), b=np.array([{"x": 1}], dtype=object))
    seeds.append(buf.getvalue())
    seeds.append(st_save({"w": np.ones((2, 2), np.float32)}, metadata={"format": "pt"}))
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.attrs["keras_version"] = b"2.15.0"
        lam = {"class_name": "Lambda", "config": {"function": ["4wEAAAAAAAAA", None, None]}}
        f.attrs["model_config"] = json.dumps({"class_name": "Sequential", "config": {"layers": [lam]}})
        f.create_dataset("w", data=np.ones(3))
    seeds.append(buf.getvalue())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("config.json", json.dumps({"class_name": "Sequential", "config": {"layers": []}}))
        zf.writestr("model/data.pkl", pickles[0])
    seeds.append(buf.getvalue())
    seeds.append(gzip.compress(pickles[1]))
    seeds.append(tar_of({"model_weights.ckpt": seeds[0]}))
    return seeds


def write(target: str, seeds: list[bytes]) -> None:
    folder = HERE / "corpus" / target
    folder.mkdir(parents=True, exist_ok=True)
    for data in seeds:
        (folder / hashlib.sha256(data).hexdigest()[:16]).write_bytes(data)
    print(f"{target}: {len(seeds)} seeds in {folder}")


def main() -> None:
    pickles = pickle_seeds()
    containers = container_seeds(pickles)
    write("pickle", pickles)
    write("model_scan", pickles + containers)
    write("hdf5", [s for s in containers if s.startswith(b"\x89HDF")])
    write("keras_config", [json.dumps({"class_name": "Sequential", "config": {"layers": []}}).encode()])
    write("nemo", NEMO_SEEDS)
    write("collectors", collector_seeds(pickles + containers))


def collector_seeds(models: list[bytes]) -> list[bytes]:
    """Each model seed under each model-file name, and text files under theirs (first byte: name)."""
    from fuzz.harnesses import COLLECTOR_NAMES

    texts = {
        "config.json": b'{"architectures": ["BertModel"], "auto_map": {"AutoModel": "m.Model"}}',
        "requirements.txt": b"openai==1.40.0\ntorch>=2\n",
        "package.json": b'{"dependencies": {"openai": "^4", "ai": "3.0.0"}}',
        "app.py": b"from openai import OpenAI\nOpenAI().chat.completions.create(model='gpt-4o')\n",
        "values.yaml": b"model: meta-llama/Llama-3.1-8B\n",
        ".env": b"OPENAI_API_KEY=sk-proj-xxxxxxxxxxxxxxxxxxxxT3BlbkFJxxxxxxxxxxxxxxxxxxxx\n",
        "mcp.json": b'{"mcpServers": {"fs": {"command": "npx", "args": ["-y", "x"]}}}',
    }
    seeds = [bytes([COLLECTOR_NAMES.index(n)]) + t for n, t in texts.items()]
    for i in range(11):  # the model-file names come first
        seeds += [bytes([i]) + m for m in models[i::11][:6]]
    return seeds


NEMO_SEEDS = [
    b"encoder:\n  _target_: nemo.collections.asr.modules.ConformerEncoder\n  feat_in: 80\n",
    b"m: os\nx:\n  _target_: ${m}.system\n  _args_: [id]\n",
    b"a: &a [{_target_: torch.nn.ReLU}]\nb: [*a, *a]\n",
]


if __name__ == "__main__":
    main()
