"""Typed settings for every part of omnidesk."""

from omnidesk.config.settings import (
    CONFIG_ENV,
    PACKAGED_MODEL,
    AuthSettings,
    CalendarSettings,
    EmailSettings,
    EscalationRuleSettings,
    EscalationSettings,
    KnowledgeSettings,
    Settings,
    SlackSettings,
    SlaSettings,
    SlaTarget,
    TelegramSettings,
    WebchatSettings,
    load_settings,
    read_or_create_secret,
)

__all__ = [
    "CONFIG_ENV",
    "PACKAGED_MODEL",
    "AuthSettings",
    "CalendarSettings",
    "EmailSettings",
    "EscalationRuleSettings",
    "EscalationSettings",
    "KnowledgeSettings",
    "Settings",
    "SlaSettings",
    "SlaTarget",
    "SlackSettings",
    "TelegramSettings",
    "WebchatSettings",
    "load_settings",
    "read_or_create_secret",
]
