"""What a file is, from its content and its archive's member names: routing knowledge of the scanner.

:func:`sniff_artifact` maps the first bytes of a file or archive member to a route (``zip``,
``gzip``, ``pickle``, ``safetensors``...), by magic numbers and header checks only, never by the
extension. The rest names what the layout of an archive says (a PyTorch checkpoint, a TorchScript
archive, an ``.npz``, a Keras archive), how the real loader treats each member (unpickled, raw tensor
storage, weights), and which framework the pickle globals or the format point to. Nothing here
reads a file: the container layer (:mod:`aispm.analysis.containers`) does, within its bounds.
"""

from __future__ import annotations

import re
import tarfile
from collections.abc import Iterable
from pathlib import PurePosixPath

from aispm.analysis import pickle_vm
from aispm.analysis.artifact_io import Source
from aispm.analysis.model_headers import sniff as sniff_header
from aispm.analysis.zip_reader import is_zip_head

#: Bytes of a file or member read to decide what it is (a tar header is 512).
HEAD_BYTES = 512
#: Routes that are compression wrappers, and the codec each one decodes with.
CODECS = {"gzip": "gzip", "bz2": "bz2", "xz": "xz", "lzma": "lzma", "zlib": "zlib", "lz4": "lz4",
          "joblib-zfile": "zlib"}  # fmt: skip
#: Routes whose content goes to a format analyser, and the analyser's key.
ANALYSED = {"safetensors": "safetensors", "gguf": "gguf", "onnx": "onnx", "hdf5": "keras-h5",
            "tflite": "tflite", "ggml": "ggml", "tensorflow-savedmodel": "tensorflow-savedmodel"}  # fmt: skip
#: What a format says about the framework, when the pickle globals do not.
FORMAT_FRAMEWORK = {"pytorch-zip": "pytorch", "pytorch-legacy": "pytorch", "pytorch-tar": "pytorch",
                     "torchscript": "pytorch", "pytorch-package": "pytorch", "numpy": "numpy",
                     "numpy-npz": "numpy", "keras": "keras", "keras-h5": "keras", "gguf": "llama.cpp",
                     "ggml": "llama.cpp", "onnx": "onnx", "tensorflow-savedmodel": "tensorflow",
                     "tflite": "tensorflow", "nemo": "nemo"}  # fmt: skip
#: Top-level module of a pickle global -> framework, in priority order.
_GLOBAL_FRAMEWORKS = (
    ("sklearn", "scikit-learn"),
    ("xgboost", "xgboost"),
    ("lightgbm", "lightgbm"),
    ("catboost", "catboost"),
    ("torch", "pytorch"),
    ("keras", "keras"),
    ("tensorflow", "tensorflow"),
    ("transformers", "transformers"),
    ("pandas", "pandas"),
    ("numpy", "numpy"),
)

_SEVENZ_MAGIC = b"7z\xbc\xaf\x27\x1c"
#: A legacy (non-zip) ``torch.save`` file opens with this magic number as a pickled LONG1.
_TORCH_LEGACY_MAGIC = b"\x8a\x0a" + (0x1950A86A20F9469CFC6C).to_bytes(10, "little")
ZFILE_HEADER = 2 + 19  # "ZF" + hex length padded to len(hex(2**64)), joblib < 0.10
STORAGE = re.compile(r"^(?:[^/]*/)?data/\d+$")

#: Bytes per element of each torch storage class a checkpoint's persistent ids name (the element
#: count is declared in the id; the archive's ``data/<key>`` member must hold that many bytes).
TORCH_STORAGE_BYTES: dict[str, int] = {
    "torch.storage.UntypedStorage": 1, "torch.UntypedStorage": 1, "torch.ByteStorage": 1,
    "torch.CharStorage": 1, "torch.BoolStorage": 1, "torch.QInt8Storage": 1, "torch.QUInt8Storage": 1,
    "torch.QUInt4x2Storage": 1, "torch.QUInt2x4Storage": 1, "torch.ShortStorage": 2,
    "torch.HalfStorage": 2, "torch.BFloat16Storage": 2, "torch.IntStorage": 4, "torch.FloatStorage": 4,
    "torch.QInt32Storage": 4, "torch.LongStorage": 8, "torch.DoubleStorage": 8,
    "torch.ComplexFloatStorage": 8, "torch.ComplexDoubleStorage": 16,
}  # fmt: skip
_PICKLE_NAME = re.compile(r"(?:\.pkl|\.pickle|\.debug_pkl)$")
TORCH_TAR_PICKLES = frozenset({"sys_info", "pickle", "storages", "tensors"})


def sniff_artifact(head: bytes) -> str | None:
    """What the first bytes of a file (at least 512 for tar) say it is, cheaply; None when nothing known.

    Routes: ``zip``, ``7z``, ``tar``, ``gzip``, ``bz2``, ``xz``, ``lzma``, ``zlib``, ``lz4``,
    ``joblib-zfile``, ``pickle``, ``numpy`` (``.npy``), ``safetensors``, ``gguf``, ``ggml``, ``hdf5``,
    ``onnx``, ``tensorflow-savedmodel``, ``tflite``. Git LFS pointers are not artifacts (None).
    """
    if is_zip_head(head):
        return "zip"
    if head.startswith(_SEVENZ_MAGIC):
        return "7z"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"BZh") and head[3:4].isdigit():
        return "bz2"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if head.startswith(b"\x04\x22\x4d\x18"):
        return "lz4"
    if head.startswith(b"\x5d\x00\x00"):
        return "lzma"  # lzma-alone, as joblib writes it (properties byte 0x5d, then the dictionary size)
    if head.startswith(b"ZF") and _is_zfile(head):
        return "joblib-zfile"
    if head[:1] == b"\x78" and len(head) >= 2 and (head[0] << 8 | head[1]) % 31 == 0:
        return "zlib"  # joblib's zlib wrapper; no pickle opens with 'x'
    fmt = sniff_header(head)
    if fmt == "npy":
        return "numpy"
    if fmt in ("gguf", "ggml", "hdf5", "safetensors", "tflite"):
        return fmt
    if fmt == "lfs-pointer":
        return None
    if _is_tar(head):
        return "tar"
    if fmt == "pickle" or pickle_vm.looks_like_pickle(head):
        return "pickle"
    if _is_onnx(head):
        return "onnx"
    if _is_saved_model(head):
        return "tensorflow-savedmodel"
    return None


def _is_zfile(head: bytes) -> bool:
    digits = head[2:ZFILE_HEADER].strip()
    return (
        len(head) > ZFILE_HEADER
        and digits.startswith(b"0x")
        and all(c in b"0123456789abcdefL" for c in digits[2:])
    )


def _is_tar(head: bytes) -> bool:
    """A valid tar header checksum, as ``tarfile`` checks it (signed or unsigned sums)."""
    if len(head) < 512:
        return False
    field = head[148:156].replace(b"\x00", b" ").strip()
    if not field or not all(48 <= c <= 55 for c in field):
        return False
    want = int(field, 8)
    block = head[:148] + b" " * 8 + head[156:512]
    unsigned = sum(block)
    signed = sum(b - 256 if b > 127 else b for b in block)
    return want in (unsigned, signed) and unsigned != 256


def _varint(data: bytes, i: int) -> tuple[int, int] | None:
    value = shift = 0
    while i < len(data) and shift < 64:
        b = data[i]
        value |= (b & 0x7F) << shift
        i += 1
        if not b & 0x80:
            return value, i
        shift += 7
    return None


def _is_onnx(head: bytes) -> bool:
    """An ONNX ModelProto: ``ir_version`` (field 1) first, then one of the fields exporters write next."""
    return (
        len(head) >= 4
        and head[0] == 0x08
        and 3 <= head[1] <= 15
        and head[2] in (0x12, 0x1A, 0x22, 0x28, 0x3A, 0x42)
    )


def _is_saved_model(head: bytes) -> bool:
    """A TensorFlow SavedModel proto: schema version 1, then a length-delimited MetaGraphDef."""
    if head[:3] != b"\x08\x01\x12":
        return False
    return _varint(head, 3) is not None


def strong_pickle(head: bytes) -> bool:
    """The head opens with a PROTO opcode: unambiguous, unlike the opening of protocol 0 and 1 pickles."""
    return len(head) >= 2 and head[0] == 0x80 and head[1] <= 5


def escapes(name: str) -> bool:
    """A member name that leaves the extraction directory (absolute, drive-qualified or ``..``)."""
    norm = name.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":" and norm[0].isascii() and norm[0].isalpha()):
        return True
    return ".." in norm and ".." in norm.split("/")


def link_escapes(info: tarfile.TarInfo) -> bool:
    """A tar link whose target leaves the extraction directory."""
    target = info.linkname.replace("\\", "/")
    if target.startswith("/"):
        return True
    base = PurePosixPath(info.name).parent if info.issym() else PurePosixPath(".")
    depth = 0
    for part in (base / target).parts:
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in (".", ""):
            depth += 1
    return False


#: Element sizes of the legacy ``torch.<Name>Storage`` types.
_STORAGE_SIZES = {"Double": 8, "Float": 4, "Half": 2, "BFloat16": 2, "Long": 8, "Int": 4, "Short": 2,
                  "Char": 1, "Byte": 1, "Bool": 1, "ComplexFloat": 8, "ComplexDouble": 16, "QInt8": 1,
                  "QUInt8": 1, "QInt32": 4, "QUInt4x2": 1, "QUInt2x4": 1}  # fmt: skip


def next_torch_record(src: Source, pos: int, name: str, globals_: Iterable[str]) -> int | None:
    """Where the next pickle of a legacy torch ``storages``/``tensors`` member starts, after the raw
    part at ``pos``; None when no reading of the raw part lands on a pickle (or the member's end)."""
    if name == "tensors":
        raw = src.read_exact(pos, 4)
        if raw is None:
            return None
        ndim = int.from_bytes(raw, "little", signed=True)
        return pos + 8 + 16 * ndim + 8 if 0 <= ndim <= 64 else None
    raw = src.read_exact(pos, 8)
    if raw is None:
        return None
    numel = int.from_bytes(raw, "little")
    sizes = [
        _STORAGE_SIZES[g[6:-7]]
        for g in globals_
        if g.startswith("torch.") and g.endswith("Storage") and g[6:-7] in _STORAGE_SIZES
    ]
    for size in sizes or [4, 2, 8, 1, 16]:
        nxt = pos + 8 + numel * size
        if nxt == src.size or strong_pickle(src.pread(nxt, 2)):
            return nxt
    return None


def zip_kind(names: list[str]) -> str:
    """What the member names of a zip say it is (PyTorch, TorchScript, npz, Keras...)."""
    inner = {n.split("/", 1)[1] if "/" in n else n for n in names}
    if "data.pkl" in inner or "constants.pkl" in inner:
        if "constants.pkl" in inner or any(n.startswith("code/") for n in inner):
            return "torchscript"
        return "pytorch-zip"
    if any(n.startswith(".data/") for n in names) and ".data/version" in names:
        return "pytorch-package"
    if names and all(n.endswith(".npy") for n in names):
        return "numpy-npz"
    if "config.json" in names and ("metadata.json" in names or "model.weights.h5" in names):
        return "keras"
    if any(n == "saved_model.pb" or n.endswith("/saved_model.pb") for n in names):
        return "tensorflow-savedmodel"
    return "zip"


def zip_role(name: str, kind: str) -> str | None:
    """How the loader of a ``kind`` zip treats a member: ``pickle``, ``storage``, ``weights`` or None."""
    if _PICKLE_NAME.search(name):
        return "pickle"
    if kind in ("pytorch-zip", "torchscript") and STORAGE.match(name):
        return "storage"
    if kind == "keras" and name.endswith(".h5"):
        return "weights"
    return None


def pickle_format(head: bytes, globals_: Iterable[str]) -> str:
    """``pytorch-legacy``, ``joblib`` or ``pickle``, from the opening bytes and the globals."""
    if _TORCH_LEGACY_MAGIC in head[:32]:
        return "pytorch-legacy"
    if any(g.startswith("joblib.") for g in globals_):
        return "joblib"
    return "pickle"


def framework_of(fmt: str, globals_: Iterable[str]) -> str | None:
    """The framework the pickle globals point to, else the one the format implies (a format that
    belongs to one framework, a NeMo archive, wins over the torch globals of its weights)."""
    if fmt == "nemo":
        return "nemo"
    tops = {g.split(".", 1)[0] for g in globals_}
    for module, framework in _GLOBAL_FRAMEWORKS:
        if module in tops:
            return framework
    return FORMAT_FRAMEWORK.get(fmt)
