"""What the bot could not answer, read from the timeline: questions it was unsure about,
answers marked not helpful, and conversations handed to a person."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.helpdesk.models import Ticket, TimelineEvent

GAP_EVENT_KINDS = ("unanswered", "feedback", "escalated")
MAX_QUESTION_CHARS = 500


@dataclass(slots=True)
class AskedQuestion:
    """One question in one conversation, with every signal that it went unanswered."""

    text: str
    conversation_id: int | None
    last_seen: dt.datetime
    signals: dict[str, int] = field(default_factory=dict)  # unanswered, not_helpful, escalated


def normalise_question(text: str) -> str:
    return " ".join(text.lower().split())


async def unanswered_questions(
    session: AsyncSession,
    *,
    since: dt.datetime,
    until: dt.datetime | None = None,
    limit: int = 2000,
    ignore: Callable[[str], bool] | None = None,
) -> list[AskedQuestion]:
    """Questions of the newest ``limit`` gap events since ``since`` (and before
    ``until`` when given), newest first.

    One entry per conversation and question: an unsure answer that later escalated is
    one question with two signals. An escalation contributes its ticket's subject;
    ``ignore`` drops texts that are no question (the customer's "agent please").
    """
    query = select(TimelineEvent).where(
        TimelineEvent.kind.in_(GAP_EVENT_KINDS), TimelineEvent.created_at >= since
    )
    if until is not None:
        query = query.where(TimelineEvent.created_at < until)
    events = (
        await session.scalars(
            query.order_by(TimelineEvent.created_at.desc(), TimelineEvent.id.desc()).limit(limit)
        )
    ).all()
    ticket_ids = [
        int(e.data["ticket_id"])
        for e in events
        if e.kind == "escalated" and isinstance(e.data.get("ticket_id"), int)
    ]
    subjects: dict[int, str] = {}
    if ticket_ids:
        rows = await session.execute(
            select(Ticket.id, Ticket.subject).where(Ticket.id.in_(ticket_ids))
        )
        subjects = {int(i): s for i, s in rows.tuples()}

    asked: dict[tuple[int | None, str], AskedQuestion] = {}
    for event in events:
        signal, text = _signal(event, subjects)
        text = " ".join((text or "").split())[:MAX_QUESTION_CHARS]
        if not signal or not text or (ignore is not None and ignore(text)):
            continue
        key = (event.conversation_id, normalise_question(text))
        entry = asked.get(key)
        if entry is None:
            entry = asked[key] = AskedQuestion(text, event.conversation_id, event.created_at)
        entry.signals[signal] = entry.signals.get(signal, 0) + 1
    return list(asked.values())


def _signal(event: TimelineEvent, subjects: dict[int, str]) -> tuple[str | None, str | None]:
    data = event.data or {}
    if event.kind == "unanswered":
        return "unanswered", _str(data.get("question"))
    if event.kind == "feedback":
        if data.get("helpful") is False:
            return "not_helpful", _str(data.get("question"))
        return None, None
    ticket_id = data.get("ticket_id")
    return "escalated", subjects.get(ticket_id) if isinstance(ticket_id, int) else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class GapTopic:
    """Questions about one thing: how often asked, how, and a few examples."""

    id: str
    title: str
    count: int
    examples: tuple[str, ...]
    questions: tuple[str, ...]  # every distinct wording, most central first
    signals: dict[str, int]
    last_seen: dt.datetime

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "count": self.count,
            "examples": list(self.examples),
            "signals": self.signals,
            "last_seen": self.last_seen.isoformat(),
        }


def topic_id(central_question: str) -> str:
    """A short id of a topic, stable while its central question stays the same."""
    digest = hashlib.sha256(normalise_question(central_question).encode("utf-8"))
    return digest.hexdigest()[:12]


def build_topics(
    asked: Sequence[AskedQuestion],
    wordings: Sequence[str],
    groups: Sequence[Sequence[int]],
    *,
    max_examples: int = 5,
) -> list[GapTopic]:
    """Topics from groups of distinct ``wordings`` (indices), biggest first.

    ``count`` is how many times a topic was asked (one per conversation and question).
    """
    by_wording: dict[str, list[AskedQuestion]] = {}
    for entry in asked:
        by_wording.setdefault(normalise_question(entry.text), []).append(entry)
    topics: list[GapTopic] = []
    for members in groups:
        texts = [wordings[i] for i in members]
        entries = [e for t in texts for e in by_wording.get(normalise_question(t), [])]
        if not entries:
            continue
        signals: dict[str, int] = {}
        for entry in entries:
            for name, n in entry.signals.items():
                signals[name] = signals.get(name, 0) + n
        topics.append(
            GapTopic(
                id=topic_id(texts[0]),
                title=texts[0],
                count=len(entries),
                examples=tuple(texts[:max_examples]),
                questions=tuple(texts),
                signals=signals,
                last_seen=max(e.last_seen for e in entries),
            )
        )
    topics.sort(key=lambda t: (-t.count, -t.last_seen.timestamp()))
    return topics


def distinct_wordings(asked: Sequence[AskedQuestion]) -> list[str]:
    """Each question once (ignoring case and spacing), in first-seen order."""
    seen: dict[str, str] = {}
    for entry in asked:
        seen.setdefault(normalise_question(entry.text), entry.text)
    return list(seen.values())
