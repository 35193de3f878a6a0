"""AI discovery in Python source: SDKs, clients, model calls, env indirection, agents, MCP."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aispm.collectors.base import (
    Collector,
    CollectorError,
    EnvBinding,
    ModelMention,
    Observation,
    SourceFile,
    scope_of,
)
from aispm.collectors.python_code import PythonCodeCollector
from aispm.model import Asset, AssetKind, ErrorKind, RelationKind, ScanResult
from aispm.pipeline import ScanOptions, scan


def _file(tmp_path: Path, name: str, text: str | bytes) -> SourceFile:
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(textwrap.dedent(text))
    return SourceFile(p, name, p.stat().st_size, scope_of(name))


def _collect(tmp_path: Path, text: str, name: str = "app.py") -> list[Observation]:
    return list(PythonCodeCollector().collect(_file(tmp_path, name, text)))


def _mentions(obs: Iterable[Observation]) -> list[ModelMention]:
    return [o for o in obs if isinstance(o, ModelMention)]


def _assets(obs: Iterable[Observation], kind: AssetKind) -> dict[str, Asset]:
    return {o.name: o for o in obs if isinstance(o, Asset) and o.kind is kind}


def _scan(tmp_path: Path, files: dict[str, str], *extra: Collector) -> ScanResult:
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
    return scan([tmp_path], ScanOptions(collectors=["python-code", *extra], checks=[]))


def _models(result: ScanResult) -> dict[str, str]:
    """Model name -> provider, as the pipeline resolved them."""
    return {a.name: a.properties["provider"] for a in result.assets if a.kind is AssetKind.MODEL}


class _DotEnv(Collector):
    """Test-only stand-in for the config collector: ``.env`` lines become env bindings."""

    name = "test-dotenv"

    def wants(self, file: SourceFile) -> bool:
        return file.name == ".env"

    def collect(self, file: SourceFile) -> Iterable[Observation]:
        for n, line in enumerate(file.read_text().splitlines(), 1):
            key, sep, value = line.partition("=")
            if sep:
                yield EnvBinding(key.strip(), value.strip(), file.loc(n))


# -- SDK usage and clients ---------------------------------------------------------------------------


def test_openai_sdk_usage_client_and_model_call(tmp_path: Path) -> None:
    obs = _collect(
        tmp_path,
        """
        from openai import OpenAI

        client = OpenAI()
        resp = client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "hi"}],
        )
        """,
    )
    usage = _assets(obs, AssetKind.AI_SDK_USAGE)["openai"]
    assert usage.properties["provider"] == "openai"
    assert usage.properties["category"] == "provider-sdk"
    assert usage.properties["imports"] == ["openai"]
    assert usage.location is not None and usage.location.line == 2
    [m] = _mentions(obs)
    assert (m.value, m.provider, m.strong, m.owner) == ("gpt-4o", "openai", True, usage.id)
    assert m.location.line == 6 and m.via == "model="


@pytest.mark.parametrize(
    ("client", "model", "provider"),
    [
        ('AsyncOpenAI(base_url="https://api.deepseek.com")', "deepseek-chat", "deepseek"),
        ('OpenAI(base_url="https://api.groq.com/openai/v1")', "llama-3.1-8b-instant", "groq"),
        ('OpenAI(base_url="https://api.together.xyz/v1")', "meta-llama/Llama-3.3-70B-Instruct-Turbo",
         "together"),
        ('OpenAI(base_url="https://openrouter.ai/api/v1")', "anthropic/claude-3.5-sonnet", "openrouter"),
        ('OpenAI(base_url="http://localhost:11434/v1", api_key="ollama")', "llama3.1", "ollama"),
        ('AzureOpenAI(azure_endpoint="https://acme.openai.azure.com", api_version="2024-06-01")',
         "gpt-4o-prod", "azure-openai"),
    ],
)  # fmt: skip
def test_base_url_attributes_the_client_to_its_provider(
    tmp_path: Path, client: str, model: str, provider: str
) -> None:
    r = _scan(
        tmp_path,
        {
            "svc.py": f"""
            from openai import OpenAI, AsyncOpenAI, AzureOpenAI
            client = {client}
            client.chat.completions.create(model="{model}", messages=[])
            """
        },
    )
    assert _models(r) == {model: provider}
    usage = next(a for a in r.assets if a.kind is AssetKind.AI_SDK_USAGE)
    assert usage.properties["clients"][0]["provider"] == provider
    model_asset = next(a for a in r.assets if a.kind is AssetKind.MODEL)
    assert (usage.id, model_asset.id, RelationKind.USES_MODEL) in {
        (x.source, x.target, x.kind) for x in r.relations
    }


def test_provider_assets_for_saas_clients(tmp_path: Path) -> None:
    r = _scan(tmp_path, {"a.py": "from anthropic import Anthropic\nc = Anthropic()\n"})
    providers = {a.name for a in r.assets if a.kind is AssetKind.AI_PROVIDER}
    assert providers == {"anthropic"}
    assert any(rel.kind is RelationKind.CALLS_PROVIDER for rel in r.relations)


def test_api_calls_of_each_provider(tmp_path: Path) -> None:
    r = _scan(
        tmp_path,
        {
            "calls.py": """
            import boto3
            from anthropic import Anthropic
            from google import genai
            import google.generativeai as palm
            from openai import OpenAI

            oai = OpenAI()
            oai.responses.create(model="gpt-4.1", input="x")
            oai.embeddings.create(model="text-embedding-3-small", input="x")
            Anthropic().messages.create(model="claude-3-5-sonnet-latest", max_tokens=5, messages=[])
            gclient = genai.Client()
            gclient.models.generate_content(model="gemini-2.0-flash", contents="x")
            palm.GenerativeModel("gemini-1.5-pro")
            bedrock = boto3.client("bedrock-runtime", region_name="us-east-1")
            bedrock.invoke_model(modelId="anthropic.claude-3-sonnet-20240229-v1:0", body="{}")
            bedrock.converse(modelId="us.anthropic.claude-3-5-sonnet-20241022-v2:0", messages=[])
            """
        },
    )
    assert _models(r) == {
        "gpt-4.1": "openai",
        "text-embedding-3-small": "openai",
        "claude-3-5-sonnet-latest": "anthropic",
        "gemini-2.0-flash": "google",
        "gemini-1.5-pro": "google",
        "anthropic.claude-3-sonnet-20240229-v1:0": "bedrock",
        "us.anthropic.claude-3-5-sonnet-20241022-v2:0": "bedrock",
    }
    sdks = {a.name for a in r.assets if a.kind is AssetKind.AI_SDK_USAGE}
    assert sdks == {"boto3", "anthropic", "google-genai", "google-generativeai", "openai"}


def test_boto3_counts_only_for_ai_services(tmp_path: Path) -> None:
    obs = _collect(tmp_path, 'import boto3\ns3 = boto3.client("s3")\ns3.put_object(Bucket="b", Key="k")\n')
    assert _assets(obs, AssetKind.AI_SDK_USAGE) == {}
    obs = _collect(tmp_path, 'import boto3\nrt = boto3.Session().client("sagemaker-runtime")\n')
    assert _assets(obs, AssetKind.AI_SDK_USAGE)["boto3"].properties["provider"] == "sagemaker"


def test_openai_agents_import_is_told_from_a_local_agents_package(tmp_path: Path) -> None:
    assert _assets(
        _collect(tmp_path, "from agents import Agent, Runner\n"), AssetKind.AI_SDK_USAGE
    ).keys() == {"openai-agents"}
    assert _assets(_collect(tmp_path, "from agents import helpers\n"), AssetKind.AI_SDK_USAGE) == {}


# -- frameworks and Hugging Face ----------------------------------------------------------------------


def test_langchain_and_litellm_call_shapes(tmp_path: Path) -> None:
    r = _scan(
        tmp_path,
        {
            "chain.py": """
            import litellm
            from langchain.chat_models import init_chat_model
            from langchain_anthropic import ChatAnthropic
            from langchain_community.embeddings import HuggingFaceEmbeddings
            from langchain_ollama import ChatOllama
            from langchain_openai import AzureChatOpenAI, ChatOpenAI, OpenAIEmbeddings

            a = ChatOpenAI(model="gpt-4o-mini", temperature=0)
            b = ChatAnthropic(model_name="claude-3-haiku-20240307")
            c = init_chat_model("anthropic:claude-3-7-sonnet-latest")
            d = init_chat_model("o3-mini", model_provider="openai")
            e = OpenAIEmbeddings(model="text-embedding-3-large")
            f = HuggingFaceEmbeddings(model_name="sentence-transformers/all-MiniLM-L6-v2")
            g = ChatOllama(model="llama3.1")
            h = AzureChatOpenAI(azure_deployment="gpt-4o-eastus", api_version="2024-06-01")
            litellm.completion(model="groq/llama3-8b-8192", messages=[])
            litellm.completion("openai/gpt-4o", messages=[])
            """
        },
    )
    assert _models(r) == {
        "gpt-4o-mini": "openai",
        "claude-3-haiku-20240307": "anthropic",
        "claude-3-7-sonnet-latest": "anthropic",
        "o3-mini": "openai",
        "text-embedding-3-large": "openai",
        "sentence-transformers/all-MiniLM-L6-v2": "huggingface",
        "llama3.1": "ollama",
        "gpt-4o-eastus": "azure-openai",
        "groq/llama3-8b-8192": "groq",
        "openai/gpt-4o": "openai",
    }
    written = next(a for a in r.assets if a.name == "claude-3-7-sonnet-latest")
    assert written.properties["as_written"] == "anthropic:claude-3-7-sonnet-latest"


def test_hugging_face_loaders_and_datasets(tmp_path: Path) -> None:
    r = _scan(
        tmp_path,
        {
            "train.py": """
            from datasets import load_dataset
            from huggingface_hub import hf_hub_download, snapshot_download
            from sentence_transformers import SentenceTransformer
            from transformers import AutoModelForCausalLM, AutoTokenizer, pipeline

            BASE = "mistralai/Mistral-7B-v0.1"
            REV = "0123456789abcdef0123456789abcdef01234567"
            tok = AutoTokenizer.from_pretrained(BASE, revision=REV)
            model = AutoModelForCausalLM.from_pretrained(BASE, revision=REV)
            clf = pipeline("sentiment-analysis", model="distilbert-base-uncased-finetuned-sst-2-english")
            gen = pipeline("text-generation", "gpt2")
            path = hf_hub_download(repo_id="TheBloke/Llama-2-7B-GGUF", filename="llama-2-7b.Q4_K_M.gguf")
            snapshot_download("BAAI/bge-small-en-v1.5")
            emb = SentenceTransformer("all-MiniLM-L6-v2")
            local = AutoModelForCausalLM.from_pretrained("./checkpoints/final")
            train = load_dataset("tatsu-lab/alpaca", split="train")
            squad = load_dataset("squad")
            mine = load_dataset("json", data_files="data/train.jsonl")
            extra = hf_hub_download(repo_id="org/eval-set", filename="x.csv", repo_type="dataset")
            """
        },
    )
    models = _models(r)
    assert models == {
        "mistralai/Mistral-7B-v0.1": "huggingface",
        "distilbert-base-uncased-finetuned-sst-2-english": "huggingface",
        "gpt2": "huggingface",
        "TheBloke/Llama-2-7B-GGUF": "huggingface",
        "BAAI/bge-small-en-v1.5": "huggingface",
        "all-MiniLM-L6-v2": "huggingface",
        "./checkpoints/final": "local",
    }
    mistral = next(a for a in r.assets if a.name == "mistralai/Mistral-7B-v0.1")
    assert mistral.properties["revision"] == "0123456789abcdef0123456789abcdef01234567"
    assert (
        mistral.properties["purl"]
        == "pkg:huggingface/mistralai/Mistral-7B-v0.1@0123456789abcdef0123456789abcdef01234567"
    )
    datasets = {a.name: a.properties["source"] for a in r.assets if a.kind is AssetKind.DATASET}
    assert datasets == {
        "tatsu-lab/alpaca": "huggingface",
        "squad": "huggingface",
        "data/train.jsonl": "file",
        "org/eval-set": "huggingface",
    }
    assert any(rel.kind is RelationKind.READS for rel in r.relations)


def test_ollama_and_local_runtimes(tmp_path: Path) -> None:
    r = _scan(
        tmp_path,
        {
            "local.py": """
            import ollama
            from langchain_community.llms import Ollama
            from llama_cpp import Llama

            ollama.chat(model="llama3.2:3b", messages=[])
            ollama.pull("nomic-embed-text")
            llm = Ollama(model="mistral")
            cpp = Llama(model_path="./models/phi-3-mini.Q4_K_M.gguf")
            """
        },
    )
    assert _models(r) == {
        "llama3.2:3b": "ollama",
        "nomic-embed-text": "ollama",
        "mistral": "ollama",
        "./models/phi-3-mini.Q4_K_M.gguf": "local",
    }


# -- indirection ------------------------------------------------------------------------------------


def test_constants_and_env_lookups_are_followed(tmp_path: Path) -> None:
    obs = _collect(
        tmp_path,
        """
        import os
        from os import getenv
        from openai import OpenAI

        MODEL = "gpt-4o"
        EMBED = os.getenv("EMBED_MODEL", "text-embedding-3-small")
        FAST = getenv("FAST_MODEL") or "gpt-4o-mini"
        client = OpenAI()

        class Settings:
            summary_model = "o3-mini"

        def run(settings: Settings) -> None:
            client.chat.completions.create(model=MODEL, messages=[])
            client.embeddings.create(model=EMBED, input="x")
            client.chat.completions.create(model=FAST, messages=[])
            client.chat.completions.create(model=os.environ["CHAT_MODEL"], messages=[])
            client.chat.completions.create(model=os.environ.get("ALT_MODEL", "gpt-4.1"), messages=[])
            client.chat.completions.create(model=settings.summary_model, messages=[])
        """,
    )
    got = {(m.value, m.env_var) for m in _mentions(obs)}
    assert got == {
        ("gpt-4o", None),
        ("text-embedding-3-small", "EMBED_MODEL"),
        ("gpt-4o-mini", "FAST_MODEL"),
        (None, "CHAT_MODEL"),
        ("gpt-4.1", "ALT_MODEL"),
        ("o3-mini", None),
    }
    assert all(m.location.line is not None and m.location.line >= 15 for m in _mentions(obs))


def test_env_indirection_end_to_end_through_a_dotenv(tmp_path: Path) -> None:
    r = _scan(
        tmp_path,
        {
            "svc/app.py": """
            import os
            from openai import OpenAI
            client = OpenAI()
            client.chat.completions.create(model=os.getenv("CHAT_MODEL", "gpt-4o-mini"), messages=[])
            client.embeddings.create(model=os.environ["EMBED_MODEL"], input="x")
            """,
            "svc/.env": "CHAT_MODEL=gpt-4.1\nEMBED_MODEL=text-embedding-3-large\n",
        },
        _DotEnv(),
    )
    models = {a.name: a for a in r.assets if a.kind is AssetKind.MODEL}
    assert set(models) == {"gpt-4.1", "text-embedding-3-large"}  # the bound value overrides the default
    assert models["gpt-4.1"].properties["env_var"] == "CHAT_MODEL"
    assert models["gpt-4.1"].properties["resolved_from"] == {"path": "svc/.env", "line": 1}


def test_pydantic_settings_fields_read_env_vars(tmp_path: Path) -> None:
    obs = _collect(
        tmp_path,
        """
        from pydantic_settings import BaseSettings
        from pydantic import Field

        class Settings(BaseSettings):
            llm_model: str = "gpt-4o"
            embedding_model_name: str = Field(default="text-embedding-3-small")
        """,
    )
    got = {(m.value, m.env_var) for m in _mentions(obs)}
    assert got == {("gpt-4o", "LLM_MODEL"), ("text-embedding-3-small", "EMBEDDING_MODEL_NAME")}


def test_model_named_constants_params_dicts_and_arguments_are_weak_evidence(tmp_path: Path) -> None:
    r = _scan(
        tmp_path,
        {
            "config.py": """
            import argparse
            import requests

            DEFAULT_MODEL = "claude-3-5-haiku-latest"
            FALLBACK_MODELS = ["gpt-4o-mini", "not-a-model-name"]
            PAYLOAD = {"model": "mistral-small-latest", "messages": []}

            def answer(question, model="gpt-4o"):
                return requests.post("https://example.com", json={"model": "deepseek-reasoner"})

            parser = argparse.ArgumentParser()
            parser.add_argument("--model", default="gemini-2.0-flash")
            """
        },
    )
    assert _models(r) == {
        "claude-3-5-haiku-latest": "anthropic",
        "gpt-4o-mini": "openai",
        "mistral-small-latest": "mistral",
        "gpt-4o": "openai",
        "deepseek-reasoner": "deepseek",
        "gemini-2.0-flash": "google",
    }


def test_model_records_and_model_named_keys_are_weak_evidence(tmp_path: Path) -> None:
    files = {
        "images.py": """
        async def get_models(engine):
            if engine == "openai":
                return [
                    {'id': 'dall-e-2', 'name': 'DALL·E 2'},
                    {'id': 'dall-e-3', 'name': 'gpt-image-1.5'},
                ]
            available_models = [{'id': 'tts-1'}, {'id': 'tts-1-hd'}]
            return ({"id": "gpt-image-1"},)
        """,
        "config.py": """
        DEFAULT_CONFIG = {
            "RETRIEVER": "tavily",
            "FAST_LLM": "openai:gpt-4o-mini",
            "SMART_LLM": "openai:gpt-4.1",
        }
        MODELS = [{"name": "claude-3-5-haiku-latest", "label": "Haiku"}]
        CATALOG = {"id": "o3-mini", "object": "model", "owned_by": "openai"}
        PRICES = [{"name": "mistral-small-latest", "context_window": 32000}]

        class Settings:
            SUPPORTED_MODELS = ("gemini-2.0-flash", "deepseek-reasoner")
        """,
    }
    r = _scan(tmp_path, files)
    assert _models(r) == {
        "dall-e-2": "openai",
        "dall-e-3": "openai",
        "tts-1": "openai",
        "tts-1-hd": "openai",
        "gpt-image-1": "openai",
        "gpt-4o-mini": "openai",
        "gpt-4.1": "openai",
        "claude-3-5-haiku-latest": "anthropic",
        "o3-mini": "openai",
        "mistral-small-latest": "mistral",
        "gemini-2.0-flash": "google",
        "deepseek-reasoner": "deepseek",
    }
    assert r.errors == ()
    obs = _collect(tmp_path, files["images.py"], "images.py")
    lines = {m.value: m.location.line for m in _mentions(obs)}
    assert lines == {"dall-e-2": 5, "dall-e-3": 6, "tts-1": 8, "tts-1-hd": 8, "gpt-image-1": 9}
    assert all(not m.strong and m.via == "record:id" for m in _mentions(obs))
    config = _mentions(_collect(tmp_path, files["config.py"], "config.py"))
    smart = next(m for m in config if m.value == "gpt-4.1")
    assert (smart.provider, smart.strong) == ("openai", False)
    assert smart.properties["as_written"] == "openai:gpt-4.1"


def test_model_record_decoys_are_not_models(tmp_path: Path) -> None:
    r = _scan(
        tmp_path,
        {
            "records.py": """
            USERS = [{'id': 'user-123', 'name': 'gpt-4o'}, {'id': 'admin'}]
            ENCODINGS = [{'id': 'o200k_base'}, {'id': 'cl100k_base'}]
            FAMILIES = [{'id': 'gpt'}, {'id': 'claude'}, {'id': 'Gemini'}]
            models = [{'id': None}, {'id': 123}, {'id': f"{PREFIX}-4o"}, {**BASE}, {}]
            event = {"id": "gpt-4o", "kind": "trace"}
            people = [{"name": "claude-3-opus-20240229", "email": "x@example.com"}]
            option = {"model_path": "/srv/models/gpt-4o.bin", "model_config": "gpt-4o"}
            record = {"id": "not-a-model-name", "owned_by": "openai"}
            """
        },
    )
    assert _models(r) == {}
    assert r.errors == ()


def test_broken_source_with_model_records_is_a_collector_error(tmp_path: Path) -> None:
    f = _file(tmp_path, "broken.py", "models = [{'id': 'dall-e-3'},\n{'id': 'tts-1'\n")
    with pytest.raises(CollectorError) as info:
        list(PythonCodeCollector().collect(f))
    assert info.value.kind is ErrorKind.PARSE


# -- decoys -----------------------------------------------------------------------------------------


def test_decoys_are_not_models(tmp_path: Path) -> None:
    r = _scan(
        tmp_path,
        {
            "decoys.py": '''
            """Talks to gpt-4o and claude-3-opus; see the docs for gpt-4-turbo."""
            import os
            import tiktoken
            from openai import OpenAI
            from pydantic import BaseModel

            # we used to call gpt-3.5-turbo here
            MODEL_NAME = "MODEL_NAME"
            ENV_KEY = "OPENAI_MODEL"

            class Request(BaseModel):
                model: str
                model_config = {"protected_namespaces": ()}

            enc = tiktoken.get_encoding("cl100k_base")
            enc2 = tiktoken.encoding_for_model("gpt-4o")
            client = OpenAI()

            def call(model: str, provider: str) -> None:
                client.chat.completions.create(model=model, messages=[])
                client.chat.completions.create(model=f"{provider}/{model}", messages=[])
                client.chat.completions.create(model="%s" % model, messages=[])
                client.chat.completions.create(model=os.getenv("OPENAI_MODEL"), messages=[])
                print("model", "gpt-4o")
                log = {"note": "gpt-4o"}
            '''
        },
    )
    assert _models(r) == {}
    assert r.errors == ()


def test_unknown_calls_with_unknown_ids_are_not_models(tmp_path: Path) -> None:
    r = _scan(
        tmp_path,
        {
            "orm.py": """
            from mylib import train, Registry
            train(model="churn-v2", engine="pyarrow")
            Registry.register(model_name="customer/segments")
            x = dict(model="linear")
            """
        },
    )
    assert _models(r) == {}


# -- agents and MCP ---------------------------------------------------------------------------------


def test_agent_definitions_with_their_models(tmp_path: Path) -> None:
    r = _scan(
        tmp_path,
        {
            "agents_app.py": """
            from agents import Agent as OAIAgent, Runner
            from autogen_agentchat.agents import AssistantAgent
            from autogen_ext.models.openai import OpenAIChatCompletionClient
            from crewai import Agent, LLM
            from google.adk.agents import LlmAgent
            from langchain_openai import ChatOpenAI
            from langgraph.prebuilt import create_react_agent
            from pydantic_ai import Agent as PAgent
            from smolagents import CodeAgent, InferenceClientModel

            def search(q: str) -> str:
                return q

            researcher = Agent(role="Researcher", goal="find", backstory="b", llm="gpt-4o", tools=[search])
            writer = Agent(role="Writer", goal="w", backstory="b", llm=LLM(model="ollama/llama3.1"))
            llm = ChatOpenAI(model="gpt-4o-mini")
            graph = create_react_agent(llm, tools=[search], name="planner")
            triage = OAIAgent(name="Triage", instructions="route", model="o3-mini")
            helper = PAgent("anthropic:claude-3-5-sonnet-latest", system_prompt="help")
            qwen = "Qwen/Qwen2.5-Coder-32B-Instruct"
            coder = CodeAgent(tools=[], model=InferenceClientModel(model_id=qwen))
            assistant = AssistantAgent("assistant", model_client=OpenAIChatCompletionClient(model="gpt-4.1"))
            adk = LlmAgent(name="adk_agent", model="gemini-2.0-flash")
            """
        },
    )
    agents = {a.name: a for a in r.assets if a.kind is AssetKind.AGENT}
    assert set(agents) == {
        "Researcher",
        "Writer",
        "planner",
        "Triage",
        "helper",
        "coder",
        "assistant",
        "adk_agent",
    }
    assert agents["Researcher"].properties["framework"] == "crewai"
    assert agents["Researcher"].properties["tools"] == ["search"]
    by_id = {a.id: a for a in r.assets}
    uses = {
        (by_id[rel.source].name, by_id[rel.target].name)
        for rel in r.relations
        if rel.kind is RelationKind.USES_MODEL and by_id[rel.source].kind is AssetKind.AGENT
    }
    assert uses == {
        ("Researcher", "gpt-4o"),
        ("Writer", "ollama/llama3.1"),
        ("planner", "gpt-4o-mini"),
        ("Triage", "o3-mini"),
        ("helper", "claude-3-5-sonnet-latest"),
        ("coder", "Qwen/Qwen2.5-Coder-32B-Instruct"),
        ("assistant", "gpt-4.1"),
        ("adk_agent", "gemini-2.0-flash"),
    }


def test_mcp_servers_defined_in_code(tmp_path: Path) -> None:
    obs = _collect(
        tmp_path,
        """
        from mcp.server.fastmcp import FastMCP

        mcp = FastMCP("weather")

        @mcp.tool()
        async def get_forecast(city: str) -> str:
            return city

        @mcp.tool(name="alerts")
        def get_alerts(state: str) -> str:
            return state

        @mcp.resource("config://app")
        def config() -> str:
            return "{}"

        def helper() -> None:
            pass

        if __name__ == "__main__":
            mcp.run(transport="stdio")
        """,
    )
    server = _assets(obs, AssetKind.MCP_SERVER)["weather"]
    assert server.properties["tools"] == ["alerts", "get_forecast"]
    assert server.properties["resources"] == ["config://app"]
    assert server.properties["transport"] == "stdio"
    assert server.properties["role"] == "defined"


def test_low_level_mcp_server_and_fastmcp_package(tmp_path: Path) -> None:
    obs = _collect(
        tmp_path,
        """
        from mcp import types
        from mcp.server import Server

        server = Server("tickets")

        @server.list_tools()
        async def list_tools() -> list[types.Tool]:
            return [types.Tool(name="search_tickets", description="d", inputSchema={})]
        """,
    )
    assert _assets(obs, AssetKind.MCP_SERVER)["tickets"].properties["tools"] == ["search_tickets"]
    obs = _collect(
        tmp_path, 'from fastmcp import FastMCP\napp = FastMCP(name="calc")\n@app.tool\ndef add(a, b): ...\n'
    )
    assert _assets(obs, AssetKind.MCP_SERVER)["calc"].properties["tools"] == ["add"]


def test_mcp_servers_a_client_connects_to(tmp_path: Path) -> None:
    obs = _collect(
        tmp_path,
        """
        from agents.mcp import MCPServerStdio
        from langchain_mcp_adapters.client import MultiServerMCPClient

        client = MultiServerMCPClient({
            "math": {"command": "python", "args": ["math_server.py"], "transport": "stdio"},
            "weather": {"url": "https://mcp.example.com/mcp?token=SECRET", "transport": "streamable_http"},
        })
        fs = MCPServerStdio(params={
            "command": "npx",
            "args": ["-y", "@modelcontextprotocol/server-filesystem", "."],
            "env": {"API_KEY": "sk-secret"},
        })
        """,
    )
    servers = _assets(obs, AssetKind.MCP_SERVER)
    assert set(servers) == {"math", "weather", "@modelcontextprotocol/server-filesystem"}
    assert (
        servers["weather"].properties["url"] == "https://mcp.example.com/mcp"
    )  # no query string: tokens hide there
    assert servers["@modelcontextprotocol/server-filesystem"].properties["command"] == "npx"
    assert "sk-secret" not in repr(obs) and "SECRET" not in repr(obs)


# -- broken and hostile input -----------------------------------------------------------------------


def test_files_without_any_ai_word_are_not_parsed(tmp_path: Path) -> None:
    assert _collect(tmp_path, "import numpy as np\nx = np.zeros(3)\n") == []


def test_syntax_error_is_a_collector_error(tmp_path: Path) -> None:
    with pytest.raises(CollectorError) as err:
        _collect(tmp_path, "from openai import OpenAI\ndef broken(:\n")
    assert err.value.kind is ErrorKind.PARSE


def test_binary_and_huge_files_are_errors(tmp_path: Path) -> None:
    with pytest.raises(CollectorError):
        list(PythonCodeCollector().collect(_file(tmp_path, "bin.py", b"\x00\x01\x02import openai")))
    huge = _file(tmp_path, "huge.py", "x = 1\n" * 400_000)
    with pytest.raises(CollectorError) as err:
        list(PythonCodeCollector().collect(huge))
    assert err.value.kind is ErrorKind.LIMIT


def test_deeply_nested_expressions_are_bounded(tmp_path: Path) -> None:
    with pytest.raises(CollectorError) as err:
        _collect(tmp_path, "model = " + "+".join(["a"] * 200_000) + "\n")
    assert err.value.kind is ErrorKind.LIMIT
    nested = "import openai\nMODEL = 'gpt-4o'\n" + "y = " + "f(" * 180 + "1" + ")" * 180 + "\n"
    obs = _collect(tmp_path, nested)  # deep but parseable: analysed without recursion
    assert "openai" in _assets(obs, AssetKind.AI_SDK_USAGE)


def test_scan_records_bad_files_and_keeps_going(tmp_path: Path) -> None:
    r = _scan(
        tmp_path,
        {
            "bad.py": "import openai\ndef (:\n",
            "not_ai.py": "def (:\n",  # nothing AI in it: not parsed, so not reported
            "good.py": 'from openai import OpenAI\nOpenAI().chat.completions.create(model="gpt-4o")\n',
        },
    )
    assert _models(r) == {"gpt-4o": "openai"}
    assert [(e.path, e.collector, e.kind) for e in r.errors] == [("bad.py", "python-code", ErrorKind.PARSE)]


def test_self_referential_and_cyclic_names_terminate(tmp_path: Path) -> None:
    obs = _collect(
        tmp_path,
        """
        from openai import OpenAI
        a = b
        b = a
        model = model
        OpenAI().chat.completions.create(model=a)
        OpenAI().chat.completions.create(model=model)
        """,
    )
    assert _mentions(obs) == []


def test_scan_ids_are_stable(tmp_path: Path) -> None:
    files = {"x/app.py": 'from openai import OpenAI\nOpenAI().chat.completions.create(model="gpt-4o")\n'}
    one = _scan(tmp_path, files)
    two = scan([tmp_path], ScanOptions(collectors=["python-code"], checks=[]))
    assert [a.id for a in one.assets] == [a.id for a in two.assets]


_PY_ATOMS = st.sampled_from(
    ["import openai", "from openai import OpenAI", "client = OpenAI()", "MODEL = 'gpt-4o'",
     "client.chat.completions.create(model=MODEL)", "x = os.getenv('M', 'gpt-4o')", "def f(model='x'):",
     "    return model", "@mcp.tool()", "mcp = FastMCP('s')", "Agent(role='r', llm=llm)", "(", ")", "'",
     "\\", "{'model': MODEL}", "a = b = c", "lambda: model", "async def g(): await h()", "\x00", "  ", "#",
     "f'{x}'"]
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.one_of(_PY_ATOMS, st.text(max_size=30)), max_size=25))
def test_collector_never_crashes_on_arbitrary_source(tmp_path: Path, lines: list[str]) -> None:
    f = _file(tmp_path, "fuzz.py", "\n".join(lines))
    try:
        for obs in PythonCodeCollector().collect(f):
            assert isinstance(obs, Asset | ModelMention | EnvBinding) or type(obs).__name__ == "Relation"
    except CollectorError:
        pass
