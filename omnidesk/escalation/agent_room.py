"""Agents working from a chat room (a Slack channel): what an escalation posted there
says, and what a person's reply in its thread does: it becomes that person's reply to
the customer on the customer's own channel, and the conversation is theirs, so the bot
stays silent.

A platform adapter turns the room's traffic into plain values; this decides and writes
through helpdesk actions.
"""

from __future__ import annotations

import enum
import logging

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.helpdesk import HUMAN_OWNED, Actor, actions
from omnidesk.helpdesk.models import Agent, AgentRole, Author, Contact, Conversation, Message
from omnidesk.messages import RoomPost

log = logging.getLogger(__name__)

LAST_MESSAGES = 5
MAX_LINE_CHARS = 300
NOTE_PREFIX = "note:"
# How many of the conversation's latest agent messages are checked for a redelivered reply.
DEDUPE_LOOKBACK = 50


class ThreadReplyResult(enum.StrEnum):
    SENT = "sent"
    DUPLICATE = "duplicate"
    UNKNOWN_THREAD = "unknown_thread"
    SKIPPED = "skipped"


async def escalation_post(
    session: AsyncSession,
    conversation_id: int,
    *,
    platform: str,
    channel_id: str,
    base_url: str,
) -> RoomPost | None:
    """What to post for a conversation that went to people; None when it is not (or no
    longer) with people, or was already posted in that room."""
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None or conversation.state not in HUMAN_OWNED:
        return None
    if await actions.agent_thread_of(session, conversation.id, platform, channel_id):
        return None
    contact = await session.get_one(Contact, conversation.contact_id)
    ticket = await actions.open_ticket(session, conversation.id)
    rows = (
        await session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation.id, Message.private.is_(False))
            .order_by(Message.id.desc())
            .limit(LAST_MESSAGES)
        )
    ).all()
    lines = tuple(
        (_who(m, contact), m.text[:MAX_LINE_CHARS]) for m in reversed(rows) if m.text.strip()
    )
    return RoomPost(
        conversation_id=conversation.id,
        customer=contact.name or contact.email or f"Contact #{contact.id}",
        channel=conversation.channel,
        reason=(ticket.reason if ticket else "") or "handoff",
        priority=ticket.priority if ticket else conversation.priority,
        ticket_id=ticket.id if ticket else None,
        last_messages=lines,
        console_url=f"{base_url.rstrip('/')}/console#/conversations/{conversation.id}",
    )


def _who(message: Message, contact: Contact) -> str:
    if message.author == Author.CONTACT:
        return message.author_name or contact.name or "Customer"
    return message.author_name or str(message.author).capitalize()


async def reply_from_thread(
    session: AsyncSession,
    *,
    platform: str,
    channel_id: str,
    thread_ts: str,
    text: str,
    name: str,
    email: str | None,
    dedupe_key: str,
) -> ThreadReplyResult:
    """A person's reply in an agent thread: sent to the customer as their reply.

    The person is the agent account with the same email when there is one, else known
    by name. A reply starting with "note:" is an internal note, never sent.
    """
    conversation = await actions.conversation_of_thread(session, platform, channel_id, thread_ts)
    if conversation is None:
        return ThreadReplyResult.UNKNOWN_THREAD
    body = text.strip()
    if not body:
        return ThreadReplyResult.SKIPPED
    if body.lower().startswith(NOTE_PREFIX):
        # Internal notes from the room wait for the helpdesk's note action; until then
        # such a reply is dropped rather than risk it reaching the customer.
        log.info("skipped a note from %s thread %s:%s", platform, channel_id, thread_ts)
        return ThreadReplyResult.SKIPPED
    if await _already_sent(session, conversation.id, dedupe_key):
        return ThreadReplyResult.DUPLICATE
    actor = await actor_for(session, name, email)
    message = await actions.agent_reply(session, conversation, actor, body)
    # Where it came from, so a platform's redelivery of the same reply is recognised.
    message.payload = {**(message.payload or {}), "source": {platform: dedupe_key}}
    return ThreadReplyResult.SENT


async def actor_for(session: AsyncSession, name: str, email: str | None) -> Actor:
    """The agent account with this email (active), else a person known by name."""
    if email:
        agent = await session.scalar(
            select(Agent).where(func.lower(Agent.email) == email.lower(), Agent.active.is_(True))
        )
        if agent is not None:
            return Actor(
                agent.name, agent_id=agent.id, role=AgentRole(agent.role), email=agent.email
            )
    return Actor(name, email=email)


async def _already_sent(session: AsyncSession, conversation_id: int, dedupe_key: str) -> bool:
    payloads = await session.scalars(
        select(Message.payload)
        .where(Message.conversation_id == conversation_id, Message.author == Author.AGENT)
        .order_by(Message.id.desc())
        .limit(DEDUPE_LOOKBACK)
    )
    return any(dedupe_key in (p or {}).get("source", {}).values() for p in payloads)
