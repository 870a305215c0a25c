"""Slack's v0 request signature, checked against Slack's documented example and an
independent HMAC."""

from __future__ import annotations

import pytest

from omnidesk.channels import ChannelError
from omnidesk.channels.slack import signature
from tests.channels.slack.fakeslack import sign

# The worked example from https://api.slack.com/authentication/verifying-requests-from-slack
DOC_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
DOC_TIMESTAMP = "1531420618"
DOC_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&"
    b"channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&"
    b"command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F"
    b"T1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121."
    b"803a0bc887a14d10d2c447fce8b6703c"
)
DOC_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


def test_slacks_documented_example() -> None:
    assert signature.sign(DOC_SECRET, DOC_TIMESTAMP, DOC_BODY) == DOC_SIGNATURE
    assert sign(DOC_SECRET, DOC_TIMESTAMP, DOC_BODY) == DOC_SIGNATURE
    signature.check(
        DOC_SECRET,
        DOC_BODY,
        DOC_TIMESTAMP,
        DOC_SIGNATURE,
        now=float(DOC_TIMESTAMP) + 10,
        window_seconds=300,
    )


@pytest.mark.parametrize(
    ("body", "timestamp", "sig", "now_offset", "reason"),
    [
        (DOC_BODY + b"x", DOC_TIMESTAMP, DOC_SIGNATURE, 0, "invalid"),
        (DOC_BODY, DOC_TIMESTAMP, DOC_SIGNATURE.upper(), 0, "invalid"),
        (DOC_BODY, DOC_TIMESTAMP, None, 0, "missing"),
        (DOC_BODY, None, DOC_SIGNATURE, 0, "missing"),
        (DOC_BODY, "yesterday", DOC_SIGNATURE, 0, "malformed"),
        (DOC_BODY, DOC_TIMESTAMP, DOC_SIGNATURE, 301, "stale"),
        (DOC_BODY, DOC_TIMESTAMP, DOC_SIGNATURE, -301, "stale"),
    ],
)
def test_refusals(
    body: bytes, timestamp: str | None, sig: str | None, now_offset: int, reason: str
) -> None:
    with pytest.raises(ChannelError, match=reason):
        signature.check(
            DOC_SECRET,
            body,
            timestamp,
            sig,
            now=float(DOC_TIMESTAMP) + now_offset,
            window_seconds=300,
        )
