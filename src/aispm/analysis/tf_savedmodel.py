"""TensorFlow SavedModel (``saved_model.pb``): operations that reach Python, files or the network.

The protobuf is walked without TensorFlow, with a bounded wire-format reader: every
``MetaGraphDef``, its ``GraphDef`` nodes and every function of its library (where the ops of
``tf.function`` bodies live), its asset file names, and the Keras configs that Keras 2 stored in
the object graph. Constant payloads are skipped, never read.

Every exported model saves and restores its variables with ``SaveV2``, ``RestoreV2``,
``ShardedFilename``, ``MergeV2Checkpoints`` and ``StringJoin``: those are not flagged. Ops that
inference graphs do not use are:

- ``tf.py-func`` (critical): ``PyFunc``, ``PyFuncStateless``, ``EagerPyFunc`` call Python;
- ``tf.file-io`` (high): ``ReadFile``, ``WriteFile``, ``MatchingFiles``, ``ImmutableConst``,
  reader and file-dataset ops, dataset/summary writers, ``PrintV2`` to a ``file://`` stream,
  debug ops with ``debug_urls``;
- ``tf.network`` (high): RPC ops, tf.data service ops, cloud credential ops.

TensorFlow has no op that starts a process; a process is reached only through ``PyFunc``.
Asset file names that leave the ``assets/`` directory are ``tf.asset-escape`` (high).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from aispm.analysis.artifact_report import FormatResult, Issue, Verdict
from aispm.analysis.keras_model import analyze_keras_config
from aispm.analysis.model_headers import WIRE_LEN, ProtoBound, ProtoError, ProtoReader
from aispm.analysis.onnx_model import escapes_model_dir
from aispm.model import JSON, Severity

PY_FUNC_OPS = frozenset({"PyFunc", "PyFuncStateless", "EagerPyFunc"})
FILE_OPS = frozenset(
    {
        # read
        "ReadFile", "MatchingFiles", "ImmutableConst", "WholeFileReader", "WholeFileReaderV2",
        "TextLineReader", "TextLineReaderV2", "FixedLengthRecordReader", "FixedLengthRecordReaderV2",
        "TFRecordReader", "TFRecordReaderV2", "LMDBReader", "TextLineDataset", "TFRecordDataset",
        "TFRecordDatasetV2", "FixedLengthRecordDataset", "FixedLengthRecordDatasetV2", "CSVDataset",
        "CSVDatasetV2", "ExperimentalCSVDataset", "LMDBDataset", "ExperimentalLMDBDataset", "SqlDataset",
        "ExperimentalSqlDataset", "MatchingFilesDataset", "ExperimentalMatchingFilesDataset", "LoadDataset",
        "SnapshotDataset", "SnapshotDatasetV2", "SnapshotDatasetReader", "LoadAndRemapMatrix",
        # write
        "WriteFile", "SaveDataset", "SaveDatasetV2", "DatasetToTFRecord", "ExperimentalDatasetToTFRecord",
        "CreateSummaryFileWriter", "CreateSummaryDbWriter", "WriteSummary", "WriteRawProtoSummary",
        "WriteScalarSummary", "WriteHistogramSummary", "WriteImageSummary", "WriteAudioSummary",
        "WriteGraphSummary", "ImportEvent",
    }
)  # fmt: skip
NETWORK_OPS = frozenset(
    {
        "Rpc", "TryRpc", "RpcClient", "RpcCall", "RpcServer", "RpcServerStart", "RpcServerRegister",
        "DataServiceDataset", "DataServiceDatasetV2", "DataServiceDatasetV3", "DataServiceDatasetV4",
        "RegisterDataset", "RegisterDatasetV2", "DistributedSave", "GcsConfigureCredentials",
        "GcsConfigureBlockCache", "BigQueryReader",
    }
)  # fmt: skip
#: Debug ops that send tensors to ``debug_urls`` (``file://``, ``grpc://``).
DEBUG_OPS = frozenset(
    {"DebugIdentity", "DebugIdentityV2", "DebugIdentityV3", "DebugNanCount", "DebugNumericSummary",
     "DebugNumericSummaryV2"}
)  # fmt: skip
#: Checkpoint ops present in every exported model (reported as facts only).
CHECKPOINT_OPS = frozenset(
    {"SaveV2", "RestoreV2", "ShardedFilename", "MergeV2Checkpoints", "StringJoin", "Save", "SaveSlices",
     "Restore", "RestoreSlice"}
)  # fmt: skip
_ATTRS = frozenset({"output_stream", "debug_urls"})
MAX_NAME = 4096
MAX_KERAS_METADATA = 16 * 1024 * 1024
#: Keras layer configs read from one SavedModel, in all.
MAX_KERAS_TOTAL = 64 * 1024 * 1024


@dataclass
class _Node:
    op: str = ""
    attrs: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class _Saved:
    meta_graphs: int = 0
    tags: list[str] = field(default_factory=list)
    tf_version: str | None = None
    nodes: int = 0
    functions: int = 0
    ops: dict[str, int] = field(default_factory=dict)
    flagged: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)
    assets: list[str] = field(default_factory=list)
    member: str | None = None
    keras_issues: list[Issue] = field(default_factory=list)
    keras_bytes: int = 0
    keras_oversized: int = 0


def _judge(node: _Node) -> str | None:
    """The rule an op breaks, or None."""
    op = node.op
    if op in PY_FUNC_OPS:
        return "tf.py-func"
    if op in FILE_OPS:
        return "tf.file-io"
    if op in NETWORK_OPS:
        return "tf.network"
    if op == "PrintV2" and any(s.startswith("file://") for s in node.attrs.get("output_stream", [])):
        return "tf.file-io"
    if op in DEBUG_OPS and any(node.attrs.get("debug_urls", [])):
        return "tf.network" if any(u.startswith("grpc") for u in node.attrs["debug_urls"]) else "tf.file-io"
    return None


def analyze_saved_model(fh: BinaryIO, size: int, member: str | None) -> FormatResult:
    """Analyse a ``saved_model.pb`` of ``size`` bytes; ``fh`` is positioned at its first byte."""
    reader = ProtoReader(fh, size)
    saved = _Saved(member=member)
    failure: str | None = None
    try:
        _walk_saved_model(reader, saved, size)
    except ProtoBound as exc:
        failure = f"over a bound: {exc}"
    except ProtoError as exc:
        failure = str(exc)
    issues: list[Issue] = []
    if failure is not None:
        issues.append(_unscannable(member, failure))
    elif saved.meta_graphs == 0:
        issues.append(_unscannable(member, "no MetaGraphDef: not a SavedModel"))
    issues.extend(_op_issues(saved, member))
    for filename in saved.assets[:100]:
        reason = escapes_model_dir(filename)
        if reason:
            issues.append(
                Issue(
                    "tf.asset-escape",
                    Verdict.MALICIOUS,
                    Severity.HIGH,
                    f"asset file {filename[:200]!r} leaves the SavedModel's assets directory ({reason})",
                    member=member,
                    detail={"filename": filename[:300], "reason": reason},
                )
            )
    issues.extend(saved.keras_issues)
    if saved.keras_oversized:
        issues.append(
            _unscannable(member, f"{saved.keras_oversized} Keras layer config(s) over the size bounds")
        )
    facts: dict[str, JSON] = {
        "meta_graphs": saved.meta_graphs,
        "node_count": saved.nodes,
        "function_count": saved.functions,
        "distinct_ops": len(saved.ops),
        "ops": dict(sorted(saved.ops.items())[:200]),
        "bytes_read": reader.bytes_read,
    }
    if saved.tags:
        facts["tags"] = sorted(set(saved.tags))[:20]
    if saved.tf_version:
        facts["tensorflow_version"] = saved.tf_version
    return FormatResult(facts, tuple(issues))


def _unscannable(member: str | None, reason: str) -> Issue:
    return Issue(
        "tf.malformed",
        Verdict.UNSCANNABLE,
        Severity.MEDIUM,
        f"the SavedModel protobuf cannot be read: {reason}",
        member=member,
    )


_RULES: dict[str, tuple[Verdict, Severity, str]] = {
    "tf.py-func": (Verdict.MALICIOUS, Severity.CRITICAL, "calls Python code"),
    "tf.file-io": (Verdict.MALICIOUS, Severity.HIGH, "reads or writes files"),
    "tf.network": (Verdict.MALICIOUS, Severity.HIGH, "talks to the network"),
}


def _op_issues(saved: _Saved, member: str | None) -> list[Issue]:
    issues = []
    for (rule, op), (count, where) in sorted(saved.flagged.items()):
        verdict, severity, what = _RULES[rule]
        issues.append(
            Issue(
                rule,
                verdict,
                severity,
                f"the graph runs {op}, which {what} when the model is loaded or called",
                member=member,
                detail={"op": op, "count": count, "where": where[:200]},
            )
        )
    return issues


def _keras_issues(text: str, member: str | None) -> list[Issue]:
    try:
        config = json.loads(text)
    except (ValueError, RecursionError):
        return []  # Keras 2 metadata is advisory; the graph above is what TensorFlow runs
    return list(analyze_keras_config(config, member=member).issues)


# --- the walk -----------------------------------------------------------------------------------------


def _walk_saved_model(r: ProtoReader, s: _Saved, end: int) -> None:
    while r.pos < end:
        number, wire = r.tag()
        if number == 2 and wire == WIRE_LEN:
            s.meta_graphs += 1
            _walk_meta_graph(r, s, r.end_of(end))
        else:
            r.skip_value(number, wire, end)
    r.check_end(end)


def _each(r: ProtoReader, end: int, handlers: dict[tuple[int, int], Callable[[int], None]]) -> None:
    """Walk one message, calling ``handlers[(field, wire)](end)`` for wanted fields."""
    while r.pos < end:
        number, wire = r.tag()
        handler = handlers.get((number, wire))
        if handler is None:
            r.skip_value(number, wire, end)
        else:
            handler(end)
    r.check_end(end)


def _walk_meta_graph(r: ProtoReader, s: _Saved, end: int) -> None:
    _each(
        r,
        end,
        {
            (1, WIRE_LEN): lambda e: _walk_meta_info(r, s, r.end_of(e)),
            (2, WIRE_LEN): lambda e: _walk_graph(r, s, r.end_of(e)),
            (6, WIRE_LEN): lambda e: _walk_asset(r, s, r.end_of(e)),
            (7, WIRE_LEN): lambda e: _walk_object_graph(r, s, r.end_of(e)),
        },
    )


def _walk_meta_info(r: ProtoReader, s: _Saved, end: int) -> None:
    def tag(e: int) -> None:
        value = r.text(e, 256)
        if value is not None and len(s.tags) < 50:
            s.tags.append(value)

    def version(e: int) -> None:
        value = r.text(e, 256)
        if value is not None:
            s.tf_version = value[:50]

    _each(r, end, {(4, WIRE_LEN): tag, (5, WIRE_LEN): version})


def _walk_graph(r: ProtoReader, s: _Saved, end: int) -> None:
    _each(
        r,
        end,
        {
            (1, WIRE_LEN): lambda e: _walk_node(r, s, r.end_of(e), "graph"),
            (2, WIRE_LEN): lambda e: _walk_library(r, s, r.end_of(e)),
        },
    )


def _walk_library(r: ProtoReader, s: _Saved, end: int) -> None:
    _each(r, end, {(1, WIRE_LEN): lambda e: _walk_function(r, s, r.end_of(e))})


def _walk_function(r: ProtoReader, s: _Saved, end: int) -> None:
    s.functions += 1
    name = [""]
    nodes: list[_Node] = []

    def signature(e: int) -> None:
        def sig_name(e2: int) -> None:
            name[0] = (r.text(e2, MAX_NAME) or "")[:200]

        _each(r, r.end_of(e), {(1, WIRE_LEN): sig_name})

    def node(e: int) -> None:
        nodes.append(_read_node(r, r.end_of(e)))

    _each(r, end, {(1, WIRE_LEN): signature, (3, WIRE_LEN): node})
    for n in nodes:
        _count(s, n, f"function {name[0]}")


def _walk_node(r: ProtoReader, s: _Saved, end: int, where: str) -> None:
    _count(s, _read_node(r, end), where)


def _count(s: _Saved, node: _Node, where: str) -> None:
    s.nodes += 1
    s.ops[node.op[:100]] = s.ops.get(node.op[:100], 0) + 1
    rule = _judge(node)
    if rule is not None:
        key = (rule, node.op[:100])
        count, first = s.flagged.get(key, (0, where))
        s.flagged[key] = (count + 1, first)


def _read_node(r: ProtoReader, end: int) -> _Node:
    node = _Node()

    def op(e: int) -> None:
        value = r.text(e, MAX_NAME)
        if value is None:
            raise ProtoBound(f"an op name longer than {MAX_NAME} bytes")
        node.op = value  # a repeated singular field: the last one wins, as in protobuf

    def attr(e: int) -> None:
        key, values = _read_attr_entry(r, r.end_of(e))
        if key in _ATTRS:
            node.attrs[key] = values

    _each(r, end, {(2, WIRE_LEN): op, (5, WIRE_LEN): attr})
    return node


def _read_attr_entry(r: ProtoReader, end: int) -> tuple[str, list[str]]:
    """One ``map<string, AttrValue>`` entry: its key and the strings of its value (s or list.s)."""
    key = [""]
    values: list[str] = []

    def read_key(e: int) -> None:
        key[0] = (r.text(e, MAX_NAME) or "")[:100]

    def string(e: int) -> None:
        value = r.text(e, MAX_NAME)
        if len(values) < 100:
            values.append(value if value is not None else "<oversized>")

    def attr_value(e: int) -> None:
        values.clear()  # the last value wins
        _each(r, r.end_of(e), {(2, WIRE_LEN): string, (1, WIRE_LEN): lambda e2: _each(
            r, r.end_of(e2), {(2, WIRE_LEN): string})})  # fmt: skip

    _each(r, end, {(1, WIRE_LEN): read_key, (2, WIRE_LEN): attr_value})
    return key[0], values


def _walk_asset(r: ProtoReader, s: _Saved, end: int) -> None:
    def filename(e: int) -> None:
        value = r.text(e, MAX_NAME)
        if len(s.assets) < 1000:
            s.assets.append(value if value is not None else "<oversized name>")

    _each(r, end, {(2, WIRE_LEN): filename})


def _walk_object_graph(r: ProtoReader, s: _Saved, end: int) -> None:
    _each(r, end, {(1, WIRE_LEN): lambda e: _walk_saved_object(r, s, r.end_of(e))})


def _walk_saved_object(r: ProtoReader, s: _Saved, end: int) -> None:
    _each(r, end, {(4, WIRE_LEN): lambda e: _walk_user_object(r, s, r.end_of(e))})


def _walk_user_object(r: ProtoReader, s: _Saved, end: int) -> None:
    ident = [""]
    metadata: list[str] = []

    def identifier(e: int) -> None:
        ident[0] = (r.text(e, 256) or "")[:100]

    def meta(e: int) -> None:
        value = r.text(e, MAX_KERAS_METADATA)
        metadata[:] = [value] if value is not None else ["\x00oversized"]

    _each(r, end, {(1, WIRE_LEN): identifier, (3, WIRE_LEN): meta})
    if not ident[0].startswith("_tf_keras") or not metadata:
        return
    if metadata[0] == "\x00oversized" or s.keras_bytes + len(metadata[0]) > MAX_KERAS_TOTAL:
        s.keras_oversized += 1
        return
    s.keras_bytes += len(metadata[0])
    if len(s.keras_issues) < 500:
        s.keras_issues.extend(_keras_issues(metadata[0], s.member))
