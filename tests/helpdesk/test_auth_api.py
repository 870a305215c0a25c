"""Sign-in over HTTP against the real app: the page, cookies, CSRF, rate limits, the
caller's own account and tokens, and admins managing agents and teams."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import WSMsgType, WSServerHandshakeError
from aiohttp.test_utils import TestClient

from omnidesk.bot.app import SERVICES, create_app
from omnidesk.config import Settings
from tests.accounts import PASSWORD, add_agent


@pytest.fixture
async def client(
    aiohttp_client: Any, settings: Settings, db: object
) -> AsyncIterator[TestClient[Any, Any]]:
    settings.knowledge.seed_sample = False
    settings.auth.login_max_per_account = 3
    settings.auth.login_max_per_ip = 5
    client = await aiohttp_client(create_app(settings))
    maker = client.app[SERVICES].sessionmaker
    await add_agent(maker, "root@x.test", role="admin", name="Root")
    await add_agent(maker, "ann@x.test", name="Ann")
    yield client


async def login(
    client: TestClient[Any, Any], email: str, password: str = PASSWORD, status: int = 200
) -> dict[str, Any]:
    resp = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    data: dict[str, Any] = await resp.json()
    assert resp.status == status, data
    return data


async def test_sign_in_sets_a_safe_cookie_and_me_answers(client: TestClient[Any, Any]) -> None:
    resp = await client.get("/console", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/signin?next=/console"
    page = await client.get("/signin")
    assert page.status == 200 and "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert '<script src="/signin/signin.js"' in await page.text()
    assert (await client.get("/signin/signin.js")).status == 200

    resp = await client.post(
        "/api/v1/auth/login", json={"email": " ANN@x.test", "password": PASSWORD}
    )
    assert resp.status == 200
    cookie = resp.headers["Set-Cookie"]
    assert cookie.startswith("omnidesk_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http on loopback
    body = await resp.json()
    assert body["agent"]["email"] == "ann@x.test" and body["agent"]["role"] == "agent"

    me = await (await client.get("/api/v1/me")).json()
    assert me["agent"]["name"] == "Ann" and me["csrf_token"] == body["csrf_token"]
    assert set(me["agent"]) >= {"id", "name", "email", "role", "availability", "skills", "teams"}
    assert (await client.get("/console", allow_redirects=False)).status == 200


async def test_bad_credentials_and_non_json_are_refused(client: TestClient[Any, Any]) -> None:
    assert (await login(client, "ann@x.test", "wrong-password", 401))["error"]["code"] == (
        "bad_credentials"
    )
    assert (await login(client, "nobody@x.test", status=401))["error"]["code"] == (
        "bad_credentials"
    )
    resp = await client.post("/api/v1/auth/login", data="email=ann@x.test&password=x")
    assert resp.status == 415
    resp = await client.post("/api/v1/auth/login", json={"email": "ann@x.test"})
    assert resp.status == 400
    assert (await client.get("/api/v1/me")).status == 401


async def test_csrf_is_needed_for_cookie_writes(client: TestClient[Any, Any]) -> None:
    csrf = (await login(client, "ann@x.test"))["csrf_token"]
    resp = await client.patch("/api/v1/me", json={"availability": "online"})
    assert resp.status == 403 and (await resp.json())["error"]["code"] == "csrf"
    resp = await client.patch(
        "/api/v1/me", json={"availability": "online"}, headers={"X-CSRF-Token": "nope"}
    )
    assert resp.status == 403
    resp = await client.patch(
        "/api/v1/me", json={"availability": "online"}, headers={"X-CSRF-Token": csrf}
    )
    assert resp.status == 200 and (await resp.json())["agent"]["availability"] == "online"
    resp = await client.patch(
        "/api/v1/me", json={"availability": "asleep"}, headers={"X-CSRF-Token": csrf}
    )
    assert resp.status == 400

    # Sign-out ends the session on the server, not just in the browser.
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))["omnidesk_session"]
    resp = await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert resp.status == 200
    client.session.cookie_jar.update_cookies({"omnidesk_session": cookie.value})
    assert (await client.get("/api/v1/me")).status == 401


async def test_signing_out_of_the_last_session_goes_offline(
    client: TestClient[Any, Any], aiohttp_client: Any
) -> None:
    other = await aiohttp_client(client.server)  # a second browser, same account
    first = (await login(client, "ann@x.test"))["csrf_token"]
    second = (await login(other, "ann@x.test"))["csrf_token"]
    online = {"availability": "online"}
    resp = await client.patch("/api/v1/me", json=online, headers={"X-CSRF-Token": first})
    assert resp.status == 200

    async def availability() -> str:
        me = await (await other.get("/api/v1/me")).json()
        return str(me["agent"]["availability"])

    # One browser signs out: the other is still there, so still online.
    await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": first})
    assert await availability() == "online"
    await other.post("/api/v1/auth/logout", headers={"X-CSRF-Token": second})
    third = (await login(client, "ann@x.test"))["agent"]
    assert third["availability"] == "offline"


async def test_sign_in_attempts_are_limited(client: TestClient[Any, Any]) -> None:
    for _ in range(3):
        await login(client, "ann@x.test", "wrong-password", 401)
    # The account is locked for a while, even with the right password...
    resp = await client.post(
        "/api/v1/auth/login", json={"email": "ann@x.test", "password": PASSWORD}
    )
    assert resp.status == 429 and 1 <= int(resp.headers["Retry-After"]) <= 900
    assert (await resp.json())["error"]["code"] == "rate_limited"
    # ...while another account may still sign in, until the address is over its limit.
    await login(client, "root@x.test")
    for _ in range(2):
        await login(client, "nobody@x.test", "x", 401)
    await login(client, "root@x.test", status=429)


async def test_password_change_ends_other_sessions(
    client: TestClient[Any, Any], aiohttp_client: Any
) -> None:
    other = await aiohttp_client(client.server)  # a second browser
    await login(other, "ann@x.test")
    csrf = (await login(client, "ann@x.test"))["csrf_token"]
    resp = await client.post(
        "/api/v1/me/password",
        json={"current": "wrong-password", "new": "another-good-one"},
        headers={"X-CSRF-Token": csrf},
    )
    assert resp.status == 403
    resp = await client.post(
        "/api/v1/me/password",
        json={"current": PASSWORD, "new": "another-good-one"},
        headers={"X-CSRF-Token": csrf},
    )
    assert resp.status == 200
    assert (await client.get("/api/v1/me")).status == 200  # this browser stays in
    assert (await other.get("/api/v1/me")).status == 401
    await login(other, "ann@x.test", PASSWORD, 401)
    await login(other, "ann@x.test", "another-good-one")


async def test_personal_api_tokens(client: TestClient[Any, Any]) -> None:
    csrf = (await login(client, "ann@x.test"))["csrf_token"]
    resp = await client.post(
        "/api/v1/me/tokens", json={"name": "my script"}, headers={"X-CSRF-Token": csrf}
    )
    assert resp.status == 201
    created = await resp.json()
    secret = created["secret"]
    assert secret.startswith("odk_") and created["token"]["prefix"] == secret[:10]
    listed = await (await client.get("/api/v1/me/tokens")).json()
    assert secret not in str(listed) and listed["tokens"][0]["name"] == "my script"

    client.session.cookie_jar.clear()
    bearer = {"Authorization": f"Bearer {secret}"}
    me = await (await client.get("/api/v1/me", headers=bearer)).json()
    assert me["agent"]["email"] == "ann@x.test" and me["csrf_token"] is None
    # A bearer token needs no CSRF header.
    resp = await client.patch("/api/v1/me", json={"availability": "away"}, headers=bearer)
    assert resp.status == 200
    token_id = created["token"]["id"]
    assert (await client.delete(f"/api/v1/me/tokens/{token_id}", headers=bearer)).status == 200
    assert (await client.get("/api/v1/me", headers=bearer)).status == 401


async def test_admin_manages_agents_and_teams(
    client: TestClient[Any, Any], aiohttp_client: Any
) -> None:
    csrf = {"X-CSRF-Token": (await login(client, "root@x.test"))["csrf_token"]}
    resp = await client.post(
        "/api/v1/agents",
        json={
            "name": "Bo",
            "email": "bo@x.test",
            "password": "bo-password-1",
            "skills": ["billing"],
            "capacity": 2,
        },
        headers=csrf,
    )
    assert resp.status == 201, await resp.text()
    bo = (await resp.json())["agent"]
    assert (bo["role"], bo["skills"], bo["capacity"]) == ("agent", ["billing"], 2)
    resp = await client.post(
        "/api/v1/agents", json={"email": "bo@x.test", "password": "whatever-1"}, headers=csrf
    )
    assert resp.status == 409

    resp = await client.post(
        "/api/v1/teams", json={"name": "Billing", "members": [bo["id"]]}, headers=csrf
    )
    assert resp.status == 201
    team = (await resp.json())["team"]
    assert team["members"] == [bo["id"]]
    agents = (await (await client.get("/api/v1/agents")).json())["agents"]
    assert next(a for a in agents if a["id"] == bo["id"])["teams"] == [
        {"id": team["id"], "name": "Billing"}
    ]
    resp = await client.patch(
        f"/api/v1/teams/{team['id']}", json={"members": [999999]}, headers=csrf
    )
    assert resp.status == 404

    # Bo signs in elsewhere; disabling Bo ends that session.
    bo_client = await aiohttp_client(client.server)
    await login(bo_client, "bo@x.test", "bo-password-1")
    resp = await client.patch(f"/api/v1/agents/{bo['id']}", json={"active": False}, headers=csrf)
    assert resp.status == 200 and (await resp.json())["agent"]["active"] is False
    assert (await bo_client.get("/api/v1/me")).status == 401
    await login(bo_client, "bo@x.test", "bo-password-1", 401)

    resp = await client.delete(f"/api/v1/teams/{team['id']}", headers=csrf)
    assert resp.status == 200
    assert (await (await client.get("/api/v1/teams")).json())["teams"] == []


async def _closed_signed_out(ws: Any) -> bool:
    msg = await ws.receive(timeout=10)
    code = msg.data if msg.type == WSMsgType.CLOSE else ws.close_code
    return msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSED) and code == 4401


async def _still_open(ws: Any) -> bool:
    await ws.send_json({"type": "ping"})
    while True:
        frame = await ws.receive_json(timeout=10)
        if frame["type"] == "pong":
            return True


async def test_live_sockets_close_with_their_sessions(
    client: TestClient[Any, Any], aiohttp_client: Any
) -> None:
    other = await aiohttp_client(client.server)  # a second browser of the same agent
    csrf = (await login(client, "ann@x.test"))["csrf_token"]
    await login(other, "ann@x.test")
    mine = await client.ws_connect("/api/v1/live")
    theirs = await other.ws_connect("/api/v1/live")
    for ws in (mine, theirs):
        assert (await ws.receive_json(timeout=10))["type"] == "hello"
    # A password change ends the other browser's session and its socket; this one stays.
    resp = await client.post(
        "/api/v1/me/password",
        json={"current": PASSWORD, "new": "another-good-one"},
        headers={"X-CSRF-Token": csrf},
    )
    assert resp.status == 200
    assert await _closed_signed_out(theirs)
    assert await _still_open(mine)
    with pytest.raises(WSServerHandshakeError) as refused:
        await other.ws_connect("/api/v1/live")
    assert refused.value.status == 401
    # Signing out closes this browser's socket, not the other browser's new one.
    await login(other, "ann@x.test", "another-good-one")
    kept = await other.ws_connect("/api/v1/live")
    assert (await kept.receive_json(timeout=10))["type"] == "hello"
    resp = await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert resp.status == 200
    assert await _closed_signed_out(mine)
    assert await _still_open(kept)
    await kept.close()
