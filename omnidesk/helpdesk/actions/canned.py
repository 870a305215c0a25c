"""Canned responses: saved replies agents insert by short code, with placeholders such
as ``{{contact.name}}`` filled from the conversation. Rendering only substitutes known
names; nothing in a template is ever evaluated. Canned responses belong to no contact, so
their changes emit an event but write no timeline entry."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.helpdesk.actions.base import ActionError, audit_log, iso
from omnidesk.helpdesk.actions.tickets import open_ticket
from omnidesk.helpdesk.actor import Actor
from omnidesk.helpdesk.events import emit
from omnidesk.helpdesk.models import CannedResponse, Contact, Conversation, Ticket

SHORT_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_TITLE_CHARS = 200
MAX_BODY_CHARS = 10_000
# ``{{contact.name}}``, or ``{{contact.name|there}}`` with a fallback for when it has no
# value (a web chat visitor has no name: "Hi there," rather than "Hi ,").
PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\.([a-z_]+)\s*(?:\|([^{}|]{0,80}))?\}\}")
KNOWN = frozenset(
    {
        ("contact", "name"),
        ("contact", "email"),
        ("agent", "name"),
        ("agent", "email"),
        ("conversation", "id"),
        ("ticket", "id"),
    }
)


def render_canned(body: str, values: Mapping[tuple[str, str], object]) -> str:
    """Fill the known placeholders of ``body``: a known one without a value becomes its
    fallback (``{{contact.name|there}}``), else empty; an unknown one stays as written."""

    def fill(match: re.Match[str]) -> str:
        key = (match.group(1), match.group(2))
        if key not in KNOWN:
            return match.group(0)
        value = values.get(key)
        text = "" if value is None else str(value)
        return text or (match.group(3) or "").strip()

    return PLACEHOLDER.sub(fill, body)


async def render_for(
    session: AsyncSession, canned: CannedResponse, conversation: Conversation, agent: Actor
) -> str:
    """``canned`` filled for one conversation, as ``agent`` would send it."""
    contact = await session.get_one(Contact, conversation.contact_id)
    ticket: Ticket | None = await open_ticket(session, conversation.id)
    values: dict[tuple[str, str], object] = {
        ("contact", "name"): contact.name,
        ("contact", "email"): contact.email,
        ("agent", "name"): agent.name,
        ("agent", "email"): agent.email,
        ("conversation", "id"): conversation.id,
        ("ticket", "id"): ticket.id if ticket else None,
    }
    return render_canned(canned.body, values)


def _validated(short_code: str, title: str, body: str) -> tuple[str, str, str]:
    code = short_code.strip().lower()
    if not SHORT_CODE.match(code):
        raise ActionError("invalid", "a short code is 1-64 lower-case letters, digits, '-' or '_'")
    if len(title) > MAX_TITLE_CHARS:
        raise ActionError("invalid", f"a title is at most {MAX_TITLE_CHARS} characters")
    if not body.strip() or len(body) > MAX_BODY_CHARS:
        raise ActionError("invalid", f"a body is 1-{MAX_BODY_CHARS} characters")
    return code, title.strip(), body


async def _check_free(session: AsyncSession, code: str, own_id: int | None = None) -> None:
    taken = await session.scalar(select(CannedResponse.id).where(CannedResponse.short_code == code))
    if taken is not None and taken != own_id:
        raise ActionError("duplicate", f"short code {code!r} is taken")


async def create_canned(
    session: AsyncSession, short_code: str, body: str, by: Actor, *, title: str = ""
) -> CannedResponse:
    code, title, body = _validated(short_code, title, body)
    await _check_free(session, code)
    row = CannedResponse(short_code=code, title=title, body=body, created_by_id=by.agent_id)
    session.add(row)
    await session.flush()
    audit_log(session, by, "canned.created", f"canned:{row.id}", short_code=code)
    emit(session, "canned", canned_id=row.id, change="created")
    return row


async def update_canned(
    session: AsyncSession,
    row: CannedResponse,
    by: Actor,
    *,
    short_code: str | None = None,
    title: str | None = None,
    body: str | None = None,
) -> CannedResponse:
    code, new_title, new_body = _validated(
        row.short_code if short_code is None else short_code,
        row.title if title is None else title,
        row.body if body is None else body,
    )
    await _check_free(session, code, row.id)
    row.short_code, row.title, row.body = code, new_title, new_body
    await session.flush()
    audit_log(session, by, "canned.updated", f"canned:{row.id}", short_code=code)
    emit(session, "canned", canned_id=row.id, change="updated", by_id=by.agent_id)
    return row


async def delete_canned(session: AsyncSession, row: CannedResponse, by: Actor) -> None:
    row_id = row.id
    await session.delete(row)
    await session.flush()
    audit_log(session, by, "canned.deleted", f"canned:{row_id}")
    emit(session, "canned", canned_id=row_id, change="deleted", by_id=by.agent_id)


def canned_dict(row: CannedResponse) -> dict[str, Any]:
    return {
        "id": row.id,
        "short_code": row.short_code,
        "title": row.title,
        "body": row.body,
        "created_by_id": row.created_by_id,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }
