"""Typed settings for every part of omnidesk."""

from omnidesk.config.settings import (
    CONFIG_ENV,
    PACKAGED_MODEL,
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
)

__all__ = [
    "CONFIG_ENV",
    "PACKAGED_MODEL",
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
]
