"""Agent threads: a conversation posted for people on a platform (a Slack channel's
thread), so that a reply there can be found and sent on to the customer."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.helpdesk.actions.base import add_timeline
from omnidesk.helpdesk.models import AgentThread, Conversation


async def record_agent_thread(
    session: AsyncSession,
    conversation: Conversation,
    *,
    platform: str,
    channel_id: str,
    thread_ts: str,
) -> AgentThread:
    """Remember where the conversation was posted for agents."""
    thread = AgentThread(
        conversation_id=conversation.id,
        platform=platform,
        channel_id=channel_id,
        thread_ts=thread_ts,
    )
    session.add(thread)
    await session.flush()
    add_timeline(
        session,
        conversation.contact_id,
        "posted_for_agents",
        conversation.id,
        platform=platform,
        channel_id=channel_id,
        thread_ts=thread_ts,
    )
    return thread


async def agent_thread_of(
    session: AsyncSession, conversation_id: int, platform: str, channel_id: str
) -> AgentThread | None:
    """The conversation's thread in that agent channel, if it was posted there."""
    return await session.scalar(
        select(AgentThread)
        .where(
            AgentThread.conversation_id == conversation_id,
            AgentThread.platform == platform,
            AgentThread.channel_id == channel_id,
        )
        .order_by(AgentThread.id)
        .limit(1)
    )


async def conversation_of_thread(
    session: AsyncSession, platform: str, channel_id: str, thread_ts: str
) -> Conversation | None:
    """The conversation an agent thread belongs to."""
    return await session.scalar(
        select(Conversation)
        .join(AgentThread, AgentThread.conversation_id == Conversation.id)
        .where(
            AgentThread.platform == platform,
            AgentThread.channel_id == channel_id,
            AgentThread.thread_ts == thread_ts,
        )
    )
