"""A handoff starts the ticket's SLA clock and gives the conversation to an online agent
(until the escalation package's ``hand_off`` runs these hooks itself)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from omnidesk.helpdesk import Conversation, ConversationState, Ticket, unit_of_work
from omnidesk.helpdesk.models import Agent, Notification
from tests.bot.conftest import Chat


async def test_handoff_starts_sla_and_assigns(chat: Chat) -> None:
    sessionmaker = chat.services.sessionmaker
    async with unit_of_work(sessionmaker) as session:
        agent = Agent(name="Ana", email="ana@example.com", password_hash="-", availability="online")
        session.add(agent)
        await session.flush()
        agent_id = agent.id
    await chat.say("I want to talk to a person")
    async with sessionmaker() as session:
        conversation = (await session.scalars(select(Conversation))).one()
        ticket = (await session.scalars(select(Ticket))).one()
        notification = (await session.scalars(select(Notification))).one()
    assert conversation.state == ConversationState.ASSIGNED
    assert conversation.assignee_id == agent_id and conversation.waiting_since is not None
    # The default policy for a normal ticket: 4 h to a first response, 24 h to resolve.
    assert ticket.first_response_due_at == ticket.created_at + dt.timedelta(hours=4)
    assert ticket.resolution_due_at == ticket.created_at + dt.timedelta(hours=24)
    assert (notification.agent_id, notification.kind) == (agent_id, "assigned")


async def test_handoff_without_agents_stays_queued(chat: Chat) -> None:
    await chat.say("I want to talk to a person")
    async with chat.services.sessionmaker() as session:
        conversation = (await session.scalars(select(Conversation))).one()
        ticket = (await session.scalars(select(Ticket))).one()
    assert conversation.state == ConversationState.QUEUED and conversation.assignee_id is None
    assert ticket.first_response_due_at is not None
