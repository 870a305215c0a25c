"""The rules in force (database, then TOML, then built-in; cached until an admin changes
them) and a handoff carried out through helpdesk actions with its reason recorded."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from omnidesk.config import EscalationRuleSettings, EscalationSettings
from omnidesk.escalation import RULES_CHANGED, Decision, RuleBook, Signal, decide, hand_off
from omnidesk.helpdesk import (
    ConversationState,
    EscalationRule,
    Event,
    Priority,
    Team,
    Ticket,
    TimelineEvent,
    actions,
    unit_of_work,
)
from tests.conftest import Database


async def test_rule_book_order_and_refresh(db: Database) -> None:
    async with unit_of_work(db.sessionmaker) as session:
        team = Team(name="Billing")
        session.add(team)
        await session.flush()
        session.add_all(
            [
                EscalationRule(
                    name="refunds",
                    trigger="keyword",
                    condition={"keywords": ["refund"]},
                    reason="billing",
                    priority="high",
                    team_id=team.id,
                    position=2,
                ),
                EscalationRule(
                    name="vip",
                    trigger="attribute",
                    condition={"attribute": "vip", "equals": True},
                    reason="vip",
                    position=1,
                ),
                EscalationRule(name="off", trigger="channel", enabled=False, reason="off"),
                EscalationRule(name="typo", trigger="keywrod", reason="never"),
            ]
        )
    settings = EscalationSettings(
        rules=[EscalationRuleSettings(trigger="channel", channels=["email"], team="Billing")]
    )
    book = RuleBook(settings)
    async with db.sessionmaker() as session:
        rules = await book.rules(session)
    assert [r.reason for r in rules] == [
        "vip",
        "billing",
        "channel",
        "customer_request",
        "not_helpful",
        "low_confidence",
    ]
    assert rules[1].team_id == team.id and rules[1].priority == Priority.HIGH
    assert rules[2].team_id == team.id
    at = dt.datetime.now(dt.UTC)
    decision = decide(Signal("I want a refund", "webchat", at), rules)
    assert decision == Decision(True, "billing", Priority.HIGH, team.id, rules[1].rule_id)

    async with unit_of_work(db.sessionmaker) as session:
        session.add(
            EscalationRule(name="new", trigger="channel", condition={"channels": ["slack"]})
        )
    async with db.sessionmaker() as session:
        assert len(await book.rules(session)) == 6  # cached
        await book.on_event(Event("message"))
        assert len(await book.rules(session)) == 6
        await book.on_event(Event(RULES_CHANGED))
        assert len(await book.rules(session)) == 7


async def test_hand_off_records_reason_priority_and_team(db: Database) -> None:
    async with unit_of_work(db.sessionmaker) as session:
        team = Team(name="VIP desk")
        session.add(team)
        identity = await actions.resolve_identity(session, "webchat", "v1")
        conversation = await actions.current_conversation(session, identity)
        conversation.last_question = "where is my parcel"
        await session.flush()
        ticket = await hand_off(
            session,
            conversation,
            Decision(True, "vip", Priority.URGENT, team.id, None),
        )
    async with db.sessionmaker() as session:
        stored = await session.get_one(Ticket, ticket.id)
        assert (stored.reason, stored.priority, stored.team_id) == ("vip", "urgent", team.id)
        assert stored.subject == "where is my parcel"
        escalated = await session.scalar(
            select(TimelineEvent).where(TimelineEvent.kind == "escalated")
        )
    assert escalated is not None
    assert escalated.data == {
        "reason": "vip",
        "ticket_id": ticket.id,
        "priority": "urgent",
        "team_id": team.id,
        "rule_id": None,
    }
    assert conversation.state == ConversationState.QUEUED
    assert (conversation.priority, conversation.team_id) == ("urgent", team.id)
    with pytest.raises(ValueError):
        async with unit_of_work(db.sessionmaker) as session:
            await hand_off(session, conversation, Decision(False))
