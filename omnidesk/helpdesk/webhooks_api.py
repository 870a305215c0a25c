"""The admin API for outbound webhooks (admins only, as everything under
``/api/v1/admin/``); bodies are validated here and written by helpdesk actions, each
with its audit entry.

- ``GET/POST /api/v1/admin/webhooks``, ``GET/PATCH/DELETE /api/v1/admin/webhooks/{id}``:
  ``url`` (http or https), ``events`` (names from ``WEBHOOK_EVENTS``), ``active``,
  ``description``. The secret is made here: shown whole in the answer to POST and to
  ``POST .../{id}/rotate``, masked everywhere else.
- ``POST .../{id}/test``: queue a ``ping`` delivery.
- ``GET .../{id}/deliveries``: newest first, ``limit`` (at most 200) and ``before_id``
  page; each with its state, attempts, last HTTP status and error, and times.
- ``POST .../{id}/deliveries/{delivery}/retry``: send a failed delivery again.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omnidesk.helpdesk import actions
from omnidesk.helpdesk.actions.base import iso
from omnidesk.helpdesk.events import EventBus, unit_of_work
from omnidesk.helpdesk.http import HTTPJSONError, actor_of, admin_only, read_json
from omnidesk.helpdesk.models import Webhook, WebhookDelivery
from omnidesk.helpdesk.work_http import newest_page

BASE = "/api/v1/admin/webhooks"
ID = r"{id:\d{1,9}}"
DELIVERY = r"{delivery:\d{1,9}}"
MAX_URL_CHARS = 2000
MAX_DESCRIPTION_CHARS = 500
PAGE = 50
MAX_PAGE = 200


def bad(message: str) -> HTTPJSONError:
    return HTTPJSONError(400, "invalid", message)


def _url(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise bad("'url' must be an http or https address")
    url = value.strip()
    if len(url) > MAX_URL_CHARS:
        raise bad(f"'url' is longer than {MAX_URL_CHARS} characters")
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port  # a bad port raises here
    except ValueError:
        raise bad("'url' is not a valid address") from None
    if parts.scheme not in ("http", "https") or not host:
        raise bad("'url' must be an http or https address with a host")
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise bad("'url' must not contain spaces or control characters")
    return url


def _events(value: Any) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise bad(f"'events' must be a non-empty list of: {', '.join(actions.WEBHOOK_EVENTS)}")
    unknown = sorted({v for v in value if v not in actions.WEBHOOK_EVENTS})
    if unknown:
        raise bad(f"unknown event {unknown[0][:64]!r}; use: {', '.join(actions.WEBHOOK_EVENTS)}")
    return [e for e in actions.WEBHOOK_EVENTS if e in value]


def webhook_values(data: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """Validated fields; on update, only those given."""
    values: dict[str, Any] = {}
    if creating or "url" in data:
        values["url"] = _url(data.get("url"))
    if creating or "events" in data:
        values["events"] = _events(data.get("events"))
    if "active" in data:
        if not isinstance(data["active"], bool):
            raise bad("'active' must be true or false")
        values["active"] = data["active"]
    if "description" in data:
        text = data["description"]
        if text is None:
            text = ""
        if not isinstance(text, str) or len(text) > MAX_DESCRIPTION_CHARS:
            raise bad(f"'description' must be text of at most {MAX_DESCRIPTION_CHARS} characters")
        values["description"] = text.strip()
    if not values:
        raise bad("nothing to change: give url, events, active or description")
    return values


def webhook_dict(webhook: Webhook, *, reveal: bool = False) -> dict[str, Any]:
    return {
        "id": webhook.id,
        "url": webhook.url,
        "events": list(webhook.events or []),
        "active": webhook.active,
        "description": webhook.description,
        "secret": webhook.secret if reveal else f"••••{webhook.secret[-4:]}",
        "created_at": iso(webhook.created_at),
        "updated_at": iso(webhook.updated_at),
    }


def delivery_dict(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "webhook_id": delivery.webhook_id,
        "delivery_id": delivery.delivery_id,
        "event": delivery.event,
        "state": delivery.state,
        "attempts": delivery.attempts,
        "last_status": delivery.last_status,
        "last_error": delivery.last_error,
        "next_attempt_at": iso(delivery.next_attempt_at) if delivery.state == "pending" else None,
        "created_at": iso(delivery.created_at),
        "sent_at": iso(delivery.sent_at),
        "payload": delivery.payload,
    }


class WebhooksAPI:
    """Admin handlers for webhooks and their deliveries (see the module docstring)."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], bus: EventBus) -> None:
        self._sessionmaker = sessionmaker
        self._bus = bus

    def routes(self) -> list[web.AbstractRouteDef]:
        admin = admin_only
        one = f"{BASE}/{ID}"
        return [
            web.get(BASE, admin(self.list_webhooks)),
            web.post(BASE, admin(self.create)),
            web.get(one, admin(self.get)),
            web.patch(one, admin(self.update)),
            web.delete(one, admin(self.delete)),
            web.post(f"{one}/rotate", admin(self.rotate)),
            web.post(f"{one}/test", admin(self.test)),
            web.get(f"{one}/deliveries", admin(self.deliveries)),
            web.post(f"{one}/deliveries/{DELIVERY}/retry", admin(self.retry)),
        ]

    async def list_webhooks(self, request: web.Request) -> web.Response:
        async with self._sessionmaker() as session:
            rows = await session.scalars(select(Webhook).order_by(Webhook.id))
            return web.json_response(
                {"webhooks": [webhook_dict(w) for w in rows], "events": actions.WEBHOOK_EVENTS}
            )

    async def get(self, request: web.Request) -> web.Response:
        async with self._sessionmaker() as session:
            return web.json_response({"webhook": webhook_dict(await _webhook(session, request))})

    async def create(self, request: web.Request) -> web.Response:
        values = webhook_values(await read_json(request), creating=True)
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            webhook = await actions.create_webhook(session, values, actor_of(request))
            body = {"webhook": webhook_dict(webhook, reveal=True)}
        return web.json_response(body, status=201)

    async def update(self, request: web.Request) -> web.Response:
        values = webhook_values(await read_json(request), creating=False)
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            webhook = await _webhook(session, request)
            await actions.update_webhook(session, webhook, values, actor_of(request))
            body = {"webhook": webhook_dict(webhook)}
        return web.json_response(body)

    async def delete(self, request: web.Request) -> web.Response:
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            webhook = await _webhook(session, request)
            await actions.delete_webhook(session, webhook, actor_of(request))
        return web.json_response({"deleted": True})

    async def rotate(self, request: web.Request) -> web.Response:
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            webhook = await _webhook(session, request)
            await actions.rotate_webhook_secret(session, webhook, actor_of(request))
            body = {"webhook": webhook_dict(webhook, reveal=True)}
        return web.json_response(body)

    async def test(self, request: web.Request) -> web.Response:
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            webhook = await _webhook(session, request)
            delivery = await actions.ping_webhook(session, webhook, actor_of(request))
            body = {"delivery": delivery_dict(delivery)}
        return web.json_response(body, status=202)

    async def deliveries(self, request: web.Request) -> web.Response:
        async with self._sessionmaker() as session:
            webhook = await _webhook(session, request)
            query = (
                select(WebhookDelivery)
                .where(WebhookDelivery.webhook_id == webhook.id)
                .order_by(WebhookDelivery.id.desc())
            )
            rows, next_before_id = await newest_page(
                session, request, query, WebhookDelivery.id, default=PAGE, most=MAX_PAGE
            )
        return web.json_response(
            {"deliveries": [delivery_dict(d) for d in rows], "next_before_id": next_before_id}
        )

    async def retry(self, request: web.Request) -> web.Response:
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            webhook = await _webhook(session, request)
            delivery = await session.get(WebhookDelivery, int(request.match_info["delivery"]))
            if delivery is None or delivery.webhook_id != webhook.id:
                raise HTTPJSONError(404, "not_found", "no such delivery of this webhook")
            try:
                await actions.redeliver_webhook(session, delivery, actor_of(request))
            except actions.ActionError as exc:
                raise HTTPJSONError(409, exc.code, exc.message) from None
            body = {"delivery": delivery_dict(delivery)}
        return web.json_response(body, status=202)


async def _webhook(session: AsyncSession, request: web.Request) -> Webhook:
    webhook = await session.get(Webhook, int(request.match_info["id"]))
    if webhook is None:
        raise HTTPJSONError(404, "not_found", "no such webhook")
    return webhook
