"""Chat templates (Jinja) that reach Python object internals, and the GGUF files that carry them.

A chat template is Jinja source that a tokenizer renders with the conversation. A renderer that is
not sandboxed (llama-cpp-python before 0.2.72, CVE-2024-34359; home-grown servers) runs whatever
the template reaches: ``().__class__.__base__.__subclasses__()``, ``cycler.__init__.__globals__.os``,
``self._TemplateReference__context``... This module parses the template with Jinja's own parser
(``Environment.parse``: parse only, never compiled, never rendered) and walks the syntax tree for:

- attribute access to private or dunder names (``x.__class__``, ``x._module``), or to Python's
  frame/function internals (``gi_frame``, ``f_globals``, ``mro``);
- item access or ``|attr``/``map(attribute=...)``/``selectattr`` with such names, including names
  spelt by pieces (``'__cla' + 'ss__'``, ``'%c%c'|format(95, 95)``, ``'__ssalc__'|reverse``,
  ``~`` joins, ``str.format``), which the walker folds as constants;
- gadget roots: ``os``, ``subprocess``, ``self``, ``config``, ``request``, ``lipsum``... and
  ``namespace``/``cycler``/``joiner`` used other than by calling them;
- character harvesting from an object's string form (``(()|select|string)[24]``), format strings
  that read attributes (``'{0.__class__}'.format(x)``), keyword names such as ``dict(__class__=1)``;
- ``{% include %}``/``{% import %}``/``{% extends %}``, which read other templates from disk.

Ordinary templates (Llama, ChatML/Qwen, Mistral, Gemma, Phi, DeepSeek...) use none of these:
``namespace(...)``, ``loop.index``, ``message['content']``, ``raise_exception``, ``tojson`` stay quiet.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.parser import Parser

from aispm.analysis.artifact_report import FormatResult, Issue, Verdict
from aispm.analysis.model_headers import (
    MAX_GGUF_TEMPLATE,
    GgufOversized,
    HeaderError,
    read_gguf_header,
    read_gguf_tensor_infos,
)
from aispm.model import JSON, Severity

#: Templates longer than this are not parsed (real ones are a few KB).
MAX_TEMPLATE_CHARS = MAX_GGUF_TEMPLATE
#: Templates checked per GGUF file, by count and characters in all (real files hold one to three).
MAX_TEMPLATES = 64
MAX_TEMPLATES_TOTAL = 4 * MAX_TEMPLATE_CHARS
#: Syntax-tree nodes walked per template.
MAX_NODES = 200_000
#: Findings kept per template.
MAX_FINDINGS = 20
#: Longest string the constant folder builds.
_MAX_FOLD = 10_000

#: Names that lead from any object to Python's internals.
INTERNAL_ATTRS = frozenset(
    {
        "mro", "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code", "cr_await", "ag_frame",
        "ag_code", "f_globals", "f_locals", "f_builtins", "f_back", "f_code", "tb_frame", "tb_next",
        "co_code", "co_consts", "func_globals", "func_code", "func_closure", "func_defaults", "im_func",
        "im_self", "im_class", "format_map",
    }
)  # fmt: skip
#: Item keys that name modules or evaluators (``x['os']``, ``__builtins__['eval']``).
MODULE_KEYS = frozenset(
    {
        "os",
        "subprocess",
        "sys",
        "builtins",
        "importlib",
        "posix",
        "nt",
        "pty",
        "popen",
        "eval",
        "exec",
        "compile",
    }
)
#: Names that are gadgets whatever is done with them (never defined by a chat-template renderer).
GADGET_ROOTS = frozenset(
    {
        "os", "subprocess", "sys", "builtins", "importlib", "posix", "__builtins__", "__import__", "eval",
        "exec", "compile", "getattr", "setattr", "delattr", "globals", "locals", "vars", "open", "self",
        "config", "request", "url_for", "get_flashed_messages", "application", "session",
    }
)  # fmt: skip
#: Jinja globals that are fine to call but whose objects lead to ``__globals__`` otherwise.
CALL_ONLY_GLOBALS = frozenset({"namespace", "cycler", "joiner", "lipsum", "range", "dict"})
#: Method calls that run commands or import code.
DANGEROUS_METHODS = frozenset(
    {
        "popen", "system", "spawnl", "spawnv", "spawnve", "spawnvp", "execv", "execve", "execl", "execvp",
        "check_output", "check_call", "getoutput", "getstatusoutput", "Popen", "import_module",
        "load_module", "exec_module", "fork", "forkpty", "unlink", "rmtree", "remove",
    }
)  # fmt: skip
#: Filters whose ``attribute`` argument (or first argument) is an attribute path resolved by getattr.
_ATTRIBUTE_FILTERS = {"map": None, "selectattr": 0, "rejectattr": 0, "groupby": 0, "sort": None,
                      "sum": None, "unique": None, "min": None, "max": None}  # fmt: skip
_STR_METHODS: dict[str, Callable[[str], str]] = {
    "lower": str.lower, "upper": str.upper, "strip": str.strip, "lstrip": str.lstrip, "rstrip": str.rstrip,
    "title": str.title, "capitalize": str.capitalize, "swapcase": str.swapcase,
}  # fmt: skip
_STRINGIFY = frozenset({"string", "pprint", "list", "urlencode", "xmlattr", "e", "escape", "forceescape"})
_DUNDER = re.compile(r"__[A-Za-z][A-Za-z0-9_]*?__")
#: Dunders that only an object-internals chain names (``__init__``/``__main__`` also name files).
_STRONG_DUNDER = re.compile(
    r"__(class|base|bases|mro|subclasses|globals|builtins|import|getattribute|getattr|dict|code|closure"
    r"|func|self|reduce|reduce_ex|loader|spec|wrapped|kwdefaults|defaults)__"
)
_FORMAT_ATTR = re.compile(r"\{[^{}]*[.\[]\s*_")
_SAFE_PERCENT = re.compile(r"%[-#0 +]*(\d{0,2})(\.\d{0,2})?[a-zA-Z%]")


class _GenerationTag(Extension):
    """Parses transformers' ``{% generation %}...{% endgeneration %}`` (assistant masks) as a scope."""

    tags = {"generation"}

    def parse(self, parser: Parser) -> nodes.Node:
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return nodes.Scope(body, lineno=lineno)


_ENV: jinja2.Environment | None = None


def _environment() -> jinja2.Environment:
    global _ENV
    if _ENV is None:
        # The extensions transformers enables (loop controls, generation) plus ``do``, so that every
        # template a real renderer accepts parses here. Only ``parse`` is ever called.
        _ENV = jinja2.Environment(  # noqa: S701 - parse only, nothing is rendered
            extensions=["jinja2.ext.loopcontrols", "jinja2.ext.do", _GenerationTag]
        )
    return _ENV


def analyze_chat_template(template: str, *, member: str | None, key: str) -> list[Issue]:
    """Issues in one chat template (``key`` names where it came from, e.g. ``tokenizer.chat_template``)."""
    if len(template) > MAX_TEMPLATE_CHARS:
        return [
            Issue(
                "gguf.oversized-value",
                Verdict.UNSCANNABLE,
                Severity.MEDIUM,
                f"chat template {key} is {len(template)} characters, over the {MAX_TEMPLATE_CHARS} bound",
                member=member,
                detail={"key": key, "length": len(template)},
            )
        ]
    try:
        tree = _environment().parse(template)
    except jinja2.TemplateSyntaxError as exc:
        return [_unparseable(key, member, f"line {exc.lineno}: {str(exc.message)[:200]}")]
    except Exception as exc:  # the parser on hostile input: recursion, anything else is data too
        return [_unparseable(key, member, type(exc).__name__)]
    walker = _Walker(key, member)
    try:
        walker.run(tree)
    except _TooBig:
        return [
            Issue(
                "gguf.oversized-value",
                Verdict.UNSCANNABLE,
                Severity.MEDIUM,
                f"chat template {key} has more than {MAX_NODES} syntax nodes",
                member=member,
                detail={"key": key},
            )
        ]
    return walker.issues


def _unparseable(key: str, member: str | None, reason: str) -> Issue:
    return Issue(
        "gguf.template-unparseable",
        Verdict.UNSCANNABLE,
        Severity.MEDIUM,
        f"chat template {key} is not valid Jinja ({reason}); it cannot be shown safe",
        member=member,
        detail={"key": key, "reason": reason},
    )


class _TooBig(Exception):
    pass


def _iter_nodes(root: nodes.Node) -> Iterator[nodes.Node]:
    stack = [root]
    count = 0
    while stack:
        node = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise _TooBig
        yield node
        stack.extend(node.iter_child_nodes())


def _bad_attr(name: str) -> bool:
    return name.startswith("_") or name in INTERNAL_ATTRS


def _bad_key(value: str) -> bool:
    return bool(_DUNDER.fullmatch(value)) or value in INTERNAL_ATTRS or value in MODULE_KEYS


def _spells_gadget(value: str) -> bool:
    """A folded (built) string that is a dunder or gadget key, holds an internals dunder, or is ``__``."""
    return value == "__" or _bad_key(value) or bool(_STRONG_DUNDER.search(value))


def _replace(base: str, old: str, new: str) -> str | None:
    if len(new) > len(old) and (len(base) + 1) * len(new) > _MAX_FOLD:
        return None
    return base.replace(old, new)


def _safe_percent(fmt: str) -> bool:
    return (
        len(fmt) <= 200 and "*" not in fmt and all(len(m.group(1)) < 3 for m in _SAFE_PERCENT.finditer(fmt))
    )


def _safe_format(fmt: str) -> bool:
    if len(fmt) > 200:
        return False
    try:
        for _, field_name, spec, _ in string.Formatter().parse(fmt):
            if field_name and any(c in field_name for c in ".["):
                return False
            if spec and (re.search(r"\d{3}", spec) or "{" in spec):
                return False
    except ValueError:
        return False
    return True


class _Walker:
    """One pass to learn assignments, one to judge every node."""

    def __init__(self, key: str, member: str | None) -> None:
        self.key = key
        self.member = member
        self.issues: list[Issue] = []
        self._seen: set[tuple[str, str]] = set()
        self.assigned: set[str] = set()
        self.values: dict[str, list[nodes.Node]] = {}
        self.called: set[int] = set()
        self._evaluating: set[str] = set()
        self._memo: dict[int, Any] = {}
        self._names: dict[str, Any] = {}

    # --- findings -------------------------------------------------------------------------------------

    def flag(self, node: nodes.Node, what: str, *, include: bool = False) -> None:
        if (what, self.key) in self._seen or len(self.issues) >= MAX_FINDINGS:
            return
        self._seen.add((what, self.key))
        line = getattr(node, "lineno", None)
        if include:
            self.issues.append(
                Issue(
                    "gguf.template-include",
                    Verdict.SUSPICIOUS,
                    Severity.MEDIUM,
                    f"chat template {self.key} {what}: it reads other templates from the renderer's loader",
                    member=self.member,
                    detail={"key": self.key, "indicator": what, "line": line},
                )
            )
            return
        self.issues.append(
            Issue(
                "gguf.template-ssti",
                Verdict.MALICIOUS,
                Severity.CRITICAL,
                f"chat template {self.key} reaches Python internals ({what}); rendering it outside a "
                "sandbox runs code",
                member=self.member,
                detail={"key": self.key, "indicator": what[:200], "line": line},
            )
        )

    # --- passes ---------------------------------------------------------------------------------------

    def run(self, tree: nodes.Template) -> None:
        all_nodes = list(_iter_nodes(tree))
        for node in all_nodes:
            self._learn(node)
        for node in all_nodes:
            self._judge(node)

    def _learn(self, node: nodes.Node) -> None:
        if isinstance(node, nodes.Name) and node.ctx in ("store", "param"):
            self.assigned.add(node.name)
        elif isinstance(node, nodes.Assign) and isinstance(node.target, nodes.Name):
            self.values.setdefault(node.target.name, []).append(node.node)
        elif (
            isinstance(node, nodes.For)
            and isinstance(node.target, nodes.Name)
            and isinstance(node.iter, nodes.List | nodes.Tuple)
        ):
            self.values.setdefault(node.target.name, []).extend(node.iter.items)
        elif isinstance(node, nodes.Call):
            self.called.add(id(node.node))
        elif isinstance(node, nodes.Macro):
            self.assigned.add(node.name)

    def _judge(self, node: nodes.Node) -> None:
        if isinstance(node, nodes.Getattr):
            if _bad_attr(node.attr):
                self.flag(node, f"attribute .{node.attr}")
        elif isinstance(node, nodes.Getitem):
            self._judge_item(node)
        elif isinstance(node, nodes.Filter):
            self._judge_filter(node)
        elif isinstance(node, nodes.Call):
            self._judge_call(node)
        elif isinstance(node, nodes.Name) and node.ctx == "load" and node.name not in self.assigned:
            if node.name in GADGET_ROOTS:
                self.flag(node, f"gadget root {node.name}")
            elif node.name in CALL_ONLY_GLOBALS and id(node) not in self.called:
                self.flag(node, f"{node.name} used as an object")
        elif isinstance(node, nodes.Keyword) and _DUNDER.fullmatch(node.key):
            self.flag(node, f"keyword {node.key}")
        elif isinstance(node, nodes.Const) and isinstance(node.value, str) and _DUNDER.fullmatch(node.value):
            self.flag(node, f"string {node.value!r}")
        elif isinstance(node, nodes.Include | nodes.Import | nodes.FromImport | nodes.Extends):
            self.flag(node, f"uses {{% {type(node).__name__.lower()} %}}", include=True)
        if isinstance(node, nodes.Concat | nodes.Add | nodes.Mul | nodes.Mod | nodes.Filter | nodes.Call):
            value = self.fold(node)
            if isinstance(value, str) and _spells_gadget(value):
                self.flag(node, f"string built to spell {value[:60]!r}")

    def _judge_item(self, node: nodes.Getitem) -> None:
        arg = node.arg
        if isinstance(arg, nodes.Slice):
            base = node.node
        else:
            value = self.fold(arg)
            if isinstance(value, str) and _bad_key(value):
                self.flag(node, f"item [{value[:60]!r}]")
                return
            if value is None and isinstance(node.node, nodes.Const | nodes.Tuple | nodes.List | nodes.Dict):
                self.flag(node, "computed item of a literal")
                return
            if not isinstance(value, int):
                return
            base = node.node
        # Characters harvested from an object's printed form: (()|select|string)[24], (x|list)[1:3].
        if isinstance(base, nodes.Filter) and base.name in _STRINGIFY:
            inner = base.node
            while isinstance(inner, nodes.Filter) and inner.name in _STRINGIFY:
                inner = inner.node
            if inner is None or not isinstance(inner, nodes.Name | nodes.Getattr | nodes.Getitem):
                self.flag(node, "characters picked from an object's string form")

    def _judge_filter(self, node: nodes.Filter) -> None:
        if node.name == "attr":
            if not node.args:
                return
            value = self.fold(node.args[0])
            if isinstance(value, str):
                if _bad_attr(value):
                    self.flag(node, f"|attr({value[:60]!r})")
            else:
                self.flag(node, "|attr with a computed name")
            return
        if node.name in _ATTRIBUTE_FILTERS:
            targets = [kw.value for kw in node.kwargs if kw.key == "attribute"]
            pos = _ATTRIBUTE_FILTERS[node.name]
            if pos is not None and len(node.args) > pos:
                targets.append(node.args[pos])
            for target in targets:
                value = self.fold(target)
                if isinstance(value, str) and any(_bad_attr(part) for part in value.split(".")):
                    self.flag(node, f"|{node.name} on attribute {value[:60]!r}")

    def _judge_call(self, node: nodes.Call) -> None:
        callee = node.node
        if isinstance(callee, nodes.Getattr):
            if callee.attr in DANGEROUS_METHODS:
                self.flag(node, f"call of .{callee.attr}()")
            elif callee.attr in ("format", "format_map"):
                fmt = self.fold(callee.node)
                if isinstance(fmt, str) and _FORMAT_ATTR.search(fmt):
                    self.flag(node, f"format string {fmt[:60]!r} reads attributes")

    # --- constant folding -----------------------------------------------------------------------------

    def fold(self, node: nodes.Node | None, depth: int = 0) -> Any:
        """The constant value of ``node`` (str, int or list of them), or None when not constant.

        Results are memoised per node, strings and lists stay under :data:`_MAX_FOLD` items and the
        recursion under 30 levels, so folding costs at most linear time in the template.
        """
        if node is None or depth > 30:
            return None
        key = id(node)
        if key in self._memo:
            return self._memo[key]
        self._memo[key] = None  # a cycle through this node folds to "not constant"
        try:
            value = self._fold(node, depth + 1)
        except (TypeError, ValueError, IndexError, KeyError, OverflowError, AttributeError, RecursionError):
            value = None
        if isinstance(value, str | list) and len(value) > _MAX_FOLD:
            value = None
        if isinstance(value, list) and not all(isinstance(v, str | int) for v in value):
            value = None
        if isinstance(value, int) and abs(value) > 10**12:
            value = None
        self._memo[key] = value
        return value

    def _fold(self, node: nodes.Node, depth: int) -> Any:
        if isinstance(node, nodes.Const):
            value = node.value
            return (
                value
                if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
                else None
            )
        if isinstance(node, nodes.Name):
            return self._fold_name(node.name, depth)
        if isinstance(node, nodes.List | nodes.Tuple):
            items = [self.fold(i, depth) for i in node.items]
            return None if any(i is None for i in items) else items
        if isinstance(node, nodes.Concat):
            parts = [self.fold(n, depth) for n in node.nodes]
            if any(not isinstance(p, str | int) for p in parts):
                return None
            return "".join(str(p) for p in parts)
        if isinstance(node, nodes.Add):
            left, right = self.fold(node.left, depth), self.fold(node.right, depth)
            if type(left) is type(right) and isinstance(left, str | int | list):
                return left + right
            return None
        if isinstance(node, nodes.Mul):
            left, right = self.fold(node.left, depth), self.fold(node.right, depth)
            if isinstance(left, int) and isinstance(right, str):
                left, right = right, left
            if (
                isinstance(left, str)
                and isinstance(right, int)
                and right >= 0
                and len(left) * right <= _MAX_FOLD
            ):
                return left * right
            return None
        if isinstance(node, nodes.Mod):
            left, right = self.fold(node.left, depth), self.fold(node.right, depth)
            return self._percent(left, right)
        if isinstance(node, nodes.Getitem):
            base = self.fold(node.node, depth)
            if not isinstance(base, str | list):
                return None
            if isinstance(node.arg, nodes.Slice):
                s = node.arg
                bounds = [self.fold(p, depth) if p is not None else None for p in (s.start, s.stop, s.step)]
                if any(b is not None and not isinstance(b, int) for b in bounds):
                    return None
                return base[slice(*bounds)]
            index = self.fold(node.arg, depth)
            return base[index] if isinstance(index, int) else None
        if isinstance(node, nodes.Filter):
            return self._fold_filter(node, depth)
        if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr):
            return self._fold_method(node, node.node, depth)
        if isinstance(node, nodes.CondExpr):
            value = self.fold(node.expr1, depth)
            return value if value is not None else self.fold(node.expr2, depth)
        return None

    def _fold_name(self, name: str, depth: int) -> Any:
        if name in self._names:
            return self._names[name]
        if name in self._evaluating or name not in self.values:
            return None
        self._evaluating.add(name)
        found = None
        try:
            for candidate in self.values[name][:20]:
                value = self.fold(candidate, depth)
                if isinstance(value, str) and _spells_gadget(value):
                    found = value
                    break
                if found is None:
                    found = value
        finally:
            self._evaluating.discard(name)
        self._names[name] = found
        return found

    def _percent(self, fmt: Any, args: Any) -> Any:
        if not isinstance(fmt, str) or not _safe_percent(fmt):
            return None
        if isinstance(args, list):
            args = tuple(args)
        if args is None:
            return None
        return fmt % args

    def _fold_filter(self, node: nodes.Filter, depth: int) -> Any:
        base = self.fold(node.node, depth)
        args = [self.fold(a, depth) for a in node.args]
        name = node.name
        if name == "format":
            return self._percent(base, args)
        if base is None:
            return None
        if name == "join" and isinstance(base, list):
            sep = args[0] if args else ""
            if not isinstance(sep, str) or len(sep) * len(base) > _MAX_FOLD:
                return None
            return sep.join(str(x) for x in base)
        if name == "reverse" and isinstance(base, str | list):
            return base[::-1]
        if name in ("first", "last") and isinstance(base, str | list) and base:
            return base[0] if name == "first" else base[-1]
        if name == "list" and isinstance(base, str | list):
            return list(base)
        if name == "string" and isinstance(base, str | int):
            return str(base)
        if isinstance(base, str):
            if name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
                return _replace(base, args[0], args[1])
            simple = _STR_METHODS.get("strip" if name == "trim" else name)
            if simple is not None:
                return simple(base)
        return None

    def _fold_method(self, node: nodes.Call, callee: nodes.Getattr, depth: int) -> Any:
        base = self.fold(callee.node, depth)
        if not isinstance(base, str):
            return None
        args = [self.fold(a, depth) for a in node.args]
        if any(a is None for a in args) or node.kwargs or node.dyn_args or node.dyn_kwargs:
            return None
        method = callee.attr
        if method == "join" and len(args) == 1 and isinstance(args[0], list):
            if len(base) * len(args[0]) > _MAX_FOLD:
                return None
            return base.join(str(x) for x in args[0])
        if method == "format" and _safe_format(base) and all(isinstance(a, str | int) for a in args):
            return base.format(*args)
        if method == "replace" and len(args) == 2 and all(isinstance(a, str) for a in args):
            return _replace(base, args[0], args[1])
        simple = _STR_METHODS.get(method)
        if simple is not None and not args:
            return simple(base)
        return None


# --- GGUF ---------------------------------------------------------------------------------------------


def analyze_gguf(fh: BinaryIO, size: int, member: str | None) -> FormatResult:
    """Header, metadata and chat templates of a GGUF file; ``fh`` is positioned at its first byte.

    Reads the metadata (bounded) and the tensor infos, never tensor data.
    """
    facts: dict[str, JSON] = {}
    try:
        header = read_gguf_header(fh, size)
    except GgufOversized as exc:
        return FormatResult(facts, (_oversized(str(exc), member),))
    except HeaderError as exc:
        return FormatResult(facts, (_malformed(str(exc), member),))
    except (OSError, ValueError) as exc:
        return FormatResult(facts, (_malformed(f"unreadable: {type(exc).__name__}", member),))
    facts.update(
        {
            "gguf_version": header.version,
            "tensor_count": header.tensor_count,
            "metadata_count": header.kv_count,
        }
    )
    for k in ("general.architecture", "general.name", "general.license"):
        if k in header.metadata:
            facts[k.removeprefix("general.")] = header.metadata[k]
    keys = sorted({k for k, _ in header.templates} | {k for k, _ in header.oversized_templates})
    if keys:
        facts["chat_templates"] = keys[:20]
    issues: list[Issue] = []
    if not header.complete:
        issues.append(
            _oversized(
                "metadata is larger than the read budget; keys after it (chat templates) were not read",
                member,
            )
        )
    for key, length in header.oversized_templates:
        issues.append(
            _oversized(f"chat template {key} is {length} bytes, over the {MAX_TEMPLATE_CHARS} bound", member)
        )
    total = 0
    for n, (key, text) in enumerate(header.templates):
        total += len(text)
        if n >= MAX_TEMPLATES or total > MAX_TEMPLATES_TOTAL:
            reason = (
                f"{len(header.templates)} chat templates; those past {n} (over the bounds) were not checked"
            )
            issues.append(_oversized(reason, member))
            break
        issues.extend(analyze_chat_template(text, member=member, key=key))
    if header.duplicate_keys:
        issues.append(
            Issue(
                "gguf.duplicate-key",
                Verdict.SUSPICIOUS,
                Severity.MEDIUM,
                f"metadata repeats {len(header.duplicate_keys)} key(s): llama.cpp refuses the file, other "
                "readers keep one of the values (a parser differential)",
                member=member,
                detail={"keys": header.duplicate_keys[:10]},
            )
        )
    if header.complete:
        try:
            tensors = read_gguf_tensor_infos(fh, size, header)
        except GgufOversized as exc:
            issues.append(_oversized(str(exc), member))
        except HeaderError as exc:
            issues.append(_malformed(str(exc), member))
        except (OSError, ValueError) as exc:
            issues.append(_malformed(f"unreadable: {type(exc).__name__}", member))
        else:
            facts["tensor_types"] = dict(sorted(tensors.types.items()))
            facts["parameter_count"] = tensors.parameter_count
            if tensors.problems:
                issues.append(_malformed("; ".join(tensors.problems[:5]), member))
    return FormatResult(facts, tuple(issues))


def _oversized(reason: str, member: str | None) -> Issue:
    return Issue(
        "gguf.oversized-value",
        Verdict.UNSCANNABLE,
        Severity.MEDIUM,
        f"GGUF value over a bound: {reason} (crafted lengths like this overflowed older GGUF parsers)",
        member=member,
    )


def _malformed(reason: str, member: str | None) -> Issue:
    return Issue(
        "gguf.malformed",
        Verdict.UNSCANNABLE,
        Severity.MEDIUM,
        f"GGUF structure llama.cpp refuses: {reason}",
        member=member,
    )
