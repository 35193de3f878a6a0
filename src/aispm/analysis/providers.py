"""The provider vocabulary and the facts that map code to providers, kept as data.

Every source attributes models to providers with these names (``openai``, ``azure-openai``,
``bedrock``...). Maps here answer three questions a collector meets: which SDK or framework an
import is (and whose), which provider a base URL points at, and which provider a class name from a
multi-provider framework (``ChatOpenAI``, ``OllamaEmbeddings``) talks to.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

#: Providers that own the ids they serve (model makers with their own API), most authoritative first.
ORIGIN_RANK: tuple[str, ...] = (
    "openai", "anthropic", "google", "mistral", "cohere", "deepseek", "xai", "ai21", "voyage",
    "moonshot", "dashscope", "perplexity", "meta",
)  # fmt: skip

#: Providers that serve other makers' models (clouds, gateways, open-weight hosts), in preference order.
HOST_RANK: tuple[str, ...] = (
    "bedrock", "azure-openai", "azure-ai", "ollama", "groq", "together", "fireworks", "deepinfra",
    "cerebras", "nvidia-nim", "replicate", "openrouter", "vercel-ai-gateway", "huggingface",
    "sagemaker", "github-copilot", "watsonx", "databricks", "snowflake", "cloudflare", "sambanova",
)  # fmt: skip

#: Routers that accept any provider's ids: with one of these in context, the context provider stands.
GATEWAYS = frozenset({"openrouter", "vercel-ai-gateway", "litellm", "portkey", "github-copilot"})

#: Hosts of open-weight models: in their context, an open model id is theirs.
OPEN_WEIGHT_HOSTS = frozenset(
    {"ollama", "huggingface", "together", "groq", "fireworks", "deepinfra", "cerebras", "nvidia-nim",
     "replicate", "sagemaker", "local", "bedrock", "azure-ai", "google", "watsonx", "databricks"}
)  # fmt: skip

#: Makers whose models are only reached through their own (or a licensed cloud's) API.
CLOSED_ORIGINS = frozenset({"openai", "anthropic", "google", "cohere", "xai", "ai21", "voyage", "perplexity"})

#: The first segment of a gateway id (``anthropic/claude-sonnet-4.5``) naming the model's maker.
VENDOR_SLUGS: Mapping[str, str] = {
    "openai": "openai",
    "anthropic": "anthropic",
    "google": "google",
    "gemini": "google",
    "mistral": "mistral",
    "cohere": "cohere",
    "deepseek": "deepseek",
    "xai": "xai",
    "x-ai": "xai",
    "perplexity": "perplexity",
    "ai21": "ai21",
    "voyage": "voyage",
}

#: LiteLLM route prefixes not present in the catalog snapshot (the catalog's own come with it).
EXTRA_ROUTES: Mapping[str, str] = {
    "huggingface": "huggingface",
    "ollama_chat": "ollama",
    "hosted_vllm": "huggingface",
    "vllm": "huggingface",
    "azure": "azure-openai",
    "openai": "openai",
    "anthropic": "anthropic",
    "gemini": "google",
    "vertex_ai": "google",
    "bedrock": "bedrock",
    "sagemaker": "sagemaker",
    "openrouter": "openrouter",
}

#: LangChain ``init_chat_model("provider:model")`` / ``model_provider=`` names.
LANGCHAIN_PROVIDERS: Mapping[str, str] = {
    "openai": "openai",
    "anthropic": "anthropic",
    "azure_openai": "azure-openai",
    "azure_ai": "azure-ai",
    "google_genai": "google",
    "google_vertexai": "google",
    "google_anthropic_vertex": "google",
    "google": "google",
    "gemini": "google",
    "bedrock": "bedrock",
    "bedrock_converse": "bedrock",
    "mistralai": "mistral",
    "mistral": "mistral",
    "cohere": "cohere",
    "groq": "groq",
    "ollama": "ollama",
    "together": "together",
    "fireworks": "fireworks",
    "deepseek": "deepseek",
    "xai": "xai",
    "perplexity": "perplexity",
    "huggingface": "huggingface",
    "nvidia": "nvidia-nim",
    "ibm": "watsonx",
    "openrouter": "openrouter",
    "cerebras": "cerebras",
}


@dataclass(frozen=True, slots=True)
class SdkInfo:
    """An AI SDK or framework as code imports it: its distribution name, provider and category."""

    sdk: str
    provider: str | None
    category: str


def _s(sdk: str, provider: str | None, category: str) -> SdkInfo:
    return SdkInfo(sdk, provider, category)


_P, _F, _A, _M, _R, _V, _O, _G, _X = (
    "provider-sdk", "framework", "agent-framework", "mcp", "ml-runtime", "vector-store", "observability",
    "guardrails", "mlops",
)  # fmt: skip

#: Python import paths (the longest matching dotted prefix wins) -> SDK. Seeded from aibom.md §5.1.
PYTHON_MODULES: Mapping[str, SdkInfo] = {
    "openai": _s("openai", "openai", _P),
    "anthropic": _s("anthropic", "anthropic", _P),
    "google.genai": _s("google-genai", "google", _P),
    "google.generativeai": _s("google-generativeai", "google", _P),
    "google.cloud.aiplatform": _s("google-cloud-aiplatform", "google", _P),
    "vertexai": _s("google-cloud-aiplatform", "google", _P),
    "google.adk": _s("google-adk", "google", _A),
    "mistralai": _s("mistralai", "mistral", _P),
    "cohere": _s("cohere", "cohere", _P),
    "groq": _s("groq", "groq", _P),
    "together": _s("together", "together", _P),
    "fireworks": _s("fireworks-ai", "fireworks", _P),
    "replicate": _s("replicate", "replicate", _P),
    "ai21": _s("ai21", "ai21", _P),
    "voyageai": _s("voyageai", "voyage", _P),
    "xai_sdk": _s("xai-sdk", "xai", _P),
    "perplexity": _s("perplexityai", "perplexity", _P),
    "cerebras.cloud.sdk": _s("cerebras-cloud-sdk", "cerebras", _P),
    "azure.ai.inference": _s("azure-ai-inference", "azure-ai", _P),
    "azure.ai.openai": _s("azure-ai-openai", "azure-openai", _P),
    "ollama": _s("ollama", "ollama", _P),
    "huggingface_hub": _s("huggingface-hub", "huggingface", _P),
    "litellm": _s("litellm", None, "gateway"),
    "boto3": _s("boto3", "bedrock", _P),
    "aioboto3": _s("aioboto3", "bedrock", _P),
    "langchain": _s("langchain", None, _F),
    "langchain_core": _s("langchain-core", None, _F),
    "langchain_community": _s("langchain-community", None, _F),
    "langchain_openai": _s("langchain-openai", "openai", _F),
    "langchain_anthropic": _s("langchain-anthropic", "anthropic", _F),
    "langchain_google_genai": _s("langchain-google-genai", "google", _F),
    "langchain_google_vertexai": _s("langchain-google-vertexai", "google", _F),
    "langchain_aws": _s("langchain-aws", "bedrock", _F),
    "langchain_huggingface": _s("langchain-huggingface", "huggingface", _F),
    "langchain_mistralai": _s("langchain-mistralai", "mistral", _F),
    "langchain_groq": _s("langchain-groq", "groq", _F),
    "langchain_cohere": _s("langchain-cohere", "cohere", _F),
    "langchain_fireworks": _s("langchain-fireworks", "fireworks", _F),
    "langchain_together": _s("langchain-together", "together", _F),
    "langchain_ollama": _s("langchain-ollama", "ollama", _F),
    "langchain_deepseek": _s("langchain-deepseek", "deepseek", _F),
    "langchain_xai": _s("langchain-xai", "xai", _F),
    "langchain_nvidia_ai_endpoints": _s("langchain-nvidia-ai-endpoints", "nvidia-nim", _F),
    "langchain_chroma": _s("langchain-chroma", None, _V),
    "langchain_pinecone": _s("langchain-pinecone", None, _V),
    "langchain_text_splitters": _s("langchain-text-splitters", None, _F),
    "langchain_mcp_adapters": _s("langchain-mcp-adapters", None, _M),
    "langgraph": _s("langgraph", None, _A),
    "llama_index": _s("llama-index", None, _F),
    "llama_index.core": _s("llama-index-core", None, _F),
    "crewai": _s("crewai", None, _A),
    "crewai_tools": _s("crewai-tools", None, _A),
    "autogen": _s("autogen", None, _A),
    "autogen_agentchat": _s("autogen-agentchat", None, _A),
    "autogen_ext": _s("autogen-ext", None, _A),
    "autogen_core": _s("autogen-core", None, _A),
    "semantic_kernel": _s("semantic-kernel", None, _F),
    "dspy": _s("dspy", None, _F),
    "haystack": _s("haystack-ai", None, _F),
    "guidance": _s("guidance", None, _F),
    "instructor": _s("instructor", None, _F),
    "pydantic_ai": _s("pydantic-ai", None, _A),
    "smolagents": _s("smolagents", None, _A),
    "strands": _s("strands-agents", None, _A),
    "agno": _s("agno", None, _A),
    "camel": _s("camel-ai", None, _A),
    "mcp": _s("mcp", None, _M),
    "fastmcp": _s("fastmcp", None, _M),
    "a2a": _s("a2a-sdk", None, _A),
    "transformers": _s("transformers", "huggingface", _R),
    "sentence_transformers": _s("sentence-transformers", "huggingface", _R),
    "diffusers": _s("diffusers", "huggingface", _R),
    "accelerate": _s("accelerate", None, _R),
    "peft": _s("peft", "huggingface", _R),
    "trl": _s("trl", "huggingface", _R),
    "bitsandbytes": _s("bitsandbytes", None, _R),
    "datasets": _s("datasets", "huggingface", _R),
    "tokenizers": _s("tokenizers", None, _R),
    "safetensors": _s("safetensors", None, _R),
    "vllm": _s("vllm", "huggingface", _R),
    "text_generation": _s("text-generation", "huggingface", _R),
    "llama_cpp": _s("llama-cpp-python", "local", _R),
    "ctransformers": _s("ctransformers", "huggingface", _R),
    "mlx_lm": _s("mlx-lm", "huggingface", _R),
    "torch": _s("torch", None, _R),
    "nemo": _s("nemo-toolkit", None, _R),
    "tensorflow": _s("tensorflow", None, _R),
    "keras": _s("keras", None, _R),
    "jax": _s("jax", None, _R),
    "flax": _s("flax", None, _R),
    "onnxruntime": _s("onnxruntime", None, _R),
    "optimum": _s("optimum", "huggingface", _R),
    "tiktoken": _s("tiktoken", None, _R),
    "chromadb": _s("chromadb", None, _V),
    "pinecone": _s("pinecone", None, _V),
    "weaviate": _s("weaviate-client", None, _V),
    "qdrant_client": _s("qdrant-client", None, _V),
    "pymilvus": _s("pymilvus", None, _V),
    "faiss": _s("faiss-cpu", None, _V),
    "lancedb": _s("lancedb", None, _V),
    "pgvector": _s("pgvector", None, _V),
    "langsmith": _s("langsmith", None, _O),
    "langfuse": _s("langfuse", None, _O),
    "phoenix": _s("arize-phoenix", None, _O),
    "opik": _s("opik", None, _O),
    "traceloop": _s("traceloop-sdk", None, _O),
    "helicone": _s("helicone", None, _O),
    "wandb": _s("wandb", None, _O),
    "mlflow": _s("mlflow", None, _X),
    "comet_ml": _s("comet-ml", None, _O),
    "guardrails": _s("guardrails-ai", None, _G),
    "nemoguardrails": _s("nemoguardrails", None, _G),
    "llm_guard": _s("llm-guard", None, _G),
    "rebuff": _s("rebuff", None, _G),
    "bentoml": _s("bentoml", None, _X),
    "kubeflow": _s("kubeflow", None, _X),
    "evaluate": _s("evaluate", "huggingface", _X),
    "deepeval": _s("deepeval", None, _X),
    "promptflow": _s("promptflow", None, _X),
    "ray.serve": _s("ray", None, _X),
    "ray.train": _s("ray", None, _X),
    "opentelemetry.instrumentation.openai": _s("opentelemetry-instrumentation-openai", None, _O),
    "opentelemetry.instrumentation.anthropic": _s("opentelemetry-instrumentation-anthropic", None, _O),
    "opentelemetry.instrumentation.langchain": _s("opentelemetry-instrumentation-langchain", None, _O),
}

#: ``agents`` is the OpenAI Agents SDK's import name, and also a common local package name:
#: it counts only when one of these names comes from it (or a submodule below is imported).
OPENAI_AGENTS_NAMES = frozenset(
    {"Runner", "function_tool", "ModelSettings", "OpenAIChatCompletionsModel", "OpenAIResponsesModel",
     "set_default_openai_key", "set_default_openai_client", "handoff", "WebSearchTool", "FileSearchTool",
     "InputGuardrail", "OutputGuardrail", "GuardrailFunctionOutput", "RunContextWrapper", "trace"}
)  # fmt: skip
OPENAI_AGENTS_SUBMODULES = ("agents.mcp", "agents.extensions", "agents.models", "agents.tracing")
OPENAI_AGENTS = _s("openai-agents", "openai", _A)

#: llama_index integration packages: ``llama_index.llms.openai`` -> llama-index-llms-openai (openai).
LLAMA_INDEX_KINDS = ("llms", "embeddings", "multi_modal_llms", "postprocessor")


def sdk_for_module(module: str, imported_names: frozenset[str] = frozenset()) -> SdkInfo | None:
    """The SDK an import of ``module`` (dotted) means, or None when it is not an AI package."""
    if module == "agents" or module.startswith("agents."):
        if module.startswith(OPENAI_AGENTS_SUBMODULES) or imported_names & OPENAI_AGENTS_NAMES:
            return OPENAI_AGENTS
        return None
    parts = module.split(".")
    if len(parts) >= 3 and parts[0] == "llama_index" and parts[1] in LLAMA_INDEX_KINDS:
        vendor = parts[2]
        return SdkInfo(
            f"llama-index-{parts[1].replace('_', '-')}-{vendor.replace('_', '-')}",
            provider_for_name(vendor),
            _F,
        )
    for n in range(len(parts), 0, -1):
        info = PYTHON_MODULES.get(".".join(parts[:n]))
        if info is not None:
            return info
    return None


#: Class or vendor name fragments -> provider, tried in order (Azure before OpenAI).
_NAME_HINTS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.IGNORECASE), prov)
    for p, prov in (
        (r"azure_?(chat_?)?openai|azureopenai|azure_?ai_?openai", "azure-openai"),
        (r"anthropic_?bedrock|bedrock", "bedrock"),
        (r"anthropic_?vertex|vertex|google|gemini|palm", "google"),
        (r"sagemaker", "sagemaker"),
        (r"openrouter", "openrouter"),
        (r"ollama", "ollama"),
        (r"huggingface|hugging_face|sentence_?transformer|^hf|textgen", "huggingface"),
        (r"anthropic|claude", "anthropic"),
        (r"mistral", "mistral"),
        (r"cohere", "cohere"),
        (r"groq", "groq"),
        (r"together", "together"),
        (r"fireworks", "fireworks"),
        (r"deepseek", "deepseek"),
        (r"xai|grok", "xai"),
        (r"perplexity", "perplexity"),
        (r"replicate", "replicate"),
        (r"voyage", "voyage"),
        (r"nvidia", "nvidia-nim"),
        (r"deepinfra", "deepinfra"),
        (r"cerebras", "cerebras"),
        (r"ai21", "ai21"),
        (r"watsonx", "watsonx"),
        (r"openai", "openai"),
    )
)


def provider_for_name(name: str) -> str | None:
    """The provider a class or vendor name points at (``ChatOpenAI`` -> openai), or None."""
    for pattern, provider in _NAME_HINTS:
        if pattern.search(name):
            return provider
    return None


#: API hosts -> provider. Suffix match on the host name; ports are checked separately.
BASE_URL_HOSTS: Mapping[str, str] = {
    "api.openai.com": "openai",
    "openai.azure.com": "azure-openai",
    "cognitiveservices.azure.com": "azure-openai",
    "services.ai.azure.com": "azure-ai",
    "models.inference.ai.azure.com": "azure-ai",
    "api.anthropic.com": "anthropic",
    "api.deepseek.com": "deepseek",
    "api.groq.com": "groq",
    "api.together.xyz": "together",
    "api.together.ai": "together",
    "openrouter.ai": "openrouter",
    "api.mistral.ai": "mistral",
    "api.x.ai": "xai",
    "api.perplexity.ai": "perplexity",
    "api.fireworks.ai": "fireworks",
    "api.deepinfra.com": "deepinfra",
    "integrate.api.nvidia.com": "nvidia-nim",
    "api.cerebras.ai": "cerebras",
    "generativelanguage.googleapis.com": "google",
    "aiplatform.googleapis.com": "google",
    "api.moonshot.ai": "moonshot",
    "api.moonshot.cn": "moonshot",
    "dashscope.aliyuncs.com": "dashscope",
    "dashscope-intl.aliyuncs.com": "dashscope",
    "ai-gateway.vercel.sh": "vercel-ai-gateway",
    "router.huggingface.co": "huggingface",
    "api-inference.huggingface.co": "huggingface",
    "endpoints.huggingface.cloud": "huggingface",
    "api.cohere.ai": "cohere",
    "api.cohere.com": "cohere",
    "api.ai21.com": "ai21",
    "api.voyageai.com": "voyage",
    "api.replicate.com": "replicate",
    "models.github.ai": "github-copilot",
    "models.inference.github.com": "github-copilot",
}

_OLLAMA_PORT = 11434


def provider_for_url(url: str) -> str | None:
    """The provider a base URL points at (``http://localhost:11434/v1`` -> ollama), or None."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return None
    if not host:
        return None
    if port == _OLLAMA_PORT or host == "ollama":
        return "ollama"
    if host.startswith("bedrock-runtime.") and host.endswith(".amazonaws.com"):
        return "bedrock"
    if host.startswith("runtime.sagemaker.") and host.endswith(".amazonaws.com"):
        return "sagemaker"
    for suffix, provider in BASE_URL_HOSTS.items():
        if host == suffix or host.endswith("." + suffix):
            return provider
    return None


def redact_url(url: str) -> str:
    """A URL safe to store: no user info, no query string or fragment (tokens hide there)."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return ""
    if not parts.scheme or not host:
        return ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


#: boto3 service names that make boto3 an AI SDK, and the provider each reaches.
BOTO3_AI_SERVICES: Mapping[str, str] = {
    "bedrock-runtime": "bedrock",
    "bedrock-agent-runtime": "bedrock",
    "sagemaker-runtime": "sagemaker",
}
