"""The model-id classifier and the vendored catalog behind it."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aispm.analysis.model_ids import ModelIdentity, dataset_source, identify_dataset, identify_model
from aispm.catalog import refresh
from aispm.catalog.models import catalog


def _model(
    value: str, provider: str | None = None, *, via: str = "model=", strong: bool = True
) -> ModelIdentity | None:
    return identify_model(value, provider=provider, via=via, strong=strong)


# -- the catalog ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model_id", "owner"),
    [
        ("gpt-4o", "openai"),
        ("gpt-4o-mini", "openai"),
        ("claude-3-5-sonnet-latest", "anthropic"),
        ("claude-sonnet-4-5", "anthropic"),
        ("gemini-1.5-pro", "google"),
        ("text-embedding-3-small", "openai"),
        ("mistral-large-latest", "mistral"),
        ("llama3.1", "ollama"),
        ("anthropic.claude-3-sonnet-20240229-v1:0", "bedrock"),
        ("us.anthropic.claude-3-5-sonnet-20241022-v2:0", "bedrock"),
        ("deepseek-chat", "deepseek"),
        ("embed-english-v3.0", "cohere"),
    ],
)
def test_catalog_knows_common_ids_with_their_owner(model_id: str, owner: str) -> None:
    entry = catalog().get(model_id)
    assert entry is not None
    assert entry.owner == owner


def test_catalog_is_small_licensed_and_strips_route_prefixes() -> None:
    data_dir = Path(refresh.DEFAULT_OUTPUT).parent
    assert (data_dir / "models.json").stat().st_size < 400_000
    notice = (data_dir / "NOTICE.models.txt").read_text()
    assert "MIT License" in notice and "litellm" in notice.lower()
    cat = catalog()
    assert len(cat) > 2000
    assert cat.versions  # the LiteLLM versions the snapshot came from
    assert not any(
        k.startswith(("bedrock/", "vertex_ai/", "azure/", "groq/", "1024-x-1024/")) for k in cat.entries
    )
    assert cat.route("groq") == "groq"
    assert cat.route("together_ai") == "together"
    assert cat.get("gpt-4o") is not None and "azure-openai" in cat.get("gpt-4o").providers  # type: ignore[union-attr]


def test_refresh_builds_the_data_file_from_a_wheel(tmp_path: Path) -> None:
    snapshot = {
        "sample_spec": {"litellm_provider": "one of https://docs.litellm.ai/docs/providers", "mode": "chat"},
        "gpt-9": {"litellm_provider": "openai", "mode": "chat"},
        "azure/eu/gpt-9": {"litellm_provider": "azure", "mode": "chat"},
        "bedrock/us-east-1/anthropic.claude-9-v1:0": {"litellm_provider": "bedrock", "mode": "chat"},
        "together_ai/meta-llama/Llama-9-70B": {"litellm_provider": "together_ai", "mode": "chat"},
        "together-ai-4.1b-8b": {"litellm_provider": "together_ai", "mode": "chat"},
        "tavily/search": {"litellm_provider": "tavily", "mode": "search"},
        "nichehost/chat": {"litellm_provider": "nichehost", "mode": "chat"},
    }
    wheel = tmp_path / "litellm-9.9.9-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(refresh.CATALOG_MEMBER, json.dumps(snapshot))
    out = tmp_path / "models.json"
    assert refresh.main([str(wheel), "-o", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["litellm_versions"] == ["9.9.9"]
    assert data["license"] == "MIT"
    models = data["models"]
    assert models["gpt-9"] == ["chat", "openai", "azure-openai"]
    assert models["anthropic.claude-9-v1:0"] == ["chat", "bedrock"]
    assert (
        models["meta-llama/Llama-9-70B"][1] == "huggingface"
    )  # an org/name id is a Hub id, hosted by Together
    assert "together" in models["meta-llama/Llama-9-70B"]
    assert "together-ai-4.1b-8b" not in models  # a pricing bucket, not a model
    assert "search" not in models and "chat" not in models
    assert data["routes"]["together_ai"] == "together"


# -- identify_model: positives ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "ctx", "strong", "provider", "known"),
    [
        ("gpt-4o", "openai", True, "openai", True),
        ("gpt-4o", None, False, "openai", True),
        ("gpt-4o", "azure-openai", True, "azure-openai", True),  # a compatible host keeps the context
        ("claude-3-5-sonnet-latest", "anthropic", True, "anthropic", True),
        ("claude-sonnet-4-5", None, False, "anthropic", True),
        ("gemini-1.5-pro", "google", True, "google", True),
        ("models/gemini-1.5-pro", "google", True, "google", True),
        ("mistral-large-latest", None, False, "mistral", True),
        ("llama3.1", "ollama", True, "ollama", True),
        ("anthropic.claude-3-sonnet-20240229-v1:0", None, False, "bedrock", True),
        ("us.anthropic.claude-3-5-sonnet-20241022-v2:0", "bedrock", True, "bedrock", True),
        ("deepseek-chat", "openai", True, "deepseek", True),  # OpenAI SDK pointed at DeepSeek
        ("meta-llama/Llama-3.3-70B-Instruct-Turbo", "together", True, "together", True),
        ("command", "cohere", True, "cohere", True),  # a bare word, but Cohere is in context
        # gateway and router ids, as written
        ("openai/gpt-4o", None, True, "openai", True),
        ("anthropic/claude-sonnet-4.5", None, False, "anthropic", True),
        ("anthropic/claude-sonnet-4.5", "vercel-ai-gateway", True, "vercel-ai-gateway", True),
        ("groq/llama3-8b-8192", None, True, "groq", True),
        ("ollama/llama3", None, False, "ollama", True),
        ("openrouter/anthropic/claude-3-haiku", None, True, "openrouter", True),
        ("anthropic/claude-opus-9", None, False, "anthropic", False),  # newer than the snapshot: shape
        # Hugging Face
        ("meta-llama/Llama-3.1-8B-Instruct", "huggingface", True, "huggingface", True),
        ("some-org/some-model", None, True, "huggingface", False),
        ("openai/whisper-large-v3", "huggingface", True, "huggingface", True),  # an org on the Hub
        ("gpt2", "huggingface", True, "huggingface", False),
        ("bert-base-uncased", "huggingface", True, "huggingface", False),
        ("Qwen/Qwen2.5-7B-Instruct", "openai", True, "huggingface", True),  # OpenAI SDK against vLLM
        # provider shapes, for ids newer than the snapshot
        ("gpt-5.9-ultra", "openai", True, "openai", False),
        ("claude-opus-9", "anthropic", False, "anthropic", False),
        ("claude-opus-9", None, True, "anthropic", False),
        ("gemini-9.0-pro", "google", True, "google", False),
        ("llama3.2:3b", "ollama", True, "ollama", False),
        ("grok-9", "xai", True, "xai", False),
        ("my-gpt4o-deployment", "azure-openai", True, "azure-openai", False),  # Azure names deployments
        ("arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.x", "bedrock", True, "bedrock", False),
        # local model paths, only in strong positions
        ("./models/llama", None, True, "local", False),
        ("/opt/models/model.gguf", "huggingface", True, "local", False),
        ("weights/model.safetensors", None, True, "local", False),
    ],
)
def test_identifies_models(value: str, ctx: str | None, strong: bool, provider: str, known: bool) -> None:
    ident = _model(value, ctx, strong=strong)
    assert ident is not None, value
    assert ident.name == value  # exactly as written
    assert ident.provider == provider
    assert ident.known is known


# -- identify_model: decoys -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "ctx", "strong"),
    [
        ("str", "openai", True),
        ("Optional", "openai", True),
        ("string", None, True),
        ("int", "huggingface", True),
        ("o200k_base", "openai", True),
        ("cl100k_base", None, True),
        ("MODEL_NAME", "openai", True),
        ("OPENAI_MODEL", None, True),
        ("{model}", "openai", True),
        ("%s", "openai", True),
        ("${MODEL}", None, True),
        ("${MODEL:-gpt-4o}", None, True),
        ("<model>", None, True),
        ("{provider}/{model}", None, True),
        ("gpt-4o is great", None, False),
        ("https://api.openai.com/v1", "openai", True),
        ("model.gguf", None, False),  # a file name, not in a model position
        ("./models/llama", None, False),
        ("config.json", "huggingface", False),
        ("model", None, True),
        ("chat", None, True),
        ("mistral", None, False),  # a catalog id, but a bare word without Mistral/Ollama in context
        ("command", None, False),
        ("hello-world", None, True),
        ("some-org/some-model", None, False),  # org/name needs a model position or Hub context
        ("claude-opus-9", None, False),  # a shape needs a context or a strong position
        ("my-deployment", "openai", True),
        ("n/a", None, True),
        ("anthropic/unknown", None, True),  # a router-looking id with no model behind it
        ("deepseek/search", None, True),
        ("nova-3", None, False),  # a niche catalog id is not trusted as weak evidence
        ("", None, True),
        ("   ", None, True),
        ("-", None, True),
        ("a" * 300, None, True),
        ("gpt-4o\x00", None, True),
    ],
)
def test_rejects_non_models(value: str, ctx: str | None, strong: bool) -> None:
    assert _model(value, ctx, strong=strong) is None


def test_gpt2_is_a_tokenizer_in_a_tokenizer_position() -> None:
    assert _model("gpt2", "huggingface", via="get_encoding") is None
    assert _model("gpt2", "huggingface", via="encoding_name=") is None
    assert _model("gpt2", "huggingface", via="from_pretrained") is not None


_CONTEXTS = st.sampled_from([None, "openai", "huggingface", "ollama", "bedrock", "azure-openai"])
_VIAS = st.sampled_from(["model=", "from_pretrained", "get_encoding", ""])


@settings(max_examples=400, deadline=None)
@given(value=st.text(max_size=120), ctx=_CONTEXTS, strong=st.booleans(), via=_VIAS)
def test_identify_model_never_crashes_and_keeps_the_name(
    value: str, ctx: str | None, strong: bool, via: str
) -> None:
    ident = identify_model(value, provider=ctx, via=via, strong=strong)
    if ident is not None:
        assert ident.name == value.strip()
        assert ident.provider
        assert not any(c in ident.name for c in "{}$%<> \n")


# -- identify_dataset ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "source"),
    [
        ("squad", "huggingface"),
        ("imdb", "huggingface"),
        ("HuggingFaceH4/ultrachat_200k", "huggingface"),
        ("data/train.jsonl", "file"),
        ("./data/train.csv", "file"),
        ("data/*.parquet", "file"),
        ("s3://bucket/corpus/", "url"),
    ],
)
def test_identifies_datasets(value: str, source: str) -> None:
    assert identify_dataset(value, via="load_dataset") == value
    assert dataset_source(value) == source


@pytest.mark.parametrize(
    "value", ["json", "csv", "parquet", "{name}", "${DATASET}", "DATASET_NAME", "str", "", "a b"]
)
def test_rejects_non_datasets(value: str) -> None:
    assert identify_dataset(value, via="load_dataset") is None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=100))
def test_identify_dataset_never_crashes(value: str) -> None:
    identify_dataset(value, via="load_dataset")
