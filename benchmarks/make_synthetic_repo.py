"""Generate a deterministic synthetic repository for timing scans.

The tree looks like a mid-sized product monorepo: Python services, a TypeScript front end, and
configuration (YAML, JSON, TOML, .env samples, Dockerfiles, Markdown). About a third of the source
files use AI (OpenAI, Anthropic, LangChain, Hugging Face, the Vercel AI SDK); the rest are
ordinary application code of similar size, so a scanner has to read everything and find little.

    python benchmarks/make_synthetic_repo.py OUT_DIR [--files 1000] [--seed 7]

The same seed always gives byte-identical files, so timings of two runs compare like with like.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
from collections.abc import Callable
from pathlib import Path

OPENAI_MODELS = ("gpt-4o", "gpt-4o-mini", "gpt-4.1", "o4-mini", "text-embedding-3-small")
ANTHROPIC_MODELS = ("claude-3-5-sonnet-latest", "claude-3-5-haiku-latest", "claude-sonnet-4-5")
HF_MODELS = (
    "sentence-transformers/all-MiniLM-L6-v2",
    "meta-llama/Llama-3.1-8B-Instruct",
    "mistralai/Mistral-7B-Instruct-v0.3",
    "BAAI/bge-small-en-v1.5",
    "Qwen/Qwen2.5-7B-Instruct",
)
WORDS = (
    "order", "invoice", "customer", "account", "ledger", "report", "export", "intake", "billing",
    "payment", "shipment", "catalog", "product", "inventory", "warehouse", "refund", "coupon",
    "session", "audit", "profile", "tenant", "quota",
)  # fmt: skip


def _ident(rng: random.Random) -> str:
    return "_".join(rng.sample(WORDS, 2))


def _plain_python(rng: random.Random) -> str:
    name = _ident(rng)
    fields = rng.sample(WORDS, 4)
    body = "\n".join(f"    {f}: str = ''" for f in fields)
    funcs = "\n\n".join(
        f"def {name}_{i}(items: list[dict[str, int]]) -> int:\n"
        f'    """Sum the {rng.choice(WORDS)} totals."""\n'
        f"    total = 0\n"
        f"    for item in items:\n"
        f"        if item.get('{rng.choice(fields)}', 0) > {rng.randint(1, 99)}:\n"
        f"            total += item['{rng.choice(fields)}']\n"
        f"    return total\n"
        for i in range(rng.randint(3, 8))
    )
    return (
        "import logging\nfrom dataclasses import dataclass\n\n"
        f"log = logging.getLogger(__name__)\n\n\n@dataclass\nclass {name.title().replace('_', '')}:\n"
        f"{body}\n    model: str = 'default'  # an ORM-ish field, not an AI model\n\n\n{funcs}"
    )


def _ai_python(rng: random.Random) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        model = rng.choice(OPENAI_MODELS[:4])
        return (
            "import os\n\nfrom openai import OpenAI\n\nclient = OpenAI()\n\n\n"
            "def summarize(text: str) -> str:\n"
            "    resp = client.chat.completions.create(\n"
            f"        model=os.getenv('SUMMARY_MODEL', '{model}'),\n"
            "        messages=[{'role': 'user', 'content': text}],\n"
            "    )\n    return resp.choices[0].message.content or ''\n" + _plain_python(rng)
        )
    if kind == 1:
        model = rng.choice(ANTHROPIC_MODELS)
        return (
            "import anthropic\n\nclient = anthropic.Anthropic()\n\n\n"
            "def classify(ticket: str) -> str:\n"
            f"    msg = client.messages.create(model='{model}', max_tokens=256,\n"
            "        messages=[{'role': 'user', 'content': ticket}])\n"
            "    return msg.content[0].text\n" + _plain_python(rng)
        )
    if kind == 2:
        model = rng.choice(HF_MODELS)
        return (
            "from transformers import AutoModel, AutoTokenizer\n\n"
            f"tokenizer = AutoTokenizer.from_pretrained('{model}')\n"
            f"model = AutoModel.from_pretrained('{model}')\n\n" + _plain_python(rng)
        )
    model = rng.choice(OPENAI_MODELS)
    return (
        "from langchain_openai import ChatOpenAI, OpenAIEmbeddings\n\n"
        f"llm = ChatOpenAI(model='{model}', temperature=0)\n"
        "embeddings = OpenAIEmbeddings(model='text-embedding-3-small')\n\n" + _plain_python(rng)
    )


def _plain_ts(rng: random.Random) -> str:
    name = _ident(rng)
    lines = [f"export interface {name.title().replace('_', '')} {{"]
    lines += [f"  {w}: string;" for w in rng.sample(WORDS, 5)]
    lines.append("}\n")
    for i in range(rng.randint(3, 8)):
        lines.append(
            f"export function {name}{i}(rows: Array<Record<string, number>>): number {{\n"
            f"  return rows.filter((r) => (r['{rng.choice(WORDS)}'] ?? 0) > {rng.randint(1, 50)})"
            f".reduce((a, r) => a + (r['{rng.choice(WORDS)}'] ?? 0), 0);\n}}\n"
        )
    lines.append('import mongoose from "mongoose";\n')
    lines.append('export const Row = mongoose.model("Row", new mongoose.Schema({}));\n')
    return "\n".join(lines)


def _ai_ts(rng: random.Random) -> str:
    if rng.random() < 0.5:
        model = rng.choice(OPENAI_MODELS[:4])
        head = (
            'import { openai } from "@ai-sdk/openai";\nimport { generateText } from "ai";\n\n'
            "export async function draft(prompt: string) {\n"
            f'  const {{ text }} = await generateText({{ model: openai("{model}"), prompt }});\n'
            "  return text;\n}\n\n"
        )
    else:
        model = rng.choice(ANTHROPIC_MODELS)
        head = (
            'import Anthropic from "@anthropic-ai/sdk";\n\nconst client = new Anthropic();\n\n'
            "export async function answer(q: string) {\n"
            f'  return client.messages.create({{ model: "{model}", max_tokens: 512, '
            'messages: [{ role: "user", content: q }] });\n}\n\n'
        )
    return head + _plain_ts(rng)


def _config(rng: random.Random, ai: bool) -> tuple[str, str]:
    kind = rng.randrange(4)
    if kind == 0:
        model = rng.choice(HF_MODELS) if ai else None
        env = f"      MODEL_ID: {model}\n" if model else "      LOG_LEVEL: info\n"
        return (
            "yaml",
            f"services:\n  app:\n    image: example/app:1.{rng.randint(0, 9)}\n    environment:\n{env}",
        )
    if kind == 1:
        data = {"name": _ident(rng), "retries": rng.randint(1, 5), "timeout_s": rng.randint(5, 60)}
        if ai:
            data["llm"] = {"model": rng.choice(OPENAI_MODELS)}
        return "json", json.dumps(data, indent=2) + "\n"
    if kind == 2:
        line = f"CHAT_MODEL={rng.choice(OPENAI_MODELS)}\n" if ai else f"PORT={rng.randint(3000, 9000)}\n"
        return "env.example", "DATABASE_URL=postgresql://localhost/app\n" + line
    deps = ["requests==2.32.3", "sqlalchemy==2.0.36"] + (
        ["openai==1.58.1", "langchain==0.3.13"] if ai else []
    )
    return "txt", "\n".join(deps) + "\n"


def generate(out: Path, files: int = 1000, seed: int = 7, ai_share: float = 0.3) -> dict[str, int]:
    """Write ``files`` files under ``out`` (emptied first); returns counts by kind."""
    rng = random.Random(seed)
    if out.exists():
        shutil.rmtree(out)
    counts = {"python": 0, "typescript": 0, "config": 0, "markdown": 0, "ai": 0}
    makers: list[tuple[str, Callable[[random.Random], str], Callable[[random.Random], str], str]] = [
        ("python", _plain_python, _ai_python, "py"),
        ("typescript", _plain_ts, _ai_ts, "ts"),
    ]
    for i in range(files):
        pkg = f"{rng.choice(('services', 'apps', 'libs', 'tools'))}/{rng.choice(WORDS)}"
        roll = rng.random()
        ai = rng.random() < ai_share
        if roll < 0.75:
            kind, plain, with_ai, ext = makers[0] if roll < 0.45 else makers[1]
            text = with_ai(rng) if ai else plain(rng)
            path = out / pkg / f"{_ident(rng)}_{i}.{ext}"
        elif roll < 0.93:
            kind = "config"
            ext, text = _config(rng, ai)
            name = {"env.example": ".env.example", "txt": "requirements.txt"}.get(ext, f"settings_{i}.{ext}")
            path = out / pkg / f"m{i}" / name if ext in ("env.example", "txt") else out / pkg / name
        else:
            kind, ai = "markdown", False
            text = f"# {_ident(rng)}\n\n" + " ".join(rng.choices(WORDS, k=200)) + "\n"
            path = out / pkg / f"NOTES_{i}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        counts[kind] += 1
        counts["ai"] += int(ai)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    counts = generate(args.out, args.files, args.seed)
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
