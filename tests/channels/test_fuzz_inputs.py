"""Property tests with a fixed budget over the parsers a stranger reaches without any
credential: raw email (anyone can send a mail) and web chat frames (anyone can open the
widget). Whatever arrives, the outcome is a parsed message whose text the store accepts,
or the parser's own refusal; never another exception."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnidesk import untrusted
from omnidesk.channels.email import RejectedMail, parse_mail
from omnidesk.channels.email.channel import to_inbound
from omnidesk.channels.webchat.channel import FrameError, WebchatChannel, _parse
from omnidesk.channels.webchat.tokens import VisitorTokens
from omnidesk.config import WebchatSettings
from omnidesk.messages import InboundMessage, InboundResult
from tests.channels.email.conftest import OURS, fixture_mail

BUDGET = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
header_text = st.text(max_size=80).filter(lambda t: "\r" not in t and "\n" not in t)
content_types = st.sampled_from(
    [
        "text/plain",
        "text/html",
        "multipart/mixed",
        "multipart/alternative",
        "message/rfc822",
        "application/pdf",
        "image/png",
        "text/plain; charset=utf-16",
        "text/plain; charset=bogus-charset",
        "",
    ]
)


def _assert_storable(inbound: InboundMessage) -> None:
    for value in (inbound.text, inbound.sender_id, inbound.dedupe_key, inbound.thread_key):
        assert untrusted.is_clean(value)
        value.encode("utf-8")
    json.dumps(inbound.to_dict())


def _take_mail(raw: bytes) -> None:
    try:
        parsed = parse_mail(raw, our_address=OURS)
    except RejectedMail:
        return
    _assert_storable(to_inbound(parsed, [], [], source="smtp"))


@BUDGET
@given(st.binary(max_size=2000))
def test_any_bytes_as_a_mail(raw: bytes) -> None:
    _take_mail(raw)


@BUDGET
@given(
    subject=header_text,
    sender=header_text,
    content_type=content_types,
    encoding=st.sampled_from(["7bit", "base64", "quoted-printable", "8bit", "x-unknown"]),
    body=st.binary(max_size=1500),
)
def test_mails_with_hostile_headers_and_bodies(
    subject: str, sender: str, content_type: str, encoding: str, body: bytes
) -> None:
    head = fixture_mail("thunderbird_question.eml").split(b"\r\n\r\n", 1)[0]
    lines = [
        line
        for line in head.split(b"\r\n")
        if not line.lower().startswith((b"subject:", b"content-type:", b"content-transfer"))
    ]
    lines += [
        f"Subject: {subject}".encode("utf-8", "surrogatepass"),
        f"Reply-To: {sender}".encode("utf-8", "surrogatepass"),
        f"Content-Type: {content_type}".encode(),
        f"Content-Transfer-Encoding: {encoding}".encode(),
    ]
    _take_mail(b"\r\n".join(lines) + b"\r\n\r\n" + body)


class _Socket:
    """Collects what the channel sends back; the frames are the subject here."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send_json(self, frame: dict[str, Any]) -> None:
        self.sent.append(frame)


def _feed_frame(value: Any) -> None:
    """One frame through the web chat's parser and handler, as a socket would bring it."""
    accepted: list[InboundMessage] = []

    async def on_message(inbound: InboundMessage) -> InboundResult:
        accepted.append(inbound)
        return InboundResult.ACCEPTED

    async def no_history(visitor: str) -> list[dict[str, Any]]:
        return []

    async def run() -> None:
        channel = WebchatChannel(WebchatSettings(), VisitorTokens("k"), on_message, no_history)
        data = value if isinstance(value, str) else json.dumps(value)
        try:
            await channel._frame(_Socket(), "visitor", _parse(data))  # type: ignore[arg-type]
        except FrameError:
            return

    asyncio.run(run())
    for inbound in accepted:
        _assert_storable(inbound)


@BUDGET
@given(st.one_of(json_values, st.text(max_size=200)))
def test_any_web_chat_frame(value: Any) -> None:
    _feed_frame(value)


@BUDGET
@given(
    kind=st.sampled_from(["message", "action"]),
    client_id=st.text(max_size=120),
    text=st.text(max_size=300),
    extra=st.dictionaries(st.text(max_size=10), json_values, max_size=3),
)
def test_well_shaped_frames_with_hostile_fields(
    kind: str, client_id: str, text: str, extra: dict[str, Any]
) -> None:
    frame = {**extra, "type": kind, "id": client_id, "text": text, "payload": text}
    _feed_frame(frame)
