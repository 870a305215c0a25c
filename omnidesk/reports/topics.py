"""What the bot could not settle over a report's range: the top topics of unanswered
questions (grouped as the Gaps view groups them, with the same topic ids, so the
console links each to Gaps) and the articles whose answer most often ended in a
handoff (the last article the bot cited in a conversation before it was handed over)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import case, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.helpdesk import Author, Conversation, Message, TimelineEvent, gaps, utcnow
from omnidesk.reports.buckets import Grouping, has_key
from omnidesk.reports.params import ReportQuery
from omnidesk.reports.report import prepare
from omnidesk.reports.scope import Scope, fetch

GroupQuestions = Callable[[Sequence[str]], Awaitable[list[list[int]]]]
MAX_GAP_EVENTS = 5000
TOP = 10


async def unanswered_topics(
    session: AsyncSession,
    query: ReportQuery,
    group_questions: GroupQuestions,
    *,
    not_a_question: Callable[[str], bool] | None = None,
    top: int = TOP,
) -> list[dict[str, Any]]:
    """The ``top`` topics of questions the bot did not answer in the range."""
    asked = await gaps.unanswered_questions(
        session, since=query.start, until=query.end, limit=MAX_GAP_EVENTS, ignore=not_a_question
    )
    wordings = gaps.distinct_wordings(asked)
    groups = await group_questions(wordings) if wordings else []
    return [t.to_dict() for t in gaps.build_topics(asked, wordings, groups)[:top]]


async def handoff_articles(
    session: AsyncSession, query: ReportQuery, *, top: int = TOP
) -> list[dict[str, Any]]:
    """The ``top`` articles most often cited last before a handoff in the range."""
    dialect = await prepare(session)
    scope = Scope(query, Grouping("channel", query.zone, dialect), dialect, utcnow())
    mine = (Message.conversation_id == TimelineEvent.conversation_id, Message.author == Author.BOT)
    # The conversation's last cited answer (kept by record_message) when it came before
    # the handoff; only when the bot answered again later are older answers searched.
    citation = Message.payload[("citations", 0)].as_string()
    latest = select(citation).where(*mine, Message.created_at == Conversation.last_answer_at)
    earlier = select(citation).where(
        *mine,
        Message.created_at <= TimelineEvent.created_at,
        has_key(Message.payload, "citations", dialect),
    )
    answered = Conversation.last_answer_at
    cited = case(
        (answered.is_(None), None),
        (answered <= TimelineEvent.created_at, latest.limit(1).scalar_subquery()),
        else_=earlier.order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
        .scalar_subquery(),
    )
    handoffs = (
        select(cited.label("citation"))
        .select_from(TimelineEvent)
        .join(Conversation, Conversation.id == TimelineEvent.conversation_id)
        .where(TimelineEvent.kind == "escalated")
    )
    found = scope.narrow(handoffs, TimelineEvent.created_at, Conversation.assignee_id)
    last = found.subquery()
    # Counted in the database by the cited article's JSON: a few distinct rows return.
    stmt = select(last.c.citation, func.count()).group_by(literal_column("1"))
    counts: Counter[str] = Counter()
    shown: dict[str, dict[str, Any]] = {}
    for raw, n in await fetch(session, stmt):
        first = _citation(raw)
        if first is not None:
            counts[first["slug"]] += n
            shown.setdefault(first["slug"], first)
    return [
        {
            "slug": slug,
            "title": shown[slug].get("title") or slug,
            "url": shown[slug].get("url"),
            "handoffs": n,
        }
        for slug, n in counts.most_common(top)
    ]


def _citation(raw: Any) -> dict[str, Any] | None:
    """A citation as stored (JSON text), if it names an article."""
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return None
    if isinstance(value, dict) and isinstance(value.get("slug"), str):
        return value
    return None
