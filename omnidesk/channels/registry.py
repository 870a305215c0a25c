"""Which platform channels run: each one whose settings are complete, built by its own
package's ``create_channel(settings, on_message)``."""

from __future__ import annotations

import importlib

from omnidesk.channels.base import Channel, OnMessage
from omnidesk.config import Settings

PLATFORM_CHANNELS = ("email", "slack", "telegram")


def platform_channels(settings: Settings, on_message: OnMessage) -> list[Channel]:
    on = settings.channels_on()
    built: list[Channel] = []
    for name in PLATFORM_CHANNELS:
        if not on.get(name):
            continue
        module = importlib.import_module(f"omnidesk.channels.{name}")
        built.append(module.create_channel(settings, on_message))
    return built
