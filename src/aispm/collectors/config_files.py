"""AI in configuration: ``.env`` files, YAML/JSON/TOML settings, docker-compose, Kubernetes, Helm values.

What it yields:

* an :class:`EnvBinding` for every non-secret ``KEY=VALUE`` (``.env``, compose ``environment``,
  Kubernetes ``env`` and ConfigMaps, upper-case keys of settings files), so that code reading
  ``os.getenv("MODEL_ID")`` resolves to the value configured here;
* a :class:`ModelMention` for every key that holds a model id (``MODEL_ID``, ``model``,
  ``modelURL``, ``--model`` of a serving command), following ``${VAR:-default}`` references;
  ``strong`` only where the position itself means "model id" (serving arguments, known keys);
* an ``inference-endpoint`` asset for every self-hosted model server (vLLM, TGI, Ollama,
  llama.cpp, LocalAI, NIM, SGLang, Triton, KServe...), owning the mentions of the model it serves;
* an ``ai-provider`` asset for every provider whose key or endpoint variable is set
  (``OPENAI_API_KEY``), without ever keeping the value.

Secret-looking values are never bound, stored or printed.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import yaml

from aispm.analysis.env_refs import EnvRef, parse_env_ref
from aispm.analysis.sensitive import is_secret_name, looks_secret, redact_args, redact_url
from aispm.analysis.serving import (
    PROVIDER_ENV,
    SERVER_AUTH_ENV,
    SERVER_HOST_ENV,
    image_needs_serve_command,
    is_model_key,
    is_strong_model_key,
    nim_model_from_image,
    parse_serving_args,
    plausible_model_value,
    provider_of_name,
    provider_of_value,
    server_for_command,
    server_for_image,
    snake,
    split_command,
)
from aispm.analysis.structured import (
    LineIndex,
    LocatedDict,
    StructuredLimitError,
    load_json,
    load_yaml_documents,
)
from aispm.assets import provider_asset
from aispm.collectors.base import Collector, CollectorError, EnvBinding, ModelMention, Observation, SourceFile
from aispm.collectors.iac import is_iac_file
from aispm.collectors.mcp_configs import is_mcp_or_agent_file
from aispm.model import JSON, Asset, AssetKind, ErrorKind, RelationKind

_STRUCTURED_SUFFIXES = frozenset({".yaml", ".yml", ".json", ".jsonc", ".json5", ".toml"})
#: Files other collectors own or that never hold settings (lock files, package manifests).
_NOT_SETTINGS = frozenset(
    {
        "package.json", "package-lock.json", "npm-shrinkwrap.json", "pnpm-lock.yaml", "yarn.lock",
        "composer.json", "composer.lock", "pipfile.lock", "poetry.lock", "uv.lock", "cargo.lock",
        "pyproject.toml", "cargo.toml", "tsconfig.json", "jsconfig.json", ".eslintrc.json",
        "deno.lock", "bun.lock", "gemfile.lock",
    }
)  # fmt: skip
_SAMPLE_SUFFIXES = (".example", ".sample", ".template", ".tmpl", ".tpl", ".dist", ".defaults", ".default")
_COMPOSE_NAME = re.compile(r"^(docker-)?compose([.-][\w.-]*)?\.ya?ml$")
_ENV_KEY = re.compile(r"^[A-Z][A-Z0-9_]*$")
_DOTENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*[=:]\s*(.*?)\s*$")
MAX_WALK_NODES = 200_000
MAX_BINDING_LENGTH = 1024
_K8S_CONTAINER_KEYS = ("containers", "initContainers")


class ConfigFileCollector(Collector):
    """Reads ``.env`` files, settings files, compose files, Kubernetes manifests and Helm values."""

    name = "config-files"
    version = "3"

    def wants(self, file: SourceFile) -> bool:
        """Dotenv files and YAML/JSON/TOML files that no other collector owns."""
        lower = file.name.lower()
        if is_dotenv_name(lower):
            return True
        if file.suffix not in _STRUCTURED_SUFFIXES or lower in _NOT_SETTINGS:
            return False
        return not (is_mcp_or_agent_file(file.path) or is_iac_file(file.path))

    def collect(self, file: SourceFile) -> Iterator[Observation]:
        """Yield bindings, mentions, endpoints and provider signals held in ``file``."""
        text = file.read_text()
        ctx = _Ctx(file, LineIndex(text), sample=is_sample_name(file.name.lower()))
        if is_dotenv_name(file.name.lower()):
            yield from _dotenv(ctx, text)
            return
        if file.suffix in (".yaml", ".yml"):
            yield from _yaml(ctx, text)
        elif file.suffix == ".toml":
            try:
                doc: Any = tomllib.loads(text)
            except tomllib.TOMLDecodeError as exc:
                raise CollectorError(f"invalid TOML: {exc}") from exc
            yield from _Walker(ctx).walk(doc)
        else:
            try:
                doc = load_json(text, jsonc=file.suffix != ".json" or _is_jsonc_path(file.path))
            except ValueError as exc:
                raise CollectorError(f"invalid JSON: {exc}") from exc
            yield from _Walker(ctx).walk(doc)


def is_dotenv_name(name: str) -> bool:
    """``.env``, ``.env.local``, ``.env.example``, ``prod.env``, ``.envrc`` (lower-cased name)."""
    if name in (".env", ".envrc") or name.startswith(".env.") or name.endswith(".env"):
        return True
    return ".env." in name and name.endswith(_SAMPLE_SUFFIXES)


def is_sample_name(name: str) -> bool:
    """Whether a file is a template to copy rather than live configuration (``.env.example``)."""
    return name.endswith(_SAMPLE_SUFFIXES) or any(f".{s}." in name for s in ("example", "sample", "template"))


def _is_jsonc_path(path: str) -> bool:
    # VS Code-family settings and devcontainers are JSONC even when named .json.
    return "/.vscode/" in f"/{path}" or path.endswith(("devcontainer.json", ".code-workspace"))


@dataclass
class _Ctx:
    file: SourceFile
    lines: LineIndex
    sample: bool

    def extra(self, **props: JSON) -> dict[str, JSON]:
        """``props`` without empty values.

        ``sample`` is only set on assets that live in one file (endpoints): models and providers
        are merged across files by id, where a per-file flag would end up describing the wrong
        occurrence. Scope, derived from the path, is what marks samples on merged assets.
        """
        return {k: v for k, v in props.items() if v is not None}


# --- .env --------------------------------------------------------------------------------------


def _dotenv(ctx: _Ctx, text: str) -> Iterator[Observation]:
    for lineno, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        m = _DOTENV_LINE.match(raw)
        if m is None:
            continue
        key, value = m.group(1), _dotenv_value(m.group(2))
        yield from _env_item(ctx, key, value, lineno, owner=None, serving=False)


def _dotenv_value(raw: str) -> str:
    if raw[:1] in ("'", '"'):
        quote = raw[0]
        end = raw.find(quote, 1)
        return raw[1:end] if end != -1 else raw[1:]
    # Unquoted values end at an inline comment.
    hash_at = raw.find(" #")
    return (raw[:hash_at] if hash_at != -1 else raw).strip()


# --- shared: one variable, one mention -----------------------------------------------------------


def _env_item(
    ctx: _Ctx, key: str, value: object, line: int | None, *, owner: str | None, serving: bool
) -> Iterator[Observation]:
    """Observations for one variable: provider signal, binding, and model mention."""
    loc = ctx.file.loc(line)
    if (provider := PROVIDER_ENV.get(key.upper())) is not None:
        yield provider_asset(provider, loc, ctx.file.scope, **ctx.extra(signal=f"env:{key.upper()}"))
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return
    text = str(value)
    secret = is_secret_name(key) or looks_secret(text)
    if secret:
        return
    ref = parse_env_ref(text)
    bound = ref.default if ref is not None else text
    if bound and len(bound) <= MAX_BINDING_LENGTH:
        yield EnvBinding(key, bound, loc)
    if is_model_key(key):
        strong = serving or is_strong_model_key(key)
        mention = _mention(
            ctx, text, f"env:{key}", line, strong=strong, provider=provider_of_name(key), owner=owner
        )
        if mention is not None:
            yield mention


def _mention(
    ctx: _Ctx,
    raw: str,
    via: str,
    line: int | None,
    *,
    strong: bool,
    provider: str | None,
    owner: str | None,
    ref: EnvRef | None = None,
    kubernetes: bool = False,
) -> ModelMention | None:
    """A mention of ``raw`` (or of the variable it references), or None when it cannot be a model."""
    ref = ref or parse_env_ref(raw, kubernetes=kubernetes)
    props = ctx.extra()
    # Owners here are always model servers (compose services, Kubernetes workloads): they serve it.
    relation = RelationKind.SERVES if owner else RelationKind.USES_MODEL
    if ref is not None:
        return ModelMention(
            ctx.file.loc(line), via, value=ref.default, env_var=ref.name, provider=provider,
            strong=strong, owner=owner, properties=props, relation=relation,
        )  # fmt: skip
    value = raw.strip()
    if not plausible_model_value(value):
        return None
    return ModelMention(
        ctx.file.loc(line), via, value=value, provider=provider, strong=strong, owner=owner, properties=props,
        relation=relation,
    )  # fmt: skip


# --- workloads: compose services, Kubernetes containers, Helm image blocks -------------------------


@dataclass
class _Workload:
    name: str
    line: int | None
    image: str | None = None
    argv: list[str] = field(default_factory=list)
    env: list[tuple[str, object, int | None]] = field(default_factory=list)
    ports: list[str] = field(default_factory=list)
    exposure: list[str] = field(default_factory=list)
    source: str = "compose"
    extra: dict[str, JSON] = field(default_factory=dict)
    force_server: str | None = None


def _workload(ctx: _Ctx, w: _Workload, *, kubernetes: bool = False) -> Iterator[Observation]:
    """An endpoint (when the workload is a model server), then its model mentions and variables."""
    server = w.force_server or (server_for_image(w.image) if w.image else None)
    if server is not None and image_needs_serve_command(server) and server_for_command(w.argv) is None:
        server = None
    server = server or server_for_command(w.argv)
    args = parse_serving_args(w.argv)
    owner: str | None = None
    if server is not None:
        endpoint = _endpoint(
            ctx, w, server, args.host, args.port, args.auth_flags, args.served_names, args.model_files
        )
        yield endpoint
        owner = endpoint.id
        nim = nim_model_from_image(w.image) if w.image else None
        if nim is not None:
            mention = _mention(ctx, nim, "nim-image", w.line, strong=True, provider="nvidia-nim", owner=owner)
            if mention is not None:
                yield mention
    for via, value in args.models:
        provider = "ollama" if via.startswith("ollama ") or server == "ollama" else None
        mention = _mention(
            ctx,
            value,
            via,
            w.line,
            strong=server is not None,
            provider=provider,
            owner=owner,
            kubernetes=kubernetes,
        )
        if mention is not None:
            yield mention
    for key, env_value, line in w.env:
        yield from _env_item(ctx, key, env_value, line, owner=owner, serving=server is not None)


def _endpoint(
    ctx: _Ctx,
    w: _Workload,
    server: str,
    host: str | None,
    port: str | None,
    auth_flags: list[str],
    served_names: list[str],
    model_files: list[str],
) -> Asset:
    exposure = list(w.exposure)
    env_names = {k.upper(): v for k, v, _ in w.env}
    if host in ("0.0.0.0", "::", "[::]"):  # noqa: S104 - detecting, not binding
        exposure.append("binds-all-interfaces")
    for name in SERVER_HOST_ENV & env_names.keys():
        if str(env_names[name]).startswith(("0.0.0.0", "::")):  # noqa: S104 - detecting, not binding
            exposure.append(f"env:{name}=all-interfaces")
    auth = list(dict.fromkeys(auth_flags + [f"env:{n}" for n in sorted(SERVER_AUTH_ENV & env_names.keys())]))
    props: dict[str, JSON] = {
        "server": server,
        "source": w.source,
        "image": w.image,
        "ports": w.ports or ([port] if port else []),
        "exposure": sorted(set(exposure)),
        "auth": auth,
        "authenticated": bool(auth),
        "command": redact_args(w.argv)[:64] if w.argv else None,
        "served_model_names": served_names or None,
        "model_files": model_files or None,
        "sample": True if ctx.sample else None,
        **w.extra,
    }
    return Asset.create(
        AssetKind.INFERENCE_ENDPOINT,
        w.name,
        key=(ctx.file.path, w.name),
        location=ctx.file.loc(w.line),
        properties=ctx.extra(**props),
        scope=ctx.file.scope,
    )


# --- YAML routing --------------------------------------------------------------------------------


def _yaml(ctx: _Ctx, text: str) -> Iterator[Observation]:
    path = f"/{ctx.file.path}"
    if "{{" in text and "/templates/" in path:
        # A Helm (Go) template is not YAML until rendered; its values file is read instead.
        return
    try:
        docs = load_yaml_documents(text)
    except StructuredLimitError as exc:
        raise CollectorError(str(exc), ErrorKind.LIMIT) from exc
    except yaml.YAMLError as exc:
        raise CollectorError(f"invalid YAML: {_yaml_problem(exc)}") from exc
    compose_name = bool(_COMPOSE_NAME.match(ctx.file.name.lower()))
    for doc in docs:
        if not isinstance(doc, dict):
            yield from _Walker(ctx).walk(doc)
        elif _is_compose(doc, compose_name):
            yield from _compose(ctx, doc)
        elif isinstance(doc.get("apiVersion"), str) and isinstance(doc.get("kind"), str):
            yield from _kubernetes(ctx, doc)
        else:
            yield from _Walker(ctx).walk(doc)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or type(exc).__name__
    return f"{problem} at line {mark.line + 1}" if mark is not None else str(problem)


def _line(container: object, key: object) -> int | None:
    if isinstance(container, LocatedDict) and isinstance(key, str):
        return container.lines.get(key, container.line)
    return None


# --- docker-compose ------------------------------------------------------------------------------


def _is_compose(doc: Mapping[str, Any], by_name: bool) -> bool:
    services = doc.get("services")
    if not isinstance(services, dict) or not services:
        return False
    return by_name or any(isinstance(s, dict) and ("image" in s or "build" in s) for s in services.values())


def _compose(ctx: _Ctx, doc: Mapping[str, Any]) -> Iterator[Observation]:
    services = doc["services"]
    for name, svc in services.items():
        if not isinstance(svc, dict):
            continue
        image = svc.get("image") if isinstance(svc.get("image"), str) else None
        argv = split_command(svc.get("entrypoint")) + split_command(svc.get("command"))
        w = _Workload(str(name), _line(services, name), image=image, argv=argv, source="compose")
        w.env = list(_compose_env(svc.get("environment")))
        w.ports, w.exposure = _compose_ports(svc.get("ports"))
        if svc.get("network_mode") == "host":
            w.exposure.append("host-network")
        yield from _workload(ctx, w)
        # Model keys under labels, x- extensions or deploy blocks are plain settings.
        rest = {
            k: v
            for k, v in svc.items()
            if k not in ("environment", "command", "entrypoint", "image", "ports")
        }
        yield from _Walker(ctx).walk(rest)


def _compose_env(env: object) -> Iterator[tuple[str, object, int | None]]:
    if isinstance(env, dict):
        for k, v in env.items():
            yield str(k), v, _line(env, k)
    elif isinstance(env, list):
        lines = getattr(env, "lines", [])
        for i, item in enumerate(env):
            if isinstance(item, str):
                key, sep, value = item.partition("=")
                yield key.strip(), (value if sep else None), lines[i] if i < len(lines) else None


def _compose_ports(ports: object) -> tuple[list[str], list[str]]:
    out: list[str] = []
    exposure: list[str] = []
    if not isinstance(ports, list):
        return out, exposure
    for p in ports:
        if isinstance(p, dict):
            published, host_ip = p.get("published"), p.get("host_ip")
            out.append(f"{published or ''}:{p.get('target', '')}".strip(":"))
            if published is not None and host_ip in (None, "0.0.0.0", "::"):  # noqa: S104
                exposure.append("published-all-interfaces")
        elif isinstance(p, str | int):
            spec = str(p)
            out.append(spec)
            parts = spec.split(":")
            if len(parts) >= 2 and (len(parts) == 2 or parts[0] in ("0.0.0.0", "", "::")):  # noqa: S104
                exposure.append("published-all-interfaces")
    return out, sorted(set(exposure))


# --- Kubernetes ----------------------------------------------------------------------------------


def _kubernetes(ctx: _Ctx, doc: LocatedDict | dict[str, Any]) -> Iterator[Observation]:
    kind = str(doc["kind"])
    meta = _as_dict(doc.get("metadata"))
    name = str(meta.get("name") or kind)
    line = _line(doc, "kind")
    if kind == "Secret":
        data = {**_as_dict(doc.get("data")), **_as_dict(doc.get("stringData"))}
        for key in data:
            if (provider := PROVIDER_ENV.get(str(key).upper())) is not None:
                loc = ctx.file.loc(_line(doc.get("stringData") or doc.get("data"), key))
                yield provider_asset(provider, loc, ctx.file.scope, **ctx.extra(signal=f"secret:{key}"))
        return
    if kind == "ConfigMap":
        config = doc.get("data")
        for key, value in _as_dict(config).items():
            if _ENV_KEY.match(str(key)):
                yield from _env_item(ctx, str(key), value, _line(config, key), owner=None, serving=False)
        return
    if kind == "InferenceService":
        yield from _kserve(ctx, doc, name, line)
    pods = list(_pod_specs(doc, 0))
    servers = {id(c) for spec in pods for c in _containers(spec) if _container_server(c) is not None}
    for spec in pods:
        host_network = spec.get("hostNetwork") is True
        for c in _containers(spec):
            cname = str(c.get("name") or "container")
            w = _Workload(
                name if len(servers) <= 1 or id(c) not in servers else f"{name}/{cname}",
                _line(c, "image") or _line(spec, "containers"),
                image=c.get("image") if isinstance(c.get("image"), str) else None,
                argv=split_command(c.get("command")) + split_command(c.get("args")),
                source="kubernetes",
                extra={"workload_kind": kind, "container": cname},
            )
            w.env = list(_k8s_env(c.get("env")))
            w.ports, w.exposure = _k8s_ports(c.get("ports"))
            if host_network:
                w.exposure.append("host-network")
            yield from _workload(ctx, w, kubernetes=True)
    # Custom resources hold model settings outside containers (KAITO presets, RayService configs).
    yield from _Walker(ctx, skip_keys=frozenset({*_K8S_CONTAINER_KEYS, "metadata", "status"})).walk(doc)


def _as_dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _pod_specs(node: object, depth: int) -> Iterator[dict[str, Any]]:
    """Every mapping that holds a ``containers`` list, wherever the workload kind nests it."""
    if depth > 12:
        return
    if isinstance(node, dict):
        if any(isinstance(node.get(k), list) for k in _K8S_CONTAINER_KEYS):
            yield node
        for v in node.values():
            if isinstance(v, dict | list):
                yield from _pod_specs(v, depth + 1)
    elif isinstance(node, list):
        for item in node:
            yield from _pod_specs(item, depth + 1)


def _containers(spec: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    for key in _K8S_CONTAINER_KEYS:
        items = spec.get(key)
        if isinstance(items, list):
            yield from (c for c in items if isinstance(c, dict))


def _container_server(c: Mapping[str, Any]) -> str | None:
    image = c.get("image")
    argv = split_command(c.get("command")) + split_command(c.get("args"))
    server = server_for_image(image) if isinstance(image, str) else None
    if server is not None and image_needs_serve_command(server) and server_for_command(argv) is None:
        server = None
    return server or server_for_command(argv)


def _k8s_env(env: object) -> Iterator[tuple[str, object, int | None]]:
    if not isinstance(env, list):
        return
    for item in env:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            # valueFrom (secrets, config maps) has no literal: the name alone is still a signal.
            yield item["name"], item.get("value"), _line(item, "name")


def _k8s_ports(ports: object) -> tuple[list[str], list[str]]:
    out: list[str] = []
    exposure: list[str] = []
    for p in ports if isinstance(ports, list) else []:
        if isinstance(p, dict):
            out.append(str(p.get("containerPort", "")))
            if p.get("hostPort") is not None:
                exposure.append(f"hostPort:{p['hostPort']}")
    return out, exposure


def _kserve(ctx: _Ctx, doc: Mapping[str, Any], name: str, line: int | None) -> Iterator[Observation]:
    predictor = _as_dict(_as_dict(doc.get("spec")).get("predictor"))
    model = _as_dict(predictor.get("model"))
    framework = None
    if not model:
        for key, value in predictor.items():
            if isinstance(value, dict) and "storageUri" in value:
                model, framework = value, key
                break
    fmt = _as_dict(model.get("modelFormat")).get("name") or framework
    storage = model.get("storageUri") if isinstance(model.get("storageUri"), str) else None
    w = _Workload(
        name,
        line,
        argv=split_command(model.get("args")),
        source="kserve",
        force_server="kserve",
        extra={
            "model_format": fmt,
            "runtime": model.get("runtime"),
            "storage_uri": redact_url(storage) if storage else None,
        },
    )
    w.env = list(_k8s_env(model.get("env")))
    endpoint_obs = list(_workload(ctx, w, kubernetes=True))
    yield from endpoint_obs
    owner = next((o.id for o in endpoint_obs if isinstance(o, Asset)), None)
    if storage and storage.startswith("hf://"):
        repo = storage[len("hf://") :].strip("/")
        mention = _mention(
            ctx,
            repo,
            "storageUri",
            _line(model, "storageUri"),
            strong=True,
            provider="huggingface",
            owner=owner,
        )
        if mention is not None:
            yield mention


# --- generic settings (Helm values, app settings, JSON, TOML) -----------------------------------

_PROVIDER_SIBLINGS = ("provider", "llm_provider", "model_provider", "api_type", "vendor", "backend", "type")
#: Parent keys under which a ``model`` key can only be a model id (``embeddings: {model: org/name}``).
_AI_SECTIONS = frozenset(
    {
        "llm", "llms", "embedding", "embeddings", "embedder", "reranker", "rerank", "chat", "completion",
        "completions", "generation", "generator", "inference", "serving", "vllm", "tgi", "ollama",
        "huggingface", "hf", "transformers", "sentence_transformers", "vision", "asr", "tts", "whisper",
        "classifier", "summarizer", "summarization", "agent", "agents", "assistant", "rag",
    }
)  # fmt: skip


class _Walker:
    """Walks a settings tree for model keys, env-style keys, and image blocks of model servers."""

    def __init__(self, ctx: _Ctx, skip_keys: frozenset[str] = frozenset()) -> None:
        self.ctx = ctx
        self.skip_keys = skip_keys
        self.budget = MAX_WALK_NODES
        lower = ctx.file.name.lower()
        # Helm values describe what a cluster runs: a model key there names a model to serve.
        self.helm_values = lower.startswith("values") and ctx.file.suffix in (".yaml", ".yml")

    def walk(self, doc: object) -> Iterator[Observation]:
        """Observations for ``doc`` and everything under it."""
        yield from self._node(doc, None, None, None, 0)

    def _node(
        self, node: object, parent_key: str | None, provider: str | None, container: object, depth: int
    ) -> Iterator[Observation]:
        self.budget -= 1
        if self.budget < 0 or depth > 64:
            raise CollectorError("settings tree too large or too deep to walk", ErrorKind.LIMIT)
        if isinstance(node, dict):
            yield from self._mapping(node, parent_key, provider, depth)
        elif isinstance(node, list):
            for item in node:
                yield from self._node(item, parent_key, provider, node, depth + 1)

    def _mapping(
        self, node: dict[str, Any], parent_key: str | None, provider: str | None, depth: int
    ) -> Iterator[Observation]:
        provider = self._provider_context(node, parent_key) or provider
        owner: str | None = None
        server_obs = list(self._server_block(node, parent_key))
        yield from server_obs
        owner = next((o.id for o in server_obs if isinstance(o, Asset)), None)
        # ``{name: MODEL_ID, value: ...}`` is an env entry in Helm values and many charts.
        env_name, env_value = node.get("name"), node.get("value")
        if isinstance(env_name, str) and _ENV_KEY.match(env_name) and "value" in node and not owner:
            yield from _env_item(
                self.ctx, env_name, env_value, _line(node, "name"), owner=None, serving=False
            )
        for key, value in node.items():
            k = str(key)
            if k in self.skip_keys:
                continue
            if isinstance(value, dict | list):
                if owner is not None and k in ("env", "extraEnv", "args", "command", "extraArgs", "image"):
                    continue
                yield from self._node(value, k, provider, node, depth + 1)
                continue
            is_env = bool(_ENV_KEY.match(k)) and len(k) > 1
            if not is_env and not (isinstance(value, str) and is_model_key(k)):
                continue
            # Lines are looked up only for keys that yield something: a locale file has thousands
            # of keys and none of them matter.
            line = _line(node, k) or self._find_line(k, value)
            if is_env:
                yield from _env_item(self.ctx, k, value, line, owner=owner, serving=owner is not None)
            elif isinstance(value, str):
                strong = (
                    owner is not None
                    or is_strong_model_key(k)
                    or self.helm_values
                    or snake(parent_key or "") in _AI_SECTIONS
                )
                mention = _mention(
                    self.ctx,
                    value,
                    k,
                    line,
                    strong=strong,
                    provider=provider or provider_of_name(k),
                    owner=owner,
                )
                if mention is not None:
                    yield mention

    def _provider_context(self, node: Mapping[str, Any], parent_key: str | None) -> str | None:
        for key in _PROVIDER_SIBLINGS:
            value = node.get(key)
            if isinstance(value, str) and (p := provider_of_value(value)) is not None:
                return p
        return provider_of_value(parent_key) if parent_key else None

    def _server_block(self, node: dict[str, Any], parent_key: str | None) -> Iterator[Observation]:
        image = _image_of(node)
        if image is None or server_for_image(image) is None:
            return
        name = node.get("name") if isinstance(node.get("name"), str) else parent_key
        argv: list[str] = []
        for key in ("command", "args", "extraArgs"):
            argv += split_command(node.get(key))
        w = _Workload(
            str(name or PurePosixPath(self.ctx.file.path).stem),
            _line(node, "image") or _line(node, "repository") or self._find_line("image", image),
            image=image,
            argv=argv,
            source="helm-values" if self.helm_values else "settings",
        )
        env = node.get("env") if node.get("env") is not None else node.get("extraEnv")
        w.env = list(_compose_env(env)) if isinstance(env, dict) else list(_k8s_env(env))
        yield from _workload(self.ctx, w)

    def _find_line(self, key: str, value: object) -> int | None:
        needle = str(value) if isinstance(value, str | int | float) and not isinstance(value, bool) else ""
        return self.ctx.lines.find(needle, key) if needle else self.ctx.lines.find(key)


def _image_of(node: Mapping[str, Any]) -> str | None:
    image = node.get("image")
    if isinstance(image, str):
        return image
    if isinstance(image, dict) and isinstance(image.get("repository"), str):
        tag = image.get("tag")
        return (
            f"{image['repository']}:{tag}" if isinstance(tag, str | int | float) else str(image["repository"])
        )
    repo = node.get("repository")
    if isinstance(repo, str) and "/" in repo:
        tag = node.get("tag")
        return f"{repo}:{tag}" if isinstance(tag, str | int | float) else repo
    return None
