"""The Slack channel: Events API and interactivity over HTTP (signed requests) or Socket
Mode, answers in the question's thread, Slack users joined to contacts by email.

The Slack app it expects: bot scopes ``chat:write``, ``users:read``, ``users:read.email``,
``im:history``, ``app_mentions:read``, ``channels:history`` (and ``groups:history`` for
private channels); bot events ``message.im``, ``app_mention``, ``message.channels`` (and
``message.groups``); over HTTP, the Events and Interactivity request URLs
``{public_url}/slack/events`` and ``{public_url}/slack/interactivity``.

What counts as a question: a direct message; a mention in a channel (the mention is
removed from the text); a reply without a mention in a channel thread the bot is part
of. Joins and bot posts are not. A person's edit or deletion of such a message is passed
on as an ``InboundMessage`` that ``replaces`` it (``revisions.py``), so the stored
message follows. Each top-level message starts its own thread, and so its own
conversation (thread key ``"{channel}:{thread ts}"``). The text is read from the
message's rich-text blocks, mentions become names (``users.info``), see ``text.py``.
"""

from omnidesk.channels.base import Channel, OnMessage
from omnidesk.channels.slack.channel import EVENTS_PATH, INTERACTIVITY_PATH, SlackChannel
from omnidesk.config import Settings


def create_channel(settings: Settings, on_message: OnMessage) -> Channel:
    """The Slack channel for ``settings.slack``; the registry calls this when it is on."""
    return SlackChannel(settings.slack, on_message)


__all__ = ["EVENTS_PATH", "INTERACTIVITY_PATH", "SlackChannel", "create_channel"]
