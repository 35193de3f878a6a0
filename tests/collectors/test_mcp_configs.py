"""McpConfigCollector: every MCP client config shape, and agent definition files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aispm.collectors.base import CollectorError, ModelMention, Observation, SourceFile, scope_of
from aispm.collectors.mcp_configs import McpConfigCollector, client_for, launcher_package, normalise_server
from aispm.model import Asset, AssetKind, Relation, RelationKind
from aispm.pipeline import ScanOptions, scan


def write(root: Path, rel: str, text: str) -> SourceFile:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return SourceFile(path, rel, path.stat().st_size, scope_of(rel))


def collect(root: Path, rel: str, text: str) -> list[Observation]:
    f = write(root, rel, text)
    c = McpConfigCollector()
    assert c.wants(f), rel
    return list(c.collect(f))


def servers(obs: list[Observation]) -> dict[str, Asset]:
    return {o.name: o for o in obs if isinstance(o, Asset) and o.kind == AssetKind.MCP_SERVER}


def config(obs: list[Observation]) -> Asset:
    (c,) = [o for o in obs if isinstance(o, Asset) and o.kind == AssetKind.MCP_CLIENT_CONFIG]
    return c


STDIO = {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem@2025.1.14", "/data"]}
REMOTE = {"url": "https://mcp.example.com/mcp"}


@pytest.mark.parametrize(
    ("rel", "doc", "client", "scope"),
    [
        ("Library/Application Support/Claude/claude_desktop_config.json", {"mcpServers": {"fs": STDIO}},
         "claude-desktop", "user"),
        (".mcp.json", {"mcpServers": {"fs": STDIO}}, "claude-code", "project"),
        (".cursor/mcp.json", {"mcpServers": {"fs": STDIO}}, "cursor", "project"),
        (".vscode/mcp.json", {"inputs": [{"id": "tok", "type": "promptString", "password": True}],
                              "servers": {"fs": STDIO}}, "vscode", "project"),
        (".config/Code/User/settings.json", {"editor.fontSize": 12, "mcp": {"servers": {"fs": STDIO}}},
         "vscode", "user"),
        (".vscode/settings.json", {"mcp.servers": {"fs": STDIO}}, "vscode", "project"),
        (".codeium/windsurf/mcp_config.json", {"mcpServers": {"fs": {"serverUrl": "https://w.example/sse"}}},
         "windsurf", "user"),
        (".gemini/settings.json", {"mcpServers": {"fs": {"httpUrl": "https://g.example/mcp", "trust": True}}},
         "gemini-cli", "project"),
        (".kiro/settings/mcp.json", {"mcpServers": {"fs": STDIO}}, "kiro", "project"),
        (".aws/amazonq/mcp.json", {"mcpServers": {"fs": STDIO}}, "amazon-q", "user"),
        (".copilot/mcp-config.json", {"mcpServers": {"fs": STDIO}}, "copilot-cli", "user"),
        (".roo/mcp.json", {"mcpServers": {"fs": {**STDIO, "alwaysAllow": ["read_file"]}}},
         "roo-code", "project"),
        ("globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json",
         {"mcpServers": {"fs": {**STDIO, "autoApprove": ["read_file"], "disabled": False}}}, "cline", "user"),
        (".zed/settings.json",
         {"context_servers": {"fs": {"command": {"path": "npx", "args": STDIO["args"]}}}}, "zed", "project"),
        ("opencode.jsonc", {"mcp": {"fs": {"type": "local", "command": ["npx", "-y", "pkg@1.0.0"],
                                           "environment": {"TOKEN": "{env:TOKEN}"}}}}, "opencode", "project"),
        (".claude/plugins/cache/acme/.mcp.json", {"fs": STDIO}, "claude-code-plugin", "user"),
        ("tools/claude_desktop_config.json", {"mcpServers": {"fs": STDIO}}, "claude-desktop", "user"),
    ],
)  # fmt: skip
def test_json_client_shapes(
    tmp_path: Path, rel: str, doc: dict[str, object], client: str, scope: str
) -> None:
    obs = collect(tmp_path, rel, json.dumps(doc, indent=2))
    cfg = config(obs)
    assert (cfg.properties["client"], cfg.properties["scope"]) == (client, scope)
    srv = servers(obs)
    assert list(srv) == ["fs"]
    assert Relation(cfg.id, srv["fs"].id, RelationKind.CONTAINS) in obs
    assert srv["fs"].location is not None and srv["fs"].location.line is not None


GITHUB_IMAGE = "ghcr.io/github/github-mcp-server"


def test_server_properties_are_normalised_and_redacted(tmp_path: Path) -> None:
    doc = {
        "mcpServers": {
            "github": {
                "command": "docker",
                "args": ["run", "-i", "--rm", "-e", "GITHUB_PERSONAL_ACCESS_TOKEN", GITHUB_IMAGE],
                "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_abcdefghijklmnopqrstuvwxyz0123456789"},
            },
            "remote": {
                "type": "sse",
                "url": "https://user:pa55word@mcp.example.com/sse?api_key=abc123secretvalue",
                "headers": {"Authorization": "Bearer abcdefghijklmnopqrstuvwxyz123456"},
            },
            "py": {"command": "uvx", "args": ["--from", "mcp-server-git==0.6.2", "mcp-server-git", "--token",
                                              "plain-secret-token-value"]},
            "shell": {"command": "bash", "args": ["-c", "curl https://x.example/install.sh | sh"]},
            "gemini": {"httpUrl": "https://g.example/mcp", "trust": True, "includeTools": ["search"]},
        }
    }  # fmt: skip
    obs = collect(tmp_path, ".cursor/mcp.json", json.dumps(doc))
    srv = servers(obs)
    gh = srv["github"].properties
    assert gh["transport"] == "stdio" and gh["env"] == ["GITHUB_PERSONAL_ACCESS_TOKEN"]
    assert gh["inline_secret_env"] == ["GITHUB_PERSONAL_ACCESS_TOKEN"]
    assert (gh["package"], gh["package_ecosystem"], gh["pinned"]) == (
        "ghcr.io/github/github-mcp-server",
        "docker",
        False,
    )
    remote = srv["remote"].properties
    assert remote["transport"] == "sse" and remote["headers"] == ["Authorization"]
    assert remote["inline_secret_headers"] == ["Authorization"]
    assert "pa55word" not in remote["url"] and "abc123secretvalue" not in remote["url"]
    py = srv["py"].properties
    assert (py["package"], py["package_version"], py["pinned"]) == ("mcp-server-git", "0.6.2", True)
    assert "plain-secret-token-value" not in json.dumps(py["args"])
    assert srv["shell"].properties["shell_wrapper"] is True
    gem = srv["gemini"].properties
    assert (gem["transport"], gem["trust"], gem["include_tools"]) == ("http", True, ["search"])
    # No secret value survives anywhere in what the collector yields.
    text = repr(obs)
    for secret in ("ghp_abcdef", "pa55word", "abc123secret", "Bearer abcdef", "plain-secret-token"):
        assert secret not in text


def test_claude_code_user_file_with_projects(tmp_path: Path) -> None:
    doc = {
        "numStartups": 3,
        "mcpServers": {"global": STDIO},
        "projects": {
            "/home/dev/app": {"mcpServers": {"local": REMOTE}, "allowedTools": []},
            "/home/dev/other": {"history": []},
        },
    }
    obs = collect(tmp_path, ".claude.json", json.dumps(doc))
    srv = servers(obs)
    assert set(srv) == {"global", "local"}
    assert srv["local"].properties["project"] == "/home/dev/app"
    assert srv["local"].properties["transport"] == "http"
    assert config(obs).properties["server_count"] == 2


def test_codex_toml_continue_and_goose_yaml(tmp_path: Path) -> None:
    obs = collect(
        tmp_path,
        ".codex/config.toml",
        'model = "o3"\n\n[mcp_servers.docs]\ncommand = "npx"\nargs = ["-y", "docs-mcp@latest"]\n'
        'env = { "API_KEY" = "${DOCS_KEY}" }\n\n[mcp_servers.web]\nurl = "https://web.example/mcp"\n'
        'bearer_token_env_var = "WEB_TOKEN"\n',
    )
    srv = servers(obs)
    assert config(obs).properties["client"] == "codex"
    assert (srv["docs"].properties["package_version"], srv["docs"].properties["pinned"]) == ("latest", False)
    assert "inline_secret_env" not in srv["docs"].properties
    assert srv["web"].properties["bearer_token_env_var"] == "WEB_TOKEN"
    obs = collect(
        tmp_path,
        ".continue/config.yaml",
        "name: assistant\nmcpServers:\n  - name: sqlite\n    command: uvx\n    args: [mcp-server-sqlite]\n",
    )
    assert servers(obs)["sqlite"].properties["package"] == "mcp-server-sqlite"
    assert servers(obs)["sqlite"].location.line == 3  # type: ignore[union-attr]
    obs = collect(
        tmp_path,
        ".config/goose/config.yaml",
        "extensions:\n  developer:\n    type: builtin\n    enabled: true\n"
        "  fetch:\n    type: stdio\n    cmd: uvx\n    args: [mcp-server-fetch]\n    enabled: false\n"
        "    envs: {FETCH_KEY: abc}\n",
    )
    srv = servers(obs)
    assert srv["developer"].properties["transport"] == "builtin"
    assert srv["fetch"].properties["disabled"] is True and srv["fetch"].properties["env"] == ["FETCH_KEY"]


def test_jsonc_comments_and_trailing_commas(tmp_path: Path) -> None:
    text = '{\n  // my servers\n  "servers": {\n    "fs": {"command": "node", "args": ["s.js"],},\n  },\n}\n'
    obs = collect(tmp_path, ".vscode/mcp.json", text)
    assert servers(obs)["fs"].location.line == 4  # type: ignore[union-attr]


def test_one_bad_entry_never_drops_the_file(tmp_path: Path) -> None:
    doc = {"mcpServers": {"good": STDIO, "bad": "npx foo", "empty": {}, "also_good": REMOTE}}
    f = write(tmp_path, ".cursor/mcp.json", json.dumps(doc))
    got: list[Observation] = []
    with pytest.raises(CollectorError, match="2 malformed MCP server entries"):
        for o in McpConfigCollector().collect(f):
            got.append(o)
    assert set(servers(got)) == {"good", "also_good"}


def test_empty_servers_list_in_unknown_json_is_not_a_config(tmp_path: Path) -> None:
    obs = collect(tmp_path, "fixtures/settings.json", '{"mcpServers": []}')
    assert obs == []
    # A known client file with no servers is still inventoried as a config.
    obs = collect(tmp_path, ".cursor/mcp.json", '{"mcpServers": {}}')
    assert config(obs).properties["server_count"] == 0 and servers(obs) == {}


def test_sniffed_json_with_servers(tmp_path: Path) -> None:
    obs = collect(tmp_path, "docs/example-config.json", json.dumps({"mcpServers": {"fs": STDIO}}))
    assert config(obs).properties["client"] == "unknown"
    assert list(servers(obs)) == ["fs"]


def test_unrelated_json_is_not_wanted(tmp_path: Path) -> None:
    assert not McpConfigCollector().wants(write(tmp_path, "package.json", '{"name": "x", "servers": {}}'))


def test_broken_config(tmp_path: Path) -> None:
    with pytest.raises(CollectorError, match="invalid JSON"):
        collect(tmp_path, ".cursor/mcp.json", '{"mcpServers": {')
    with pytest.raises(CollectorError, match="invalid TOML"):
        collect(tmp_path, ".codex/config.toml", "[mcp_servers.x\n")


@pytest.mark.parametrize(
    ("command", "args", "expected"),
    [
        ("npx", ["-y", "@scope/pkg@1.2.3"], ("@scope/pkg", "1.2.3", True)),
        ("npx", ["@scope/pkg"], ("@scope/pkg", None, False)),
        ("npx", ["-y", "pkg@^1.2.0"], ("pkg", "^1.2.0", False)),
        ("npx.cmd", ["--yes", "--package", "pkg@2.0.0", "bin"], ("pkg", "2.0.0", True)),
        ("pnpm", ["dlx", "pkg@next"], ("pkg", "next", False)),
        ("uvx", ["mcp-server-time"], ("mcp-server-time", None, False)),
        ("uvx", ["mcp-server-time@0.6.2"], ("mcp-server-time", "0.6.2", True)),
        ("uv", ["tool", "run", "--from", "pkg[extra]==1.0", "cmd"], ("pkg", "1.0", True)),
        ("pipx", ["run", "--spec", "pkg>=1", "cmd"], ("pkg", "1", False)),
        ("docker", ["run", "-i", "--rm", "img@sha256:" + "a" * 64], ("img", "sha256:" + "a" * 64, True)),
        ("docker", ["run", "-e", "X", "mcp/fetch:1.0"], ("mcp/fetch", "1.0", False)),
    ],
)
def test_launcher_packages(command: str, args: list[str], expected: tuple[str, str | None, bool]) -> None:
    pkg = launcher_package(command, args)
    assert pkg is not None
    assert (pkg["package"], pkg["package_version"], pkg["pinned"]) == expected


def test_launcher_package_absent_for_plain_commands() -> None:
    assert launcher_package("node", ["server.js"]) is None
    assert launcher_package("npx", ["./local-script.js"]) is None


def test_normalise_rejects_unusable_entries() -> None:
    for bad in ("str", {"args": ["x"]}, {"command": 3}, {"command": "x", "args": "y"}):
        with pytest.raises(ValueError):
            normalise_server(bad, "cursor")
    assert normalise_server({"type": "streamableHttp", "url": "http://localhost:3000"}, "cline")[
        "transport"
    ] == ("http")


def test_client_for_paths() -> None:
    assert client_for("repo/.github/mcp.json") is not None
    assert client_for("src/app.json") is None
    assert client_for("x/.vscode/settings.json").client == "vscode"  # type: ignore[union-attr]


# --- agent definitions ---------------------------------------------------------------------------


def test_crewai_agents_and_tasks(tmp_path: Path) -> None:
    obs = collect(
        tmp_path,
        "src/crew/config/agents.yaml",
        "researcher:\n  role: >\n    Senior researcher\n  goal: Find facts\n  backstory: x\n"
        "  llm: openai/gpt-4o\n  tools: [search]\nwriter:\n  role: Writer\n  goal: Write\n  llm: '{llm}'\n",
    )
    agents = {o.name: o for o in obs if isinstance(o, Asset) and o.kind == AssetKind.AGENT}
    assert set(agents) == {"researcher", "writer"}
    assert agents["researcher"].properties["role"] == "Senior researcher"
    (m,) = [o for o in obs if isinstance(o, ModelMention)]
    assert (m.value, m.owner, m.location.line) == ("openai/gpt-4o", agents["researcher"].id, 6)
    obs = collect(
        tmp_path,
        "src/crew/config/tasks.yaml",
        "research:\n  description: d\n  expected_output: e\n  agent: researcher\n",
    )
    (a,) = [o for o in obs if isinstance(o, Asset)]
    assert a.id == agents["researcher"].id and a.properties["tasks"] == ["research"]


def test_crewai_lookalike_yaml_yields_nothing(tmp_path: Path) -> None:
    assert collect(tmp_path, "agents.yaml", "- just\n- a list\n") == []
    assert collect(tmp_path, "ops/agents.yml", "host1: {ip: 10.0.0.1}\n") == []


@pytest.mark.parametrize(
    ("rel", "client", "provider"),
    [
        (".claude/agents/reviewer.md", "claude-code", "anthropic"),
        (".github/agents/reviewer.md", "github-copilot", None),
        ("docs/reviewer.agent.md", "github-copilot", None),
    ],
)
def test_markdown_agents(tmp_path: Path, rel: str, client: str, provider: str | None) -> None:
    obs = collect(
        tmp_path,
        rel,
        "---\nname: code-reviewer\ndescription: Reviews code\ntools: Read, Grep, Bash\n"
        "model: claude-sonnet-4-5\n---\n\nYou review code.\n",
    )
    (agent,) = [o for o in obs if isinstance(o, Asset)]
    assert agent.name == "code-reviewer" and agent.properties["framework"] == client
    assert agent.properties["tools"] == ["Read", "Grep", "Bash"]
    (m,) = [o for o in obs if isinstance(o, ModelMention)]
    assert (m.value, m.provider, m.location.line) == ("claude-sonnet-4-5", provider, 5)


def test_markdown_agent_without_front_matter_and_with_broken_one(tmp_path: Path) -> None:
    obs = collect(tmp_path, ".claude/agents/plain.md", "Just text\n")
    (agent,) = obs
    assert isinstance(agent, Asset) and agent.name == "plain"
    with pytest.raises(CollectorError, match="front matter"):
        collect(tmp_path, ".claude/agents/broken.md", "---\nname: [x\n---\nbody\n")


def test_pipeline_inventory(tmp_path: Path) -> None:
    write(tmp_path, ".mcp.json", json.dumps({"mcpServers": {"fs": STDIO, "web": REMOTE}}))
    write(tmp_path, ".github/agents/planner.agent.md", "---\nmodel: some-model\n---\n")
    result = scan([tmp_path], ScanOptions(collectors=["mcp-configs"], checks=[]))
    assert result.errors == ()
    kinds = sorted(a.kind.value for a in result.assets)
    assert kinds == ["agent", "mcp-client-config", "mcp-server", "mcp-server"]
    assert sum(r.kind == RelationKind.CONTAINS for r in result.relations) == 2
