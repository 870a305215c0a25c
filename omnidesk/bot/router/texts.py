"""What the bot says, and the buttons it offers."""

from __future__ import annotations

import re

from omnidesk.channels import Action, InboundMessage
from omnidesk.config import SlaSettings
from omnidesk.helpdesk.catalogue import Catalogue
from omnidesk.knowledge import SearchHit, markdown_to_text

# What the customer is told around a handoff lives in ``helpdesk.catalogue`` (the
# handoff notice adds when a person will answer); these are its texts with the default
# settings (open around the clock, the default normal-priority first-response target).
_SOON = Catalogue().answer_soon(SlaSettings().policies["normal"].first_response_minutes)
HANDOFF_TEXT = f"{Catalogue().handoff('customer_request')} {_SOON}"
ESCALATED_UNSURE_TEXT = f"{Catalogue().handoff('low_confidence')} {_SOON}"
UNSURE_TEXT = "I'm not sure I have the answer to that. These articles might help:"
UNSURE_NO_SUGGESTION_TEXT = (
    "I'm not sure I have the answer to that. Could you rephrase it, or would you like to "
    "talk to a person?"
)
CLARIFY_TEXT = "Did you mean one of these?"
TALK_TO_PERSON = "Talk to a person"
HELPFUL_TEXT = "Thanks for letting us know!"
NOT_HELPFUL_TEXT = f"{Catalogue().handoff('not_helpful')} {_SOON}"
ERROR_HANDOFF_TEXT = (
    "Sorry, something went wrong on our side with your last message. I've passed your "
    "conversation to our support team; a person will reply right here."
)
GREETING_TEXT = (
    "Hi! I'm the support assistant. Ask me anything about your order, account, billing "
    'or devices, or say "talk to a person" at any time.'
)
GREETINGS = frozenset(
    {
        "hi",
        "hello",
        "hey",
        "hallo",
        "hiya",
        "good morning",
        "good afternoon",
        "good evening",
        "hi there",
        "hello there",
        "hey there",
        "start",
    }
)
EMPTY_TEXT = "I can only read text for now. Could you type your question?"


def button(label: str, payload: str) -> dict[str, str]:
    return {"label": label, "payload": payload}


def citation(hit: SearchHit) -> dict[str, str]:
    return {"slug": hit.slug, "title": hit.title, "url": hit.url}


FEEDBACK_BUTTONS = [button("Helpful", Action.HELPFUL), button("Not helpful", Action.NOT_HELPFUL)]


def is_greeting(inbound: InboundMessage) -> bool:
    """A hello with no question in it, or a platform's start command."""
    if inbound.action:
        return False
    if inbound.raw.get("command") == "start":
        return True
    return re.sub(r"[^\w ]+", "", inbound.text.lower()).strip() in GREETINGS


_HEADING = re.compile(r"^#{1,6}\s.*$", re.MULTILINE)


def article_summary(body: str, max_chars: int = 700) -> str:
    """The opening of an article without its headings, for when a customer picks it."""
    text_only = markdown_to_text(_HEADING.sub("", body))
    paragraphs = [p.strip() for p in text_only.split("\n\n") if p.strip()]
    text = ""
    for paragraph in paragraphs:
        candidate = f"{text}\n\n{paragraph}" if text else paragraph
        if len(candidate) > max_chars and text:
            break
        text = candidate
    return text[:max_chars]
