"""Facts about self-hosted model servers and AI-bearing configuration names.

Used by the configuration collectors to recognise a model server from its container image or
command line, to pull the model out of its arguments, and to tell which configuration keys and
environment variables hold model ids or point at an AI provider.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

# Image repository (registry and tag stripped, lower case) -> server. Order matters: first match wins.
_SERVER_IMAGES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), s)
    for p, s in (
        (r"(^|/)vllm-openai(-rocm)?$|^vllm/|(^|/)vllm$", "vllm"),
        (r"(^|/)text-generation-inference$", "tgi"),
        (r"(^|/)text-embeddings-inference$", "tei"),
        (r"^ollama/ollama$|(^|/)ollama$", "ollama"),
        (r"^(ggerganov|ggml-org)/llama\.cpp$|(^|/)llama-cpp-python$", "llama.cpp"),
        (r"^(localai/localai|go-skynet/local-ai)$", "localai"),
        (r"^nim/", "nim"),
        (r"^lmsysorg/sglang$|(^|/)sglang$", "sglang"),
        (r"(^|/)tritonserver$", "triton"),
        (r"^(rayproject|anyscale)/ray-llm$", "ray-llm"),
        (r"^kserve/(huggingfaceserver|vllm)", "kserve"),
        (r"^openmmlab/lmdeploy$", "lmdeploy"),
        (r"^xprobe/xinference$", "xinference"),
        (r"^pytorch/torchserve", "torchserve"),
        (r"^tensorflow/serving$", "tf-serving"),
        (r"^rayproject/ray$", "ray"),
    )
)
#: Registries whose prefix says nothing about the image.
_REGISTRY_PREFIXES = ("docker.io/library/", "docker.io/", "index.docker.io/", "registry.hub.docker.com/")
#: Servers whose image alone is not enough: a generic compute image that serves only when told to.
_NEEDS_SERVE_COMMAND = frozenset({"ray"})

# argv fragments that make a command a model server, whatever the image.
_SERVER_COMMANDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("vllm", "serve"), "vllm"),
    (("vllm.entrypoints.openai.api_server",), "vllm"),
    (("text-generation-launcher",), "tgi"),
    (("text-embeddings-router",), "tei"),
    (("ollama", "serve"), "ollama"),
    (("llama-server",), "llama.cpp"),
    (("llama_cpp.server",), "llama.cpp"),
    (("sglang.launch_server",), "sglang"),
    (("tritonserver",), "triton"),
    (("lmdeploy", "serve"), "lmdeploy"),
    (("xinference-local",), "xinference"),
    (("serve", "run"), "ray"),
    (("huggingfaceserver",), "kserve"),
    (("torchserve",), "torchserve"),
)

#: Flags whose value is a model id a server loads (strong positions).
MODEL_FLAGS = frozenset(
    {
        "--model", "--model-id", "--model_id", "--model-path", "--model_path", "--hf-repo", "--hf_repo",
        "-hf", "-hfr", "--model-name-or-path", "--model_name_or_path", "--base-model", "--base_model",
    }
)  # fmt: skip
#: Flags naming the model as the server exposes it (an alias, often not a hub id).
SERVED_NAME_FLAGS = frozenset({"--served-model-name", "--served_model_name", "--model-name", "--model_name"})
#: Flags whose value is a local weights file or directory.
MODEL_FILE_FLAGS = frozenset(
    {"-m", "--model-file", "--model-repository", "--model-store", "--model_repository"}
)
_AUTH_FLAGS = frozenset({"--api-key", "--api_key", "--api-key-file", "--ssl-keyfile", "--auth-token"})
_PORT_FLAGS = frozenset({"--port", "-p"})
_HOST_FLAGS = frozenset({"--host", "--hostname"})
#: Positional model after these command words (``vllm serve <model>``, ``ollama pull <model>``).
_POSITIONAL_MODEL = {("vllm", "serve"): "vllm", ("ollama", "pull"): "ollama", ("ollama", "run"): "ollama"}


@dataclass
class ServingArgs:
    """What a server's command line says: models, served names, files, auth and exposure."""

    models: list[tuple[str, str]] = field(default_factory=list)  # (via, value)
    served_names: list[str] = field(default_factory=list)
    model_files: list[str] = field(default_factory=list)
    auth_flags: list[str] = field(default_factory=list)
    host: str | None = None
    port: str | None = None


def normalise_image(image: str) -> str:
    """The repository part of an image reference: no registry prefix, tag or digest, lower case."""
    ref = image.strip().lower().split("@", 1)[0]
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        ref = ref[:colon]
    for prefix in _REGISTRY_PREFIXES:
        if ref.startswith(prefix):
            ref = ref[len(prefix) :]
            break
    first, _, rest = ref.partition("/")
    # Strip a registry host (has a dot or a port), keep the repository path.
    if rest and ("." in first or ":" in first or first == "localhost"):
        ref = rest
    return ref


def server_for_image(image: str) -> str | None:
    """The model server an image runs (vllm, tgi, ollama...), or None."""
    repo = normalise_image(image)
    for pattern, server in _SERVER_IMAGES:
        if pattern.search(repo):
            return server
    return None


def nim_model_from_image(image: str) -> str | None:
    """The model a NVIDIA NIM image packages (``nvcr.io/nim/meta/llama-3.1-8b-instruct`` ->
    ``meta/llama-3.1-8b-instruct``), or None."""
    repo = normalise_image(image)
    if not repo.startswith("nim/"):
        return None
    rest = repo[len("nim/") :]
    return rest if rest.count("/") == 1 else None


def server_for_command(argv: list[str]) -> str | None:
    """The model server a command line starts, or None."""
    words = [w.rsplit("/", 1)[-1] for w in argv]
    for pattern, server in _SERVER_COMMANDS:
        if _contains_run(words, pattern):
            return server
    return None


def image_needs_serve_command(server: str) -> bool:
    """Whether ``server`` came from a generic image that only serves with a serving command."""
    return server in _NEEDS_SERVE_COMMAND


def split_command(value: object) -> list[str]:
    """A compose/Kubernetes ``command``/``args`` value as argv, unwrapping ``sh -c "..."``."""
    if isinstance(value, str):
        argv = _shlex(value)
    elif isinstance(value, list):
        argv = [str(v) for v in value if isinstance(v, str | int | float)]
    else:
        return []
    out: list[str] = []
    i = 0
    while i < len(argv):
        out.append(argv[i])
        if (
            argv[i] in ("-c", "/c")
            and i > 0
            and argv[i - 1].rsplit("/", 1)[-1] in _SHELLS
            and i + 1 < len(argv)
        ):
            out.extend(_shlex(argv[i + 1]))
            i += 2
            continue
        i += 1
    return out


_SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ash", "cmd", "cmd.exe", "powershell", "pwsh"})


def parse_serving_args(argv: list[str]) -> ServingArgs:
    """The models, served names, model files, auth flags, host and port in ``argv``."""
    out = ServingArgs()
    words = [w.rsplit("/", 1)[-1] for w in argv]
    for (a, b), _server in _POSITIONAL_MODEL.items():
        for i in range(len(words) - 2):
            if words[i] == a and words[i + 1] == b and not argv[i + 2].startswith("-"):
                out.models.append((f"{a} {b}", argv[i + 2]))
    i = 0
    while i < len(argv):
        arg = argv[i]
        flag, eq, inline = arg.partition("=")
        if not flag.startswith("-"):
            i += 1
            continue
        has_next = i + 1 < len(argv) and not argv[i + 1].startswith("-")
        value: str | None = inline if eq else (argv[i + 1] if has_next else None)
        consumed = 1 if eq or value is None else 2
        if flag in _AUTH_FLAGS:
            out.auth_flags.append(flag)
        elif value is None:
            pass
        elif flag in MODEL_FLAGS:
            out.models.append((flag, value))
        elif flag in SERVED_NAME_FLAGS:
            out.served_names.append(value)
        elif flag in MODEL_FILE_FLAGS:
            out.model_files.append(value)
        elif flag in _HOST_FLAGS:
            out.host = value
        elif flag in _PORT_FLAGS:
            out.port = value
        i += consumed
    return out


# --- configuration keys -------------------------------------------------------------------------

#: Environment variables whose value is a model id wherever they appear.
STRONG_MODEL_ENV = frozenset(
    {
        "MODEL_ID", "HF_MODEL_ID", "HF_MODEL", "HUGGINGFACE_MODEL", "HF_MODEL_NAME", "BASE_MODEL",
        "BASE_MODEL_ID", "MODEL_REPO", "HF_REPO_ID", "MODEL_NAME", "LLM_MODEL", "LLM_MODEL_ID",
        "LLM_MODEL_NAME", "CHAT_MODEL", "EMBEDDING_MODEL", "EMBED_MODEL", "EMBEDDING_MODEL_NAME",
        "EMBEDDINGS_MODEL", "RERANK_MODEL", "RERANKER_MODEL", "VLLM_MODEL", "TGI_MODEL_ID",
    }
)  # fmt: skip
#: Generic configuration keys (normalised to snake case) whose value is a model id in any file.
STRONG_MODEL_KEYS = frozenset(
    {
        "model_id", "hf_model_id", "base_model", "base_model_id", "model_repo", "model_url",
        "model_name_or_path", "pretrained_model_name_or_path", "hub_model_id",
    }
)  # fmt: skip
_MODEL_KEY_TAILS = (("model",), ("model", "id"), ("model", "name"), ("model", "url"), ("model", "repo"))
#: Model keys that name something other than a model id (a class, a kind, a directory).
_NOT_MODEL_KEYS = frozenset(
    {"model_type", "model_class", "data_model", "view_model", "orm_model", "db_model"}
)

# Provider a token in a variable name points at (``OPENAI_MODEL`` -> openai).
_NAME_PROVIDERS: tuple[tuple[str, str], ...] = (
    ("azure_openai", "azure-openai"),
    ("aoai", "azure-openai"),
    ("openai", "openai"),
    ("anthropic", "anthropic"),
    ("claude", "anthropic"),
    ("gemini", "google"),
    ("vertex", "vertex-ai"),
    ("bedrock", "bedrock"),
    ("mistral", "mistral"),
    ("groq", "groq"),
    ("cohere", "cohere"),
    ("deepseek", "deepseek"),
    ("xai", "xai"),
    ("grok", "xai"),
    ("ollama", "ollama"),
    ("huggingface", "huggingface"),
    ("hf", "huggingface"),
    ("together", "together"),
    ("fireworks", "fireworks"),
    ("perplexity", "perplexity"),
    ("openrouter", "openrouter"),
    ("replicate", "replicate"),
)

#: Environment variables that hold a provider's key or endpoint: presence means the provider is used.
PROVIDER_ENV: dict[str, str] = {
    "OPENAI_API_KEY": "openai",
    "OPENAI_ORG_ID": "openai",
    "OPENAI_ORGANIZATION": "openai",
    "ANTHROPIC_API_KEY": "anthropic",
    "CLAUDE_API_KEY": "anthropic",
    "AZURE_OPENAI_API_KEY": "azure-openai",
    "AZURE_OPENAI_KEY": "azure-openai",
    "AZURE_OPENAI_ENDPOINT": "azure-openai",
    "GEMINI_API_KEY": "google",
    "GOOGLE_API_KEY": "google",
    "GOOGLE_GENERATIVE_AI_API_KEY": "google",
    "GROQ_API_KEY": "groq",
    "MISTRAL_API_KEY": "mistral",
    "COHERE_API_KEY": "cohere",
    "CO_API_KEY": "cohere",
    "DEEPSEEK_API_KEY": "deepseek",
    "XAI_API_KEY": "xai",
    "TOGETHER_API_KEY": "together",
    "TOGETHERAI_API_KEY": "together",
    "FIREWORKS_API_KEY": "fireworks",
    "PERPLEXITY_API_KEY": "perplexity",
    "PPLX_API_KEY": "perplexity",
    "OPENROUTER_API_KEY": "openrouter",
    "REPLICATE_API_TOKEN": "replicate",
    "REPLICATE_API_KEY": "replicate",
    "AI21_API_KEY": "ai21",
    "VOYAGE_API_KEY": "voyage",
    "CEREBRAS_API_KEY": "cerebras",
    "NVIDIA_API_KEY": "nvidia-nim",
    "DEEPINFRA_API_KEY": "deepinfra",
    "DEEPINFRA_API_TOKEN": "deepinfra",
    "MOONSHOT_API_KEY": "moonshot",
    "DASHSCOPE_API_KEY": "dashscope",
    "AWS_BEARER_TOKEN_BEDROCK": "bedrock",
    "AI_GATEWAY_API_KEY": "vercel-ai-gateway",
    "HUGGINGFACE_API_KEY": "huggingface-inference",
    "HF_INFERENCE_ENDPOINT": "huggingface-inference",
}
#: Variables that configure authentication of a self-hosted server.
SERVER_AUTH_ENV = frozenset({"VLLM_API_KEY", "API_KEY", "OLLAMA_API_KEY", "LOCALAI_API_KEY", "TGI_API_KEY"})
#: Variables that set the address a self-hosted server listens on.
SERVER_HOST_ENV = frozenset({"OLLAMA_HOST", "HOST", "VLLM_HOST", "HOSTNAME_BIND"})


def snake(key: str) -> str:
    """``modelName`` / ``model-name`` / ``MODEL_NAME`` -> ``model_name``."""
    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key.strip())
    return re.sub(r"[^A-Za-z0-9]+", "_", s).strip("_").lower()


def is_model_key(key: str) -> bool:
    """Whether a configuration key or variable name holds a model id (``model``, ``MODEL_ID``,
    ``embedding_model``, ``modelURL``), as opposed to ``model_type``, ``model_dir`` or ``models``."""
    k = snake(key)
    if not k or k in _NOT_MODEL_KEYS:
        return False
    if k in STRONG_MODEL_KEYS:
        return True
    parts = tuple(k.split("_"))
    return any(parts[-len(tail) :] == tail for tail in _MODEL_KEY_TAILS) or k.endswith("_deployment_name")


def is_strong_model_key(key: str) -> bool:
    """Whether the key's position alone says "this is a model id" (``MODEL_ID``, ``base_model``)."""
    return key in STRONG_MODEL_ENV or snake(key) in STRONG_MODEL_KEYS


def provider_of_name(key: str) -> str | None:
    """The provider a key or variable name points at (``OPENAI_MODEL`` -> openai), or None."""
    parts = snake(key).split("_")
    joined = "_".join(parts)
    for token, provider in _NAME_PROVIDERS:
        if "_" in token:
            if token in joined:
                return provider
        elif token in parts:
            return provider
    return None


_PROVIDER_NAMES = {
    "openai": "openai", "anthropic": "anthropic", "azure": "azure-openai", "azure_openai": "azure-openai",
    "azureopenai": "azure-openai", "google": "google", "gemini": "google", "google_genai": "google",
    "vertex": "vertex-ai", "vertexai": "vertex-ai", "vertex_ai": "vertex-ai", "bedrock": "bedrock",
    "aws_bedrock": "bedrock", "mistral": "mistral", "mistralai": "mistral", "groq": "groq",
    "cohere": "cohere", "deepseek": "deepseek", "xai": "xai", "ollama": "ollama",
    "huggingface": "huggingface", "hf": "huggingface", "together": "together", "togetherai": "together",
    "fireworks": "fireworks", "perplexity": "perplexity", "openrouter": "openrouter",
    "replicate": "replicate",
}  # fmt: skip


def provider_of_value(value: str) -> str | None:
    """The provider a ``provider: openai``-style value names, or None."""
    return _PROVIDER_NAMES.get(snake(value))


_NOT_MODEL_VALUES = frozenset(
    {
        "str", "string", "int", "integer", "float", "bool", "boolean", "none", "null", "nil", "object",
        "any", "dict", "list", "true", "false", "auto", "default", "yes", "no", "custom", "required",
        "inherit",
    }
)  # fmt: skip


def plausible_model_value(value: str) -> bool:
    """Cheap precision filter before the classifier: no blanks, no type words, no numbers."""
    v = value.strip()
    return (
        0 < len(v) <= 200
        and not any(c.isspace() for c in v)
        and v.lower() not in _NOT_MODEL_VALUES
        and not v.replace(".", "").isdigit()
        and not any(c in "${}<>%" for c in v)
    )


def _contains_run(words: list[str], run: tuple[str, ...]) -> bool:
    n = len(run)
    return any(tuple(words[i : i + n]) == run for i in range(len(words) - n + 1))


def _shlex(text: str) -> list[str]:
    try:
        return shlex.split(text, comments=False)
    except ValueError:
        return text.split()
