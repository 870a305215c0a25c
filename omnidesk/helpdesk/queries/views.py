"""The agent's conversation views (mine, unassigned, my teams, all), their filters and
their counts."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.helpdesk.actor import Actor
from omnidesk.helpdesk.models import (
    HUMAN_OWNED,
    Conversation,
    ConversationLabel,
    TeamMember,
)
from omnidesk.helpdesk.queries.conversations import summaries

MAX_LIST = 200


class View(enum.StrEnum):
    MINE = "mine"
    UNASSIGNED = "unassigned"
    TEAMS = "teams"
    ALL = "all"


# ``open``: the states a person works in; ``any``: no state filter.
OPEN, ANY = "open", "any"


@dataclass(frozen=True, slots=True)
class Filters:
    """What narrows a view; ``None`` leaves a field unfiltered. ``state`` is a
    conversation state, ``open`` or ``any``; ``assignee_id`` 0 means nobody."""

    state: str | None = None
    channel: str | None = None
    priority: str | None = None
    label: str | None = None
    assignee_id: int | None = None
    team_id: int | None = None


async def team_ids(session: AsyncSession, agent_id: int | None) -> list[int]:
    if agent_id is None:
        return []
    rows = await session.scalars(select(TeamMember.team_id).where(TeamMember.agent_id == agent_id))
    return list(rows.all())


def _in_view(query: Select[Any], view: View, actor: Actor, teams: list[int]) -> Select[Any]:
    if view == View.MINE:
        if actor.agent_id is not None:
            return query.where(Conversation.assignee_id == actor.agent_id)
        # An actor without an account (a person answering from Slack) is known by name.
        return query.where(Conversation.assignee == actor.name)
    if view == View.UNASSIGNED:
        return query.where(Conversation.assignee_id.is_(None), Conversation.assignee.is_(None))
    if view == View.TEAMS:
        return query.where(Conversation.team_id.in_(teams))
    return query


def _default_state(view: View) -> str:
    return ANY if view == View.ALL else OPEN


def _filtered(query: Select[Any], view: View, filters: Filters) -> Select[Any]:
    state = filters.state or _default_state(view)
    if state == OPEN:
        query = query.where(Conversation.state.in_([str(s) for s in HUMAN_OWNED]))
    elif state != ANY:
        query = query.where(Conversation.state == state)
    if filters.channel:
        query = query.where(Conversation.channel == filters.channel)
    if filters.priority:
        query = query.where(Conversation.priority == filters.priority)
    if filters.label:
        query = query.where(
            Conversation.id.in_(
                select(ConversationLabel.conversation_id).where(
                    ConversationLabel.label == filters.label
                )
            )
        )
    if filters.assignee_id == 0:
        query = query.where(Conversation.assignee_id.is_(None))
    elif filters.assignee_id is not None:
        query = query.where(Conversation.assignee_id == filters.assignee_id)
    if filters.team_id is not None:
        query = query.where(Conversation.team_id == filters.team_id)
    return query


async def list_view(
    session: AsyncSession,
    view: View,
    actor: Actor,
    filters: Filters = Filters(),
    limit: int = 100,
) -> list[dict[str, Any]]:
    """The view's conversations, most recently updated first, as summaries with the
    caller's unread counts."""
    teams = await team_ids(session, actor.agent_id)
    query = _filtered(_in_view(select(Conversation), view, actor, teams), view, filters)
    query = query.order_by(Conversation.updated_at.desc(), Conversation.id.desc())
    rows = (await session.scalars(query.limit(max(1, min(limit, MAX_LIST))))).all()
    return await summaries(session, rows, actor.agent_id)


async def view_counts(
    session: AsyncSession,
    actor: Actor,
    filters: Filters = Filters(),
) -> dict[str, int]:
    """How many conversations each view holds under the same filters."""
    teams = await team_ids(session, actor.agent_id)
    counts: dict[str, int] = {}
    for view in View:
        query = _filtered(
            _in_view(select(func.count()).select_from(Conversation), view, actor, teams),
            view,
            filters,
        )
        counts[str(view)] = int(await session.scalar(query) or 0)
    return counts
