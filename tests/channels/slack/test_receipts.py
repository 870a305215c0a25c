"""What each kind of Web API failure means for a delivery."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.slack_response import SlackResponse

from omnidesk.channels import DeliveryReceipt
from omnidesk.channels.slack.delivery import receipt_for, retry_after


def api_error(status: int, data: Any, headers: dict[str, str] | None = None) -> SlackApiError:
    response = SlackResponse(
        client=None,
        http_verb="POST",
        api_url="https://slack.com/api/chat.postMessage",
        req_args={},
        data=data,
        headers=headers or {},
        status_code=status,
    )
    return SlackApiError("The request to the Slack API failed.", response)


@pytest.mark.parametrize(
    ("exc", "permanent", "after"),
    [
        (api_error(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "30"}), False, 30.0),
        (api_error(429, {"ok": False, "error": "ratelimited"}), False, None),
        (api_error(500, {}), False, None),
        (api_error(502, ""), False, None),
        (api_error(200, {"ok": False, "error": "internal_error"}), False, None),
        (api_error(200, {"ok": False, "error": "request_timeout"}), False, None),
        (api_error(200, {"ok": False, "error": "channel_not_found"}), True, None),
        (api_error(200, {"ok": False, "error": "not_in_channel"}), True, None),
        (api_error(200, {"ok": False, "error": "invalid_auth"}), True, None),
        (api_error(200, {"ok": False, "error": "msg_too_long"}), True, None),
        (api_error(403, {"ok": False, "error": "missing_scope"}), True, None),
        (TimeoutError(), False, None),
        (aiohttp.ServerDisconnectedError(), False, None),
    ],
)
def test_receipts(exc: BaseException, permanent: bool, after: float | None) -> None:
    receipt = receipt_for(exc)
    assert receipt.ok is False and receipt.error
    assert (receipt.permanent, receipt.retry_after) == (permanent, after)


def test_error_names_the_code() -> None:
    receipt = receipt_for(api_error(200, {"ok": False, "error": "channel_not_found"}))
    assert receipt == DeliveryReceipt(
        ok=False, error="slack channel_not_found (HTTP 200)", permanent=True
    )


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "2"}, 2.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "-1"}, None),
        ({"Retry-After": "999999"}, 3600.0),
        ({}, None),
    ],
)
def test_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after(headers) == expected
