"""The admin API for what decides about people without code: escalation rules, SLA
policies and business calendars. Admins only; bodies are validated here (a bad time
zone, time, priority or trigger is a 400) and written by helpdesk actions.

- ``GET/POST /api/v1/admin/rules``, ``GET/PATCH/DELETE /api/v1/admin/rules/{id}``
- ``GET/PUT /api/v1/admin/sla`` (PUT replaces the set; a priority left out falls back
  to the settings' targets)
- ``GET/POST /api/v1/admin/calendars``, ``GET/PATCH/DELETE /api/v1/admin/calendars/{id}``
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omnidesk.config import SlaSettings
from omnidesk.helpdesk import actions
from omnidesk.helpdesk.events import EventBus, unit_of_work
from omnidesk.helpdesk.http import HTTPJSONError, actor_of, admin_only, read_json
from omnidesk.helpdesk.models import BusinessCalendar, EscalationRule, Priority, SlaPolicy, Team

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# (timezone, weekly, holidays) -> the stored form; raises ValueError when wrong. The
# parser lives in ``escalation`` (which helpdesk may not import), so the app injects it.
NormaliseCalendar = Callable[[Any, Any, Any], dict[str, Any]]
BASE = "/api/v1/admin"
ID = r"{id:\d{1,9}}"
TRIGGERS = ("customer_request", "unsure", "not_helpful", "keyword", "attribute", "channel")
MAX_MINUTES = 365 * 24 * 60


def bad(message: str, code: str = "invalid") -> HTTPJSONError:
    return HTTPJSONError(400, code, message)


# -- validation --------------------------------------------------------------------------


def _str(data: dict[str, Any], name: str, max_chars: int, *, required: bool) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > max_chars:
        raise bad(f"'{name}' must be a non-empty string of at most {max_chars} characters")
    return value.strip()


def _strings(value: Any, name: str, *, required: bool) -> list[str] | None:
    if value is None and not required:
        return None
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, str) and v.strip() for v in value)
    ):
        raise bad(f"condition '{name}' must be a non-empty list of strings")
    return [v.strip() for v in value]


def _condition(trigger: str, raw: Any) -> dict[str, Any]:
    """The trigger's parameters, in the shapes the rules engine reads."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise bad("'condition' must be an object")
    condition: dict[str, Any] = {}
    if trigger in ("keyword", "customer_request"):
        keywords = _strings(raw.get("keywords"), "keywords", required=trigger == "keyword")
        if keywords is not None:
            condition["keywords"] = keywords
    elif trigger == "attribute":
        attribute = raw.get("attribute")
        if not isinstance(attribute, str) or not attribute.strip():
            raise bad("condition 'attribute' must name a contact attribute")
        condition["attribute"] = attribute.strip()
        if "equals" in raw:
            if (
                not isinstance(raw["equals"], str | int | float | bool)
                and raw["equals"] is not None
            ):
                raise bad("condition 'equals' must be a string, number, boolean or null")
            condition["equals"] = raw["equals"]
    elif trigger == "channel":
        condition["channels"] = _strings(raw.get("channels"), "channels", required=True)
    elif trigger == "unsure" and "turns" in raw:
        condition["turns"] = _int(raw["turns"], "condition 'turns'", 1, 100)
    if raw.get("skill") is not None:
        condition["skill"] = _str(raw, "skill", 64, required=True)
    return condition


def _int(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise bad(f"{name} must be an integer from {low} to {high}")
    return value


def _priority(value: Any, *, nullable: bool) -> str | None:
    if value is None and nullable:
        return None
    if value not in {str(p) for p in Priority}:
        raise bad(f"unknown priority {value!r}; use one of low, normal, high, urgent")
    return str(value)


def rule_values(data: dict[str, Any], current: EscalationRule | None) -> dict[str, Any]:
    """Validated rule fields; on update, only those given (the rest kept)."""
    values: dict[str, Any] = {}
    if current is None or "name" in data:
        values["name"] = _str(data, "name", 200, required=True)
    trigger = data.get("trigger", current.trigger if current else None)
    if trigger not in TRIGGERS:
        raise bad(f"'trigger' must be one of {', '.join(TRIGGERS)}")
    values["trigger"] = trigger
    if current is None or "condition" in data or "trigger" in data:
        raw = data.get("condition", current.condition if current else {})
        values["condition"] = _condition(trigger, raw)
    if "enabled" in data:
        if not isinstance(data["enabled"], bool):
            raise bad("'enabled' must be true or false")
        values["enabled"] = data["enabled"]
    if "position" in data:
        values["position"] = _int(data["position"], "'position'", -10_000, 10_000)
    if "reason" in data or current is None:
        values["reason"] = _str(data, "reason", 64, required=False) or trigger
    if "priority" in data:
        values["priority"] = _priority(data["priority"], nullable=True)
    if "team_id" in data:
        team_id = data["team_id"]
        values["team_id"] = None if team_id is None else _int(team_id, "'team_id'", 1, 10**9)
    return values


def calendar_values(
    data: dict[str, Any], current: BusinessCalendar | None, normalise: NormaliseCalendar
) -> dict[str, Any]:
    """Validated calendar fields, normalised by ``escalation``'s calendar parser."""
    values: dict[str, Any] = {}
    if current is None or "name" in data:
        values["name"] = _str(data, "name", 100, required=True)
    try:
        values.update(
            normalise(
                data.get("timezone", current.timezone if current else "UTC"),
                data.get("weekly", current.weekly if current else {}),
                data.get("holidays", current.holidays if current else []),
            )
        )
    except ValueError as exc:
        raise bad(str(exc)) from None
    return values


def sla_values(data: dict[str, Any]) -> list[dict[str, Any]]:
    policies = data.get("policies")
    if not isinstance(policies, list):
        raise bad("'policies' must be a list of {priority, first_response_minutes, ...}")
    seen: set[str] = set()
    values: list[dict[str, Any]] = []
    for policy in policies:
        if not isinstance(policy, dict):
            raise bad("each policy must be an object")
        priority = _priority(policy.get("priority"), nullable=False)
        assert priority is not None
        if priority in seen:
            raise bad(f"priority {priority} is given twice")
        seen.add(priority)
        calendar_id = policy.get("calendar_id")
        values.append(
            {
                "priority": priority,
                "first_response_minutes": _int(
                    policy.get("first_response_minutes"), "'first_response_minutes'", 1, MAX_MINUTES
                ),
                "resolution_minutes": _int(
                    policy.get("resolution_minutes"), "'resolution_minutes'", 1, MAX_MINUTES
                ),
                "calendar_id": None
                if calendar_id is None
                else _int(calendar_id, "'calendar_id'", 1, 10**9),
            }
        )
    return values


# -- views -------------------------------------------------------------------------------


def rule_dict(rule: EscalationRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "enabled": rule.enabled,
        "position": rule.position,
        "trigger": rule.trigger,
        "condition": rule.condition,
        "reason": rule.reason,
        "priority": rule.priority,
        "team_id": rule.team_id,
    }


def calendar_dict(calendar: BusinessCalendar) -> dict[str, Any]:
    return {
        "id": calendar.id,
        "name": calendar.name,
        "timezone": calendar.timezone,
        "weekly": calendar.weekly,
        "holidays": calendar.holidays,
    }


# -- handlers ----------------------------------------------------------------------------


class PoliciesAPI:
    """Admin handlers for rules, SLA policies and calendars (see the module docstring)."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        bus: EventBus,
        sla: SlaSettings,
        normalise_calendar: NormaliseCalendar,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._bus = bus
        self._sla = sla
        self._normalise = normalise_calendar

    def routes(self) -> list[web.AbstractRouteDef]:
        admin = admin_only

        return [
            web.get(f"{BASE}/rules", admin(self.list_rules)),
            web.post(f"{BASE}/rules", admin(self.create_rule)),
            web.get(f"{BASE}/rules/{ID}", admin(self.get_rule)),
            web.patch(f"{BASE}/rules/{ID}", admin(self.update_rule)),
            web.delete(f"{BASE}/rules/{ID}", admin(self.delete_rule)),
            web.get(f"{BASE}/sla", admin(self.get_sla)),
            web.put(f"{BASE}/sla", admin(self.put_sla)),
            web.get(f"{BASE}/calendars", admin(self.list_calendars)),
            web.post(f"{BASE}/calendars", admin(self.create_calendar)),
            web.get(f"{BASE}/calendars/{ID}", admin(self.get_calendar)),
            web.patch(f"{BASE}/calendars/{ID}", admin(self.update_calendar)),
            web.delete(f"{BASE}/calendars/{ID}", admin(self.delete_calendar)),
        ]

    # -- rules ---------------------------------------------------------------------------

    async def list_rules(self, request: web.Request) -> web.Response:
        async with self._sessionmaker() as session:
            rules = await session.scalars(
                select(EscalationRule).order_by(EscalationRule.position, EscalationRule.id)
            )
            return web.json_response({"rules": [rule_dict(r) for r in rules]})

    async def get_rule(self, request: web.Request) -> web.Response:
        async with self._sessionmaker() as session:
            return web.json_response({"rule": rule_dict(await _rule(session, request))})

    async def create_rule(self, request: web.Request) -> web.Response:
        values = rule_values(await read_json(request), None)
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            await _check_team(session, values.get("team_id"))
            rule = await actions.create_rule(session, values, actor_of(request))
            body = {"rule": rule_dict(rule)}
        return web.json_response(body, status=201)

    async def update_rule(self, request: web.Request) -> web.Response:
        data = await read_json(request)
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            rule = await _rule(session, request)
            values = rule_values(data, rule)
            await _check_team(session, values.get("team_id"))
            body = {
                "rule": rule_dict(
                    await actions.update_rule(session, rule, values, actor_of(request))
                )
            }
        return web.json_response(body)

    async def delete_rule(self, request: web.Request) -> web.Response:
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            await actions.delete_rule(session, await _rule(session, request), actor_of(request))
        return web.json_response({"deleted": True})

    # -- SLA -----------------------------------------------------------------------------

    async def get_sla(self, request: web.Request) -> web.Response:
        async with self._sessionmaker() as session:
            rows = {p.priority: p for p in await session.scalars(select(SlaPolicy))}
        policies = []
        for priority in Priority:
            row = rows.get(str(priority))
            target = self._sla.policies[str(priority)]
            policies.append(
                {
                    "priority": str(priority),
                    "first_response_minutes": row.first_response_minutes
                    if row
                    else target.first_response_minutes,
                    "resolution_minutes": row.resolution_minutes
                    if row
                    else target.resolution_minutes,
                    "calendar_id": row.calendar_id if row else None,
                    "source": "policy" if row else "settings",
                }
            )
        return web.json_response({"policies": policies})

    async def put_sla(self, request: web.Request) -> web.Response:
        values = sla_values(await read_json(request))
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            for value in values:
                await _check_calendar(session, value["calendar_id"])
            await actions.put_sla_policies(session, values, actor_of(request))
        return await self.get_sla(request)

    # -- calendars -----------------------------------------------------------------------

    async def list_calendars(self, request: web.Request) -> web.Response:
        async with self._sessionmaker() as session:
            rows = await session.scalars(select(BusinessCalendar).order_by(BusinessCalendar.id))
            return web.json_response({"calendars": [calendar_dict(c) for c in rows]})

    async def get_calendar(self, request: web.Request) -> web.Response:
        async with self._sessionmaker() as session:
            return web.json_response({"calendar": calendar_dict(await _cal(session, request))})

    async def create_calendar(self, request: web.Request) -> web.Response:
        values = calendar_values(await read_json(request), None, self._normalise)
        try:
            async with unit_of_work(self._sessionmaker, self._bus) as session:
                body = {
                    "calendar": calendar_dict(
                        await actions.create_calendar(session, values, actor_of(request))
                    )
                }
        except IntegrityError:
            raise HTTPJSONError(409, "name_taken", "a calendar with that name exists") from None
        return web.json_response(body, status=201)

    async def update_calendar(self, request: web.Request) -> web.Response:
        data = await read_json(request)
        try:
            async with unit_of_work(self._sessionmaker, self._bus) as session:
                calendar = await _cal(session, request)
                values = calendar_values(data, calendar, self._normalise)
                calendar = await actions.update_calendar(
                    session, calendar, values, actor_of(request)
                )
                body = {"calendar": calendar_dict(calendar)}
        except IntegrityError:
            raise HTTPJSONError(409, "name_taken", "a calendar with that name exists") from None
        return web.json_response(body)

    async def delete_calendar(self, request: web.Request) -> web.Response:
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            await actions.delete_calendar(session, await _cal(session, request), actor_of(request))
        return web.json_response({"deleted": True})


async def _rule(session: AsyncSession, request: web.Request) -> EscalationRule:
    rule = await session.get(EscalationRule, int(request.match_info["id"]))
    if rule is None:
        raise HTTPJSONError(404, "not_found", "no such rule")
    return rule


async def _cal(session: AsyncSession, request: web.Request) -> BusinessCalendar:
    calendar = await session.get(BusinessCalendar, int(request.match_info["id"]))
    if calendar is None:
        raise HTTPJSONError(404, "not_found", "no such calendar")
    return calendar


async def _check_team(session: AsyncSession, team_id: int | None) -> None:
    if team_id is not None and await session.get(Team, team_id) is None:
        raise bad(f"no team {team_id}", "unknown_team")


async def _check_calendar(session: AsyncSession, calendar_id: int | None) -> None:
    if calendar_id is not None and await session.get(BusinessCalendar, calendar_id) is None:
        raise bad(f"no calendar {calendar_id}", "unknown_calendar")
