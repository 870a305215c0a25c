"""The Telegram channel: private chats with the bot, by webhook or long polling.

``create_channel`` is what the channel registry calls when ``settings.telegram`` is
complete.
"""

from __future__ import annotations

from omnidesk.channels.base import Channel, OnMessage
from omnidesk.channels.telegram.callbacks import CallbackCodec
from omnidesk.channels.telegram.channel import TelegramChannel
from omnidesk.channels.telegram.convert import convert
from omnidesk.channels.telegram.inbound import NAME, Ignored, Incoming, message_key, parse_update
from omnidesk.channels.telegram.webhook import SECRET_HEADER, WEBHOOK_PATH
from omnidesk.config import Settings


def create_channel(settings: Settings, on_message: OnMessage) -> Channel:
    """The Telegram channel for these settings, storing files under the uploads folder."""
    return TelegramChannel(settings.telegram, settings.uploads_dir, on_message)


__all__ = [
    "NAME",
    "SECRET_HEADER",
    "WEBHOOK_PATH",
    "CallbackCodec",
    "Ignored",
    "Incoming",
    "TelegramChannel",
    "convert",
    "create_channel",
    "message_key",
    "parse_update",
]
