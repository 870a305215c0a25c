"""Cleaning what people type about a customer before it is stored: email addresses,
phone numbers, tags and the values of admin-defined attributes. The API, the console, CSV
imports and web chat identities all clean through here, so one contact is stored one way
whichever door it came in by."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from omnidesk.helpdesk.actions.base import ActionError

MAX_EMAIL = 320
MAX_TAG = 64
MAX_TAGS = 50
MAX_TEXT_VALUE = 2000
ATTRIBUTE_TYPES = ("text", "number", "date", "boolean", "list", "link")
ATTRIBUTE_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_PLAIN_ADDRESS = re.compile(r"^[^@\s\"(),:;<>\[\\\]]+@[a-z0-9.-]+$", re.IGNORECASE)
_TRUE = {"true", "yes", "1", "on", "y"}
_FALSE = {"false", "no", "0", "off", "n", ""}


def clean_email(email: object, field: str = "email") -> str:
    """A syntactically valid address, lower-cased (no DNS: the machine may be offline).

    Reserved names (``.local``, ``.invalid``, ``localhost``) pass when the rest is sound:
    a company's own mail often lives on one, and we do not deliver by DNS ourselves.
    """
    if not isinstance(email, str) or len(email.strip()) > MAX_EMAIL:
        raise ActionError("invalid", f"'{field}' must be an email address")
    address = email.strip()
    try:
        valid = validate_email(
            address, check_deliverability=False, globally_deliverable=False, test_environment=True
        )
    except EmailNotValidError as exc:
        if "special-use or reserved" in str(exc) and _PLAIN_ADDRESS.match(address):
            return address.lower()
        raise ActionError("invalid", f"'{field}' must be an email address ({exc})") from None
    return valid.normalized.lower()


def clean_phone(phone: object, region: str | None = None, field: str = "phone") -> str:
    """A phone number in E.164 (``+442079460958``). Without ``region`` a number must start
    with its country code, because a local number means different lines in different
    countries."""
    if not isinstance(phone, str) or not phone.strip() or len(phone) > 64:
        raise ActionError("invalid", f"'{field}' must be a phone number")
    try:
        number = phonenumbers.parse(phone.strip(), region)
    except phonenumbers.NumberParseException:
        raise ActionError(
            "invalid", f"'{field}' must be a phone number with its country code (+...)"
        ) from None
    if not phonenumbers.is_possible_number(number):
        raise ActionError("invalid", f"'{field}' is not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def clean_tags(tags: object) -> list[str]:
    """Distinct, trimmed, lower-cased tags in the order given; a string may hold several
    separated by commas (as a CSV cell does)."""
    if isinstance(tags, str):
        tags = tags.split(",")
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise ActionError("invalid", "'tags' must be a list of strings")
    cleaned: list[str] = []
    for tag in tags:
        value = " ".join(tag.split()).lower()
        if len(value) > MAX_TAG:
            raise ActionError("invalid", f"a tag is at most {MAX_TAG} characters")
        if value and value not in cleaned:
            cleaned.append(value)
    if len(cleaned) > MAX_TAGS:
        raise ActionError("invalid", f"a contact has at most {MAX_TAGS} tags")
    return cleaned


def clean_attribute(kind: str, options: list[Any], value: object, key: str) -> Any:
    """``value`` as an attribute of type ``kind`` stores it (None clears it). Strings are
    accepted for every type, so a CSV cell and a JSON value clean the same way."""
    if value is None or value == "":
        return None
    cleaner = _CLEANERS.get(kind)
    if cleaner is None:
        raise ActionError("invalid", f"attribute '{key}' has an unknown type")
    try:
        return cleaner(value, options)
    except (TypeError, ValueError, OverflowError):
        raise ActionError("invalid", f"'{key}' must be a {kind} value") from None


def _text(value: object, options: list[Any]) -> str:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise TypeError
    text = str(value).strip()
    if len(text) > MAX_TEXT_VALUE:
        raise ValueError
    return text


def _number(value: object, options: list[Any]) -> int | float:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise TypeError
    number = float(value) if isinstance(value, str) else value
    if not math.isfinite(number):
        raise ValueError
    return int(number) if float(number).is_integer() and abs(number) < 2**53 else number


def _date(value: object, options: list[Any]) -> str:
    if not isinstance(value, str):
        raise TypeError
    return dt.date.fromisoformat(value.strip()[:10]).isoformat()


def _boolean(value: object, options: list[Any]) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError


def _choice(value: object, options: list[Any]) -> str:
    text = _text(value, options)
    if text not in [str(option) for option in options]:
        raise ValueError
    return text


def _link(value: object, options: list[Any]) -> str:
    text = _text(value, options)
    if not re.match(r"^https?://[^\s/]+", text, re.IGNORECASE):
        raise ValueError
    return text


_CLEANERS = {
    "text": _text,
    "number": _number,
    "date": _date,
    "boolean": _boolean,
    "list": _choice,
    "link": _link,
}
