"""A Slack customer edits, then deletes, a message while an agent has the conversation open
in the console (real service, local Slack, headless Chromium): the message is redrawn in
place, live, as edited with its earlier wording, then as deleted with its words gone."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.channels.slack.fakeslack import BOT_TOKEN, SIGNING_SECRET, fixture, signed_headers
from tests.channels.slack.fakeslack import _user as slack_user
from tests.e2e.conftest import AGENT, Server, running_service, sign_in
from tests.e2e.test_channel_handoffs import AgentSession
from tests.e2e.test_one_contact_across_channels import Peers, post, wait_until

pytestmark = pytest.mark.e2e

UI_TIMEOUT_MS = 20_000
USER, DM = f"U0REV{uuid.uuid4().hex[:6].upper()}", f"D0REV{uuid.uuid4().hex[:6].upper()}"


@pytest.fixture(scope="module")
def slack_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Peers]]:
    peers = Peers()
    peers.start()
    peers.slack.users[USER] = slack_user(USER, "sam", "Sam Reyes", None)
    env = {
        "OMNIDESK_SLACK__BOT_TOKEN": BOT_TOKEN,
        "OMNIDESK_SLACK__SIGNING_SECRET": SIGNING_SECRET,
        "OMNIDESK_SLACK__API_BASE_URL": peers.slack.base_url,
    }
    try:
        with running_service(tmp_path_factory.mktemp("revisions"), env) as base:
            yield Server(base), peers
    finally:
        peers.stop()


def send(server: Server, event: dict[str, Any]) -> None:
    body = json.dumps(event).encode()
    headers = {"Content-Type": "application/json", **signed_headers(body)}
    assert post(server.url("/slack/events"), body, headers) == 200


def revision(subtype: str, ts: str, text: str, new_text: str | None) -> dict[str, Any]:
    """The ``message_changed`` or ``message_deleted`` Slack sends for Sam's message."""
    previous = {"type": "message", "user": USER, "text": text, "ts": ts}
    event: dict[str, Any] = {
        "type": "message",
        "subtype": subtype,
        "channel": DM,
        "channel_type": "im",
        "hidden": True,
        "previous_message": previous,
        "ts": f"{time.time():.6f}",
    }
    if new_text is None:
        event["deleted_ts"] = ts
    else:
        edited = {"user": USER, "ts": event["ts"]}
        event["message"] = {**previous, "text": new_text, "edited": edited}
    return {**fixture("message_im", event_id=f"Ev0{uuid.uuid4().hex[:10].upper()}"), "event": event}


async def test_an_edit_and_a_deletion_are_redrawn_live(
    slack_service: tuple[Server, Peers], browser: Any
) -> None:
    server, _peers = slack_service
    marker = uuid.uuid4().hex[:8]
    ts = f"{int(time.time())}.000100"
    first = f"I want to talk to a person about order {marker}"
    send(
        server,
        fixture(
            "message_im", event_id=f"Ev0{marker.upper()}", user=USER, channel=DM, ts=ts, text=first
        ),
    )
    agent = AgentSession(server.base_url, AGENT)
    detail = wait_until(lambda: agent.conversation_with("slack", marker), timeout=45)
    conv_id = detail["conversation"]["id"]

    page = await browser.new_page()
    await sign_in(page, server, AGENT)
    await page.locator(".oc-view-tab[data-view='all']").click()
    await page.locator(f".oc-conv[data-id='{conv_id}']").click()
    customer = page.locator(".oc-msg.oc-contact").filter(has_text=marker)
    await customer.wait_for(timeout=UI_TIMEOUT_MS)

    corrected = f"I want to talk to a person about order {marker}-B"
    send(server, revision("message_changed", ts, first, corrected))
    edited = page.locator(".oc-msg.oc-contact").filter(has_text=f"{marker}-B")
    await edited.wait_for(timeout=UI_TIMEOUT_MS)
    assert await edited.locator(".oc-msg-flag").inner_text() == "edited"
    earlier = await edited.locator(".oc-revisions p").all_text_contents()
    assert any(first in line for line in earlier), earlier

    send(server, revision("message_deleted", ts, corrected, None))
    gone = page.locator(".oc-msg.oc-contact.oc-deleted")
    await gone.wait_for(timeout=UI_TIMEOUT_MS)
    assert await gone.locator(".oc-msg-flag").inner_text() == "deleted"
    assert marker not in await gone.inner_text()
    # Redrawn in place: one customer message on the page, not a second one below.
    assert await page.locator(".oc-msg.oc-contact").count() == 1
    await page.close()
