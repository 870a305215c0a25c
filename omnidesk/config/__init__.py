"""Typed settings for every part of omnidesk."""

from omnidesk.config.settings import (
    CONFIG_ENV,
    PACKAGED_MODEL,
    EmailSettings,
    EscalationSettings,
    KnowledgeSettings,
    Settings,
    SlackSettings,
    TelegramSettings,
    WebchatSettings,
    load_settings,
)

__all__ = [
    "CONFIG_ENV",
    "PACKAGED_MODEL",
    "EmailSettings",
    "EscalationSettings",
    "KnowledgeSettings",
    "Settings",
    "SlackSettings",
    "TelegramSettings",
    "WebchatSettings",
    "load_settings",
]
