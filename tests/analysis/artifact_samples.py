"""Builders of malicious model files whose attack is in the container, not in a pickle's opcodes.

The companions of ``pickle_samples.py`` for the benchmark corpus and the tests: ``MALICIOUS[name]
(canary) -> bytes`` builds a whole file that, if it were ever loaded by its framework, would reach
the attack (a NeMo archive whose Hydra target runs a command creating ``canary``; a PyTorch zip
whose storage is shorter than its pickle declares). ``EXPECT[name]`` is a rule the scanner must
report. ``BENIGN[name]() -> bytes`` builds the benign twin. :func:`tar_of` is the tar builder the
other fixtures share. Nothing here loads what it builds, and only the standard library is used.
"""

from __future__ import annotations

import io
import struct
import tarfile
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

_ZIP_TIME = (2026, 1, 1, 0, 0, 0)


def _binunicode(s: str) -> bytes:
    raw = s.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def _state_dict_pickle(numel: int) -> bytes:
    """``data.pkl`` of ``{"w": <float tensor over storage "0" of numel elements>}``, protocol 2."""
    out = io.BytesIO()
    w = out.write
    w(b"\x80\x02ccollections\nOrderedDict\n)R" + _binunicode("w"))
    w(b"ctorch._utils\n_rebuild_tensor_v2\n(")
    w(b"(" + _binunicode("storage") + b"ctorch\nFloatStorage\n" + _binunicode("0") + _binunicode("cpu"))
    w(b"J" + struct.pack("<i", numel) + b"tQK\x00J" + struct.pack("<i", numel) + b"\x85K\x01\x85")
    w(b"\x89ccollections\nOrderedDict\n)RtRs.")
    return out.getvalue()


def _torch_zip(numel: int, stored_floats: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in (
            ("archive/data.pkl", _state_dict_pickle(numel)),
            ("archive/byteorder", b"little"),
            ("archive/data/0", struct.pack(f"<{stored_floats}f", *([0.5] * stored_floats))),
            ("archive/version", b"3\n"),
        ):
            zf.writestr(zipfile.ZipInfo(name, date_time=_ZIP_TIME), data)
    return out.getvalue()


def tar_of(members: Mapping[str, bytes], *, mode: str = "w", mtime: int = 0) -> bytes:
    """A tar of ``members`` (name -> bytes), as the tests, the benchmark corpus and the fuzz seeds
    build them: plain files with a fixed time, so the bytes depend on the members only."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=mode) as tar:  # type: ignore[call-overload]
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), mtime
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _nemo(config: str) -> bytes:
    members = {"./model_config.yaml": config.encode(), "./model_weights.ckpt": _torch_zip(4, 4)}
    return tar_of(members, mtime=1_767_225_600)


_NEMO_MODEL = """\
target: nemo.collections.asr.models.ctc_bpe_models.EncDecCTCModelBPE
preprocessor:
  _target_: nemo.collections.asr.modules.AudioToMelSpectrogramPreprocessor
encoder:
  _target_: nemo.collections.asr.modules.ConformerEncoder
  feat_in: 80
"""


def nemo_hydra_target_os_system(canary: Path) -> bytes:
    # CVE-2025-23304: restoring the archive instantiates every Hydra _target_ in its config.
    return _nemo(_NEMO_MODEL + f"callback:\n  _target_: os.system\n  _args_: ['touch {canary}']\n")


def nemo_hydra_target_interpolated(canary: Path) -> bytes:
    # The module comes from elsewhere in the document, as OmegaConf resolves it on access.
    return _nemo(
        _NEMO_MODEL
        + f"mod: subprocess\ncallback:\n  _target_: ${{mod}}.run\n  _args_: [[touch, '{canary}']]\n"
    )


def torch_storage_shorter_than_declared(canary: Path) -> bytes:
    # GHSA-63cw-57p8-fm3p: data.pkl declares 1,024 floats, the archive holds 2 (torch <= 2.9.1
    # read past them, even with weights_only=True). There is no payload to create the canary.
    del canary
    return _torch_zip(1024, 2)


MALICIOUS: dict[str, Callable[[Path], bytes]] = {
    "nemo_hydra_target_os_system": nemo_hydra_target_os_system,
    "nemo_hydra_target_interpolated": nemo_hydra_target_interpolated,
    "torch_storage_shorter_than_declared": torch_storage_shorter_than_declared,
}

EXPECT: dict[str, str] = {
    "nemo_hydra_target_os_system": "nemo.hydra-target",
    "nemo_hydra_target_interpolated": "nemo.hydra-target",
    "torch_storage_shorter_than_declared": "torch.storage-size-mismatch",
}

BENIGN: dict[str, Callable[[], bytes]] = {
    "nemo_archive": lambda: _nemo(_NEMO_MODEL + "optim: {name: adamw, lr: 0.001}\n"),
    "torch_storage_exact": lambda: _torch_zip(16, 16),
}
