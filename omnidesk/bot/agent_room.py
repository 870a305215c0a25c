"""Wiring between the Slack agent channel and the helpdesk: each conversation that goes
to people is posted there (once, whichever process sees the event), a customer's
follow-up is added to its thread, and a person's reply in the thread goes to escalation,
which sends it to the customer."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omnidesk.channels import AgentMessage
from omnidesk.channels.slack import SlackChannel
from omnidesk.channels.slack.agents import rating_line, resolved_line
from omnidesk.escalation import ThreadReplyResult, escalation_post, reply_from_thread
from omnidesk.helpdesk import (
    Author,
    Conversation,
    ConversationState,
    Event,
    EventBus,
    Message,
    actions,
)
from omnidesk.helpdesk.events import unit_of_work

log = logging.getLogger(__name__)

PLATFORM = "slack"
FOLLOW_UP_CHARS = 1500


class AgentRoom:
    """Posts escalations to ``slack.agent_channel`` and takes replies from its threads."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        bus: EventBus,
        slack: SlackChannel,
        base_url: str,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._bus = bus
        self._slack = slack
        self._base_url = base_url

    @property
    def channel_id(self) -> str:
        return self._slack.agent_channel or ""

    async def on_event(self, event: Event) -> None:
        """Bus subscriber: a conversation queued for people, a customer's message, a
        resolution or a rating."""
        if event.remote:
            # Fanned out from another process, which posts it itself.
            return
        data = event.data
        if event.kind == "conversation" and data.get("state") == ConversationState.QUEUED:
            await self.post(int(data["conversation_id"]))
        elif event.kind == "conversation" and data.get("state") == ConversationState.RESOLVED:
            await self.note(int(data["conversation_id"]), resolved_line())
        elif event.kind == "csat":
            line = rating_line(int(data["score"]), data.get("comment"))
            await self.note(int(data["conversation_id"]), line)
        elif event.kind == "message" and not data.get("private"):
            await self.follow_up(int(data["conversation_id"]), int(data["message_id"]))

    async def post(self, conversation_id: int) -> str | None:
        """Post the conversation for agents unless it already is; the thread ts."""
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            # The row lock makes one process post, however many saw the event.
            conversation = await session.scalar(
                select(Conversation).where(Conversation.id == conversation_id).with_for_update()
            )
            if conversation is None:
                return None
            found = await escalation_post(
                session,
                conversation_id,
                platform=PLATFORM,
                channel_id=self.channel_id,
                base_url=self._base_url,
            )
            if found is None:
                return None
            thread_ts = await self._slack.post_handoff(found)
            if thread_ts is None:
                return None
            await actions.record_agent_thread(
                session,
                conversation,
                platform=PLATFORM,
                channel_id=self.channel_id,
                thread_ts=thread_ts,
            )
            return thread_ts

    async def follow_up(self, conversation_id: int, message_id: int) -> None:
        """A customer wrote again: the agents working from the thread see it there."""
        async with self._sessionmaker() as session:
            message = await session.get(Message, message_id)
        if message is not None and message.author == Author.CONTACT and message.text.strip():
            await self.note(conversation_id, f"Customer: {message.text[:FOLLOW_UP_CHARS]}")

    async def note(self, conversation_id: int, line: str) -> None:
        """What happened next, in the conversation's thread if it has one: agents working
        from Slack see the customer's follow-ups, the resolution and the rating."""
        async with self._sessionmaker() as session:
            thread = await actions.agent_thread_of(
                session, conversation_id, PLATFORM, self.channel_id
            )
        if thread is not None:
            await self._slack.post_in_thread(thread.thread_ts, line)

    async def on_agent_message(self, message: AgentMessage) -> None:
        """A person replied in an agent thread: committed before Slack is answered."""
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            result = await reply_from_thread(
                session,
                platform=message.platform,
                channel_id=message.room_id,
                thread_ts=message.thread_id,
                text=message.text,
                name=message.user_name or message.user_id,
                email=message.user_email,
                dedupe_key=message.dedupe_key,
            )
        if result != ThreadReplyResult.SENT:
            log.info("agent thread reply %s: %s", message.dedupe_key, result)
