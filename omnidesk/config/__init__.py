"""Typed settings for every part of omnidesk."""

from omnidesk.config.settings import (
    CONFIG_ENV,
    PACKAGED_MODEL,
    EscalationSettings,
    KnowledgeSettings,
    Settings,
    WebchatSettings,
    load_settings,
)

__all__ = [
    "CONFIG_ENV",
    "PACKAGED_MODEL",
    "EscalationSettings",
    "KnowledgeSettings",
    "Settings",
    "WebchatSettings",
    "load_settings",
]
