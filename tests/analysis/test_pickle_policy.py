"""The pickle allowlist and denylist: names judged by role, aliases and dunders caught, real files allowed."""

from __future__ import annotations

import pytest

from aispm.analysis import pickle_policy as policy
from aispm.analysis.artifact_report import Verdict
from aispm.analysis.pickle_policy import Role, classify, judge
from aispm.model import Severity

MALICIOUS_RULES = {r for r, (v, _s, _d) in policy.RULES.items() if v is Verdict.MALICIOUS}


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("os.system", "pickle.exec"),
        ("posix.system", "pickle.exec"),
        ("nt.system", "pickle.exec"),
        ("subprocess.Popen", "pickle.exec"),
        ("subprocess.check_output", "pickle.exec"),
        ("pty.spawn", "pickle.exec"),
        ("sys.modules", "pickle.exec"),
        ("builtins.eval", "pickle.exec"),
        ("builtins.exec", "pickle.exec"),
        ("builtins.compile", "pickle.exec"),
        ("builtins.__import__", "pickle.import-indirection"),
        ("builtins.getattr", "pickle.import-indirection"),
        ("builtins.setattr", "pickle.import-indirection"),
        ("builtins.globals", "pickle.import-indirection"),
        ("builtins.vars", "pickle.import-indirection"),
        ("builtins.open", "pickle.file-access"),
        ("importlib.import_module", "pickle.import-indirection"),
        ("pydoc.locate", "pickle.import-indirection"),
        ("pydoc.pipepager", "pickle.exec"),
        ("pkgutil.resolve_name", "pickle.import-indirection"),
        ("pip.main", "pickle.exec"),
        ("pip._internal.cli.main.main", "pickle.exec"),
        ("runpy.run_path", "pickle.exec"),
        ("webbrowser.open", "pickle.network"),
        ("ctypes.CDLL", "pickle.exec"),
        ("socket.socket", "pickle.network"),
        ("urllib.request.urlopen", "pickle.network"),
        ("http.client.HTTPConnection", "pickle.network"),
        ("requests.get", "pickle.network"),
        ("shutil.rmtree", "pickle.file-access"),
        ("tempfile.mkstemp", "pickle.file-access"),
        ("pathlib.Path.write_text", "pickle.file-access"),
        ("pathlib.PosixPath.unlink", "pickle.file-access"),
        ("code.InteractiveInterpreter", "pickle.exec"),
        ("codeop.compile_command", "pickle.exec"),
        ("timeit.timeit", "pickle.exec"),
        ("cProfile.run", "pickle.exec"),
        ("profile.run", "pickle.exec"),
        ("pdb.run", "pickle.exec"),
        ("bdb.Bdb.run", "pickle.exec"),
        ("operator.attrgetter", "pickle.import-indirection"),
        ("operator.methodcaller", "pickle.call-gadget"),
        ("operator.call", "pickle.call-gadget"),
        ("functools.partial", "pickle.call-gadget"),
        ("functools.reduce", "pickle.call-gadget"),
        ("marshal.loads", "pickle.reloader"),
        ("types.CodeType", "pickle.embedded-code"),
        ("types.FunctionType", "pickle.embedded-code"),
        ("dill._dill._create_code", "pickle.embedded-code"),
        ("cloudpickle.cloudpickle._make_function", "pickle.embedded-code"),
        ("typing._eval_type", "pickle.exec"),
        ("dataclasses._create_fn", "pickle.exec"),
        ("mailcap.findmatch", "pickle.exec"),
        ("setuptools._distutils.spawn.spawn", "pickle.exec"),
        ("distutils.spawn.spawn", "pickle.exec"),
        ("multiprocessing.util.spawnv_passfds", "pickle.exec"),
        ("logging.FileHandler", "pickle.file-access"),
        ("logging.config.dictConfig", "pickle.exec"),
        ("torch.load", "pickle.reloader"),
        ("torch.jit.load", "pickle.exec"),
        ("torch.hub.load", "pickle.reloader"),
        ("torch.utils.cpp_extension.load_inline", "pickle.exec"),
        ("torch._dynamo.eval_frame.something", "pickle.exec"),
        ("torch.serialization.load", "pickle.reloader"),
        ("numpy.load", "pickle.reloader"),
        ("numpy.lib.npyio.load", "pickle.reloader"),
        ("numpy.testing.runstring", "pickle.exec"),
        ("pickle.loads", "pickle.reloader"),
        ("_pickle.loads", "pickle.reloader"),
        ("joblib.load", "pickle.reloader"),
        ("dill.loads", "pickle.reloader"),
        ("pandas.read_pickle", "pickle.reloader"),
        ("copyreg.add_extension", "pickle.import-indirection"),
        ("inspect.getattr_static", "pickle.import-indirection"),
        ("asyncio.create_subprocess_shell", "pickle.exec"),
        ("antigravity.geohash", "pickle.exec"),
    ],
)
def test_denylist_is_malicious_in_every_role(name: str, rule: str) -> None:
    for role in Role:
        r = judge(name, role)
        assert r is not None and r.rule == rule, (name, role, r)
        assert r.verdict is Verdict.MALICIOUS
        assert r.severity in (Severity.HIGH, Severity.CRITICAL)
        assert name in r.reason


@pytest.mark.parametrize(
    ("module", "name", "lands_on"),
    [
        ("random", "_os.system", "os.system"),
        ("tempfile", "_os.system", "os.system"),
        ("pathlib", "os.system", "os.system"),
        ("shutil", "os.system", "os.system"),
        ("logging", "sys.modules", "sys.modules"),
        ("collections", "sys.modules", "sys.modules"),
        ("torch", "serialization.pickle.loads", "pickle.loads"),
        ("numpy", "os.system", "os.system"),
        ("sklearn.base", "__builtins__.eval", "builtins.eval"),
    ],
)
def test_module_aliases_land_on_what_they_reach(module: str, name: str, lands_on: str) -> None:
    full, r = classify(module, name, Role.REF)
    assert full == f"{module}.{name}"
    assert r is not None and r.verdict is Verdict.MALICIOUS
    assert lands_on in r.reason


@pytest.mark.parametrize(
    "full",
    [
        "builtins.__dict__",
        "builtins.object.__subclasses__",
        "torch.nn.Module.__init__.__globals__",
        "x.__class__",
    ],
)
def test_dunder_attribute_walks_are_import_indirection(full: str) -> None:
    r = judge(full, Role.REF)
    assert r is not None and r.rule == "pickle.import-indirection"


def test_unknown_alias_without_a_denied_target_is_still_indirection() -> None:
    r = judge("random._os.getpid_xyz", Role.REF)
    assert r is not None and r.verdict is Verdict.MALICIOUS


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("torch._utils._rebuild_tensor_v2", Role.CALL),
        ("torch._utils._rebuild_parameter", Role.CALL),
        ("torch.FloatStorage", Role.REF),
        ("torch.BFloat16Storage", Role.REF),
        ("torch.float16", Role.REF),
        ("torch.device", Role.CALL),
        ("torch.Size", Role.CALL),
        ("torch.nn.modules.linear.Linear", Role.NEW),
        ("torch.jit._pickle.build_intlist", Role.CALL),
        ("collections.OrderedDict", Role.CALL),
        ("builtins.set", Role.CALL),
        ("builtins.frozenset", Role.CALL),
        ("builtins.slice", Role.CALL),
        ("builtins.complex", Role.CALL),
        ("builtins.bytearray", Role.CALL),
        ("builtins.range", Role.CALL),
        ("builtins.object", Role.NEW),
        ("_codecs.encode", Role.CALL),
        ("copyreg._reconstructor", Role.CALL),
        ("copyreg.__newobj__", Role.CALL),
        ("numpy.core.multiarray._reconstruct", Role.CALL),
        ("numpy._core.multiarray._reconstruct", Role.CALL),
        ("numpy.core.multiarray.scalar", Role.CALL),
        ("numpy._core.multiarray.scalar", Role.CALL),
        ("numpy.dtype", Role.CALL),
        ("numpy.ndarray", Role.NEW),
        ("numpy.float64", Role.REF),
        ("sklearn.linear_model._logistic.LogisticRegression", Role.NEW),
        ("sklearn.linear_model._logistic.LogisticRegression", Role.CALL),
        ("sklearn.tree._tree.Tree", Role.CALL),
        ("sklearn.ensemble._hist_gradient_boosting.binning._BinMapper", Role.NEW),
        ("sklearn.feature_selection._univariate_selection.f_classif", Role.REF),
        ("xgboost.sklearn.XGBClassifier", Role.NEW),
        ("xgboost.core.Booster", Role.NEW),
        ("lightgbm.basic.Booster", Role.NEW),
        ("scipy.sparse._csr.csr_matrix", Role.NEW),
        ("pandas.core.frame.DataFrame", Role.NEW),
        ("pandas._libs.tslibs.timestamps._unpickle_timestamp", Role.CALL),
        ("pandas.core.indexes.datetimes._new_DatetimeIndex", Role.CALL),
        ("joblib.numpy_pickle.NumpyArrayWrapper", Role.NEW),
        ("__torch__.torch.nn.modules.linear.Linear", Role.NEW),
        ("pathlib.PosixPath", Role.CALL),
        ("datetime.datetime", Role.CALL),
        ("argparse.Namespace", Role.NEW),
    ],
)
def test_allowlist_covers_what_real_files_use(name: str, role: Role) -> None:
    assert judge(name, role) is None


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("sklearn.utils._testing.TempMemmap", Role.CALL),  # creates files
        ("sklearn.feature_selection._univariate_selection.f_classif", Role.CALL),  # a function, not a class
        ("xgboost.core.Booster", Role.CALL),  # Booster(model_file=...) reads a file
        ("lightgbm.basic.Booster", Role.CALL),
        ("scipy.io.FortranFile", Role.CALL),
        ("pandas.io.pytables.HDFStore", Role.NEW),
        ("torch.utils.data.DataLoader", Role.CALL),
        ("__main__.MyModel", Role.NEW),
        ("mymodule.helpers.build", Role.CALL),
        ("builtins.print", Role.CALL),
        ("numpy.memmap", Role.CALL),
        ("collections.namedtuple", Role.CALL),
    ],
)
def test_outside_the_allowlist_is_not_safe(name: str, role: Role) -> None:
    r = judge(name, role)
    assert r is not None and r.verdict in (Verdict.SUSPICIOUS, Verdict.MALICIOUS)


def test_non_allowlisted_is_suspicious_medium_and_named() -> None:
    r = judge("__main__.MyModel", Role.NEW)
    assert r is not None and r.rule == "pickle.non-allowlisted"
    assert r.verdict is Verdict.SUSPICIOUS and r.severity is Severity.MEDIUM
    assert "__main__.MyModel" in r.reason


def test_pathlib_classes_are_allowed_but_their_methods_are_not() -> None:
    assert judge("pathlib.Path", Role.CALL) is None
    assert judge("pathlib.PosixPath", Role.NEW) is None
    r = judge("pathlib.Path.touch", Role.REF)
    assert r is not None and r.rule == "pickle.file-access"


def test_memmap_is_fine_as_a_subclass_reference_but_not_as_a_call() -> None:
    assert judge("numpy.memmap", Role.REF) is None
    r = judge("numpy.memmap", Role.CALL)
    assert r is not None and r.rule == "pickle.file-access"
    assert policy.call_denied("numpy.memmap")


def test_recursive_loader_is_deferred_only_as_a_reference() -> None:
    assert judge("torch.storage._load_from_bytes", Role.REF) is None
    r = judge("torch.storage._load_from_bytes", Role.CALL)
    assert r is not None and r.rule == "pickle.reloader"


def test_trusted_package_module_named_like_stdlib_is_not_an_alias() -> None:
    assert classify("numpy.random._pickle", "__randomstate_ctor", Role.CALL)[1] is None
    # ... but the same segment as an attribute is
    assert classify("numpy.random", "_pickle.loads", Role.REF)[1] is not None


def test_py2_names_map_before_judging() -> None:
    assert classify("__builtin__", "set", Role.CALL) == ("builtins.set", None)
    assert classify("copy_reg", "_reconstructor", Role.CALL) == ("copyreg._reconstructor", None)
    full, r = classify("__builtin__", "eval", Role.CALL)
    assert full == "builtins.eval" and r is not None and r.rule == "pickle.exec"
    full, r = classify("commands", "getoutput", Role.CALL)
    assert r is not None and r.verdict is Verdict.MALICIOUS


def test_rule_table_is_consistent() -> None:
    for rule, (verdict, severity, _desc) in policy.RULES.items():
        assert rule.startswith("pickle.")
        if verdict is Verdict.MALICIOUS:
            assert severity in (Severity.HIGH, Severity.CRITICAL)
        else:
            assert severity is Severity.MEDIUM
    assert {
        "pickle.exec",
        "pickle.file-access",
        "pickle.network",
        "pickle.import-indirection",
    } <= MALICIOUS_RULES
    assert {
        "pickle.reloader",
        "pickle.embedded-code",
        "pickle.dunder-build",
        "pickle.ext-opcode",
    } <= MALICIOUS_RULES
    assert policy.RULES["pickle.non-allowlisted"][0] is Verdict.SUSPICIOUS
    assert policy.RULES["pickle.malformed"][0] is Verdict.UNSCANNABLE
    assert policy.RULES["pickle.limit"][0] is Verdict.UNSCANNABLE


def test_nothing_allowlisted_is_also_denied() -> None:
    for name in sorted(policy.CALL_ALLOW | policy.NEW_ALLOW | policy.REF_ALLOW):
        assert policy.denied(name, name.count(".")) is None, name


def test_every_deny_entry_is_malicious() -> None:
    for rule, prefixes in policy._DENY_GROUPS.items():
        assert rule in MALICIOUS_RULES
        for p in prefixes:
            name = p.rstrip(".") + (".touch" if p.endswith(".") else "")
            if p.rstrip(".") in policy._DENY_EXCEPTIONS and not p.endswith("."):
                continue
            r = judge(name, Role.CALL)
            assert r is not None and r.verdict is Verdict.MALICIOUS, name


def test_extension_registry_is_empty_by_default() -> None:
    assert policy.EXTENSION_REGISTRY == {}
