"""h5py in a child process: the fallback for HDF5 files the static reader is unsure of.

The HDF5 C library can loop forever or crash on a hostile file (a single changed byte was enough
with h5py 3.16), so it never runs inside the scanning process. When :mod:`hdf5_header` cannot read
a file's root attributes with certainty, a child Python reads them with h5py, under a wall-clock
limit, a CPU limit and an address-space limit, with HDF5's dynamic filter plugins disabled. The
child reopens the scanned file through a descriptor it inherits; a member of a container, which
has no file of its own, is first copied to a private temporary file. A child that crashes, hangs
or fails makes the file unscannable with the reason; the scan goes on.

The child runs in isolated mode (``-I``: neither the working directory nor ``PYTHON*`` variables
can put a module of the scanned tree before h5py) with this aispm's own source folder on its
path. It reads the wanted names and bounds as JSON on standard input and prints one JSON object.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from typing import Any, BinaryIO

from aispm.analysis.artifact_io import FileSource, SourceFile
from aispm.analysis.hdf5_header import Oversized, RootAttributes

#: Files larger than this are not copied for the child; they stay unscannable.
MAX_ISOLATED_BYTES = 4 << 30
TIME_LIMIT_S = 30.0
MEMORY_LIMIT_BYTES = 4 << 30
#: One BLAS thread (its buffers count against the address-space limit), and no HDF5 filter
#: plugins: ``::`` tells the library to load none, whatever a dataset asks for.
_CHILD_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "HDF5_PLUGIN_PRELOAD": "::"}


class IsolatedReadError(Exception):
    """The child could not read the file: the reason is the message."""


def read_root_attributes(
    fh: BinaryIO, size: int, wanted: Mapping[str, int], *, time_limit: float | None = None
) -> RootAttributes:
    """The root attributes of the HDF5 file in ``fh``, read by h5py in a child process.

    Raises :class:`IsolatedReadError` with a reason when h5py is missing, the file is too large to
    copy, or the child fails, crashes or runs past ``time_limit`` seconds.
    """
    time_limit = TIME_LIMIT_S if time_limit is None else time_limit
    fd = _whole_file_descriptor(fh)
    if fd is not None:
        # The scanned file itself: the child reopens it through the inherited descriptor.
        return _run_child(f"/proc/self/fd/{fd}", wanted, time_limit, (fd,))
    if size > MAX_ISOLATED_BYTES:
        raise IsolatedReadError(f"the file is over {MAX_ISOLATED_BYTES >> 30} GiB")
    with tempfile.TemporaryDirectory(prefix="aispm-h5-") as folder:
        path = os.path.join(folder, "file.h5")
        fh.seek(0)
        with open(path, "wb") as out:
            shutil.copyfileobj(fh, out, 1 << 20)
        return _run_child(path, wanted, time_limit, ())


def _whole_file_descriptor(fh: BinaryIO) -> int | None:
    """The OS descriptor of the scanned file when ``fh`` reads all of it (Linux only)."""
    raw = getattr(fh, "raw", None)
    src = getattr(raw, "src", None)
    if isinstance(raw, SourceFile) and isinstance(src, FileSource) and os.path.isdir("/proc/self/fd"):
        return src.fd
    return None


def _limit_self() -> None:  # pragma: no cover - runs in the child, before h5py is imported
    try:
        import resource
    except ImportError:  # not a POSIX system: the wall-clock limit still holds
        return

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
    cpu = int(TIME_LIMIT_S) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _run_child(
    path: str, wanted: Mapping[str, int], time_limit: float, fds: tuple[int, ...]
) -> RootAttributes:
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    code = f"import sys; sys.path.insert(0, {here!r}); from aispm.analysis.hdf5_isolated import main; main()"
    command = [sys.executable, "-I", "-c", code, path]
    try:
        done = subprocess.run(
            command,
            input=json.dumps(dict(wanted)).encode(),
            capture_output=True,
            timeout=time_limit,
            check=False,
            pass_fds=fds,
            env={
                **os.environ,
                "OPENBLAS_NUM_THREADS": "1",
                "OMP_NUM_THREADS": "1",
                "HDF5_PLUGIN_PRELOAD": "::",
            },
        )
    except subprocess.TimeoutExpired as exc:
        raise IsolatedReadError(f"the HDF5 library ran past {time_limit:g} s on this file") from exc
    if done.returncode < 0:
        try:
            name = signal.Signals(-done.returncode).name
        except ValueError:
            name = f"signal {-done.returncode}"
        raise IsolatedReadError(f"the HDF5 library crashed on this file ({name})")
    try:
        answer = json.loads(done.stdout)
        if "error" in answer:
            raise IsolatedReadError(str(answer["error"])[:200])
        values: dict[str, str | Oversized | None] = {}
        for name, value in answer["values"].items():
            if isinstance(value, dict):
                values[name] = Oversized(int(value["over"]))
            else:
                values[name] = value if isinstance(value, str) else None
        return RootAttributes(frozenset(str(n) for n in answer["names"]), values)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise IsolatedReadError(f"the HDF5 reader failed: {tail[0][:160]}") from exc


def _read_with_h5py(path: str, wanted: Mapping[str, int]) -> dict[str, Any]:
    try:
        h5py = importlib.import_module("h5py")
    except ImportError:
        return {"error": "h5py not installed: the HDF5 file cannot be read"}
    try:
        with h5py.File(path, "r") as f:
            names = [str(n) for n in f.attrs]
            values: dict[str, Any] = {}
            for name in wanted:
                if name in f.attrs:
                    values[name] = _attribute(h5py, f, name, int(wanted[name]))
    except Exception as exc:  # h5py raises OSError, KeyError, OverflowError... on hostile files
        return {"error": f"not a readable HDF5 file ({type(exc).__name__}: {str(exc)[:120]})"}
    return {"names": names, "values": values}


def _attribute(h5py: Any, f: Any, name: str, limit: int) -> Any:
    aid = h5py.h5a.open(f.id, name.encode())
    try:
        stored = int(aid.get_storage_size())
    finally:
        aid.close()
    if stored > limit:
        return {"over": stored}
    value = f.attrs[name]
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    if len(value) > limit:
        return {"over": len(value)}
    return value


def main() -> None:  # pragma: no cover - runs in the child
    _limit_self()
    wanted = json.loads(sys.stdin.buffer.read() or b"{}")
    sys.stdout.write(json.dumps(_read_with_h5py(sys.argv[1], wanted)))


if __name__ == "__main__":  # pragma: no cover
    main()
