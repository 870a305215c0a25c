"""A known month of support in Berlin (March 2026, across the change to summer time on
Sunday 29 March), written as the service writes its rows (the conversation's message facts through
``actions.count_message``, as ``record_message`` keeps them), with times set by hand so
each figure can be worked out on paper. Times below are UTC; Berlin is UTC+1 until
29 March 01:00 UTC and UTC+2 after. The team works Monday to Friday 09:00-17:00 Berlin.

See ``tests/reports/test_figures.py`` for the figures worked from it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.helpdesk import ChannelIdentity, Contact, Conversation, Message, Ticket, actions
from omnidesk.helpdesk import TimelineEvent as Event
from omnidesk.helpdesk.models import Agent, AgentRole, BusinessCalendar, ConversationLabel, Team

NOW = dt.datetime(2026, 3, 31, 12, 0, tzinfo=dt.UTC)
CITED = {"citations": [{"slug": "refunds", "title": "Refunds", "url": "/kb/refunds"}]}
WEEKDAYS_9_TO_5 = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, second, tzinfo=dt.UTC)


@dataclass
class History:
    team_id: int = 0
    agent_a: int = 0
    agent_b: int = 0
    conversations: dict[str, int] = field(default_factory=dict)


class Writer:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.n = 0

    async def conversation(
        self, name: str, created: dt.datetime, *, channel: str = "webchat", **fields: Any
    ) -> Conversation:
        self.n += 1
        contact = Contact(name=f"Customer {name}", created_at=created)
        self.session.add(contact)
        await self.session.flush()
        identity = ChannelIdentity(contact_id=contact.id, channel=channel, external_id=name)
        self.session.add(identity)
        await self.session.flush()
        conversation = Conversation(
            contact_id=contact.id,
            identity_id=identity.id,
            channel=channel,
            created_at=created,
            updated_at=created,
            **fields,
        )
        self.session.add(conversation)
        await self.session.flush()
        return conversation

    def message(
        self,
        c: Conversation,
        author: str,
        when: dt.datetime,
        *,
        by: int | None = None,
        private: bool = False,
        **payload: Any,
    ) -> None:
        if not private:  # the facts record_message keeps (a note is no message)
            actions.count_message(c, author, payload, when)
        self.session.add(
            Message(
                conversation_id=c.id,
                author=author,
                author_id=by,
                private=private,
                text=f"{author} at {when.isoformat()}",
                payload=payload,
                created_at=when,
            )
        )

    def event(self, c: Conversation, kind: str, when: dt.datetime, **data: Any) -> None:
        self.session.add(
            Event(
                contact_id=c.contact_id, conversation_id=c.id, kind=kind, data=data, created_at=when
            )
        )

    async def ticket(
        self, c: Conversation, created: dt.datetime, reason: str, **fields: Any
    ) -> Ticket:
        ticket = Ticket(
            conversation_id=c.id,
            contact_id=c.contact_id,
            subject=f"{reason} question",
            reason=reason,
            team_id=c.team_id,
            assignee_id=c.assignee_id,
            created_at=created,
            **fields,
        )
        self.session.add(ticket)
        await self.session.flush()
        self.event(c, "escalated", created, reason=reason, ticket_id=ticket.id, team_id=c.team_id)
        return ticket


async def write_history(session: AsyncSession) -> History:
    """The month; see the comments for what each conversation shows."""
    calendar = BusinessCalendar(
        name="Berlin office", timezone="Europe/Berlin", weekly=WEEKDAYS_9_TO_5
    )
    session.add(calendar)
    await session.flush()
    team = Team(name="Support", calendar_id=calendar.id)
    session.add(team)
    a = Agent(name="Ada", email="ada@x.test", password_hash="-", role=AgentRole.AGENT)
    b = Agent(name="Bo", email="bo@x.test", password_hash="-", role=AgentRole.AGENT)
    session.add_all([a, b])
    await session.flush()
    h = History(team.id, a.id, b.id)
    w = Writer(session)
    mine = {"team_id": team.id}

    # 1: Mon 2 Mar, 09:00 Berlin. Ada replies at 11:30 Berlin (150 business minutes,
    # after the 60 minute target: missed), resolves Tue 10:00 Berlin (480 + 60 = 540,
    # within its target: met). Rated 5. Labels: billing.
    c1 = await w.conversation("c1", at(2, 8), assignee_id=a.id, **mine)
    w.message(c1, "contact", at(2, 8))
    w.message(c1, "bot", at(2, 8, 0, 5))
    await w.ticket(
        c1, at(2, 8), "customer_request",
        first_response_at=at(2, 10, 30), resolved_at=at(3, 9), state="resolved",
        first_response_due_at=at(2, 9), resolution_due_at=at(3, 15),
        csat_score=5, csat_at=at(3, 9, 5),
    )  # fmt: skip
    w.message(c1, "agent", at(2, 10, 30), by=a.id)
    w.message(c1, "agent", at(2, 10, 31), by=a.id, private=True)  # a note: not a message
    session.add(ConversationLabel(conversation_id=c1.id, label="billing"))

    # 2: Fri 6 Mar 16:00 Berlin, email. Bo answered Mon 09:30 and resolved 11:00 (rated
    # 3); the customer wrote again Tue 10 Mar 09:00 Berlin and the ticket reopened with
    # fresh due times. Measured from the reopen: Bo's reply at 10:00 (60 minutes, met)
    # and the resolution at 13:00 (240 minutes, met); the first, pre-reopen reply (90
    # business minutes) no longer counts. Labels: billing, vip.
    c2 = await w.conversation("c2", at(6, 15), channel="email", assignee_id=b.id, **mine)
    w.message(c2, "contact", at(6, 15))
    w.message(c2, "bot", at(6, 15, 0, 5))
    await w.ticket(
        c2, at(6, 15), "keyword",
        first_response_at=at(9, 8, 30), reopened_at=at(10, 8), reopen_count=1,
        resolved_at=at(10, 12), state="resolved",
        first_response_due_at=at(10, 9), resolution_due_at=at(10, 16),
        csat_score=3, csat_at=at(9, 10, 5),
    )  # fmt: skip
    w.message(c2, "agent", at(9, 8, 30), by=b.id)
    w.message(c2, "contact", at(10, 8))
    w.message(c2, "bot", at(10, 8, 0, 5))
    w.message(c2, "agent", at(10, 9), by=b.id)
    for label in ("billing", "vip"):
        session.add(ConversationLabel(conversation_id=c2.id, label=label))

    # 3: the bot answered and the customer said "helpful": deflected, confirmed.
    c3 = await w.conversation("c3", at(3, 10))
    w.message(c3, "contact", at(3, 10))
    w.message(c3, "bot", at(3, 10, 0, 5), **CITED)
    w.event(c3, "feedback", at(3, 10, 1), helpful=True, question="refund?")

    # 4: answered; the customer came back 26 hours later: deflected, assumed.
    c4 = await w.conversation("c4", at(4, 10))
    w.message(c4, "contact", at(4, 10))
    w.message(c4, "bot", at(4, 10, 0, 5), **CITED)
    w.message(c4, "contact", at(5, 12))

    # 5: answered, but the customer wrote again within the hour and was handed over
    # (unsure) at 12:31 Berlin; Ada replied 13:00 (29 minutes), resolved 14:00 (89
    # minutes). No SLA clock, no rating.
    c5 = await w.conversation("c5", at(4, 11), assignee_id=a.id, **mine)
    w.message(c5, "contact", at(4, 11))
    w.message(c5, "bot", at(4, 11, 0, 5), **CITED)
    w.message(c5, "contact", at(4, 11, 30))
    await w.ticket(
        c5, at(4, 11, 31), "unsure",
        first_response_at=at(4, 12), resolved_at=at(4, 13), state="resolved",
    )  # fmt: skip
    w.message(c5, "agent", at(4, 12), by=a.id)

    # 6: telegram; "not helpful", handed over, never answered: both targets missed.
    c6 = await w.conversation("c6", at(4, 12), channel="telegram", **mine)
    w.message(c6, "contact", at(4, 12))
    w.message(c6, "bot", at(4, 12, 0, 5), **CITED)
    w.event(c6, "feedback", at(4, 12, 1), helpful=False, question="refund?")
    await w.ticket(
        c6, at(4, 12, 1), "not_helpful",
        first_response_due_at=at(4, 13, 1), resolution_due_at=at(5, 12, 1),
    )  # fmt: skip

    # 9-11: just a message each, around the DST change: 9 at 00:30 Berlin on Sun 29
    # (winter time), 11 at 23:30 Berlin that Sunday, 10 at 00:30 Berlin on Mon 30
    # (summer time). Berlin days: 29th has two, 30th one (UTC days would say 28th one,
    # 29th two).
    for name, when in (("c9", at(28, 23, 30)), ("c10", at(29, 22, 30)), ("c11", at(29, 21, 30))):
        c = await w.conversation(name, when, channel="slack")
        w.message(c, "contact", when)

    # 12: answered four hours before "now": too early to call it deflected.
    c12 = await w.conversation("c12", at(31, 8))
    w.message(c12, "contact", at(31, 8))
    w.message(c12, "bot", at(31, 8, 0, 5), **CITED)

    # Outside the range (1 April Berlin): not counted anywhere.
    late = await w.conversation("late", dt.datetime(2026, 3, 31, 22, 30, tzinfo=dt.UTC))
    w.message(late, "contact", dt.datetime(2026, 3, 31, 22, 30, tzinfo=dt.UTC))
    await session.flush()
    return h
