"""AI discovery in JavaScript and TypeScript source, by syntax tree (tree-sitter), never by running it.

What one file yields:

* an ``ai-sdk-usage`` asset per AI package the file imports or requires (the package catalog
  decides what counts as AI);
* :class:`ModelMention` for every string that flows into a model position: ``model:`` (and
  ``modelId``, ``deployment``...) in objects passed to SDK calls and constructors, Vercel AI SDK
  provider calls (``openai("gpt-4o")``, ``createOpenAI(...)(id)``, ``gateway("openai/gpt-4o")``),
  transformers.js ``pipeline(task, id)``, ``process.env.X ?? "default"`` indirection, and, as weak
  mentions the catalog must confirm, model-ish config values (``const MODELS = [...]``,
  ``{ id: "openai/gpt-4o" }``) and string literals shaped like a known model family;
* the same for the ``<script>`` blocks of Svelte and Vue single-file components (the markup around
  them is not read), with line numbers of the component file;
* ``mcp-server`` assets for MCP servers built with the official SDK or ``fastmcp`` (tools, prompts
  and resources listed in properties), and ``agent`` assets for agents built with
  ``@openai/agents``, Mastra, the AI SDK or LangGraph, each owning the mentions of its model.

Strings in comments and type positions (``type M = "gpt-4o"``) are never mentions: a type lists
what a library accepts, not what the code uses.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Final, Literal

import tree_sitter_javascript
import tree_sitter_typescript
from tree_sitter import Language, Node, Parser, Query, QueryCursor

from aispm.analysis.providers import provider_for_url
from aispm.assets import sdk_usage_asset
from aispm.catalog.ai_packages import lookup, npm_package_of
from aispm.collectors.base import Collector, CollectorError, ModelMention, Observation, SourceFile
from aispm.model import JSON, Asset, AssetKind, ErrorKind

#: Source files larger than this are not parsed (bundles and minified builds): a LIMIT error.
MAX_SOURCE_BYTES: Final = 2 * 1024 * 1024
#: Wall-clock budget for parsing one file; a pathological input is cut off, not waited for.
PARSE_BUDGET_S: Final = 5.0
#: How many identifier hops a value is followed through (``model: MODEL`` -> ``const MODEL = ...``).
MAX_RESOLVE_DEPTH: Final = 4


def _names(text: str) -> frozenset[str]:
    """A set of names written as one space-separated string (long vocabularies stay readable)."""
    return frozenset(text.split())


_GRAMMAR_OF_SUFFIX: Final = {
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
}
#: Single-file components: only their ``<script>`` blocks are code.
_COMPONENT_SUFFIXES: Final = frozenset({".svelte", ".vue"})

#: Where a ``<script ...>`` tag or an HTML comment opens (a commented-out block is not code).
_SCRIPT_OPEN: Final = re.compile(rb"<!--|<script\b", re.I)
#: What ends a tag's attributes, or opens a quoted value that may hold ``>`` (Svelte 5
#: ``generics="T extends Record<string, X>"``).
_TAG_STOP: Final = re.compile(rb"""["'>]""")
_SCRIPT_CLOSE: Final = re.compile(rb"</script\s*>", re.I)
_SCRIPT_ATTR: Final = re.compile(rb"""\b(lang|type)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
#: ``type=`` values that still mean script code (anything else, e.g. ``application/ld+json``, is data).
_SCRIPT_TYPES: Final = frozenset(
    {"", "text/javascript", "application/javascript", "module", "text/typescript"}
)
_TS_LANGS: Final = frozenset({"ts", "typescript"})
_TSX_LANGS: Final = frozenset({"tsx", "jsx"})
#: Maps every byte but line breaks to a space (markup is blanked, lines are kept).
_BLANK: Final = bytes(b if b in b"\r\n" else 0x20 for b in range(256))

_QUERY_COMMON: Final = """
(import_statement) @import
(export_statement source: (_)) @export
(call_expression) @call
(new_expression) @new
(pair) @pair
(variable_declarator) @decl
(assignment_expression) @assign
"""
_DEFAULTS_TS: Final = """
(public_field_definition name: (_) @field_name value: (_) @field_value) @field
(required_parameter pattern: (identifier) value: (_)) @param
(optional_parameter pattern: (identifier) value: (_)) @param
(object_assignment_pattern) @param
"""
#: Class fields and defaults (``model = "gpt-4o"`` as a parameter or a destructured option).
_QUERY_DEFAULTS: Final = {
    "javascript": """
(field_definition property: (_) @field_name value: (_) @field_value) @field
(assignment_pattern left: (identifier)) @param
(object_assignment_pattern) @param
""",
    "typescript": _DEFAULTS_TS,
    "tsx": _DEFAULTS_TS,
}

#: Syntax that only describes types: strings below it are never values.
_TYPE_NODES: Final = _names(
    "type_annotation type_alias_declaration interface_declaration type_arguments "
    "type_parameters literal_type union_type intersection_type object_type ambient_declaration "
    "abstract_method_signature method_signature property_signature index_signature "
    "function_signature asserts_annotation type_predicate_annotation opting_type_annotation "
    "omitting_type_annotation"
)
_STATEMENT_END: Final = frozenset({"program", "statement_block", "class_body", "expression_statement"})
_WRAPPERS: Final = _names(
    "parenthesized_expression as_expression satisfies_expression non_null_expression "
    "type_assertion await_expression"
)

#: Keys that hold a model id when the object goes into an AI SDK call.
_STRONG_KEYS: Final = _names(
    "model modelName model_name modelId model_id modelID deployment deploymentName "
    "deployment_name deploymentId azureDeployment azureOpenAIApiDeploymentName engine "
    "embeddingModel llm"
)
#: Keys of entries in a model list that hold the id (``{ id: "gpt-4o", label: "GPT-4o" }``).
_ID_KEYS: Final = _names("id model modelId model_id value slug name")
#: Keys in model config objects whose values are never model ids.
_NOT_MODEL_KEYS: Final = _names(
    "provider type baseURL baseUrl base_url url endpoint apiKey api_key apiVersion api_version "
    "label title description icon logo color version region role owner owned_by object family "
    "format group category"
)
#: Words before "model" that name a data or 3-D model, not an AI one.
_NOT_AI_MODEL_WORDS: Final = _names("view data db database orm mongoose sequelize schema domain mesh 3d gltf")
_ENV_OBJECTS: Final = frozenset({"process.env", "import.meta.env", "Bun.env", "env"})
_PROVIDER_FN_PACKAGES_EXTRA: Final = frozenset(
    {"@openrouter/ai-sdk-provider", "ollama-ai-provider", "ollama-ai-provider-v2"}
)
#: Methods of a Vercel AI SDK provider that take a model id first (``openai.chat("gpt-4o")``).
_PROVIDER_METHODS: Final = _names(
    "chat completion responses languageModel chatModel textEmbedding textEmbeddingModel "
    "embedding embeddingModel image imageModel transcription speech reranking"
)
_TRANSFORMERS_PACKAGES: Final = frozenset({"@huggingface/transformers", "@xenova/transformers"})
_MCP_SERVER_CLASSES: Final = frozenset(
    {
        ("@modelcontextprotocol/sdk", "McpServer"),
        ("@modelcontextprotocol/sdk", "Server"),
        ("fastmcp", "FastMCP"),
    }
)
_MCP_TRANSPORTS: Final = {
    "StdioServerTransport": "stdio",
    "SSEServerTransport": "sse",
    "StreamableHTTPServerTransport": "streamable-http",
}
_MCP_METHODS: Final = {
    "tool": "tools",
    "registerTool": "tools",
    "addTool": "tools",
    "prompt": "prompts",
    "registerPrompt": "prompts",
    "addPrompt": "prompts",
    "resource": "resources",
    "registerResource": "resources",
    "addResource": "resources",
    "addResourceTemplate": "resources",
}
_AGENT_CLASSES: Final = frozenset({"Agent", "RealtimeAgent", "Experimental_Agent", "ToolLoopAgent"})
_AGENT_FACTORIES: Final = frozenset({"createReactAgent", "createAgent"})


# Model families whose ids are distinctive enough to pick out of a bare string literal. A match is
# only a weak mention: the model catalog still has to know the id.
_FAMILY: Final = re.compile(
    r"""^(?:
      gpt-[0-9][\w.:-]*|gpt-oss-[\w.:-]+|chatgpt-[\w.-]+|o[1345](?:-[a-z0-9][\w.-]*)?|
      text-embedding-[\w.-]+|text-(?:davinci|curie|babbage|ada)-[\w.-]+|dall-e-[23]|gpt-image-[\w.-]+|
      whisper-1|tts-1(?:-hd)?(?:-[\w.-]+)?|omni-moderation-[\w.-]+|
      claude-(?:[0-9]|instant|sonnet|opus|haiku|v[0-9])[\w.@:-]*|(?:[a-z]{2,4}\.)?anthropic\.claude-[\w.:-]+|
      gemini-[\w.-]+|gemma[0-9]?(?:[-:][\w.:-]+)?|(?:text|chat)-bison[\w.@-]*|
      (?:meta-)?llama-?[0-9][\w.:-]*|(?:code|tiny)llama[\w.:-]*|(?:[a-z]{2,4}\.)?meta\.llama[\w.:-]+|
      mistral(?:-[\w.:-]+)?|mixtral(?:-[\w.:-]+)?|codestral[\w.:-]*|(?:mini|pix|mag)stral-[\w.-]+|
      open-mistral-[\w.-]+|
      command-(?:r|light|a|nightly|xlarge)(?:[-.][\w.-]+)?|embed-(?:english|multilingual)-[\w.-]+|(?:[a-z]{2,4}\.)?cohere\.[\w.:-]+|
      deepseek-[\w.:-]+|grok-[\w.-]+|qwen[0-9.]*(?:[-:][\w.:-]+)?|qwq-[\w.:-]+|phi-?[0-9][\w.:-]*|
      sonar-[\w.-]+|jamba-[\w.-]+|(?:amazon\.)?titan-[\w.:-]+|(?:[a-z]{2,4}\.)?amazon\.nova-[\w.:-]+|
      kimi-[\w.-]+|moonshot-v[\w.-]+|glm-[0-9][\w.-]*|
      all-minilm[\w.:-]*|nomic-embed-[\w.:-]+|mxbai-embed-[\w.:-]+|bge-[\w.:-]+|e5-[\w.-]+
    )$""",
    re.X,
)
_JUNK: Final = re.compile(r"\s|://|^[./$~#@\\-]|[{}%<>\"'`|,;()\[\]*=]|^[0-9.:_-]+$")
_CAPITALISED_WORD: Final = re.compile(r"[A-Z][a-z]+|[A-Z][A-Z0-9_]+")
_STRING_LITERAL: Final = re.compile(rb"""(["'`])([A-Za-z0-9][A-Za-z0-9._:/@+-]{1,150})\1""")
_ENV_ACCESS: Final = re.compile(
    rb"""(?:process\.env|import\.meta\.env|Bun\.env)\s*(?:\.\s*([A-Za-z_]\w*)|\[\s*["']([A-Za-z_]\w*)["']\s*\])"""
    rb"""|Deno\.env\.get\(\s*["']([A-Za-z_]\w*)["']\s*\)"""
)
_WORD_SPLIT: Final = re.compile(r"[A-Z]+(?=[A-Z][a-z]|[0-9]|\b|_)|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


@cache
def _language(grammar: str) -> Language:
    if grammar == "javascript":
        return Language(tree_sitter_javascript.language())
    if grammar == "tsx":
        return Language(tree_sitter_typescript.language_tsx())
    return Language(tree_sitter_typescript.language_typescript())


@cache
def _query(grammar: str) -> Query:
    return Query(_language(grammar), _QUERY_COMMON + _QUERY_DEFAULTS[grammar])


#: Words whose absence (case-insensitively) means a file holds no model id, agent or MCP server.
_GATE_WORDS: Final = (b"model", b"deployment", b"mcp", b"agent", b"llm", b"gpt-", b"claude", b"gemini",
                      b"llama", b"mistral", b"mixtral", b"qwen", b"deepseek", b"grok-")  # fmt: skip
_IMPORT_SOURCE: Final = re.compile(
    rb"""(?:\bfrom|\brequire\s*\(|\bimport\s*\(?)\s*["'`]([^"'`\n]{1,214})["'`]"""
)


def _worth_parsing(data: bytes) -> bool:
    """A cheap test on raw bytes: could this file hold anything we look for? If not, skip parsing."""
    low = data.lower()
    if any(w in low for w in _GATE_WORDS):
        return True
    for m in _IMPORT_SOURCE.finditer(data):
        pkg = npm_package_of(m.group(1).decode("utf-8", errors="replace"))
        if pkg is not None and lookup("npm", pkg) is not None:
            return True
    return False


class JavaScriptCollector(Collector):
    """AI SDK usage, model ids, MCP servers and agents in JavaScript and TypeScript files."""

    name = "javascript"
    version = "2"

    def wants(self, file: SourceFile) -> bool:
        return file.suffix in _GRAMMAR_OF_SUFFIX or file.suffix in _COMPONENT_SUFFIXES

    def collect(self, file: SourceFile) -> Iterable[Observation]:
        data = file.read_bytes(MAX_SOURCE_BYTES)
        if b"\x00" in data[:8192]:
            raise CollectorError("binary content where JavaScript source was expected", ErrorKind.PARSE)
        if file.suffix in _COMPONENT_SUFFIXES:
            data, grammar = component_scripts(data)
        else:
            grammar = _GRAMMAR_OF_SUFFIX[file.suffix]
        if not _worth_parsing(data):
            return
        analysis = _FileAnalysis(file, data, grammar)
        yield from analysis.run()
        if analysis.syntax_error_line is not None:
            raise CollectorError(
                f"syntax error near line {analysis.syntax_error_line}; results for this file may be partial",
                ErrorKind.PARSE,
            )


def component_scripts(data: bytes) -> tuple[bytes, str]:
    """The ``<script>`` code of a Svelte or Vue component, in place, and the grammar to parse it with.

    Every byte outside the script blocks (markup, styles, the ``<script>`` tags themselves) becomes a
    space, newlines excepted, so byte offsets and line numbers of the result are those of the
    component file. A component's blocks (``<script context="module">`` and ``<script>``, or
    ``<script>`` and ``<script setup>``) share one module scope, so they are parsed as one program.
    If any block is TypeScript, all are parsed as TypeScript: JavaScript is (nearly) a subset of it.
    """
    out = bytearray(data.translate(_BLANK))
    grammar = "javascript"
    pos = 0
    # One forward pass (every search starts where the last one ended), so hostile input costs
    # linear time; anything unclosed ends the pass, as nothing after it can be told apart.
    while (m := _SCRIPT_OPEN.search(data, pos)) is not None:
        if m.group(0) == b"<!--":
            close = data.find(b"-->", m.end())
            if close < 0:
                break
            pos = close + 3
            continue
        tag_end = _tag_end(data, m.end())
        closing = _SCRIPT_CLOSE.search(data, tag_end) if tag_end is not None else None
        if tag_end is None or closing is None:
            break
        start, end = tag_end, closing.start()
        pos = closing.end()
        attrs = {
            a.group(1).decode("ascii").lower(): (a.group(2) or a.group(3) or a.group(4) or b"")
            .decode("utf-8", "replace")
            .strip()
            .lower()
            for a in _SCRIPT_ATTR.finditer(data[m.end() : tag_end - 1])
        }
        if attrs.get("type", "") not in _SCRIPT_TYPES:
            continue
        lang = attrs.get("lang", "")
        if lang in _TSX_LANGS:
            grammar = "tsx"
        elif lang in _TS_LANGS and grammar == "javascript":
            grammar = "typescript"
        out[start:end] = data[start:end]
        # Ends each block with a statement break, so two blocks do not run together as one statement.
        if end < len(out) and out[end] == ord(" "):
            out[end] = ord(";")
    return bytes(out), grammar


def _tag_end(data: bytes, pos: int) -> int | None:
    """The offset just past the ``>`` that closes a tag whose attributes start at ``pos``."""
    while (m := _TAG_STOP.search(data, pos)) is not None:
        if m.group(0) == b">":
            return m.end()
        close = data.find(m.group(0), m.end())
        if close < 0:
            return None
        pos = close + 1
    return None


# --------------------------------------------------------------------------------------------------
# Values: what a node evaluates to, statically


@dataclass(frozen=True, slots=True)
class _Val:
    """A value an expression can take: a literal, an env var (with the code's default), or both."""

    node: Node
    value: str | None
    env_var: str | None = None


@dataclass(frozen=True, slots=True)
class _Binding:
    """What a local name stands for: an import from an AI package, or something built from one."""

    package: str
    imported: str
    specifier: str
    provider: str | None
    kind: Literal["import", "client", "provider-fn", "factory"]


@dataclass(slots=True)
class _McpServer:
    name: str
    line: int
    package: str
    low_level: bool
    items: dict[str, list[str]] = field(default_factory=lambda: {"tools": [], "prompts": [], "resources": []})


def _line(node: Node) -> int:
    return node.start_point.row + 1


def _span(node: Node) -> tuple[int, int, str]:
    return (node.start_byte, node.end_byte, node.type)


def _unwrap(node: Node | None) -> Node | None:
    """The expression inside parentheses, ``as``/``satisfies`` casts, ``!`` and ``await``."""
    depth = 0
    while node is not None and node.type in _WRAPPERS and depth < 16:
        inner = [
            c
            for c in node.named_children
            if c.type not in ("type_annotation",) and not c.type.endswith("_type")
        ]
        node = inner[0] if inner else None
        depth += 1
    return node


def _words(name: str) -> list[str]:
    return [w.lower() for w in _WORD_SPLIT.findall(name)]


def _is_model_name(name: str) -> bool:
    """Whether an identifier, key or env-var name says it holds a model id.

    ``model``, ``chatModel``, ``OPENAI_MODEL``, ``modelId``, ``MODEL_NAME``, ``deploymentName``,
    ``llm`` do; ``modelPath``, ``modelType``, ``modelProvider``, ``dataModel``, ``viewModel`` do not.
    """
    if name in _STRONG_KEYS:
        return True
    w = _words(name)
    if not w:
        return False
    if w[-1] in ("model", "models"):
        return not (len(w) > 1 and w[-2] in _NOT_AI_MODEL_WORDS)
    if (
        len(w) >= 2
        and w[-2] in ("model", "models")
        and w[-1] in ("id", "ids", "name", "names", "list", "slug")
    ):
        return True
    return w[-1] == "deployment" or w[-2:] == ["deployment", "name"]


def _is_model_container(name: str) -> bool:
    """Whether a name holds a collection of models (``MODELS``, ``chatModels``, ``modelOptions``)."""
    w = _words(name)
    if "models" in w:
        return True
    if "model" not in w:
        return False
    tail = w[w.index("model") + 1 :]
    return bool(tail) and tail[-1] in (
        "list",
        "options",
        "map",
        "registry",
        "catalog",
        "choices",
        "ids",
        "names",
    )


def _plausible(value: str) -> bool:
    """Cheap shape test that keeps obvious junk (paths, URLs, format strings, ``"User"``) out."""
    if not (2 <= len(value) <= 200) or _JUNK.search(value):
        return False
    return not _CAPITALISED_WORD.fullmatch(value)


def _family(value: str) -> bool:
    """Whether ``value`` has the shape of a known model family, bare or ``org/``-prefixed."""
    if _FAMILY.match(value):
        return True
    org, sep, rest = value.partition("/")
    return bool(sep) and bool(org) and "/" not in rest and bool(_FAMILY.match(rest.lower()))


def _loose_ok(value: str) -> bool:
    """A string in a model-ish spot but not inside an SDK call: it must look like an id at least."""
    if not _plausible(value):
        return False
    if _family(value):
        return True
    return any(c.isdigit() or c in "-./:" for c in value) and any(c.isalpha() for c in value)


_PROVIDER_HINTS: Final = (
    (("gpt-", "o1", "o3", "o4", "chatgpt-", "text-embedding-", "dall-e", "whisper-", "tts-"), "openai"),
    (("claude-",), "anthropic"),
    (("gemini-", "gemma"), "google"),
    (("mistral", "mixtral", "codestral", "ministral", "pixtral", "magistral"), "mistral"),
    (("command-", "embed-"), "cohere"),
    (("deepseek-",), "deepseek"),
    (("grok-",), "xai"),
)


def _provider_hint(value: str) -> str | None:
    """Whose model a family name suggests: used only to pick the owning SDK, never as the provider."""
    v = value.rsplit("/", 1)[-1].lower()
    return next((p for prefixes, p in _PROVIDER_HINTS if v.startswith(prefixes)), None)


def _in_type_position(node: Node) -> bool:
    cur = node.parent
    while cur is not None and cur.type not in _STATEMENT_END:
        if cur.type in _TYPE_NODES:
            return True
        cur = cur.parent
    return False


# --------------------------------------------------------------------------------------------------
# One file


class _FileAnalysis:
    """Everything learned from one file's syntax tree, and the observations it makes."""

    def __init__(self, file: SourceFile, data: bytes, grammar: str) -> None:
        self.file = file
        self.data = data
        self.grammar = grammar
        self.language = "javascript" if grammar == "javascript" else "typescript"
        self.syntax_error_line: int | None = None
        self.imports: dict[str, _Binding] = {}
        self.clients: dict[str, _Binding] = {}
        self.usages: dict[str, Asset] = {}
        self.usage_specifiers: dict[str, set[str]] = defaultdict(set)
        self.decls: dict[str, list[Node]] = defaultdict(list)
        self.consumed: set[tuple[int, int, str]] = set()
        self.mentions: list[ModelMention] = []
        self.mcp: dict[str, _McpServer] = {}
        self.mcp_transports: set[str] = set()
        self.agents: list[Asset] = []
        self.agent_ids: set[str] = set()
        self.binding_cache: dict[tuple[tuple[int, int, str], int], tuple[_Binding, list[str]] | None] = {}

    # ---- text

    def _text(self, node: Node | None) -> str:
        # Sliced from the bytes: a tree parsed through a read callback has no cheap ``Node.text``.
        if node is None:
            return ""
        return self.data[node.start_byte : node.end_byte].decode("utf-8", errors="replace")

    def _string_value(self, node: Node) -> str | None:
        """A string literal's value, or None for anything that is not a plain literal.

        Template strings with substitutions are format strings, and literals with escapes are not
        the shape of any model id, so neither is returned.
        """
        if node.type == "string":
            raw = self._text(node)[1:-1]
        elif node.type == "template_string":
            if any(c.type == "template_substitution" for c in node.named_children):
                return None
            raw = self._text(node)[1:-1]
        else:
            return None
        if "\\" in raw or "\n" in raw:
            return None
        return raw

    def _key_name(self, pair: Node) -> str | None:
        key = pair.child_by_field_name("key")
        if key is None:
            return None
        if key.type in ("property_identifier", "identifier", "private_property_identifier"):
            return self._text(key).lstrip("#")
        if key.type == "string":
            return self._string_value(key)
        return None

    def _is_import_source(self, node: Node) -> bool:
        parent = node.parent
        if parent is None:
            return False
        if parent.type in ("import_statement", "export_statement", "import_require_clause"):
            return True
        if (
            parent.type == "arguments"
            and parent.parent is not None
            and parent.parent.type == "call_expression"
        ):
            fn = parent.parent.child_by_field_name("function")
            return fn is not None and (fn.type == "import" or self._text(fn) == "require")
        return False

    # ---- driver

    def run(self) -> Iterator[Observation]:
        root = self._parse()
        caps = QueryCursor(_query(self.grammar)).captures(root)

        def nodes(name: str) -> list[Node]:
            return sorted(caps.get(name, []), key=lambda n: n.start_byte)

        calls, news = nodes("call"), nodes("new")
        for n in nodes("import") + nodes("export"):
            self._import_statement(n)
        for n in calls:
            self._require_or_dynamic_import(n)
        for d in nodes("decl"):
            name = d.child_by_field_name("name")
            if name is not None and name.type == "identifier":
                self.decls[self._text(name)].append(d)
        self._bind_clients(nodes("decl"), nodes("assign"), caps.get("field", []))

        constructions = sorted(calls + news, key=lambda n: n.start_byte)
        for n in constructions:
            self._agent(n)
        for n in constructions:
            self._mcp_call(n)
        for n in constructions:
            self._sdk_call(n)
        self._loose_pairs(nodes("pair"))
        self._loose_declarations(nodes("decl"), nodes("assign"), caps.get("field", []), nodes("param"))
        self._loose_env(root)
        self._loose_literals(root)

        for pkg in sorted(self.usages):
            usage = self.usages[pkg]
            yield replace(
                usage, properties={**usage.properties, "imports": sorted(self.usage_specifiers[pkg])}
            )
        yield from self._mcp_assets(nodes("pair"))
        yield from self.agents
        yield from self._deduplicated_mentions()

    def _parse(self) -> Node:
        parser = Parser(_language(self.grammar))
        deadline = time.monotonic() + PARSE_BUDGET_S
        data = self.data

        def read(offset: int, _point: object) -> bytes:
            return data[offset : offset + 65536]

        try:
            tree = parser.parse(read, progress_callback=lambda _o, _e: time.monotonic() > deadline)
        except ValueError as exc:
            raise CollectorError(f"parsing took longer than {PARSE_BUDGET_S:g}s", ErrorKind.LIMIT) from exc
        root = tree.root_node
        if root.has_error:
            self.syntax_error_line = _first_error_line(root)
        return root

    # ---- imports and bindings

    def _use(self, specifier: str, node: Node) -> str | None:
        """Record that the file uses ``specifier``; the package name if it is an AI package."""
        pkg = npm_package_of(specifier)
        info = lookup("npm", pkg) if pkg else None
        if pkg is None or info is None:
            return None
        self.usage_specifiers[pkg].add(specifier)
        if pkg not in self.usages:
            props: dict[str, JSON] = {
                "ecosystem": "npm",
                "category": info.category,
                "language": self.language,
            }
            if info.provider:
                props["provider"] = info.provider
            self.usages[pkg] = sdk_usage_asset(
                pkg, self.file.path, self.file.loc(_line(node)), self.file.scope, **props
            )
        return pkg

    def _bind_import(self, local: str, pkg: str, imported: str, specifier: str) -> None:
        info = lookup("npm", pkg)
        provider = info.provider if info else None
        kind: Literal["import", "provider-fn", "factory"] = "import"
        provider_fn_pkg = pkg.startswith("@ai-sdk/") or pkg in _PROVIDER_FN_PACKAGES_EXTRA
        if provider_fn_pkg and imported not in ("default", "*") and imported[:1].islower():
            if imported.startswith("create"):
                kind = "factory"
            elif not imported.startswith("use"):
                kind = "provider-fn"
        elif pkg == "ai" and imported == "gateway":
            kind, provider = "provider-fn", "vercel-ai-gateway"
        if imported.startswith("Azure"):
            provider = "azure-openai"
        self.imports[local] = _Binding(pkg, imported, specifier, provider, kind)

    def _import_statement(self, node: Node) -> None:
        if any(c.type == "type" and not c.is_named for c in node.children):
            return  # ``import type``: the file names the SDK's types, it does not call it
        source = node.child_by_field_name("source")
        clause: Node | None = None
        for c in node.named_children:
            if c.type == "import_require_clause":
                source = next((s for s in c.named_children if s.type == "string"), None)
                ident = next((s for s in c.named_children if s.type == "identifier"), None)
                spec = self._string_value(source) if source is not None else None
                if spec and (pkg := self._use(spec, node)) and ident is not None:
                    self._bind_import(self._text(ident), pkg, "*", spec)
                return
            if c.type == "import_clause":
                clause = c
        spec = self._string_value(source) if source is not None else None
        if not spec or not (pkg := self._use(spec, node)) or clause is None:
            return
        for c in clause.named_children:
            if c.type == "identifier":
                self._bind_import(self._text(c), pkg, "default", spec)
            elif c.type == "namespace_import":
                ident = next((s for s in c.named_children if s.type == "identifier"), None)
                if ident is not None:
                    self._bind_import(self._text(ident), pkg, "*", spec)
            elif c.type == "named_imports":
                for s in c.named_children:
                    if s.type != "import_specifier" or any(t.type == "type" for t in s.children):
                        continue
                    name, alias = s.child_by_field_name("name"), s.child_by_field_name("alias")
                    self._bind_import(self._text(alias or name), pkg, self._text(name), spec)

    def _require_or_dynamic_import(self, call: Node) -> None:
        fn = call.child_by_field_name("function")
        if fn is None or not (
            fn.type == "import" or (fn.type == "identifier" and self._text(fn) == "require")
        ):
            return
        args = call.child_by_field_name("arguments")
        first = args.named_children[0] if args is not None and args.named_children else None
        spec = self._string_value(first) if first is not None else None
        if not spec or not (pkg := self._use(spec, call)):
            return
        parent = call.parent
        while parent is not None and parent.type in _WRAPPERS:
            parent = parent.parent
        if parent is None or parent.type != "variable_declarator":
            return
        target = parent.child_by_field_name("name")
        if target is None:
            return
        if target.type == "identifier":
            self._bind_import(self._text(target), pkg, "*", spec)
        elif target.type == "object_pattern":
            for p in target.named_children:
                if p.type == "shorthand_property_identifier_pattern":
                    self._bind_import(self._text(p), pkg, self._text(p), spec)
                elif p.type == "pair_pattern":
                    key, value = p.child_by_field_name("key"), p.child_by_field_name("value")
                    if value is not None and value.type == "identifier":
                        self._bind_import(self._text(value), pkg, self._text(key), spec)

    def _chain(self, node: Node) -> list[str] | None:
        """``this.client.chat.create`` as ``["this", "client", "chat", "create"]``; None if computed."""
        parts: list[str] = []
        cur: Node | None = node
        for _ in range(32):
            cur = _unwrap(cur)
            if cur is None:
                return None
            if cur.type in ("identifier", "this"):
                parts.append(self._text(cur))
                return parts[::-1]
            if cur.type != "member_expression":
                return None
            prop = cur.child_by_field_name("property")
            parts.append(self._text(prop))
            cur = cur.child_by_field_name("object")
        return None

    def _binding_of(self, fn: Node | None, depth: int = 0) -> tuple[_Binding, list[str]] | None:
        """What a callee is bound to, and the member path after the bound part (memoised per node)."""
        if fn is None:
            return None
        key = (_span(fn), len(self.clients))
        if key not in self.binding_cache:
            self.binding_cache[key] = self._find_binding(fn, depth)
        return self.binding_cache[key]

    def _find_binding(self, fn: Node | None, depth: int) -> tuple[_Binding, list[str]] | None:
        fn = _unwrap(fn)
        if fn is None or depth > MAX_RESOLVE_DEPTH:
            return None
        if fn.type == "call_expression":
            inner = self._binding_of(fn.child_by_field_name("function"), depth + 1)
            if inner is not None and inner[0].kind == "factory" and not inner[1]:
                return self._made_by(inner[0], fn), []
            return None
        chain = self._chain(fn)
        if not chain:
            return None
        for i in range(len(chain), 0, -1):
            key = ".".join(chain[:i])
            if key in self.clients:
                return self.clients[key], chain[i:]
        if chain[0] in self.imports:
            return self.imports[chain[0]], chain[1:]
        return None

    def _made_by(self, b: _Binding, call: Node) -> _Binding:
        """What calling or constructing ``b`` gives: a client, or a provider function from a factory."""
        provider = b.provider
        for obj in self._object_args(call):
            for key, value in self._pairs(obj):
                if key in ("baseURL", "baseUrl", "base_url", "endpoint", "host"):
                    for v in self._values(value):
                        if v.value and (p := provider_for_url(v.value)):
                            provider = p
        kind: Literal["client", "provider-fn"] = "provider-fn" if b.kind == "factory" else "client"
        return _Binding(b.package, b.imported, b.specifier, provider, kind)

    def _bind_clients(self, decls: list[Node], assigns: list[Node], fields: list[Node]) -> None:
        targets: list[tuple[str, Node | None]] = []
        for d in decls:
            name = d.child_by_field_name("name")
            if name is not None and name.type == "identifier":
                targets.append((self._text(name), d.child_by_field_name("value")))
        for a in assigns:
            left = a.child_by_field_name("left")
            chain = self._chain(left) if left is not None else None
            if chain:
                targets.append((".".join(chain), a.child_by_field_name("right")))
        for f in fields:
            name = f.child_by_field_name("property") or f.child_by_field_name("name")
            targets.append((f"this.{self._text(name)}", f.child_by_field_name("value")))
        for key, value in sorted(targets, key=lambda t: t[1].start_byte if t[1] is not None else 0):
            v = _unwrap(value)
            if v is None or v.type not in ("new_expression", "call_expression"):
                continue
            callee = v.child_by_field_name("constructor" if v.type == "new_expression" else "function")
            bound = self._binding_of(callee)
            if bound is None:
                continue
            b, rest = bound
            if v.type == "new_expression" and self._mcp_class(b) and not rest:
                self._new_mcp_server(key, b, v)
                continue
            if b.kind in ("import", "factory") and not rest:
                self.clients[key] = self._made_by(b, v)
            else:
                # A method of a client or module (``genAI.getGenerativeModel()``) or a model made by a
                # provider function: either way, calls on the result go to the same SDK.
                self.clients[key] = replace(b, kind="client")

    # ---- values

    def _object_args(self, call: Node) -> list[Node]:
        args = call.child_by_field_name("arguments")
        out: list[Node] = []
        for a in args.named_children if args is not None else []:
            obj = self._resolve_object(a)
            if obj is not None:
                out.append(obj)
        return out

    def _resolve_object(self, node: Node | None, depth: int = 0) -> Node | None:
        node = _unwrap(node)
        if node is None or depth > MAX_RESOLVE_DEPTH:
            return None
        if node.type == "object":
            return node
        if node.type == "identifier":
            decl = self._declaration_of(node)
            return self._resolve_object(decl.child_by_field_name("value"), depth + 1) if decl else None
        return None

    def _pairs(self, obj: Node) -> Iterator[tuple[str, Node]]:
        """``(key, value node)`` for every plain property of an object literal, shorthand included."""
        for c in obj.named_children:
            if c.type == "pair":
                key, value = self._key_name(c), c.child_by_field_name("value")
                if key is not None and value is not None:
                    yield key, value
            elif c.type == "shorthand_property_identifier":
                yield self._text(c), c

    def _declaration_of(self, ident: Node) -> Node | None:
        """The declarator an identifier refers to: the innermost declaration in scope, else a unique one.

        Declarations at file level count wherever they are written (functions run later); inner
        ones only when they come before the use.
        """
        candidates = self.decls.get(self._text(ident), [])
        best: tuple[int, int] | None = None
        chosen: Node | None = None
        for d in candidates:
            scope = d.parent.parent if d.parent is not None else None
            if scope is not None and scope.type == "export_statement":
                scope = scope.parent
            if scope is None or not (scope.start_byte <= ident.start_byte < scope.end_byte):
                continue
            if scope.type != "program" and d.start_byte > ident.start_byte:
                continue
            rank = (scope.start_byte, d.start_byte if d.start_byte <= ident.start_byte else -1)
            if best is None or rank > best:
                best, chosen = rank, d
        if chosen is None and len(candidates) == 1:
            chosen = candidates[0]
        return chosen

    def _env_var(self, node: Node) -> str | None:
        """``X`` for ``process.env.X``, ``process.env["X"]``, ``import.meta.env.X``, ``Deno.env.get("X")``."""
        if node.type == "member_expression":
            obj, prop = node.child_by_field_name("object"), node.child_by_field_name("property")
            if obj is not None and prop is not None and self._text(obj).replace(" ", "") in _ENV_OBJECTS:
                name = self._text(prop)
                if self._text(obj) != "env" or name.isupper():
                    return name
        elif node.type == "subscript_expression":
            obj, index = node.child_by_field_name("object"), node.child_by_field_name("index")
            if obj is not None and index is not None and self._text(obj).replace(" ", "") in _ENV_OBJECTS:
                return self._string_value(index)
        elif node.type == "call_expression":
            fn = node.child_by_field_name("function")
            if self._text(fn).replace(" ", "") == "Deno.env.get":
                args = node.child_by_field_name("arguments")
                if args is not None and args.named_children:
                    return self._string_value(args.named_children[0])
        return None

    def _values(self, node: Node | None, depth: int = 0) -> list[_Val]:
        """The values an expression can take, statically: literals, env vars with defaults, both branches."""
        node = _unwrap(node)
        if node is None or depth > MAX_RESOLVE_DEPTH:
            return []
        s = self._string_value(node)
        if s is not None:
            return [_Val(node, s)]
        env = self._env_var(node)
        if env is not None:
            return [_Val(node, None, env)]
        t = node.type
        if t in ("identifier", "shorthand_property_identifier"):
            decl = self._declaration_of(node)
            value = decl.child_by_field_name("value") if decl is not None else None
            return self._values(value, depth + 1) if value is not None and value is not node else []
        if t == "binary_expression":
            op = node.child_by_field_name("operator")
            if self._text(op) not in ("??", "||"):
                return []
            left = self._values(node.child_by_field_name("left"), depth + 1)
            right = self._values(node.child_by_field_name("right"), depth + 1)
            defaults = [r for r in right if r.value is not None and r.env_var is None]
            out: list[_Val] = []
            for lv in left:
                if lv.env_var is not None and lv.value is None and defaults:
                    out.extend(_Val(d.node, d.value, lv.env_var) for d in defaults)
                else:
                    out.append(lv)
            if not any(lv.env_var for lv in left):
                out.extend(right)
            return out
        if t == "ternary_expression":
            return self._values(node.child_by_field_name("consequence"), depth + 1) + self._values(
                node.child_by_field_name("alternative"), depth + 1
            )
        return []

    # ---- mentions

    def _mention(
        self,
        v: _Val,
        via: str,
        *,
        provider: str | None,
        strong: bool,
        owner: str | None,
        revision: str | None = None,
        loose: bool = False,
    ) -> None:
        """Record a mention of ``v`` unless its node was already claimed or its value is junk.

        A ``loose`` mention (a model-ish name or shape, not an SDK position) belongs to the usage
        of the provider its value suggests, or the file's main AI SDK.
        """
        span = _span(v.node)
        if span in self.consumed:
            return
        if v.value is not None and not (_plausible(v.value) if strong else _loose_ok(v.value)):
            return
        if v.value is None and v.env_var is None:
            return
        self.consumed.add(span)
        if loose:
            owner = self._owner_for(provider or _provider_hint(v.value or ""))
        self.mentions.append(
            ModelMention(
                location=self.file.loc(_line(v.node)),
                via=via,
                value=v.value,
                env_var=v.env_var,
                provider=provider,
                strong=strong,
                owner=owner,
                revision=revision,
            )
        )

    def _owner_for(self, provider: str | None) -> str | None:
        """The usage a loose mention belongs to: the SDK of its provider, else the file's main AI SDK.

        The main SDK is the orchestrating framework where there is one (``ai``, ``langchain``),
        then a provider SDK; vector stores and observability packages never own a model.
        """
        if provider:
            for pkg in sorted(self.usages):
                if self.usages[pkg].properties.get("provider") == provider:
                    return self.usages[pkg].id
        rank = {"framework": 0, "agent-framework": 1, "provider-sdk": 2, "runtime": 3}
        main = sorted(
            (rank[str(a.properties.get("category"))], pkg)
            for pkg, a in self.usages.items()
            if a.properties.get("category") in rank
        )
        return self.usages[main[0][1]].id if main else None

    def _file_provider(self) -> str | None:
        providers = {
            str(a.properties["provider"]) for a in self.usages.values() if a.properties.get("provider")
        }
        return providers.pop() if len(providers) == 1 else None

    def _usage_id(self, pkg: str) -> str | None:
        usage = self.usages.get(pkg)
        return usage.id if usage is not None else None

    def _first_arg(self, call: Node, index: int = 0) -> Node | None:
        args = call.child_by_field_name("arguments")
        if args is None or len(args.named_children) <= index:
            return None
        return args.named_children[index]

    def _provider_call(self, call: Node, owner: str | None = None) -> bool:
        """``openai("gpt-4o")``, ``openai.chat("gpt-4o")``, ``createOpenAI(...)("id")``: a strong mention."""
        if call.type != "call_expression" or _span(call) in self.consumed:
            return False
        bound = self._binding_of(call.child_by_field_name("function"))
        if bound is None:
            return False
        b, rest = bound
        if b.kind != "provider-fn" or len(rest) > 1 or (rest and rest[0] not in _PROVIDER_METHODS):
            return False
        self.consumed.add(_span(call))
        name = b.imported if b.kind == "provider-fn" and b.imported not in ("default", "*") else "provider"
        via = f"{name}.{rest[0]}()" if rest else f"{name}()"
        for v in self._values(self._first_arg(call)):
            # An agent owns the model it is given; otherwise the provider package makes the call.
            by = owner if owner in self.agent_ids else self._usage_id(b.package)
            self._mention(v, via, provider=b.provider, strong=True, owner=by)
        return True

    def _model_value(
        self, value: Node, via: str, provider: str | None, owner: str | None, strong: bool
    ) -> None:
        """A value in a model position: a provider call, or literals and env vars."""
        inner = _unwrap(value)
        if inner is not None and inner.type in ("identifier", "shorthand_property_identifier"):
            decl = self._declaration_of(inner)
            target = _unwrap(decl.child_by_field_name("value")) if decl is not None else None
            if target is not None and target.type in ("call_expression", "new_expression"):
                inner = target
        if inner is not None and inner.type == "call_expression" and self._provider_call(inner, owner):
            return
        if inner is not None and inner.type in ("call_expression", "new_expression") and owner is not None:
            self._sdk_call(inner, owner=owner)
            return
        for v in self._values(value):
            p = provider
            if p is None and v.value and "/" in v.value and via.startswith("ai."):
                p = "vercel-ai-gateway"
            self._mention(v, via, provider=p, strong=strong, owner=owner)

    # ---- agents, MCP servers, SDK calls

    def _agent(self, node: Node) -> None:
        callee = node.child_by_field_name("constructor" if node.type == "new_expression" else "function")
        bound = self._binding_of(callee)
        if bound is None:
            return
        b, rest = bound
        info = lookup("npm", b.package)
        is_agent_pkg = (info is not None and info.category == "agent-framework") or b.package in (
            "ai",
            "langchain",
        )
        if not is_agent_pkg or b.kind != "import":
            return
        if node.type == "new_expression":
            is_agent = not rest and b.imported in _AGENT_CLASSES
        else:  # ``Agent.create({...})`` or a factory such as ``createReactAgent({...})``
            is_agent = (b.imported in _AGENT_CLASSES and rest == ["create"]) or (
                not rest and b.imported in _AGENT_FACTORIES
            )
        if not is_agent:
            return
        objs = self._object_args(node)
        config = objs[0] if objs else None
        props: dict[str, JSON] = {"framework": b.package, "language": self.language}
        name: str | None = None
        model_value: Node | None = None
        for key, value in self._pairs(config) if config is not None else []:
            if key == "name":
                name = next((v.value for v in self._values(value) if v.value), None)
            elif key in ("model", "llm"):
                model_value = value
            elif key in ("tools", "handoffs", "mcpServers", "subagents", "agents"):
                props[key] = self._names_in(value)
            elif key in ("instructions", "prompt", "systemPrompt"):
                props["has_instructions"] = True
        declared_as = self._declared_name(node)
        name = name or declared_as or f"agent@{_line(node)}"
        if declared_as:
            props["variable"] = declared_as
        agent = Asset.create(
            AssetKind.AGENT,
            name,
            key=("code", self.file.path, name),
            location=self.file.loc(_line(node)),
            properties=props,
            scope=self.file.scope,
        )
        self.agents.append(agent)
        self.agent_ids.add(agent.id)
        if model_value is not None:
            provider = b.provider if b.package != "ai" else None
            via = f"{'ai.' if b.package == 'ai' else ''}{b.imported}(model)"
            self._model_value(model_value, via, provider, agent.id, strong=True)

    def _declared_name(self, node: Node) -> str | None:
        parent = node.parent
        while parent is not None and parent.type in _WRAPPERS:
            parent = parent.parent
        if parent is not None and parent.type == "variable_declarator":
            name = parent.child_by_field_name("name")
            if name is not None and name.type == "identifier":
                return self._text(name)
        return None

    def _names_in(self, value: Node) -> list[str]:
        """Names of the tools (or agents) in a ``tools: [...]`` array or ``tools: {...}`` map."""
        v = _unwrap(value)
        names: list[str] = []
        if v is None:
            return names
        if v.type == "array":
            for child in v.named_children:
                el = _unwrap(child)
                if el is None:
                    continue
                if el.type in ("identifier", "member_expression"):
                    names.append(self._text(el))
                elif el.type == "object":
                    for key, field_value in self._pairs(el):
                        if key == "name":
                            names.extend(v.value for v in self._values(field_value) if v.value)
                elif el.type == "call_expression":
                    fn = self._text(el.child_by_field_name("function"))
                    names.append(fn + "()")
        elif v.type == "object":
            names.extend(k for k, _ in self._pairs(v))
        return sorted(set(names))

    def _mcp_class(self, b: _Binding) -> bool:
        if (b.package, b.imported) not in _MCP_SERVER_CLASSES or b.kind != "import":
            return False
        return b.package != "@modelcontextprotocol/sdk" or "/server" in b.specifier

    def _new_mcp_server(self, key: str, b: _Binding, new: Node) -> None:
        name = key.rsplit(".", 1)[-1]
        objs = self._object_args(new)
        for k, value in self._pairs(objs[0]) if objs else []:
            if k == "name":
                name = next((v.value for v in self._values(value) if v.value), name)
        self.mcp[key] = _McpServer(name, _line(new), b.package, low_level=b.imported == "Server")
        self.consumed.add(_span(new))

    def _mcp_call(self, node: Node) -> None:
        if node.type == "new_expression":
            bound = self._binding_of(node.child_by_field_name("constructor"))
            if bound is not None and bound[0].package == "@modelcontextprotocol/sdk":
                transport = _MCP_TRANSPORTS.get(bound[0].imported)
                if transport:
                    self.mcp_transports.add(transport)
            if (
                bound is not None
                and self._mcp_class(bound[0])
                and not bound[1]
                and _span(node) not in self.consumed
            ):
                self._new_mcp_server(self._declared_name(node) or "mcp-server", bound[0], node)
            return
        fn = _unwrap(node.child_by_field_name("function"))
        if fn is None or fn.type != "member_expression":
            return
        chain = self._chain(fn)
        if not chain or len(chain) < 2:
            return
        server = self.mcp.get(".".join(chain[:-1]))
        group = _MCP_METHODS.get(chain[-1])
        if server is None or group is None:
            return
        first = self._first_arg(node)
        name = next((v.value for v in self._values(first) if v.value), None) if first is not None else None
        if name is None:
            obj = self._resolve_object(first)
            for k, value in self._pairs(obj) if obj is not None else []:
                if k == "name":
                    name = next((v.value for v in self._values(value) if v.value), None)
        if name:
            server.items[group].append(name)

    def _mcp_assets(self, pairs: list[Node]) -> Iterator[Asset]:
        low_level_tools: list[str] = []
        if any(s.low_level for s in self.mcp.values()):
            # A low-level Server lists its tools in the ListTools handler's result: ``tools: [{ name }]``.
            for p in pairs:
                if self._key_name(p) == "tools":
                    low_level_tools.extend(self._names_in(p.child_by_field_name("value") or p))
        seen: set[str] = set()
        for key in sorted(self.mcp, key=lambda k: self.mcp[k].line):
            s = self.mcp[key]
            if s.name in seen:
                continue
            seen.add(s.name)
            tools = s.items["tools"] + (low_level_tools if s.low_level else [])
            props: dict[str, JSON] = {
                "sdk": s.package,
                "language": self.language,
                "tools": sorted(set(tools)),
                "prompts": sorted(set(s.items["prompts"])),
                "resources": sorted(set(s.items["resources"])),
                "transports": sorted(self.mcp_transports),
                "defined_in": "code",
            }
            yield Asset.create(
                AssetKind.MCP_SERVER,
                s.name,
                key=("code", self.file.path, s.name),
                location=self.file.loc(s.line),
                properties=props,
                scope=self.file.scope,
            )

    def _sdk_call(self, node: Node, owner: str | None = None) -> None:
        """Model positions in a call or construction that goes into an AI SDK."""
        if _span(node) in self.consumed:
            return
        if node.type == "call_expression" and self._provider_call(node, owner):
            return
        callee = node.child_by_field_name("constructor" if node.type == "new_expression" else "function")
        bound = self._binding_of(callee)
        if bound is None:
            return
        b, rest = bound
        self.consumed.add(_span(node))
        owner = owner or self._usage_id(b.package)
        method = rest[-1] if rest else b.imported
        if b.package in _TRANSFORMERS_PACKAGES and node.type == "call_expression":
            if b.imported == "pipeline" and not rest:
                self._hf_model_arg(node, 1, "pipeline", owner)
                return
            if rest == ["from_pretrained"]:
                if b.imported.endswith(("Tokenizer", "Processor")):
                    # A tokenizer loads the repo's vocabulary, not the model: claim the id so that
                    # the loose passes do not report it either.
                    first = self._first_arg(node)
                    if first is not None:
                        self.consumed.add(_span(first))
                else:
                    self._hf_model_arg(node, 0, "from_pretrained", owner)
                return
        if b.imported == "initChatModel" and not rest:
            for v in self._values(self._first_arg(node)):
                self._mention(v, "initChatModel", provider=None, strong=True, owner=owner)
        provider = b.provider
        via_prefix = "ai." if b.package == "ai" else ""
        for obj in self._object_args(node):
            for key, value in self._pairs(obj):
                if key in _STRONG_KEYS or _is_model_name(key):
                    self._model_value(value, f"{via_prefix}{method}({key})", provider, owner, strong=True)

    def _hf_model_arg(self, call: Node, index: int, via: str, owner: str | None) -> None:
        revision: str | None = None
        for obj in self._object_args(call):
            for key, value in self._pairs(obj):
                if key == "revision":
                    revision = next((v.value for v in self._values(value) if v.value), None)
        for v in self._values(self._first_arg(call, index)):
            self._mention(v, via, provider="huggingface", strong=True, owner=owner, revision=revision)

    # ---- loose mentions: model-ish names and shapes outside SDK calls

    def _loose_pairs(self, pairs: list[Node]) -> None:
        provider = self._file_provider()
        for p in pairs:
            key = self._key_name(p)
            value = p.child_by_field_name("value")
            if key is None or value is None:
                continue
            container, model = _is_model_container(key), _is_model_name(key)
            if not (container or model) or _in_type_position(p):
                continue
            inner = _unwrap(value)
            if container and inner is not None and inner.type in ("array", "object"):
                self._container(inner, f"{key}[]", provider, 0)
            elif model:
                if inner is not None and inner.type == "array":
                    self._container(inner, f"{key}[]", provider, 0)
                else:
                    for v in self._values(value):
                        self._mention(v, f"{key}:", provider=provider, strong=False, owner=None, loose=True)

    def _loose_declarations(
        self, decls: list[Node], assigns: list[Node], fields: list[Node], params: list[Node]
    ) -> None:
        """Model-ish names given a value: variables, assignments, class fields, parameter defaults."""
        provider = self._file_provider()
        named: list[tuple[str, Node]] = []
        for p in params:
            target = p.child_by_field_name("pattern") or p.child_by_field_name("left")
            default = p.child_by_field_name("value") or p.child_by_field_name("right")
            if target is not None and default is not None:
                named.append((self._text(target), default))
        for d in decls:
            name, value = d.child_by_field_name("name"), d.child_by_field_name("value")
            if name is not None and value is not None and name.type == "identifier":
                named.append((self._text(name), value))
        for a in assigns:
            left, right = a.child_by_field_name("left"), a.child_by_field_name("right")
            if left is not None and right is not None and left.type in ("identifier", "member_expression"):
                prop = left.child_by_field_name("property") if left.type == "member_expression" else left
                named.append((self._text(prop), right))
        for f in fields:
            field_name = f.child_by_field_name("property") or f.child_by_field_name("name")
            field_value = f.child_by_field_name("value")
            if field_name is not None and field_value is not None:
                named.append((self._text(field_name), field_value))
        for name_text, value in named:
            inner = _unwrap(value)
            if inner is None:
                continue
            if inner.type in ("array", "object") and (
                _is_model_container(name_text) or _is_model_name(name_text)
            ):
                self._container(inner, f"{name_text}[]", provider, 0)
            elif _is_model_name(name_text):
                for v in self._values(value):
                    self._mention(
                        v, f"const {name_text}", provider=provider, strong=False, owner=None, loose=True
                    )

    def _container(self, node: Node, via: str, provider: str | None, depth: int) -> None:
        """Model ids held in a model list or map: elements, id-ish fields, and model-shaped keys."""
        if depth > 4:
            return
        if node.type == "array":
            for el in node.named_children:
                inner = _unwrap(el)
                if inner is None:
                    continue
                if inner.type in ("array", "object"):
                    self._container(inner, via, provider, depth + 1)
                else:
                    for v in self._values(inner):
                        self._mention(v, via, provider=provider, strong=False, owner=None, loose=True)
            return
        if node.type != "object":
            return
        for c in node.named_children:
            if c.type != "pair":
                continue
            key, value = self._key_name(c), c.child_by_field_name("value")
            key_node = c.child_by_field_name("key")
            if key is not None and key_node is not None and key_node.type == "string" and _family(key):
                self._mention(
                    _Val(key_node, key), via, provider=provider, strong=False, owner=None, loose=True
                )
            inner = _unwrap(value)
            if inner is None or key is None or key in _NOT_MODEL_KEYS:
                continue
            if inner.type in ("array", "object"):
                self._container(inner, via, provider, depth + 1)
                continue
            if key == "name":
                vals = [v for v in self._values(inner) if v.value is None or v.value == v.value.lower()]
            elif key in _ID_KEYS or _is_model_name(key) or depth == 0:
                vals = self._values(inner)
            else:
                vals = [v for v in self._values(inner) if v.value is not None and _family(v.value)]
            for v in vals:
                self._mention(v, via, provider=provider, strong=False, owner=None, loose=True)

    def _loose_env(self, root: Node) -> None:
        """Env vars named like a model setting (``OPENAI_MODEL``), wherever they are read."""
        provider = self._file_provider()
        for m in _ENV_ACCESS.finditer(self.data):
            var = next((g.decode() for g in m.groups() if g), None)
            if var is None or not _is_model_name(var):
                continue
            node = root.descendant_for_byte_range(m.start(), m.end())
            while node is not None and self._env_var(node) is None and node.type not in _STATEMENT_END:
                node = node.parent
            if node is None or self._env_var(node) is None or _span(node) in self.consumed:
                continue
            holder = node.parent
            while holder is not None and holder.type in _WRAPPERS:
                holder = holder.parent
            vals = [_Val(node, None, var)]
            if holder is not None and holder.type == "binary_expression":
                vals = [v for v in self._values(holder) if v.env_var == var] or vals
            for v in vals:
                self._mention(v, f"env:{var}", provider=provider, strong=False, owner=None, loose=True)
            self.consumed.add(_span(node))

    def _loose_literals(self, root: Node) -> None:
        """String literals shaped like a known model family, anywhere a value can be."""
        provider = self._file_provider()
        for m in _STRING_LITERAL.finditer(self.data):
            value = m.group(2).decode("utf-8", errors="replace")
            if not _family(value):
                continue
            node = root.descendant_for_byte_range(m.start(), m.end())
            if node is None or node.type not in ("string", "template_string") or _span(node) in self.consumed:
                continue
            if node.start_byte != m.start() or node.end_byte != m.end() or _in_type_position(node):
                continue
            if self._is_import_source(node):
                continue
            self._mention(
                _Val(node, value), "string-literal", provider=provider, strong=False, owner=None, loose=True
            )

    def _deduplicated_mentions(self) -> Iterator[ModelMention]:
        seen: set[tuple[int | None, str | None, str | None]] = set()
        for m in self.mentions:
            key = (m.location.line, m.value, m.env_var)
            if key in seen:
                continue
            seen.add(key)
            yield m


def _first_error_line(root: Node) -> int:
    """The line of the first ERROR or MISSING node, found without walking the whole tree."""
    cur = root
    for _ in range(10_000):
        if cur.type == "ERROR" or cur.is_missing:
            return _line(cur)
        nxt = next((c for c in cur.children if c.has_error or c.is_missing), None)
        if nxt is None:
            return _line(cur)
        cur = nxt
    return _line(cur)
