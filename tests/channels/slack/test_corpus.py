"""Every captured Slack payload in ``tests/fixtures/slack`` through the channel the way
Slack delivers it: signed over HTTP to the real bolt app, against a local Slack that knows
the bot and a fixed directory of people. What comes out is checked against the folder's
manifest (see ``tests/corpus.py``):

- ``kind``: ``message`` (a new message), ``edit`` or ``delete`` (of an earlier one), or
  ``ignored`` (nothing for the helpdesk; the manifest's ``ignored`` says why: a bot's
  post, our own message, a channel message not addressed to the bot, an event we do not
  subscribe to); an ignored case carries ``text = ""``;
- ``text`` / ``text_contains`` / ``text_excludes``, ``files`` (names, in order),
  ``thread_key``, and ``replaces`` for edits and deletions.

A payload may be an Events API envelope, a Socket Mode envelope (its ``payload`` is what
HTTP would carry) or a bare inner event (wrapped in an envelope here, as Slack sends it).
Optional per case: ``bot_user`` (the app's bot user, else the one the envelope's
``authorizations`` or ``authed_users`` name), ``users`` (names ``users.info`` knows),
``bot_in_thread`` (the bot has posted in the message's thread).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pydantic import SecretStr

from omnidesk.channels import InboundMessage, InboundResult
from omnidesk.channels.slack import SlackChannel
from omnidesk.config import SlackSettings
from tests.channels.slack.fakeslack import (
    BOT_TOKEN,
    BOT_USER_ID,
    SIGNING_SECRET,
    FakeSlack,
    interactivity_body,
    signed_headers,
)
from tests.corpus import Case, corpus_params

KINDS = ("message", "edit", "delete", "ignored")
REQUIRED = ("files", "thread_key")
INTERACTIONS = ("block_actions", "interactive_message", "view_submission", "shortcut")


class Peer:
    """The channel under test, mounted in its own little server, and what it delivered."""

    def __init__(self, client: TestClient[Any, Any], slack: FakeSlack) -> None:
        self.client = client
        self.slack = slack
        self.delivered: list[InboundMessage] = []

    async def post(self, body: dict[str, Any]) -> tuple[int, str]:
        if body.get("type") in INTERACTIONS:
            raw = interactivity_body(body)
            kind, path = "application/x-www-form-urlencoded", "/slack/interactivity"
        else:
            raw = json.dumps(body).encode()
            kind, path = "application/json", "/slack/events"
        headers = {"Content-Type": kind, **signed_headers(raw)}
        resp = await self.client.post(path, data=raw, headers=headers)
        return resp.status, await resp.text()


@pytest.fixture
async def peer(aiohttp_server: Any, aiohttp_client: Any) -> AsyncIterator[Peer]:
    slack = FakeSlack()
    server = await aiohttp_server(slack.app())
    settings = SlackSettings(
        bot_token=SecretStr(BOT_TOKEN),
        signing_secret=SecretStr(SIGNING_SECRET),
        api_base_url=str(server.make_url("/api/")),
    )
    delivered: list[InboundMessage] = []

    async def on_message(inbound: InboundMessage) -> InboundResult:
        delivered.append(inbound)
        return InboundResult.ACCEPTED

    channel = SlackChannel(settings, on_message)
    app = web.Application()
    app.add_routes(channel.routes())
    await channel.start()
    peer = Peer(await aiohttp_client(app), slack)
    peer.delivered = delivered
    yield peer
    await channel.stop()


def envelope(case: Case, data: dict[str, Any]) -> dict[str, Any]:
    """What Slack posts for this payload."""
    if data.get("type") == "events_api" and isinstance(data.get("payload"), dict):
        return dict(data["payload"])
    if "event" in data or data.get("type") in (*INTERACTIONS, "url_verification"):
        return data
    return {
        "token": "corpus",
        "team_id": "T0CORPUS1",
        "api_app_id": "A0CORPUS1",
        "event": data,
        "type": "event_callback",
        "event_id": f"Ev{case.path.stem}",
        "event_time": 1700000000,
    }


def bot_user(case: Case, body: dict[str, Any]) -> str:
    if "bot_user" in case.expect:
        return str(case.expect["bot_user"])
    for grant in body.get("authorizations") or ():
        if grant.get("is_bot") and grant.get("user_id"):
            return str(grant["user_id"])
    authed = body.get("authed_users") or ()
    return str(authed[0]) if authed else BOT_USER_ID


def prepare(peer: Peer, case: Case, body: dict[str, Any]) -> None:
    peer.slack.bot_user_id = bot_user(case, body)
    for uid, name in case.expect.get("users", {}).items():
        peer.slack.add_user(uid, name)
    if case.expect.get("bot_in_thread"):
        event = body["event"]
        message = event.get("message") or event.get("previous_message") or event
        thread = (str(event["channel"]), str(message["thread_ts"]))
        peer.slack.threads[thread].append(
            {"type": "message", "user": peer.slack.bot_user_id, "bot_id": "B0BOT0001", "ts": "1.1"}
        )


def kind_of(inbound: InboundMessage) -> str:
    if inbound.replaces is None:
        return "message"
    return "delete" if inbound.deleted else "edit"


@pytest.mark.parametrize("case", corpus_params("slack"))
async def test_slack_payload_arrives_whole(peer: Peer, case: Case) -> None:
    kind = case.expect.get("kind")
    assert kind in KINDS, f"{case.id}: kind {kind!r}"
    body = envelope(case, json.loads(case.path.read_text(encoding="utf-8")))
    prepare(peer, case, body)
    status, answer = await peer.post(body)
    assert status == 200, f"{case.id}: {status} {answer}"
    if kind == "ignored":
        assert case.expect.get("ignored"), f"{case.id}: an ignored case says why"
        assert peer.delivered == [], f"{case.id}: {peer.delivered}"
        if body.get("type") == "url_verification":
            assert body["challenge"] in answer
        return
    missing = [key for key in REQUIRED if key not in case.expect]
    assert not missing, f"{case.id}: manifest lacks {missing}"
    [inbound] = peer.delivered
    assert kind_of(inbound) == kind, case.id
    case.text_ok(inbound.text)
    assert [a.filename for a in inbound.attachments] == case.expect["files"], case.id
    assert inbound.thread_key == case.expect["thread_key"], case.id
    assert inbound.automated is False
    if "replaces" in case.expect:
        assert inbound.replaces == case.expect["replaces"], case.id
    if "action" in case.expect:
        assert inbound.action == case.expect["action"], case.id
    if kind == "message":
        # No accepted customer message is empty: words, a file or a pressed button.
        assert inbound.text.strip() or inbound.attachments or inbound.action, case.id
