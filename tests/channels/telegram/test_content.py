"""What customers send that is not typed text, shaped after the Bot API documentation for
the kinds the corpus has no real private-chat capture of: each becomes a line an agent
can read, with its structured data kept in ``raw``."""

from __future__ import annotations

from typing import Any

import pytest

from omnidesk.channels.telegram import CallbackCodec, Ignored, Incoming, convert
from tests.channels.telegram.conftest import load

MAX_FILE = 20_000
FILE = {"file_id": "AwACAgIAAxkBAAIBz2ZfContent", "file_unique_id": "AgADz2Zf"}
POLL = {
    "id": "5841210001",
    "question": "Which plan are you on?",
    "options": [
        {"persistent_id": "0", "text": "Basic", "voter_count": 0},
        {"persistent_id": "1", "text": "Pro", "voter_count": 0},
    ],
    "total_voter_count": 0,
    "is_closed": False,
    "is_anonymous": True,
    "type": "regular",
    "allows_multiple_answers": False,
    "allows_revoting": True,
    "members_only": False,
}


def sent(kind: str = "message", **content: Any) -> Incoming | Ignored:
    """The text_message fixture with its text replaced by ``content``."""
    update = load("text_message")
    body = update.pop("message")
    del body["text"]
    body.update(content)
    update[kind] = body
    return convert(update, CallbackCodec(), MAX_FILE)


@pytest.mark.parametrize(
    ("content", "text", "raw"),
    [
        (
            {
                "contact": {
                    "phone_number": "+49 30 1234567",
                    "first_name": "Jane",
                    "last_name": "Doe",
                }
            },
            "[Contact: Jane Doe +49 30 1234567]",
            {
                "contact": {
                    "first_name": "Jane",
                    "last_name": "Doe",
                    "phone_number": "+49 30 1234567",
                    "user_id": None,
                }
            },
        ),
        (
            {"location": {"latitude": 52.520008, "longitude": 13.404954, "live_period": 900}},
            "[Live location 52.520008, 13.404954 https://www.openstreetmap.org/"
            "?mlat=52.520008&mlon=13.404954#map=17/52.520008/13.404954]",
            {"location": {"latitude": 52.520008, "longitude": 13.404954, "live_period": 900}},
        ),
        (
            {"poll": POLL},
            "[Poll: Which plan are you on? — Basic / Pro]",
            {
                "poll": {
                    "id": "5841210001",
                    "question": "Which plan are you on?",
                    "type": "regular",
                    "options": ["Basic", "Pro"],
                }
            },
        ),
        (
            {"dice": {"emoji": "🎯", "value": 6}},
            "[Dice 🎯 6]",
            {"dice": {"emoji": "🎯", "value": 6}},
        ),
    ],
)
def test_places_people_polls_and_dice_become_text(
    content: dict[str, Any], text: str, raw: dict[str, Any]
) -> None:
    incoming = sent(**content)
    assert isinstance(incoming, Incoming) and incoming.message.unreadable is None
    assert incoming.message.text == text
    # Our label alone is shown to agents, never searched; a caption is the customer's.
    assert incoming.message.described is ("\n" not in text)
    for key, value in raw.items():
        assert incoming.message.raw[key] == value


@pytest.mark.parametrize(
    ("content", "text", "files"),
    [
        (
            {"video_note": {**FILE, "length": 240, "duration": 7}},
            "[Video message 0:07]",
            ["video_note_201.mp4"],
        ),
        (
            {"voice": {**FILE, "duration": 65, "mime_type": "audio/ogg"}, "caption": "listen"},
            "[Voice message 1:05]\nlisten",
            ["voice_201.oga"],
        ),
        (
            {
                "audio": {
                    **FILE,
                    "duration": 200,
                    "performer": "Nina",
                    "title": "Hold music",
                    "mime_type": "audio/mpeg",
                }
            },
            "[Audio: Nina - Hold music]",
            ["audio_201.mp3"],
        ),
        (
            # Telegram sends a GIF as an animation and, for old clients, as a document too.
            {
                "animation": {**FILE, "width": 320, "height": 240, "duration": 3},
                "document": {**FILE, "file_name": "dance.gif.mp4", "mime_type": "video/mp4"},
            },
            "[GIF]",
            ["dance.gif.mp4"],
        ),
    ],
)
def test_voice_video_notes_audio_and_gifs_say_what_they_are(
    content: dict[str, Any], text: str, files: list[str]
) -> None:
    incoming = sent(**content)
    assert isinstance(incoming, Incoming) and incoming.message.unreadable is None
    assert incoming.message.text == text
    # Our label alone is shown to agents, never searched; a caption is the customer's.
    assert incoming.message.described is ("\n" not in text)
    assert [f.filename for f in incoming.files] == files


def test_a_live_location_moving_is_not_a_new_message() -> None:
    moved = sent(
        "edited_message",
        location={"latitude": 52.5201, "longitude": 13.405, "live_period": 900},
        edit_date=1717430500,
    )
    assert isinstance(moved, Ignored) and "live location" in moved.reason


def test_a_caption_is_the_customers_words_and_is_read() -> None:
    voice = {"voice": {**FILE, "duration": 65, "mime_type": "audio/ogg"}}
    incoming = sent(**voice, caption="my router blinks red")
    assert isinstance(incoming, Incoming)
    assert incoming.message.text.endswith("my router blinks red")
    assert not incoming.message.described
