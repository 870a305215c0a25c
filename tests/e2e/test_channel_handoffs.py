"""The handoff on email, Slack and Telegram, against the real service and local peers
that speak each platform's protocol (a real SMTP server on loopback; local Slack Web API
and Telegram Bot API servers, with requests to us signed as the platforms sign them):
the customer asks for a person, a ticket is queued with the reason ``customer_request``
and the customer is told on their channel; an agent's reply from the console's API (the
agent's own session: cookie and CSRF token) reaches them on the same channel; and while
the agent owns the conversation the bot stays silent on the customer's next message.
"""

from __future__ import annotations

import copy
import http.cookiejar
import itertools
import json
import smtplib
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tests.channels.slack.fakeslack import BOT_TOKEN, SIGNING_SECRET, fixture, signed_headers
from tests.channels.slack.fakeslack import _user as slack_user
from tests.channels.telegram.fakeapi import TOKEN as TELEGRAM_TOKEN
from tests.e2e.conftest import AGENT, Account, _free_port, running_service
from tests.e2e.test_one_contact_across_channels import Peers, post, wait_until

pytestmark = pytest.mark.e2e

SUPPORT = "support@lumen.example"
TELEGRAM_SECRET = "e2e-handoff-telegram-secret"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
HANDOFF_NOTICE = "passed your conversation to"
# After the customer's follow-up is stored, how long the peers are watched for a reply
# that must not come (the stored conversation is the real proof; this is the wire).
QUIET_S = 2.0
_numbers = itertools.count(1)
# This run's people are new to the database, which may be a PostgreSQL one that earlier
# runs used: an old identity would bring back its old, assigned conversation.
RUN = uuid.uuid4().int % 10**6


@dataclass
class Service:
    base: str
    peers: Peers
    smtp_port: int


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """One service with email, Slack and Telegram on, pointed at the module's peers."""
    peers = Peers()
    peers.start()
    smtp_port = _free_port()
    env = {
        "OMNIDESK_EMAIL__ADDRESS": SUPPORT,
        "OMNIDESK_EMAIL__INBOUND_SMTP_PORT": str(smtp_port),
        "OMNIDESK_EMAIL__SMTP_HOST": "127.0.0.1",
        "OMNIDESK_EMAIL__SMTP_PORT": str(peers.smtp.port),
        "OMNIDESK_EMAIL__SMTP_STARTTLS": "false",
        "OMNIDESK_SLACK__BOT_TOKEN": BOT_TOKEN,
        "OMNIDESK_SLACK__SIGNING_SECRET": SIGNING_SECRET,
        "OMNIDESK_SLACK__API_BASE_URL": peers.slack.base_url,
        "OMNIDESK_TELEGRAM__BOT_TOKEN": TELEGRAM_TOKEN,
        "OMNIDESK_TELEGRAM__WEBHOOK_SECRET": TELEGRAM_SECRET,
        "OMNIDESK_TELEGRAM__API_BASE_URL": peers.telegram.api_base_url,
        "OMNIDESK_TELEGRAM__FILE_BASE_URL": peers.telegram.file_base_url,
    }
    try:
        with running_service(tmp_path_factory.mktemp("handoffs"), env) as base:
            yield Service(base, peers, smtp_port)
    finally:
        peers.stop()


class AgentSession:
    """The console's API as a signed-in agent's browser calls it: the session cookie,
    and the CSRF token from the login on every write."""

    def __init__(self, base: str, account: Account) -> None:
        self.base = base
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        login = {"email": account.email, "password": account.password}
        self.csrf = ""
        self.csrf = str(self.call("POST", "/api/v1/auth/login", login)["csrf_token"])

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            self.base + path,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json", "X-CSRF-Token": self.csrf},
            method=method,
        )
        with self.opener.open(request, timeout=15) as response:
            return json.loads(response.read())

    def conversation_with(self, channel: str, marker: str) -> dict[str, Any]:
        """The conversation on ``channel`` whose messages hold ``marker``, with them."""
        listing = self.call("GET", f"/api/v1/conversations?state=all&channel={channel}")
        for summary in listing["conversations"]:
            detail = self.call("GET", f"/api/v1/conversations/{summary['id']}")
            if any(marker in (m.get("text") or "") for m in detail["messages"]):
                return dict(detail)
        return {}


@dataclass
class Customer:
    """One person on one channel: ``write`` sends as them through the platform's way in;
    ``received`` is every text the platform delivered to them, in order."""

    channel: str
    write: Callable[[str], None]
    received: Callable[[], list[str]]
    # Where delivery N names who wrote it: Slack and Telegram in the text, email in From.
    signed: Callable[[int], str] | None = None

    def signature(self, index: int) -> str:
        return self.signed(index) if self.signed else self.received()[index]


def email_customer(service: Service) -> Customer:
    address = f"pat-{uuid.uuid4().hex[:8]}@example.com"

    def mails() -> list[EmailMessage]:
        return [c.message for c in service.peers.smtp.caught if c.rcpt_tos == [address]]

    def write(text: str) -> None:
        mail = EmailMessage()
        mail["From"] = f"Pat Lee <{address}>"
        mail["To"] = SUPPORT
        mail["Message-ID"] = f"<{uuid.uuid4().hex}@mail.example.com>"
        answered = mails()
        if answered:  # a reply to our latest mail, as a mail client threads it
            mail["Subject"] = f"Re: {answered[-1]['Subject']}"
            mail["In-Reply-To"] = answered[-1]["Message-ID"]
            mail["References"] = answered[-1]["Message-ID"]
        else:
            mail["Subject"] = "My order"
        mail.set_content(text)
        with smtplib.SMTP("127.0.0.1", service.smtp_port, timeout=15) as client:
            client.send_message(mail)

    def received() -> list[str]:
        bodies = [m.get_body(preferencelist=("plain",)) for m in mails()]
        return [str(b.get_content()) for b in bodies if b is not None]

    return Customer("email", write, received, lambda i: str(mails()[i]["From"]))


def slack_customer(service: Service) -> Customer:
    number = RUN * 100 + next(_numbers)
    user, channel = f"U0E2E{number:08d}", f"D0E2E{number:08d}"
    service.peers.slack.users[user] = slack_user(user, f"pat{number}", "Pat Lee", None)
    state: dict[str, Any] = {}

    def write(text: str) -> None:
        ts = f"{int(time.time())}.{next(_numbers):06d}"
        # The first message starts the thread; the answers and follow-ups stay in it.
        state.setdefault("thread_ts", ts)
        event = fixture(
            "message_im",
            event_id=f"Ev0E2E{uuid.uuid4().hex[:10].upper()}",
            user=user,
            channel=channel,
            ts=ts,
            event_ts=ts,
            text=text,
            client_msg_id=str(uuid.uuid4()),
            blocks=[],
        )
        if state["thread_ts"] != ts:
            event["event"]["thread_ts"] = state["thread_ts"]
        body = json.dumps(event).encode()
        headers = {"Content-Type": "application/json", **signed_headers(body)}
        assert post(service.base + "/slack/events", body, headers) == 200

    def received() -> list[str]:
        # Only what went to the customer's own thread counts.
        posts = service.peers.slack.posts()
        thread = state.get("thread_ts")
        return [
            str(p["text"]) for p in posts if (p["channel"], p.get("thread_ts")) == (channel, thread)
        ]

    return Customer("slack", write, received)


def telegram_customer(service: Service) -> Customer:
    template = json.loads((FIXTURES / "telegram" / "text_message.json").read_text())
    chat_id = 6_000_000_000 + RUN * 100 + next(_numbers)

    def write(text: str) -> None:
        update = copy.deepcopy(template)
        update["update_id"] = 1_000_000_000 + RUN * 100 + next(_numbers)  # the dedupe key
        update["message"]["message_id"] = next(_numbers)
        update["message"]["date"] = int(time.time())
        update["message"]["from"]["id"] = chat_id
        update["message"]["chat"]["id"] = chat_id
        update["message"]["text"] = text
        headers = {
            "Content-Type": "application/json",
            "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET,
        }
        assert post(service.base + "/telegram/webhook", json.dumps(update).encode(), headers) == 200

    def received() -> list[str]:
        sent = service.peers.telegram.to("sendMessage")
        return [str(p["text"]) for p in sent if int(p["chat_id"]) == chat_id]

    return Customer("telegram", write, received)


CUSTOMERS = {"email": email_customer, "slack": slack_customer, "telegram": telegram_customer}


def arrived(customer: Customer, count: int, containing: str) -> list[str]:
    """Wait until the customer has ``count`` deliveries, the newest holding ``containing``."""
    texts = wait_until(lambda: customer.received()[count - 1 :] or None, timeout=45)
    assert len(customer.received()) == count, customer.received()
    assert containing in texts[-1], texts
    return customer.received()


def stored(agent: AgentSession, conv_id: int, text: str) -> dict[str, Any] | None:
    """The conversation once its newest message is ``text`` (the turn that stored it
    also stored any reply: the router writes both in one transaction)."""
    detail: dict[str, Any] = agent.call("GET", f"/api/v1/conversations/{conv_id}")
    messages = [m for m in detail["messages"] if not m.get("private")]
    return detail if messages and (messages[-1]["text"] or "").strip() == text else None


@pytest.mark.parametrize("channel", list(CUSTOMERS))
def test_asking_for_a_person_hands_off_on_the_same_channel(service: Service, channel: str) -> None:
    customer = CUSTOMERS[channel](service)
    agent = AgentSession(service.base, AGENT)
    marker = uuid.uuid4().hex[:8]

    customer.write(f"I want to talk to a person about order {marker}")
    arrived(customer, 1, HANDOFF_NOTICE)
    detail = wait_until(lambda: agent.conversation_with(channel, marker), timeout=30)
    conversation = detail["conversation"]
    assert conversation["state"] == "queued"
    assert conversation["ticket"]["reason"] == "customer_request"
    assert conversation["ticket"]["state"] == "open"
    conv_id = conversation["id"]

    reply = f"Your order {marker} ships tomorrow."
    agent.call("POST", f"/api/v1/conversations/{conv_id}/messages", {"text": reply})
    arrived(customer, 2, reply)
    assert AGENT.name in customer.signature(1).replace(reply, "")

    # The agent owns it now: the customer's next message is kept and the bot says nothing.
    follow_up = f"thanks, I'll wait ({marker}-2)"
    customer.write(follow_up)
    detail = wait_until(lambda: stored(agent, conv_id, follow_up), timeout=30)
    assert detail["conversation"]["state"] == "assigned"
    assert detail["conversation"]["assignee"]["name"] == AGENT.name
    authors = [m["author"] for m in detail["messages"]]
    assert authors[-2:] == ["agent", "contact"], authors
    time.sleep(QUIET_S)
    assert len(customer.received()) == 2, customer.received()
    again = agent.call("GET", f"/api/v1/conversations/{conv_id}")
    assert [m["author"] for m in again["messages"]] == authors
