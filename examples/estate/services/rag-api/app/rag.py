"""Retrieval-augmented answers over the Northwind knowledge base."""

from __future__ import annotations

import os

import tiktoken
from langchain_chroma import Chroma
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_ollama import ChatOllama
from langchain_openai import ChatOpenAI, OpenAIEmbeddings

# Token counting for context budgeting. "o200k_base" is a tokenizer encoding, not a model.
_ENCODING = tiktoken.get_encoding("o200k_base")
MAX_CONTEXT_TOKENS = 6000

PROMPT = ChatPromptTemplate.from_messages(
    [
        ("system", "You answer Northwind customer questions using only the context below.\n\n{context}"),
        ("human", "{question}"),
    ]
)

embeddings = OpenAIEmbeddings(model="text-embedding-3-small")
store = Chroma(
    collection_name="northwind-kb",
    embedding_function=embeddings,
    persist_directory=os.getenv("CHROMA_DIR", "./.chroma"),
)
retriever = store.as_retriever(search_kwargs={"k": 4})

llm = ChatOpenAI(model=os.getenv("CHAT_MODEL", "gpt-4o-mini"), temperature=0)

# Offline mode for the on-prem support desk: a small open model served by Ollama.
local_llm = ChatOllama(model="llama3.2:3b", base_url=os.getenv("OLLAMA_BASE_URL", "http://localhost:11434"))


def _fit_context(chunks: list[str]) -> str:
    """Keep the highest-ranked chunks that fit the context budget."""
    kept: list[str] = []
    used = 0
    for chunk in chunks:
        n = len(_ENCODING.encode(chunk))
        if used + n > MAX_CONTEXT_TOKENS:
            break
        kept.append(chunk)
        used += n
    return "\n---\n".join(kept)


def answer(question: str, *, offline: bool = False) -> str:
    """Answer ``question`` from the knowledge base."""
    docs = retriever.invoke(question)
    context = _fit_context([d.page_content for d in docs])
    chain = PROMPT | (local_llm if offline else llm) | StrOutputParser()
    return chain.invoke({"context": context, "question": question})
