"""What a stranger sends never becomes a 500 or a lost message: unclean text (NUL, lone
surrogates, control characters) and deep JSON at every edge, on SQLite and PostgreSQL;
and the headers every answer carries."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from omnidesk import untrusted
from omnidesk.bot.app import SERVICES, create_app
from omnidesk.config import Settings
from omnidesk.helpdesk import Message
from omnidesk.messages import InboundMessage
from omnidesk.ratelimit import Buckets
from tests.accounts import client_bearer
from tests.channels.test_webchat import bot_message, connect

DEEP = "[" * 10_000 + "]" * 10_000


@pytest.fixture
async def client(
    aiohttp_client: Any, settings: Settings, db: object
) -> AsyncIterator[TestClient[Any, Any]]:
    yield await aiohttp_client(create_app(settings))


@given(st.text())
def test_clean_text_is_storable_and_idempotent(value: str) -> None:
    cleaned = untrusted.clean_text(value)
    cleaned.encode("utf-8")  # no lone surrogate survives
    assert "\x00" not in cleaned
    assert untrusted.clean_text(cleaned) == cleaned
    assert untrusted.is_clean(cleaned)


def test_clean_text_keeps_what_people_write() -> None:
    text = "Grüße 👋\n\tTab — 你好 \u200d"
    assert untrusted.clean_text(text) == text
    assert untrusted.clean_text("a\x00b\ud800c\x07") == "ab\ufffdc"


def test_loads_refuses_deep_and_bad_json_and_cleans_strings() -> None:
    for raw in (DEEP, "[" * 40 + "]" * 40, "{", b"\xff"):
        with pytest.raises(untrusted.UntrustedInput):
            untrusted.loads(raw)
    assert untrusted.loads('{"a\\u0000": ["x\\ud800"]}') == {"a": ["x\ufffd"]}


def test_inbound_message_cleans_itself() -> None:
    inbound = InboundMessage(
        channel="webchat",
        sender_id="v\x00",
        dedupe_key="k",
        text="hi\x00 \ud800",
        raw={"client_id": "c\x00", "nested": {"k\ud800": ["\x00"]}},
    )
    assert inbound.text == "hi \ufffd" and inbound.sender_id == "v"
    assert dict(inbound.raw) == {"client_id": "c", "nested": {"k\ufffd": [""]}}
    assert InboundMessage.from_dict(json.loads(json.dumps(inbound.to_dict()))) == inbound


async def test_unclean_web_chat_text_is_stored_and_answered(
    client: TestClient[Any, Any],
) -> None:
    sock, _ = await connect(client)
    for text in ("\ud800 how do I reset my password?", "reset my password\x00 please"):
        ack = await sock.say(text)
        assert ack["type"] == "ack"
        assert (await sock.until(bot_message))["message"]["text"]
    # A frame nested far too deep is refused with an error frame; the socket stays.
    await sock.ws.send_str('{"type": "message", "x": ' + "[" * 2000 + "]" * 2000 + "}")
    error = await sock.until(lambda f: f["type"] == "error")
    assert error["code"] == "bad_frame"
    ack = await sock.say("still here")
    assert ack["type"] == "ack"
    await sock.ws.close()
    maker = client.app[SERVICES].sessionmaker
    async with maker() as session:
        texts = (await session.scalars(select(Message.text))).all()
    assert "\ufffd how do I reset my password?" in texts
    assert "reset my password please" in texts


async def test_api_bodies_deep_or_unclean(client: TestClient[Any, Any]) -> None:
    resp = await client.post(
        "/api/v1/auth/login", data=DEEP, headers={"Content-Type": "application/json"}
    )
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "bad_json"
    resp = await client.post(
        "/api/v1/auth/login", json={"email": "a\x00@x.test\ud800", "password": "x\x00"}
    )
    assert resp.status == 401
    headers = await client_bearer(client, "admin")
    resp = await client.post(
        "/api/v1/articles",
        json={"title": "Nul\x00 title \ud800", "body": "Body\x00 text", "slug": "nul-title"},
        headers=headers,
    )
    assert resp.status in (200, 201), await resp.text()
    article = await resp.json()
    assert "\x00" not in json.dumps(article)


@pytest.mark.parametrize(
    "path",
    [
        "/kb/%00",
        "/kb/a%01b",
        "/api/v1/search?q=%00",
        "/api/v1/articles?q=%00",
        "/api/v1/conversations?label=%00",
    ],
)
async def test_unclean_urls_are_refused(client: TestClient[Any, Any], path: str) -> None:
    headers = await client_bearer(client)
    resp = await client.get(path, headers=headers)
    assert resp.status == 400


async def test_every_answer_carries_the_security_headers(client: TestClient[Any, Any]) -> None:
    for path, status in (("/kb", 200), ("/api/v1/me", 401), ("/nowhere", 404), ("/healthz", 200)):
        resp = await client.get(path, allow_redirects=False)
        assert resp.status == status, path
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
        assert resp.headers["X-Frame-Options"] == "DENY"
    resp = await client.get("/api/v1/me")
    assert resp.headers["Cache-Control"] == "no-store"
    signin = await client.get("/signin")
    assert "default-src 'none'" in signin.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/conversations/9223372036854775808", None),
        ("GET", "/api/v1/conversations/3000000000", None),
        ("GET", "/api/v1/conversations?assignee_id=3000000000", None),
        ("GET", "/api/v1/contacts/3000000000", None),
        ("PATCH", "/api/v1/agents/99999999999", {"name": "x"}),
        ("PATCH", "/api/v1/teams/3000000000", {"name": "x"}),
        ("POST", "/api/v1/teams", {"name": "Big ids", "members": [3000000000]}),
        ("POST", "/api/v1/teams", {"name": "Big calendar", "calendar_id": 3000000000}),
        ("DELETE", "/api/v1/me/tokens/99999999999", None),
        ("GET", "/api/v1/admin/rules/999999999", None),
        ("GET", "/api/v1/articles/some-slug/revisions/999999999", None),
    ],
)
async def test_ids_beyond_the_key_range_are_4xx(
    client: TestClient[Any, Any], method: str, path: str, body: Any
) -> None:
    headers = await client_bearer(client, "admin")
    resp = await client.request(method, path, json=body, headers=headers)
    assert 400 <= resp.status < 500, (resp.status, await resp.text())


async def test_attachments_are_downloads_that_never_run(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    uploads = settings.uploads_dir
    uploads.mkdir(parents=True, exist_ok=True)
    files = {
        "a1b2.html": ("<script>alert(1)</script>", "application/octet-stream"),
        "c3d4.svg": ("<svg onload=alert(1)></svg>", "application/octet-stream"),
        "e5f6.png": ("\x89PNG", "image/png"),
        "g7h8.pdf": ("%PDF-1.4", "application/pdf"),
    }
    headers = await client_bearer(client)
    for name, (content, expected) in files.items():
        (uploads / name).write_text(content)
        resp = await client.get(f"/api/v1/attachments/{name}", headers=headers)
        assert resp.status == 200
        assert resp.headers["Content-Type"].split(";")[0] == expected, name
        assert resp.headers["Content-Disposition"].startswith("attachment;")
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Content-Security-Policy"] == "sandbox"
    assert (await client.get("/api/v1/attachments/..%2fsecret", headers=headers)).status == 404


def _limited(frame: dict[str, Any]) -> bool:
    return frame.get("code") == "rate_limited"


async def test_web_chat_limits_per_visitor_address_and_new_visitors(
    client: TestClient[Any, Any],
) -> None:
    webchat = client.app[SERVICES].webchat
    # Small allowances with no refill make the counts exact.
    webchat._by_visitor = Buckets(5, 0.0)
    webchat._by_address = Buckets(8, 0.0)
    webchat._new_by_address = Buckets(3, 0.0)

    first, welcome = await connect(client)
    tabs = [first] + [(await connect(client, welcome["token"]))[0] for _ in range(2)]
    outcomes = []
    for i in range(12):  # one visitor on three tabs: five get in
        tab = tabs[i % 3]
        cid = f"c-{i}"
        await tab.ws.send_json({"type": "message", "id": cid, "text": f"question {i}"})
        frame = await tab.until(lambda f, cid=cid: f.get("id") == cid or _limited(f))
        outcomes.append(frame.get("code", frame["type"]))
    assert outcomes.count("ack") == 5 and outcomes.count("rate_limited") == 7

    # Another visitor from the same address: the address has three messages left.
    other, _ = await connect(client)
    got = []
    for i in range(5):
        await other.ws.send_json({"type": "message", "id": f"o-{i}", "text": "hello"})
        frame = await other.until(lambda f, i=i: f.get("id") == f"o-{i}" or _limited(f))
        got.append(frame.get("code", frame["type"]))
    assert got == ["ack", "ack", "ack", "rate_limited", "rate_limited"]

    # Two new visitors were made from this address; a third is allowed, a fourth is not.
    await connect(client)
    _, refused = await connect(client)
    assert refused["type"] == "error" and refused["code"] == "rate_limited"
    for sock in (*tabs, other):
        await sock.ws.close()


async def test_wrong_api_tokens_are_throttled_per_address(client: TestClient[Any, Any]) -> None:
    good = await client_bearer(client)
    statuses = []
    for i in range(22):
        resp = await client.get("/api/v1/me", headers={"Authorization": f"Bearer odk_wrong{i}"})
        statuses.append(resp.status)
    assert statuses[:20] == [401] * 20 and statuses[20:] == [429, 429]
    assert int(resp.headers["Retry-After"]) >= 1
    # While throttled, the address cannot try tokens at all (no oracle), but a browser
    # session or another address is not affected.
    assert (await client.get("/api/v1/me", headers=good)).status == 429
