"""Which quick-reply groups of a web chat history were already answered, so the widget
shows old buttons (Helpful / Not helpful, ...) as used after a reload too.

A button press is stored as the visitor's message with the button's label as its text;
the widget names such a message's client id after the message the buttons were on
(``m<id>-<uuid>``). Presses from before that naming are matched by label.
"""

from __future__ import annotations

import re
from typing import Any

# The client id of a button press: "m", the id of the message the button was on, "-".
PRESS_ID = re.compile(r"m(\d{1,18})-")


def mark_answered(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``history`` with ``answered`` (the chosen label) on each message whose buttons were
    pressed (or whose label the visitor sent) later on."""
    waiting: dict[int, dict[str, Any]] = {}  # message id -> a message with unanswered buttons
    for message in history:
        ident = message.get("id")
        if message.get("buttons") and isinstance(ident, int):
            waiting[ident] = message
        elif message.get("author") == "contact":
            group = _answered_group(message, waiting)
            if group is not None:
                group["answered"] = message.get("text") or ""
                del waiting[group["id"]]
    return history


def _answered_group(
    message: dict[str, Any], waiting: dict[int, dict[str, Any]]
) -> dict[str, Any] | None:
    found = PRESS_ID.match(str(message.get("client_id") or ""))
    if found is not None:
        return waiting.get(int(found.group(1)))
    text = message.get("text")
    # No message named: the latest group offering that label is the one answered.
    for group in reversed(waiting.values()):
        if any(isinstance(b, dict) and b.get("label") == text for b in group["buttons"]):
            return group
    return None
