"""Customer satisfaction, by when tickets were resolved: how many resolved tickets the
customer rated, the average score and how the 1-5 scores spread. The questions asked
(the response rate's base, since the survey throttle skips some resolutions) and the NPS
are counted from the survey sends, in ``nps``."""

from __future__ import annotations

from sqlalchemy import func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.helpdesk import Conversation, Ticket
from omnidesk.reports.figures import Rows
from omnidesk.reports.scope import Scope, fetch


async def add_csat(session: AsyncSession, scope: Scope, rows: Rows) -> None:
    moment, agent = Ticket.resolved_at, Ticket.assignee_id
    stmt = select(scope.key(moment, agent), Ticket.csat_score, func.count()).select_from(Ticket)
    link = Conversation.id == Ticket.conversation_id
    stmt = scope.narrow(stmt, moment, agent, link).group_by(
        literal_column("1"), literal_column("2")
    )
    for raw, score, n in await fetch(session, stmt):
        row = rows[scope.grouping.label(raw)]
        row.resolved += n
        if score is not None and 1 <= score <= 5:
            row.csat[int(score)] += n
