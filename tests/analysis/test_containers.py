"""The container layer: content routing, every container kind, hostile zips, bounds, reading little.

Every fixture is generated here with the real libraries (torch, numpy, joblib, scikit-learn,
zipfile, tarfile, gzip/bz2/lzma/lz4, py7zr); hostile zips are written from the spec with
``build_zip``. Malicious payloads are harmless canaries (``touch <tmp>/canary``), never loaded: a
test scans the whole malicious corpus and then checks that no canary file exists.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import importlib.util
import io
import lzma
import os
import pickle
import shutil
import struct
import tarfile
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aispm.analysis import containers
from aispm.analysis.artifact_io import ArtifactLimits, sha256_of
from aispm.analysis.artifact_report import ArtifactReport, FormatResult, Issue, Verdict
from aispm.analysis.containers import FORMAT_ANALYSERS, scan_artifact, scan_nested_bytes, sniff_artifact
from aispm.model import Severity
from tests.analysis.artifact_samples import tar_of
from tests.analysis.test_zip_reader import Member, build_zip

np = pytest.importorskip("numpy")
HAVE_TORCH = importlib.util.find_spec("torch") is not None
HAVE_LZ4 = importlib.util.find_spec("lz4") is not None
HAVE_7Z = importlib.util.find_spec("py7zr") is not None
needs_torch = pytest.mark.skipif(not HAVE_TORCH, reason="torch not installed (pip install torch==2.13.0)")

# ---------- payloads


class _Reduce:
    """Pickles as ``func(*args)``; only ever dumped, never loaded."""

    def __init__(self, func: Any, *args: Any) -> None:
        self.func, self.args = func, args

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return self.func, self.args


def canary(root: Path) -> str:
    return f"touch {root / 'canary'}"


def evil_p0(root: Path) -> bytes:
    """Protocol 0, written by hand: ``os.system('touch ...')``."""
    return b"cos\nsystem\n(S'" + canary(root).encode() + b"'\ntR."


def evil_p4(root: Path) -> bytes:
    return pickle.dumps({"weights": [1.0, 2.0], "hook": _Reduce(os.system, canary(root))}, protocol=4)


def evil_p2(root: Path) -> bytes:
    return pickle.dumps(_Reduce(os.system, canary(root)), protocol=2)


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def scan(path: Path, **limits: Any) -> ArtifactReport:
    report = scan_artifact(path, limits=ArtifactLimits(**limits)) if limits else scan_artifact(path)
    assert report is not None, f"{path.name} was not recognised as a model artifact"
    return report


def assert_safe(report: ArtifactReport) -> None:
    assert report.verdict is Verdict.SAFE, [i.to_dict() for i in report.issues]
    assert report.issues == ()


def assert_malicious(report: ArtifactReport) -> None:
    assert report.verdict is Verdict.MALICIOUS, [i.to_dict() for i in report.issues]
    worst = [i for i in report.issues if i.verdict is Verdict.MALICIOUS]
    assert all(i.severity in (Severity.CRITICAL, Severity.HIGH) for i in worst)


def assert_unscannable(report: ArtifactReport, rule: str | None = None) -> None:
    assert report.verdict is Verdict.UNSCANNABLE, [i.to_dict() for i in report.issues]
    if rule is not None:
        assert rule in {i.rule for i in report.issues}, [i.to_dict() for i in report.issues]
    assert all(i.message for i in report.issues)


def zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def zip_members(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(i.filename, zf.read(i)) for i in zf.infolist()]


# ---------- torch fixtures


@pytest.fixture(scope="module")
def torch_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Real torch outputs: a zip state dict, a legacy one, a TorchScript archive."""
    torch = pytest.importorskip("torch")
    root = tmp_path_factory.mktemp("torch")
    sd = {"layer.weight": torch.randn(4, 3), "layer.bias": torch.zeros(4), "step": 7}
    torch.save(sd, root / "sd.pt")
    torch.save(sd, root / "legacy.pt", _use_new_zipfile_serialization=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit is deprecated, its files are not
        module = torch.jit.script(torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU()))
        torch.jit.save(module, root / "ts.pt")
    return {name: (root / f"{name}.pt").read_bytes() for name in ("sd", "legacy", "ts")}


def torch_zip_with(sd: bytes, replace: dict[str, bytes] | None = None, extra: list[Member] | None = None,
                   **kw: Any) -> bytes:  # fmt: skip
    """A torch zip rebuilt member by member, with some members' content replaced or added."""
    members = [
        Member(name, (replace or {}).get(name.split("/", 1)[1], data)) for name, data in zip_members(sd)
    ]
    return build_zip(members + (extra or []), **kw)


# ---------- routing


@pytest.mark.parametrize(
    ("head", "route"),
    [
        (b"PK\x03\x04rest", "zip"),
        (b"PK\x05\x06" + b"\x00" * 18, "zip"),
        (b"7z\xbc\xaf\x27\x1c\x00\x04", "7z"),
        (gzip.compress(b"x"), "gzip"),
        (bz2.compress(b"x"), "bz2"),
        (lzma.compress(b"x"), "xz"),
        (lzma.compress(b"x", format=lzma.FORMAT_ALONE), "lzma"),
        (zlib.compress(b"x"), "zlib"),
        (b"\x04\x22\x4d\x18\x64\x40", "lz4"),
        (b"\x93NUMPY\x01\x00v\x00{'descr'", "numpy"),
        (b"GGUF\x03\x00\x00\x00", "gguf"),
        (b"\x89HDF\r\n\x1a\n", "hdf5"),
        (struct.pack("<Q", 20) + b'{"a":{"dtype":"F32"}}', "safetensors"),
        (b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00", "pickle"),
        (b"\x80\x02}q\x00.", "pickle"),
        (b"cos\nsystem\n(S'x'\ntR.", "pickle"),
        (b"\x08\x07\x12\x07pytorch\x1a\x032.1", "onnx"),
        (b"version https://git-lfs.github.com/spec/v1\noid sha256:", None),
        (b"hello world\n", None),
        (b"", None),
    ],
)
def test_sniff_routes_by_content(head: bytes, route: str | None) -> None:
    assert sniff_artifact(head) == route


def test_sniff_tar_and_not_a_protocol_0_pickle_as_zlib() -> None:
    assert sniff_artifact(tar_of({"pickle": b"\x80\x02N."})[:512]) == "tar"
    # A protocol-0 pickle opening "(S" passes zlib's header check; joblib only takes 'x' as zlib.
    assert (0x28 << 8 | ord("S")) % 31 == 0
    assert sniff_artifact(b"(S'x'\nI1\n.") == "pickle"


# ---------- benign files: safe, silent


@needs_torch
def test_torch_zip_checkpoint_is_safe(tmp_path: Path, torch_files: dict[str, bytes]) -> None:
    report = scan(write(tmp_path / "model.pt", torch_files["sd"]))
    assert_safe(report)
    assert report.format == "pytorch-zip"
    assert report.facts["framework"] == "pytorch"
    assert report.facts["containers"] == ["zip"]
    assert report.facts["tensor_storages"] == 2
    assert "torch._utils._rebuild_tensor_v2" in report.globals
    assert report.bytes_read < len(torch_files["sd"]) + 4096


@needs_torch
def test_torch_legacy_checkpoint_is_safe(tmp_path: Path, torch_files: dict[str, bytes]) -> None:
    report = scan(write(tmp_path / "model.bin", torch_files["legacy"]))
    assert_safe(report)
    assert report.format == "pytorch-legacy" and report.facts["framework"] == "pytorch"


@needs_torch
def test_torchscript_archive_is_safe(tmp_path: Path, torch_files: dict[str, bytes]) -> None:
    report = scan(write(tmp_path / "scripted.pt", torch_files["ts"]))
    assert_safe(report)
    assert report.format == "torchscript"
    assert report.facts["member_formats"]["pickle"] >= 2  # type: ignore[index]


def test_numpy_npy_and_npz_are_safe(tmp_path: Path) -> None:
    arrays = {"a": np.arange(10, dtype=np.float32), "b": np.ones((3, 3))}
    np.save(tmp_path / "a.npy", arrays["a"])
    np.savez(tmp_path / "plain.npz", **arrays)
    np.savez_compressed(tmp_path / "packed.npz", **arrays)
    assert scan(tmp_path / "a.npy").format == "numpy"
    assert_safe(scan(tmp_path / "a.npy"))
    for name in ("plain.npz", "packed.npz"):
        report = scan(tmp_path / name)
        assert_safe(report)
        assert report.format == "numpy-npz" and report.facts["framework"] == "numpy"


JOBLIB_COMPRESS: list[Any] = [0, ("zlib", 3), ("gzip", 3), ("bz2", 3), ("xz", 3), ("lzma", 3)]
if HAVE_LZ4:
    JOBLIB_COMPRESS.append(("lz4", 3))


@pytest.mark.parametrize("compress", JOBLIB_COMPRESS, ids=str)
def test_joblib_dumps_are_safe(tmp_path: Path, compress: Any) -> None:
    joblib = pytest.importorskip("joblib")
    obj = {
        "coef": np.arange(2000, dtype=np.float64),
        "names": ["a", "b"],
        "ints": np.zeros(5, dtype=np.int64),
    }
    joblib.dump(obj, tmp_path / "model.joblib", compress=compress)
    report = scan(tmp_path / "model.joblib")
    assert_safe(report)
    assert report.format == "joblib"
    expected = [] if compress == 0 else [{"xz": "xz", "lzma": "lzma"}.get(compress[0], compress[0])]
    assert report.facts["containers"] == expected


@pytest.mark.parametrize("compress", [0, 3])
def test_sklearn_pipeline_joblib_is_safe(tmp_path: Path, compress: int) -> None:
    joblib = pytest.importorskip("joblib")
    pytest.importorskip("sklearn")
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression())
    model.fit(np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1]))
    joblib.dump(model, tmp_path / "clf.pkl", compress=compress)
    report = scan(tmp_path / "clf.pkl")
    assert_safe(report)
    assert report.format == "joblib" and report.facts["framework"] == "scikit-learn"


@pytest.mark.parametrize("wrap", [gzip.compress, bz2.compress, lzma.compress], ids=["gz", "bz2", "xz"])
def test_compressed_plain_pickles_are_safe(tmp_path: Path, wrap: Callable[[bytes], bytes]) -> None:
    report = scan(
        write(tmp_path / "state.pkl.z", wrap(pickle.dumps({"a": [1, 2, 3], "b": "text"}, protocol=4)))
    )
    assert_safe(report)
    assert report.format == "pickle" and len(report.facts["containers"]) == 1  # type: ignore[arg-type]


@needs_torch
def test_nemo_config_with_a_code_execution_target_is_malicious(
    tmp_path: Path, torch_files: dict[str, bytes]
) -> None:
    # CVE-2025-23304: restoring the archive instantiates every Hydra _target_ in its config.
    members = {
        "./model_config.yaml": b"encoder:\n  _target_: os.system\n  _args_: ['id']\n",
        "./model_weights.ckpt": torch_files["sd"],
    }
    for name, data in (("m.nemo", tar_of(members)), ("m.nemo.gz", gzip.compress(tar_of(members)))):
        report = scan(write(tmp_path / name, data))
        assert report.verdict is Verdict.MALICIOUS, name
        bad = [i for i in report.issues if i.verdict is Verdict.MALICIOUS]
        assert [(i.rule, i.member) for i in bad] == [("nemo.hydra-target", "./model_config.yaml")], name


@needs_torch
def test_nemo_tarball_and_tar_gz_of_a_checkpoint_are_safe(
    tmp_path: Path, torch_files: dict[str, bytes]
) -> None:
    nemo = tar_of(
        {
            "./model_config.yaml": b"target: nemo.collections.asr.models.X\n",
            "./model_weights.ckpt": torch_files["sd"],
        }
    )
    report = scan(write(tmp_path / "asr.nemo", nemo))
    assert_safe(report)
    assert report.format == "nemo" and report.facts["member_formats"] == {"pytorch-zip": 1}
    targz = gzip.compress(tar_of({"ckpt/model.pt": torch_files["sd"], "README.md": b"# hi\n"}))
    report = scan(write(tmp_path / "bundle.tar.gz", targz))
    assert_safe(report)
    assert report.format == "tar" and report.facts["containers"] == ["gzip", "tar"]
    assert report.facts["framework"] == "pytorch"


@pytest.mark.skipif(not HAVE_7Z, reason="py7zr not installed")
@needs_torch
def test_7z_of_a_checkpoint_is_safe(tmp_path: Path, torch_files: dict[str, bytes]) -> None:
    import py7zr

    with py7zr.SevenZipFile(tmp_path / "m.7z", "w") as z:
        z.writestr(torch_files["sd"], "model/pytorch_model.bin")
        z.writestr(b"hello", "model/README")
    report = scan(tmp_path / "m.7z")
    assert_safe(report)
    assert report.format == "7z" and report.facts["member_formats"] == {"pytorch-zip": 1}


# ---------- malicious content, wherever it hides


@pytest.mark.parametrize("name", ["evil.pkl", "model.safetensors", "notes.txt", "noextension"])
@pytest.mark.parametrize("builder", [evil_p0, evil_p2, evil_p4], ids=["p0", "p2", "p4"])
def test_raw_malicious_pickle_under_any_name(
    tmp_path: Path, name: str, builder: Callable[[Path], bytes]
) -> None:
    report = scan(write(tmp_path / name, builder(tmp_path)))
    assert_malicious(report)
    assert report.format == "pickle"


@needs_torch
@pytest.mark.parametrize("builder", [evil_p0, evil_p2], ids=["p0", "p2"])
def test_malicious_data_pkl_in_a_torch_zip(
    tmp_path: Path, torch_files: dict[str, bytes], builder: Any
) -> None:
    data = torch_zip_with(torch_files["sd"], {"data.pkl": builder(tmp_path)})
    report = scan(write(tmp_path / "model.pt", data))
    assert_malicious(report)
    assert report.format == "pytorch-zip"
    assert any(i.member == "sd/data.pkl" for i in report.issues if i.verdict is Verdict.MALICIOUS)


@needs_torch
@pytest.mark.parametrize("name", ["sd/extra", "sd/data/99", "sd/.data/serialization_id", "other/weights.bin"])
@pytest.mark.parametrize("builder", [evil_p0, evil_p4], ids=["p0", "p4"])
def test_malicious_pickle_under_another_member_name(tmp_path: Path, torch_files: dict[str, bytes], name: str,
                                                    builder: Any) -> None:  # fmt: skip
    data = torch_zip_with(torch_files["sd"], extra=[Member(name, builder(tmp_path))])
    report = scan(write(tmp_path / "model.pt", data))
    assert_malicious(report)
    assert any(i.member == name for i in report.issues if i.verdict is Verdict.MALICIOUS)


@needs_torch
def test_malicious_constants_in_torchscript(tmp_path: Path, torch_files: dict[str, bytes]) -> None:
    data = torch_zip_with(torch_files["ts"], {"constants.pkl": evil_p2(tmp_path)})
    report = scan(write(tmp_path / "ts.pt", data))
    assert_malicious(report)
    assert report.format == "torchscript"


@needs_torch
def test_malicious_deflated_member(tmp_path: Path, torch_files: dict[str, bytes]) -> None:
    members = [Member(n, d, method=8) for n, d in zip_members(torch_files["sd"])]
    members[0] = Member("sd/data.pkl", evil_p4(tmp_path), method=8)
    assert_malicious(scan(write(tmp_path / "m.pt", build_zip(members))))


def test_malicious_object_array_in_npz_and_npy(tmp_path: Path) -> None:
    arr = np.array([_Reduce(os.system, canary(tmp_path)), 1], dtype=object)
    np.save(tmp_path / "obj.npy", arr, allow_pickle=True)
    np.savez_compressed(tmp_path / "obj.npz", ok=np.zeros(3), bad=arr)
    assert_malicious(scan(tmp_path / "obj.npy"))
    report = scan(tmp_path / "obj.npz")
    assert_malicious(report)
    assert any(i.member == "bad.npy" for i in report.issues if i.verdict is Verdict.MALICIOUS)


@pytest.mark.parametrize("compress", JOBLIB_COMPRESS, ids=str)
def test_malicious_joblib_dumps(tmp_path: Path, compress: Any) -> None:
    joblib = pytest.importorskip("joblib")
    joblib.dump(
        {"coef": np.arange(100.0), "hook": _Reduce(os.system, canary(tmp_path))},
        tmp_path / "m.joblib",
        compress=compress,
    )
    assert_malicious(scan(tmp_path / "m.joblib"))


def test_malicious_joblib_pre_0_10_zfile(tmp_path: Path) -> None:
    payload = evil_p2(tmp_path)
    data = b"ZF" + hex(len(payload)).encode().ljust(19) + zlib.compress(payload)
    report = scan(write(tmp_path / "old.pkl", data))
    assert_malicious(report)
    assert report.format == "joblib" and report.facts["containers"] == ["zlib"]


@pytest.mark.parametrize(
    "wrap",
    [
        gzip.compress,
        bz2.compress,
        lzma.compress,
        zlib.compress,
        lambda d: lzma.compress(d, format=lzma.FORMAT_ALONE),
    ],
    ids=["gz", "bz2", "xz", "zlib", "lzma"],
)
def test_malicious_pickle_in_compression_wrappers(tmp_path: Path, wrap: Callable[[bytes], bytes]) -> None:
    assert_malicious(scan(write(tmp_path / "x.pkl.gz", wrap(evil_p4(tmp_path)))))
    assert_malicious(scan(write(tmp_path / "double.gz", gzip.compress(wrap(evil_p0(tmp_path))))))


@pytest.mark.skipif(not HAVE_LZ4, reason="lz4 not installed")
def test_malicious_pickle_in_lz4_frame(tmp_path: Path) -> None:
    import lz4.frame  # type: ignore[import-untyped]

    assert_malicious(scan(write(tmp_path / "x.lz4", lz4.frame.compress(evil_p4(tmp_path)))))


def test_lz4_without_the_package_fails_closed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(containers, "lz4_frame", lambda: None)
    report = scan(write(tmp_path / "x.lz4", b"\x04\x22\x4d\x18" + b"\x00" * 40))
    assert_unscannable(report, "container.unsupported")
    assert report.format == "lz4"


def test_malicious_in_tar_and_tar_gz_and_nested_zip(tmp_path: Path) -> None:
    evil = evil_p4(tmp_path)
    assert_malicious(scan(write(tmp_path / "a.tar", tar_of({"model/weights.bin": evil}))))
    assert_malicious(scan(write(tmp_path / "a.tgz", tar_of({"m.pkl": evil}, mode="w:gz"))))
    inner = zip_bytes({"deep/data.pkl": evil}, zipfile.ZIP_DEFLATED)
    report = scan(
        write(tmp_path / "nested.tar.gz", gzip.compress(tar_of({"pkg/inner.zip": inner, "a.txt": b"x"})))
    )
    assert_malicious(report)
    bad = [i for i in report.issues if i.verdict is Verdict.MALICIOUS]
    assert bad[0].member == "pkg/inner.zip!deep/data.pkl"
    assert report.facts["containers"] == ["gzip", "tar"]
    twice = zip_bytes({"outer/inner.zip": zip_bytes({"x/data.pkl": evil})}, zipfile.ZIP_DEFLATED)
    assert_malicious(scan(write(tmp_path / "twice.zip", twice)))


def test_malicious_legacy_torch_tar(tmp_path: Path) -> None:
    data = tar_of(
        {
            "sys_info": pickle.dumps({"protocol_version": 1001}, protocol=2),
            "pickle": evil_p2(tmp_path),
            "storages": pickle.dumps(0, protocol=2),
            "tensors": pickle.dumps(0, protocol=2),
        }
    )
    report = scan(write(tmp_path / "old.pt", data))
    assert_malicious(report)
    assert report.format == "pytorch-tar"


def _torch_args(key: str, second: str, cls: str) -> bytes:
    """The protocol-2 pickle of ``(key, second, torch.<cls>)`` a legacy torch tar holds per record."""
    out = b"\x80\x02"
    for text in (key, second):
        out += b"X" + struct.pack("<I", len(text)) + text.encode()
    return out + b"ctorch\n" + cls.encode() + b"\n\x87."


def legacy_torch_tar(storage_args: list[bytes], tensor_args: list[bytes]) -> bytes:
    """A torch legacy tar: raw storage and tensor records between the pickles ``torch.load`` runs."""
    storages = pickle.dumps(len(storage_args), protocol=2)
    for args in storage_args:
        storages += args + struct.pack("<Q", 3) + b"\x00" * 12  # three float32 elements
    storages += pickle.dumps([], protocol=2)  # storage views
    tensors = pickle.dumps(len(tensor_args), protocol=2)
    for args in tensor_args:
        tensors += args + struct.pack("<ii", 1, 0) + struct.pack("<qqq", 3, 1, 0)
    return tar_of(
        {
            "sys_info": pickle.dumps({"protocol_version": 1001, "little_endian": True}, protocol=2),
            "pickle": pickle.dumps({"w": 1}, protocol=2),
            "storages": storages,
            "tensors": tensors,
        }
    )


def test_legacy_torch_tar_records_are_followed(tmp_path: Path) -> None:
    ok_storage = _torch_args("0", "cpu", "FloatStorage")
    ok_tensor = _torch_args("t0", "0", "FloatTensor")
    report = scan(
        write(tmp_path / "ok.pt", legacy_torch_tar([ok_storage, ok_storage], [ok_tensor, ok_tensor]))
    )
    assert_safe(report)
    assert report.format == "pytorch-tar" and report.facts["pickles"] == 1 + 1 + 4 + 3
    evil = evil_p2(tmp_path)
    for storages, tensors in (
        ([ok_storage, evil], [ok_tensor]),
        ([ok_storage], [ok_tensor, ok_tensor, evil]),
    ):
        report = scan(write(tmp_path / "evil.pt", legacy_torch_tar(storages, tensors)))
        assert_malicious(report)
        assert all(i.offset and i.offset > 20 for i in report.issues if i.verdict is Verdict.MALICIOUS)


def test_tar_path_traversal_is_malicious(tmp_path: Path) -> None:
    report = scan(
        write(tmp_path / "m.nemo", tar_of({"model_config.yaml": b"a: 1\n", "../../.bashrc": b"echo\n"}))
    )
    assert_malicious(report)
    assert {i.rule for i in report.issues} == {"container.path-traversal"}


@pytest.mark.skipif(not HAVE_7Z, reason="py7zr not installed")
def test_malicious_in_7z(tmp_path: Path) -> None:
    import py7zr

    with py7zr.SevenZipFile(tmp_path / "m.7z", "w") as z:
        z.writestr(b"readme", "a/README")
        z.writestr(evil_p4(tmp_path), "a/model.bin")
    report = scan(tmp_path / "m.7z")
    assert_malicious(report)
    assert any(i.member == "a/model.bin" for i in report.issues if i.verdict is Verdict.MALICIOUS)


def test_7z_without_py7zr_fails_closed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(containers, "_optional", lambda name: None)
    report = scan(write(tmp_path / "m.7z", b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 40))
    assert_unscannable(report, "container.unsupported")
    assert "7z archive not scanned" in report.issues[0].message and report.format == "7z"


# ---------- zip differentials (CVE-2025-1944/1945/10156...)


@needs_torch
def test_bad_crc_member_is_scanned_and_reported(tmp_path: Path, torch_files: dict[str, bytes]) -> None:
    members = [Member(n, d) for n, d in zip_members(torch_files["sd"])]
    members[0] = Member("sd/data.pkl", evil_p2(tmp_path), crc=0x12345678)
    report = scan(write(tmp_path / "crc.pt", build_zip(members)))
    assert_malicious(report)
    assert "container.zip-bad-crc" in {i.rule for i in report.issues}


@needs_torch
def test_corrupt_member_before_data_pkl_does_not_stop_the_scan(
    tmp_path: Path, torch_files: dict[str, bytes]
) -> None:
    junk = Member("sd/aaa", b"", method=8, raw=b"\xff" * 64)  # not deflate at all
    members = [junk] + [Member(n, d) for n, d in zip_members(torch_files["sd"])]
    members[1] = Member("sd/data.pkl", evil_p2(tmp_path), crc=0)
    report = scan(write(tmp_path / "m.pt", build_zip(members)))
    assert_malicious(report)
    assert "container.malformed" in {i.rule for i in report.issues}


@needs_torch
def test_encrypted_flag_on_a_plain_member(tmp_path: Path, torch_files: dict[str, bytes]) -> None:
    members = [Member(n, d) for n, d in zip_members(torch_files["sd"])]
    members[0] = Member("sd/data.pkl", evil_p2(tmp_path), flags=0x1)
    report = scan(write(tmp_path / "enc.pt", build_zip(members)))
    assert_malicious(report)
    assert "container.zip-flag-encrypted" in {i.rule for i in report.issues}


def test_really_encrypted_member_is_unscannable(tmp_path: Path) -> None:
    data = build_zip([Member("secret/data.bin", os.urandom(200), flags=0x1)])
    assert_unscannable(scan(write(tmp_path / "e.zip", data)), "container.encrypted")


@needs_torch
@pytest.mark.parametrize("evil_first", [True, False])
def test_duplicated_names_every_copy_is_scanned(
    tmp_path: Path, torch_files: dict[str, bytes], evil_first: bool
) -> None:
    members = [Member(n, d) for n, d in zip_members(torch_files["sd"])]
    benign = members[0]
    evil = Member("sd/data.pkl", evil_p2(tmp_path))
    members[0:1] = [evil, benign] if evil_first else [benign, evil]
    report = scan(write(tmp_path / "dup.pt", build_zip(members)))
    assert_malicious(report)
    assert "container.zip-duplicate-name" in {i.rule for i in report.issues}


@needs_torch
def test_local_header_name_differs_from_central_directory(
    tmp_path: Path, torch_files: dict[str, bytes]
) -> None:
    extra = [Member("sd/readme.txt", evil_p2(tmp_path), local_name=b"sd/data.pkl")]
    report = scan(write(tmp_path / "m.pt", torch_zip_with(torch_files["sd"], extra=extra)))
    assert_malicious(report)
    assert "container.zip-name-mismatch" in {i.rule for i in report.issues}


@needs_torch
@pytest.mark.parametrize("relative", [False, True])
def test_prepended_data(tmp_path: Path, torch_files: dict[str, bytes], relative: bool) -> None:
    data = torch_zip_with(
        torch_files["sd"],
        {"data.pkl": evil_p2(tmp_path)},
        prefix=b"\x00JUNK" * 100,
        relative_offsets=relative,
    )
    report = scan(write(tmp_path / "m.pt", data))
    assert_malicious(report)
    assert "container.zip-prepended-data" in {i.rule for i in report.issues}


@needs_torch
def test_benign_prefix_zip_is_suspicious_not_safe(tmp_path: Path, torch_files: dict[str, bytes]) -> None:
    report = scan(write(tmp_path / "m.pt", b"#!/bin/sh\n" + torch_files["sd"]))
    assert report.verdict is Verdict.SUSPICIOUS and report.format == "pytorch-zip"


@needs_torch
def test_pickle_zip_polyglots(tmp_path: Path, torch_files: dict[str, bytes]) -> None:
    # torch.load reads the pickle at the start; zipfile-based loaders read the zip at the end.
    report = scan(write(tmp_path / "a.pt", evil_p2(tmp_path) + torch_files["sd"]))
    assert_malicious(report)
    assert "container.polyglot" in {i.rule for i in report.issues}
    hidden = torch_zip_with(torch_files["sd"], {"data.pkl": evil_p2(tmp_path)})
    report = scan(write(tmp_path / "b.pt", pickle.dumps({"a": 1}, protocol=2) + hidden))
    assert_malicious(report)


@needs_torch
def test_path_traversal_zip_name_is_reported(tmp_path: Path, torch_files: dict[str, bytes]) -> None:
    data = torch_zip_with(torch_files["sd"], extra=[Member("../../evil.pkl", evil_p0(tmp_path))])
    report = scan(write(tmp_path / "m.pt", data))
    assert_malicious(report)
    assert "container.path-traversal" in {i.rule for i in report.issues}


@needs_torch
def test_truncated_checkpoint_is_unscannable_but_its_pickle_is_still_judged(
    tmp_path: Path, torch_files: dict[str, bytes]
) -> None:  # fmt: skip
    sd = torch_files["sd"]
    cut = sd[: sd.find(b"PK\x01\x02")]
    report = scan(write(tmp_path / "cut.pt", cut))
    assert_unscannable(report, "container.truncated")
    assert report.format == "pytorch-zip"
    evil = torch_zip_with(sd, {"data.pkl": evil_p2(tmp_path)})
    assert_malicious(scan(write(tmp_path / "cut2.pt", evil[: len(evil) // 2 + 200])))


# ---------- broken and hostile input: unscannable, never a crash


def test_truncated_compressed_pickle_is_unscannable(tmp_path: Path) -> None:
    data = gzip.compress(pickle.dumps(list(range(5000)), protocol=4))
    report = scan(write(tmp_path / "x.pkl.gz", data[: len(data) // 2]))
    assert_unscannable(report)


def test_zip_bomb_is_unscannable(tmp_path: Path) -> None:
    inner = zip_bytes({"z/data.pkl": b"\x80\x04" + b"\x00" * (30 * 1024 * 1024)}, zipfile.ZIP_DEFLATED)
    data = zip_bytes({"a/data.pkl": inner, "b/x": inner}, zipfile.ZIP_DEFLATED)
    report = scan(write(tmp_path / "bomb.zip", data), ratio_floor=4 * 1024 * 1024, max_ratio=50)
    assert_unscannable(report, "container.bomb")


def test_unsupported_zip_method_is_unscannable(tmp_path: Path) -> None:
    report = scan(write(tmp_path / "m.pt", build_zip([Member("a/data.pkl", b"\x80\x02N.", method=14)])))
    assert_unscannable(report, "container.unsupported")


def test_depth_bound(tmp_path: Path) -> None:
    data = pickle.dumps({"a": 1}, protocol=4)
    for _ in range(8):
        data = gzip.compress(data)
    assert_unscannable(scan(write(tmp_path / "deep.gz", data), max_depth=3), "container.limit")


def test_time_bound(tmp_path: Path) -> None:
    data = zip_bytes({f"a/{i}.pkl": pickle.dumps(i) for i in range(20)})
    assert_unscannable(scan(write(tmp_path / "slow.zip", data), max_seconds=0.0), "container.limit")


def test_member_count_bound(tmp_path: Path) -> None:
    data = zip_bytes({f"a/{i}.pkl": pickle.dumps(i) for i in range(50)})
    assert_unscannable(scan(write(tmp_path / "many.zip", data), max_members=10), "container.limit")


def test_malformed_tar_is_unscannable(tmp_path: Path) -> None:
    data = bytearray(tar_of({"model.pkl": pickle.dumps({"a": 1}, protocol=2) * 100}))
    report = scan(write(tmp_path / "cut.tar", bytes(data[:700])))
    assert report.verdict is Verdict.UNSCANNABLE


@pytest.mark.parametrize("wrap", [lambda d: d, gzip.compress], ids=["tar", "tar.gz"])
def test_huge_tar_header_extension_is_refused_before_it_is_read(tmp_path: Path, wrap: Any) -> None:
    info = tarfile.TarInfo("././@PaxHeader")
    info.type = tarfile.XHDTYPE
    info.size = 1 << 30  # tarfile would read the whole "header" into memory
    data = info.tobuf(format=tarfile.USTAR_FORMAT) + b"0" * 4096
    report = scan(write(tmp_path / "pax.tar", wrap(data)))
    assert_unscannable(report, "container.limit")


def test_unreadable_path_is_unscannable(tmp_path: Path) -> None:
    report = scan_artifact(tmp_path / "missing.pt")
    assert report is not None and report.verdict is Verdict.UNSCANNABLE


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"hello world\n",
        b"# README\n\nnot a model\n",
        os.urandom(4096),
        b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"0" * 64 + b"\nsize 12\n",
    ],
    ids=["empty", "text", "markdown", "random", "lfs"],
)
def test_not_model_artifacts(tmp_path: Path, content: bytes) -> None:
    assert scan_artifact(write(tmp_path / "file.bin", content)) is None


def test_archives_without_models_are_not_artifacts(tmp_path: Path) -> None:
    assert scan_artifact(write(tmp_path / "docs.zip", zip_bytes({"a.txt": b"x", "b/c.md": b"y"}, 8))) is None
    assert scan_artifact(write(tmp_path / "src.tar.gz", tar_of({"a.py": b"print(1)\n"}, mode="w:gz"))) is None
    assert scan_artifact(write(tmp_path / "notes.gz", gzip.compress(b"just text\n" * 100))) is None


# ---------- reading only what must be read


@needs_torch
@pytest.mark.skipif(bool(os.environ.get("AISPM_SKIP_LARGE_TESTS")), reason="AISPM_SKIP_LARGE_TESTS is set")
def test_large_checkpoint_is_judged_from_a_small_read(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    if shutil.disk_usage(tmp_path).free < 1024**3:
        pytest.skip("less than 1 GiB free in the temporary directory")
    path = tmp_path / "big.pt"
    torch.save({f"layer{i}.weight": torch.zeros(2_500_000) for i in range(30)}, path)  # 300 MB
    size = path.stat().st_size
    assert size > 290_000_000
    report = scan(path)
    assert_safe(report)
    assert report.facts["tensor_storages"] == 30
    assert report.bytes_read < 256 * 1024, report.bytes_read


# ---------- hooks: format analysers, nested bytes, hashing


def test_format_analysers_are_called_with_a_seekable_stream(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[int, str | None]] = []

    def analyser(fh: BinaryIO, size: int, member: str | None) -> FormatResult:
        fh.seek(0)
        (n,) = struct.unpack("<Q", fh.read(8))
        fh.seek(8 + n)
        calls.append((size, member))
        issue = Issue("safetensors.test", Verdict.SUSPICIOUS, Severity.MEDIUM, "seen")
        return FormatResult(facts={"tensor_count": 1}, issues=(issue,))

    monkeypatch.setitem(FORMAT_ANALYSERS, "safetensors", analyser)
    header = b'{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
    st_bytes = struct.pack("<Q", len(header)) + header + b"\x00" * 4
    report = scan(write(tmp_path / "w.bin", st_bytes))
    assert report.format == "safetensors" and report.facts["tensor_count"] == 1
    assert calls == [(len(st_bytes), None)]
    report = scan(
        write(tmp_path / "w.zip", zip_bytes({"m/model.safetensors": st_bytes}, zipfile.ZIP_DEFLATED))
    )
    assert calls[-1] == (len(st_bytes), "m/model.safetensors")
    assert [i.member for i in report.issues] == ["m/model.safetensors"]


def test_a_failing_analyser_is_unscannable_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(fh: BinaryIO, size: int, member: str | None) -> FormatResult:
        raise RuntimeError("bug")

    monkeypatch.setitem(FORMAT_ANALYSERS, "gguf", broken)
    assert_unscannable(
        scan(write(tmp_path / "m.gguf", b"GGUF\x03\x00\x00\x00" + b"\x00" * 32)), "container.error"
    )


def test_keras_zip_goes_to_the_keras_analyser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []

    def keras(fh: BinaryIO, size: int, member: str | None) -> FormatResult:
        with zipfile.ZipFile(fh) as zf:
            seen.append(zf.namelist())
        return FormatResult(
            issues=(Issue("keras.lambda-layer", Verdict.MALICIOUS, Severity.CRITICAL, "lambda"),)
        )

    monkeypatch.setitem(FORMAT_ANALYSERS, "keras", keras)
    data = zip_bytes(
        {"metadata.json": b"{}", "config.json": b'{"class_name": "Sequential"}', "model.weights.h5": b"x"}
    )
    report = scan(write(tmp_path / "m.keras", data))
    assert report.format == "keras" and seen == [["metadata.json", "config.json", "model.weights.h5"]]
    assert_malicious(report)


@needs_torch
def test_scan_nested_bytes_scans_a_whole_torch_file(tmp_path: Path, torch_files: dict[str, bytes]) -> None:
    res = scan_nested_bytes(torch_zip_with(torch_files["sd"], {"data.pkl": evil_p2(tmp_path)}), "data.pkl@12")
    assert any(i.verdict is Verdict.MALICIOUS for i in res.issues)
    assert all(i.member is not None and i.member.startswith("data.pkl@12") for i in res.issues)
    assert scan_nested_bytes(torch_files["sd"], "x").issues == ()


def test_sha256_of_streams_and_caches_by_stat(tmp_path: Path) -> None:
    path = write(tmp_path / "blob", os.urandom(3 * 1024 * 1024 + 5))
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    assert sha256_of(path, chunk_size=1 << 20) == expected
    st_ = path.stat()
    path.write_bytes(b"\x00" * st_.st_size)  # same size; the same mtime put back: the cache answers
    os.utime(path, ns=(st_.st_atime_ns, st_.st_mtime_ns))
    assert sha256_of(path) == expected
    os.utime(path, ns=(st_.st_atime_ns, st_.st_mtime_ns + 1_000_000))
    assert sha256_of(path) == hashlib.sha256(b"\x00" * st_.st_size).hexdigest()
    assert containers.sha256_of is sha256_of


@needs_torch
def test_torch_storage_reloader_payloads_are_scanned_as_files(
    tmp_path: Path, torch_files: dict[str, bytes]
) -> None:
    torch = pytest.importorskip("torch")
    # A plain pickle of a tensor carries its storage as a whole torch file (torch.storage._load_from_bytes).
    assert_safe(scan(write(tmp_path / "t.pkl", pickle.dumps({"t": torch.arange(5.0)}))))
    inner = torch_zip_with(torch_files["sd"], {"data.pkl": evil_p2(tmp_path)})
    outer = pickle.dumps({"w": _Reduce(torch.storage._load_from_bytes, inner)}, protocol=4)
    report = scan(write(tmp_path / "n.pkl", outer))
    assert_malicious(report)
    assert "container.polyglot" not in {i.rule for i in report.issues}  # the zip is a value of the pickle


@needs_torch
def test_storages_that_look_like_other_things_stay_quiet(
    tmp_path: Path, torch_files: dict[str, bytes]
) -> None:
    lookalikes = {
        "data/0": b"\x80\x02" + bytes(range(256)) * 4,  # a PROTO opcode, then tensor bytes
        "data/1": b"\x1f\x8b" + bytes(range(255, -1, -1)),  # a gzip magic
        "data/2": b"PK\x03\x04" + b"\x00" * 60,  # a zip magic
    }
    extra = [Member(f"sd/{name}", data) for name, data in list(lookalikes.items())[2:]]
    data = torch_zip_with(torch_files["sd"], dict(list(lookalikes.items())[:2]), extra=extra)
    report = scan(write(tmp_path / "m.pt", data))
    assert_safe(report)
    assert report.facts["tensor_storages"] == 3


def test_protocol_0_inst_pickle_opening_like_zlib(tmp_path: Path) -> None:
    data = b"(S'" + canary(tmp_path).encode() + b"'\nios\nsystem\n."
    assert (data[0] << 8 | data[1]) % 31 == 0  # a valid zlib header: scanners that sniff zlib first miss it
    report = scan(write(tmp_path / "model.ckpt", data))
    assert_malicious(report)
    assert report.format == "pickle"


@needs_torch
def test_bad_crc_on_an_earlier_member(tmp_path: Path, torch_files: dict[str, bytes]) -> None:
    members = [Member("sd/aaa.pkl", pickle.dumps([1, 2], protocol=2), crc=7)] + [
        Member(n, evil_p2(tmp_path) if n.endswith("data.pkl") else d)
        for n, d in zip_members(torch_files["sd"])
    ]
    report = scan(write(tmp_path / "m.pt", build_zip(members)))
    assert_malicious(report)
    assert [i.member for i in report.issues if i.rule == "container.zip-bad-crc"] == ["sd/aaa.pkl"]


def test_trailing_data_after_a_compressed_stream(tmp_path: Path) -> None:
    report = scan(write(tmp_path / "x.pkl.gz", gzip.compress(pickle.dumps([1], protocol=4)) + b"junk after"))
    assert report.verdict is Verdict.SUSPICIOUS
    assert {i.rule for i in report.issues} == {"container.trailing-data"}


def test_hdf5_goes_to_the_keras_h5_analyser_which_may_rename_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    h5py = pytest.importorskip("h5py")
    with h5py.File(tmp_path / "m.h5", "w") as f:
        f.attrs["keras_version"] = "3.0"
        f.create_dataset("w", data=np.zeros(3))
    assert scan(tmp_path / "m.h5").format == "hdf5"

    def keras_h5(fh: BinaryIO, size: int, member: str | None) -> FormatResult:
        assert fh.read(8) == b"\x89HDF\r\n\x1a\n"
        return FormatResult(facts={"format": "keras-h5"})

    monkeypatch.setitem(FORMAT_ANALYSERS, "keras-h5", keras_h5)
    report = scan(tmp_path / "m.h5")
    assert report.format == "keras-h5" and report.facts["framework"] == "keras"


def test_special_files_are_not_artifacts(tmp_path: Path) -> None:
    assert scan_artifact(tmp_path) is None
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert scan_artifact(fifo) is None  # never opened: opening a FIFO would block


def test_reports_serialise(tmp_path: Path) -> None:
    import json

    data = gzip.compress(tar_of({"m/inner.zip": zip_bytes({"a/data.pkl": evil_p4(tmp_path)})}))
    report = scan(write(tmp_path / "x.tgz", data))
    doc = json.loads(json.dumps(report.to_dict()))
    assert doc["verdict"] == "malicious" and doc["format"] == "tar"
    assert {i["member"] for i in doc["issues"]} == {"m/inner.zip!a/data.pkl"}


# ---------- every technique of the pickle samples, through the container layer

samples: Any = pytest.importorskip("tests.analysis.pickle_samples")


def _wrappers(data: bytes) -> dict[str, bytes]:
    return {
        "raw.txt": data,
        "gz": gzip.compress(data),
        "zip-odd-name": build_zip(
            [Member("archive/data.pkl", pickle.dumps({}, protocol=2)), Member("archive/x", data)]
        ),
        "zip-bad-crc-flags": build_zip([Member("a/weights", data, crc=1, flags=1, method=8)]),
        "tar.xz": lzma.compress(tar_of({"m/model.bin": data})),
    }


@pytest.mark.parametrize("name", sorted(samples.MALICIOUS))
def test_every_malicious_sample_keeps_its_verdict_in_every_container(tmp_path: Path, name: str) -> None:
    from aispm.analysis.pickle_vm import scan_pickle_bytes

    data = samples.MALICIOUS[name](tmp_path / "canary")
    if samples.kind_of(data) != "pickle":
        report = scan(write(tmp_path / "whole", data))
        assert report.verdict is Verdict.MALICIOUS
        return
    expected = scan_pickle_bytes(data).verdict
    for wrapper, blob in _wrappers(data).items():
        report = scan(write(tmp_path / wrapper, blob))
        # The container layer never lowers what the walker says of the same bytes.
        assert report.verdict.rank >= expected.rank, (wrapper, [i.to_dict() for i in report.issues])
    assert not (tmp_path / "canary").exists()


@pytest.mark.parametrize("name", sorted(samples.BENIGN) + [f"decoy:{n}" for n in sorted(samples.DECOYS)])
def test_benign_samples_and_decoys_are_safe_as_files(tmp_path: Path, name: str) -> None:
    build = samples.DECOYS[name[6:]] if name.startswith("decoy:") else samples.BENIGN[name]
    try:
        data = build()
    except ImportError as exc:
        pytest.skip(f"needs {exc.name}")
    assert_safe(scan(write(tmp_path / "model.bin", data)))
    assert_safe(scan(write(tmp_path / "model.tgz", gzip.compress(tar_of({"m/model.bin": data})))))


# ---------- canary and fuzz


def _malicious_corpus(root: Path) -> Iterator[Path]:
    evil = evil_p4(root)
    yield write(root / "c" / "p0", evil_p0(root))
    yield write(root / "c" / "p4.safetensors", evil)
    yield write(root / "c" / "x.gz", gzip.compress(evil))
    yield write(root / "c" / "x.zip", zip_bytes({"a/b": evil}, 8))
    yield write(root / "c" / "x.tar", tar_of({"a": evil}))
    yield write(root / "c" / "crc.zip", build_zip([Member("a/data.pkl", evil, crc=1, flags=1)]))


def test_scanning_never_executes_a_payload(tmp_path: Path) -> None:
    for path in _malicious_corpus(tmp_path):
        assert_malicious(scan(path))
    assert not (tmp_path / "canary").exists()


def _fuzz_seeds() -> list[bytes]:
    root = Path("/nonexistent")
    seeds = [
        zip_bytes({"a/data.pkl": pickle.dumps({"w": [1.0] * 20}, protocol=2), "a/data/0": b"\x00" * 64}, 8),
        gzip.compress(tar_of({"m/x.pkl": pickle.dumps([1, 2], protocol=4), "m/c.yaml": b"a: 1"})),
        zlib.compress(pickle.dumps({"a": list(range(50))}, protocol=3)),
        build_zip([Member("a/data.pkl", evil_p0(root), descriptor=True), Member("a/z", b"z" * 50, method=8)]),
        tar_of({"pickle": evil_p2(root)}),
        bz2.compress(evil_p4(root)),
    ]
    return seeds


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    seed=st.sampled_from(_fuzz_seeds()),
    edits=st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)), max_size=6),
    cut=st.one_of(st.none(), st.integers(min_value=0)),
)
def test_fuzz_router_never_crashes(
    tmp_path: Path, seed: bytes, edits: list[tuple[int, int]], cut: int | None
) -> None:
    data = bytearray(seed)
    for pos, value in edits:
        data[pos % len(data)] = value
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    path = write(tmp_path / "fuzz.bin", bytes(data))
    limits = ArtifactLimits(max_seconds=10, max_decompressed_bytes=64 * 1024 * 1024, max_members=1000)
    report = scan_artifact(path, limits=limits)
    if report is not None:
        assert report.verdict in Verdict
        assert all(isinstance(i, Issue) and i.message for i in report.issues)
        assert report.bytes_read <= 4 * len(data) + 70_000


# ---------- torch storages against the archive


@needs_torch
def test_every_dtype_torch_saves_matches_its_storage_sizes(tmp_path: Path) -> None:
    import torch

    tensors = {
        str(dtype): torch.ones(3, 2).to(dtype)
        for dtype in (
            torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int8, torch.uint8,
            torch.int16, torch.int32, torch.int64, torch.bool, torch.complex64, torch.complex128,
            torch.float8_e4m3fn, torch.float8_e5m2,
        )
    }  # fmt: skip
    shared = torch.arange(12.0)
    tensors["view"] = shared[2:5]  # a view: its whole storage is saved
    torch.save(tensors, tmp_path / "all.pt")
    assert_safe(scan(tmp_path / "all.pt"))


@needs_torch
def test_a_storage_shorter_than_its_declared_size_is_malicious(
    tmp_path: Path, torch_files: dict[str, bytes]
) -> None:
    # GHSA-63cw-57p8-fm3p: torch <= 2.9.1 read past such a storage, even with weights_only=True.
    members = dict(zip_members(torch_files["sd"]))
    (weight_key,) = [k for k, v in members.items() if k.endswith("/data/0")]
    short = torch_zip_with(torch_files["sd"], replace={weight_key.split("/", 1)[1]: members[weight_key][:8]})
    report = scan(write(tmp_path / "short.pt", short))
    (issue,) = [i for i in report.issues if i.rule == "torch.storage-size-mismatch"]
    assert issue.verdict is Verdict.MALICIOUS and issue.member and issue.member.endswith("data.pkl")
    assert (issue.detail["declared"], issue.detail["held"]) == (48, 8)
    # Inside another archive, the member path says where.
    outer = build_zip([Member("bundle/short.pt", short)])
    nested = scan(write(tmp_path / "bundle.zip", outer))
    assert any(
        i.rule == "torch.storage-size-mismatch" and i.member == "bundle/short.pt!sd/data.pkl"
        for i in nested.issues
    ), nested.issues
    # Longer than declared is not the dangerous direction: no finding.
    padded = torch_zip_with(
        torch_files["sd"], replace={weight_key.split("/", 1)[1]: members[weight_key] + b"\0" * 64}
    )
    assert not [i for i in scan(write(tmp_path / "long.pt", padded)).issues if i.rule.startswith("torch.")]
