"""MCP server exposing the Northwind ticket system (read-only search, plus tagging)."""

from __future__ import annotations

import os

from mcp.server.fastmcp import FastMCP
from sqlalchemy import create_engine, text

mcp = FastMCP("northwind-tickets")
engine = create_engine(os.getenv("TICKETS_DB", "sqlite:///tickets.db"))


@mcp.tool()
def search_tickets(query: str, limit: int = 10) -> list[dict[str, str]]:
    """Search support tickets by keyword. Returns id, subject and status."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, subject, status FROM tickets WHERE subject LIKE :q LIMIT :n"),
            {"q": f"%{query}%", "n": min(limit, 50)},
        )
        return [{"id": str(r.id), "subject": r.subject, "status": r.status} for r in rows]


@mcp.tool()
def tag_ticket(ticket_id: int, tag: str) -> str:
    """Add a tag to a ticket (used by the triage agent)."""
    with engine.begin() as conn:
        insert = text("INSERT INTO ticket_tags (ticket_id, tag) VALUES (:t, :g)")
        conn.execute(insert, {"t": ticket_id, "g": tag})
    return f"tagged {ticket_id} with {tag}"


@mcp.resource("tickets://{ticket_id}")
def ticket(ticket_id: int) -> str:
    """The full text of one ticket."""
    with engine.connect() as conn:
        row = conn.execute(text("SELECT body FROM tickets WHERE id = :t"), {"t": ticket_id}).one()
        return str(row.body)


if __name__ == "__main__":
    mcp.run()
