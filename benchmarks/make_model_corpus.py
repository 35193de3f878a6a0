"""Generate the model-file corpus that ``model_scan_compare.py`` runs every scanner on.

Every file is made by the real libraries (torch, numpy, scikit-learn, joblib, safetensors, onnx,
h5py, gguf, and XGBoost/LightGBM where they are installed) or, for the malicious samples, by the
builders in ``tests/analysis/pickle_samples.py`` (``MALICIOUS``: technique -> builder taking the
canary path the payload would create; ``BENIGN``: name -> builder). Nothing here loads what it
writes: malicious pickles are only ever bytes.

Layout under ``benchmarks/.work/model-corpus/`` (override with ``--out``)::

    large/        a ~1 GiB torch checkpoint, a multi-GB one (``--big-gib``, skipped by ``--small``),
                  a 1 GiB safetensors file and a large joblib dump
    small/        500 small benign pickles: scikit-learn estimators, numpy arrays, dicts, torch
                  state dicts (zip and legacy), XGBoost/LightGBM boosters
    malicious/    one raw file per technique
    benign/       the benign twins: the builders' BENIGN plus ordinary files from the real libraries
    containers/<container>/
                  malicious pickles (and benign twins) wrapped the ways loaders accept and scanners
                  trip on: torch zip with another prefix, TorchScript ``constants.pkl``, a member
                  that is not ``data.pkl``, compressed joblib, ``.pkl.gz``, tar.gz, nested zip, a
                  pickle named ``.safetensors``, no extension, a bad CRC, the encrypted flag bit
    manifest.json {"meta": {...}, "files": {relative path: {technique, expected, container, size,
                  group}}}

Payloads write a canary file under ``benchmarks/.work/model-canary/`` (outside the corpus) if
anything ever executes them; ``model_scan_compare.py`` checks that folder stays empty.

Usage (from the repository root)::

    python benchmarks/make_model_corpus.py                 # everything, multi-GB checkpoint 3 GiB
    python benchmarks/make_model_corpus.py --small         # skip the multi-GB checkpoint
    python benchmarks/make_model_corpus.py --big-gib 6 --container-techniques all
"""

from __future__ import annotations

import argparse
import gzip
import importlib
import io
import json
import pickle
import shutil
import struct
import sys
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / ".work"
DEFAULT_OUT = WORK / "model-corpus"
CANARY = WORK / "model-canary"
GIB = 1 << 30
MIB = 1 << 20

Builder = Callable[[Path], bytes]
BenignBuilder = Callable[[], bytes]


# --------------------------------------------------------------------------------------------------
# Malicious techniques and benign twins


@dataclass(frozen=True)
class Samples:
    malicious: dict[str, Builder]
    benign: dict[str, BenignBuilder]
    source: str


def load_samples() -> Samples:
    """Helper A's builders from ``tests/analysis/pickle_samples.py``; the temporary ones until it exists."""
    if (REPO / "tests" / "analysis" / "pickle_samples.py").is_file():
        mod = _repo_module("tests.analysis.pickle_samples")
        benign = dict(mod.BENIGN)
        # DECOYS are benign files that look alarming to string matchers: benign twins too.
        benign |= {f"decoy-{k}": v for k, v in getattr(mod, "DECOYS", {}).items()}
        malicious = dict(mod.MALICIOUS)
        source = "tests/analysis/pickle_samples.py"
        if (REPO / "tests" / "analysis" / "artifact_samples.py").is_file():
            # Attacks in the container rather than in a pickle (NeMo configs, torch storages).
            art = _repo_module("tests.analysis.artifact_samples")
            malicious |= art.MALICIOUS
            benign |= art.BENIGN
            source += ", tests/analysis/artifact_samples.py"
        return Samples(malicious, benign, source)
    print("tests/analysis/pickle_samples.py not found: using the TEMPORARY builders", file=sys.stderr)
    mal, ben = _temporary_samples()
    return Samples(mal, ben, "TEMPORARY builders in make_model_corpus.py")


def _repo_module(name: str) -> Any:
    """A module of this repository (the test suite's sample builders), imported by name."""
    sys.path.insert(0, str(REPO))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(REPO))


def _temporary_samples() -> tuple[dict[str, Builder], dict[str, BenignBuilder]]:
    """TEMPORARY: a few techniques written by hand, only until helper A's module exists.

    Opcodes are written as bytes (as ``pickletools`` documents them); nothing is ever unpickled.
    """

    def unicode_arg(s: str) -> bytes:
        b = s.encode()
        return b"X" + struct.pack("<I", len(b)) + b

    def proto0_system(canary: Path) -> bytes:
        return b"cos\nsystem\n(Vtouch " + str(canary).encode() + b"\ntR."

    def stack_global_p4(module: str, name: str) -> Builder:
        def build(canary: Path) -> bytes:
            body = (
                b"\x8c" + bytes([len(module)]) + module.encode()  # SHORT_BINUNICODE
                + b"\x8c" + bytes([len(name)]) + name.encode()
                + b"\x93"  # STACK_GLOBAL
                + unicode_arg(f"touch {canary}")
                + b"\x85R."  # TUPLE1 REDUCE STOP
            )  # fmt: skip
            return b"\x80\x04\x95" + struct.pack("<Q", len(body)) + body

        return build

    def exec_p2(canary: Path) -> bytes:
        code = f"open({str(canary)!r}, 'w').close()"
        return b"\x80\x02cbuiltins\nexec\n" + unicode_arg(code) + b"\x85R."

    malicious: dict[str, Builder] = {
        "os-system-global-p0": proto0_system,
        "posix-system-stack-global-p4": stack_global_p4("posix", "system"),
        "builtins-exec-p2": exec_p2,
        "random-os-system-dotted-p4": stack_global_p4("random", "_os.system"),
    }
    benign: dict[str, BenignBuilder] = {
        "dict-p0": lambda: pickle.dumps({"lr": 0.1, "layers": [1, 2]}, protocol=0),
        "list-p4": lambda: pickle.dumps([1.0, "a", (2, 3)], protocol=4),
    }
    return malicious, benign


# --------------------------------------------------------------------------------------------------
# Zip surgery (on bytes we built; nothing is unpickled)


def _rezip(
    template: bytes,
    *,
    replace: dict[str, bytes] | None = None,
    prefix: str | None = None,
    add: dict[str, bytes] | None = None,
) -> bytes:
    """Copy a torch-style zip (``<prefix>/<record>``), replacing or adding records, optionally renaming
    the top folder. Records are stored uncompressed, as ``torch.save`` stores them."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(template)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        top = ""
        for info in src.infolist():
            top, _, rel = info.filename.partition("/")
            data = (replace or {}).get(rel, src.read(info))
            dst.writestr(zipfile.ZipInfo(f"{prefix or top}/{rel}", date_time=(2024, 1, 1, 0, 0, 0)), data)
        for rel, data in (add or {}).items():
            dst.writestr(zipfile.ZipInfo(f"{prefix or top}/{rel}", date_time=(2024, 1, 1, 0, 0, 0)), data)
    return out.getvalue()


def _patch_member(data: bytes, suffix: str, *, crc_xor: int = 0, flag_or: int = 0) -> bytes:
    """Change the CRC-32 or the general-purpose flags of the member whose name ends with ``suffix``,
    in both its local header and its central-directory entry."""
    buf = bytearray(data)
    eocd = buf.rfind(b"PK\x05\x06")
    count, _, cd_offset = struct.unpack_from("<HII", buf, eocd + 10)
    pos = cd_offset
    for _ in range(count):
        if buf[pos : pos + 4] != b"PK\x01\x02":
            raise ValueError("central directory entry expected")
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", buf, pos + 28)
        local = struct.unpack_from("<I", buf, pos + 42)[0]
        name = bytes(buf[pos + 46 : pos + 46 + name_len]).decode()
        if name.endswith(suffix):
            for flag_at, crc_at in ((pos + 8, pos + 16), (local + 6, local + 14)):
                struct.pack_into("<H", buf, flag_at, struct.unpack_from("<H", buf, flag_at)[0] | flag_or)
                struct.pack_into("<I", buf, crc_at, struct.unpack_from("<I", buf, crc_at)[0] ^ crc_xor)
            return bytes(buf)
        pos += 46 + name_len + extra_len + comment_len
    raise ValueError(f"no member ending with {suffix}")


def _zip_of(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), data)
    return out.getvalue()


def _tar_gz_of(members: dict[str, bytes]) -> bytes:
    tar_of = _repo_module("tests.analysis.artifact_samples").tar_of
    return gzip.compress(tar_of(members, mtime=1_700_000_000), mtime=0)


# --------------------------------------------------------------------------------------------------
# Real-library templates


@dataclass(frozen=True)
class Templates:
    torch_zip: bytes  # torch.save of a small state dict (zip format)
    torchscript: bytes  # torch.jit.save of a small scripted module
    sklearn_pickle: bytes  # pickle of a fitted scikit-learn pipeline


def make_templates() -> Templates:
    import torch
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    buf = io.BytesIO()
    torch.save(net.state_dict(), buf)
    script = io.BytesIO()
    torch.jit.save(torch.jit.script(net), script)
    import numpy as np

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 4)), rng.integers(0, 2, 40)
    pipe = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())]).fit(x, y)
    return Templates(buf.getvalue(), script.getvalue(), pickle.dumps(pipe, protocol=5))


# --------------------------------------------------------------------------------------------------
# Containers: (extension, how to wrap a pickle); torch-based ones use the real torch template


Wrapper = Callable[[bytes, Templates], bytes]


def _torch_prefix(p: bytes, t: Templates) -> bytes:
    return _rezip(t.torch_zip, replace={"data.pkl": p}, prefix="checkpoint")


def _torchscript_constants(p: bytes, t: Templates) -> bytes:
    return _rezip(t.torchscript, replace={"constants.pkl": p})


def _torch_extra_member(p: bytes, t: Templates) -> bytes:
    return _rezip(t.torch_zip, add={"extra/optimizer_state": p})


def _torch_bad_crc(p: bytes, t: Templates) -> bytes:
    return _patch_member(_rezip(t.torch_zip, replace={"data.pkl": p}), "/data.pkl", crc_xor=0xA5A5A5A5)


def _torch_encrypted_flag(p: bytes, t: Templates) -> bytes:
    return _patch_member(_rezip(t.torch_zip, replace={"data.pkl": p}), "/data.pkl", flag_or=0x1)


CONTAINERS: dict[str, tuple[str, Wrapper]] = {
    "torch-zip-prefix": (".pt", _torch_prefix),
    "torchscript-constants": (".pt", _torchscript_constants),
    "torch-zip-extra-member": (".pth", _torch_extra_member),
    "joblib-zlib": (".joblib", lambda p, t: zlib.compress(p, 3)),
    "pkl-gz": (".pkl.gz", lambda p, t: gzip.compress(p, mtime=0)),
    "tar-gz": (".tar.gz", lambda p, t: _tar_gz_of({"model/model.pkl": p})),
    "nested-zip": (".zip", lambda p, t: _zip_of({"bundle/inner.zip": _zip_of({"model.pkl": p})})),
    "renamed-safetensors": (".safetensors", lambda p, t: p),
    "no-extension": ("", lambda p, t: p),
    "torch-zip-bad-crc": (".pt", _torch_bad_crc),
    "torch-zip-encrypted-flag": (".pt", _torch_encrypted_flag),
}

#: The benign twin of each container: the same wrapping around the real library's own pickle.
BENIGN_CONTAINER: dict[str, Callable[[Templates], bytes]] = {
    "torch-zip-prefix": lambda t: _rezip(t.torch_zip, prefix="checkpoint"),
    "torchscript-constants": lambda t: t.torchscript,
    "torch-zip-extra-member": lambda t: _rezip(t.torch_zip, add={"extra/optimizer_state": t.sklearn_pickle}),
    "torch-zip-bad-crc": lambda t: _patch_member(t.torch_zip, "/data.pkl", crc_xor=0xA5A5A5A5),
    "torch-zip-encrypted-flag": lambda t: _patch_member(t.torch_zip, "/data.pkl", flag_or=0x1),
}

#: Substrings picked, in order, to choose the default techniques wrapped in every container.
CORE_PREFERENCE = ("system", "exec", "eval", "getattr", "runpy", "import")


def pick_core(names: list[str], count: int = 4) -> list[str]:
    chosen: list[str] = []
    for want in CORE_PREFERENCE:
        for n in names:
            if want in n.lower() and n not in chosen:
                chosen.append(n)
                break
        if len(chosen) >= count:
            return chosen
    chosen.extend(n for n in names if n not in chosen)
    return chosen[:count]


def _ext_for(data: bytes) -> str:
    """An extension that says what a builder's bytes are (builders may return npy, zips...)."""
    if data.startswith(b"\x93NUMPY"):
        return ".npy"
    if data.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
        if any(n.endswith("data.pkl") or n.endswith("constants.pkl") for n in names):
            return ".pt"
        return ".npz" if names and all(n.endswith(".npy") for n in names) else ".zip"
    if data[:2] == b"\x1f\x8b":
        return ".pkl.gz"
    if data[257:262] == b"ustar":
        return ".nemo"  # the only tars the samples build are NeMo archives
    return ".pkl"


def _safe_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)


# --------------------------------------------------------------------------------------------------
# Ordinary files from the real libraries


def _sklearn_models(i: int) -> Any:
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeRegressor

    rng = np.random.default_rng(i)
    x, y = rng.normal(size=(60, 5)), rng.integers(0, 2, 60)
    kind = i % 5
    if kind == 0:
        return LogisticRegression(C=1.0 + i % 7).fit(x, y)
    if kind == 1:
        return Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())]).fit(x, y)
    if kind == 2:
        return RandomForestClassifier(n_estimators=3, max_depth=3, random_state=i).fit(x, y)
    if kind == 3:
        return KMeans(n_clusters=3, n_init=1, random_state=i).fit(x)
    return DecisionTreeRegressor(max_depth=4, random_state=i).fit(x, rng.normal(size=60))


def _torch_state_dict_bytes(i: int, legacy: bool) -> bytes:
    import torch

    torch.manual_seed(i)
    width = 8 + i % 24
    net = torch.nn.Sequential(
        torch.nn.Linear(width, width), torch.nn.LayerNorm(width), torch.nn.Linear(width, 3)
    )
    buf = io.BytesIO()
    torch.save(net.state_dict(), buf, _use_new_zipfile_serialization=not legacy)
    return buf.getvalue()


def _torch_optimizer_bytes(i: int) -> bytes:
    import torch

    torch.manual_seed(i)
    net = torch.nn.Linear(6, 2)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    net(torch.randn(4, 6)).sum().backward()
    opt.step()
    buf = io.BytesIO()
    torch.save({"model": net.state_dict(), "optimizer": opt.state_dict(), "epoch": i}, buf)
    return buf.getvalue()


def _booster_bytes(i: int, lib: str) -> bytes | None:
    import numpy as np

    rng = np.random.default_rng(i)
    x, y = rng.normal(size=(80, 4)), rng.integers(0, 2, 80)
    try:
        if lib == "xgboost":
            import xgboost

            return pickle.dumps(xgboost.XGBClassifier(n_estimators=3, max_depth=2).fit(x, y), protocol=5)
        import lightgbm

        model = lightgbm.LGBMClassifier(n_estimators=3, num_leaves=4, min_child_samples=5, verbose=-1)
        return pickle.dumps(model.fit(x, y), protocol=5)
    except ImportError:
        return None


def small_kinds() -> list[tuple[str, str, Callable[[int], bytes | None]]]:
    """(kind, extension, builder of the i-th file's bytes); a builder returning None is unavailable."""
    import numpy as np

    def joblib_bytes(obj: Any, **kw: Any) -> bytes:
        import joblib

        buf = io.BytesIO()
        joblib.dump(obj, buf, **kw)
        return buf.getvalue()

    def config(i: int) -> dict[str, Any]:
        return {
            "name": f"run-{i}",
            "lr": round(0.1 / (1 + i), 6),
            "layers": list(range(i % 9)),
            "tags": {"a", "b"},
        }

    from collections import OrderedDict

    return [
        ("sklearn-estimator", ".pkl", lambda i: pickle.dumps(_sklearn_models(i), protocol=4 + i % 2)),
        ("sklearn-estimator-joblib", ".joblib", lambda i: joblib_bytes(_sklearn_models(i))),
        ("numpy-array-p2", ".pkl", lambda i: pickle.dumps(np.arange(i + 8, dtype=np.float32), protocol=2)),
        ("numpy-array-p5", ".pkl", lambda i: pickle.dumps(np.ones((4, i % 50 + 1)), protocol=5)),
        ("numpy-array-p0", ".pkl", lambda i: pickle.dumps(np.zeros(i % 20 + 1, dtype=np.int64), protocol=0)),
        ("dict-config-p4", ".pkl", lambda i: pickle.dumps(config(i), protocol=4)),
        (
            "dict-set-bytes-p1",
            ".pickle",
            lambda i: pickle.dumps({**config(i), "raw": bytes(range(i % 200))}, 1),
        ),
        ("ordereddict-p2", ".pkl", lambda i: pickle.dumps(OrderedDict(a=i, b=[1.5] * (i % 10)), protocol=2)),
        ("torch-state-dict", ".pt", lambda i: _torch_state_dict_bytes(i, legacy=False)),
        ("torch-state-dict-legacy", ".pth", lambda i: _torch_state_dict_bytes(i, legacy=True)),
        ("torch-checkpoint-optimizer", ".pt", _torch_optimizer_bytes),
        ("xgboost-classifier", ".pkl", lambda i: _booster_bytes(i, "xgboost")),
        ("lightgbm-classifier", ".pkl", lambda i: _booster_bytes(i, "lightgbm")),
    ]


def benign_library_files(t: Templates) -> Iterator[tuple[str, str, bytes]]:
    """(technique, file name, bytes): ordinary files every scanner should pass."""
    import numpy as np

    yield "torch-state-dict", "torch-state-dict.pt", t.torch_zip
    yield "torch-state-dict-legacy", "torch-state-dict-legacy.pth", _torch_state_dict_bytes(1, legacy=True)
    yield "torchscript", "torchscript.pt", t.torchscript
    yield "torch-checkpoint-optimizer", "torch-checkpoint-optimizer.pt", _torch_optimizer_bytes(2)
    yield "sklearn-pipeline", "sklearn-pipeline.pkl", t.sklearn_pickle
    yield "sklearn-estimator-p2", "sklearn-forest-p2.pkl", pickle.dumps(_sklearn_models(2), protocol=2)
    yield "codecs-set-p0", "codecs-set-p0.pkl", pickle.dumps({"s": {1, 2}, "b": b"\x00\xff"}, protocol=0)
    yield "codecs-set-p2", "codecs-set-p2.pkl", pickle.dumps({"s": {1, 2}, "b": b"\x00\xff"}, protocol=2)
    for b in ("xgboost", "lightgbm"):
        data = _booster_bytes(3, b)
        if data is not None:
            yield f"{b}-classifier", f"{b}-classifier.pkl", data
    arr = np.arange(1000, dtype=np.float32).reshape(10, 100)
    npy = io.BytesIO()
    np.save(npy, arr)
    yield "numpy-npy", "array.npy", npy.getvalue()
    npz = io.BytesIO()
    np.savez(npz, a=arr, b=np.ones(3))
    yield "numpy-npz", "arrays.npz", npz.getvalue()

    import joblib

    for label, kw in (
        ("joblib-arrays", {}),
        ("joblib-zlib", {"compress": 3}),
        ("joblib-xz", {"compress": "xz"}),
    ):
        buf = io.BytesIO()
        joblib.dump({"weights": arr, "bias": np.zeros(100), "meta": {"v": 1}}, buf, **kw)
        yield label, f"{label}.joblib", buf.getvalue()

    from safetensors.numpy import save as st_save

    yield "safetensors", "model.safetensors", st_save({"w": arr, "b": np.zeros(4, dtype=np.float32)})
    yield from _onnx_file()
    yield from _gguf_file()
    yield from _h5_file(arr)


def _onnx_file() -> Iterator[tuple[str, str, bytes]]:
    try:
        from onnx import TensorProto, helper
    except ImportError:
        return
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "tiny", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    yield "onnx", "model.onnx", model.SerializeToString()


def _gguf_file() -> Iterator[tuple[str, str, bytes]]:
    try:
        import gguf
        import numpy as np
    except ImportError:
        return
    tmp = WORK / "tmp-gguf.gguf"
    tmp.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(tmp), "llama")
    writer.add_name("tiny")
    writer.add_chat_template(
        "{% for message in messages %}<|{{ message['role'] }}|>{{ message['content'] }}{% endfor %}"
    )
    writer.add_tensor("tok_embd.weight", np.ones((4, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    data = tmp.read_bytes()
    tmp.unlink()
    yield "gguf", "model.gguf", data


def _h5_file(arr: Any) -> Iterator[tuple[str, str, bytes]]:
    try:
        import h5py
    except ImportError:
        return
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.create_dataset("dense/kernel", data=arr)
        f.attrs["note"] = "plain weights"
    yield "hdf5-weights", "weights.h5", buf.getvalue()


# --------------------------------------------------------------------------------------------------
# Large files


def _llm_state_dict(target: int, seed: int) -> Any:
    """An LLM-shaped float16 state dict (hundreds of named tensors) of about ``target`` bytes."""
    import torch

    g = torch.Generator().manual_seed(seed)
    h = 1024
    sd: dict[str, Any] = {"model.embed_tokens.weight": torch.randn(8192, h, generator=g, dtype=torch.float16)}
    size = 8192 * h * 2
    layer = 0
    while size < target:
        p = f"model.layers.{layer}."
        shapes = {
            "self_attn.q_proj.weight": (h, h),
            "self_attn.k_proj.weight": (h, h),
            "self_attn.v_proj.weight": (h, h),
            "self_attn.o_proj.weight": (h, h),
            "mlp.gate_proj.weight": (2 * h, h),
            "mlp.up_proj.weight": (2 * h, h),
            "mlp.down_proj.weight": (h, 2 * h),
            "input_layernorm.weight": (h,),
            "post_attention_layernorm.weight": (h,),
        }
        for name, shape in shapes.items():
            t = torch.randn(*shape, generator=g, dtype=torch.float16)
            sd[p + name] = t
            size += t.numel() * 2
        layer += 1
    sd["model.norm.weight"] = torch.ones(h, dtype=torch.float16)
    return sd


def make_large(out: Path, gib: float, big_gib: float | None, joblib_gib: float) -> list[tuple[Path, str]]:
    """Write the large files that are missing (they take a while); returns (path, technique)."""
    made: list[tuple[Path, str]] = []
    big = out / "large"
    big.mkdir(parents=True, exist_ok=True)
    import numpy as np
    import torch

    def _label(x: float) -> str:
        return f"{x:g}gib"

    jobs: list[tuple[Path, str, Callable[[Path], None]]] = []

    def torch_job(size: float, seed: int) -> Callable[[Path], None]:
        return lambda p: torch.save(_llm_state_dict(int(size * GIB), seed), p)

    jobs.append((big / f"checkpoint-{_label(gib)}.pt", "torch-state-dict-large", torch_job(gib, 1)))
    if big_gib:
        jobs.append(
            (big / f"checkpoint-{_label(big_gib)}.pt", "torch-state-dict-large", torch_job(big_gib, 2))
        )

    def st_job(p: Path) -> None:
        from safetensors.torch import save_file

        save_file(_llm_state_dict(int(gib * GIB), 3), str(p))

    jobs.append((big / f"model-{_label(gib)}.safetensors", "safetensors-large", st_job))

    def joblib_job(p: Path) -> None:
        import joblib

        rng = np.random.default_rng(4)
        n = int(joblib_gib * GIB) // 4 // 1024
        joblib.dump({"embeddings": rng.random((n, 1024), dtype=np.float32), "labels": list(range(100))}, p)

    jobs.append((big / f"arrays-{_label(joblib_gib)}.joblib", "joblib-large", joblib_job))
    for path, technique, job in jobs:
        if not path.is_file():
            t0 = time.perf_counter()
            tmp = path.with_name(path.name + ".part")
            job(tmp)
            tmp.rename(path)
            print(
                f"  wrote {path.name} ({path.stat().st_size / GIB:.2f} GiB, {time.perf_counter() - t0:.0f}s)"
            )
        made.append((path, technique))
    for stale in big.iterdir():
        if stale not in {p for p, _ in made}:
            stale.unlink()
    return made


# --------------------------------------------------------------------------------------------------
# Main


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str] = {"python": sys.version.split()[0]}
    for pkg in ("torch", "numpy", "scikit-learn", "joblib", "safetensors", "onnx", "h5py", "gguf", "xgboost"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    try:
        out["lightgbm"] = version("lightgbm")
    except PackageNotFoundError:
        out["lightgbm"] = "not installed"
    return out


def generate(
    out: Path,
    *,
    small: bool,
    big_gib: float,
    gib: float,
    joblib_gib: float,
    count: int,
    container_techniques: str,
) -> dict[str, Any]:
    planned = (gib * 2 + joblib_gib + (0 if small else big_gib)) * GIB
    large = out / "large"
    existing = sum(p.stat().st_size for p in large.iterdir() if p.is_file()) if large.is_dir() else 0
    out.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(out).free
    if free + existing < planned + 2 * GIB:  # 2 GiB margin for the small files and the peers' venvs
        raise SystemExit(
            f"not enough disk: about {(planned + 2 * GIB) / GIB:.1f} GiB needed in {out}, "
            f"{free / GIB:.1f} GiB free (use --small, --gib or --big-gib)"
        )
    CANARY.mkdir(parents=True, exist_ok=True)
    for d in ("small", "malicious", "benign", "containers"):
        shutil.rmtree(out / d, ignore_errors=True)
        (out / d).mkdir()
    files: dict[str, dict[str, Any]] = {}

    def record(
        path: Path, data: bytes | None, technique: str, expected: str, container: str, group: str
    ) -> None:
        if data is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        files[path.relative_to(out).as_posix()] = {
            "technique": technique,
            "expected": expected,
            "container": container,
            "size": path.stat().st_size,
            "group": group,
        }

    samples = load_samples()
    templates = make_templates()

    print("malicious and benign twins ...")
    unavailable: list[str] = []
    raw_pickles: list[str] = []
    for name, build in samples.malicious.items():
        try:
            data = build(CANARY / f"{_safe_name(name)}__raw")
        except ImportError as exc:  # a builder whose library is missing
            unavailable.append(f"{name}: {exc}")
            continue
        if _ext_for(data) == ".pkl":
            raw_pickles.append(name)
        path = out / "malicious" / f"{_safe_name(name)}{_ext_for(data)}"
        record(path, data, name, "malicious", "raw", "malicious")
    for name, bbuild in samples.benign.items():
        try:
            data = bbuild()
        except ImportError as exc:
            unavailable.append(f"{name}: {exc}")
            continue
        fname = f"{'' if name.startswith('decoy-') else 'a-'}{_safe_name(name)}{_ext_for(data)}"
        record(out / "benign" / fname, data, name, "benign", "raw", "benign")
    for line in unavailable:
        print(f"  unavailable: {line}", file=sys.stderr)
    for technique, fname, data in benign_library_files(templates):
        record(out / "benign" / fname, data, technique, "benign", "raw", "benign")

    names = raw_pickles  # only raw pickles are wrapped (a builder's zip or .npy is a container already)
    wrapped = names if container_techniques == "all" else pick_core(names)
    if container_techniques not in ("all", "core"):
        wrapped = [n.strip() for n in container_techniques.split(",") if n.strip()]
    print(f"containers ({len(CONTAINERS)} kinds) around {len(wrapped)} techniques: {', '.join(wrapped)}")
    for container, (ext, wrap) in CONTAINERS.items():
        folder = out / "containers" / container
        for name in wrapped:
            payload = samples.malicious[name](CANARY / f"{_safe_name(name)}__{container}")
            record(
                folder / f"{_safe_name(name)}{ext}",
                wrap(payload, templates),
                name,
                "malicious",
                container,
                "containers",
            )
        benign_wrap = BENIGN_CONTAINER.get(container)
        twin = benign_wrap(templates) if benign_wrap else wrap(templates.sklearn_pickle, templates)
        record(folder / f"benign-twin{ext}", twin, "benign-twin", "benign", container, "containers")

    print(f"{count} small pickles ...")
    kinds = [k for k in small_kinds() if k[2](0) is not None]
    for i in range(count):
        kind, ext, build_small = kinds[i % len(kinds)]
        record(out / "small" / f"{i:04d}-{kind}{ext}", build_small(i), kind, "benign", "raw", "small")

    print("large files ...")
    for path, technique in make_large(out, gib, None if small else big_gib, joblib_gib):
        record(path, None, technique, "benign", "raw", "large")

    meta = {
        "generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "samples": samples.source,
        "canary_dir": str(CANARY),
        "container_techniques": wrapped,
        "unavailable": unavailable,
        "small": small,
        "versions": _versions(),
    }
    manifest = {"meta": meta, "files": dict(sorted(files.items()))}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--small", action="store_true", help="skip the multi-GB checkpoint")
    parser.add_argument("--big-gib", type=float, default=3.0, help="size of the multi-GB checkpoint (GiB)")
    parser.add_argument(
        "--gib", type=float, default=1.0, help="size of the '1 GiB' checkpoint and safetensors"
    )
    parser.add_argument("--joblib-gib", type=float, default=1.0, help="size of the large joblib dump (GiB)")
    parser.add_argument("--count", type=int, default=500, help="number of small pickles")
    parser.add_argument(
        "--container-techniques",
        default="core",
        help="techniques wrapped in every container: core (4 picked), all, or a comma-separated list",
    )
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    manifest = generate(
        args.out,
        small=args.small,
        big_gib=args.big_gib,
        gib=args.gib,
        joblib_gib=args.joblib_gib,
        count=args.count,
        container_techniques=args.container_techniques,
    )
    groups: dict[str, int] = {}
    for entry in manifest["files"].values():
        groups[entry["group"]] = groups.get(entry["group"], 0) + 1
    total = sum(e["size"] for e in manifest["files"].values())
    print(
        f"{len(manifest['files'])} files ({', '.join(f'{k} {v}' for k, v in sorted(groups.items()))}), "
        f"{total / GIB:.2f} GiB in {args.out} ({time.perf_counter() - t0:.0f}s); "
        f"samples: {manifest['meta']['samples']}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
