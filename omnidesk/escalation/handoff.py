"""Carrying out a handoff decision through helpdesk actions: the conversation is queued
with its reason, priority and team, and its ticket opened; then the routing hooks (SLA
clock, automatic assignment) run."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.escalation.signals import Decision
from omnidesk.helpdesk import Conversation, Ticket, actions


async def hand_off(
    session: AsyncSession,
    conversation: Conversation,
    decision: Decision,
    *,
    subject: str | None = None,
) -> Ticket:
    """Give the conversation to people as ``decision`` says, in the caller's transaction.
    ``subject`` names a new ticket (the customer's question); it defaults to the last
    question the bot saw."""
    if not decision.handoff:
        raise ValueError("hand_off needs a decision to hand off")
    ticket = await actions.escalate(
        session,
        conversation,
        reason=decision.reason,
        subject=subject or conversation.last_question or "Conversation",
        priority=decision.priority,
        team_id=decision.team_id,
        rule_id=decision.rule_id,
    )
    # Routing hooks (h3): once on main, the SLA clock starts from the ticket's priority
    # and the team's calendar, and an available agent may be picked:
    #     await start_sla(session, ticket)
    #     await auto_assign(session, conversation)
    return ticket
