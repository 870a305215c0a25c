"""Webhook deliveries sent by the outbox dispatcher to a real aiohttp receiver on loopback
that checks the signature with the secret: signed and delivered; retried after a 5xx
or a timeout with back-off, then sent; failed for good on a 410 or a redirect (never
followed); Retry-After kept; two dispatchers at once never send one delivery twice."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select, update

from omnidesk.bot.outbox import BATCH, MAX_ATTEMPTS, OutboxDispatcher
from omnidesk.bot.webhooks import (
    MAX_RESPONSE_BYTES,
    TIMEOUT_SECONDS,
    WebhookSender,
    is_public,
    verify,
)
from omnidesk.db import utcnow
from omnidesk.helpdesk import Actor, actions, unit_of_work
from omnidesk.helpdesk.models import AgentRole, Webhook, WebhookDelivery
from tests.conftest import Database

ADMIN = Actor("Root", None, AgentRole.ADMIN)


@dataclass
class Receiver:
    """An integrator's endpoint: it checks each request's signature as the docs say and
    answers with the next of ``answers`` (then 200)."""

    secret: str = ""
    answers: list[Callable[[], web.StreamResponse]] = field(default_factory=list)
    delay: float = 0.0
    got: list[dict[str, Any]] = field(default_factory=list)
    refused: int = 0

    def signed_ok(self, timestamp: str, body: bytes, header: str) -> bool:
        expected = hmac.new(
            self.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        return hmac.compare_digest(f"v1={expected}", header)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = request.headers
        if not self.signed_ok(
            headers["X-Omnidesk-Timestamp"], body, headers["X-Omnidesk-Signature"]
        ):
            self.refused += 1
            return web.Response(status=401, text="bad signature")
        self.got.append({"headers": dict(headers), "body": body, "json": json.loads(body)})
        if self.delay:
            await asyncio.sleep(self.delay)
        return self.answers.pop(0)() if self.answers else web.Response(text="ok")


def LOOPBACK_OK(timeout: float = TIMEOUT_SECONDS) -> WebhookSender:
    return WebhookSender(timeout, allow_private=True)


@pytest.fixture
async def receiver() -> Any:
    hook = Receiver()
    app = web.Application()
    app.router.add_post("/hook", hook.handle)
    app.router.add_get("/elsewhere", hook.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    hook.url = str(server.make_url("/hook"))  # type: ignore[attr-defined]
    yield hook
    await server.close()


@pytest.fixture
async def dispatcher(db: Database) -> Any:
    # The receiver is on loopback, which a real install refuses (see the tests below).
    outbox = OutboxDispatcher(db.sessionmaker, {}, webhooks=LOOPBACK_OK())
    yield outbox
    await outbox.stop()


async def add_webhook(db: Database, url: str, events: list[str] | None = None) -> Webhook:
    async with unit_of_work(db.sessionmaker) as session:
        return await actions.create_webhook(
            session, {"url": url, "events": events or ["contact.created"]}, ADMIN
        )


async def new_contact(db: Database, external_id: str = "v-1") -> None:
    async with unit_of_work(db.sessionmaker) as session:
        await actions.resolve_identity(session, "webchat", external_id)


async def rows(db: Database) -> list[WebhookDelivery]:
    async with db.sessionmaker() as session:
        return list(await session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


async def make_due(db: Database) -> None:
    async with db.sessionmaker() as session, session.begin():
        await session.execute(
            update(WebhookDelivery).values(next_attempt_at=utcnow() - dt.timedelta(seconds=1))
        )


async def test_delivery_is_signed_and_marked_sent(
    db: Database, receiver: Receiver, dispatcher: OutboxDispatcher
) -> None:
    webhook = await add_webhook(db, receiver.url)  # type: ignore[attr-defined]
    receiver.secret = webhook.secret
    await new_contact(db)
    assert await dispatcher.dispatch_ready() == 1
    assert receiver.refused == 0 and len(receiver.got) == 1
    got = receiver.got[0]
    (row,) = await rows(db)
    assert got["json"] == row.payload
    assert got["json"]["event"] == "contact.created" and got["json"]["id"] == row.delivery_id
    assert got["headers"]["X-Omnidesk-Event"] == "contact.created"
    assert got["headers"]["X-Omnidesk-Delivery"] == row.delivery_id
    assert got["headers"]["Content-Type"] == "application/json"
    sent_at = int(got["headers"]["X-Omnidesk-Timestamp"])
    assert abs(sent_at - utcnow().timestamp()) < 60
    assert (row.state, row.attempts, row.last_status, row.last_error) == ("sent", 1, 200, None)
    assert row.sent_at is not None
    # A body changed on the way, or the wrong secret, does not verify.
    timestamp, signature = (
        got["headers"]["X-Omnidesk-Timestamp"],
        got["headers"]["X-Omnidesk-Signature"],
    )
    tampered = got["body"].replace(b"contact.created", b"contact.deleted")
    assert not receiver.signed_ok(timestamp, tampered, signature)
    assert verify(webhook.secret, timestamp, got["body"], signature)
    assert not verify(webhook.secret, timestamp, tampered, signature)
    assert not verify("another-secret", timestamp, got["body"], signature)
    assert not verify(webhook.secret, str(int(timestamp) + 1), got["body"], signature)


async def test_a_server_error_is_retried_with_backoff_then_sent(
    db: Database, receiver: Receiver, dispatcher: OutboxDispatcher
) -> None:
    webhook = await add_webhook(db, receiver.url)  # type: ignore[attr-defined]
    receiver.secret = webhook.secret
    huge = "x" * (MAX_RESPONSE_BYTES * 50)
    receiver.answers = [lambda: web.Response(status=500, text=huge)]
    await new_contact(db)
    await dispatcher.dispatch_ready()
    (row,) = await rows(db)
    assert (row.state, row.attempts, row.last_status) == ("pending", 1, 500)
    assert row.last_error is not None and row.last_error.startswith("HTTP 500: xxx")
    assert len(row.last_error) < 400  # the answer is read only so far
    wait = (row.next_attempt_at - utcnow()).total_seconds()
    assert 0 < wait <= 1.0  # the outbox's back-off after one attempt
    assert await dispatcher.dispatch_webhooks() == 0  # not due yet
    await make_due(db)
    await dispatcher.dispatch_ready()
    (row,) = await rows(db)
    assert (row.state, row.attempts, row.last_status, row.last_error) == ("sent", 2, 200, None)
    first, second = receiver.got
    assert first["headers"]["X-Omnidesk-Delivery"] == second["headers"]["X-Omnidesk-Delivery"]
    assert first["json"] == second["json"]


@pytest.mark.parametrize(
    ("answer", "status", "error"),
    [
        (lambda: web.Response(status=410, text="gone"), 410, "HTTP 410: gone"),
        (lambda: web.HTTPFound("/elsewhere"), 302, "redirects are not followed"),
    ],
)
async def test_gone_or_redirected_fails_for_good(
    db: Database,
    receiver: Receiver,
    dispatcher: OutboxDispatcher,
    answer: Callable[[], web.StreamResponse],
    status: int,
    error: str,
) -> None:
    webhook = await add_webhook(db, receiver.url)  # type: ignore[attr-defined]
    receiver.secret = webhook.secret
    receiver.answers = [answer]
    await new_contact(db)
    await dispatcher.dispatch_ready()
    await make_due(db)
    assert await dispatcher.dispatch_ready() == 0
    (row,) = await rows(db)
    assert (row.state, row.attempts, row.last_status) == ("failed", 1, status)
    assert row.last_error is not None and error in row.last_error
    assert len(receiver.got) == 1  # the redirect's target was never asked


async def test_retry_after_and_the_last_attempt(
    db: Database, receiver: Receiver, dispatcher: OutboxDispatcher
) -> None:
    webhook = await add_webhook(db, receiver.url)  # type: ignore[attr-defined]
    receiver.secret = webhook.secret
    receiver.answers = [
        lambda: web.Response(status=429, headers={"Retry-After": "120"}),
        lambda: web.Response(status=503),
    ]
    await new_contact(db)
    await dispatcher.dispatch_ready()
    (row,) = await rows(db)
    assert (row.state, row.last_status) == ("pending", 429)
    assert 115 < (row.next_attempt_at - utcnow()).total_seconds() <= 120
    async with db.sessionmaker() as session, session.begin():
        await session.execute(update(WebhookDelivery).values(attempts=MAX_ATTEMPTS - 1))
    await make_due(db)
    await dispatcher.dispatch_ready()
    (row,) = await rows(db)
    assert (row.state, row.attempts, row.last_status) == ("failed", MAX_ATTEMPTS, 503)


async def test_no_answer_or_no_server_is_retried(
    db: Database, receiver: Receiver, unused_tcp_port: int
) -> None:
    dispatcher = OutboxDispatcher(db.sessionmaker, {}, webhooks=LOOPBACK_OK(timeout=0.3))
    slow = await add_webhook(db, receiver.url)  # type: ignore[attr-defined]
    receiver.secret, receiver.delay = slow.secret, 2.0
    await add_webhook(db, f"http://127.0.0.1:{unused_tcp_port}/nobody-listens")
    await new_contact(db)
    try:
        assert await dispatcher.dispatch_ready() == 2
    finally:
        await dispatcher.stop()
    timed_out, refused = await rows(db)
    assert timed_out.state == refused.state == "pending"
    assert timed_out.last_status is None and timed_out.last_error == "no answer within 0.3 s"
    assert refused.last_status is None and refused.last_error is not None
    assert "Connect" in refused.last_error


async def test_two_dispatchers_never_send_a_delivery_twice(
    db: Database, receiver: Receiver
) -> None:
    webhook = await add_webhook(db, receiver.url)  # type: ignore[attr-defined]
    receiver.secret, receiver.delay = webhook.secret, 0.05
    total = BATCH * 2 + 20  # more than one claim takes: the dispatchers share them
    async with unit_of_work(db.sessionmaker) as session:
        for _ in range(total):
            await actions.ping_webhook(session, webhook, ADMIN)
    first = OutboxDispatcher(db.sessionmaker, {}, webhooks=LOOPBACK_OK())
    second = OutboxDispatcher(db.sessionmaker, {}, webhooks=LOOPBACK_OK())
    try:
        counts = await asyncio.gather(
            *(d.dispatch_webhooks() for d in (first, second, first, second))
        )
    finally:
        await first.stop()
        await second.stop()
    assert sorted(counts) == [0, 20, BATCH, BATCH]
    sent = [g["headers"]["X-Omnidesk-Delivery"] for g in receiver.got]
    assert len(sent) == len(set(sent)) == total
    assert {(r.state, r.attempts) for r in await rows(db)} == {("sent", 1)}


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://[::1]:9/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:127.0.0.1]/hook",
        "http://localhost:9/hook",
    ],
)
async def test_private_targets_are_refused_for_good(url: str) -> None:
    sender = WebhookSender()  # the default of a real install
    try:
        outcome = await sender.send(url, "whsec_x", {"id": "d-1", "event": "ping"})
    finally:
        await sender.close()
    assert not outcome.ok and outcome.permanent
    assert outcome.error is not None and "private" in outcome.error


async def test_a_name_that_leads_to_loopback_never_reaches_the_receiver(
    receiver: Receiver,
) -> None:
    sender = WebhookSender()
    by_name = receiver.url.replace("127.0.0.1", "localhost")
    try:
        outcome = await sender.send(by_name, "whsec_x", {"id": "d-1", "event": "ping"})
    finally:
        await sender.close()
    assert outcome.permanent and receiver.got == [] and receiver.refused == 0


def test_which_addresses_are_public() -> None:
    assert is_public("93.184.215.14") and is_public("2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    for address in (
        "127.0.0.1",
        "10.0.0.1",
        "192.168.1.1",
        "172.16.0.1",
        "100.64.0.1",
        "169.254.169.254",
        "::1",
        "fe80::1%eth0",
        "fc00::1",
        "0.0.0.0",
        "224.0.0.1",
        "::ffff:10.0.0.1",
    ):
        assert not is_public(address), address
