"""JavaScriptCollector: SDK usage, model mentions, MCP servers and agents in JS/TS, by syntax tree."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aispm.collectors.base import CollectorError, ModelMention, Observation, SourceFile, scope_of
from aispm.collectors.javascript import MAX_SOURCE_BYTES, JavaScriptCollector
from aispm.model import Asset, AssetKind, ErrorKind, RelationKind
from aispm.pipeline import ScanOptions, scan

COLLECTOR = JavaScriptCollector()


def _file(tmp_path: Path, rel: str, text: str | bytes) -> SourceFile:
    p = tmp_path / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text)
    return SourceFile(p, rel, p.stat().st_size, scope_of(rel))


def _collect(tmp_path: Path, text: str, rel: str = "app/chat.ts") -> list[Observation]:
    f = _file(tmp_path, rel, text)
    assert COLLECTOR.wants(f)
    return list(COLLECTOR.collect(f))


def _mentions(obs: list[Observation]) -> list[ModelMention]:
    return [o for o in obs if isinstance(o, ModelMention)]


def _values(obs: list[Observation]) -> set[str | None]:
    return {m.value for m in _mentions(obs)}


def _assets(obs: list[Observation], kind: AssetKind) -> dict[str, Asset]:
    return {o.name: o for o in obs if isinstance(o, Asset) and o.kind is kind}


def _mention(obs: list[Observation], value: str) -> ModelMention:
    found = [m for m in _mentions(obs) if m.value == value]
    assert len(found) == 1, (value, _mentions(obs))
    return found[0]


# ---------------------------------------------------------------------------------------------- wants


@pytest.mark.parametrize(
    "name",
    ["a.js", "a.mjs", "a.cjs", "a.jsx", "a.ts", "a.mts", "a.cts", "a.tsx", "x.min.js", "A.svelte", "A.vue"],
)
def test_wants_js_and_ts(tmp_path: Path, name: str) -> None:
    assert COLLECTOR.wants(_file(tmp_path, name, ""))


@pytest.mark.parametrize("name", ["a.json", "a.py", "a.html", "a.d", "ts", "a.svelte.bak"])
def test_does_not_want_others(tmp_path: Path, name: str) -> None:
    assert not COLLECTOR.wants(_file(tmp_path, name, ""))


# ---------------------------------------------------------------------------------------------- imports


IMPORTS = """\
import OpenAI from "openai";
import { anthropic as claude } from "@ai-sdk/anthropic";
import * as ai from "ai";
import type { ChatCompletion } from "groq-sdk";
import { type Foo } from "cohere-ai";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
export { openai } from "@ai-sdk/openai";
const { Ollama } = require("ollama");
const hf = await import("@huggingface/inference");
import api = require("@mistralai/mistralai");
import { Client } from "@aiven/client";
import openapi from "openapi";
import utils from "ai-utils";
import docs from "langchainjs-docs";
import local from "./openai";
"""


def test_imports_become_one_usage_per_sdk(tmp_path: Path) -> None:
    usages = _assets(_collect(tmp_path, IMPORTS), AssetKind.AI_SDK_USAGE)
    assert set(usages) == {
        "openai",
        "@ai-sdk/anthropic",
        "ai",
        "cohere-ai",  # `import { type Foo }` still imports the module
        "@modelcontextprotocol/sdk",
        "@ai-sdk/openai",
        "ollama",
        "@huggingface/inference",
        "@mistralai/mistralai",
    }
    openai = usages["openai"]
    assert openai.properties["provider"] == "openai" and openai.properties["category"] == "provider-sdk"
    assert openai.properties["language"] == "typescript" and openai.properties["ecosystem"] == "npm"
    assert openai.location is not None and openai.location.line == 1
    assert usages["@modelcontextprotocol/sdk"].properties["imports"] == [
        "@modelcontextprotocol/sdk/server/mcp.js"
    ]


def test_usage_ids_are_per_file_and_sdk(tmp_path: Path) -> None:
    a = _assets(_collect(tmp_path, 'import OpenAI from "openai";\n', "a.ts"), AssetKind.AI_SDK_USAGE)
    b = _assets(_collect(tmp_path, 'const OpenAI = require("openai");\n', "b.js"), AssetKind.AI_SDK_USAGE)
    assert a["openai"].id != b["openai"].id
    again = _assets(_collect(tmp_path, 'import OpenAI from "openai";\n', "a.ts"), AssetKind.AI_SDK_USAGE)
    assert again["openai"].id == a["openai"].id


# ---------------------------------------------------------------------------------------------- SDK calls


OPENAI_SDK = """\
import OpenAI, { AzureOpenAI } from "openai";

const MODEL = process.env.OPENAI_MODEL ?? "gpt-4o-mini";
const client = new OpenAI();
const deepseek = new OpenAI({ baseURL: "https://api.deepseek.com/v1" });
const azure = new AzureOpenAI({ deployment: "prod-gpt4o" });

export class Svc {
  private openai = new OpenAI();
  async run() {
    await client.chat.completions.create({ model: MODEL, messages: [] });
    await deepseek.chat.completions.create({ model: "deepseek-chat", messages: [] });
    await this.openai.responses.create({ model: "o3-mini", input: "x" });
    const params = { model: "gpt-4.1", messages: [] };
    await client.chat.completions.create(params);
    await client.embeddings.create({ model: process.env.EMBEDDING_MODEL, input: "x" });
  }
}
"""


def test_openai_sdk_calls(tmp_path: Path) -> None:
    obs = _collect(tmp_path, OPENAI_SDK)
    usage = _assets(obs, AssetKind.AI_SDK_USAGE)["openai"]
    env = _mention(obs, "gpt-4o-mini")
    assert (env.env_var, env.provider, env.strong, env.owner) == ("OPENAI_MODEL", "openai", True, usage.id)
    assert env.location.line == 3  # where the value is written
    assert _mention(obs, "deepseek-chat").provider == "deepseek"  # the base URL says whose API it is
    assert _mention(obs, "o3-mini").strong  # through a class field client
    assert _mention(obs, "gpt-4.1").strong  # params object resolved through its const
    assert _mention(obs, "prod-gpt4o").provider == "azure-openai"
    bare = [m for m in _mentions(obs) if m.env_var == "EMBEDDING_MODEL"]
    assert len(bare) == 1 and bare[0].value is None and bare[0].strong


VERCEL = """\
import { generateText, streamText, embed } from "ai";
import { openai, createOpenAI } from "@ai-sdk/openai";
import { anthropic } from "@ai-sdk/anthropic";
import { google } from "@ai-sdk/google";
import { gateway } from "@ai-sdk/gateway";

const groq = createOpenAI({ baseURL: "https://api.groq.com/openai/v1", apiKey: process.env.GROQ_API_KEY });
const fast = openai("gpt-4o-mini");

export async function POST() {
  await generateText({ model: openai("gpt-4o"), prompt: "hi" });
  await streamText({ model: anthropic("claude-3-5-sonnet-latest"), prompt: "hi" });
  await generateText({ model: google("gemini-2.0-flash"), prompt: "hi" });
  await generateText({ model: groq("llama-3.1-8b-instant"), prompt: "hi" });
  await generateText({ model: createOpenAI({})("gpt-4o-2024-08-06"), prompt: "hi" });
  await generateText({ model: gateway("openai/gpt-5"), prompt: "hi" });
  await generateText({ model: "anthropic/claude-sonnet-4", prompt: "hi" });
  await embed({ model: openai.embedding("text-embedding-3-small"), value: "x" });
  await generateText({ model: fast, prompt: "again" });
}
"""


def test_vercel_ai_sdk(tmp_path: Path) -> None:
    obs = _collect(tmp_path, VERCEL)
    usages = _assets(obs, AssetKind.AI_SDK_USAGE)
    expected = {
        "gpt-4o": ("openai", "@ai-sdk/openai"),
        "gpt-4o-mini": ("openai", "@ai-sdk/openai"),
        "claude-3-5-sonnet-latest": ("anthropic", "@ai-sdk/anthropic"),
        "gemini-2.0-flash": ("google", "@ai-sdk/google"),
        "llama-3.1-8b-instant": ("groq", "@ai-sdk/openai"),  # createOpenAI with Groq's base URL
        "gpt-4o-2024-08-06": ("openai", "@ai-sdk/openai"),
        "openai/gpt-5": ("vercel-ai-gateway", "@ai-sdk/gateway"),
        "anthropic/claude-sonnet-4": ("vercel-ai-gateway", "ai"),  # a plain string goes through the gateway
        "text-embedding-3-small": ("openai", "@ai-sdk/openai"),
    }
    assert _values(obs) == set(expected)
    for value, (provider, sdk) in expected.items():
        m = _mention(obs, value)
        assert m.strong, value
        assert (m.provider, m.owner) == (provider, usages[sdk].id), value


LANGCHAIN_AND_OTHERS = """\
import { ChatOpenAI, OpenAIEmbeddings } from "@langchain/openai";
import { ChatAnthropic } from "@langchain/anthropic";
import { BedrockRuntimeClient, ConverseCommand } from "@aws-sdk/client-bedrock-runtime";
import { GoogleGenerativeAI } from "@google/generative-ai";
import ollama from "ollama";
import { pipeline, AutoModel, AutoTokenizer } from "@huggingface/transformers";
import { Mistral } from "@mistralai/mistralai";

const llm = new ChatOpenAI({ model: "gpt-4o", temperature: 0 });
const old = new ChatAnthropic({ modelName: "claude-3-haiku-20240307" });
const emb = new OpenAIEmbeddings({ model: "text-embedding-3-large" });
const cmd = new ConverseCommand({ modelId: "anthropic.claude-3-5-sonnet-20240620-v1:0", messages: [] });
const genAI = new GoogleGenerativeAI(process.env.GOOGLE_API_KEY!);
const gm = genAI.getGenerativeModel({ model: "gemini-1.5-pro" });
await ollama.chat({ model: "llama3.1:8b", messages: [] });
const extractor = await pipeline("feature-extraction", "Xenova/all-MiniLM-L6-v2", { revision: "main" });
const m = await AutoModel.from_pretrained("onnx-community/Qwen2.5-0.5B-Instruct");
const tok = await AutoTokenizer.from_pretrained("Xenova/gpt-4o");
const mistral = new Mistral({ apiKey: "x" });
await mistral.chat.complete({ model: "mistral-large-latest", messages: [] });
"""


def test_langchain_bedrock_google_ollama_transformers(tmp_path: Path) -> None:
    obs = _collect(tmp_path, LANGCHAIN_AND_OTHERS)
    expected = {
        "gpt-4o": "openai",
        "claude-3-haiku-20240307": "anthropic",
        "text-embedding-3-large": "openai",
        "anthropic.claude-3-5-sonnet-20240620-v1:0": "bedrock",
        "gemini-1.5-pro": "google",
        "llama3.1:8b": "ollama",
        "Xenova/all-MiniLM-L6-v2": "huggingface",
        "onnx-community/Qwen2.5-0.5B-Instruct": "huggingface",
        "mistral-large-latest": "mistral",
    }
    assert _values(obs) == set(expected)  # the tokenizer's repo id is not a model use
    for value, provider in expected.items():
        m = _mention(obs, value)
        assert (m.provider, m.strong) == (provider, True), value
    assert _mention(obs, "Xenova/all-MiniLM-L6-v2").revision == "main"
    assert _mention(obs, "Xenova/all-MiniLM-L6-v2").via == "pipeline"


# ---------------------------------------------------------------------------------------------- config


CONFIG = """\
export const MODELS = ["gpt-4o", "claude-3-5-sonnet-latest"];
export const chatModels = [
  { id: "openai/gpt-4o", name: "GPT-4o", description: "Most capable" },
  { id: "anthropic/claude-3-7-sonnet", label: "Claude" },
];
const DEFAULT_MODEL = "gpt-4o-mini";
const modelMap = { fast: "gemini-2.0-flash", provider: "openai", baseURL: "https://api.example.com" };
const settings = { model: process.env.CHAT_MODEL || "mistral-small-latest", temperature: 0.2 };
const pricing = { "gpt-4-turbo": { input: 10 }, "claude-3-opus-20240229": { input: 15 } };
export default { defaultModel: "o4-mini" };
"""


def test_config_objects_and_arrays_without_imports(tmp_path: Path) -> None:
    obs = _collect(tmp_path, CONFIG, "lib/models.ts")
    assert _values(obs) == {
        "gpt-4o",
        "claude-3-5-sonnet-latest",
        "openai/gpt-4o",
        "anthropic/claude-3-7-sonnet",
        "gpt-4o-mini",
        "gemini-2.0-flash",
        "mistral-small-latest",
        "gpt-4-turbo",
        "claude-3-opus-20240229",
        "o4-mini",
    }
    for m in _mentions(obs):
        assert not m.strong and m.provider is None and m.owner is None, m
    env = _mention(obs, "mistral-small-latest")
    assert env.env_var == "CHAT_MODEL"


def test_loose_strings_take_the_provider_of_the_only_sdk_imported(tmp_path: Path) -> None:
    obs = _collect(
        tmp_path, 'import Anthropic from "@anthropic-ai/sdk";\nconst MODELS = ["claude-3-5-haiku-latest"];\n'
    )
    m = _mention(obs, "claude-3-5-haiku-latest")
    usage = _assets(obs, AssetKind.AI_SDK_USAGE)["@anthropic-ai/sdk"]
    assert (m.provider, m.strong, m.owner) == ("anthropic", False, usage.id)


def test_env_indirection_forms(tmp_path: Path) -> None:
    src = """\
const a = process.env.OPENAI_MODEL;
const b = process.env["ANTHROPIC_MODEL"] ?? "claude-3-5-sonnet-latest";
const c = import.meta.env.VITE_MODEL_NAME || "gpt-4o";
const d = Deno.env.get("LLM_MODEL_ID");
const key = process.env.OPENAI_API_KEY;
const path = process.env.MODEL_PATH;
"""
    obs = _collect(tmp_path, src, "env.js")
    got = {(m.env_var, m.value) for m in _mentions(obs)}
    assert got == {
        ("OPENAI_MODEL", None),
        ("ANTHROPIC_MODEL", "claude-3-5-sonnet-latest"),
        ("VITE_MODEL_NAME", "gpt-4o"),
        ("LLM_MODEL_ID", None),
    }


# ---------------------------------------------------------------------------------------------- precision


DECOYS = """\
import mongoose from "mongoose";
import { Sequelize, Model } from "sequelize";
// const model = "gpt-4o";  a comment is not code
/* openai("gpt-4-turbo") */
type ChatModel = "gpt-4o" | "o1" | "claude-3-opus-20240229";
interface Options { model: "gpt-4o-mini" }
function f(x: "gemini-pro"): void {}
const User = mongoose.model("User", new mongoose.Schema({ name: String }));
const UserModel = mongoose.model("Account");
const populated = { path: "author", model: "User" };
const include = [{ model: "Post", as: "posts" }];
const dataModel = { model: "Order" };
const viewModel = "ProductView";
const tokenizer = "cl100k_base";
const label = `Using ${model} today`;
const url = "https://api.openai.com/v1/chat/completions";
const envName = "OPENAI_MODEL";
const modelPath = "./models/gpt-4o.onnx";
const modelType = "chat";
"""


def test_decoys_are_not_mentions(tmp_path: Path) -> None:
    obs = _collect(tmp_path, DECOYS, "models/user.ts")
    assert _mentions(obs) == []
    assert _assets(obs, AssetKind.AI_SDK_USAGE) == {}


def test_file_without_anything_ai_is_not_parsed_at_all(tmp_path: Path) -> None:
    assert _collect(tmp_path, "export const add = (a: number, b: number) => a + b;\n", "math.ts") == []


# ---------------------------------------------------------------------------------------------- MCP, agents


MCP = """\
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";

const server = new McpServer({ name: "weather", version: "1.0.0" });
server.tool("get_forecast", { city: z.string() }, async () => ({ content: [] }));
server.registerTool("get_alerts", { description: "alerts" }, async () => ({ content: [] }));
server.prompt("summarize", async () => ({ messages: [] }));
server.resource("config", "config://app", async () => ({ contents: [] }));
await server.connect(new StdioServerTransport());
"""


def test_mcp_server_inventory(tmp_path: Path) -> None:
    obs = _collect(tmp_path, MCP, "mcp/weather.ts")
    servers = _assets(obs, AssetKind.MCP_SERVER)
    assert set(servers) == {"weather"}
    s = servers["weather"]
    assert s.properties["tools"] == ["get_alerts", "get_forecast"]
    assert s.properties["prompts"] == ["summarize"] and s.properties["resources"] == ["config"]
    assert s.properties["transports"] == ["stdio"] and s.properties["sdk"] == "@modelcontextprotocol/sdk"
    assert s.location is not None and s.location.line == 5


def test_fastmcp_and_low_level_server(tmp_path: Path) -> None:
    src = """\
import { FastMCP } from "fastmcp";
const mcp = new FastMCP({ name: "files", version: "1.0.0" });
mcp.addTool({ name: "read_file", description: "read", execute: async () => "" });
"""
    servers = _assets(_collect(tmp_path, src, "files.ts"), AssetKind.MCP_SERVER)
    assert servers["files"].properties["tools"] == ["read_file"]
    low = """\
const { Server } = require("@modelcontextprotocol/sdk/server/index.js");
const server = new Server({ name: "legacy", version: "0.1" }, { capabilities: { tools: {} } });
server.setRequestHandler(ListToolsRequestSchema, async () => ({
  tools: [{ name: "echo" }, { name: "add" }],
}));
"""
    servers = _assets(_collect(tmp_path, low, "legacy.js"), AssetKind.MCP_SERVER)
    assert servers["legacy"].properties["tools"] == ["add", "echo"]


def test_mcp_client_class_is_not_a_server(tmp_path: Path) -> None:
    src = 'import { Client } from "@modelcontextprotocol/sdk/client/index.js";\n'
    src += 'const c = new Client({ name: "x" });\n'
    assert _assets(_collect(tmp_path, src, "client.ts"), AssetKind.MCP_SERVER) == {}


AGENTS = """\
import { Agent, run } from "@openai/agents";
import { Agent as MastraAgent } from "@mastra/core/agent";
import { openai } from "@ai-sdk/openai";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { ChatAnthropic } from "@langchain/anthropic";

const triage = new Agent({
  name: "Triage",
  instructions: "Route the request",
  model: "gpt-4.1-mini",
  tools: [searchTool, refundTool],
  handoffs: [billing],
});
export const writer = new MastraAgent({
  name: "writer", instructions: "x", model: openai("gpt-4o"), tools: { weatherTool },
});
const llm = new ChatAnthropic({ model: "claude-3-5-sonnet-latest" });
const graphAgent = createReactAgent({ llm, tools: [lookup] });
"""


def test_agents_own_their_models(tmp_path: Path) -> None:
    obs = _collect(tmp_path, AGENTS, "agents.ts")
    agents = _assets(obs, AssetKind.AGENT)
    assert set(agents) == {"Triage", "writer", "graphAgent"}
    triage = agents["Triage"]
    assert triage.properties["framework"] == "@openai/agents"
    assert triage.properties["tools"] == ["refundTool", "searchTool"]
    assert triage.properties["handoffs"] == ["billing"] and triage.properties["has_instructions"] is True
    assert agents["writer"].properties["tools"] == ["weatherTool"]
    m = _mention(obs, "gpt-4.1-mini")
    assert (m.owner, m.provider, m.strong) == (triage.id, "openai", True)
    m = _mention(obs, "gpt-4o")
    assert (m.owner, m.provider) == (agents["writer"].id, "openai")
    m = _mention(obs, "claude-3-5-sonnet-latest")
    assert (m.owner, m.provider) == (agents["graphAgent"].id, "anthropic")


# ---------------------------------------------------------------------------------------------- components


SVELTE = """\
<script context="module" lang="ts">
  export const RAG_EMBEDDING_MODEL = 'text-embedding-3-small';
</script>

<script lang="ts" generics="T extends Record<string, unknown>">
  import { openai } from '@ai-sdk/openai';
  import { generateText } from 'ai';
  let { chatModel = 'gpt-4o-mini' } = $props();
  $: label = chatModel.toUpperCase();
  const run = () => generateText({ model: openai('gpt-4o'), prompt: 'hi' });
</script>

<h1>{label}</h1>
<select bind:value={chatModel}>
  <option value="gpt-4.1">GPT-4.1</option>
  <option value="claude-3-5-sonnet-latest">Claude</option>
</select>
<input placeholder="e.g. o3-mini" />
<!-- <script>const model = "gpt-4-turbo";</script> -->
<script type="application/ld+json">{"model": "gpt-3.5-turbo"}</script>
<style>.gpt-4o { color: red; }</style>
"""

VUE = """\
<template>
  <select v-model="model">
    <option value="gpt-4.1">GPT-4.1</option>
  </select>
  <p>{{ "claude-3-opus-20240229" }}</p>
</template>

<script>
export default { name: "Chat" };
</script>

<script setup lang="ts">
import OpenAI from "openai";
const client = new OpenAI();
const model = ref("gpt-4o");
await client.chat.completions.create({ model: "o3-mini", messages: [] });
</script>
"""


def test_svelte_component_scripts_are_read_with_their_own_lines(tmp_path: Path) -> None:
    obs = _collect(tmp_path, SVELTE, "src/lib/Chat.svelte")
    assert _values(obs) == {"text-embedding-3-small", "gpt-4o-mini", "gpt-4o"}
    assert _mention(obs, "text-embedding-3-small").location.line == 2
    assert _mention(obs, "gpt-4o-mini").location.line == 8
    strong = _mention(obs, "gpt-4o")
    assert (strong.location.line, strong.strong, strong.provider) == (10, True, "openai")
    assert _mention(obs, "text-embedding-3-small").strong is False
    usage = _assets(obs, AssetKind.AI_SDK_USAGE)
    assert set(usage) == {"@ai-sdk/openai", "ai"}
    assert usage["ai"].properties["language"] == "typescript"
    assert all(m.location.path == "src/lib/Chat.svelte" for m in _mentions(obs))


def test_vue_sfc_script_and_script_setup(tmp_path: Path) -> None:
    obs = _collect(tmp_path, VUE, "src/components/Chat.vue")
    # Markup (``v-model``, ``<option>``, mustaches) is not read; both script blocks are.
    assert _values(obs) == {"gpt-4o", "o3-mini"}
    assert _mention(obs, "gpt-4o").location.line == 15
    o3 = _mention(obs, "o3-mini")
    assert (o3.location.line, o3.strong) == (16, True)
    assert "openai" in _assets(obs, AssetKind.AI_SDK_USAGE)


def test_plain_javascript_script_block_uses_the_javascript_grammar(tmp_path: Path) -> None:
    src = '<div class="x"></div>\n<script>\n  const MODELS = ["gpt-4o", "claude-3-5-haiku-latest"];\n'
    src += "</script>\n"
    obs = _collect(tmp_path, src, "Pick.svelte")
    assert _values(obs) == {"gpt-4o", "claude-3-5-haiku-latest"}
    assert {m.location.line for m in _mentions(obs)} == {3}


@pytest.mark.parametrize(
    "src",
    [
        '<h1>Models</h1>\n<option value="gpt-4o">GPT-4o</option>\n<p>model: claude-3-opus</p>\n',
        "",
        "<template><div :title=\"'gpt-4o'\">gpt-4o</div></template>\n<style>.model{}</style>\n",
        '<script src="/static/llm-gpt-4o.js"></script>\n<option value="gpt-4o"></option>\n',
    ],
)
def test_component_without_script_code_yields_nothing(tmp_path: Path, src: str) -> None:
    assert _collect(tmp_path, src, "Static.vue") == []


def test_broken_script_block_yields_what_was_recovered_then_reports(tmp_path: Path) -> None:
    src = (
        "<p>header</p>\n"
        '<script lang="ts">\n'
        '  import OpenAI from "openai";\n'
        "  const client = new OpenAI();\n"
        '  await client.chat.completions.create({ model: "gpt-4o", messages: [] });\n'
        "  const x = ;;; }}}\n"
        "</script>\n"
        '<option value="gpt-4.1"></option>\n'
    )
    f = _file(tmp_path, "Broken.svelte", src)
    got: list[Observation] = []
    with pytest.raises(CollectorError) as info:
        for o in COLLECTOR.collect(f):
            got.append(o)
    assert info.value.kind is ErrorKind.PARSE and "syntax error near line 6" in str(info.value)
    assert _values(got) == {"gpt-4o"}
    assert _mention(got, "gpt-4o").location.line == 5


@pytest.mark.parametrize(
    "src",
    [
        '<script lang="ts">\n  const model = "gpt-4o";\n',
        '<!-- old:\n<script>const model = "gpt-4o";</script>\n',
        '<script lang="ts\n const model = "gpt-4o";</script>\n',
        '<script "' * 20_000 + 'const model = "gpt-4o";</script>',
    ],
)
def test_unclosed_tags_and_comments_are_not_code(tmp_path: Path, src: str) -> None:
    assert _collect(tmp_path, src, "Half.svelte") == []


# ---------------------------------------------------------------------------------------------- broken input


BROKEN = """\
import OpenAI from "openai";
const client = new OpenAI();
export async function run( {
  await client.chat.completions.create({ model: "gpt-4o", messages: [] });
  const x = ;;; }}}
const MODELS = ["claude-3-5-sonnet-latest"];
"""


def test_syntax_errors_yield_what_was_recovered_then_report(tmp_path: Path) -> None:
    f = _file(tmp_path, "broken.ts", BROKEN)
    got: list[Observation] = []
    with pytest.raises(CollectorError) as info:
        for o in COLLECTOR.collect(f):
            got.append(o)
    assert info.value.kind is ErrorKind.PARSE and "syntax error" in str(info.value)
    assert "openai" in _assets(got, AssetKind.AI_SDK_USAGE)
    assert {"gpt-4o", "claude-3-5-sonnet-latest"} <= _values(got)


def test_huge_file_is_a_limit_error(tmp_path: Path) -> None:
    f = _file(tmp_path, "bundle.min.js", "var a=1;" * (MAX_SOURCE_BYTES // 8 + 1))
    with pytest.raises(CollectorError) as info:
        list(COLLECTOR.collect(f))
    assert info.value.kind is ErrorKind.LIMIT


def test_binary_is_a_parse_error(tmp_path: Path) -> None:
    f = _file(tmp_path, "weird.js", b"\x00\x01model\x00openai")
    with pytest.raises(CollectorError) as info:
        list(COLLECTOR.collect(f))
    assert info.value.kind is ErrorKind.PARSE


def test_deep_nesting_does_not_crash(tmp_path: Path) -> None:
    src = 'import OpenAI from "openai";\nconst MODELS = ' + "[" * 3000 + '"gpt-4o"' + "]" * 3000 + ";\n"
    obs = _collect(tmp_path, src, "deep.js")
    assert "openai" in _assets(obs, AssetKind.AI_SDK_USAGE)


def test_minified_single_line_is_still_read(tmp_path: Path) -> None:
    src = 'import O from"openai";const c=new O;c.chat.completions.create({model:"gpt-4o",messages:[]});' * 50
    obs = _collect(tmp_path, src, "app.min.js")
    assert _values(obs) == {"gpt-4o"}


# ---------------------------------------------------------------------------------------------- pipeline


def test_pipeline_turns_mentions_into_models(tmp_path: Path) -> None:
    app = tmp_path / "web" / "app"
    app.mkdir(parents=True)
    (app / "route.ts").write_text(VERCEL)
    (tmp_path / "web" / "lib").mkdir()
    (tmp_path / "web" / "lib" / "models.ts").write_text(CONFIG)
    (tmp_path / "web" / "lib" / "user.ts").write_text(DECOYS)
    r = scan([tmp_path], ScanOptions(collectors=["javascript"], checks=[]))
    assert r.errors == ()
    models = {(a.name, a.properties["provider"]) for a in r.assets if a.kind is AssetKind.MODEL}
    assert ("gpt-4o", "openai") in models
    assert ("claude-3-5-sonnet-latest", "anthropic") in models
    assert ("gemini-2.0-flash", "google") in models
    names = {n for n, _ in models}
    assert not names & {"User", "Post", "Order", "cl100k_base", "ProductView", "chat"}
    usage = next(a for a in r.assets if a.kind is AssetKind.AI_SDK_USAGE and a.name == "@ai-sdk/openai")
    gpt4o = next(a for a in r.assets if a.kind is AssetKind.MODEL and a.name == "gpt-4o")
    assert any(rel.source == usage.id and rel.target == gpt4o.id and rel.kind is RelationKind.USES_MODEL
               for rel in r.relations)  # fmt: skip


def test_pipeline_resolves_env_default_through_dotenv(tmp_path: Path) -> None:
    (tmp_path / "svc.ts").write_text(OPENAI_SDK)
    r = scan([tmp_path], ScanOptions(collectors=["javascript"], checks=[]))
    models = {a.name for a in r.assets if a.kind is AssetKind.MODEL}
    assert {"gpt-4o-mini", "gpt-4.1", "o3-mini"} <= models


def test_parameter_and_option_defaults(tmp_path: Path) -> None:
    ts = """\
export const speak = async (text: string, model: string = "tts-1") => text;
export function chat({ model = "gpt-4o", temperature = 0 } = {}) { return model; }
function embed(embeddingModel?: string = "text-embedding-3-small") {}
function paint(color = "red") {}
"""
    assert _values(_collect(tmp_path, ts, "defaults.ts")) == {"tts-1", "gpt-4o", "text-embedding-3-small"}
    js = 'function chat(model = "claude-3-5-haiku-latest", { llm = "gpt-4o-mini" } = {}) {}\n'
    assert _values(_collect(tmp_path, js, "defaults.js")) == {"claude-3-5-haiku-latest", "gpt-4o-mini"}


_JS_TOKENS = st.sampled_from(
    ['import OpenAI from "openai";', "const", "model", ":", "=", '"gpt-4o"', "new", "OpenAI", "(", ")",
     "{", "}", "[", "]", ",", "process.env.MODEL", "??", "openai", ".", "create", "`x${y}`", "//", "/*",
     "\n", ";", "'"]
)  # fmt: skip


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tokens=st.lists(_JS_TOKENS, max_size=60), noise=st.text(max_size=40))
def test_fuzz_never_crashes(tmp_path: Path, tokens: list[str], noise: str) -> None:
    f = _file(tmp_path, "fuzz.ts", " ".join(tokens) + noise)
    try:
        for o in COLLECTOR.collect(f):
            assert isinstance(o, (Asset, ModelMention))
    except CollectorError as exc:
        assert exc.kind in (ErrorKind.PARSE, ErrorKind.LIMIT)
