"""What admins configure: escalation rules, SLA policies and business calendars. The
caller validates; these write, record who did it in the audit log and announce the change
after commit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.helpdesk.actions.base import audit_log
from omnidesk.helpdesk.actor import Actor
from omnidesk.helpdesk.events import emit
from omnidesk.helpdesk.models import BusinessCalendar, EscalationRule, SlaPolicy

RULE_FIELDS = ("name", "enabled", "position", "trigger", "condition", "reason", "priority")
CALENDAR_FIELDS = ("name", "timezone", "weekly", "holidays")


async def create_rule(
    session: AsyncSession, values: Mapping[str, Any], by: Actor
) -> EscalationRule:
    rule = EscalationRule(**{k: v for k, v in values.items() if k in (*RULE_FIELDS, "team_id")})
    session.add(rule)
    await session.flush()
    audit_log(session, by, "rule.created", f"rule:{rule.id}", trigger=rule.trigger)
    emit(session, "rules_changed", rule_id=rule.id)
    return rule


async def update_rule(
    session: AsyncSession, rule: EscalationRule, values: Mapping[str, Any], by: Actor
) -> EscalationRule:
    for key, value in values.items():
        if key in (*RULE_FIELDS, "team_id"):
            setattr(rule, key, value)
    await session.flush()
    audit_log(session, by, "rule.updated", f"rule:{rule.id}", changes=sorted(values))
    emit(session, "rules_changed", rule_id=rule.id)
    return rule


async def delete_rule(session: AsyncSession, rule: EscalationRule, by: Actor) -> None:
    rule_id = rule.id
    await session.delete(rule)
    await session.flush()
    audit_log(session, by, "rule.deleted", f"rule:{rule_id}")
    emit(session, "rules_changed", rule_id=rule_id)


async def put_sla_policies(
    session: AsyncSession, policies: Sequence[Mapping[str, Any]], by: Actor
) -> list[SlaPolicy]:
    """Replace the SLA policies: priorities left out fall back to the settings' targets."""
    given = {str(p["priority"]): p for p in policies}
    await session.execute(delete(SlaPolicy).where(SlaPolicy.priority.not_in(list(given))))
    existing = {
        row.priority: row
        for row in (
            await session.scalars(select(SlaPolicy).where(SlaPolicy.priority.in_(list(given))))
        ).all()
    }
    rows: list[SlaPolicy] = []
    for priority, values in given.items():
        row = existing.get(priority) or SlaPolicy(priority=priority)
        row.first_response_minutes = int(values["first_response_minutes"])
        row.resolution_minutes = int(values["resolution_minutes"])
        row.calendar_id = values.get("calendar_id")
        session.add(row)
        rows.append(row)
    await session.flush()
    audit_log(session, by, "sla.replaced", "sla", priorities=sorted(given))
    emit(session, "sla_changed", priorities=sorted(given))
    return rows


async def create_calendar(
    session: AsyncSession, values: Mapping[str, Any], by: Actor
) -> BusinessCalendar:
    calendar = BusinessCalendar(**{k: v for k, v in values.items() if k in CALENDAR_FIELDS})
    session.add(calendar)
    await session.flush()
    audit_log(session, by, "calendar.created", f"calendar:{calendar.id}")
    emit(session, "calendars_changed", calendar_id=calendar.id)
    return calendar


async def update_calendar(
    session: AsyncSession, calendar: BusinessCalendar, values: Mapping[str, Any], by: Actor
) -> BusinessCalendar:
    for key, value in values.items():
        if key in CALENDAR_FIELDS:
            setattr(calendar, key, value)
    await session.flush()
    audit_log(session, by, "calendar.updated", f"calendar:{calendar.id}", changes=sorted(values))
    emit(session, "calendars_changed", calendar_id=calendar.id)
    return calendar


async def delete_calendar(session: AsyncSession, calendar: BusinessCalendar, by: Actor) -> None:
    """Teams and policies that used it fall back to the default calendar."""
    calendar_id = calendar.id
    await session.delete(calendar)
    await session.flush()
    audit_log(session, by, "calendar.deleted", f"calendar:{calendar_id}")
    emit(session, "calendars_changed", calendar_id=calendar_id)
