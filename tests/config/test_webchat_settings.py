"""The web chat's look and words: colours, positions and avatars are checked on load, so a
typo or a third-party image never reaches visitors' browsers."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from omnidesk.config import WebchatSettings

# A 1x1 PNG.
PIXEL = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGAAAAAF"
    "AAFx8Qa6AAAAAElFTkSuQmCC"
)


def test_defaults() -> None:
    settings = WebchatSettings()
    assert settings.primary_color == "#4f46e5"
    assert settings.position == "right"
    assert settings.greeting == "" and settings.avatar_url == ""
    assert settings.offline_text


@pytest.mark.parametrize("colour", ["#0A7D32", "#ffffff", "#000000"])
def test_hex_colours_are_taken_and_lowered(colour: str) -> None:
    assert WebchatSettings(primary_color=colour).primary_color == colour.lower()


@pytest.mark.parametrize(
    "colour", ["0a7d32", "#0a7d3", "#0a7d32ff", "red", "#gggggg", "#0a7d32;}body{", ""]
)
def test_anything_but_a_hex_colour_is_refused(colour: str) -> None:
    with pytest.raises(ValidationError, match="hex colour"):
        WebchatSettings(primary_color=colour)


@pytest.mark.parametrize("position", ["left", "right"])
def test_positions(position: str) -> None:
    assert WebchatSettings(position=position).position == position  # type: ignore[arg-type]


def test_other_positions_are_refused() -> None:
    with pytest.raises(ValidationError):
        WebchatSettings(position="top")  # type: ignore[arg-type]


@pytest.mark.parametrize("url", ["", "/webchat/logo.png", "/static/a%20b.webp", PIXEL])
def test_own_paths_and_inline_images_are_avatars(url: str) -> None:
    assert WebchatSettings(avatar_url=url).avatar_url == url


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.example.com/logo.png",
        "//cdn.example.com/logo.png",
        "/\\cdn.example.com/logo.png",
        "javascript:alert(1)",
        "data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=",
        "data:text/html;base64,PGgxPmhpPC9oMT4=",
        "logo.png",
        "/logo.png onerror=x",
    ],
)
def test_foreign_or_scriptable_avatars_are_refused(url: str) -> None:
    with pytest.raises(ValidationError, match="avatar_url"):
        WebchatSettings(avatar_url=url)


def test_greeting_and_title_lengths() -> None:
    with pytest.raises(ValidationError):
        WebchatSettings(greeting="x" * 501)
    with pytest.raises(ValidationError):
        WebchatSettings(title="")


def test_environment_sets_the_look(monkeypatch: pytest.MonkeyPatch) -> None:
    from omnidesk.config import load_settings

    monkeypatch.setenv("OMNIDESK_WEBCHAT__PRIMARY_COLOR", "#0A7D32")
    monkeypatch.setenv("OMNIDESK_WEBCHAT__POSITION", "left")
    monkeypatch.setenv("OMNIDESK_WEBCHAT__GREETING", "Hi! Ask us anything.")
    webchat = load_settings().webchat
    assert (webchat.primary_color, webchat.position) == ("#0a7d32", "left")
    assert webchat.greeting == "Hi! Ask us anything."
