"""Which pickle globals and calls are safe: an allowlist of what real model files use, and a denylist.

The pickle walker (:mod:`aispm.analysis.pickle_vm`) resolves every import a pickle makes
(``module.name``, after Python 2 name mapping) and asks this module about it in one of three
*roles*:

- ``Role.REF``: the object is only referenced (a dtype class stored as a parameter, a function an
  estimator keeps). Nothing runs at load time, but the model's code may call it later.
- ``Role.NEW``: a class instantiated without ``__init__`` (``NEWOBJ``, ``copyreg._reconstructor``,
  ``INST``/``OBJ`` without arguments, Cython's ``__pyx_unpickle_*``): how estimators and modules are
  rebuilt. Only ``__new__`` and later ``__setstate__`` run.
- ``Role.CALL``: called with arguments (``REDUCE``, ``INST``/``OBJ`` with arguments, and the
  arguments an allowlisted rebuild function calls in turn).

A name is judged on its own (never by importing it or reading its source: the verdict depends on
the file only): the denylist first (``MALICIOUS``, with a stable rule id), then dotted paths that walk
through module aliases (``random._os.system``) or dunder attributes (``builtins.__dict__``), then the
allowlist for the role. Anything else is ``SUSPICIOUS`` (``pickle.non-allowlisted``).

Rule ids: ``pickle.exec``, ``pickle.file-access``, ``pickle.network``, ``pickle.import-indirection``,
``pickle.call-gadget``, ``pickle.reloader``, ``pickle.embedded-code``, ``pickle.indirect-call``,
``pickle.dunder-build``, ``pickle.global-mutation``, ``pickle.ext-opcode`` (malicious);
``pickle.non-allowlisted``, ``pickle.ext-unknown`` (suspicious); ``pickle.malformed``,
``pickle.limit`` (unscannable).
"""

from __future__ import annotations

import _compat_pickle
import re
from dataclasses import dataclass
from enum import IntEnum
from typing import Final

from aispm.analysis.artifact_report import Verdict
from aispm.model import Severity

# --- rule ids -------------------------------------------------------------------------------------

EXEC: Final = "pickle.exec"
FILE_ACCESS: Final = "pickle.file-access"
NETWORK: Final = "pickle.network"
IMPORT_INDIRECTION: Final = "pickle.import-indirection"
CALL_GADGET: Final = "pickle.call-gadget"
RELOADER: Final = "pickle.reloader"
EMBEDDED_CODE: Final = "pickle.embedded-code"
INDIRECT_CALL: Final = "pickle.indirect-call"
DUNDER_BUILD: Final = "pickle.dunder-build"
GLOBAL_MUTATION: Final = "pickle.global-mutation"
EXT_OPCODE: Final = "pickle.ext-opcode"
EXT_UNKNOWN: Final = "pickle.ext-unknown"
SETITEM_NON_MAPPING: Final = "pickle.setitem-non-mapping"
NON_ALLOWLISTED: Final = "pickle.non-allowlisted"
MALFORMED: Final = "pickle.malformed"
LIMIT: Final = "pickle.limit"

#: What each malicious rule means, and how bad it is.
RULES: Final[dict[str, tuple[Verdict, Severity, str]]] = {
    EXEC: (Verdict.MALICIOUS, Severity.CRITICAL, "runs commands or evaluates code"),
    FILE_ACCESS: (Verdict.MALICIOUS, Severity.HIGH, "reads, writes or deletes files"),
    NETWORK: (Verdict.MALICIOUS, Severity.HIGH, "opens network connections"),
    IMPORT_INDIRECTION: (Verdict.MALICIOUS, Severity.CRITICAL, "reaches arbitrary objects by name"),
    CALL_GADGET: (Verdict.MALICIOUS, Severity.CRITICAL, "calls another callable with chosen arguments"),
    RELOADER: (Verdict.MALICIOUS, Severity.CRITICAL, "deserializes another payload"),
    EMBEDDED_CODE: (Verdict.MALICIOUS, Severity.HIGH, "builds functions from embedded bytecode"),
    INDIRECT_CALL: (Verdict.MALICIOUS, Severity.CRITICAL, "calls an object computed at load time"),
    DUNDER_BUILD: (Verdict.MALICIOUS, Severity.CRITICAL, "sets special attributes while rebuilding"),
    GLOBAL_MUTATION: (Verdict.MALICIOUS, Severity.CRITICAL, "modifies an imported module or class"),
    EXT_OPCODE: (Verdict.MALICIOUS, Severity.HIGH, "calls an object from the extension registry"),
    EXT_UNKNOWN: (Verdict.SUSPICIOUS, Severity.MEDIUM, "uses an unregistered extension code"),
    SETITEM_NON_MAPPING: (
        Verdict.MALICIOUS,
        Severity.HIGH,
        "stores items into a value that is not a mapping, which no pickler writes",
    ),
    NON_ALLOWLISTED: (Verdict.SUSPICIOUS, Severity.MEDIUM, "imports something real model files do not"),
    MALFORMED: (Verdict.UNSCANNABLE, Severity.MEDIUM, "is not a well-formed pickle"),
    LIMIT: (Verdict.UNSCANNABLE, Severity.MEDIUM, "exceeds a scanning bound"),
}


class Role(IntEnum):
    """How a pickle uses an imported object (higher asks more of it)."""

    REF = 0
    NEW = 1
    CALL = 2


@dataclass(frozen=True, slots=True)
class Ruling:
    """Why a global is not safe: the rule, its verdict and severity, and a one-line reason."""

    rule: str
    verdict: Verdict
    severity: Severity
    reason: str


def _ruling(rule: str, reason: str) -> Ruling:
    verdict, severity, _ = RULES[rule]
    return Ruling(rule, verdict, severity, reason)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# --- denylist ---------------------------------------------------------------------------------------
# Keys are dotted prefixes at segment boundaries: "os" covers os.system and os.path.join; "builtins.eval"
# covers builtins.eval and builtins.eval.__call__. The longest matching prefix wins, so an allowlisted
# exception can sit under a denied module.

_DENY_GROUPS: Final[dict[str, tuple[str, ...]]] = {
    EXEC: _words(
        """
        os posix nt subprocess _posixsubprocess _winapi pty commands popen2 sys builtins.eval
        builtins.exec builtins.compile builtins.execfile builtins.breakpoint builtins.input
        builtins.help builtins.exit builtins.quit builtins.apply builtins.reload builtins.copyright
        builtins.credits builtins.license runpy code.interact code.InteractiveInterpreter
        code.InteractiveConsole code.compile_command codeop timeit cProfile profile pstats pdb bdb trace.Trace
        doctest idlelib lib2to3 rlcompleter pydoc.pipepager pydoc.pager pydoc.tempfilepager
        pydoc.getpager pydoc.plainpager pydoc.ttypager pydoc.cli pydoc.browse typing._eval_type
        typing.get_type_hints typing.ForwardRef._evaluate typing._type_check dataclasses._create_fn
        dataclasses.make_dataclass dataclasses._exec mailcap sympy.parsing sympy.utilities.lambdify
        sympy.core.sympify sympy.sympify pandas.eval pandas.core.computation pandas.DataFrame.eval
        pandas.DataFrame.query pandas.core.frame.DataFrame.eval pandas.core.frame.DataFrame.query
        numexpr jinja2 mako IPython ipykernel jupyter_client nbconvert xonsh setuptools distutils
        _distutils_hack pkg_resources ensurepip venv site sitecustomize usercustomize pip _pip
        multiprocessing.util multiprocessing.popen_fork multiprocessing.popen_spawn_posix
        multiprocessing.popen_spawn_win32 multiprocessing.popen_forkserver multiprocessing.spawn
        multiprocessing.forkserver multiprocessing.Process multiprocessing.context
        multiprocessing.process multiprocessing.pool multiprocessing.Pool multiprocessing.managers
        multiprocessing.get_context concurrent.futures.process logging.config platform._syscmd_file
        platform._syscmd_ver platform.popen uuid._get_command_stdout uuid._popen ctypes _ctypes cffi
        _cffi_backend asyncio.subprocess asyncio.create_subprocess_exec asyncio.create_subprocess_shell
        antigravity turtle tkinter _tkinter Tkinter unittest test.support test.libregrtest fabric invoke
        pexpect sh plumbum
        numpy.f2py numpy.distutils numpy.testing numpy.ctypeslib numpy._pytesttester
        torch.utils.cpp_extension torch._dynamo torch._inductor torch.utils.collect_env torch.testing
        torch._export torch.export torch.compile torch.jit torch._C._jit torch.fx torch.multiprocessing
        torch.utils.bottleneck torch.library torch.ops torch.classes torch._ops torch._classes
        torch.utils._config_module torch.utils.benchmark torch._higher_order_ops sklearn.utils._testing
        tensorflow.py_function tensorflow.numpy_function tensorflow.python.ops.script_ops
        tensorflow.compat.v1.py_func
        """
    ),
    IMPORT_INDIRECTION: _words(
        """
        importlib imp _imp zipimport pkgutil pydoc modulefinder inspect gc builtins.__import__
        builtins.globals builtins.locals builtins.vars builtins.dir builtins.getattr builtins.setattr
        builtins.delattr builtins.hasattr builtins.super builtins.type builtins.object.__getattribute__
        operator.attrgetter operator.itemgetter operator.getitem operator.setitem operator.delitem
        _operator copyreg.add_extension copyreg.remove_extension copyreg.pickle
        copyreg._inverted_registry copyreg._extension_registry copyreg._extension_cache
        copyreg.dispatch_table numpy.core._ufunc_reconstruct numpy._core._ufunc_reconstruct
        dill._dill._import_module dill._dill._get_attr dill._dill._getattr dill._dill._locate_function
        dill._dill._load_type dill._dill._create_namedtuple dill._dill._eval_repr dill.source
        cloudpickle.cloudpickle._builtin_type cloudpickle.cloudpickle.subimport
        cloudpickle.cloudpickle.dynamic_subimport cloudpickle.cloudpickle._lookup_module_and_qualname
        torch.serialization._get_restore_location torch._utils._import_dotted_name
        torch.utils._import_utils torch._jit_internal types.ModuleType enum.EnumMeta enum.EnumType
        abc.ABCMeta sysconfig _frozen_importlib _frozen_importlib_external
        """
    ),
    CALL_GADGET: _words(
        """
        operator.methodcaller operator.call operator.__call__ functools.partial functools.partialmethod
        functools.reduce functools.update_wrapper functools.wraps functools.singledispatch
        functools.cached_property functools.lru_cache functools.cache _functools itertools.starmap
        itertools.accumulate itertools.filterfalse itertools.takewhile itertools.dropwhile
        itertools.groupby builtins.map builtins.filter builtins.iter contextlib concurrent.futures
        asyncio builtins.str.format builtins.str.format_map weakref.finalize types.new_class
        types.prepare_class sched atexit signal threading _thread thread copy.deepcopy copy.copy
        """
    ),
    RELOADER: _words(
        """
        pickle _pickle cPickle dill cloudpickle srsly.cloudpickle jsonpickle marshal joblib.load
        joblib.numpy_pickle.load joblib.numpy_pickle_compat joblib.Parallel joblib.Memory joblib.memory
        joblib._memmapping_reducer joblib.parallel joblib.externals torch.load torch.serialization
        torch.storage._load_from_bytes torch._weights_only_unpickler torch.hub torch.utils.model_zoo
        torch.package torch.utils.data.datapipes numpy.load numpy.lib.npyio numpy.lib._npyio_impl
        numpy.lib.format numpy.lib._format_impl numpy.loads numpy.core.multiarray.loads numpy.fromfile
        numpy.loadtxt numpy.genfromtxt numpy.fromregex numpy.DataSource numpy.lib._datasource
        numpy.lib.datasource numpy.lib.format.open_memmap pandas.read_pickle pandas.io.pickle
        pandas.read_csv pandas.read_json pandas.read_excel pandas.read_parquet pandas.read_feather
        pandas.read_hdf pandas.read_html pandas.read_sql pandas.read_table pandas.read_fwf
        pandas.read_orc pandas.read_sas pandas.read_spss pandas.read_stata pandas.read_xml
        pandas.read_clipboard pandas.read_sql_query pandas.read_sql_table pandas.io pandas.HDFStore
        pandas.ExcelWriter pandas.ExcelFile scipy.io sklearn.datasets sklearn.externals shelve yaml
        ruamel.yaml skops.io keras.models.load_model
        keras.saving keras.src.saving tensorflow.keras.models.load_model tensorflow.saved_model
        onnx.load safetensors.torch.load_file xgboost.Booster.load_model xgboost.core.Booster.load_model
        lightgbm.Booster.model_from_string transformers.AutoModel.from_pretrained
        transformers.PreTrainedModel.from_pretrained huggingface_hub
        """
    ),
    EMBEDDED_CODE: _words(
        """
        types.CodeType types.FunctionType types.LambdaType types.MethodType types.GeneratorType
        types.CoroutineType types.BuiltinFunctionType types.CellType dill._dill._create_code
        dill._dill._create_function dill._dill._create_cell dill._dill._create_type
        dill._dill._create_lock dill._dill._create_filehandle dill._dill._create_ftype
        dill._dill._unmarshal cloudpickle.cloudpickle._make_function cloudpickle.cloudpickle._make_cell
        cloudpickle.cloudpickle._make_empty_cell cloudpickle.cloudpickle._make_skeleton_class
        cloudpickle.cloudpickle._make_skeleton_enum cloudpickle.cloudpickle._function_setstate
        cloudpickle.cloudpickle._class_setstate cloudpickle.cloudpickle._make_code
        cloudpickle.cloudpickle_fast torch.fx.graph_module.reduce_graph_module
        torch.fx.graph_module._exec_with_source torch.fx.graph_module.reduce_package_graph_module
        torch.fx.graph_module.reduce_deploy_graph_module numba llvmlite cython Cython pyximport
        """
    ),
    FILE_ACCESS: _words(
        """
        builtins.open builtins.file io _io codecs.open codecs.EncodedFile codecs.StreamReaderWriter
        fileinput linecache tokenize.open shutil tempfile glob fnmatch.filter posixpath ntpath
        genericpath os.path pathlib.Path. pathlib.PosixPath. pathlib.WindowsPath. pathlib.PurePath.
        pathlib.PurePosixPath. pathlib.PureWindowsPath. pathlib._local.Path. pathlib._local.PosixPath.
        pathlib._local.WindowsPath. zipfile tarfile gzip.open gzip.GzipFile bz2.open bz2.BZ2File
        lzma.open lzma.LZMAFile filecmp logging.FileHandler logging.handlers logging.StreamHandler
        logging.basicConfig wave aifc sunau netrc mimetypes py_compile compileall imghdr sndhdr
        configparser sqlite3 _sqlite3 dbm mmap readline xml plistlib resource fcntl numpy.save
        numpy.savez numpy.savez_compressed numpy.savetxt numpy.ndarray.tofile numpy.ndarray.dump
        torch.save torch.from_file torch.UntypedStorage.from_file torch.storage.UntypedStorage.from_file
        torch.storage.TypedStorage.from_file torch.TypedStorage.from_file torch.utils.tensorboard
        torch.profiler torch.autograd.profiler torch.cuda.memory xgboost.DMatrix xgboost.core.DMatrix
        xgboost.Booster.save_model xgboost.core.Booster.save_model lightgbm.Dataset
        lightgbm.basic.Dataset h5py tables PIL.Image.open tensorflow.io tensorflow.raw_ops
        """
    ),
    NETWORK: _words(
        """
        socket _socket ssl _ssl socketserver asyncore asynchat urllib urllib2 urllib3 http httplib
        requests httpx aiohttp ftplib smtplib smtpd telnetlib poplib imaplib nntplib webbrowser xmlrpc
        xmlrpclib SimpleXMLRPCServer wsgiref cgi cgitb multiprocessing.connection
        multiprocessing.shared_memory multiprocessing.resource_sharer torch.distributed
        torch._C._distributed_c10d torch._C._distributed_rpc xgboost.tracker xgboost.collective
        xgboost.dask xgboost.spark lightgbm.dask boto3 botocore google.cloud azure paramiko pycurl
        websocket websockets grpc zmq redis pymongo psycopg2 psycopg mysql pymysql smbclient select
        selectors logging.handlers.SocketHandler logging.handlers.HTTPHandler
        logging.handlers.SMTPHandler logging.handlers.DatagramHandler logging.handlers.SysLogHandler
        logging.handlers.QueueListener
        """
    ),
}

#: Names denied only when called: constructing them opens or creates files.
_CALL_DENY: Final[dict[str, str]] = {
    "numpy.memmap": FILE_ACCESS,
    "numpy.core.memmap.memmap": FILE_ACCESS,
    "numpy._core.memmap.memmap": FILE_ACCESS,
}

#: Exceptions under denied prefixes (a prefix here clears what a shorter one denied; a longer denied
#: prefix applies again): names real model files use.
_DENY_EXCEPTIONS: Final = frozenset(
    _words(
        """
        pathlib.Path pathlib.PosixPath pathlib.PurePath pathlib.PurePosixPath pathlib.PureWindowsPath
        pathlib.WindowsPath pathlib._local.Path pathlib._local.PosixPath pathlib._local.PurePath
        pathlib._local.PurePosixPath pathlib._local.PureWindowsPath pathlib._local.WindowsPath
        torch.jit._pickle torch.serialization._get_layout
        """
    )
)


def _build_deny() -> tuple[dict[str, str], dict[str, str]]:
    whole: dict[str, str] = {}
    methods: dict[str, str] = {}
    for rule, prefixes in _DENY_GROUPS.items():
        for p in prefixes:
            if p.endswith("."):
                methods.setdefault(p[:-1], rule)
            else:
                whole.setdefault(p, rule)
    return whole, methods


#: Denied prefixes, and prefixes whose *attributes* are denied (``pathlib.Path.touch``, not ``Path``).
_DENY, _METHOD_DENY = _build_deny()

#: Attribute names that are modules (or the builtins dict) in many modules: walking through one is an
#: import in disguise (``random._os.system``, ``tempfile._os``, ``pathlib.os``, ``x.__builtins__``).
ALIAS_SEGMENTS: Final[dict[str, str]] = dict(
    w.split("=")
    for w in _words(
        """
        os=os _os=os sys=sys _sys=sys subprocess=subprocess _subprocess=subprocess builtins=builtins
        _builtins=builtins __builtins__=builtins __builtin__=builtins posix=posix _posix=posix nt=nt
        _posixsubprocess=subprocess importlib=importlib _imp=importlib imp=importlib
        _bootstrap=importlib _bootstrap_external=importlib shutil=shutil _shutil=shutil socket=socket
        _socket=socket pty=pty ctypes=ctypes _ctypes=ctypes marshal=marshal pickle=pickle _pickle=pickle
        runpy=runpy webbrowser=webbrowser pdb=pdb tempfile=tempfile _tempfile=tempfile io=io _io=io
        urllib=urllib http=http codeop=codeop pydoc=pydoc pkgutil=pkgutil
        inspect=inspect _inspect=inspect gc=gc operator=operator _operator=operator functools=functools
        _functools=functools linecache=linecache threading=threading
        _thread=threading multiprocessing=multiprocessing signal=signal _signal=signal
        """
    )
)

# --- allowlist -------------------------------------------------------------------------------------

#: Callables real model files call with arguments (REDUCE, INST/OBJ with arguments).
_CALL_ALLOW_CORE: Final = frozenset(
    _words(
        """
        _codecs.encode _collections.defaultdict _collections.deque argparse.Namespace
        array._array_reconstructor array.array builtins.NoneType builtins.bool builtins.bytearray
        builtins.bytes builtins.complex builtins.dict builtins.float builtins.frozenset builtins.int
        builtins.list builtins.object builtins.range builtins.set builtins.slice builtins.str
        builtins.tuple codecs.encode collections.Counter collections.OrderedDict
        collections._tuplegetter collections.defaultdict collections.deque copyreg.__newobj__
        copyreg.__newobj_ex__ copyreg._reconstructor datetime.date datetime.datetime datetime.time
        datetime.timedelta datetime.timezone decimal.Decimal enum.Enum fractions.Fraction
        ipaddress.IPv4Address joblib.numpy_pickle.NumpyArrayWrapper numpy._core.multiarray._reconstruct
        numpy._core.multiarray.scalar numpy._core.numeric._frombuffer numpy._core.records.recarray
        numpy.core._internal._ctypes numpy.core.defchararray.chararray
        numpy.core.multiarray._fromnxfunction numpy.core.multiarray._reconstruct
        numpy.core.multiarray.scalar numpy.core.numeric._frombuffer numpy.core.records.recarray
        numpy.dtype numpy.ma.core.MaskedArray numpy.ma.core.MaskedConstant numpy.ma.core._mareconstruct
        numpy.matrix numpy.ndarray numpy.random.__RandomState_ctor numpy.random._mt19937.MT19937
        numpy.random._pcg64.PCG64 numpy.random._pcg64.PCG64DXSM numpy.random._philox.Philox
        numpy.random._pickle.__bit_generator_ctor numpy.random._pickle.__generator_ctor
        numpy.random._pickle.__randomstate_ctor numpy.random._sfc64.SFC64
        numpy.random.bit_generator.SeedSequence numpy.random.mtrand.RandomState numpy.rec.recarray
        numpy.recarray pandas.DataFrame pandas.Series pandas._libs.internals.BlockPlacement
        pandas._libs.internals._unpickle_block pandas._libs.interval.Interval
        pandas._libs.sparse.BlockIndex pandas._libs.sparse.IntIndex
        pandas._libs.tslibs.nattype.__nat_unpickle pandas._libs.tslibs.offsets._offset_map
        pandas._libs.tslibs.period._unpickle_period pandas._libs.tslibs.timedeltas._timedelta_unpickle
        pandas._libs.tslibs.timestamps._unpickle_timestamp pandas.core.arrays.categorical.Categorical
        pandas.core.arrays.integer.Int64Dtype pandas.core.arrays.string_.StringDtype
        pandas.core.dtypes.dtypes.CategoricalDtype pandas.core.dtypes.dtypes.DatetimeTZDtype
        pandas.core.dtypes.dtypes.IntervalDtype pandas.core.dtypes.dtypes.PeriodDtype
        pandas.core.frame.DataFrame pandas.core.indexes.base._new_Index
        pandas.core.internals.blocks.new_block pandas.core.internals.managers.BlockManager
        pandas.core.internals.managers.SingleBlockManager pandas.core.series.Series pathlib.Path
        pathlib.PosixPath pathlib.PurePath pathlib.PurePosixPath pathlib.PureWindowsPath
        pathlib.WindowsPath re._compile scipy.sparse._csc.csc_matrix scipy.sparse._csr.csr_matrix
        scipy.stats._distn_infrastructure.rv_continuous_frozen
        scipy.stats._distn_infrastructure.rv_discrete_frozen sklearn.neighbors._ball_tree.BallTree
        sklearn.neighbors._ball_tree.newObj sklearn.neighbors._kd_tree.KDTree
        sklearn.neighbors._kd_tree.newObj sklearn.tree._tree.Tree sklearn.utils.Bunch
        sklearn.utils._bunch.Bunch torch.Size torch.Tensor torch.TypedStorage torch.UntypedStorage
        torch._tensor.Tensor torch._tensor._rebuild_from_type torch._tensor._rebuild_from_type_v2
        torch._utils._rebuild_buffer torch._utils._rebuild_device_tensor_from_cpu_tensor
        torch._utils._rebuild_device_tensor_from_numpy torch._utils._rebuild_from_type_v2
        torch._utils._rebuild_meta_tensor_no_storage torch._utils._rebuild_mtia_tensor
        torch._utils._rebuild_nested_tensor torch._utils._rebuild_parameter
        torch._utils._rebuild_parameter_with_state torch._utils._rebuild_qtensor
        torch._utils._rebuild_sparse_csr_tensor torch._utils._rebuild_sparse_tensor
        torch._utils._rebuild_tensor torch._utils._rebuild_tensor_v2 torch._utils._rebuild_tensor_v3
        torch._utils._rebuild_wrapper_subclass torch._utils._rebuild_xla_tensor
        torch._utils._set_obj_state torch.ao.quantization.observer._PartialWrapper
        torch.ao.quantization.qconfig.QConfig torch.device torch.dtype torch.jit._pickle.build_boollist
        torch.jit._pickle.build_doublelist torch.jit._pickle.build_intlist
        torch.jit._pickle.build_tensor_from_id torch.jit._pickle.build_tensorlist
        torch.jit._pickle.restore_type_tag torch.nn.modules.module._IncompatibleKeys
        torch.nn.parameter.Buffer torch.nn.parameter.Parameter torch.nn.parameter.UninitializedBuffer
        torch.nn.parameter.UninitializedParameter torch.optim.lr_scheduler.LambdaLR
        torch.quantization.qconfig.QConfig torch.serialization._get_layout torch.storage.TypedStorage
        torch.storage.UntypedStorage torch.torch_version.TorchVersion types.SimpleNamespace uuid.UUID
        zoneinfo.ZoneInfo zoneinfo._common
        """
    )
)

#: Enums and small value classes of training libraries, rebuilt by calling the class with a value
#: (``IntervalStrategy('steps')``) in ``training_args.bin`` and Lightning/Accelerate checkpoints.
_TRAINING_CALLS: Final = frozenset(
    _words(
        """
        transformers.trainer_utils.IntervalStrategy transformers.trainer_utils.SchedulerType
        transformers.trainer_utils.HubStrategy transformers.trainer_utils.SaveStrategy
        transformers.trainer_utils.EvaluationStrategy transformers.trainer_utils.FSDPOption
        transformers.trainer_utils.ShardedDDPOption transformers.training_args.OptimizerNames
        transformers.debug_utils.DebugOption transformers.utils.generic.PaddingStrategy
        transformers.utils.generic.TensorType transformers.tokenization_utils_base.TruncationStrategy
        accelerate.utils.dataclasses.DistributedType accelerate.utils.dataclasses.PrecisionType
        accelerate.utils.dataclasses.DynamoBackend accelerate.utils.dataclasses.ComputeEnvironment
        lightning.fabric.utilities.data.AttributeDict pytorch_lightning.utilities.parsing.AttributeDict
        """
    )
)

#: scikit-learn Cython modules whose ``newObj(cls)`` helper rebuilds their extension types.
_SKLEARN_NEWOBJ: Final = (
    "metrics._dist_metrics",
    "neighbors._kd_tree",
    "neighbors._ball_tree",
    "neighbors._binary_tree",
    "metrics._pairwise_distances_reduction._datasets_pair",
)

CALL_ALLOW: Final = (
    _CALL_ALLOW_CORE | _TRAINING_CALLS | frozenset(f"sklearn.{m}.newObj" for m in _SKLEARN_NEWOBJ)
)

#: Classes real files instantiate without ``__init__`` whose names do not look like classes.
NEW_ALLOW: Final = frozenset(
    _words(
        """
        argparse.Namespace builtins.bytearray builtins.bytes builtins.complex builtins.dict
        builtins.float builtins.frozenset builtins.int builtins.list builtins.object builtins.set
        builtins.str builtins.tuple collections.Counter collections.OrderedDict collections.defaultdict
        collections.deque datetime.date datetime.datetime datetime.time datetime.timedelta
        datetime.timezone decimal.Decimal fractions.Fraction numpy.ma.core.MaskedArray numpy.matrix
        numpy.memmap numpy.ndarray numpy.random._generator.Generator numpy.random.mtrand.RandomState
        numpy.recarray pathlib.Path pathlib.PosixPath pathlib.PurePosixPath pathlib.PureWindowsPath
        pathlib.WindowsPath scipy.sparse._bsr.bsr_array scipy.sparse._bsr.bsr_matrix
        scipy.sparse._coo.coo_array scipy.sparse._coo.coo_matrix scipy.sparse._csc.csc_array
        scipy.sparse._csc.csc_matrix scipy.sparse._csr.csr_array scipy.sparse._csr.csr_matrix
        scipy.sparse._dia.dia_array scipy.sparse._dia.dia_matrix scipy.sparse._dok.dok_array
        scipy.sparse._dok.dok_matrix scipy.sparse._lil.lil_array scipy.sparse._lil.lil_matrix
        scipy.sparse.coo.coo_matrix scipy.sparse.csc.csc_matrix scipy.sparse.csr.csr_matrix torch.Size
        torch.Tensor torch._tensor.Tensor torch.nn.parameter.Parameter types.SimpleNamespace uuid.UUID
        """
    )
)

#: Names that are only ever referenced, never called, in real files.
REF_ALLOW: Final = frozenset(
    _words(
        """
        builtins.Ellipsis builtins.NoneType builtins.NotImplemented numpy.bool_
        numpy.bytes_ numpy.complex128 numpy.complex64 numpy.float16 numpy.float32 numpy.float64
        numpy.inf numpy.int16 numpy.int32 numpy.int64 numpy.int8 numpy.nan numpy.object_ numpy.str_
        numpy.uint16 numpy.uint32 numpy.uint64 numpy.uint8
        """
    )
)

#: Packages whose classes real files rebuild with ``NEWOBJ``/``copyreg._reconstructor`` and whose
#: public names they reference (a scaler's dtype, a feature selector's score function).
TRUSTED_PACKAGES: Final = tuple(
    _words(
        """
        sklearn xgboost lightgbm catboost scipy pandas numpy torch __torch__ joblib.numpy_pickle
        transformers tokenizers accelerate peft sentence_transformers timm torchvision torchaudio
        pytorch_lightning lightning lightning_fabric statsmodels imblearn category_encoders umap hdbscan
        pynndescent optuna skl2onnx datasets
        """
    )
)

#: Packages whose classes real files also *call* with arguments (their constructors store
#: parameters): scikit-learn estimators and their Cython helpers.
TRUSTED_CALL_PACKAGES: Final = ("sklearn", "pandas", "__torch__")

#: Private rebuild helpers under :data:`TRUSTED_CALL_PACKAGES` (pandas' ``_new_DatetimeIndex``,
#: ``_unpickle_timestamp``, ``__nat_unpickle``).
_REBUILD_HELPER: Final = re.compile(r"^_*(new_[A-Za-z]|unpickle)|_unpickle$")

#: Module segments never trusted by the package rules (I/O, tests, hubs, compilers, process control).
UNTRUSTED_SEGMENTS: Final = frozenset(
    _words(
        """
        _config _dynamo _inductor _io _testing cli collect_env collective commands compat conftest
        cpp_extension dask datasets distributed download downloads externals file_download fx hf_api hub
        io jit model_zoo multiprocessing notebook package plotting serialization spark test testing
        tests tracker utils.data
        """
    )
)

#: Encodings ``_codecs.encode`` may name in real files (numpy arrays in protocols 0-2).
SAFE_ENCODINGS: Final = frozenset(
    {"latin1", "latin-1", "iso-8859-1", "iso8859-1", "l1", "utf-8", "utf8", "ascii"}
)

#: Loaders real files use with a literal payload; the walker scans the payload instead of flagging.
RECURSIVE_LOADERS: Final = frozenset({"torch.storage._load_from_bytes"})

#: Allowlisted callables that call or instantiate their positional arguments: the role each gets.
ARG_ROLES: Final[dict[str, tuple[Role | None, ...]]] = {
    "copyreg._reconstructor": (Role.NEW, Role.CALL),
    "copyreg.__newobj__": (Role.NEW,),
    "copyreg.__newobj_ex__": (Role.NEW,),
    "collections.defaultdict": (Role.CALL,),
    "_collections.defaultdict": (Role.CALL,),
    "torch._utils._rebuild_from_type_v2": (Role.CALL, Role.NEW),
    "torch._tensor._rebuild_from_type_v2": (Role.CALL, Role.NEW),
    "torch._tensor._rebuild_from_type": (Role.CALL, Role.NEW),
    "torch._utils._rebuild_wrapper_subclass": (Role.NEW,),
    "numpy.core.multiarray._reconstruct": (Role.NEW,),
    "numpy._core.multiarray._reconstruct": (Role.NEW,),
    "numpy.ma.core._mareconstruct": (Role.NEW, Role.NEW),
    "numpy.random._pickle.__randomstate_ctor": (None, Role.CALL),
    "numpy.random._pickle.__generator_ctor": (None, Role.CALL),
    "numpy.random._pickle.__bit_generator_ctor": (Role.CALL,),
    "pandas.core.indexes.base._new_Index": (Role.NEW,),
    **{f"sklearn.{m}.newObj": (Role.NEW,) for m in _SKLEARN_NEWOBJ},
}

#: Allowlisted callables that set attributes from one of their arguments (``_set_obj_state``): the
#: index of that argument, checked like a BUILD state for ``__dunder__`` keys.
STATE_ARGS: Final[dict[str, int]] = {
    "torch._utils._rebuild_parameter_with_state": 3,
    "torch._utils._rebuild_from_type_v2": 3,
    "torch._tensor._rebuild_from_type_v2": 3,
    "torch._tensor._rebuild_from_type": 3,
    "torch._utils._set_obj_state": 1,
}

#: The copyreg extension registry as a fresh interpreter has it: empty. A pickle that uses EXT
#: opcodes relies on a registration made elsewhere, which no model file format does.
EXTENSION_REGISTRY: Final[dict[int, tuple[str, str]]] = {}


# --- logic -------------------------------------------------------------------------------------------


def map_py2(module: str, name: str) -> tuple[str, str]:
    """Python 2 names as the unpickler maps them (``__builtin__.eval`` is ``builtins.eval``)."""
    mapped = _compat_pickle.NAME_MAPPING.get((module, name))
    if mapped is not None:
        return mapped
    top = _compat_pickle.IMPORT_MAPPING.get(module)
    if top is not None:
        return top, name
    return module, name


def _is_dunder(seg: str) -> bool:
    return len(seg) > 4 and seg.startswith("__") and seg.endswith("__")


def _deny_lookup(full: str) -> tuple[str, str] | None:
    """The rule of the longest denied prefix of ``full`` (at segment boundaries), and that prefix."""
    parts = full.split(".")
    n = len(parts)
    best: tuple[str, str] | None = None
    prefix = ""
    for i, part in enumerate(parts, 1):
        prefix = f"{prefix}.{part}" if prefix else part
        method_rule = _METHOD_DENY.get(prefix)
        if method_rule is not None and i < n:
            best = (method_rule, prefix + ".*")
            continue
        if prefix in _DENY_EXCEPTIONS:
            best = None
            continue
        rule = _DENY.get(prefix)
        if rule is not None:
            best = (rule, prefix)
    return best


def denied(full: str, module_parts: int = 1) -> Ruling | None:
    """The malicious ruling for a dotted name, if it is denied or walks through an alias or dunder.

    A path through a module alias (``random._os.system``) is judged by where it lands (``os.system``)
    when that is denied, else as an import indirection; a dunder segment (``builtins.__dict__``) is an
    import indirection.
    """
    if full in _EXPLICIT:
        return None
    parts = full.split(".")
    # Module-path segments are real modules (an import of "random._os" fails); inside trusted packages
    # they may be named like stdlib modules (numpy.random._pickle). Attribute segments never may.
    first = module_parts if _under(full, TRUSTED_PACKAGES) else 1
    for i in range(1, len(parts)):
        seg = parts[i]
        alias = ALIAS_SEGMENTS.get(seg) if i >= first else None
        if alias is not None and ".".join(parts[: i + 1]) not in _DENY_EXCEPTIONS:
            target = ".".join([alias, *parts[i + 1 :]])
            via = ".".join(parts[: i + 1])
            inner = _deny_lookup(target)
            if inner is not None:
                return _ruling(inner[0], f"{full} reaches {target} through {via}: {RULES[inner[0]][2]}")
            return _ruling(IMPORT_INDIRECTION, f"{full} reaches module {alias} through attribute {via}")
        if _is_dunder(seg):
            return _ruling(IMPORT_INDIRECTION, f"{full} walks through special attribute {seg}")
    hit = _deny_lookup(full)
    if hit is not None:
        rule, prefix = hit
        return _ruling(rule, f"{full} {RULES[rule][2]} (denylisted: {prefix})")
    return None


_EXPLICIT: Final = CALL_ALLOW | NEW_ALLOW | REF_ALLOW


def _under(full: str, packages: tuple[str, ...]) -> bool:
    return any(full == p or full.startswith(p + ".") for p in packages)


def _clean_path(full: str) -> bool:
    parts = full.split(".")
    if any(p in UNTRUSTED_SEGMENTS for p in parts[1:-1]):
        return False
    return not any(_is_dunder(p) for p in parts[1:])


def _classlike(full: str) -> bool:
    last = full.rsplit(".", 1)[-1]
    return last[:1].isupper() or (last.startswith("_") and last[1:2].isupper())


def _pyx_unpickle(full: str) -> bool:
    return full.rsplit(".", 1)[-1].startswith("__pyx_unpickle_")


def allowed(full: str, role: Role) -> bool:
    """True when real model files use ``full`` in this role (the denylist is checked separately)."""
    if role is Role.CALL:
        if full in CALL_ALLOW:
            return True
        if _pyx_unpickle(full) and _under(full, TRUSTED_PACKAGES) and _clean_path(full):
            return True
        if not (_under(full, TRUSTED_CALL_PACKAGES) and _clean_path(full)):
            return False
        return _classlike(full) or bool(_REBUILD_HELPER.search(full.rsplit(".", 1)[-1]))
    if full in CALL_ALLOW or full in NEW_ALLOW:
        return True
    if role is Role.NEW:
        return _under(full, TRUSTED_PACKAGES) and _clean_path(full) and _classlike(full)
    if full in REF_ALLOW:
        return True
    return _under(full, TRUSTED_PACKAGES) and _clean_path(full)


def classify(module: str, name: str, role: Role) -> tuple[str, Ruling | None]:
    """The resolved ``module.name`` and why it is not safe in ``role`` (None: safe)."""
    module, name = map_py2(module, name)
    full = f"{module}.{name}" if module else name
    return full, judge(full, role, module.count(".") + 1)


def judge(full: str, role: Role, module_parts: int = 1) -> Ruling | None:
    """Why the resolved dotted name ``full`` is not safe in ``role`` (None: safe).

    ``module_parts`` is how many leading segments name the module (the rest are attributes).
    """
    if full in RECURSIVE_LOADERS and role is Role.REF:
        return None  # judged where it is called, on its argument
    bad = denied(full, module_parts)
    if bad is not None:
        return bad
    if role is Role.CALL:
        rule = _CALL_DENY.get(full)
        if rule is not None:
            return _ruling(rule, f"{full} {RULES[rule][2]} when called (denylisted call)")
    if allowed(full, role):
        return None
    how = {Role.REF: "referenced", Role.NEW: "instantiated", Role.CALL: "called"}[role]
    return _ruling(NON_ALLOWLISTED, f"{full} is {how} but is not on the allowlist of what model files use")


def ruling(rule: str, reason: str) -> Ruling:
    """A ruling for one of :data:`RULES` with a specific reason."""
    return _ruling(rule, reason)


def call_denied(full: str) -> bool:
    """True for names that are harmless to reference but not to call (``numpy.memmap``)."""
    return full in _CALL_DENY
