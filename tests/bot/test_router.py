"""The router's decisions, end to end through inbox, router and outbox, with the real
knowledge base and model."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from omnidesk.bot.router import EMPTY_TEXT
from omnidesk.channels import Action, InboundMessage, InboundResult
from omnidesk.config import EscalationRuleSettings
from omnidesk.escalation import RULES_CHANGED
from omnidesk.helpdesk import (
    Actor,
    Conversation,
    ConversationState,
    EscalationRule,
    InboxItem,
    InboxState,
    Message,
    Ticket,
    TimelineEvent,
    actions,
    emit,
    unit_of_work,
)
from omnidesk.knowledge import markdown_to_text
from tests.bot.conftest import Chat


async def _conversation(chat: Chat) -> Conversation:
    async with chat.services.sessionmaker() as session:
        conversation = await session.scalar(select(Conversation).order_by(Conversation.id.desc()))
        assert conversation is not None
        return conversation


async def test_answers_with_citation_and_confidence(chat: Chat) -> None:
    [reply] = await chat.say("how do I reset my password?")
    assert reply.author == "bot"
    assert reply.citations and "password" in reply.citations[0].title.lower()
    assert reply.citations[0].url.startswith(chat.services.settings.base_url() + "/kb/")
    assert reply.confidence is not None and reply.confidence > 0
    assert {b.payload for b in reply.buttons} == {Action.HELPFUL, Action.NOT_HELPFUL}
    # The bot quotes the article; it never writes an answer of its own.
    async with chat.services.sessionmaker() as session:
        from omnidesk.knowledge.models import Chunk

        texts = (await session.scalars(select(Chunk.text))).all()
    assert any(reply.text.strip()[:80] in markdown_to_text(t) for t in texts)
    assert "**" not in reply.text


async def test_a_described_sticker_or_place_is_kept_never_searched(chat: Chat) -> None:
    # "[Location ...] password reset" would match the password article if it were searched.
    label = "[Location 52.52, 13.405 password reset https://www.openstreetmap.org/]"
    _, [reply] = await chat.send(label, described=True)
    assert reply.text == EMPTY_TEXT
    assert not reply.citations
    async with chat.services.sessionmaker() as session:
        texts = (await session.scalars(select(Message.text).order_by(Message.id))).all()
    assert texts == [label, EMPTY_TEXT]


async def test_unsure_offers_articles_and_a_person(chat: Chat) -> None:
    [reply] = await chat.say("What is the capital of Mongolia?")
    assert reply.author == "bot"
    assert not reply.citations
    assert "not sure" in reply.text.lower()
    payloads = [b.payload for b in reply.buttons]
    assert payloads[-1] == Action.HUMAN
    conversation = await _conversation(chat)
    assert conversation.state == ConversationState.BOT
    assert conversation.low_confidence_streak == 1


async def test_talk_to_a_person_opens_ticket_and_silences_bot(chat: Chat) -> None:
    await chat.say("What is the capital of Mongolia?")
    [handoff] = await chat.press(Action.HUMAN, "Talk to a person")
    assert handoff.author == "system" and "person" in handoff.text
    conversation = await _conversation(chat)
    assert conversation.state == ConversationState.QUEUED
    async with chat.services.sessionmaker() as session:
        tickets = (await session.scalars(select(Ticket))).all()
        assert len(tickets) == 1 and tickets[0].reason == "customer_request"
        assert tickets[0].subject == "What is the capital of Mongolia?"
        kinds = (await session.scalars(select(TimelineEvent.kind))).all()
        assert {"ticket_opened", "escalated"} <= set(kinds)
    # While a human owns it, the bot stays silent but the message is kept.
    assert await chat.say("how do I reset my password?") == []
    async with chat.services.sessionmaker() as session:
        count = await session.scalar(
            select(func.count()).select_from(Message).where(Message.author == "contact")
        )
    assert count == 3


async def test_typed_request_for_a_human_escalates(chat: Chat) -> None:
    [reply] = await chat.say("agent please")
    assert reply.author == "system"
    assert (await _conversation(chat)).state == ConversationState.QUEUED


async def test_repeated_unsure_answers_escalate(chat: Chat) -> None:
    turns = chat.services.settings.escalation.low_confidence_turns
    for _ in range(turns - 1):
        [reply] = await chat.say("what is the capital of Mongolia")
        assert reply.author == "bot"
    [reply] = await chat.say("who won the football world cup in 1998")
    assert reply.author == "system"
    conversation = await _conversation(chat)
    assert conversation.state == ConversationState.QUEUED
    async with chat.services.sessionmaker() as session:
        ticket = await session.scalar(select(Ticket))
    assert ticket is not None and ticket.reason == "low_confidence"


async def test_agent_reply_reaches_channel_and_resolve_then_reopen(chat: Chat) -> None:
    await chat.say("I want a human")
    conversation = await _conversation(chat)
    async with unit_of_work(chat.services.sessionmaker, chat.services.bus) as session:
        conv = await session.get_one(Conversation, conversation.id)
        await actions.agent_reply(session, conv, Actor("Dana"), "Hi, Dana here. How can I help?")
    await chat.services.outbox.dispatch_ready()
    sent = chat.channel.sent[-1]
    assert (sent.author, sent.author_name, sent.text) == (
        "agent",
        "Dana",
        "Hi, Dana here. How can I help?",
    )
    assert sent.recipient_id == chat.sender
    async with unit_of_work(chat.services.sessionmaker, chat.services.bus) as session:
        conv = await session.get_one(Conversation, conversation.id)
        assert conv.state == ConversationState.ASSIGNED
        ticket = await session.scalar(select(Ticket))
        assert ticket is not None and ticket.first_response_at is not None
        await actions.resolve(session, conv, Actor("Dana"))
    while await chat.services.outbox.dispatch_ready():
        pass
    resolved, question = chat.channel.sent[-2:]
    assert "resolved" in resolved.text and len(question.buttons) == 5
    # A message within the reopen window reopens the same ticket, back with Dana; the
    # bot does not answer over her.
    [reply] = await chat.say("how do I reset my password?")
    assert reply.author == "system" and "Dana will reply here" in reply.text
    assert (await _conversation(chat)).state == ConversationState.ASSIGNED


async def test_duplicate_delivery_never_gets_a_second_reply(chat: Chat) -> None:
    result, replies = await chat.send("how do I reset my password?", dedupe_key="evt-1")
    assert result == InboundResult.ACCEPTED and len(replies) == 1
    result, replies = await chat.send("how do I reset my password?", dedupe_key="evt-1")
    assert result == InboundResult.DUPLICATE and replies == []
    async with chat.services.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(InboxItem)) == 1
        item = await session.scalar(select(InboxItem))
        assert item is not None and item.state == InboxState.DONE


async def test_not_helpful_feedback_hands_over(chat: Chat) -> None:
    await chat.say("how do I reset my password?")
    [reply] = await chat.press(Action.NOT_HELPFUL, "Not helpful")
    assert reply.author == "system"
    conversation = await _conversation(chat)
    assert conversation.state == ConversationState.QUEUED
    async with chat.services.sessionmaker() as session:
        feedback = await session.scalar(
            select(TimelineEvent).where(TimelineEvent.kind == "feedback")
        )
    assert feedback is not None and feedback.data["helpful"] is False


async def test_choosing_a_suggested_article(chat: Chat) -> None:
    [reply] = await chat.press(f"{Action.ARTICLE_PREFIX}reset-password", "Reset password")
    assert reply.citations and reply.citations[0].slug == "reset-password"
    assert reply.text


async def test_close_call_asks_which_article_is_meant(chat: Chat) -> None:
    # Two sample articles answer this about equally well (see CLARIFY_MARGIN).
    [reply] = await chat.say("you charged me after I already cancelled my plus membership")
    assert reply.author == "bot" and reply.text == "Did you mean one of these?"
    assert not reply.citations
    payloads = [b.payload for b in reply.buttons]
    assert payloads == [
        f"{Action.ARTICLE_PREFIX}subscription-refund",
        f"{Action.ARTICLE_PREFIX}failed-payment",
        Action.HUMAN,
    ]
    assert reply.buttons[-1].label == "Talk to a person"
    conversation = await _conversation(chat)
    assert conversation.low_confidence_streak == 0
    assert conversation.state == ConversationState.BOT

    [answer] = await chat.press(payloads[0], reply.buttons[0].label)
    assert answer.citations and answer.citations[0].slug == "subscription-refund"
    assert {b.payload for b in answer.buttons} == {Action.HELPFUL, Action.NOT_HELPFUL}


async def test_clear_question_gets_no_clarifying_question(chat: Chat) -> None:
    [reply] = await chat.say("how do I update my credit card")
    assert reply.citations and reply.citations[0].slug == "change-payment-method"
    assert reply.text != "Did you mean one of these?"


async def test_greeting_is_answered_without_counting_as_unsure(chat: Chat) -> None:
    [reply] = await chat.say("Hello!")
    assert reply.author == "bot" and reply.text.startswith("Hi!")
    assert (await _conversation(chat)).low_confidence_streak == 0


async def test_feedback_is_recorded_on_the_answer(chat: Chat) -> None:
    [answer] = await chat.say("how do I reset my password?")
    # An unsure reply in between is no answer: the rating goes to the one above.
    [unsure] = await chat.say("What is the capital of Mongolia?")
    assert not unsure.citations
    [reply] = await chat.press(Action.HELPFUL, "Helpful")
    assert reply.author == "bot"
    async with chat.services.sessionmaker() as session:
        feedback = await session.scalar(
            select(TimelineEvent).where(TimelineEvent.kind == "feedback")
        )
    assert feedback is not None and feedback.data["helpful"] is True
    assert feedback.data["message_id"] == answer.message_id


async def test_configured_rules_hand_over_with_their_reason(chat: Chat) -> None:
    # A TOML keyword rule, then a database rule announced by a rules_changed event.
    chat.services.settings.escalation.rules.append(
        EscalationRuleSettings(
            trigger="keyword", keywords=["lawyer"], reason="legal", priority="urgent"
        )
    )
    chat.services.rules.invalidate()
    [reply] = await chat.say("my lawyer will call you")
    assert reply.author == "system"
    conversation = await _conversation(chat)
    assert (conversation.state, conversation.priority) == (ConversationState.QUEUED, "urgent")
    async with chat.services.sessionmaker() as session:
        ticket = await session.scalar(select(Ticket))
        assert ticket is not None and (ticket.reason, ticket.priority) == ("legal", "urgent")
        handoff = await session.scalar(select(Message).where(Message.author == "system"))
        assert handoff is not None and handoff.payload["handoff_reason"] == "legal"

    async with unit_of_work(chat.services.sessionmaker, chat.services.bus) as session:
        session.add(
            EscalationRule(name="all of test", trigger="channel", condition={"channels": ["test"]})
        )
        emit(session, RULES_CHANGED)
    other = Chat(chat.services, chat.channel, "someone-else")
    [reply] = await other.say("how do I reset my password?")
    assert reply.author == "system"
    async with chat.services.sessionmaker() as session:
        event = await session.scalar(
            select(TimelineEvent)
            .where(TimelineEvent.kind == "escalated")
            .order_by(TimelineEvent.id.desc())
        )
    assert event is not None and event.data["reason"] == "channel"
    assert event.data["rule_id"] is not None


async def test_no_search_while_a_person_owns_the_thread(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb = chat.services.kb
    searched: list[str] = []
    real_answer = kb.answer

    async def counting_answer(text: str, **kwargs: Any) -> Any:
        searched.append(text)
        return await real_answer(text, **kwargs)

    monkeypatch.setattr(kb, "answer", counting_answer)
    await chat.say("agent please")
    assert await chat.say("how do I reset my password?") == []
    assert searched == []
    # The person let go after the router looked and before it wrote: the bot answers
    # again, with the search it had skipped.
    inbound = InboundMessage(
        channel=chat.channel.name,
        sender_id=chat.sender,
        dedupe_key=uuid.uuid4().hex,
        text="how do I reset my password?",
    )
    prepared = await chat.services.router.prepare(inbound)
    assert prepared.skipped and prepared.answer is None
    async with chat.services.sessionmaker() as session, session.begin():
        conversation = await session.scalar(select(Conversation).order_by(Conversation.id.desc()))
        assert conversation is not None
        conversation.state = ConversationState.BOT
    async with chat.services.sessionmaker() as session, session.begin():
        turn = await chat.services.router.handle(session, inbound, prepared)
    assert searched == ["how do I reset my password?"]
    assert turn is not None
    assert turn.prepared.answer is not None and turn.prepared.answer.kind == "answer"


async def test_feedback_on_an_older_answer_lands_on_it_and_its_question(chat: Chat) -> None:
    [first] = await chat.say("how do I reset my password?")
    [second] = await chat.say("how long does delivery take?")
    assert first.author == second.author == "bot"
    async with chat.services.sessionmaker() as session:
        answers = (
            await session.scalars(
                select(Message).where(Message.author == "bot").order_by(Message.id)
            )
        ).all()
    older = answers[0]
    await chat.services.on_message(
        InboundMessage(
            channel=chat.channel.name,
            sender_id=chat.sender,
            dedupe_key=uuid.uuid4().hex,
            text="Not helpful",
            action=Action.NOT_HELPFUL,
            raw={"message_id": older.id},
        )
    )
    await chat.services.inbox.drain()
    async with chat.services.sessionmaker() as session:
        feedback = await session.scalar(
            select(TimelineEvent).where(TimelineEvent.kind == "feedback")
        )
    assert feedback is not None
    assert feedback.data["message_id"] == older.id
    assert feedback.data["question"] == "how do I reset my password?"
    assert feedback.data["helpful"] is False
