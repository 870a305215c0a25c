"""The email channel: inbound over our own SMTP server or an IMAP mailbox, replies over
an SMTP relay. The registry builds it with ``create_channel`` when email is configured."""

from omnidesk.channels.base import Channel, OnMessage
from omnidesk.channels.email.channel import EmailChannel, to_inbound
from omnidesk.channels.email.parse import ParsedMail, RejectedMail, parse_mail
from omnidesk.config import Settings


def create_channel(settings: Settings, on_message: OnMessage) -> Channel:
    """The email channel for ``settings.email``."""
    return EmailChannel(settings, on_message)


__all__ = [
    "EmailChannel",
    "ParsedMail",
    "RejectedMail",
    "create_channel",
    "parse_mail",
    "to_inbound",
]
