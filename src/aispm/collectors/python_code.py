"""AI discovery in Python source, by AST: SDKs imported, clients built, models named, agents, MCP.

The scanned code is parsed with :mod:`ast` and never imported or run. What is found:

* one ``ai-sdk-usage`` asset per (file, SDK or framework imported), with the clients built from it
  (``OpenAI(base_url=...)`` attributes the client to the provider the URL points at);
* model mentions where the code names a model: keyword arguments of AI calls (``model=``,
  ``model_name=``, ``modelId=``...), the positional ids of ``from_pretrained``, ``pipeline``,
  ``SentenceTransformer``, ``hf_hub_download``, ``init_chat_model("provider:model")``..., and
  ``load_dataset`` for datasets. Values are followed through module and class constants and
  through ``os.getenv("VAR", "default")``, so the pipeline can resolve them against ``.env`` files;
* MCP servers defined in code (``FastMCP``, ``mcp.server.Server``, their ``@tool`` functions) and
  MCP servers a client connects to (``MultiServerMCPClient``, ``MCPServerStdio``...), inventory only;
* agent definitions (CrewAI, LangGraph, OpenAI Agents, PydanticAI, smolagents, AutoGen, ADK...), with
  the model given inline linked to the agent.

Whether a string is a model is always decided by :mod:`aispm.analysis.model_ids`; this module only
says where a string sits and what context surrounds it.
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from aispm.analysis.model_ids import dataset_source
from aispm.analysis.model_loading import find_model_loads
from aispm.analysis.providers import (
    BOTO3_AI_SERVICES,
    LANGCHAIN_PROVIDERS,
    PYTHON_MODULES,
    SdkInfo,
    provider_for_name,
    provider_for_url,
    redact_url,
    sdk_for_module,
)
from aispm.assets import SAAS_PROVIDERS, provider_asset, sdk_usage_asset
from aispm.collectors.base import Collector, CollectorError, ModelMention, Observation, SourceFile
from aispm.model import JSON, Asset, AssetKind, ErrorKind, Location, Relation, RelationKind, Scope

#: Python files above this size are recorded as a limit error rather than parsed.
MAX_SOURCE_BYTES = 2 * 1024 * 1024
#: Syntax nested deeper than this is not analysed (the rest of the file is, and the gap is reported).
MAX_AST_DEPTH = 400
#: How far a value is followed through names and env lookups.
_MAX_RESOLVE_DEPTH = 6
_MAX_VALUES = 16
_MAX_LIST = 50

#: Keywords of AI calls that hold a model id.
MODEL_KWARGS = frozenset(
    {"model", "model_name", "model_id", "modelId", "deployment_name", "azure_deployment", "deployment_id",
     "engine", "repo_id", "model_name_or_path", "pretrained_model_name_or_path", "base_model",
     "base_model_name_or_path", "model_path", "embedding_model", "llm_model", "chat_model"}
)  # fmt: skip
#: Keywords that hold a model id in any call, even one not known to be an AI call (weak evidence).
_GENERIC_MODEL_KWARGS = frozenset(
    {"model", "model_name", "model_id", "modelId", "llm_model", "embedding_model"}
)
#: Keywords that hold the endpoint a client talks to.
_URL_KWARGS = (
    "base_url",
    "api_base",
    "openai_api_base",
    "azure_endpoint",
    "endpoint",
    "host",
    "base_url_env",
)
#: Names of variables and fields that hold a model id (for constants not passed to any call here).
_MODEL_NAME_RX = re.compile(
    r"(^|_)(model|models|llm|deployment)(_?(id|ids|name|names|repo|path))?($|_)", re.I
)
#: Dict keys whose value is a model id in any dict literal (weak evidence).
_DICT_MODEL_KEYS = frozenset({"model", "model_name", "model_id", "modelId", "deployment_name"})
#: Fields only a model record has: next to them, ``id`` and ``name`` hold the model id.
_MODEL_RECORD_FIELDS = frozenset(
    {"owned_by", "context_length", "context_window", "max_input_tokens", "max_output_tokens",
     "input_cost_per_token", "output_cost_per_token", "pricing", "modalities"}
)  # fmt: skip
#: Framework attributes whose names look model-ish but hold configuration (pydantic's ``model_config``).
_NOT_MODEL_NAMES = frozenset({"model_config", "model_fields", "model_computed_fields", "model_post_init"})
_HF_PROVIDER_SDKS = frozenset(
    {"transformers", "sentence-transformers", "huggingface-hub", "diffusers", "peft", "trl"}
)

#: Provider-SDK client classes whose provider differs from the SDK's.
CLIENT_CLASSES: Mapping[str, str | None] = {
    "OpenAI": None,
    "AsyncOpenAI": None,
    "AzureOpenAI": "azure-openai",
    "AsyncAzureOpenAI": "azure-openai",
    "Anthropic": None,
    "AsyncAnthropic": None,
    "AnthropicBedrock": "bedrock",
    "AsyncAnthropicBedrock": "bedrock",
    "AnthropicVertex": "google",
    "AsyncAnthropicVertex": "google",
    "Client": None,
    "AsyncClient": None,
    "Mistral": None,
    "MistralClient": None,
    "Groq": None,
    "AsyncGroq": None,
    "Cohere": None,
    "ClientV2": None,
    "AsyncClientV2": None,
    "Together": None,
    "AsyncTogether": None,
    "Fireworks": None,
    "Replicate": None,
    "InferenceClient": "huggingface",
    "AsyncInferenceClient": "huggingface",
    "ChatCompletionsClient": None,
    "EmbeddingsClient": None,
    "Cerebras": None,
    "AI21Client": None,
    "Perplexity": None,
}

#: OpenAI-style API methods (SDKs for OpenAI, Groq, Together, DeepSeek-through-OpenAI...).
_OPENAI_API = (
    ("chat", "completions", "create"), ("chat", "completions", "parse"), ("chat", "completions", "stream"),
    ("completions", "create"), ("responses", "create"), ("responses", "parse"), ("responses", "stream"),
    ("embeddings", "create"), ("images", "generate"), ("images", "edit"),
    ("audio", "transcriptions", "create"), ("audio", "translations", "create"), ("audio", "speech", "create"),
    ("moderations", "create"),
    ("assistants", "create"), ("fine_tuning", "jobs", "create"), ("ChatCompletion", "create"),
    ("Completion", "create"), ("Embedding", "create"),
)  # fmt: skip
_ANTHROPIC_API = (("messages", "create"), ("messages", "stream"), ("messages", "count_tokens"))
_GOOGLE_API = (
    ("models", "generate_content"), ("models", "generate_content_stream"), ("models", "embed_content"),
    ("models", "generate_images"), ("models", "count_tokens"), ("chats", "create"),
)  # fmt: skip
_BEDROCK_API = (
    ("invoke_model",),
    ("invoke_model_with_response_stream",),
    ("converse",),
    ("converse_stream",),
)
_MISTRAL_API = (("chat", "complete"), ("chat", "stream"), ("fim", "complete"), ("chat", "complete_async"))
_API_FAMILIES: tuple[tuple[tuple[tuple[str, ...], ...], str, tuple[str, ...]], ...] = (
    (_OPENAI_API, "openai", ("openai", "groq", "together", "fireworks-ai", "huggingface-hub", "mistralai")),
    (_ANTHROPIC_API, "anthropic", ("anthropic",)),
    (_GOOGLE_API, "google", ("google-genai",)),
    (_BEDROCK_API, "bedrock", ("boto3", "aioboto3")),
    (_MISTRAL_API, "mistral", ("mistralai",)),
)

_API_METHODS = frozenset(api[-1] for apis, _, _ in _API_FAMILIES for api in apis)

#: Functions and classes whose first positional argument (or the keywords given) is a model id.
_HF_POSITIONAL = frozenset(
    {"hf_hub_download", "snapshot_download", "SentenceTransformer", "CrossEncoder", "SparseEncoder",
     "InferenceClient", "AsyncInferenceClient", "HuggingFaceEmbeddings", "HuggingFaceEndpoint",
     "HuggingFaceHub", "HuggingFaceInferenceAPIEmbeddings", "HuggingFaceEmbedding"}
)  # fmt: skip
_LITELLM_CALLS = frozenset(
    {"completion", "acompletion", "embedding", "aembedding", "text_completion", "atext_completion",
     "image_generation", "aimage_generation", "transcription", "atranscription", "speech", "aspeech",
     "responses", "aresponses", "rerank", "arerank", "moderation", "amoderation"}
)  # fmt: skip
_OLLAMA_CALLS = frozenset({"chat", "generate", "embed", "embeddings", "pull", "show", "push", "create"})
#: ``provider:model`` prefixes (LangChain ``init_chat_model``, PydanticAI, LangGraph) -> provider.
_COLON_PROVIDERS: Mapping[str, str] = {
    **LANGCHAIN_PROVIDERS,
    "google-gla": "google",
    "google-vertex": "google",
    "grok": "xai",
    "heroku": "heroku",
    "github": "github-copilot",
}

#: Agent classes and factories, and where each takes its model.
_AGENT_CALLS = frozenset(
    {"Agent", "LlmAgent", "CodeAgent", "ToolCallingAgent", "MultiStepAgent", "AssistantAgent",
     "ConversableAgent", "ChatAgent", "ReActAgent", "FunctionAgent", "ChatCompletionAgent",
     "create_react_agent", "create_agent", "create_tool_calling_agent", "create_openai_functions_agent",
     "create_openai_tools_agent", "initialize_agent", "create_supervisor", "create_swarm"}
)  # fmt: skip
_AGENT_MODEL_KWARGS = ("model", "llm", "model_client", "llm_config", "model_name", "chat_model")
_POSITIONAL_MODEL_AGENTS = frozenset({"create_react_agent", "create_agent", "create_supervisor"})

_MCP_SERVER_CLASSES = frozenset({"FastMCP"})
#: Method and keyword names that make any call worth resolving, whatever its receiver.
_NOTABLE_KWARGS = MODEL_KWARGS | _GENERIC_MODEL_KWARGS | {"llm", "id", "revision", *_URL_KWARGS}
_MCP_CLIENT_CALLS = frozenset(
    {"MultiServerMCPClient", "MCPServerStdio", "MCPServerSse", "MCPServerSSE", "MCPServerStreamableHttp",
     "MCPServerStreamableHTTP", "MCPServerHTTP", "StdioServerParameters", "StdioServerParams",
     "SseServerParams", "StreamableHttpServerParams", "MCPServerAdapter", "sse_client",
     "streamablehttp_client", "MCPClient", "MCPTools", "MCPToolset", "StdioConnectionParams",
     "SseConnectionParams", "StreamableHTTPConnectionParams"}
)  # fmt: skip
_NOTABLE_NAMES = frozenset(
    {"from_pretrained", "add_argument", "option", "client", "run", "pipeline", "load_dataset",
     "load_from_disk", "init_chat_model", "GenerativeModel", "Tool", "Server", "FastMCP"}
    | _HF_POSITIONAL | _API_METHODS | _AGENT_CALLS | _MCP_CLIENT_CALLS
)  # fmt: skip
_PACKAGE_ARG = re.compile(r"^(@[\w.-]+/)?[\w.-]+(@[\w.^~-]+)?$")

#: Libraries whose loading calls read model artifacts only (a joblib load in a file that
#: names nothing else of AI still loads a model); general serializers (pickle, numpy) are not here.
_MODEL_LOADER_MODULES = frozenset({"joblib", "sklearn", "onnx", "gguf", "tf_keras"})

#: A cheap text test: a file none of these words occur in cannot yield anything, so it is not parsed.
_MAY_HOLD_AI = re.compile(
    r"model|llm|mcp|agent|dataset|pretrained|pipeline|deployment|embed|"
    + r"\b("
    + "|".join(
        sorted(
            {re.escape(m.split(".")[0]) for m in PYTHON_MODULES}
            | {"agents", "google", "azure"}
            | _MODEL_LOADER_MODULES
        )
    )
    + r")\b",
    re.IGNORECASE,
)

#: A cheap text test for calls that may load a model artifact (``model_loading``'s loaders).
_MAY_LOAD = re.compile(
    r"\b(?:loads?|load_model|load_file|from_pretrained|InferenceSession|Llama|GGUFReader|safe_open"
    r"|read_pickle|Unpickler|pipeline|SentenceTransformer|CrossEncoder|restore_from)\s*\("
)

LineMap = Callable[[int], tuple[int | None, Mapping[str, JSON]]]


class PythonCodeCollector(Collector):
    """AI SDKs, clients, models, agents and MCP servers in ``*.py`` files, by static analysis.

    A file in which no AI word occurs (no SDK import root, no "model", "llm", "agent", "mcp"...) can
    yield nothing and is not parsed, so a syntax error there is not this collector's to report.
    """

    name = "python-code"
    version = "4"

    def wants(self, file: SourceFile) -> bool:
        return file.suffix in (".py", ".pyw")

    def collect(self, file: SourceFile) -> Iterable[Observation]:
        text = file.read_text(MAX_SOURCE_BYTES)
        if not _MAY_HOLD_AI.search(text):
            return  # nothing here could name an SDK, a model, an agent or an MCP server
        tree = parse_python(text)
        analysis = analyze_module(
            tree, path=file.path, scope=file.scope, model_loads=_MAY_LOAD.search(text) is not None
        )
        yield from analysis.observations
        if analysis.truncated:
            raise CollectorError(
                f"syntax nested deeper than {MAX_AST_DEPTH} levels was not analysed", ErrorKind.LIMIT
            )


def parse_python(text: str, filename: str = "<scanned>") -> ast.Module:
    """Parse Python source without running any of it; failures become CollectorError."""
    try:
        return ast.parse(text, filename=filename, type_comments=False)
    except SyntaxError as exc:
        where = f" (line {exc.lineno})" if exc.lineno else ""
        raise CollectorError(f"not valid Python: {exc.msg}{where}", ErrorKind.PARSE) from exc
    except (RecursionError, MemoryError) as exc:
        raise CollectorError("nesting too deep to parse", ErrorKind.LIMIT) from exc
    except ValueError as exc:  # source with NUL bytes
        raise CollectorError(f"not valid Python: {exc}", ErrorKind.PARSE) from exc


@dataclass(frozen=True, slots=True)
class ModuleAnalysis:
    """What one module yielded, and whether part of it was too deeply nested to analyse."""

    observations: list[Observation]
    truncated: bool
    sdk_ids: tuple[str, ...]


def analyze_module(
    tree: ast.Module,
    *,
    path: str,
    scope: Scope,
    line_map: LineMap | None = None,
    fallback_owner: str | None = None,
    model_loads: bool = True,
) -> ModuleAnalysis:
    """Analyse a parsed module. ``line_map`` turns parsed line numbers into the file's own lines
    (and extra properties, such as a notebook cell); ``fallback_owner`` owns mentions no SDK owns;
    ``model_loads`` False skips looking for calls that load model artifacts (the caller knows the
    source names none)."""
    analysis = _Analyzer(path, scope, line_map, fallback_owner).run(tree)
    if not model_loads:
        return analysis
    return _with_model_loads(analysis, tree, path, scope, line_map)


#: Libraries whose loading calls make a file AI code even where no other AI SDK is imported.
_LOADER_MODULES = frozenset(
    {"torch", "joblib", "pickle", "_pickle", "cPickle", "dill", "cloudpickle", "numpy", "pandas", "keras",
     "tensorflow", "tf_keras", "onnx", "onnxruntime", "safetensors", "llama_cpp", "gguf", "transformers",
     "sentence_transformers", "diffusers", "peft", "sklearn"}
)  # fmt: skip


def _with_model_loads(
    analysis: ModuleAnalysis, tree: ast.Module, path: str, scope: Scope, line_map: LineMap | None
) -> ModuleAnalysis:
    """Add the calls that load model artifacts: on the usage of the loading library
    (``properties.model_loads``, for checks), and as mentions of the loaded path, which the pipeline
    links to the artifact in the tree ("this checkpoint is loaded by this service")."""
    loads = find_model_loads(tree)
    if not loads:
        return analysis
    observations = list(analysis.observations)
    usages = {
        o.name: i
        for i, o in enumerate(observations)
        if isinstance(o, Asset) and o.kind is AssetKind.AI_SDK_USAGE
    }
    by_owner: dict[str, list[dict[str, JSON]]] = defaultdict(list)
    mentions: list[Observation] = []
    for load in loads[:_MAX_LIST]:
        line, extra = line_map(load.line) if line_map is not None else (load.line, {})
        root = load.loader.split(".")[0]
        if root in usages:
            sdk = root
        elif root in _LOADER_MODULES or not usages:
            sdk = root if root in _LOADER_MODULES else ""
        else:
            sdk = min(usages)  # a loader the imports do not name (``model_cls.from_pretrained``)
        if not sdk:
            continue
        if sdk not in usages:
            usage = sdk_usage_asset(
                sdk, path, Location(path, line), scope, category="model-loader", imports=[root],
                language="python", **extra,
            )  # fmt: skip
            usages[sdk] = len(observations)
            observations.append(usage)
        owner = observations[usages[sdk]]
        assert isinstance(owner, Asset)
        entry = {**load.to_dict(), "line": line}
        by_owner[owner.id].append(entry)
        if load.path is not None:
            artifact = load.path
            if load.path_base == "source":
                artifact = posixpath.normpath(posixpath.join(posixpath.dirname(path), load.path))
            mentions.append(
                ModelMention(
                    Location(path, line),
                    f"load:{load.loader}",
                    value=artifact,
                    owner=owner.id,
                    properties={"artifact_path": True, **extra},
                )
            )
    for i, o in enumerate(observations):
        if isinstance(o, Asset) and o.id in by_owner:
            observations[i] = replace(o, properties={**o.properties, "model_loads": by_owner[o.id]})
    return ModuleAnalysis(observations + mentions, analysis.truncated, analysis.sdk_ids)


# --------------------------------------------------------------------------------------------------
# records used while analysing


@dataclass(frozen=True, slots=True)
class _Value:
    """A value an expression can take: a literal, an env var (with the code's default), or both."""

    value: str | None
    env_var: str | None = None


@dataclass
class _Sink:
    """A pending model mention (owner ids are only known once the whole file is read)."""

    line: int
    via: str
    value: _Value
    provider: str | None
    strong: bool
    sdk: str | None
    owner: str | None = None
    dataset: bool = False
    revision: str | None = None
    props: dict[str, JSON] = field(default_factory=dict)


@dataclass
class _Client:
    sdk: SdkInfo
    provider: str | None
    cls: str
    base_url: str | None
    line: int


@dataclass
class _SdkUse:
    info: SdkInfo
    line: int
    imports: set[str] = field(default_factory=set)
    clients: list[_Client] = field(default_factory=list)


@dataclass
class _Callee:
    chain: list[str]
    last: str
    cls: str | None
    sdk: SdkInfo | None
    client: _Client | None
    qual: str | None


@dataclass
class _McpServer:
    name: str
    line: int
    framework: str
    role: str
    tools: list[str] = field(default_factory=list)
    resources: list[str] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)
    props: dict[str, JSON] = field(default_factory=dict)


@dataclass
class _Agent:
    name: str
    line: int
    framework: str
    cls: str
    tools: list[str]
    asset_id: str = ""


@dataclass
class _Nodes:
    imports: list[ast.Import | ast.ImportFrom] = field(default_factory=list)
    assigns: list[ast.Assign | ast.AnnAssign] = field(default_factory=list)
    classes: list[ast.ClassDef] = field(default_factory=list)
    functions: list[ast.FunctionDef | ast.AsyncFunctionDef] = field(default_factory=list)
    calls: list[ast.Call] = field(default_factory=list)
    dicts: list[ast.Dict] = field(default_factory=list)
    sequences: list[ast.List | ast.Tuple | ast.Set] = field(default_factory=list)


#: Leaves and contexts with nothing below them worth visiting.
_LEAF_TYPES = (
    ast.Constant,
    ast.Name,
    ast.expr_context,
    ast.operator,
    ast.cmpop,
    ast.unaryop,
    ast.boolop,
    ast.alias,
)


def _index(tree: ast.AST) -> tuple[_Nodes, bool]:
    """Every node of interest, in source order, walking iteratively with a depth bound.

    This is the hot loop of the collector, hence the plain fields walk instead of ``ast.walk``.
    """
    nodes = _Nodes()
    kinds: dict[type, list[Any]] = {
        ast.Call: nodes.calls,
        ast.Assign: nodes.assigns,
        ast.AnnAssign: nodes.assigns,
        ast.Import: nodes.imports,
        ast.ImportFrom: nodes.imports,
        ast.Dict: nodes.dicts,
        ast.List: nodes.sequences,
        ast.Tuple: nodes.sequences,
        ast.Set: nodes.sequences,
        ast.FunctionDef: nodes.functions,
        ast.AsyncFunctionDef: nodes.functions,
        ast.ClassDef: nodes.classes,
    }
    truncated = False
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    pop, push = stack.pop, stack.append
    while stack:
        node, depth = pop()
        bucket = kinds.get(type(node))
        if bucket is not None:
            bucket.append(node)
        if depth >= MAX_AST_DEPTH:
            truncated = True
            continue
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST) and not isinstance(item, _LEAF_TYPES):
                        push((item, depth + 1))
            elif isinstance(value, ast.AST) and not isinstance(value, _LEAF_TYPES):
                push((value, depth + 1))
    for seq in (
        nodes.imports, nodes.assigns, nodes.classes, nodes.functions, nodes.calls, nodes.dicts,
        nodes.sequences,
    ):  # fmt: skip
        seq.sort(key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0)))
    return nodes, truncated


def _chain(expr: ast.expr) -> tuple[str | ast.Call | None, list[str]]:
    """``a.b.c`` -> ("a", ["b", "c"]); ``f().b`` -> (<Call f()>, ["b"]); anything else -> (None, [...])."""
    attrs: list[str] = []
    node = expr
    while isinstance(node, ast.Attribute):
        attrs.append(node.attr)
        node = node.value
    attrs.reverse()
    if isinstance(node, ast.Name):
        return node.id, attrs
    if isinstance(node, ast.Call):
        return node, attrs
    return None, attrs


def _target_key(target: ast.expr) -> str | None:
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
        return f"{target.value.id}.{target.attr}"
    return None


def _str(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _kw(call: ast.Call, *names: str) -> ast.expr | None:
    for k in call.keywords:
        if k.arg in names:
            return k.value
    return None


def _arg(call: ast.Call, index: int) -> ast.expr | None:
    if index < len(call.args) and not isinstance(call.args[index], ast.Starred):
        return call.args[index]
    return None


def _is_camel(name: str) -> bool:
    return bool(name) and name[0].isupper() and not name.isupper()


def _split_colon(value: str) -> tuple[str | None, str]:
    """``openai:gpt-4o`` -> ("openai", "gpt-4o"); ``llama3:8b`` (a tag, not a provider) is left whole."""
    head, sep, tail = value.partition(":")
    if sep and tail and head in _COLON_PROVIDERS:
        return _COLON_PROVIDERS[head], tail
    return None, value


def _names_in(node: ast.expr | None) -> list[str]:
    """Tool names from ``tools=[search, Calc(), mod.fetch]``."""
    if not isinstance(node, ast.List | ast.Tuple | ast.Set):
        return []
    out: list[str] = []
    for elt in node.elts[:_MAX_LIST]:
        if isinstance(elt, ast.Call):
            elt = elt.func
        root, attrs = _chain(elt)
        if attrs:
            out.append(attrs[-1])
        elif isinstance(root, str):
            out.append(root)
    return out


# --------------------------------------------------------------------------------------------------
# the analysis


class _Analyzer:
    def __init__(self, path: str, scope: Scope, line_map: LineMap | None, fallback_owner: str | None) -> None:
        self.path = path
        self.scope = scope
        self.line_map = line_map
        self.fallback_owner = fallback_owner
        self.imports: dict[str, str] = {}  # local name -> dotted import path
        self.import_sdk: dict[str, SdkInfo] = {}  # local name -> SDK it came from
        self.sdks: dict[str, _SdkUse] = {}
        self.has_boto3 = False
        self.const_exprs: dict[str, list[ast.expr]] = {}
        self.attr_exprs: dict[str, list[ast.expr]] = {}
        self.settings_fields: set[str] = set()
        self.consumed: set[str] = set()
        self.name_memo: dict[tuple[str, str, bool], list[_Value]] = {}
        self.assigned_to: dict[int, str] = {}
        self.clients: dict[str, _Client] = {}
        self.model_objects: dict[str, list[_Sink]] = {}
        self.sinks: list[_Sink] = []
        self.call_sinks_cache: dict[int, list[_Sink]] = {}
        self.mcp_servers: dict[str, _McpServer] = {}
        self.mcp_vars: dict[str, str] = {}
        self.mcp_refs: list[tuple[_McpServer, str | None]] = []
        self.agents: list[_Agent] = []
        self.provider_links: set[tuple[str, str, int]] = set()

    # -- locations ------------------------------------------------------------------------------

    def _line(self, lineno: int) -> tuple[int | None, Mapping[str, JSON]]:
        if self.line_map is None:
            return lineno, {}
        return self.line_map(lineno)

    def _loc(self, lineno: int) -> Location:
        return Location(path=self.path, line=self._line(lineno)[0])

    # -- driver ---------------------------------------------------------------------------------

    def run(self, tree: ast.Module) -> ModuleAnalysis:
        nodes, truncated = _index(tree)
        for imp in nodes.imports:
            self._import(imp)
        self.has_boto3 = any(info.sdk in ("boto3", "aioboto3") for info in self.import_sdk.values())
        # boto3 is AI only where an AI client is built from it; it is added back below if so.
        for sdk in ("boto3", "aioboto3"):
            self.sdks.pop(sdk, None)
        self._definitions(nodes)
        for node in nodes.calls:
            # Clients first, so that a function defined above ``client = OpenAI()`` still resolves it.
            key = self.assigned_to.get(id(node))
            if key is not None and (client := self._client_for(node, self._callee(node.func))) is not None:
                self.clients[key] = client
        for node in nodes.calls:
            self._call(node)
        for fn in nodes.functions:
            self._function(fn)
        self._dict_mentions(nodes.dicts)
        self._model_records(nodes)
        self._unconsumed_constants(nodes)
        return ModuleAnalysis(self._emit(), truncated, tuple(self._sdk_ids().values()))

    # -- imports --------------------------------------------------------------------------------

    def _import(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                info = sdk_for_module(alias.name)
                local = alias.asname or alias.name.split(".")[0]
                self.imports[local] = alias.name if alias.asname else local
                if info is not None:
                    self.import_sdk[local] = info
                    self._use_sdk(info, node.lineno, alias.name)
            return
        if node.level or not node.module:
            return  # relative imports are the project's own modules
        names = frozenset(a.name for a in node.names)
        info = sdk_for_module(node.module, names)
        for alias in node.names:
            local = alias.asname or alias.name
            full = f"{node.module}.{alias.name}"
            self.imports[local] = full
            sub = sdk_for_module(full, names) or info
            if sub is not None:
                self.import_sdk[local] = sub
        if info is not None:
            self._use_sdk(info, node.lineno, node.module)
        else:
            for alias in node.names:  # ``from google import genai``
                sub = sdk_for_module(f"{node.module}.{alias.name}")
                if sub is not None:
                    self._use_sdk(sub, node.lineno, f"{node.module}.{alias.name}")

    def _use_sdk(self, info: SdkInfo, lineno: int, module: str | None = None) -> _SdkUse:
        use = self.sdks.get(info.sdk)
        if use is None:
            use = self.sdks[info.sdk] = _SdkUse(info, lineno)
        use.line = min(use.line, lineno)
        if module:
            use.imports.add(module)
        return use

    # -- constants, env lookups, clients assigned to names -----------------------------------------

    def _definitions(self, nodes: _Nodes) -> None:
        for cls in nodes.classes:
            is_settings = any(_chain(b)[1][-1:] == ["BaseSettings"] or _chain(b)[0] == "BaseSettings"
                              for b in cls.bases)  # fmt: skip
            for stmt in cls.body:
                targets: list[ast.expr] = []
                value: ast.expr | None = None
                if isinstance(stmt, ast.Assign):
                    targets, value = stmt.targets, stmt.value
                elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
                    targets, value = [stmt.target], stmt.value
                for t in targets:
                    if isinstance(t, ast.Name) and value is not None:
                        self.attr_exprs.setdefault(t.id, []).append(value)
                        if is_settings:
                            self.settings_fields.add(t.id)
        for node in nodes.assigns:
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif node.value is not None:
                targets, value = [node.target], node.value
            else:
                continue
            for t in targets:
                key = _target_key(t)
                if key is None:
                    continue
                if isinstance(t, ast.Name):
                    self.const_exprs.setdefault(t.id, []).append(value)
                elif isinstance(t, ast.Attribute):
                    self.attr_exprs.setdefault(t.attr, []).append(value)
                    self._module_config(t, value)
                if isinstance(value, ast.Call):
                    self.assigned_to[id(value)] = key
                elif isinstance(value, ast.Await) and isinstance(value.value, ast.Call):
                    self.assigned_to[id(value.value)] = key

    def _module_config(self, target: ast.Attribute, value: ast.expr) -> None:
        """``openai.base_url = ...`` / ``openai.api_type = "azure"``: module-level client settings."""
        if not isinstance(target.value, ast.Name):
            return
        info = self.import_sdk.get(target.value.id)
        if info is None or info.sdk != "openai" or self.imports.get(target.value.id) != "openai":
            return
        client = self.clients.get(target.value.id) or _Client(info, "openai", "openai", None, target.lineno)
        if target.attr == "api_type" and (_str(value) or "").lower().startswith("azure"):
            client.provider = "azure-openai"
        elif target.attr in ("base_url", "api_base"):
            for v in self._values(value):
                if v.value and (p := provider_for_url(v.value)):
                    client.provider, client.base_url = p, redact_url(v.value)
        self.clients[target.value.id] = client

    def _values(self, expr: ast.expr | None, depth: int = 0, collections: bool = False) -> list[_Value]:
        """The values ``expr`` can take, followed through names, attributes and env lookups."""
        if expr is None or depth > _MAX_RESOLVE_DEPTH:
            return []
        s = _str(expr)
        if s is not None:
            return [_Value(s)]
        if isinstance(expr, ast.JoinedStr):
            # An f-string is a model id only if it has no holes; "{provider}/{model}" is a template.
            parts = [_str(v) for v in expr.values]
            return [_Value("".join(p for p in parts if p))] if all(p is not None for p in parts) else []
        if isinstance(expr, ast.Name):
            self.consumed.add(expr.id)
            return self._from_name("n", expr.id, self.const_exprs, depth, collections)
        if isinstance(expr, ast.Attribute):
            root, attrs = _chain(expr)
            if (
                isinstance(root, str)
                and self.imports.get(root) in ("os", "os.environ")
                and attrs == ["environ"]
            ):
                return []
            self.consumed.add(expr.attr)
            return self._from_name("a", expr.attr, self.attr_exprs, depth, collections)
        if isinstance(expr, ast.Call):
            return self._call_values(expr, depth)
        if isinstance(expr, ast.Subscript):
            return self._subscript_values(expr)
        if isinstance(expr, ast.BoolOp) and isinstance(expr.op, ast.Or):
            return self._or_values(expr, depth)
        if isinstance(expr, ast.IfExp):
            return (self._values(expr.body, depth + 1) + self._values(expr.orelse, depth + 1))[:_MAX_VALUES]
        if isinstance(expr, ast.Await):
            return self._values(expr.value, depth + 1)
        if collections and isinstance(expr, ast.List | ast.Tuple | ast.Set):
            out = [v for e in expr.elts[:_MAX_LIST] for v in self._values(e, depth + 1)]
            return out[:_MAX_LIST]
        if collections and isinstance(expr, ast.Dict):
            out = [v for e in expr.values[:_MAX_LIST] for v in self._values(e, depth + 1)]
            return out[:_MAX_LIST]
        return []

    def _from_name(
        self, kind: str, name: str, table: Mapping[str, list[ast.expr]], depth: int, collections: bool
    ) -> list[_Value]:
        """Values of a name, memoized so that chains and cycles of assignments cost linear work."""
        key = (kind, name, collections)
        if key in self.name_memo:
            return self.name_memo[key]
        self.name_memo[key] = []  # a cycle back to this name resolves to nothing
        settings = kind == "a" and name in self.settings_fields
        result = self._from_exprs(table.get(name, ()), depth, name if settings else None, collections)
        self.name_memo[key] = result
        return result

    def _from_exprs(
        self, exprs: Iterable[ast.expr], depth: int, settings_field: str | None, collections: bool
    ) -> list[_Value]:
        out: list[_Value] = []
        for e in exprs:
            for v in self._values(e, depth + 1, collections):
                if settings_field is not None and v.env_var is None:
                    # pydantic-settings: a field is read from the env var of its (upper-cased) name.
                    v = _Value(v.value, settings_field.upper())
                if v not in out:
                    out.append(v)
        return out[: _MAX_LIST if collections else _MAX_VALUES]

    def _is_env_get(self, func: ast.expr) -> bool:
        root, attrs = _chain(func)
        if not isinstance(root, str):
            return False
        full = ".".join([self.imports.get(root, root), *attrs])
        return full in ("os.getenv", "os.environ.get", "os.environ.setdefault", "decouple.config")

    def _call_values(self, call: ast.Call, depth: int) -> list[_Value]:
        if self._is_env_get(call.func):
            var = _str(_arg(call, 0)) or _str(_kw(call, "key"))
            if var is None:
                return []
            defaults = self._values(_arg(call, 1) or _kw(call, "default"), depth + 1)
            literal = [d.value for d in defaults if d.value is not None and d.env_var is None]
            if not literal:
                return [_Value(None, var)]
            return [_Value(d, var) for d in literal]
        root, attrs = _chain(call.func)
        name = attrs[-1] if attrs else root if isinstance(root, str) else None
        if name in ("Field", "field", "str"):
            return self._values(_kw(call, "default") or _arg(call, 0), depth + 1)
        return []

    def _subscript_values(self, expr: ast.Subscript) -> list[_Value]:
        root, attrs = _chain(expr.value)
        if isinstance(root, str):
            full = ".".join([self.imports.get(root, root), *attrs])
            var = _str(expr.slice)
            if full == "os.environ" and var:
                return [_Value(None, var)]
        return []

    def _or_values(self, expr: ast.BoolOp, depth: int) -> list[_Value]:
        """``os.getenv("M") or "gpt-4o"``: the variable, with the literal after ``or`` as its default."""
        out: list[_Value] = []
        pending_env: list[str] = []
        for operand in expr.values:
            for v in self._values(operand, depth + 1):
                if v.value is None and v.env_var is not None:
                    pending_env.append(v.env_var)
                elif v.env_var is None and pending_env:
                    out.extend(_Value(v.value, e) for e in pending_env)
                    pending_env = []
                else:
                    out.append(v)
        out.extend(_Value(None, e) for e in pending_env)
        return out[:_MAX_VALUES]

    # -- calls ----------------------------------------------------------------------------------

    def _callee(self, func: ast.expr, depth: int = 0) -> _Callee:
        root, attrs = _chain(func)
        if isinstance(root, str) and root in self.imports and root not in self.clients:
            # ``from agents import Agent as OAIAgent``: match on the imported name, not the alias.
            root_name = self.imports[root].rsplit(".", 1)[-1]
        else:
            root_name = root if isinstance(root, str) else ""
        chain = list(attrs)
        last = attrs[-1] if attrs else root_name
        sdk: SdkInfo | None = None
        client: _Client | None = None
        qual: str | None = None
        if isinstance(root, str):
            if root in ("self", "cls") and attrs and f"{root}.{attrs[0]}" in self.clients:
                client = self.clients[f"{root}.{attrs[0]}"]
                chain = attrs[1:]
            elif root in self.clients:
                client = self.clients[root]
            if root in self.imports:
                qual = ".".join([self.imports[root], *attrs])
                sdk = sdk_for_module(qual)
                if sdk is None and self.imports[root] != root:
                    sdk = self.import_sdk.get(root)  # ``from agents import Agent``: decided at import
            if not attrs:
                chain = [root_name]
        elif isinstance(root, ast.Call) and depth < _MAX_RESOLVE_DEPTH:
            inner = self._callee(root.func, depth + 1)
            client = self._client_for(root, inner)
            if client is None:
                sdk = inner.sdk
                qual = f"{inner.qual}()" if inner.qual else None
        cls = next((a for a in reversed([root_name, *attrs]) if _is_camel(a)), None)
        if client is not None and sdk is None:
            sdk = client.sdk
        return _Callee(chain, last, cls, sdk, client, qual)

    def _client_for(self, call: ast.Call, callee: _Callee) -> _Client | None:
        """The client ``call`` builds, if any: ``OpenAI(...)``, ``boto3.client("bedrock-runtime")``."""
        if callee.last == "client" and self.has_boto3:
            service = _str(_arg(call, 0)) or _str(_kw(call, "service_name"))
            provider = BOTO3_AI_SERVICES.get(service or "")
            if provider is None:
                return None
            info = SdkInfo("boto3", provider, "provider-sdk")
            return _Client(info, provider, f"boto3.client({service})", None, call.lineno)
        sdk = callee.sdk
        if sdk is None or sdk.category != "provider-sdk" or callee.client is not None:
            return None
        last = callee.last
        if last not in CLIENT_CLASSES and not (_is_camel(last) and last.endswith("Client")):
            return None
        provider = CLIENT_CLASSES.get(last) or sdk.provider
        base_url = None
        for v in self._values(_kw(call, *_URL_KWARGS)):
            if v.value and (p := provider_for_url(v.value)):
                provider, base_url = p, redact_url(v.value)
                break
            if v.value and v.value.startswith("http"):
                base_url = redact_url(v.value)
            elif v.env_var:
                base_url = f"env:{v.env_var}"
        if sdk.sdk == "google-genai" and last in ("Client", "AsyncClient"):
            provider = "google"
        return _Client(sdk, provider, last, base_url, call.lineno)

    def _worth_a_look(self, call: ast.Call) -> bool:
        """A cheap test that rules out most calls (``len(x)``, ``log.info(...)``) before resolving them."""
        root, attrs = _chain(call.func)
        if isinstance(root, ast.Call) or root in self.imports or root in self.clients:
            return True
        if root in ("self", "cls") and attrs and f"{root}.{attrs[0]}" in self.clients:
            return True
        if (attrs[-1] if attrs else root) in _NOTABLE_NAMES:
            return True
        return any(k.arg in _NOTABLE_KWARGS for k in call.keywords)

    def _call(self, call: ast.Call) -> None:
        if not self._worth_a_look(call):
            return
        callee = self._callee(call.func)
        client = self._client_for(call, callee)
        if client is not None:
            use = self._use_sdk(client.sdk, client.line, "boto3" if client.sdk.sdk == "boto3" else None)
            use.clients.append(client)
            key = self.assigned_to.get(id(call))
            if key is not None:
                self.clients[key] = client
        sinks = self._call_sinks(call, callee)
        self.sinks.extend(sinks)
        key = self.assigned_to.get(id(call))
        if key is not None and sinks:
            self.model_objects[key] = sinks
        if callee.last in _AGENT_CALLS and callee.sdk is not None:
            self._agent(call, callee)
        self._mcp_call(call, callee)

    def _ctx_provider(self, call: ast.Call, callee: _Callee) -> str | None:
        """The provider a call's context implies: its client, its class, its SDK, its base URL."""
        provider: str | None = None
        if callee.client is not None:
            provider = callee.client.provider
        elif callee.sdk is not None:
            sdk = callee.sdk
            hint = provider_for_name(callee.cls) if callee.cls else None
            if sdk.category in ("provider-sdk", "ml-runtime") and sdk.provider:
                provider = CLIENT_CLASSES.get(callee.cls or "") or sdk.provider
            else:
                provider = hint or sdk.provider
        for v in self._values(_kw(call, *_URL_KWARGS)):
            if v.value and (p := provider_for_url(v.value)):
                return p
        return provider

    def _call_sinks(self, call: ast.Call, callee: _Callee) -> list[_Sink]:
        cached = self.call_sinks_cache.get(id(call))
        if cached is not None:
            return cached
        sinks = self._compute_call_sinks(call, callee)
        self.call_sinks_cache[id(call)] = sinks
        return sinks

    def _compute_call_sinks(self, call: ast.Call, callee: _Callee) -> list[_Sink]:
        last = callee.last
        sdk = callee.sdk
        sdk_name = sdk.sdk if sdk else None
        ctx = self._ctx_provider(call, callee)
        revision = next((v.value for v in self._values(_kw(call, "revision")) if v.value), None)
        out: list[_Sink] = []
        handled: set[str] = set()
        prop: dict[str, JSON] = {"call": ".".join(callee.chain) or last}

        def add(expr: ast.expr | None, via: str, provider: str | None, strong: bool, **extra: JSON) -> None:
            for v in self._values(expr):
                out.append(
                    _Sink(
                        getattr(expr, "lineno", call.lineno),
                        via,
                        v,
                        provider,
                        strong,
                        sdk_name,
                        revision=revision,
                        props={**prop, **extra},
                    )
                )

        if last == "from_pretrained":
            peft = (callee.cls or "").startswith("Peft") and not (callee.cls or "").startswith("PeftConfig")
            index, kws = (1, ("model_id",)) if peft else (0, ("pretrained_model_name_or_path", "repo_id"))
            provider = "google" if sdk and sdk.provider == "google" else "huggingface"
            add(_arg(call, index) or _kw(call, *kws), "from_pretrained", provider, True)
            handled.update(kws)
        elif last in _HF_POSITIONAL:
            repo_type = _str(_kw(call, "repo_type"))
            target = _arg(call, 0) or _kw(call, "repo_id", "model_name_or_path", "model_name", "model")
            if repo_type == "dataset":
                self._dataset_sinks(out, target, last, call, sdk_name, revision)
            else:
                add(target, last, "huggingface", True)
            handled.update({"repo_id", "model_name_or_path", "model_name", "model"})
        elif last == "pipeline" and (
            sdk_name in ("transformers", "diffusers") or "transformers" in self.sdks
        ):
            add(
                _arg(call, 1) or _kw(call, "model"), "pipeline", "huggingface", True, task=_str(_arg(call, 0))
            )
            handled.add("model")
        elif last in ("load_dataset", "load_from_disk") and (
            sdk_name == "datasets" or "datasets" in self.sdks
        ):
            self._load_dataset(out, call, last, sdk_name, revision)
            return out
        elif last == "init_chat_model":
            self._colon_sinks(out, _arg(call, 0) or _kw(call, "model"), call, "init_chat_model", sdk_name)
            handled.add("model")
        elif sdk_name == "litellm" and last in _LITELLM_CALLS:
            add(_arg(call, 0) or _kw(call, "model"), "model=", None, True)
            handled.add("model")
        elif last == "GenerativeModel" and sdk and sdk.provider == "google":
            add(_arg(call, 0) or _kw(call, "model_name"), "GenerativeModel", "google", True)
            handled.add("model_name")
        elif sdk_name in ("vllm", "mlx-lm") and last in ("LLM", "load", "AsyncLLMEngine"):
            add(_arg(call, 0) or _kw(call, "model", "path_or_hf_repo"), last, "huggingface", True)
            handled.update({"model", "path_or_hf_repo"})
        elif sdk_name == "ollama" and last in _OLLAMA_CALLS and callee.client is None:
            add(_arg(call, 0) or _kw(call, "model"), "ollama." + last, "ollama", True)
            handled.add("model")

        elif last == "add_argument" or last == "option":
            flag = next((f for a in call.args if (f := _str(a)) and f.startswith("--")), None)
            if flag and _MODEL_NAME_RX.search(flag.lstrip("-").replace("-", "_")):
                add(_kw(call, "default"), f"argument:{flag}", self._weak_ctx(), False)
            return out

        family = self._api_family(callee)
        known_call = (
            sdk is not None or callee.client is not None or family is not None or last in _HF_POSITIONAL
        )
        if family is not None:
            fam_provider, fam_sdk = family
            ctx = ctx or fam_provider
            if sdk_name is None:
                sdk_name = fam_sdk
        for k in call.keywords:
            if k.arg is None or k.arg in handled:
                continue
            if known_call and (k.arg in MODEL_KWARGS or (k.arg == "llm" and _str(k.value) is not None)):
                add(k.value, f"{k.arg}=", ctx, True)
            elif k.arg in _GENERIC_MODEL_KWARGS:
                add(k.value, f"{k.arg}=", None, False)
            elif known_call and k.arg == "id" and sdk_name == "agno":
                add(k.value, "id=", ctx, True)
        return out

    def _api_family(self, callee: _Callee) -> tuple[str | None, str | None] | None:
        """For ``x.chat.completions.create`` and kin: the provider and SDK the API shape implies."""
        if not callee.chain or callee.chain[-1] not in _API_METHODS:
            return None
        chain = tuple(callee.chain)
        for apis, provider, sdks in _API_FAMILIES:
            if any(chain[-len(api) :] == api for api in apis):
                if provider == "bedrock" and callee.client is None and not self.has_boto3:
                    return None
                if callee.client is not None:
                    return callee.client.provider, callee.client.sdk.sdk
                imported = [s for s in sdks if s in self.sdks]
                if callee.sdk is not None and callee.sdk.provider:
                    return callee.sdk.provider, callee.sdk.sdk
                if imported:
                    info = self.sdks[imported[0]].info
                    return info.provider or provider, info.sdk
                return None, None
        return None

    def _colon_sinks(
        self, out: list[_Sink], expr: ast.expr | None, call: ast.Call, via: str, sdk_name: str | None
    ) -> None:
        explicit = _str(_kw(call, "model_provider"))
        explicit_provider = _COLON_PROVIDERS.get(explicit) if explicit else None
        for v in self._values(expr):
            value, provider, props = v.value, explicit_provider, {"call": via}
            if value is not None:
                split_provider, model = _split_colon(value)
                if split_provider is not None:
                    props["as_written"] = value
                    value, provider = model, split_provider
            line = getattr(expr, "lineno", call.lineno)
            out.append(_Sink(line, via, _Value(value, v.env_var), provider, True, sdk_name, props=props))

    def _load_dataset(
        self, out: list[_Sink], call: ast.Call, last: str, sdk_name: str | None, revision: str | None
    ) -> None:
        first = _arg(call, 0) or _kw(call, "path", "dataset_path")
        names = self._values(first)
        builders = [
            v for v in names if v.value and v.value.lower() in ("csv", "json", "parquet", "text", "arrow")
        ]
        if builders or not names:
            files = _kw(call, "data_files", "data_dir")
            values = self._values(files, collections=True)
            for v in values:
                source = dataset_source(v.value) if v.value else "file"
                line = getattr(files, "lineno", call.lineno)
                via = f"{last}(data_files=)"
                out.append(_Sink(line, via, v, None, True, sdk_name, dataset=True, props={"source": source}))
            names = [n for n in names if n not in builders]
        self._dataset_sinks(out, first, last, call, sdk_name, revision, names)

    def _dataset_sinks(
        self,
        out: list[_Sink],
        expr: ast.expr | None,
        via: str,
        call: ast.Call,
        sdk_name: str | None,
        revision: str | None,
        values: list[_Value] | None = None,
    ) -> None:
        for v in self._values(expr) if values is None else values:
            props: dict[str, JSON] = {"source": dataset_source(v.value) if v.value else "huggingface"}
            if revision:
                props["revision"] = revision
            out.append(
                _Sink(
                    getattr(expr, "lineno", call.lineno),
                    via,
                    v,
                    None,
                    True,
                    sdk_name,
                    dataset=True,
                    props=props,
                )
            )

    # -- agents ---------------------------------------------------------------------------------

    def _agent(self, call: ast.Call, callee: _Callee) -> None:
        sdk = callee.sdk
        if sdk is None or sdk.category not in ("agent-framework", "framework"):
            return
        name = next(
            (v.value for v in self._values(_kw(call, "name", "role", "agent_name")) if v.value), None
        ) or (
            _str(_arg(call, 0)) if sdk.sdk in ("autogen", "autogen-agentchat", "ag2", "pyautogen") else None
        )
        if not name:
            assigned = self.assigned_to.get(id(call))
            name = assigned.split(".")[-1] if assigned else f"{callee.last}@{call.lineno}"
        agent = _Agent(name, call.lineno, sdk.sdk, callee.last, _names_in(_kw(call, "tools")))
        self.agents.append(agent)
        framework_provider = sdk.provider if sdk.category == "agent-framework" else None
        model_exprs: list[ast.expr] = [e for k in _AGENT_MODEL_KWARGS if (e := _kw(call, k)) is not None]
        if (callee.last in _POSITIONAL_MODEL_AGENTS or sdk.sdk == "pydantic-ai") and call.args:
            model_exprs.insert(0, call.args[0])
        for expr in model_exprs:
            for sink in self._agent_model_sinks(expr, call, framework_provider, sdk.sdk):
                self.sinks.append(replace(sink, owner=f"agent:{len(self.agents) - 1}"))

    def _agent_model_sinks(
        self, expr: ast.expr, call: ast.Call, provider: str | None, sdk_name: str, depth: int = 0
    ) -> list[_Sink]:
        if isinstance(expr, ast.Call):
            return self._call_sinks(expr, self._callee(expr.func))
        if isinstance(expr, ast.Name | ast.Attribute):
            key = _target_key(expr)
            if key is not None and key in self.model_objects:
                return self.model_objects[key]
        if isinstance(expr, ast.Dict) and depth < 4:
            out: list[_Sink] = []
            for k, v in zip(expr.keys, expr.values, strict=False):
                if _str(k) in ("model", "model_name") or isinstance(v, ast.Dict | ast.List):
                    out.extend(self._agent_model_sinks(v, call, provider, sdk_name, depth + 1))
            return out
        if isinstance(expr, ast.List) and depth < 4:
            nested = (
                self._agent_model_sinks(e, call, provider, sdk_name, depth + 1) for e in expr.elts[:_MAX_LIST]
            )
            return [s for sinks in nested for s in sinks]
        out = []
        self._colon_sinks(out, expr, call, "agent(model=)", sdk_name)
        return [replace(s, provider=s.provider or provider) for s in out]

    # -- MCP ------------------------------------------------------------------------------------

    def _mcp_call(self, call: ast.Call, callee: _Callee) -> None:
        sdk = callee.sdk
        last = callee.last
        if last == "run":
            root, _ = _chain(call.func)
            server_name = self.mcp_vars.get(root) if isinstance(root, str) else None
            transport = _str(_kw(call, "transport")) or _str(_arg(call, 0))
            if server_name and transport:
                self.mcp_servers[server_name].props["transport"] = transport
            return
        if sdk is None:
            return
        if (last in _MCP_SERVER_CLASSES and sdk.sdk in ("mcp", "fastmcp")) or (
            last == "Server" and (callee.qual or "").startswith("mcp.server")
        ):
            name = next((v.value for v in self._values(_arg(call, 0) or _kw(call, "name")) if v.value), None)
            server = _McpServer(name or f"{last}@{call.lineno}", call.lineno, sdk.sdk, "defined")
            self.mcp_servers[server.name] = server
            key = self.assigned_to.get(id(call))
            if key is not None:
                self.mcp_vars[key] = server.name
            return
        if last == "Tool" and sdk.sdk == "mcp":
            tool = _str(_kw(call, "name"))
            lowlevel = [s for s in self.mcp_servers.values() if s.role == "defined"]
            if tool and len(lowlevel) == 1:
                lowlevel[0].tools.append(tool)
            return
        if last in _MCP_CLIENT_CALLS and sdk.category in ("mcp", "agent-framework", "framework"):
            for server in self._mcp_client_servers(call, last, sdk.sdk):
                self.mcp_refs.append((server, sdk.sdk))

    def _mcp_client_servers(self, call: ast.Call, last: str, sdk_name: str) -> list[_McpServer]:
        specs: list[tuple[str | None, Mapping[str, ast.expr]]] = []
        if last == "MultiServerMCPClient":
            conf = _arg(call, 0) or _kw(call, "connections")
            if isinstance(conf, ast.Dict):
                for k, v in zip(conf.keys, conf.values, strict=False):
                    if isinstance(v, ast.Dict):
                        specs.append((_str(k), _dict_fields(v)))
        else:
            fields: dict[str, ast.expr] = {k.arg: k.value for k in call.keywords if k.arg}
            params = fields.get("params") or fields.get("server_params") or fields.get("serverparams")
            if isinstance(params, ast.Dict):
                fields.update(_dict_fields(params))
            if last in ("sse_client", "streamablehttp_client") and "url" not in fields and call.args:
                fields["url"] = call.args[0]
            specs.append((_str(fields.get("name")), fields))
        out: list[_McpServer] = []
        for name, spec in specs:
            command = _str(spec.get("command"))
            url = next((v.value for v in self._values(spec.get("url")) if v.value), None)
            args = spec.get("args")
            package = None
            if isinstance(args, ast.List | ast.Tuple):
                package = next(
                    (
                        s
                        for e in args.elts
                        if (s := _str(e)) and not s.startswith("-") and _PACKAGE_ARG.match(s)
                    ),
                    None,
                )
            props: dict[str, JSON] = {"client": last}
            if command:
                props["command"] = command
            if package:
                props["package"] = package
            if url:
                props["url"] = redact_url(url)
            transport = _str(spec.get("transport"))
            props["transport"] = transport or ("stdio" if command else ("http" if url else "unknown"))
            label = name or package or (props.get("url") if url else None) or command
            if not label:
                continue
            out.append(_McpServer(str(label), call.lineno, sdk_name, "referenced", props=props))
        return out

    def _function(self, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for dec in fn.decorator_list:
            target = dec.func if isinstance(dec, ast.Call) else dec
            root, attrs = _chain(target)
            if not isinstance(root, str) or len(attrs) != 1:
                continue
            server_name = self.mcp_vars.get(root)
            if server_name is None:
                continue
            server = self.mcp_servers[server_name]
            label = fn.name
            if isinstance(dec, ast.Call):
                label = (
                    _str(_kw(dec, "name"))
                    or (_str(_arg(dec, 0)) if attrs[0] in ("resource", "prompt") else None)
                    or fn.name
                )
            if attrs[0] == "tool":
                server.tools.append(label)
            elif attrs[0] == "resource":
                server.resources.append(label)
            elif attrs[0] == "prompt":
                server.prompts.append(label)
        self._param_defaults(fn)

    # -- weak evidence: model-named constants and parameters, JSON-like dicts ---------------------

    def _param_defaults(self, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        args = fn.args
        positional = [*args.posonlyargs, *args.args]
        pairs = list(zip(positional[len(positional) - len(args.defaults) :], args.defaults, strict=False))
        pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=False) if d is not None]
        for arg, default in pairs:
            if _MODEL_NAME_RX.search(arg.arg):
                for v in self._values(default):
                    self.sinks.append(
                        _Sink(default.lineno, f"param:{arg.arg}", v, self._weak_ctx(), False, None)
                    )

    def _dict_mentions(self, dicts: list[ast.Dict]) -> None:
        """Values under model-named keys of any dict literal (``{"model": ...}``, ``"FAST_LLM": ...}``)."""
        for d in dicts:
            for k, v in zip(d.keys, d.values, strict=False):
                key = _str(k)
                if key is None or key in _NOT_MODEL_NAMES:
                    continue
                if key in _DICT_MODEL_KEYS or _MODEL_NAME_RX.search(key):
                    for val in self._values(v):
                        self._weak_sink(v.lineno, f"dict:{key}", val, None)

    def _model_records(self, nodes: _Nodes) -> None:
        """Model records: ``[{"id": "dall-e-3", "name": "DALL·E 3"}]``, ``{"id": ..., "owned_by": ...}``.

        An ``id`` is a model id only where the dict reads like a model record: it sits in a list of
        records, or it has a field only model records have (``owned_by``, ``object: "model"``). A
        ``name`` counts only in a record with such a field or in a list assigned to a model-named
        variable, and never next to an ``id`` (there it is a display label). All of it is weak
        evidence: the catalog must know the id, so ``{"id": "user-123"}`` is never a model.
        """
        in_records: set[int] = set()
        named_lists: set[int] = set()
        for seq in nodes.sequences:
            for e in seq.elts[:_MAX_LIST]:
                if isinstance(e, ast.Dict):
                    in_records.add(id(e))
        for node in nodes.assigns:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if isinstance(node.value, ast.List | ast.Tuple | ast.Set) and any(
                _is_model_named(_assigned_name(t)) for t in targets
            ):
                named_lists.update(id(e) for e in node.value.elts[:_MAX_LIST] if isinstance(e, ast.Dict))
        for d in nodes.dicts:
            fields = _dict_fields(d)
            if any(k in fields for k in _DICT_MODEL_KEYS):
                continue  # ``_dict_mentions`` reads those
            model_fields = bool(fields.keys() & _MODEL_RECORD_FIELDS) or _str(fields.get("object")) == "model"
            listed = id(d) in in_records
            key = "id" if "id" in fields else "name" if "name" in fields else None
            if key is None or not (
                model_fields or (key == "id" and listed) or (key == "name" and id(d) in named_lists)
            ):
                continue
            value = fields[key]
            for val in self._values(value):
                self._weak_sink(value.lineno, f"record:{key}", val, None)

    def _weak_sink(self, line: int, via: str, v: _Value, provider: str | None) -> None:
        """A weak mention; ``openai:gpt-4o`` is split into its provider and the id the catalog knows."""
        props: dict[str, JSON] = {}
        if v.value is not None:
            split_provider, model = _split_colon(v.value)
            if split_provider is not None:
                props["as_written"] = v.value
                v, provider = _Value(model, v.env_var), split_provider
        self.sinks.append(_Sink(line, via, v, provider, False, None, props=props))

    def _unconsumed_constants(self, nodes: _Nodes) -> None:
        """``DEFAULT_MODEL = "gpt-4o"`` used by another module: weak mentions, only the catalog decides."""
        seen: set[tuple[str, int]] = set()
        for node in nodes.assigns:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            value = node.value
            if value is None:
                continue
            for t in targets:
                name = t.id if isinstance(t, ast.Name) else t.attr if isinstance(t, ast.Attribute) else None
                if name is None or name in self.consumed or name in _NOT_MODEL_NAMES:
                    continue
                if not _MODEL_NAME_RX.search(name):
                    continue
                if (name, node.lineno) in seen:
                    continue
                seen.add((name, node.lineno))
                for v in self._values(value, collections=True):
                    if name in self.settings_fields and v.env_var is None:
                        v = _Value(v.value, name.upper())
                    self.sinks.append(_Sink(value.lineno, f"assign:{name}", v, self._weak_ctx(), False, None))

    def _weak_ctx(self) -> str | None:
        """Only Hugging Face context is worth lending to weak evidence: it admits ``org/name`` ids."""
        return "huggingface" if self.sdks.keys() & _HF_PROVIDER_SDKS else None

    # -- output ---------------------------------------------------------------------------------

    def _sdk_ids(self) -> dict[str, str]:
        return {sdk: self._sdk_asset(use).id for sdk, use in self.sdks.items()}

    def _sdk_asset(self, use: _SdkUse) -> Asset:
        line, extra = self._line(use.line)
        providers = sorted({c.provider for c in use.clients if c.provider})
        props: dict[str, JSON] = {
            "provider": providers[0] if len(providers) == 1 else use.info.provider,
            "category": use.info.category,
            "imports": sorted(use.imports),
            "language": "python",
            **extra,
        }
        if use.clients:
            props["clients"] = [
                {
                    "class": c.cls,
                    "provider": c.provider,
                    "base_url": c.base_url,
                    "line": self._line(c.line)[0],
                }
                for c in use.clients[:_MAX_LIST]
            ]
        return sdk_usage_asset(use.info.sdk, self.path, Location(self.path, line), self.scope, **props)

    def _emit(self) -> list[Observation]:
        out: list[Observation] = []
        sdk_ids: dict[str, str] = {}
        for sdk in sorted(self.sdks):
            use = self.sdks[sdk]
            asset = self._sdk_asset(use)
            sdk_ids[sdk] = asset.id
            out.append(asset)
            for c in use.clients:
                if c.provider in SAAS_PROVIDERS:
                    prov = provider_asset(c.provider, self._loc(c.line), self.scope)
                    out.append(prov)
                    out.append(Relation(asset.id, prov.id, RelationKind.CALLS_PROVIDER))
            if self.fallback_owner:
                out.append(Relation(self.fallback_owner, asset.id, RelationKind.CONTAINS))
        agent_ids: dict[str, str] = {}
        for i, agent in enumerate(self.agents):
            line, extra = self._line(agent.line)
            props: dict[str, JSON] = {"framework": agent.framework, "class": agent.cls, **extra}
            if agent.tools:
                props["tools"] = agent.tools
            asset = Asset.create(
                AssetKind.AGENT, agent.name, key=(self.path, agent.framework, agent.name),
                location=Location(self.path, line), properties=props, scope=self.scope,
            )  # fmt: skip
            agent_ids[f"agent:{i}"] = asset.id
            out.append(asset)
            if agent.framework in sdk_ids:
                out.append(Relation(sdk_ids[agent.framework], asset.id, RelationKind.CONTAINS))
        for server in self.mcp_servers.values():
            out.append(self._mcp_asset(server))
        for server, ref_sdk in self.mcp_refs:
            asset = self._mcp_asset(server)
            out.append(asset)
            if ref_sdk in sdk_ids:
                out.append(Relation(sdk_ids[ref_sdk], asset.id, RelationKind.DEPENDS_ON))
        out.extend(self._mentions(sdk_ids, agent_ids))
        return out

    def _mcp_asset(self, server: _McpServer) -> Asset:
        line, extra = self._line(server.line)
        props: dict[str, JSON] = {"framework": server.framework, "role": server.role, "language": "python"}
        props.update(server.props)
        props.update(extra)
        if server.role == "defined":
            props["tools"] = sorted(set(server.tools))
            if server.resources:
                props["resources"] = sorted(set(server.resources))
            if server.prompts:
                props["prompts"] = sorted(set(server.prompts))
        return Asset.create(
            AssetKind.MCP_SERVER, server.name, key=(self.path, server.role, server.name),
            location=Location(self.path, line), properties=props, scope=self.scope,
        )  # fmt: skip

    def _mentions(self, sdk_ids: Mapping[str, str], agent_ids: Mapping[str, str]) -> Iterator[ModelMention]:
        primary = self._primary_owner(sdk_ids)
        seen: set[tuple[object, ...]] = set()
        for s in self.sinks:
            if s.value.value is None and s.value.env_var is None:
                continue
            owner = agent_ids.get(s.owner or "") or sdk_ids.get(s.sdk or "") or primary or self.fallback_owner
            line, extra = self._line(s.line)
            key = (line, s.via, s.value, s.provider, owner, s.dataset, s.strong)
            if key in seen:
                continue
            seen.add(key)
            yield ModelMention(
                location=Location(self.path, line),
                via=s.via,
                value=s.value.value,
                env_var=s.value.env_var,
                provider=s.provider,
                strong=s.strong,
                dataset=s.dataset,
                owner=owner,
                revision=s.revision,
                properties={**{k: v for k, v in s.props.items() if v is not None}, **extra},
            )

    def _primary_owner(self, sdk_ids: Mapping[str, str]) -> str | None:
        """The SDK that owns mentions no call ties to one: the file's only model-calling SDK, if one."""
        callers = [
            sdk for sdk, use in self.sdks.items()
            if use.info.category in ("provider-sdk", "framework", "agent-framework", "gateway", "ml-runtime")
            and (use.info.provider is not None or use.info.category != "ml-runtime")
        ]  # fmt: skip
        return sdk_ids[callers[0]] if len(callers) == 1 else None


def _is_model_named(name: str | None) -> bool:
    return name is not None and name not in _NOT_MODEL_NAMES and bool(_MODEL_NAME_RX.search(name))


def _assigned_name(target: ast.expr) -> str | None:
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    return None


def _dict_fields(d: ast.Dict) -> dict[str, ast.expr]:
    return {k: v for key, v in zip(d.keys, d.values, strict=False) if (k := _str(key)) is not None}
