"""The conversation router: the one place that looks at a customer's message and
chooses to answer, offer choices, hand over, or stay silent while a person owns it.

It is an ordered chain of small handlers; the first that handles the turn wins. The
router asks ``knowledge`` for answers and ``escalation`` for handoff decisions, and
writes nothing itself: every change goes through a helpdesk action.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omnidesk.bot.router.texts import (
    CLARIFY_TEXT,
    EMPTY_TEXT,
    ESCALATED_UNSURE_TEXT,
    FEEDBACK_BUTTONS,
    GREETING_TEXT,
    HANDOFF_TEXT,
    HELPFUL_TEXT,
    NOT_HELPFUL_TEXT,
    TALK_TO_PERSON,
    UNSURE_NO_SUGGESTION_TEXT,
    UNSURE_TEXT,
    article_summary,
    button,
    citation,
    is_greeting,
)
from omnidesk.bot.router.turn import Handler, Prepared, Turn, inbound_payload
from omnidesk.channels import Action, InboundMessage
from omnidesk.config import EscalationSettings
from omnidesk.escalation import (
    Decision,
    Feedback,
    Notice,
    RuleBook,
    Signal,
    asks_for_human,
    customer_turn,
    decide,
    hand_off,
    handoff_notice,
)
from omnidesk.helpdesk import (
    HUMAN_OWNED,
    Author,
    ChannelIdentity,
    Contact,
    Conversation,
    ConversationState,
    actions,
)
from omnidesk.knowledge import ArticleStatus, KnowledgeBase, markdown_to_text

log = logging.getLogger(__name__)


FEEDBACK: dict[str, Feedback] = {Action.HELPFUL: "helpful", Action.NOT_HELPFUL: "not_helpful"}


class Router:
    """Decides every turn; see the module docstring."""

    def __init__(
        self,
        kb: KnowledgeBase,
        rules: RuleBook,
        sessionmaker: async_sessionmaker[AsyncSession],
        escalation: EscalationSettings | None = None,
    ) -> None:
        self._kb = kb
        self.rules = rules
        self._escalation = escalation or EscalationSettings()
        self._sessionmaker = sessionmaker
        self.handlers: Sequence[Handler] = (
            self._automated,
            self._empty,
            self._feedback,
            self._human_owned,
            self._handoff_rules,
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
        if inbound.action or not text or inbound.described or asks_for_human(text):
            return Prepared()
        state, previous = await self._thread_state(inbound)
        if state in HUMAN_OWNED:
            # The bot stays silent while a person owns the thread, so searching would only
            # delay the message on its way to the agent's console.
            return Prepared(skipped=True)
        return await self._search(text, previous)

    async def _search(self, text: str, previous: str | None) -> Prepared:
        answer = await self._kb.answer(text, previous_question=previous)
        return Prepared(answer=answer, question=text)

    async def handle(
        self, session: AsyncSession, inbound: InboundMessage, prepared: Prepared
    ) -> Turn | None:
        """Record the message and run the handler chain, inside the caller's transaction;
        None for the deletion of a message that was never stored."""
        if inbound.replaces is not None:
            revised = await self._revise(session, inbound, prepared)
            if revised is not None or inbound.deleted:
                return revised
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
        recorded = await actions.record_message(
            session,
            conversation,
            Author.CONTACT,
            inbound.text,
            author_name=inbound.sender_name,
            payload=inbound_payload(inbound),
            external_id=inbound.dedupe_key,
        )
        if prepared.skipped and conversation.state not in HUMAN_OWNED:
            # The person let go between the look and this transaction (rare): the bot
            # answers again, so it needs the search it skipped.
            prepared = await self._search(inbound.text.strip(), conversation.last_question)
        turn = Turn(session, inbound, conversation, recorded, prepared)
        # Ratings, their comments, an email left for us and reopening after resolution
        # are escalation's to read; whatever it handles ends the turn.
        outcome = await customer_turn(
            session,
            conversation,
            text=inbound.text,
            action=inbound.action,
            automated=inbound.automated,
            settings=self._escalation,
        )
        if outcome.handled:
            if outcome.notice is not None:
                await self._notify(turn, outcome.notice)
            return turn
        for handler in self.handlers:
            if await handler(turn):
                break
        return turn

    async def _revise(
        self, session: AsyncSession, inbound: InboundMessage, prepared: Prepared
    ) -> Turn | None:
        """A customer's edit or deletion of a stored message. It changes the record; it
        is not a new question, so the bot does not answer again (its answer to the first
        wording stays on record). None when no such message is stored."""
        revised = await actions.revise_inbound_message(
            session,
            inbound.channel,
            inbound.sender_id,
            str(inbound.replaces),
            text=inbound.text,
            deleted=inbound.deleted,
            attachments=inbound_payload(inbound).get("attachments"),
            at=inbound.received_at,
        )
        if revised is None:
            return None
        conversation = await session.get_one(Conversation, revised.conversation_id)
        return Turn(session, inbound, conversation, revised, prepared)

    # -- handlers, in order ------------------------------------------------------------

    async def _automated(self, turn: Turn) -> bool:
        # Auto-replies and bounces are kept on the timeline but never answered.
        return turn.inbound.automated

    async def _empty(self, turn: Turn) -> bool:
        """Nothing to read: no words, or only our label for a sticker, place or voice
        message. A person sees it; the bot asks for words unless a person owns it."""
        if turn.inbound.action or (turn.inbound.text.strip() and not turn.inbound.described):
            return False
        if turn.conversation.state in HUMAN_OWNED or turn.inbound.attachments:
            return True
        await turn.reply(Author.BOT, EMPTY_TEXT)
        return True

    async def _feedback(self, turn: Turn) -> bool:
        feedback = FEEDBACK.get(turn.inbound.action or "")
        if feedback is None:
            return False
        raw_id = turn.inbound.raw.get("message_id")
        await actions.record_feedback(
            turn.session,
            turn.conversation,
            feedback,
            message_id=raw_id if isinstance(raw_id, int) else None,
            external_id=turn.inbound.reply_to,
        )
        if turn.conversation.state in HUMAN_OWNED:
            return True
        decision = await self._ask(turn, feedback=feedback)
        if decision.handoff:
            await self._hand_off(turn, decision, NOT_HELPFUL_TEXT)
        else:
            await turn.reply(Author.BOT, HELPFUL_TEXT)
        return True

    async def _human_owned(self, turn: Turn) -> bool:
        # A person owns the conversation: the bot keeps quiet.
        return turn.conversation.state in HUMAN_OWNED

    async def _handoff_rules(self, turn: Turn) -> bool:
        # The customer asks for a person, or a rule on keywords, attributes or the
        # channel says a person should take it.
        decision = await self._ask(turn)
        if not decision.handoff:
            return False
        await self._hand_off(turn, decision, HANDOFF_TEXT)
        return True

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
        actions.note_answer(turn.conversation, turn.prepared.question)
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
        actions.note_answer(turn.conversation, turn.prepared.question)
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
        confidence = answer.confidence if answer else None
        streak = actions.note_unsure(
            turn.session,
            turn.conversation,
            turn.inbound.text,
            question=turn.prepared.question,
            confidence=confidence,
        )
        decision = await self._ask(turn, unsure_streak=streak)
        if decision.handoff:
            await self._hand_off(turn, decision, ESCALATED_UNSURE_TEXT)
            return True
        suggestions = list(answer.suggestions) if answer else []
        buttons = [button(hit.title, f"{Action.ARTICLE_PREFIX}{hit.slug}") for hit in suggestions]
        buttons.append(button(TALK_TO_PERSON, Action.HUMAN))
        await turn.reply(
            Author.BOT,
            UNSURE_TEXT if suggestions else UNSURE_NO_SUGGESTION_TEXT,
            buttons=buttons,
            confidence=round(confidence, 4) if confidence is not None else None,
        )
        return True

    # -- helpers -----------------------------------------------------------------------

    async def _ask(
        self, turn: Turn, *, unsure_streak: int = 0, feedback: Feedback | None = None
    ) -> Decision:
        """Turn this turn into a signal and let escalation decide."""
        contact = await turn.session.get_one(Contact, turn.conversation.contact_id)
        signal = Signal(
            text=turn.inbound.text,
            channel=turn.inbound.channel,
            at=turn.inbound.received_at,
            action=turn.inbound.action,
            unsure_streak=unsure_streak,
            feedback=feedback,
            contact_attributes=dict(contact.attributes or {}),
        )
        return decide(signal, await self.rules.rules(turn.session))

    async def _hand_off(self, turn: Turn, decision: Decision, text: str) -> None:
        subject = turn.conversation.last_question or turn.inbound.text or "Conversation"
        ticket = await hand_off(turn.session, turn.conversation, decision, subject=subject)
        # ``text`` is the default wording; the notice says when a person will answer.
        notice = await handoff_notice(
            turn.session, turn.conversation, ticket, reason=decision.reason
        )
        await self._notify(turn, notice, handoff_reason=decision.reason)

    async def _notify(self, turn: Turn, notice: Notice, **extra: Any) -> None:
        await turn.reply(
            Author.SYSTEM,
            notice.text,
            buttons=list(notice.buttons) or None,
            **notice.payload,
            **extra,
        )

    async def _thread_state(
        self, inbound: InboundMessage
    ) -> tuple[ConversationState | None, str | None]:
        """The state of the sender's open conversation on this thread, and the question it
        last answered while the bot had it (the context for a follow-up)."""
        async with self._sessionmaker() as session:
            row = (
                await session.execute(
                    select(Conversation.state, Conversation.last_question)
                    .join(ChannelIdentity, ChannelIdentity.id == Conversation.identity_id)
                    .where(
                        ChannelIdentity.channel == inbound.channel,
                        ChannelIdentity.external_id == inbound.sender_id,
                        Conversation.thread_key == inbound.thread_key,
                        Conversation.state != ConversationState.CLOSED,
                    )
                    .order_by(Conversation.id.desc())
                    .limit(1)
                )
            ).first()
        if row is None:
            return None, None
        state, last_question = ConversationState(row[0]), row[1]
        return state, last_question if state == ConversationState.BOT else None
