"""HTTP front of the support assistant."""

from __future__ import annotations

import logging

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

from app.fallback import answer_with_claude
from app.rag import answer, retriever

log = logging.getLogger("northwind.rag")
app = FastAPI(title="Northwind support assistant")


class AskRequest(BaseModel):
    question: str = Field(min_length=3, max_length=2000)
    # A request field that happens to be called "model": its annotation is a type, not a model id.
    model: str = Field(default="", description="Override the chat model (admins only)")
    offline: bool = False


class AskResponse(BaseModel):
    answer: str
    degraded: bool = False


@app.post("/ask", response_model=AskResponse)
def ask(req: AskRequest) -> AskResponse:
    try:
        return AskResponse(answer=answer(req.question, offline=req.offline))
    except Exception:
        log.exception("primary provider failed; falling back")
    docs = retriever.invoke(req.question)
    context = "\n---\n".join(d.page_content for d in docs)
    try:
        return AskResponse(answer=answer_with_claude(req.question, context), degraded=True)
    except Exception as exc:
        raise HTTPException(status_code=503, detail="assistant unavailable") from exc
