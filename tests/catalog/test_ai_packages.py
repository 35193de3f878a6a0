"""The AI package catalog: exact names, prefix patterns, normal forms, and near misses."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from aispm.assets import SAAS_PROVIDERS
from aispm.catalog.ai_packages import CATEGORIES, ECOSYSTEMS, entries, lookup, normalize_name, npm_package_of


@pytest.mark.parametrize(
    ("ecosystem", "name", "category", "provider"),
    [
        ("pypi", "openai", "provider-sdk", "openai"),
        ("pypi", "LangChain_OpenAI", "framework", "openai"),  # PEP 503: case and separators
        ("pypi", "langchain-text-splitters", "framework", None),  # langchain-* pattern
        ("pypi", "llama-index-llms-ollama", "framework", None),
        ("pypi", "sentence.transformers", "runtime", "huggingface"),
        ("pypi", "mcp", "mcp", None),
        ("npm", "openai", "provider-sdk", "openai"),
        ("npm", "@anthropic-ai/sdk", "provider-sdk", "anthropic"),
        ("npm", "ai", "framework", None),
        ("npm", "@ai-sdk/openai", "provider-sdk", "openai"),
        ("npm", "@ai-sdk/react", "framework", None),  # @ai-sdk/* pattern
        ("npm", "@langchain/anthropic", "framework", "anthropic"),
        ("npm", "@langchain/core", "framework", None),
        ("npm", "@modelcontextprotocol/sdk", "mcp", None),
        ("npm", "@xenova/transformers", "runtime", "huggingface"),
        ("maven", "dev.langchain4j:langchain4j-open-ai", "framework", "openai"),
        ("maven", "dev.langchain4j:langchain4j", "framework", None),
        ("maven", "org.springframework.ai:spring-ai-openai-spring-boot-starter", "framework", None),
        ("maven", "com.openai:openai-java", "provider-sdk", "openai"),
        ("golang", "github.com/sashabaranov/go-openai", "provider-sdk", "openai"),
        ("golang", "github.com/openai/openai-go/v2", "provider-sdk", "openai"),  # major version suffix
        ("golang", "github.com/ollama/ollama/api", "provider-sdk", "ollama"),  # package below the module
        ("cargo", "async_openai", "provider-sdk", "openai"),
        ("cargo", "rmcp", "mcp", None),
        ("gem", "ruby-openai", "provider-sdk", "openai"),
        ("nuget", "azure.ai.openai", "provider-sdk", "azure-openai"),  # NuGet ids ignore case
        ("nuget", "Microsoft.SemanticKernel.Connectors.OpenAI", "framework", None),
    ],
)
def test_known_packages(ecosystem: str, name: str, category: str, provider: str | None) -> None:
    hit = lookup(ecosystem, name)
    assert hit is not None, name
    assert (hit.category, hit.provider) == (category, provider)


@pytest.mark.parametrize(
    ("ecosystem", "name"),
    [
        ("pypi", "openapi"),
        ("pypi", "openai-whisper-ui-theme"),
        ("pypi", "ai-utils"),
        ("pypi", "langchainjs-docs"),
        ("pypi", "torchvision-extra"),
        ("npm", "openapi"),
        ("npm", "ai-utils"),
        ("npm", "langchainjs-docs"),
        ("npm", "@aiven/client"),
        ("npm", "@ai-sdk"),  # a bare scope is no package
        ("npm", "@ai-sdk/"),
        ("npm", "aixyz"),
        ("npm", "open-ai"),
        ("maven", "dev.langchain4jx:core"),
        ("maven", "org.springframework:spring-core"),
        ("golang", "github.com/sashabaranov/go-openai-fork"),
        ("golang", "github.com/openai"),
        ("cargo", "openai-rs-not-listed"),
        ("gem", "rails"),
        ("nuget", "OpenAI.Fake.Helpers"),
        ("npm", ""),
        ("conda", "openai"),  # not an ecosystem of the catalog
    ],
)
def test_near_misses_are_not_ai_packages(ecosystem: str, name: str) -> None:
    assert lookup(ecosystem, name) is None


def test_exact_name_beats_pattern_and_longest_pattern_wins() -> None:
    exact = lookup("npm", "@ai-sdk/anthropic")
    assert exact is not None and exact.pattern == "@ai-sdk/anthropic"
    pattern = lookup("npm", "@openai/agents-realtime")
    assert pattern is not None and pattern.pattern == "@openai/agents-*"


def test_normal_forms() -> None:
    assert normalize_name("pypi", "Foo__Bar.baz") == "foo-bar-baz"
    assert normalize_name("npm", "@AI-SDK/OpenAI") == "@ai-sdk/openai"
    assert normalize_name("cargo", "Async_OpenAI") == "async-openai"
    assert normalize_name("maven", " dev.langchain4j:langchain4j ") == "dev.langchain4j:langchain4j"


@pytest.mark.parametrize(
    ("specifier", "package"),
    [
        ("openai", "openai"),
        ("openai/resources/chat", "openai"),
        ("@ai-sdk/openai", "@ai-sdk/openai"),
        ("@modelcontextprotocol/sdk/server/mcp.js", "@modelcontextprotocol/sdk"),
        ("./openai", None),
        ("../ai", None),
        ("/abs/path", None),
        ("node:fs", None),
        ("https://esm.sh/openai", None),
        ("@scope", None),
        ("", None),
    ],
)
def test_npm_package_of(specifier: str, package: str | None) -> None:
    assert npm_package_of(specifier) == package


def test_catalog_data_is_well_formed() -> None:
    raw = json.loads(resources.files("aispm.catalog").joinpath("data/ai_packages.json").read_text("utf-8"))
    assert set(ECOSYSTEMS) <= set(raw)
    known_providers = SAAS_PROVIDERS | {"huggingface", "ollama", "azure-ai"}
    seen: set[tuple[str, str]] = set()
    for e in entries():
        assert e.category in CATEGORIES
        assert e.provider is None or e.provider in known_providers, e
        assert (e.ecosystem, e.pattern) not in seen, f"duplicate entry {e}"
        seen.add((e.ecosystem, e.pattern))
    for eco in ECOSYSTEMS:
        assert any(e.ecosystem == eco for e in entries()), eco


def test_seed_list_is_covered() -> None:
    """Every package of the reference seed list (aibom.md §5.1) is in the catalog."""
    seed = {
        "pypi": ["anthropic", "google-genai", "litellm", "crewai", "llama-index", "transformers", "vllm",
                 "chromadb", "qdrant-client", "langfuse", "guardrails-ai", "bentoml", "fastmcp", "a2a-sdk"],
        "npm": ["@google/genai", "@mistralai/mistralai", "cohere-ai", "groq-sdk", "ollama", "@openai/agents",
                "mastra", "@pinecone-database/pinecone", "@aws-sdk/client-bedrock-runtime", "llamaindex",
                "@huggingface/inference", "@mlc-ai/web-llm", "langsmith"],
        "maven": ["com.anthropic:anthropic-java", "software.amazon.awssdk:bedrockruntime", "ai.djl:api"],
        "golang": ["github.com/anthropics/anthropic-sdk-go", "github.com/tmc/langchaingo",
                   "google.golang.org/genai", "github.com/mark3labs/mcp-go",
                   "github.com/aws/aws-sdk-go-v2/service/bedrockruntime"],
        "cargo": ["candle-core", "ollama-rs", "burn"],
        "gem": ["langchainrb", "anthropic"],
        "nuget": ["Azure.AI.OpenAI", "Microsoft.Extensions.AI", "Anthropic.SDK", "Mscc.GenerativeAI"],
    }  # fmt: skip
    missing = [(eco, n) for eco, names in seed.items() for n in names if lookup(eco, n) is None]
    assert missing == []
