"""ONNX models: custom operator domains, and external-data paths that escape the model directory.

The ``ModelProto`` is walked with a bounded protobuf reader (no ``onnx`` import, nothing loaded):
the graph, every subgraph in node attributes (``If``/``Loop``/``Scan`` bodies), training graphs and
model-local functions. Tensor payloads (``raw_data``...) are skipped, never read, so the bytes read
stay near the size of the graph structure however large the weights are.

- A node in a domain outside the standard ones (``""``/``ai.onnx``, ``ai.onnx.ml``, the training
  domains, ONNX Runtime's ``com.microsoft`` contrib ops...) that no model-local function defines
  needs operator code from outside the model: ``onnx.custom-op`` (suspicious). ONNX Runtime's
  ``PythonOp`` (which calls back into Python) is reported the same way.
- A tensor whose ``external_data`` ``location`` is absolute, has a ``..`` component, a URL scheme,
  a drive letter or a NUL makes the loader read a file outside the model directory:
  ``onnx.external-data-escape`` (malicious, high).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import BinaryIO

from aispm.analysis.artifact_report import FormatResult, Issue, Verdict
from aispm.analysis.model_headers import WIRE_LEN, WIRE_VARINT, ProtoBound, ProtoError, ProtoReader
from aispm.model import JSON, Severity

#: Operator domains whose operators ship with ONNX or ONNX Runtime.
KNOWN_DOMAINS = frozenset(
    {
        "", "ai.onnx", "ai.onnx.ml", "ai.onnx.training", "ai.onnx.preview.training", "com.microsoft",
        "com.microsoft.nchwc", "com.microsoft.experimental", "com.ms.internal.nhwc", "com.microsoft.dml",
    }
)  # fmt: skip
#: ONNX Runtime contrib operators that call into Python.
PYTHON_OPS = frozenset({"PythonOp", "PythonOpGrad"})
#: Subgraphs nest this deep at most (ONNX's own checker and protobuf stop at 100).
MAX_DEPTH = 32
MAX_NAME = 4096
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass
class _Model:
    ir_version: int | None = None
    producer: str | None = None
    producer_version: str | None = None
    opsets: dict[str, int] = field(default_factory=dict)
    nodes: int = 0
    ops: dict[tuple[str, str], int] = field(default_factory=dict)
    where: dict[tuple[str, str], str] = field(default_factory=dict)
    functions: set[tuple[str, str]] = field(default_factory=set)
    initializers: int = 0
    parameters: int = 0
    external: list[tuple[str, str, str]] = field(default_factory=list)
    subgraphs: int = 0


def escapes_model_dir(location: str) -> str | None:
    """Why an external-data ``location`` leaves the model directory, or None when it stays inside."""
    if not location:
        return "empty location"
    if "\x00" in location:
        return "contains a NUL byte"
    if location.startswith(("/", "\\", "~")):
        return "absolute path"
    if re.match(r"^[A-Za-z]:", location):
        return "drive-letter path"
    if _SCHEME.match(location):
        return "URL or scheme"
    parts = re.split(r"[\\/]+", location)
    if ".." in parts:
        return "parent-directory component"
    return None


def analyze_onnx(
    fh: BinaryIO, size: int, member: str | None, *, model_dir_files: Collection[str] | None = None
) -> FormatResult:
    """Analyse an ONNX ``ModelProto`` of ``size`` bytes; ``fh`` is positioned at its first byte.

    ``model_dir_files``, when given, lists the regular files beside the model (relative POSIX paths,
    symlinks left out); an external-data location that is not among them is reported unscannable
    (the loader would fail, or follow a link out of the directory).
    """
    reader = ProtoReader(fh, size)
    model = _Model()
    try:
        _walk_model(reader, model, size)
    except ProtoBound as exc:
        return _fail(model, member, f"over a bound: {exc}")
    except ProtoError as exc:
        return _fail(model, member, str(exc))
    issues = _issues(model, member, model_dir_files)
    if model.ir_version is None:
        issues.insert(0, _unscannable(member, "no ir_version: not an ONNX model"))
    return FormatResult(_facts(model, reader.bytes_read), tuple(issues))


def _fail(model: _Model, member: str | None, reason: str) -> FormatResult:
    issues = [_unscannable(member, reason), *_issues(model, member, None)]
    return FormatResult(_facts(model, None), tuple(issues))


def _unscannable(member: str | None, reason: str) -> Issue:
    return Issue(
        "onnx.malformed",
        Verdict.UNSCANNABLE,
        Severity.MEDIUM,
        f"the ONNX protobuf cannot be read: {reason}",
        member=member,
    )


def _issues(model: _Model, member: str | None, files: Collection[str] | None) -> list[Issue]:
    issues: list[Issue] = []
    for (domain, op), count in sorted(model.ops.items()):
        if (domain, op) in model.functions:
            continue
        if domain in KNOWN_DOMAINS and op not in PYTHON_OPS:
            continue
        why = "calls back into Python" if op in PYTHON_OPS else f"domain {domain!r} is not a standard one"
        issues.append(
            Issue(
                "onnx.custom-op",
                Verdict.SUSPICIOUS,
                Severity.MEDIUM,
                f"operator {domain + '::' if domain else ''}{op} needs code from outside the model ({why})",
                member=member,
                detail={"domain": domain, "op_type": op, "count": count, "where": model.where[(domain, op)]},
            )
        )
        if len(issues) >= 50:
            break
    known = set(files) if files is not None else None
    for tensor, location, where in model.external[:1000]:
        reason = escapes_model_dir(location)
        detail: dict[str, JSON] = {"tensor": tensor, "location": location[:300], "where": where}
        if reason:
            issues.append(
                Issue(
                    "onnx.external-data-escape",
                    Verdict.MALICIOUS,
                    Severity.HIGH,
                    f"tensor {tensor!r} makes the loader read {location[:200]!r} ({reason}), outside the "
                    "model directory",
                    member=member,
                    detail={**detail, "reason": reason},
                )
            )
        elif known is not None and location.replace("\\", "/").removeprefix("./") not in known:
            issues.append(
                Issue(
                    "onnx.external-data-missing",
                    Verdict.UNSCANNABLE,
                    Severity.MEDIUM,
                    f"tensor {tensor!r} reads {location[:200]!r}, not a regular file beside the model",
                    member=member,
                    detail=detail,
                )
            )
    return issues


def _facts(model: _Model, bytes_read: int | None) -> dict[str, JSON]:
    facts: dict[str, JSON] = {
        "node_count": model.nodes,
        "initializer_count": model.initializers,
        "parameter_count": model.parameters,
        "opsets": dict(sorted(model.opsets.items())),
        "op_types": len(model.ops),
    }
    if model.ir_version is not None:
        facts["ir_version"] = model.ir_version
    if model.producer:
        facts["producer"] = model.producer
    if model.producer_version:
        facts["producer_version"] = model.producer_version
    if model.functions:
        facts["local_functions"] = len(model.functions)
    if model.subgraphs:
        facts["subgraphs"] = model.subgraphs
    if model.external:
        facts["external_data_files"] = sorted({loc[:300] for _, loc, _ in model.external})[:50]
    if bytes_read is not None:
        facts["bytes_read"] = bytes_read
    return facts


# --- the walk: ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, FunctionProto ----------


def _walk_model(r: ProtoReader, m: _Model, end: int) -> None:
    while r.pos < end:
        number, wire = r.tag()
        if number == 1 and wire == WIRE_VARINT:
            m.ir_version = r.varint()
        elif number in (2, 3) and wire == WIRE_LEN:
            value = r.text(end, 1024)
            if number == 2:
                m.producer = value[:200] if value is not None else None
            else:
                m.producer_version = value[:100] if value is not None else None
        elif number == 7 and wire == WIRE_LEN:
            _walk_graph(r, m, r.end_of(end), 0, "graph")
        elif number == 8 and wire == WIRE_LEN:
            domain, version = _opset(r, r.end_of(end))
            m.opsets[domain] = version
        elif number == 20 and wire == WIRE_LEN:
            _walk_training(r, m, r.end_of(end))
        elif number == 25 and wire == WIRE_LEN:
            _walk_function(r, m, r.end_of(end))
        else:
            r.skip_value(number, wire, end)
    r.check_end(end)


def _opset(r: ProtoReader, end: int) -> tuple[str, int]:
    domain, version = "", 0
    while r.pos < end:
        number, wire = r.tag()
        if number == 1 and wire == WIRE_LEN:
            domain = (r.text(end, MAX_NAME) or "")[:200]
        elif number == 2 and wire == WIRE_VARINT:
            version = r.varint()
        else:
            r.skip_value(number, wire, end)
    r.check_end(end)
    return domain, version


def _walk_training(r: ProtoReader, m: _Model, end: int) -> None:
    while r.pos < end:
        number, wire = r.tag()
        if number in (1, 2) and wire == WIRE_LEN:
            _walk_graph(r, m, r.end_of(end), 1, "training")
        else:
            r.skip_value(number, wire, end)
    r.check_end(end)


def _walk_graph(r: ProtoReader, m: _Model, end: int, depth: int, where: str) -> None:
    if depth > MAX_DEPTH:
        raise ProtoBound(f"subgraphs nested deeper than {MAX_DEPTH}")
    if depth:
        m.subgraphs += 1
    while r.pos < end:
        number, wire = r.tag()
        if number == 1 and wire == WIRE_LEN:
            _walk_node(r, m, r.end_of(end), depth, where)
        elif number == 5 and wire == WIRE_LEN:
            m.initializers += 1
            m.parameters += _walk_tensor(r, m, r.end_of(end), where)
        elif number == 15 and wire == WIRE_LEN:
            m.initializers += 1
            m.parameters += _walk_sparse(r, m, r.end_of(end), where)
        else:
            r.skip_value(number, wire, end)
    r.check_end(end)


def _walk_node(r: ProtoReader, m: _Model, end: int, depth: int, where: str) -> None:
    op, domain = "", ""
    while r.pos < end:
        number, wire = r.tag()
        if number == 4 and wire == WIRE_LEN:
            op = _name(r, end)
        elif number == 7 and wire == WIRE_LEN:
            domain = _name(r, end)
        elif number == 5 and wire == WIRE_LEN:
            _walk_attribute(r, m, r.end_of(end), depth, where)
        else:
            r.skip_value(number, wire, end)
    r.check_end(end)
    m.nodes += 1
    key = (domain, op)
    m.ops[key] = m.ops.get(key, 0) + 1
    m.where.setdefault(key, where)


def _name(r: ProtoReader, end: int) -> str:
    value = r.text(end, MAX_NAME)
    if value is None:
        raise ProtoBound(f"a name longer than {MAX_NAME} bytes")
    return value


def _walk_attribute(r: ProtoReader, m: _Model, end: int, depth: int, where: str) -> None:
    while r.pos < end:
        number, wire = r.tag()
        if number in (5, 10) and wire == WIRE_LEN:  # t, tensors
            _walk_tensor(r, m, r.end_of(end), where)
        elif number in (22, 23) and wire == WIRE_LEN:  # sparse_tensor, sparse_tensors
            _walk_sparse(r, m, r.end_of(end), where)
        elif number in (6, 11) and wire == WIRE_LEN:  # g, graphs
            _walk_graph(r, m, r.end_of(end), depth + 1, where)
        else:
            r.skip_value(number, wire, end)
    r.check_end(end)


def _walk_sparse(r: ProtoReader, m: _Model, end: int, where: str) -> int:
    elements = 0
    while r.pos < end:
        number, wire = r.tag()
        if number == 1 and wire == WIRE_LEN:
            elements += _walk_tensor(r, m, r.end_of(end), where)
        elif number == 2 and wire == WIRE_LEN:
            _walk_tensor(r, m, r.end_of(end), where)
        else:
            r.skip_value(number, wire, end)
    r.check_end(end)
    return elements


def _walk_tensor(r: ProtoReader, m: _Model, end: int, where: str) -> int:
    """Walk a TensorProto; its element count (0 when unknown). Payload fields are skipped."""
    dims: list[int] = []
    name = ""
    locations: list[str] = []
    while r.pos < end:
        number, wire = r.tag()
        if number == 1 and wire == WIRE_VARINT:
            dims.append(r.varint())
        elif number == 1 and wire == WIRE_LEN:
            stop = r.end_of(end)
            while r.pos < stop:
                dims.append(r.varint())
            r.check_end(stop)
        elif number == 8 and wire == WIRE_LEN:
            name = (r.text(end, MAX_NAME) or "")[:200]
        elif number == 13 and wire == WIRE_LEN:
            key, value = _entry(r, r.end_of(end))
            if key == "location" and len(locations) < 16:
                locations.append(value)  # loaders keep the last; every one is judged
        else:
            r.skip_value(number, wire, end)
    r.check_end(end)
    m.external.extend((name, location, where) for location in locations)
    elements = 1
    for d in dims:
        if d >= 2**63:  # a negative int64: unknown
            return 0
        elements *= d
    return elements if elements < 2**63 else 0


def _entry(r: ProtoReader, end: int) -> tuple[str, str]:
    key = value = ""
    while r.pos < end:
        number, wire = r.tag()
        if number == 1 and wire == WIRE_LEN:
            key = r.text(end, MAX_NAME) or ""
        elif number == 2 and wire == WIRE_LEN:
            text = r.text(end, MAX_NAME)
            if text is None:
                raise ProtoBound(f"an external-data value longer than {MAX_NAME} bytes")
            value = text
        else:
            r.skip_value(number, wire, end)
    r.check_end(end)
    return key, value


def _walk_function(r: ProtoReader, m: _Model, end: int) -> None:
    name = domain = ""
    while r.pos < end:
        number, wire = r.tag()
        if number == 1 and wire == WIRE_LEN:
            name = _name(r, end)
        elif number == 10 and wire == WIRE_LEN:
            domain = _name(r, end)
        elif number == 7 and wire == WIRE_LEN:
            _walk_node(r, m, r.end_of(end), 0, "function")
        elif number == 11 and wire == WIRE_LEN:
            _walk_attribute(r, m, r.end_of(end), 0, "function")
        else:
            r.skip_value(number, wire, end)
    r.check_end(end)
    m.functions.add((domain, name))
