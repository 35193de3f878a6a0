"""MCP client configuration files and agent definition files (inventory only).

Every client config shape in the reference table is read: ``mcpServers`` (Claude Desktop/Code,
Cursor, Windsurf, Gemini, Cline, Roo, Kiro, Amazon Q, Copilot CLI, Warp), Claude Code's
``projects.*.mcpServers`` and flat plugin files, VS Code's ``servers`` / ``"mcp": {"servers"}`` /
``"mcp.servers"``, Zed's ``context_servers``, OpenCode's ``mcp`` (array command, ``environment``),
Codex's TOML ``[mcp_servers.x]``, Continue's YAML list and Goose's ``extensions``. JSONC is accepted.

Each file becomes an ``mcp-client-config`` asset that ``contains`` one ``mcp-server`` asset per
entry: transport, command, arguments (secret-looking ones redacted), URL (credentials redacted),
the *names* of environment variables and headers (never values), posture flags (auto-approve,
trust, disabled) and the package a launcher fetches (``npx``, ``uvx``, ``pipx``, ``docker``) with
its version and whether it is pinned. One malformed entry never drops the rest of the file.

Agent definitions (CrewAI ``agents.yaml``/``tasks.yaml``, ``.github/agents/*.md``, ``*.agent.md``,
``.claude/agents/*.md``) become ``agent`` assets with a mention of the model they name.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import yaml

from aispm.analysis.env_refs import parse_env_ref
from aispm.analysis.sensitive import is_secret_name, looks_secret, redact_args, redact_url
from aispm.analysis.serving import plausible_model_value
from aispm.analysis.structured import (
    LineIndex,
    LocatedDict,
    StructuredLimitError,
    load_json,
    load_yaml_documents,
)
from aispm.collectors.base import Collector, CollectorError, ModelMention, Observation, SourceFile
from aispm.model import JSON, Asset, AssetKind, ErrorKind, Relation, RelationKind

#: Content sniffed in JSON files with no known client name.
_SNIFF_KEYS = (b'"mcpServers"', b'"mcp_servers"', b'"context_servers"')
_SNIFF_LIMIT = 1024 * 1024
_SHELLS = frozenset({"sh", "bash", "zsh", "dash", "cmd", "powershell", "pwsh"})
_NPM_LAUNCHERS = frozenset({"npx", "bunx", "pnpx"})
_DIST_TAGS = frozenset({"latest", "next", "beta", "alpha", "canary", "rc", "nightly", "dev", "experimental"})
_EXACT_VERSION = re.compile(r"^v?\d+(\.\d+){0,3}([-+][0-9A-Za-z.-]+)?$")
_MAX_SERVERS = 10_000


@dataclass(frozen=True, slots=True)
class ClientFile:
    """Which client a config file belongs to and whether it is user- or project-scoped."""

    client: str
    scope: str


_USER_MARKERS = ("/library/application support/", "/appdata/", "/.config/", "/globalstorage/", "/.codeium/")


_CLIENT_SUFFIXES = (".json", ".jsonc", ".toml", ".yaml", ".yml", ".code-workspace")


def client_for(path: str) -> ClientFile | None:
    """The MCP client whose config file ``path`` is, by name and place (None when unknown)."""
    p = "/" + path.lower()
    name = p.rsplit("/", 1)[-1]
    if not name.endswith(_CLIENT_SUFFIXES):
        return None  # every client config below is JSON, TOML, YAML or a VS Code workspace
    user = any(m in p for m in _USER_MARKERS)
    scope = "user" if user else "project"
    table: tuple[tuple[bool, str, str | None], ...] = (
        (name == "claude_desktop_config.json", "claude-desktop", "user"),
        (name == ".claude.json", "claude-code", "user"),
        (name == "managed-mcp.json", "claude-code", "managed"),
        (name == ".mcp.json" and "/.claude/plugins/" in p, "claude-code-plugin", "user"),
        (name == "plugin.json" and "/.claude-plugin/" in p, "claude-code-plugin", None),
        (name == ".mcp.json" and "/.warp/" in p, "warp", None),
        (name == ".mcp.json", "claude-code", None),
        (p.endswith("/.cursor/mcp.json"), "cursor", None),
        (p.endswith("/.vscode/mcp.json"), "vscode", "project"),
        (p.endswith(("/user/mcp.json", "/user/settings.json")) and "code" in p, "vscode", "user"),
        (p.endswith("/.vscode/settings.json") or name.endswith(".code-workspace"), "vscode", None),
        (p.endswith("/.copilot/mcp-config.json"), "copilot-cli", "user"),
        (p.endswith("/.github/mcp.json"), "copilot", "project"),
        (p.endswith("/.codeium/windsurf/mcp_config.json"), "windsurf", "user"),
        (p.endswith(("/.windsurf/mcp_config.json", "/.windsurf/mcp.json")), "windsurf", "project"),
        (
            "/.gemini/antigravity/" in p or p.endswith("/.gemini/config/mcp_config.json"),
            "antigravity",
            "user",
        ),
        (p.endswith(("/.gemini/settings.json", "/gemini-cli/settings.json")), "gemini-cli", None),
        (("/.codex/" in p or "/codex/" in p) and name.endswith("config.toml"), "codex", None),
        (name in ("opencode.json", "opencode.jsonc"), "opencode", None),
        (p.endswith("/.kiro/settings/mcp.json"), "kiro", None),
        ("/.aws/amazonq/" in p and name.endswith(".json"), "amazon-q", "user"),
        (p.endswith("/.amazonq/mcp.json"), "amazon-q", "project"),
        (p.endswith(("/.zed/settings.json", "/zed/settings.json")), "zed", None),
        (name == "cline_mcp_settings.json", "cline", "user"),
        (p.endswith("/.roo/mcp.json"), "roo-code", "project"),
        (name == "mcp_settings.json" and "roo" in p, "roo-code", "user"),
        (p.endswith(("/.continue/config.yaml", "/.continue/config.json")), "continue", None),
        ("/.continue/mcpservers/" in p and name.endswith((".yaml", ".yml", ".json")), "continue", "project"),
        (p.endswith("/goose/config.yaml"), "goose", "user"),
        ("/jetbrains/" in p and name == "mcp.json", "jetbrains", "user"),
        (name in ("mcp.json", "mcp_config.json", "mcp-config.json"), "mcp-json", None),
    )
    for matched, client, fixed_scope in table:
        if matched:
            return ClientFile(client, fixed_scope or scope)
    return None


_CREWAI_NAMES = frozenset({"agents.yaml", "agents.yml", "tasks.yaml", "tasks.yml"})


def is_agent_file(path: str) -> bool:
    """CrewAI ``agents.yaml``/``tasks.yaml`` and Markdown agent definitions (Copilot, Claude Code)."""
    p = "/" + path.lower()
    name = p.rsplit("/", 1)[-1]
    if name in _CREWAI_NAMES:
        return True
    if not name.endswith(".md"):
        return False
    return (
        name.endswith((".agent.md", ".chatmode.md"))
        or "/.github/agents/" in p
        or "/.claude/agents/" in p
        or "/.github/chatmodes/" in p
    )


def is_mcp_or_agent_file(path: str) -> bool:
    """Whether this collector owns ``path`` by its name alone."""
    return client_for(path) is not None or is_agent_file(path)


class McpConfigCollector(Collector):
    """Inventories MCP client configs, the servers they define, and agent definition files."""

    name = "mcp-configs"
    version = "1"

    def wants(self, file: SourceFile) -> bool:
        """Known client config and agent file names, plus small JSON files that mention MCP servers."""
        if is_mcp_or_agent_file(file.path):
            return True
        if file.suffix not in (".json", ".jsonc", ".json5") or file.size > _SNIFF_LIMIT:
            return False
        head = file.read_head(64 * 1024)
        return any(k in head for k in _SNIFF_KEYS)

    def collect(self, file: SourceFile) -> Iterator[Observation]:
        """Yield the config, its servers and their relations (or the agents a file defines)."""
        if is_agent_file(file.path):
            yield from _agents(file)
            return
        known = client_for(file.path)
        client = known or ClientFile("unknown", "project")
        text = file.read_text()
        doc = _load(file, text)
        reader = _ConfigReader(file, client, LineIndex(text))
        servers = list(reader.servers(doc))
        if known is None and not servers and not reader.bad:
            return
        config = Asset.create(
            AssetKind.MCP_CLIENT_CONFIG,
            file.path,
            key=(file.path,),
            location=file.loc(1),
            properties={
                "client": client.client,
                "scope": client.scope,
                "server_count": len(servers),
                **({"inputs": reader.inputs} if reader.inputs else {}),
            },
            scope=file.scope,
        )
        yield config
        for server in servers:
            yield server
            yield Relation(config.id, server.id, RelationKind.CONTAINS)
        if reader.bad:
            shown = ", ".join(reader.bad[:10])
            raise CollectorError(f"{len(reader.bad)} malformed MCP server entries skipped: {shown}")


def _load(file: SourceFile, text: str) -> Any:
    suffix = file.suffix
    try:
        if suffix == ".toml":
            return tomllib.loads(text)
        if suffix in (".yaml", ".yml"):
            docs = load_yaml_documents(text)
            return docs[0] if docs else None
        return load_json(text, jsonc=True)
    except StructuredLimitError as exc:
        raise CollectorError(str(exc), ErrorKind.LIMIT) from exc
    except (ValueError, yaml.YAMLError) as exc:
        raise CollectorError(f"invalid {suffix.lstrip('.').upper() or 'config'}: {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


class _ConfigReader:
    def __init__(self, file: SourceFile, client: ClientFile, lines: LineIndex) -> None:
        self.file = file
        self.client = client
        self.lines = lines
        self.bad: list[str] = []
        self.inputs: list[str] = []

    def servers(self, doc: object) -> Iterator[Asset]:
        if not isinstance(doc, dict):
            return
        count = 0
        for project, name, cfg, container in self._tables(doc):
            count += 1
            if count > _MAX_SERVERS:
                raise CollectorError(f"more than {_MAX_SERVERS} MCP server entries", ErrorKind.LIMIT)
            try:
                props = normalise_server(cfg, self.client.client)
            except ValueError as exc:
                self.bad.append(f"{name} ({exc})")
                continue
            if project is not None:
                props["project"] = project
            line = _entry_line(container, name) or self.lines.find(f'"{name}"') or self.lines.find(name)
            yield Asset.create(
                AssetKind.MCP_SERVER,
                name,
                key=(self.file.path, project or "", name),
                location=self.file.loc(line),
                properties={"client": self.client.client, "config": self.file.path, **props},
                scope=self.file.scope,
            )

    def _tables(self, doc: dict[str, Any]) -> Iterator[tuple[str | None, str, object, object]]:
        """(project, name, entry, container) for every server entry, whatever the file's shape."""
        client = self.client.client
        inputs = doc.get("inputs")
        if isinstance(inputs, list):
            self.inputs = [str(i["id"]) for i in inputs if isinstance(i, dict) and "id" in i]
        found = False
        for key in ("mcpServers", "context_servers", "mcp_servers"):
            if key in doc:
                found = True
                yield from self._entries(None, doc[key])
        if client == "goose" or (
            client != "opencode" and isinstance(doc.get("extensions"), dict) and "mcpServers" not in doc
        ):
            exts = doc.get("extensions")
            if isinstance(exts, dict):
                found = True
                yield from self._entries(None, exts)
        servers = doc.get("servers")
        if isinstance(servers, dict) and (
            client in ("vscode", "mcp-json", "copilot", "unknown") or "inputs" in doc
        ):
            found = True
            yield from self._entries(None, servers)
        for settings in (doc, doc.get("settings")):
            if not isinstance(settings, dict):
                continue
            mcp = settings.get("mcp")
            if isinstance(mcp, dict) and isinstance(mcp.get("servers"), dict):
                found = True
                yield from self._entries(None, mcp["servers"])
            elif isinstance(mcp, dict) and (client == "opencode" or _looks_like_servers(mcp)):
                found = True
                yield from self._entries(None, mcp)
            if isinstance(settings.get("mcp.servers"), dict):
                found = True
                yield from self._entries(None, settings["mcp.servers"])
        projects = doc.get("projects")
        if isinstance(projects, dict):
            for project, pdoc in projects.items():
                if isinstance(pdoc, dict) and "mcpServers" in pdoc:
                    found = True
                    yield from self._entries(str(project), pdoc["mcpServers"])
        if (
            not found
            and client in ("claude-code-plugin", "claude-code", "mcp-json", "cursor")
            and _looks_like_servers(doc)
        ):
            yield from self._entries(None, doc)

    def _entries(
        self, project: str | None, table: object
    ) -> Iterator[tuple[str | None, str, object, object]]:
        if isinstance(table, dict):
            for name, cfg in table.items():
                yield project, str(name), cfg, table
        elif isinstance(table, list):
            # Continue's YAML list: ``[{name, command, args, env}]``.
            for i, cfg in enumerate(table):
                name = cfg.get("name") if isinstance(cfg, dict) else None
                yield project, str(name) if isinstance(name, str) else f"#{i}", cfg, None
        elif table is not None:
            self.bad.append(f"servers table is a {type(table).__name__}, not a mapping")


def _looks_like_servers(table: Mapping[str, Any]) -> bool:
    values = [v for v in table.values() if isinstance(v, dict)]
    return (
        bool(values)
        and len(values) == len(table)
        and all(
            any(k in v for k in ("command", "url", "serverUrl", "httpUrl", "cmd", "type")) for v in values
        )
    )


def _entry_line(container: object, name: str) -> int | None:
    if isinstance(container, LocatedDict):
        return container.lines.get(name)
    return None


def normalise_server(cfg: object, client: str) -> dict[str, JSON]:
    """Inventory properties of one server entry; ValueError when the entry is unusable."""
    if not isinstance(cfg, dict):
        raise ValueError(f"entry is a {type(cfg).__name__}, not a mapping")
    command: object = cfg.get("command", cfg.get("cmd"))
    args: object = cfg.get("args", [])
    env: object = cfg.get("env", cfg.get("environment", cfg.get("envs")))
    if isinstance(command, dict):
        # Zed's older form: ``"command": {"path", "args", "env"}``.
        args = command.get("args", args)
        env = command.get("env", env)
        command = command.get("path")
    if isinstance(command, list):
        # OpenCode: the whole argv in ``command``.
        parts = [str(c) for c in command]
        command, args = (
            (parts[0] if parts else None),
            parts[1:] + (list(args) if isinstance(args, list) else []),
        )
    if args is None:
        args = []
    if command is not None and not isinstance(command, str):
        raise ValueError("command is not a string")
    if not isinstance(args, list) or not all(isinstance(a, str | int | float) for a in args):
        raise ValueError("args is not a list of strings")
    argv = [str(a) for a in args]
    url = next((cfg[k] for k in ("url", "serverUrl", "httpUrl", "uri") if isinstance(cfg.get(k), str)), None)
    transport = _transport(cfg, command, url)
    if transport == "unknown":
        raise ValueError("neither a command nor a URL")
    props: dict[str, JSON] = {"transport": transport}
    if command:
        props["command"] = command
        props["args"] = redact_args(argv)
        if PurePosixPath(command.replace("\\", "/")).name.lower() in _SHELLS and any(
            a in ("-c", "/c") for a in argv
        ):
            props["shell_wrapper"] = True
        if (pkg := launcher_package(command, argv)) is not None:
            props.update(pkg)
    if url:
        props["url"] = redact_url(url)
    env_names, inline_env = _names_and_inline_secrets(env)
    if isinstance(cfg.get("env_keys"), list):
        env_names += [str(k) for k in cfg["env_keys"]]
    if isinstance(cfg.get("env_vars"), list):
        env_names += [str(k) for k in cfg["env_vars"] if isinstance(k, str)]
    if env_names:
        props["env"] = sorted(set(env_names))
    if inline_env:
        props["inline_secret_env"] = inline_env
    headers = cfg.get("headers", cfg.get("http_headers"))
    header_names, inline_headers = _names_and_inline_secrets(headers)
    if header_names:
        props["headers"] = header_names
    if inline_headers:
        props["inline_secret_headers"] = inline_headers
    if isinstance(cfg.get("bearer_token_env_var"), str):
        props["bearer_token_env_var"] = cfg["bearer_token_env_var"]
    for key, prop in (
        ("autoApprove", "auto_approve"), ("alwaysAllow", "always_allow"), ("trust", "trust"),
        ("disabled", "disabled"), ("includeTools", "include_tools"), ("excludeTools", "exclude_tools"),
        ("enabled_tools", "include_tools"), ("disabled_tools", "exclude_tools"),
    ):  # fmt: skip
        value = cfg.get(key)
        if isinstance(value, bool) or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            props[prop] = value
    if cfg.get("enabled") is False:
        props["disabled"] = True
    if isinstance(cfg.get("cwd"), str):
        props["cwd"] = cfg["cwd"]
    return props


def _transport(cfg: Mapping[str, Any], command: object, url: str | None) -> str:
    raw = cfg.get("type", cfg.get("transport"))
    t = str(raw).lower().replace("_", "-") if isinstance(raw, str) else ""
    if t in ("stdio", "local"):
        return "stdio"
    if t == "sse":
        return "sse"
    if t in (
        "http",
        "https",
        "streamable-http",
        "streamablehttp",
        "streamable-https",
        "streamable",
        "remote",
    ):
        return "sse" if t == "remote" and url and url.rstrip("/").endswith("/sse") else "http"
    if t == "builtin":
        return "builtin"
    if t in ("ws", "websocket"):
        return "websocket"
    if url:
        if isinstance(cfg.get("httpUrl"), str):
            return "http"
        return "sse" if url.split("?", 1)[0].rstrip("/").endswith("/sse") else "http"
    return "stdio" if command else "unknown"


def _names_and_inline_secrets(table: object) -> tuple[list[str], list[str]]:
    """Variable (or header) names, and the names whose value is an inline secret, never the values."""
    if not isinstance(table, dict):
        return [], []
    names: list[str] = []
    inline: list[str] = []
    for k, v in table.items():
        name = str(k)
        names.append(name)
        if not isinstance(v, str) or not v.strip() or parse_env_ref(v) is not None or "${" in v:
            continue
        if looks_secret(v) or (is_secret_name(name) and not _placeholder(v)):
            inline.append(name)
    return sorted(names), sorted(inline)


def _placeholder(value: str) -> bool:
    v = value.strip().lower()
    return (
        v.startswith(("<", "your", "xxx", "changeme", "replace", "todo", "{{", "env:", "op://"))
        or v in ("", "...", "none", "null")
        or set(v) <= set("x*.-_")
    )


def launcher_package(command: str, args: list[str]) -> dict[str, JSON] | None:
    """The package a launcher fetches and runs (``npx -y pkg@1.2``), its version and whether it is pinned."""
    cmd = PurePosixPath(command.replace("\\", "/")).name.lower()
    for ext in (".cmd", ".exe", ".bat"):
        cmd = cmd.removesuffix(ext)
    if cmd in _NPM_LAUNCHERS:
        return _npm_package(args)
    if cmd in ("pnpm", "yarn", "bun") and args[:1] and args[0] in ("dlx", "x"):
        return _npm_package(args[1:])
    if cmd == "npm" and args[:1] == ["exec"]:
        return _npm_package(args[1:])
    if cmd == "uvx" or (cmd == "uv" and args[:2] == ["tool", "run"]):
        return _python_package(args[2:] if cmd == "uv" else args, from_flag="--from")
    if cmd == "pipx" and args[:1] == ["run"]:
        return _python_package(args[1:], from_flag="--spec")
    if cmd in ("docker", "podman") and "run" in args:
        return _docker_image(args[args.index("run") + 1 :])
    return None


def _first_positional(args: list[str], value_flags: frozenset[str]) -> tuple[str | None, dict[str, str]]:
    seen: dict[str, str] = {}
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            return (args[i + 1] if i + 1 < len(args) else None), seen
        if a.startswith("-"):
            flag, eq, val = a.partition("=")
            if eq:
                seen[flag] = val
            elif flag in value_flags and i + 1 < len(args):
                seen[flag] = args[i + 1]
                i += 1
            i += 1
            continue
        return a, seen
    return None, seen


def _npm_package(args: list[str]) -> dict[str, JSON] | None:
    spec, flags = _first_positional(args, frozenset({"-p", "--package", "--registry", "--cache"}))
    spec = flags.get("--package", flags.get("-p", spec))
    if not spec or spec.startswith((".", "/")):
        return None
    at = spec.find("@", 1)
    name, version = (spec[:at], spec[at + 1 :]) if at != -1 else (spec, None)
    pinned = bool(version) and version not in _DIST_TAGS and bool(_EXACT_VERSION.match(version or ""))
    return {"package": name, "package_ecosystem": "npm", "package_version": version, "pinned": pinned}


def _python_package(args: list[str], from_flag: str) -> dict[str, JSON] | None:
    spec, flags = _first_positional(
        args,
        frozenset({from_flag, "--with", "--python", "-p", "--index-url", "--index", "--extra-index-url"}),
    )
    spec = flags.get(from_flag, spec)
    if not spec or spec.startswith((".", "/")) or "://" in spec:
        return None
    m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(?:(==|@|>=|~=|<=|>|<)\s*(.+))?$", spec)
    if m is None:
        return None
    op, version = m.group(3), m.group(4)
    pinned = op in ("==", "@") and bool(version) and bool(_EXACT_VERSION.match(version or ""))
    return {"package": m.group(1), "package_ecosystem": "pypi", "package_version": version, "pinned": pinned}


_DOCKER_VALUE_FLAGS = frozenset(
    {
        "-e", "--env", "-v", "--volume", "--name", "-p", "--publish", "--network", "--mount", "-w",
        "--workdir", "--env-file", "--entrypoint", "-u", "--user", "--platform", "-l", "--label",
        "--add-host", "--pull", "--cpus", "-m", "--memory", "--gpus", "--runtime", "--hostname", "-h",
    }
)  # fmt: skip


def _docker_image(args: list[str]) -> dict[str, JSON] | None:
    image, _ = _first_positional(args, _DOCKER_VALUE_FLAGS)
    if not image:
        return None
    digest = image.split("@", 1)[1] if "@" in image else None
    repo = image.split("@", 1)[0]
    slash, colon = repo.rfind("/"), repo.rfind(":")
    tag = repo[colon + 1 :] if colon > slash else None
    name = repo[:colon] if colon > slash else repo
    return {
        "package": name,
        "package_ecosystem": "docker",
        "package_version": digest or tag,
        "pinned": digest is not None,
    }


# --- agent definitions -----------------------------------------------------------------------------


def _agents(file: SourceFile) -> Iterator[Observation]:
    text = file.read_text()
    if file.name.lower() in _CREWAI_NAMES:
        yield from _crewai(file, text)
    else:
        yield from _markdown_agent(file, text)


def _crewai(file: SourceFile, text: str) -> Iterator[Observation]:
    try:
        docs = load_yaml_documents(text)
    except StructuredLimitError as exc:
        raise CollectorError(str(exc), ErrorKind.LIMIT) from exc
    except yaml.YAMLError as exc:
        raise CollectorError(f"invalid YAML: {_first_line(exc)}") from exc
    doc = docs[0] if docs else None
    if not isinstance(doc, dict):
        return
    folder = str(PurePosixPath(file.path).parent)
    if file.name.lower().startswith("agents"):
        for name, spec in doc.items():
            if not (isinstance(spec, dict) and ("role" in spec or "goal" in spec)):
                continue
            line = _entry_line(doc, name)
            props: dict[str, JSON] = {"framework": "crewai", "definition": file.path}
            for key in ("role", "goal"):
                if isinstance(spec.get(key), str):
                    props[key] = spec[key].strip()[:200]
            for key in ("allow_delegation", "allow_code_execution", "memory", "verbose"):
                if isinstance(spec.get(key), bool):
                    props[key] = spec[key]
            tools = spec.get("tools")
            if isinstance(tools, list):
                props["tools"] = [str(t) for t in tools if isinstance(t, str)]
            llm = spec.get("llm")
            if isinstance(llm, str):
                props["llm"] = llm
            agent = Asset.create(
                AssetKind.AGENT, name, key=("crewai", folder, name), location=file.loc(line),
                properties=props, scope=file.scope,
            )  # fmt: skip
            yield agent
            if isinstance(llm, str) and plausible_model_value(llm):
                yield ModelMention(
                    file.loc(_entry_line(spec, "llm") or line), "crewai:llm", value=llm, owner=agent.id
                )
    else:
        tasks: dict[str, list[str]] = {}
        lines: dict[str, int | None] = {}
        for task, spec in doc.items():
            if isinstance(spec, dict) and isinstance(spec.get("agent"), str):
                tasks.setdefault(spec["agent"], []).append(task)
                lines.setdefault(spec["agent"], _entry_line(doc, task))
        for agent_name, names in tasks.items():
            yield Asset.create(
                AssetKind.AGENT, agent_name, key=("crewai", folder, agent_name),
                location=file.loc(lines[agent_name]), properties={"framework": "crewai", "tasks": names},
                scope=file.scope,
            )  # fmt: skip


_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(\r?\n|\Z)", re.DOTALL)


def _markdown_agent(file: SourceFile, text: str) -> Iterator[Observation]:
    p = "/" + file.path.lower()
    client = "claude-code" if "/.claude/" in p else "github-copilot"
    m = _FRONT_MATTER.match(text)
    meta: dict[str, Any] = {}
    if m is not None:
        try:
            docs = load_yaml_documents(m.group(1))
        except (yaml.YAMLError, StructuredLimitError) as exc:
            raise CollectorError(f"invalid front matter: {_first_line(exc)}") from exc
        if docs and isinstance(docs[0], dict):
            meta = docs[0]
    stem = file.name
    for suffix in (".agent.md", ".chatmode.md", ".md"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    name = meta.get("name") if isinstance(meta.get("name"), str) else stem
    props: dict[str, JSON] = {"framework": client, "definition": file.path}
    if isinstance(meta.get("description"), str):
        props["description"] = meta["description"].strip()[:200]
    tools = meta.get("tools")
    if isinstance(tools, str):
        props["tools"] = [t.strip() for t in tools.split(",") if t.strip()]
    elif isinstance(tools, list):
        props["tools"] = [str(t) for t in tools if isinstance(t, str)]
    model = meta.get("model")
    if isinstance(model, str):
        props["model"] = model
    servers = meta.get("mcp-servers", meta.get("mcpServers"))
    if isinstance(servers, dict):
        props["mcp_servers"] = sorted(str(k) for k in servers)
    agent = Asset.create(
        AssetKind.AGENT, str(name), key=("agent-file", file.path), location=file.loc(1), properties=props,
        scope=file.scope,
    )  # fmt: skip
    yield agent
    if isinstance(model, str) and plausible_model_value(model):
        line = _entry_line(meta, "model")
        yield ModelMention(
            file.loc(line + 1 if line else 1),
            f"{client}:model",
            value=model,
            provider="anthropic" if client == "claude-code" else None,
            owner=agent.id,
        )
