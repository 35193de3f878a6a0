"""Decide whether a string names a model, and whose model it is.

One classifier serves every source, so precision rules live in one place. A string is a model when

(a) the vendored catalog knows it (a LiteLLM snapshot, see :mod:`aispm.catalog.models`);
(b) it is a gateway or router id, ``provider/model`` (``openai/gpt-4o``, ``groq/llama3-8b-8192``),
    whose model part the catalog knows or has that provider's shape;
(c) it has Hugging Face ``org/name`` shape in a position that only holds model ids
    (``from_pretrained``, ``pipeline(model=)``, ``--model``) or in Hugging Face context; or
(d) a provider context vouches for it (the SDK, client or base URL in use) and it has the shape of
    that provider's ids (``claude-*`` under Anthropic, ``gemini-*`` under Google...).

Type names, tokenizer names, env-var names, format strings, placeholders, URLs, file paths and
bare common words are never models. A path is a *local* model only where the position is strong.
The name returned is always the id exactly as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aispm.analysis.providers import (
    CLOSED_ORIGINS,
    GATEWAYS,
    HOST_RANK,
    OPEN_WEIGHT_HOSTS,
    ORIGIN_RANK,
    VENDOR_SLUGS,
)
from aispm.catalog.models import CatalogEntry, catalog

MAX_ID_LENGTH = 200
_VOCABULARY = frozenset(ORIGIN_RANK) | frozenset(HOST_RANK)

_HF_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
#: Old Hugging Face ids without an org (``gpt2``, ``bert-base-uncased``): need a digit or a hyphen.
_HF_LEGACY_ID = re.compile(r"^(?=.*[0-9-])[A-Za-z0-9][A-Za-z0-9._-]{1,95}$")
_REPLICATE_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*/[a-z0-9][a-z0-9_.-]*(:[0-9a-f]{8,64})?$")
#: Characters that make a string a template, an expression or prose rather than an id.
_NOT_ID_CHARS = re.compile(r"[{}%$<>\s\"'`|,;()\[\]*?!=#^&+]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]+$")
_PURE_WORD = re.compile(r"^[A-Za-z]+$")
_WINDOWS_PATH = re.compile(r"^[A-Za-z]:[\\/]")
_FILE_EXT = re.compile(
    r"\.(gguf|ggml|bin|safetensors|pt|pth|onnx|ckpt|h5|hdf5|keras|pkl|pickle|joblib|tflite|mlmodel|pb"
    r"|json|jsonl|ya?ml|toml|txt|md|csv|tsv|parquet|arrow|py|ipynb|npz|npy|zip|tar|gz|tgz|model|msgpack"
    r"|llamafile|mar|engine|plan|xml|html?)$",
    re.IGNORECASE,
)
_VERSIONED = re.compile(r"[0-9]")

TYPE_NAMES = frozenset(
    {"str", "string", "int", "integer", "float", "double", "bool", "boolean", "none", "null", "optional",
     "any", "list", "dict", "tuple", "set", "object", "union", "literal", "type", "bytes", "number",
     "array", "text", "char", "varchar", "uuid", "date", "datetime", "callable", "self", "true", "false"}
)  # fmt: skip
#: tiktoken encodings: names of tokenizers, never of models.
TOKENIZER_NAMES = frozenset(
    {"o200k_base", "o200k_harmony", "cl100k_base", "p50k_base", "p50k_edit", "r50k_base"}
)
#: Ids that are models in a model position but tokenizers in a tokenizer position.
_AMBIGUOUS_TOKENIZERS = frozenset({"gpt2"})
#: ``load_dataset`` builders: they read files given elsewhere, they are not dataset names.
DATASET_BUILDERS = frozenset(
    {"csv", "json", "jsonl", "parquet", "text", "arrow", "imagefolder", "audiofolder", "videofolder",
     "webdataset", "pandas", "sql", "generator", "xml", "spark", "folder"}
)  # fmt: skip
_DATASET_URL = re.compile(r"^(https?|s3|gs|gcs|hf|az|abfs|abfss)://[^\s]+$")

_OPEN_FAMILIES = (
    r"llama|mistral|mixtral|gemma|qwen|qwq|phi-?\d|deepseek|gpt-oss|falcon|codellama|starcoder|vicuna|yi-"
    r"|command-r|granite|olmo|nemotron|kimi|glm|hermes|wizard|zephyr|dolphin|openchat|stablelm|minicpm"
    r"|internlm|aya|bge|e5-|nomic-embed|mxbai-embed|all-minilm|snowflake-arctic|jina|whisper|llava"
    r"|moondream|smollm|tinyllama|orca|solar|dbrx|jamba|ernie|baichuan|chatglm|exaone|flux|stable-diffusion"
    r"|sdxl|gpt-j|gpt-neo|pythia|bloom|opt-\d|t5|bert|roberta|minilm|mpnet|sentence-t5|gte-|arctic-embed"
)
_OPEN_MODEL = re.compile(r"^[\w./:@-]+$")
_OPEN_FAMILY = re.compile(rf"({_OPEN_FAMILIES})", re.IGNORECASE)

#: The shape of each provider's own ids, for ids newer than the catalog snapshot.
_SHAPES: dict[str, re.Pattern[str]] = {
    p: re.compile(rx)
    for p, rx in {
        "openai": r"^(gpt-[0-9][\w.:-]*|gpt-oss[\w.:-]*|gpt-image-[\w.-]+|chatgpt-[\w.-]+|o[1-9](-[\w.-]+)?"
        r"|text-embedding-[\w.-]+|dall-e-[\w.-]+|whisper-[\w.-]+|tts-[\w.-]+|omni-moderation-[\w.-]+"
        r"|text-moderation-[\w.-]+|(text-)?(davinci|babbage|curie|ada)-[\w.-]+|computer-use-[\w.-]+"
        r"|codex-[\w.-]+|sora-[\w.-]+|ft:[\w.:-]+)$",
        "anthropic": r"^claude-[\w.@:-]+$",
        "google": r"^(models/)?(gemini-[\w.-]+|gemma-[\w.-]+|text-embedding-\d+"
        r"|text-multilingual-embedding-[\w.-]+|embedding-\d+|imagen-[\w.-]+|veo-[\w.-]+|(chat|text)-bison[\w@.-]*|textembedding-gecko[\w@.-]*"
        r"|learnlm-[\w.-]+)$",
        "mistral": r"^(mistral-[\w.-]+|open-mistral-[\w.-]+|open-mixtral-[\w.-]+|mixtral-[\w.-]+"
        r"|codestral-[\w.-]+|ministral-[\w.-]+|pixtral-[\w.-]+|magistral-[\w.-]+|devstral-[\w.-]+|voxtral-[\w.-]+)$",
        "cohere": r"^(command-[\w.-]+|embed-[\w.-]+|rerank-[\w.-]+|c4ai-aya-[\w.-]+)$",
        "deepseek": r"^deepseek-[\w.-]+$",
        "xai": r"^grok-[\w.-]+$",
        "ai21": r"^(jamba-[\w.@-]+|j2-[\w.-]+)$",
        "voyage": r"^(voyage-[\w.-]+|rerank-[\w.-]+)$",
        "perplexity": r"^(sonar-[\w.-]+|llama-3\.1-sonar-[\w.-]+|r1-1776)$",
        "moonshot": r"^(moonshot-v1-[\w.-]+|kimi-[\w.-]+)$",
        "dashscope": r"^(qwen[\w.-]+|qwq-[\w.-]+)$",
        "bedrock": r"^(arn:aws[\w-]*:bedrock:[\w-]*:\d*:[\w/.:-]+"
        r"|((us|eu|apac|global|us-gov|jp|au|ca)\.)?(anthropic|amazon|meta|mistral|cohere|ai21|stability|deepseek"
        r"|writer|qwen|openai|twelvelabs|luma|minimax|moonshot|moonshotai|google|nvidia|zai)\.[\w.:-]+)$",
    }.items()
}
#: Whose ids a host's context admits by shape: Azure OpenAI deployments carry OpenAI's names.
_HOST_SHAPES: dict[str, tuple[str, ...]] = {
    "azure-openai": ("openai",),
    "github-copilot": ("openai", "anthropic", "google"),
    "google": ("google", "anthropic"),
    "bedrock": ("bedrock",),
}
#: Families distinctive enough to name their maker even under another SDK's context.
_DISTINCTIVE = ("anthropic", "google", "xai", "deepseek", "mistral", "openai")
#: On an Azure OpenAI client, ``model=`` too names a deployment, which the customer named.
_AZURE_DEPLOYMENT_VIA = ("model", "deployment_name", "azure_deployment", "deployment_id", "engine")
_DEPLOYMENT_NAME = re.compile(r"^(?=.*[0-9-])[A-Za-z0-9][A-Za-z0-9._-]{1,63}$")


@dataclass(frozen=True, slots=True)
class ModelIdentity:
    """A string accepted as a model: ``name`` exactly as written, and the provider that owns it."""

    name: str
    provider: str
    known: bool
    basis: str


def identify_model(value: str, *, provider: str | None, via: str, strong: bool) -> ModelIdentity | None:
    """The model ``value`` names, or None when it is not a model id.

    ``provider`` is the provider the context implies (SDK, client, base URL), ``via`` how the value
    was found, ``strong`` whether the position only ever holds model ids.
    """
    v = value.strip()
    if not v or len(v) > MAX_ID_LENGTH or _CONTROL.search(v) or "://" in v:
        return None
    if _is_path(v):
        return ModelIdentity(v, "local", known=False, basis="local-path") if strong else None
    if _NOT_ID_CHARS.search(v) or "\\" in v:
        return None
    if _FILE_EXT.search(v):
        return ModelIdentity(v, "local", known=False, basis="local-path") if strong else None
    low = v.lower()
    if low in TYPE_NAMES or low in TOKENIZER_NAMES or _ENV_NAME.match(v):
        return None
    if low in _AMBIGUOUS_TOKENIZERS and _tokenizer_position(via):
        return None
    if v.startswith(("-", ".", "/", ":", "@")) or v.endswith(("/", ":", "-", ".")):
        return None
    if provider == "huggingface" and _HF_ID.match(v):
        # In Hugging Face context "openai/whisper-large-v3" is the openai org on the Hub, not a route.
        return ModelIdentity(v, "huggingface", known=catalog().get(v) is not None, basis="huggingface-syntax")
    return (
        _from_catalog(v, provider, strong)
        or _from_route(v, provider, strong)
        or _from_hf_syntax(v, provider, strong)
        or _from_shape(v, provider, via, strong)
    )


def _is_path(v: str) -> bool:
    return v.startswith(("./", "../", "/", "~/", "~\\", ".\\", "..\\")) or bool(_WINDOWS_PATH.match(v))


def _tokenizer_position(via: str) -> bool:
    low = via.lower()
    return "token" in low or "encod" in low


def _pick(entry: CatalogEntry, ctx: str | None) -> str:
    """The provider of a catalog hit: the context where it serves the id, else the id's owner."""
    if ctx is None:
        return entry.owner
    if ctx in GATEWAYS or ctx in entry.providers:
        return ctx
    if ctx == "azure-openai" and entry.owner == "openai":
        return ctx
    if ctx in OPEN_WEIGHT_HOSTS and entry.owner not in CLOSED_ORIGINS:
        return ctx
    return entry.owner


def _from_catalog(v: str, ctx: str | None, strong: bool) -> ModelIdentity | None:
    cat = catalog()
    entry = cat.get(v)
    if entry is None and v.startswith("models/"):
        entry = cat.get(v.removeprefix("models/"))
    if entry is None:
        return None
    if _PURE_WORD.match(v) and ctx not in entry.providers:
        # "command", "mistral", "whisper": ids only where the provider that serves them is in context.
        return None
    if ctx is None and not strong and entry.owner not in _VOCABULARY:
        # Weak evidence (a constant, a dict key) is trusted only for the providers we know well;
        # a niche catalog's "nova-3" or "jev-latest" could be anything in someone else's code.
        return None
    return ModelIdentity(v, _pick(entry, ctx), known=True, basis="catalog")


def _from_route(v: str, ctx: str | None, strong: bool) -> ModelIdentity | None:
    """``provider/model`` as LiteLLM routes and AI gateways write them."""
    if "/" not in v:
        return None
    prefix, rest = v.split("/", 1)
    cat = catalog()
    routed = cat.route(prefix)
    vendor = VENDOR_SLUGS.get(prefix.lower())
    if routed is None and vendor is None:
        return None
    target = routed or vendor or ""
    provider = ctx if ctx in GATEWAYS else target
    entry = cat.get(rest)
    if entry is not None and not _PURE_WORD.match(rest):
        return ModelIdentity(v, provider, known=True, basis="catalog-route")
    if entry is not None and target in entry.providers:
        return ModelIdentity(v, provider, known=True, basis="catalog-route")
    if target in ("huggingface",) and _HF_ID.match(rest):
        return ModelIdentity(v, "huggingface" if ctx not in GATEWAYS else provider, False, "route-syntax")
    if "/" in rest and target in GATEWAYS:
        inner = _from_route(rest, None, strong)
        if inner is not None:
            return ModelIdentity(v, provider, inner.known, "route-syntax")
        return None
    if _matches_shape(rest, target):
        return ModelIdentity(v, provider, known=False, basis="gateway-syntax")
    if target == "azure-openai" and strong and _DEPLOYMENT_NAME.match(rest):
        return ModelIdentity(v, provider, known=False, basis="azure-deployment")
    return None


def _from_hf_syntax(v: str, ctx: str | None, strong: bool) -> ModelIdentity | None:
    if ctx == "replicate" and _REPLICATE_ID.match(v):
        return ModelIdentity(v, "replicate", known=False, basis="replicate-syntax")
    if _HF_ID.match(v) and (strong or ctx == "huggingface") and _plausible_hub_id(v, ctx):
        host = ctx if ctx is not None and (ctx in GATEWAYS or ctx in OPEN_WEIGHT_HOSTS) else "huggingface"
        if host in ("google", "bedrock", "local"):
            host = "huggingface"
        return ModelIdentity(v, host, known=False, basis="huggingface-syntax")
    if ctx == "huggingface" and strong and _HF_LEGACY_ID.match(v) and not _PURE_WORD.match(v):
        return ModelIdentity(v, "huggingface", known=False, basis="huggingface-legacy-id")
    return None


def _plausible_hub_id(v: str, ctx: str | None) -> bool:
    """Reject ``n/a`` and, outside Hub context, router-looking ids (``anthropic/unknown``)."""
    org, name = v.split("/", 1)
    if len(org) < 2 or not name:
        return False
    if ctx != "huggingface" and (catalog().route(org) is not None or org.lower() in VENDOR_SLUGS):
        return bool(_VERSIONED.search(name))
    return True


def _matches_shape(v: str, provider: str) -> bool:
    if _PURE_WORD.match(v) or (not _VERSIONED.search(v) and "-" not in v):
        return False
    shape = _SHAPES.get(provider)
    if shape is not None:
        return bool(shape.match(v))
    if provider in OPEN_WEIGHT_HOSTS:
        return bool(_OPEN_MODEL.match(v) and _OPEN_FAMILY.search(v))
    return False


def _from_shape(v: str, ctx: str | None, via: str, strong: bool) -> ModelIdentity | None:
    """Ids newer than the snapshot, vouched for by the provider in context (or a strong position)."""
    if ctx is None and not strong:
        return None
    if ctx is not None:
        for shape_owner in (ctx, *_HOST_SHAPES.get(ctx, ())):
            if _matches_shape(v, shape_owner):
                return ModelIdentity(v, ctx, known=False, basis="provider-shape")
        deployment = ctx == "azure-openai" and strong and via.rstrip("=") in _AZURE_DEPLOYMENT_VIA
        if deployment and _DEPLOYMENT_NAME.match(v):
            return ModelIdentity(v, ctx, known=False, basis="azure-deployment")
    # Another maker's distinctive family under this context: the OpenAI SDK pointed at Anthropic, say.
    owners = [p for p in _DISTINCTIVE if _matches_shape(v, p)]
    if len(owners) == 1:
        return ModelIdentity(v, owners[0], known=False, basis="provider-shape")
    if ctx is None and strong and _matches_shape(v, "bedrock"):
        return ModelIdentity(v, "bedrock", known=False, basis="provider-shape")
    return None


def identify_dataset(value: str, *, via: str) -> str | None:
    """The dataset name ``value`` gives (a Hub id, a bare Hub name, a file or a URL), or None."""
    v = value.strip()
    if not v or len(v) > 300 or _CONTROL.search(v):
        return None
    if _DATASET_URL.match(v):
        return v
    if "://" in v or re.search(r"[{}%$<>\s\"'`|;()\[\]?!=#^&]", v):
        return None
    low = v.lower()
    if low in TYPE_NAMES or low in DATASET_BUILDERS or _ENV_NAME.match(v):
        return None
    if _is_path(v) or _FILE_EXT.search(v) or "*" in v:
        return v
    if _HF_ID.match(v) or re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$", v):
        return v
    if re.match(r"^[\w.-]+(/[\w.-]+)+$", v):
        return v  # a relative directory of data files
    return None


def dataset_source(name: str) -> str:
    """Where a dataset named ``name`` lives: ``huggingface``, ``file`` or ``url``."""
    if _DATASET_URL.match(name):
        return "url"
    if _is_path(name) or _FILE_EXT.search(name) or "*" in name or name.count("/") > 1:
        return "file"
    return "huggingface"
