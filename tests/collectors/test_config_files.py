"""ConfigFileCollector: .env files, settings, docker-compose, Kubernetes and Helm values."""

from __future__ import annotations

from pathlib import Path

import pytest

from aispm.collectors.base import CollectorError, EnvBinding, ModelMention, Observation, SourceFile, scope_of
from aispm.collectors.config_files import ConfigFileCollector
from aispm.model import Asset, AssetKind, ErrorKind
from aispm.pipeline import ScanOptions, scan


def write(root: Path, rel: str, text: str) -> SourceFile:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return SourceFile(path, rel, path.stat().st_size, scope_of(rel))


def collect(root: Path, rel: str, text: str) -> list[Observation]:
    f = write(root, rel, text)
    c = ConfigFileCollector()
    assert c.wants(f)
    return list(c.collect(f))


def mentions(obs: list[Observation]) -> list[ModelMention]:
    return [o for o in obs if isinstance(o, ModelMention)]


def bindings(obs: list[Observation]) -> dict[str, str]:
    return {o.name: o.value for o in obs if isinstance(o, EnvBinding)}


def assets(obs: list[Observation], kind: AssetKind) -> list[Asset]:
    return [o for o in obs if isinstance(o, Asset) and o.kind == kind]


# --- .env ----------------------------------------------------------------------------------------


def test_dotenv_bindings_mentions_and_provider_signals(tmp_path: Path) -> None:
    obs = collect(
        tmp_path,
        ".env",
        "# settings\n"
        "OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwxyzABCDEFGH0123456789\n"
        "MODEL_ID=meta-llama/Llama-3.1-8B-Instruct\n"
        'OPENAI_MODEL="gpt-4o"  # inline comment stays out of quotes\n'
        "export EMBEDDING_MODEL='BAAI/bge-small-en-v1.5'\n"
        "CHAT_MODEL=${CHAT_MODEL_OVERRIDE:-mistralai/Mistral-7B-Instruct-v0.3} # note\n"
        "LOG_LEVEL=info\n",
    )
    assert bindings(obs) == {
        "MODEL_ID": "meta-llama/Llama-3.1-8B-Instruct",
        "OPENAI_MODEL": "gpt-4o",
        "EMBEDDING_MODEL": "BAAI/bge-small-en-v1.5",
        "CHAT_MODEL": "mistralai/Mistral-7B-Instruct-v0.3",
        "LOG_LEVEL": "info",
    }
    by_via = {m.via: m for m in mentions(obs)}
    assert by_via["env:MODEL_ID"].value == "meta-llama/Llama-3.1-8B-Instruct"
    assert by_via["env:MODEL_ID"].strong and by_via["env:MODEL_ID"].location.line == 3
    assert by_via["env:OPENAI_MODEL"].provider == "openai" and not by_via["env:OPENAI_MODEL"].strong
    chat = by_via["env:CHAT_MODEL"]
    assert (chat.env_var, chat.value) == ("CHAT_MODEL_OVERRIDE", "mistralai/Mistral-7B-Instruct-v0.3")
    providers = assets(obs, AssetKind.AI_PROVIDER)
    assert [p.name for p in providers] == ["openai"]
    # The key's value is never kept, anywhere.
    assert "sk-proj" not in repr(obs)


@pytest.mark.parametrize("name", [".env.example", ".env.sample", "prod.env.template"])
def test_dotenv_samples_are_read(tmp_path: Path, name: str) -> None:
    obs = collect(tmp_path, name, "ANTHROPIC_API_KEY=your-key-here\nLLM_MODEL=claude-3-5-sonnet-20241022\n")
    (m,) = mentions(obs)
    assert m.value == "claude-3-5-sonnet-20241022"
    # Merged assets (providers, models) carry no per-file sample flag: it would describe the wrong file.
    (provider,) = assets(obs, AssetKind.AI_PROVIDER)
    assert provider.name == "anthropic" and "sample" not in provider.properties


def test_sample_compose_endpoint_is_marked(tmp_path: Path) -> None:
    obs = collect(tmp_path, "docker-compose.example.yml", "services:\n  llm:\n    image: ollama/ollama\n")
    (endpoint,) = assets(obs, AssetKind.INFERENCE_ENDPOINT)
    assert endpoint.properties["sample"] is True


def test_dotenv_decoy_with_database_url_only(tmp_path: Path) -> None:
    obs = collect(tmp_path, ".env", "DATABASE_URL=postgres://app:hunter2pass@db:5432/app\nDEBUG=1\n")
    assert mentions(obs) == []
    assert not [o for o in obs if isinstance(o, Asset)]
    # A URL with a password is not bound (it would land in the cache in clear).
    assert bindings(obs) == {"DEBUG": "1"}


def test_dotenv_secret_looking_values_are_never_bound(tmp_path: Path) -> None:
    obs = collect(
        tmp_path,
        ".env.local",
        "GITHUB_TOKEN=ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nSOME_VALUE=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZg\n",
    )
    assert bindings(obs) == {}


# --- settings files --------------------------------------------------------------------------------


def test_yaml_settings_model_keys_with_provider_context(tmp_path: Path) -> None:
    obs = collect(
        tmp_path,
        "config/settings.yaml",
        "llm:\n"
        "  provider: anthropic\n"
        "  model: claude-3-5-sonnet-20241022\n"
        "embeddings:\n"
        "  openai:\n"
        "    model_name: text-embedding-3-small\n"
        "training:\n"
        "  base_model: mistralai/Mistral-7B-v0.1\n"
        "models: [a, b]\n"
        "model_type: llama\n",
    )
    got = {(m.via, m.value, m.provider, m.strong, m.location.line) for m in mentions(obs)}
    assert got == {
        ("model", "claude-3-5-sonnet-20241022", "anthropic", True, 3),
        ("model_name", "text-embedding-3-small", "openai", False, 6),
        ("base_model", "mistralai/Mistral-7B-v0.1", None, True, 8),
    }


def test_yaml_orm_and_type_decoys_stay_weak_or_absent(tmp_path: Path) -> None:
    obs = collect(
        tmp_path,
        "app/admin.yaml",
        "resources:\n  - model: User\n    fields: [name]\n  - model: str\n  - model: null\n  - model: 42\n",
    )
    ms = mentions(obs)
    # ``User`` goes to the classifier as a weak, provider-less candidate; the rest never leave here.
    assert [(m.value, m.strong, m.provider) for m in ms] == [("User", False, None)]


def test_env_reference_in_settings(tmp_path: Path) -> None:
    obs = collect(tmp_path, "app.yml", "model: ${LLM_MODEL:gpt-4o}\nother_model: ${EMBED}\n")
    got = {(m.env_var, m.value) for m in mentions(obs)}
    assert got == {("LLM_MODEL", "gpt-4o"), ("EMBED", None)}


def test_json_and_jsonc_and_toml_settings(tmp_path: Path) -> None:
    obs = collect(tmp_path, "settings.json", '{"assistant": {"provider": "openai", "model": "gpt-4o-mini"}}')
    assert [(m.value, m.provider) for m in mentions(obs)] == [("gpt-4o-mini", "openai")]
    assert mentions(obs)[0].location.line == 1
    obs = collect(tmp_path, "conf.jsonc", '{\n  // chat\n  "chatModel": "gpt-4.1", /* x */\n}\n')
    assert [(m.value, m.location.line) for m in mentions(obs)] == [("gpt-4.1", 3)]
    obs = collect(tmp_path, "app.toml", '[llm]\nprovider = "mistral"\nmodel = "mistral-large-latest"\n')
    assert [(m.value, m.provider, m.location.line) for m in mentions(obs)] == [
        ("mistral-large-latest", "mistral", 3)
    ]


def test_upper_case_settings_keys_are_env_bindings(tmp_path: Path) -> None:
    obs = collect(tmp_path, "env.json", '{"MODEL_NAME": "Qwen/Qwen2-7B", "ANTHROPIC_API_KEY": "x"}')
    assert bindings(obs) == {"MODEL_NAME": "Qwen/Qwen2-7B"}
    assert [p.name for p in assets(obs, AssetKind.AI_PROVIDER)] == ["anthropic"]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("bad.yaml", "a: [1, 2\nb: c\n", "invalid YAML"),
        ("bad.json", '{"a": 1,,}', "invalid JSON"),
        ("bad.toml", "a = = 1\n", "invalid TOML"),
    ],
)
def test_broken_settings_raise_collector_error(tmp_path: Path, name: str, text: str, message: str) -> None:
    with pytest.raises(CollectorError, match=message):
        collect(tmp_path, name, text)


def test_yaml_alias_bomb_is_refused(tmp_path: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    with pytest.raises(CollectorError) as info:
        collect(tmp_path, "bomb.yaml", "\n".join(lines) + "\n")
    assert info.value.kind == ErrorKind.LIMIT


def test_helm_templates_are_not_parsed_as_yaml(tmp_path: Path) -> None:
    obs = collect(tmp_path, "chart/templates/deploy.yaml", "spec:\n  replicas: {{ .Values.replicas }}\n")
    assert obs == []


def test_wants_skips_files_owned_elsewhere(tmp_path: Path) -> None:
    c = ConfigFileCollector()
    for rel in ("package.json", "pyproject.toml", ".cursor/mcp.json", "main.tf.json", "crew/agents.yaml"):
        assert not c.wants(write(tmp_path, rel, "{}"))
    assert c.wants(write(tmp_path, ".envrc", "export A=b\n"))


# --- docker-compose --------------------------------------------------------------------------------

COMPOSE = """\
x-common: &common
  restart: always
services:
  vllm:
    <<: *common
    image: vllm/vllm-openai:v0.6.3
    command: ["--model", "${MODEL_ID:-Qwen/Qwen2.5-7B-Instruct}", "--host", "0.0.0.0",
              "--api-key", "sk-abcdefghijklmnopqrstuvwxyz012345"]
    ports:
      - "8000:8000"
    environment:
      HF_TOKEN: ${HF_TOKEN}
      VLLM_LOGGING_LEVEL: INFO
  tgi:
    image: ghcr.io/huggingface/text-generation-inference:2.4
    environment:
      - MODEL_ID=HuggingFaceH4/zephyr-7b-beta
    ports: ["127.0.0.1:8080:80"]
  ollama:
    image: ollama/ollama
    entrypoint: ["/bin/sh", "-c", "ollama serve & sleep 2 && ollama pull llama3.1:8b"]
  nim:
    image: nvcr.io/nim/meta/llama-3.1-8b-instruct:1.3.0
  app:
    build: .
    environment:
      OPENAI_API_KEY: ${OPENAI_API_KEY}
      LLM_MODEL: gpt-4o-mini
  db:
    image: postgres:16
    environment:
      POSTGRES_PASSWORD: example
"""


def test_compose_model_servers(tmp_path: Path) -> None:
    obs = collect(tmp_path, "docker-compose.yml", COMPOSE)
    endpoints = {a.name: a for a in assets(obs, AssetKind.INFERENCE_ENDPOINT)}
    assert set(endpoints) == {"vllm", "tgi", "ollama", "nim"}
    vllm = endpoints["vllm"].properties
    assert vllm["server"] == "vllm" and vllm["authenticated"] is True
    assert set(vllm["exposure"]) == {"binds-all-interfaces", "published-all-interfaces"}
    assert "sk-abcdefghijklmnopqrstuvwxyz012345" not in repr(obs)
    assert endpoints["tgi"].properties["exposure"] == []
    assert endpoints["tgi"].properties["authenticated"] is False
    by_owner = {(m.owner, m.via): m for m in mentions(obs)}
    m = by_owner[(endpoints["vllm"].id, "--model")]
    assert (m.env_var, m.value, m.strong) == ("MODEL_ID", "Qwen/Qwen2.5-7B-Instruct", True)
    assert by_owner[(endpoints["tgi"].id, "env:MODEL_ID")].value == "HuggingFaceH4/zephyr-7b-beta"
    ollama = by_owner[(endpoints["ollama"].id, "ollama pull")]
    assert (ollama.value, ollama.provider) == ("llama3.1:8b", "ollama")
    nim = by_owner[(endpoints["nim"].id, "nim-image")]
    assert (nim.value, nim.provider) == ("meta/llama-3.1-8b-instruct", "nvidia-nim")
    app = [m for m in mentions(obs) if m.via == "env:LLM_MODEL"]
    assert [(x.value, x.owner) for x in app] == [("gpt-4o-mini", None)]
    assert [p.name for p in assets(obs, AssetKind.AI_PROVIDER)] == ["openai"]
    assert "POSTGRES_PASSWORD" not in bindings(obs)


def test_compose_without_model_server_is_not_an_endpoint(tmp_path: Path) -> None:
    obs = collect(
        tmp_path, "compose.yaml", "services:\n  web:\n    image: nginx:1.27\n    ports: ['80:80']\n"
    )
    assert obs == []


# --- Kubernetes ----------------------------------------------------------------------------------

K8S = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: llama
spec:
  template:
    spec:
      hostNetwork: true
      containers:
        - name: server
          image: vllm/vllm-openai:latest
          args: ["--model", "$(MODEL)", "--port", "8000"]
          env:
            - name: MODEL
              value: meta-llama/Llama-3.2-1B
            - name: HUGGING_FACE_HUB_TOKEN
              valueFrom: {secretKeyRef: {name: hf, key: token}}
          ports:
            - containerPort: 8000
              hostPort: 8000
        - name: sidecar
          image: busybox
---
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: qwen
spec:
  predictor:
    model:
      modelFormat: {name: huggingface}
      storageUri: hf://Qwen/Qwen2.5-0.5B
      args: ["--model_name=qwen"]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: tgi
              image: ghcr.io/huggingface/text-generation-inference:3
              args: ["--model-id", "bigscience/bloom-560m"]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data:
  LLM_MODEL: gpt-4o
  lowercase: ignored
---
apiVersion: v1
kind: Secret
metadata: {name: keys}
stringData:
  OPENAI_API_KEY: sk-live-should-never-be-read
"""


def test_kubernetes_workloads_kserve_configmaps_and_secrets(tmp_path: Path) -> None:
    obs = collect(tmp_path, "deploy/k8s.yaml", K8S)
    endpoints = {a.name: a for a in assets(obs, AssetKind.INFERENCE_ENDPOINT)}
    assert set(endpoints) == {"llama", "qwen", "nightly"}
    llama = endpoints["llama"].properties
    assert llama["workload_kind"] == "Deployment"
    assert set(llama["exposure"]) == {"hostPort:8000", "host-network"}
    m = next(m for m in mentions(obs) if m.owner == endpoints["llama"].id and m.via == "--model")
    assert (m.env_var, m.value) == ("MODEL", None)
    assert bindings(obs)["MODEL"] == "meta-llama/Llama-3.2-1B"
    kserve = next(m for m in mentions(obs) if m.owner == endpoints["qwen"].id)
    assert (kserve.value, kserve.provider, kserve.strong) == ("Qwen/Qwen2.5-0.5B", "huggingface", True)
    assert endpoints["qwen"].properties["served_model_names"] == ["qwen"]
    tgi = next(m for m in mentions(obs) if m.owner == endpoints["nightly"].id)
    assert tgi.value == "bigscience/bloom-560m"
    assert bindings(obs)["LLM_MODEL"] == "gpt-4o"
    assert "lowercase" not in bindings(obs)
    assert [p.properties["signal"] for p in assets(obs, AssetKind.AI_PROVIDER)] == ["secret:OPENAI_API_KEY"]
    assert "sk-live" not in repr(obs)


def test_yaml_that_is_not_kubernetes(tmp_path: Path) -> None:
    obs = collect(
        tmp_path,
        ".github/workflows/ci.yml",
        "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    container:\n      image: python:3.11\n",
    )
    assert obs == []


# --- Helm values ---------------------------------------------------------------------------------


def test_helm_values_serving_engine(tmp_path: Path) -> None:
    obs = collect(
        tmp_path,
        "charts/llm/values.yaml",
        "servingEngineSpec:\n"
        "  modelSpec:\n"
        "    - name: llama3\n"
        "      repository: lmcache/vllm-openai\n"
        "      tag: latest\n"
        "      modelURL: meta-llama/Llama-3.1-8B-Instruct\n"
        "embeddings:\n"
        "  model: BAAI/bge-small-en-v1.5\n"
        "ollama:\n"
        "  image:\n"
        "    repository: ollama/ollama\n"
        "    tag: 0.3.0\n"
        "  extraArgs: ['--host', '0.0.0.0']\n"
        "  env:\n"
        "    - name: OLLAMA_MODEL\n"
        "      value: llama3.2\n",
    )
    endpoints = {a.name: a for a in assets(obs, AssetKind.INFERENCE_ENDPOINT)}
    assert set(endpoints) == {"llama3", "ollama"}
    assert endpoints["llama3"].properties["source"] == "helm-values"
    url = next(m for m in mentions(obs) if m.via == "modelURL")
    assert (url.value, url.strong, url.owner, url.location.line) == (
        "meta-llama/Llama-3.1-8B-Instruct",
        True,
        endpoints["llama3"].id,
        6,
    )
    emb = next(m for m in mentions(obs) if m.value == "BAAI/bge-small-en-v1.5")
    assert (emb.strong, emb.owner) == (True, None)
    env = next(m for m in mentions(obs) if m.via == "env:OLLAMA_MODEL")
    assert (env.value, env.owner, env.strong) == ("llama3.2", endpoints["ollama"].id, True)
    assert "binds-all-interfaces" in endpoints["ollama"].properties["exposure"]


# --- pipeline --------------------------------------------------------------------------------------


def test_pipeline_resolves_and_links_served_models(tmp_path: Path) -> None:
    write(tmp_path, ".env", "MODEL_ID=mistralai/Mistral-7B-Instruct-v0.3\n")
    write(
        tmp_path,
        "docker-compose.yml",
        "services:\n  llm:\n    image: vllm/vllm-openai\n    command: --model ${MODEL_ID} --port 8000\n",
    )
    result = scan([tmp_path], ScanOptions(collectors=["config-files"], checks=[]))
    assert result.errors == ()
    models = [a for a in result.assets if a.kind == AssetKind.MODEL]
    names = {(m.name, m.properties["provider"]) for m in models}
    assert ("mistralai/Mistral-7B-Instruct-v0.3", "huggingface") in names
    endpoint = next(a for a in result.assets if a.kind == AssetKind.INFERENCE_ENDPOINT)
    served = {r.target for r in result.relations if r.source == endpoint.id}
    assert any(m.id in served and m.name == "mistralai/Mistral-7B-Instruct-v0.3" for m in models)


def test_pipeline_records_broken_file_and_goes_on(tmp_path: Path) -> None:
    write(tmp_path, "broken.yaml", "a: [\n")
    write(tmp_path, "ok.yaml", "base_model: Qwen/Qwen2-0.5B\n")
    result = scan([tmp_path], ScanOptions(collectors=["config-files"], checks=[]))
    assert [(e.path, e.collector) for e in result.errors] == [("broken.yaml", "config-files")]
    assert [a.name for a in result.assets if a.kind == AssetKind.MODEL] == ["Qwen/Qwen2-0.5B"]
