"""Fallback to Anthropic when the primary provider is degraded."""

from __future__ import annotations

import anthropic

client = anthropic.Anthropic()


def answer_with_claude(question: str, context: str) -> str:
    """Answer with Claude; used by the API when OpenAI calls fail twice in a row."""
    message = client.messages.create(
        model="claude-3-5-sonnet-latest",
        max_tokens=1024,
        system="You answer Northwind customer questions using only the context given.",
        messages=[{"role": "user", "content": f"Context:\n{context}\n\nQuestion: {question}"}],
    )
    return "".join(block.text for block in message.content if block.type == "text")
