"""ONNX custom operators and external-data escapes, on models built with the real ``onnx`` package."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aispm.analysis.artifact_report import FormatResult, Verdict
from aispm.analysis.onnx_model import analyze_onnx, escapes_model_dir

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from onnx.external_data_helper import convert_model_to_external_data  # noqa: E402


def analyze(data: bytes, member: str | None = None, files: list[str] | None = None) -> FormatResult:
    return analyze_onnx(io.BytesIO(data), len(data), member, model_dir_files=files)


def rules(result: FormatResult) -> list[str]:
    return [i.rule for i in result.issues]


def const(name: str, value: np.ndarray) -> onnx.NodeProto:
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(value, name + "_value"))


def mlp(extra_nodes: list[onnx.NodeProto] | None = None, functions: list[onnx.FunctionProto] | None = None,
        opsets: list[tuple[str, int]] | None = None) -> onnx.ModelProto:  # fmt: skip
    """A small MLP with an If whose branches hold Constants (subgraphs), like exporters write."""
    w1 = numpy_helper.from_array(np.ones((4, 8), np.float32), "fc1.weight")
    b1 = numpy_helper.from_array(np.zeros(8, np.float32), "fc1.bias")
    w2 = numpy_helper.from_array(np.ones((8, 2), np.float32), "fc2.weight")
    then_g = helper.make_graph(
        [const("t", np.ones(2, np.float32))],
        "then",
        [],
        [helper.make_tensor_value_info("t", TensorProto.FLOAT, [2])],
    )
    else_g = helper.make_graph(
        [const("e", np.zeros(2, np.float32))],
        "else",
        [],
        [helper.make_tensor_value_info("e", TensorProto.FLOAT, [2])],
    )
    nodes = [
        helper.make_node("MatMul", ["x", "fc1.weight"], ["h0"]),
        helper.make_node("Add", ["h0", "fc1.bias"], ["h1"]),
        helper.make_node("Relu", ["h1"], ["h2"]),
        helper.make_node("MatMul", ["h2", "fc2.weight"], ["y"]),
        helper.make_node("If", ["cond"], ["branch"], then_branch=then_g, else_branch=else_g),
        *(extra_nodes or []),
    ]
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4]),
         helper.make_tensor_value_info("cond", TensorProto.BOOL, [])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2]),
         helper.make_tensor_value_info("branch", TensorProto.FLOAT, [2])],
        [w1, b1, w2],
    )  # fmt: skip
    imports = [helper.make_opsetid(d, v) for d, v in (opsets or [("", 17)])]
    return helper.make_model(
        graph,
        opset_imports=imports,
        producer_name="pytorch",
        producer_version="2.13.0",
        functions=functions or [],
    )


# --- benign ---


def test_plain_model_is_safe_with_facts() -> None:
    model = mlp()
    onnx.checker.check_model(model)
    result = analyze(model.SerializeToString())
    assert result.issues == ()
    facts = result.facts
    assert facts["ir_version"] == model.ir_version
    assert facts["producer"] == "pytorch"
    assert facts["producer_version"] == "2.13.0"
    assert facts["opsets"] == {"": 17}
    assert facts["initializer_count"] == 3
    assert facts["parameter_count"] == 32 + 8 + 16
    assert facts["node_count"] == 7  # five in the graph, one Constant in each branch
    assert facts["subgraphs"] == 2


def test_standard_and_runtime_domains_are_known() -> None:
    nodes = [
        helper.make_node("FusedMatMul", ["x", "x"], ["f"], domain="com.microsoft"),
        helper.make_node("Normalizer", ["x"], ["n"], domain="ai.onnx.ml", norm="L2"),
        helper.make_node("Relu", ["x"], ["r"], domain="ai.onnx"),
    ]
    model = mlp(nodes, opsets=[("", 17), ("com.microsoft", 1), ("ai.onnx.ml", 3)])
    assert analyze(model.SerializeToString()).issues == ()


def test_model_local_function_in_a_custom_domain_is_not_custom_code() -> None:
    # torch.onnx (dynamo) exports helpers as model-local functions in their own domain.
    fn = helper.make_function(
        "pkg.onnxscript.torch_lib",
        "aten_gelu",
        ["x"],
        ["y"],
        [helper.make_node("Relu", ["x"], ["y"])],
        [helper.make_opsetid("", 17)],
    )
    node = helper.make_node("aten_gelu", ["y"], ["g"], domain="pkg.onnxscript.torch_lib")
    model = mlp([node], [fn], opsets=[("", 17), ("pkg.onnxscript.torch_lib", 1)])
    onnx.checker.check_model(model)
    result = analyze(model.SerializeToString())
    assert result.issues == ()
    assert result.facts["local_functions"] == 1


def test_external_data_beside_the_model_is_safe(tmp_path: Path) -> None:
    model = mlp()
    path = tmp_path / "model.onnx"
    onnx.save(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
              location="model.onnx.data", size_threshold=0)  # fmt: skip
    data = path.read_bytes()
    result = analyze(data, files=["model.onnx", "model.onnx.data"])
    assert result.issues == ()
    assert result.facts["external_data_files"] == ["model.onnx.data"]
    assert result.facts["parameter_count"] == 56  # dims are still in the proto


def test_external_data_in_a_subfolder_is_safe(tmp_path: Path) -> None:
    model = mlp()
    convert_model_to_external_data(
        model, all_tensors_to_one_file=True, location="weights/w.bin", size_threshold=0
    )
    assert analyze(model.SerializeToString(), files=["weights/w.bin"]).issues == ()


# --- custom operators ---


def test_custom_domain_op_is_suspicious() -> None:
    node = helper.make_node("DecodeAndRun", ["x"], ["z"], domain="evil.ops")
    result = analyze(mlp([node], opsets=[("", 17), ("evil.ops", 1)]).SerializeToString(), "m.onnx")
    assert rules(result) == ["onnx.custom-op"]
    issue = result.issues[0]
    assert issue.verdict is Verdict.SUSPICIOUS
    assert issue.detail == {"domain": "evil.ops", "op_type": "DecodeAndRun", "count": 1, "where": "graph"}
    assert issue.member == "m.onnx"


def test_custom_op_inside_a_subgraph_and_a_function() -> None:
    inner = helper.make_graph(
        [helper.make_node("Hidden", [], ["h"], domain="x.hidden")], "body", [],
        [helper.make_tensor_value_info("h", TensorProto.FLOAT, [1])],
    )  # fmt: skip
    loop = helper.make_node("If", ["cond"], ["o"], then_branch=inner, else_branch=inner)
    fn = helper.make_function("my.fns", "f", ["x"], ["y"],
                              [helper.make_node("InFunction", ["x"], ["y"], domain="y.hidden")],
                              [helper.make_opsetid("y.hidden", 1)])  # fmt: skip
    model = mlp([loop], [fn])
    result = analyze(model.SerializeToString())
    found = {(i.detail["domain"], i.detail["op_type"]) for i in result.issues}
    assert found == {("x.hidden", "Hidden"), ("y.hidden", "InFunction")}


def test_python_op_is_suspicious_even_in_a_known_domain() -> None:
    node = helper.make_node("PythonOp", ["x"], ["p"], domain="com.microsoft", func_name="evil")
    result = analyze(mlp([node], opsets=[("", 17), ("com.microsoft", 1)]).SerializeToString())
    assert rules(result) == ["onnx.custom-op"]
    assert "Python" in result.issues[0].message


def test_domain_declared_but_unused_is_fine() -> None:
    assert analyze(mlp(opsets=[("", 17), ("evil.ops", 1)]).SerializeToString()).issues == ()


# --- external data escaping the model directory ---


def set_location(tensor: onnx.TensorProto, location: str) -> None:
    tensor.data_location = TensorProto.EXTERNAL
    del tensor.external_data[:]
    for key, value in (("location", location), ("offset", "0"), ("length", str(tensor.ByteSize()))):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    tensor.ClearField("raw_data")
    tensor.ClearField("float_data")


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("../../../../etc/passwd", "parent-directory"),
        ("weights/../../secret.bin", "parent-directory"),
        ("..\\..\\windows\\win.ini", "parent-directory"),
        ("/etc/shadow", "absolute"),
        ("\\\\server\\share\\w.bin", "absolute"),
        ("C:\\Windows\\System32\\config\\SAM", "drive-letter"),
        ("~/.ssh/id_rsa", "absolute"),
        ("file:///etc/passwd", "URL"),
        ("https://attacker.example/w.bin", "URL"),
        ("w.bin\x00.txt", "NUL"),
    ],
)
def test_escaping_initializer_is_malicious(location: str, reason: str) -> None:
    model = mlp()
    set_location(model.graph.initializer[0], location)
    result = analyze(model.SerializeToString())
    assert rules(result) == ["onnx.external-data-escape"]
    issue = result.issues[0]
    assert (issue.verdict, str(issue.severity)) == (Verdict.MALICIOUS, "high")
    assert issue.detail["tensor"] == "fc1.weight"
    assert reason.lower() in str(issue.detail["reason"]).lower()


def test_escape_in_a_constant_inside_a_subgraph() -> None:
    model = mlp()
    if_node = next(n for n in model.graph.node if n.op_type == "If")
    then_branch = next(a for a in if_node.attribute if a.name == "then_branch").g
    set_location(then_branch.node[0].attribute[0].t, "../../etc/hosts")
    result = analyze(model.SerializeToString())
    assert rules(result) == ["onnx.external-data-escape"]
    assert result.issues[0].detail["tensor"] == "t_value"


def test_escape_in_a_function_constant_and_a_sparse_initializer() -> None:
    value = numpy_helper.from_array(np.ones(3, np.float32), "fn_const")
    set_location(value, "/proc/self/environ")
    body = [helper.make_node("Constant", [], ["y"], value=value)]
    fn = helper.make_function("my.fns", "f", [], ["y"], body, [helper.make_opsetid("", 17)])
    model = mlp(functions=[fn])
    values = numpy_helper.from_array(np.ones(2, np.float32), "sp_values")
    set_location(values, "../sparse.bin")
    indices = numpy_helper.from_array(np.array([0, 3], np.int64), "sp_indices")
    model.graph.sparse_initializer.append(helper.make_sparse_tensor(values, indices, [5]))
    result = analyze(model.SerializeToString())
    assert sorted(str(i.detail["location"]) for i in result.issues) == ["../sparse.bin", "/proc/self/environ"]


@pytest.mark.parametrize("order", [("w.bin", "../../etc/passwd"), ("../../etc/passwd", "w.bin")])
def test_every_location_entry_is_checked(order: tuple[str, str]) -> None:
    # Loaders keep the last entry, a reader could keep the first: both are judged.
    model = mlp()
    tensor = model.graph.initializer[0]
    set_location(tensor, order[0])
    entry = tensor.external_data.add()
    entry.key, entry.value = "location", order[1]
    result = analyze(model.SerializeToString())
    assert rules(result) == ["onnx.external-data-escape"]


def test_missing_external_file_is_unscannable_when_the_listing_is_given() -> None:
    model = mlp()
    convert_model_to_external_data(model, all_tensors_to_one_file=True, location="w.bin", size_threshold=0)
    data = model.SerializeToString()
    assert analyze(data).issues == ()  # no listing: nothing to compare with
    result = analyze(data, files=["model.onnx"])
    assert set(rules(result)) == {"onnx.external-data-missing"}
    assert result.issues[0].verdict is Verdict.UNSCANNABLE


@pytest.mark.parametrize(
    "location", ["w.bin", "weights/w.bin", "./w.bin", "a..b.bin", "..w", "model.onnx_data"]
)
def test_near_miss_locations_stay_inside(location: str) -> None:
    assert escapes_model_dir(location) is None


# --- broken input and bounds ---


def test_weights_are_skipped_not_read() -> None:
    big = numpy_helper.from_array(np.ones((512, 1024), np.float32), "big")
    model = mlp()
    model.graph.initializer.append(big)
    data = model.SerializeToString()
    result = analyze(data)
    assert result.issues == ()
    assert result.facts["bytes_read"] < 200_000 < len(data)


def test_truncated_and_garbage_are_unscannable() -> None:
    data = mlp().SerializeToString()
    for cut in (1, 10, len(data) // 2, len(data) - 1):
        assert "onnx.malformed" in rules(analyze(data[:cut])), cut
    assert rules(analyze(b"hello world, not a model")) == ["onnx.malformed"]
    assert rules(analyze(b"")) == ["onnx.malformed"]


def test_lying_length_is_unscannable() -> None:
    data = b"\x08\x08" + b"\x3a\xff\xff\xff\xff\x0f" + b"\x00" * 10  # graph field claiming 4 GiB
    assert rules(analyze(data)) == ["onnx.malformed"]


def _ld(field: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field (field numbers under 16)."""
    n, size = bytearray(), len(payload)
    while True:
        n.append((size & 0x7F) | (0x80 if size > 0x7F else 0))
        size >>= 7
        if not size:
            break
    return bytes([field << 3 | 2]) + bytes(n) + payload


def _nested_model(levels: int) -> bytes:
    graph = _ld(1, _ld(4, b"Relu"))
    for _ in range(levels):  # If node -> then_branch attribute -> graph
        graph = _ld(1, _ld(4, b"If") + _ld(5, _ld(1, b"then_branch") + _ld(6, graph)))
    return b"\x08\x08" + _ld(7, graph)


def test_subgraph_nesting_is_bounded() -> None:
    # protobuf itself refuses messages nested over 100 deep (three per subgraph level).
    shallow = _nested_model(10)
    assert onnx.load_model_from_string(shallow).graph.node[0].op_type == "If"
    assert analyze(shallow).issues == ()
    assert analyze(shallow).facts["subgraphs"] == 10
    result = analyze(_nested_model(40))
    assert rules(result) == ["onnx.malformed"]
    assert "deeper" in result.issues[0].message


def test_partial_walk_still_reports_what_it_saw() -> None:
    model = mlp()
    set_location(model.graph.initializer[0], "/etc/passwd")
    data = model.SerializeToString()
    result = analyze(data[: len(data) - 5])
    assert "onnx.malformed" in rules(result)
    assert "onnx.external-data-escape" in rules(result)


_SAMPLE = mlp([helper.make_node("X", ["x"], ["q"], domain="c.d")]).SerializeToString()


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=len(_SAMPLE) - 1), st.binary(min_size=1, max_size=6), st.data())
def test_fuzz_mutated_model(offset: int, patch: bytes, data: st.DataObject) -> None:
    mutated = bytearray(_SAMPLE)
    end = min(len(mutated), offset + len(patch))
    mutated[offset:end] = patch[: end - offset]
    cut = data.draw(st.integers(min_value=0, max_value=len(mutated)))
    result = analyze(bytes(mutated[:cut]))
    for issue in result.issues:
        assert issue.rule.startswith("onnx.")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_arbitrary_bytes(data: bytes) -> None:
    result = analyze(data)
    assert all(i.rule.startswith("onnx.") for i in result.issues)
