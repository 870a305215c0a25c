"""One turn of the router: what was prepared before the write transaction (the knowledge
base's answer) and what the handlers wrote inside it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.channels import InboundMessage
from omnidesk.helpdesk import Author, Conversation, Message, actions
from omnidesk.helpdesk.catalogue import catalogue_of
from omnidesk.knowledge import Answer, Article


@dataclass(slots=True)
class Prepared:
    """Work done before the write transaction: the knowledge base's answer, so slow
    retrieval never holds a database lock."""

    answer: Answer | None = None
    question: str | None = None
    article: Article | None = None
    # A person owned the thread when it was looked at: no search was made.
    skipped: bool = False


@dataclass(slots=True)
class Turn:
    """One inbound message being handled, and what the router wrote for it."""

    session: AsyncSession
    inbound: InboundMessage
    conversation: Conversation
    recorded: Message
    prepared: Prepared
    replies: list[Message] = field(default_factory=list)

    async def reply(self, author: Author, text: str, **payload: Any) -> Message:
        message = await actions.reply(
            self.session,
            self.conversation,
            author,
            text,
            author_name=catalogue_of(self.session).bot_name if author == Author.BOT else None,
            payload={k: v for k, v in payload.items() if v is not None},
        )
        self.replies.append(message)
        return message


Handler = Callable[[Turn], Awaitable[bool]]


def inbound_payload(inbound: InboundMessage) -> dict[str, Any]:
    """What a customer's message keeps besides its text."""
    payload: dict[str, Any] = {}
    if inbound.attachments:
        payload["attachments"] = [
            {"filename": a.filename, "content_type": a.content_type, "size": a.size, "url": a.url}
            for a in inbound.attachments
        ]
    if inbound.raw.get("client_id"):
        payload["client_id"] = str(inbound.raw["client_id"])
    if inbound.action:
        payload["action"] = inbound.action
    return payload
