"""What a Telegram message says when it is not typed text: stickers, places, contacts,
polls, dice, voice and video notes, audio, GIFs, games, stories.

Each becomes a short bracketed line an agent can read ("[Sticker 😡]", "[Location 52.52,
13.4 https://www.openstreetmap.org/...]") and its structured data for the message's
``raw``. A caption, when there is one, is what the customer wrote and comes after the
line. Pure functions, no I/O.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass, field
from typing import Any

from telegram import Contact, Location, Message, Poll, Venue
from telegram.warnings import PTBDeprecationWarning

OSM_URL = "https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}"


@dataclass(frozen=True, slots=True)
class Content:
    """The readable text of a message and the structured data behind it."""

    text: str
    raw: dict[str, Any] = field(default_factory=dict)
    described: bool = False  # the text is our label, not the customer's words


def describe(message: Message) -> Content | None:
    """The message as text for a person, or None when it carries nothing a customer
    wrote or sent (a service message, an empty message)."""
    typed = message.text or ""
    caption = message.caption or ""
    label, raw = _label(message)
    if typed:
        return Content(typed, raw)
    if label and caption:
        return Content(f"{label}\n{caption}", raw)
    if caption or label:
        return Content(caption or label, raw, described=not caption)
    if message.photo or message.document or message.video:
        # A file without a caption: the attachment says it all.
        return Content("", raw)
    return None


def _label(message: Message) -> tuple[str, dict[str, Any]]:
    """A bracketed line for the kinds that have no text of their own."""
    if message.sticker is not None:
        emoji = message.sticker.emoji
        raw = {"sticker": {"emoji": emoji, "set_name": message.sticker.set_name}}
        return (f"[Sticker {emoji}]" if emoji else "[Sticker]"), raw
    if message.venue is not None:
        return _venue(message.venue)
    if message.location is not None:
        return _location(message.location)
    if message.contact is not None:
        return _contact(message.contact)
    if message.poll is not None:
        return _poll(message.poll)
    if message.dice is not None:
        dice = message.dice
        return f"[Dice {dice.emoji} {dice.value}]", {
            "dice": {"emoji": dice.emoji, "value": dice.value}
        }
    return _media_label(message)


def _media_label(message: Message) -> tuple[str, dict[str, Any]]:
    if message.voice is not None:
        return f"[Voice message {_duration(message.voice)}]", {}
    if message.video_note is not None:
        return f"[Video message {_duration(message.video_note)}]", {}
    if message.audio is not None:
        audio = message.audio
        name = _joined(" - ", audio.performer, audio.title) or audio.file_name
        return (f"[Audio: {name}]" if name else "[Audio]"), {}
    if message.animation is not None:
        return "[GIF]", {}
    if message.game is not None:
        return f"[Game: {message.game.title}]", {"game": {"title": message.game.title}}
    if message.story is not None:
        return "[Story]", {"story": {"chat_id": message.story.chat.id, "id": message.story.id}}
    return "", {}


def _coordinate(value: float) -> str:
    # Six decimals is a tenth of a metre; more is noise.
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _map_link(location: Location) -> str:
    lat, lon = _coordinate(location.latitude), _coordinate(location.longitude)
    return OSM_URL.format(lat=lat, lon=lon)


def _location_raw(location: Location) -> dict[str, Any]:
    raw: dict[str, Any] = {"latitude": location.latitude, "longitude": location.longitude}
    live = _seconds(location, "live_period")
    if live:
        raw["live_period"] = live
    if location.horizontal_accuracy:
        raw["horizontal_accuracy"] = location.horizontal_accuracy
    return raw


def _location(location: Location) -> tuple[str, dict[str, Any]]:
    kind = "Live location" if _seconds(location, "live_period") else "Location"
    point = f"{_coordinate(location.latitude)}, {_coordinate(location.longitude)}"
    return f"[{kind} {point} {_map_link(location)}]", {"location": _location_raw(location)}


def _fields(item: object, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(item, name) for name in names}


def _joined(separator: str, *parts: str | None) -> str:
    return separator.join(p for p in parts if p)


def _venue(venue: Venue) -> tuple[str, dict[str, Any]]:
    where = _joined(", ", venue.title, venue.address)
    names = ("title", "address", "foursquare_id", "google_place_id")
    raw = {"venue": {**_fields(venue, names), **_location_raw(venue.location)}}
    return f"[Venue: {where} {_map_link(venue.location)}]", raw


def _contact(contact: Contact) -> tuple[str, dict[str, Any]]:
    name = _joined(" ", contact.first_name, contact.last_name)
    names = ("first_name", "last_name", "phone_number", "user_id")
    return f"[Contact: {_joined(' ', name, contact.phone_number)}]", {
        "contact": _fields(contact, names)
    }


def _poll(poll: Poll) -> tuple[str, dict[str, Any]]:
    options = [o.text for o in poll.options]
    raw = {
        "poll": {"id": poll.id, "question": poll.question, "type": poll.type, "options": options}
    }
    return f"[Poll: {poll.question} — {' / '.join(options)}]", raw


def _seconds(owner: object, name: str) -> int:
    # PTB 22 hands durations back as int or timedelta depending on PTB_TIMEDELTA, and
    # warns about the int form; accept both without the warning.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = getattr(owner, name)
    if isinstance(value, dt.timedelta):
        return int(value.total_seconds())
    return int(value or 0)


def _duration(owner: object) -> str:
    minutes, seconds = divmod(_seconds(owner, "duration"), 60)
    return f"{minutes}:{seconds:02d}"
