"""The conversation router: the one place that looks at a customer's message and
decides to answer, offer choices, escalate, or stay silent while a human owns it.

It is an ordered chain of small handlers; the first that handles the turn wins.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omnidesk.channels import Action, InboundMessage
from omnidesk.escalation import HandoffRules, auto_assign, start_sla
from omnidesk.helpdesk import (
    HUMAN_OWNED,
    Author,
    ChannelIdentity,
    Conversation,
    ConversationState,
    Message,
    actions,
)
from omnidesk.knowledge import (
    Answer,
    Article,
    ArticleStatus,
    KnowledgeBase,
    SearchHit,
    markdown_to_text,
)

log = logging.getLogger(__name__)

HANDOFF_TEXT = (
    "I've passed your conversation to our support team. A person will reply right here "
    "as soon as possible."
)
ESCALATED_UNSURE_TEXT = (
    "I couldn't find a good answer to that, so I've passed your conversation to our "
    "support team. A person will reply right here as soon as possible."
)
UNSURE_TEXT = "I'm not sure I have the answer to that. These articles might help:"
UNSURE_NO_SUGGESTION_TEXT = (
    "I'm not sure I have the answer to that. Could you rephrase it, or would you like to "
    "talk to a person?"
)
CLARIFY_TEXT = "Did you mean one of these?"
TALK_TO_PERSON = "Talk to a person"
HELPFUL_TEXT = "Thanks for letting us know!"
NOT_HELPFUL_TEXT = (
    "Sorry that didn't help. I've passed your conversation to our support team; a person "
    "will reply right here."
)
GREETING_TEXT = (
    "Hi! I'm the support assistant. Ask me anything about your order, account, billing "
    'or devices, or say "talk to a person" at any time.'
)
GREETINGS = frozenset(
    {
        "hi",
        "hello",
        "hey",
        "hallo",
        "hiya",
        "good morning",
        "good afternoon",
        "good evening",
        "hi there",
        "hello there",
        "hey there",
        "start",
    }
)
EMPTY_TEXT = "I can only read text for now. Could you type your question?"


@dataclass(slots=True)
class Prepared:
    """Work done before the write transaction: the knowledge base's answer, so slow
    retrieval never holds a database lock."""

    answer: Answer | None = None
    question: str | None = None
    article: Article | None = None


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
            author_name="Lumen Bot" if author == Author.BOT else None,
            payload={k: v for k, v in payload.items() if v is not None},
        )
        self.replies.append(message)
        return message


Handler = Callable[[Turn], Awaitable[bool]]


def button(label: str, payload: str) -> dict[str, str]:
    return {"label": label, "payload": payload}


def citation(hit: SearchHit) -> dict[str, str]:
    return {"slug": hit.slug, "title": hit.title, "url": hit.url}


FEEDBACK_BUTTONS = [button("Helpful", Action.HELPFUL), button("Not helpful", Action.NOT_HELPFUL)]


class Router:
    """Decides every turn; see the module docstring."""

    def __init__(
        self,
        kb: KnowledgeBase,
        rules: HandoffRules,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        self._kb = kb
        self._rules = rules
        self._sessionmaker = sessionmaker
        self.handlers: Sequence[Handler] = (
            self._automated,
            self._empty,
            self._feedback,
            self._human_request,
            self._human_owned,
            self._greeting,
            self._article_choice,
            self._answer,
            self._clarify,
            self._unsure,
        )

    async def prepare(self, inbound: InboundMessage) -> Prepared:
        """Search the knowledge base for a plain question, outside any transaction."""
        text = inbound.text.strip()
        action = inbound.action or ""
        if inbound.automated or inbound.replaces is not None or is_greeting(inbound):
            return Prepared()
        if action.startswith(Action.ARTICLE_PREFIX):
            slug = action.removeprefix(Action.ARTICLE_PREFIX)
            return Prepared(article=await self._kb.get_article(slug))
        if inbound.action or not text or self._rules.on_message(text).escalate:
            return Prepared()
        previous = await self._previous_question(inbound)
        answer = await self._kb.answer(text, previous_question=previous)
        return Prepared(answer=answer, question=text)

    async def handle(
        self, session: AsyncSession, inbound: InboundMessage, prepared: Prepared
    ) -> Turn:
        """Record the message and run the handler chain, inside the caller's transaction."""
        identity = await actions.resolve_identity(
            session,
            inbound.channel,
            inbound.sender_id,
            name=inbound.sender_name,
            email=inbound.sender_email,
        )
        conversation = await actions.current_conversation(
            session,
            identity,
            inbound.thread_key,
            subject=inbound.subject,
            ticket_ref=inbound.ticket_ref,
            reply_to=inbound.reply_to,
        )
        if inbound.replaces is not None:
            edited = await actions.edit_message(
                session, conversation, inbound.replaces, inbound.text
            )
            if edited is not None:
                # An edit changes the record; it is not a new question.
                return Turn(session, inbound, conversation, edited, prepared)
        payload: dict[str, Any] = {}
        if inbound.attachments:
            payload["attachments"] = [
                {
                    "filename": a.filename,
                    "content_type": a.content_type,
                    "size": a.size,
                    "url": a.url,
                }
                for a in inbound.attachments
            ]
        if inbound.raw.get("client_id"):
            payload["client_id"] = str(inbound.raw["client_id"])
        if inbound.action:
            payload["action"] = inbound.action
        recorded = await actions.record_message(
            session,
            conversation,
            Author.CONTACT,
            inbound.text,
            author_name=inbound.sender_name,
            payload=payload,
            external_id=inbound.dedupe_key,
        )
        if conversation.state == ConversationState.RESOLVED:
            await actions.reopen(session, conversation)
        turn = Turn(session, inbound, conversation, recorded, prepared)
        for handler in self.handlers:
            if await handler(turn):
                break
        return turn

    # -- handlers, in order ------------------------------------------------------------

    async def _automated(self, turn: Turn) -> bool:
        # Auto-replies and bounces are kept on the timeline but never answered.
        return turn.inbound.automated

    async def _empty(self, turn: Turn) -> bool:
        if turn.inbound.action or turn.inbound.text.strip():
            return False
        if turn.conversation.state in HUMAN_OWNED or turn.inbound.attachments:
            return True
        await turn.reply(Author.BOT, EMPTY_TEXT)
        return True

    async def _feedback(self, turn: Turn) -> bool:
        action = turn.inbound.action
        if action not in (Action.HELPFUL, Action.NOT_HELPFUL):
            return False
        helpful = action == Action.HELPFUL
        actions.add_timeline(
            turn.session,
            turn.conversation.contact_id,
            "feedback",
            turn.conversation.id,
            helpful=helpful,
            question=turn.conversation.last_question,
        )
        if turn.conversation.state in HUMAN_OWNED:
            return True
        if helpful:
            await turn.reply(Author.BOT, HELPFUL_TEXT)
            return True
        await self._escalate(turn, "not_helpful", NOT_HELPFUL_TEXT)
        return True

    async def _human_request(self, turn: Turn) -> bool:
        wants_human = turn.inbound.action == Action.HUMAN or (
            not turn.inbound.action and self._rules.on_message(turn.inbound.text).escalate
        )
        if not wants_human:
            return False
        if turn.conversation.state in HUMAN_OWNED:
            return True
        await self._escalate(turn, "customer_request", HANDOFF_TEXT)
        return True

    async def _human_owned(self, turn: Turn) -> bool:
        # A person owns the conversation: the bot keeps quiet.
        return turn.conversation.state in HUMAN_OWNED

    async def _greeting(self, turn: Turn) -> bool:
        if not is_greeting(turn.inbound):
            return False
        await turn.reply(Author.BOT, GREETING_TEXT)
        return True

    async def _article_choice(self, turn: Turn) -> bool:
        action = turn.inbound.action or ""
        if not action.startswith(Action.ARTICLE_PREFIX):
            return False
        article = turn.prepared.article
        if article is None or article.status != ArticleStatus.PUBLISHED:
            await turn.reply(Author.BOT, "Sorry, that article is no longer available.")
            return True
        slug = article.slug
        await turn.reply(
            Author.BOT,
            article_summary(article.body),
            citations=[{"slug": slug, "title": article.title, "url": self._kb.article_url(slug)}],
            buttons=FEEDBACK_BUTTONS,
        )
        return True

    async def _answer(self, turn: Turn) -> bool:
        answer = turn.prepared.answer
        if answer is None or answer.kind != "answer" or answer.best is None:
            return False
        turn.conversation.low_confidence_streak = 0
        turn.conversation.last_question = turn.prepared.question
        await turn.reply(
            Author.BOT,
            markdown_to_text(answer.text),
            citations=[citation(answer.best)],
            confidence=round(answer.confidence, 4),
            buttons=FEEDBACK_BUTTONS,
        )
        return True

    async def _clarify(self, turn: Turn) -> bool:
        # Two articles answer about equally well: let the customer pick rather than guess.
        answer = turn.prepared.answer
        if answer is None or answer.kind != "clarify" or not answer.suggestions:
            return False
        turn.conversation.low_confidence_streak = 0
        turn.conversation.last_question = turn.prepared.question
        buttons = [
            button(hit.title, f"{Action.ARTICLE_PREFIX}{hit.slug}") for hit in answer.suggestions
        ]
        buttons.append(button(TALK_TO_PERSON, Action.HUMAN))
        await turn.reply(
            Author.BOT, CLARIFY_TEXT, buttons=buttons, confidence=round(answer.confidence, 4)
        )
        return True

    async def _unsure(self, turn: Turn) -> bool:
        answer = turn.prepared.answer
        conversation = turn.conversation
        conversation.low_confidence_streak += 1
        if turn.prepared.question:
            conversation.last_question = turn.prepared.question
        actions.add_timeline(
            turn.session,
            conversation.contact_id,
            "unanswered",
            conversation.id,
            question=turn.inbound.text[:500],
            confidence=round(answer.confidence, 4) if answer else None,
        )
        if self._rules.on_unsure(conversation.low_confidence_streak).escalate:
            await self._escalate(turn, "low_confidence", ESCALATED_UNSURE_TEXT)
            return True
        suggestions = list(answer.suggestions) if answer else []
        buttons = [button(hit.title, f"{Action.ARTICLE_PREFIX}{hit.slug}") for hit in suggestions]
        buttons.append(button(TALK_TO_PERSON, Action.HUMAN))
        await turn.reply(
            Author.BOT,
            UNSURE_TEXT if suggestions else UNSURE_NO_SUGGESTION_TEXT,
            buttons=buttons,
            confidence=round(answer.confidence, 4) if answer else None,
        )
        return True

    # -- helpers -----------------------------------------------------------------------

    async def _escalate(self, turn: Turn, reason: str, text: str) -> None:
        subject = turn.conversation.last_question or turn.inbound.text or "Conversation"
        ticket = await actions.escalate(
            turn.session, turn.conversation, reason=reason, subject=subject
        )
        await start_sla(turn.session, ticket)  # until h1's escalation.hand_off
        await auto_assign(turn.session, turn.conversation)
        await turn.reply(Author.SYSTEM, text)

    async def _previous_question(self, inbound: InboundMessage) -> str | None:
        async with self._sessionmaker() as session:
            return await session.scalar(
                select(Conversation.last_question)
                .join(ChannelIdentity, ChannelIdentity.id == Conversation.identity_id)
                .where(
                    ChannelIdentity.channel == inbound.channel,
                    ChannelIdentity.external_id == inbound.sender_id,
                    Conversation.thread_key == inbound.thread_key,
                    Conversation.state == ConversationState.BOT,
                )
                .order_by(Conversation.id.desc())
                .limit(1)
            )


def is_greeting(inbound: InboundMessage) -> bool:
    """A hello with no question in it, or a platform's start command."""
    if inbound.action:
        return False
    if inbound.raw.get("command") == "start":
        return True
    return re.sub(r"[^\w ]+", "", inbound.text.lower()).strip() in GREETINGS


_HEADING = re.compile(r"^#{1,6}\s.*$", re.MULTILINE)


def article_summary(body: str, max_chars: int = 700) -> str:
    """The opening of an article without its headings, for when a customer picks it."""
    text_only = markdown_to_text(_HEADING.sub("", body))
    paragraphs = [p.strip() for p in text_only.split("\n\n") if p.strip()]
    text = ""
    for paragraph in paragraphs:
        candidate = f"{text}\n\n{paragraph}" if text else paragraph
        if len(candidate) > max_chars and text:
            break
        text = candidate
    return text[:max_chars]
