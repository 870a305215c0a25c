"""The surveys asked, by when they were sent (``survey_sends``): how many CSAT questions
went out and were answered (the CSAT response rate), and the NPS: the share of
promoters (9-10) less the share of detractors (0-6) among the answers, as a number from
-100 to 100, with the counts, the response rate and how the 0-10 answers spread. Per
period, team, agent (the ticket's assignee), channel and label like every figure."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.helpdesk import Conversation, Ticket
from omnidesk.helpdesk.models import SurveySend
from omnidesk.reports.scope import Scope, fetch

if TYPE_CHECKING:
    from omnidesk.reports.figures import Rows

NPS_SCORES = range(11)
PROMOTER = 9  # 9 and 10
DETRACTOR = 6  # 0 to 6; 7 and 8 are passives


async def add_surveys(session: AsyncSession, scope: Scope, rows: Rows) -> None:
    """Each row's CSAT questions asked and answered, NPS surveys sent and answered."""
    moment, agent = SurveySend.sent_at, Ticket.assignee_id
    answered = case((SurveySend.answered_at.is_not(None), 1), else_=0)
    stmt = (
        select(scope.key(moment, agent), SurveySend.kind, SurveySend.score, answered, func.count())
        .select_from(SurveySend)
        .outerjoin(Ticket, Ticket.id == SurveySend.ticket_id)
    )
    link = Conversation.id == SurveySend.conversation_id
    stmt = scope.narrow(stmt, moment, agent, link).group_by(
        *(literal_column(str(n)) for n in range(1, 5))
    )
    for raw, kind, score, done, n in await fetch(session, stmt):
        row = rows[scope.grouping.label(raw)]
        if kind == "csat":
            row.csat_asked += n
            row.csat_answered += n if done else 0
        elif kind == "nps":
            row.nps_sent += n
            if done and score is not None and score in NPS_SCORES:
                row.nps[int(score)] += n


def nps_summary(scores: Counter[int], sent: int) -> dict[str, Any]:
    """The NPS of ``scores`` (answers counted by score) out of ``sent`` surveys."""
    answered = sum(scores.values())
    promoters = sum(n for s, n in scores.items() if s >= PROMOTER)
    detractors = sum(n for s, n in scores.items() if s <= DETRACTOR)
    return {
        "score": round(100 * (promoters - detractors) / answered, 1) if answered else None,
        "promoters": promoters,
        "passives": answered - promoters - detractors,
        "detractors": detractors,
        "answered": answered,
        "sent": sent,
        "response_rate": round(answered / sent, 4) if sent else None,
        "distribution": {str(s): scores.get(s, 0) for s in NPS_SCORES},
    }
