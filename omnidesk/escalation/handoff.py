"""Carrying out a handoff decision through helpdesk actions: the conversation is queued
with its reason, priority and team, and its ticket opened; then the SLA clock starts and
automatic assignment may give it to an agent."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.escalation.assignment import auto_assign
from omnidesk.escalation.signals import Decision
from omnidesk.escalation.sla import start_sla
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
    # The SLA clock counts from the ticket's priority and its team's calendar; then an
    # online agent of the team with the skill and free capacity may take it at once.
    await start_sla(session, ticket)
    await auto_assign(session, conversation)
    return ticket
