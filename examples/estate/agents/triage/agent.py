"""Ticket triage agent: reads a new ticket, looks up the customer, tags and routes it."""

from __future__ import annotations

import asyncio
import os

import httpx
from agents import Agent, Runner, function_tool

TICKETS_API = os.getenv("TICKETS_API", "http://tickets.internal.northwind:8080")


@function_tool
def lookup_customer(email: str) -> str:
    """Plan, seats and open incidents for the customer with this email."""
    resp = httpx.get(f"{TICKETS_API}/customers", params={"email": email}, timeout=10)
    resp.raise_for_status()
    return resp.text


@function_tool
def tag_ticket(ticket_id: int, area: str, urgency: str) -> str:
    """Tag a ticket with its product area and urgency (low, normal, high, urgent)."""
    resp = httpx.post(f"{TICKETS_API}/tickets/{ticket_id}/tags", json={"area": area, "urgency": urgency})
    resp.raise_for_status()
    return "ok"


triage_agent = Agent(
    name="Ticket triage",
    instructions=(
        "You triage Northwind support tickets. Look up the customer, decide the product area "
        "(billing, exports, identity, other) and the urgency, then tag the ticket. "
        "Never reply to the customer."
    ),
    model="gpt-4.1",
    tools=[lookup_customer, tag_ticket],
)


async def triage(ticket_id: int, body: str) -> str:
    """Run the agent on one ticket and return its final note."""
    result = await Runner.run(triage_agent, f"Ticket {ticket_id}:\n{body}")
    return str(result.final_output)


if __name__ == "__main__":
    print(asyncio.run(triage(1, "I was charged twice for March - dana@example.com")))
