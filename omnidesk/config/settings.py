"""Typed settings: defaults < TOML file < ``OMNIDESK_*`` environment variables.

Secrets come from the environment or from files under the data directory, never from
the TOML file, so a config file can be committed without leaking anything.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

ENV_PREFIX = "OMNIDESK_"
CONFIG_ENV = "OMNIDESK_CONFIG"
DEFAULT_CONFIG_FILE = "omnidesk.toml"
PACKAGED_MODEL = "all-MiniLM-L6-v2"
HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
# Raster images only: an SVG may carry script and links.
DATA_IMAGE = re.compile(r"data:image/(?:png|gif|jpeg|webp);base64,[A-Za-z0-9+/]+=*")
# A path on this service: one leading slash (two would name another host), no backslash.
SAME_ORIGIN_PATH = re.compile(r"/(?![/\\])[^\\\s]*")


class KnowledgeSettings(BaseModel):
    """Retrieval and answering."""

    embedding_model: str = Field(
        PACKAGED_MODEL,
        description="sentence-transformers model name or local path; the default is packaged",
    )
    answer_threshold: float = Field(
        0.5, description="confidence at or above which the bot answers on its own"
    )
    suggest_threshold: float = Field(
        0.0,
        description="when unsure, the closest articles at or above this confidence are offered",
    )
    top_k: int = Field(3, ge=1, le=20, description="articles offered when the bot is unsure")
    seed_sample: bool = Field(
        True, description="import the packaged sample knowledge base into an empty database"
    )
    clarify_margin: float = Field(
        0.02,
        ge=0.0,
        le=1.0,
        description="ask which article was meant when the best two are this close",
    )
    chunk_max_words: int = Field(180, ge=20, le=2000)
    chunk_overlap_words: int = Field(30, ge=0, le=500)


class WebchatSettings(BaseModel):
    """The embeddable web chat widget."""

    max_message_chars: int = Field(4000, ge=1, le=100_000)
    max_frame_bytes: int = Field(16_384, ge=256, le=1_048_576)
    history_limit: int = Field(200, ge=1, le=5000)
    # The business's look and words (a script tag's data- attributes win for each).
    title: str = Field("Lumen Support", min_length=1, max_length=100)
    primary_color: str = Field(
        "#4f46e5", description="#rrggbb; text on it is white or black, whichever reads better"
    )
    position: Literal["left", "right"] = "right"
    greeting: str = Field(
        "", max_length=500, description="shown on opening the widget; never stored as a message"
    )
    avatar_url: str = Field(
        "", max_length=100_000, description="a same-origin path or a data:image URL"
    )
    offline_text: str = Field(
        "We are offline right now. Your messages are sent when the connection is back.",
        max_length=300,
        description="shown while the widget cannot reach the service",
    )
    # What one address may do: all the visitors behind it together (an office or a
    # carrier's NAT shares one), so a flood from one place cannot starve the others.
    # A visitor token older than this no longer resumes its conversation; each visit
    # renews it, so only a token unused that long (or copied off a machine) expires.
    visitor_token_days: float = Field(30.0, gt=0, le=3650)
    messages_per_address_per_minute: int = Field(300, ge=1, le=1_000_000)
    new_visitors_per_address_per_minute: int = Field(30, ge=1, le=1_000_000)

    @field_validator("primary_color")
    @classmethod
    def _hex_colour(cls, value: str) -> str:
        if not HEX_COLOUR.fullmatch(value):
            raise ValueError("primary_color must be a hex colour like #4f46e5")
        return value.lower()

    @field_validator("avatar_url")
    @classmethod
    def _own_image(cls, value: str) -> str:
        # The widget runs on other people's sites: an avatar from a third party would
        # tell it about every visitor, so only our own paths and inline images are taken.
        if value and not (DATA_IMAGE.fullmatch(value) or SAME_ORIGIN_PATH.fullmatch(value)):
            raise ValueError(
                "avatar_url must be a path on this service (/...) or a data:image/... URL"
            )
        return value


class EscalationRuleSettings(BaseModel):
    """One handoff rule written in the TOML file (``[[escalation.rules]]``); admins add
    more in the database. A ``keyword`` rule needs ``keywords``, an ``attribute`` rule
    ``attribute`` (matched against ``equals``, or any true value without it), a
    ``channel`` rule ``channels``."""

    name: str = ""
    trigger: Literal["keyword", "attribute", "channel"]
    keywords: list[str] = Field(default_factory=list)
    attribute: str | None = None
    equals: Any = None
    channels: list[str] = Field(default_factory=list)
    reason: str = Field("", max_length=64, description="recorded on the ticket and timeline")
    priority: Literal["low", "normal", "high", "urgent"] | None = None
    team: str | None = Field(None, description="the team's name; its queue gets the handoff")

    @model_validator(mode="after")
    def _has_its_parameters(self) -> EscalationRuleSettings:
        needed = {"keyword": self.keywords, "attribute": self.attribute, "channel": self.channels}
        if not needed[self.trigger]:
            raise ValueError(f"a {self.trigger} rule needs its parameters")
        return self


class BrandingSettings(BaseModel):
    """How the service names itself to customers."""

    bot_name: str = Field("Lumen Bot", min_length=1, max_length=100)
    team_name: str = Field(
        "our support team", min_length=1, max_length=100, description="as said to customers"
    )


class EscalationSettings(BaseModel):
    """When the bot hands a conversation to a human."""

    low_confidence_turns: int = Field(
        3, ge=1, description="unsure answers in a row that escalate to a person"
    )
    reassign_after_minutes: float | None = Field(
        15.0,
        gt=0,
        description="an assigned customer message unanswered this long goes back to the "
        "queue; unset to never",
    )
    slack_alert_channel: str | None = Field(
        None, description="Slack channel id where SLA breaches are posted (Slack must be on)"
    )
    sweep_seconds: float = Field(
        30.0, gt=0, description="how often SLA breaches, timeouts and snoozes are checked"
    )
    reopen_window_hours: float = Field(
        72.0,
        ge=0,
        description="a customer message this long after resolution reopens the same ticket",
    )
    csat_comment_minutes: float = Field(
        30.0, ge=0, description="after a rating, free text this soon is taken as its comment"
    )
    csat_link_days: float = Field(
        14.0,
        gt=0,
        description="how long survey links in an email (and a chat's NPS question) stay valid",
    )
    nps_enabled: bool = Field(
        False, description="ask customers for an NPS (0-10) a while after a resolved ticket"
    )
    nps_after_days: float = Field(
        7.0, gt=0, description="how long after a resolution the NPS survey is sent"
    )
    survey_period_days: float = Field(
        30.0,
        ge=0,
        description="at most one survey (CSAT or NPS) per contact in this many days; 0: no limit",
    )
    rules: list[EscalationRuleSettings] = Field(
        default_factory=list, description="extra handoff rules, tried before the built-in ones"
    )


class CalendarSettings(BaseModel):
    """The default business hours: ``weekly`` maps ``mon``..``sun`` to
    ``[["09:00", "17:00"], ...]`` in ``timezone``; ``holidays`` lists ``YYYY-MM-DD``.
    No periods at all means open around the clock (holidays still closed)."""

    timezone: str = "UTC"
    weekly: dict[str, list[list[str]]] = {}
    holidays: list[str] = []


class SlaTarget(BaseModel):
    first_response_minutes: int = Field(ge=1)
    resolution_minutes: int = Field(ge=1)


def _default_targets() -> dict[str, SlaTarget]:
    return {
        "urgent": SlaTarget(first_response_minutes=30, resolution_minutes=4 * 60),
        "high": SlaTarget(first_response_minutes=60, resolution_minutes=8 * 60),
        "normal": SlaTarget(first_response_minutes=4 * 60, resolution_minutes=24 * 60),
        "low": SlaTarget(first_response_minutes=8 * 60, resolution_minutes=48 * 60),
    }


class SlaSettings(BaseModel):
    """SLA targets per priority, in business minutes, used where the ``sla_policies``
    table has no row for a priority; ``calendar`` is the business hours they count in
    when neither the team nor the policy names a calendar."""

    policies: dict[str, SlaTarget] = Field(default_factory=_default_targets)
    calendar: CalendarSettings = CalendarSettings()

    @field_validator("policies")
    @classmethod
    def _known_priorities(cls, value: dict[str, SlaTarget]) -> dict[str, SlaTarget]:
        unknown = set(value) - {"low", "normal", "high", "urgent"}
        if unknown:
            raise ValueError(f"unknown priorities in sla.policies: {sorted(unknown)}")
        # A priority left out of the file keeps its built-in target.
        return {**_default_targets(), **value}


class AuthSettings(BaseModel):
    """Agent sign-in: how long sessions last and how many failed tries are allowed."""

    session_hours: float = Field(12.0, gt=0, le=24 * 90, description="a session's lifetime")
    idle_minutes: float = Field(
        120.0, gt=0, description="a session unused this long ends before its lifetime"
    )
    login_window_seconds: int = Field(
        900, ge=1, description="window in which failed sign-ins are counted"
    )
    login_max_per_account: int = Field(
        5, ge=1, description="failed sign-ins per account in the window before 429"
    )
    login_max_per_ip: int = Field(
        20, ge=1, description="failed sign-ins per address in the window before 429"
    )


class EmailSettings(BaseModel):
    """The email channel: inbound over our own SMTP server or an IMAP mailbox, outbound
    over SMTP. On when ``address`` and a way in are set."""

    address: str | None = Field(None, description="our support address, the From of replies")
    display_name: str = "Support"
    inbound_smtp_host: str = "127.0.0.1"
    inbound_smtp_port: int | None = Field(None, ge=0, le=65535, description="our SMTP server")
    imap_host: str | None = None
    imap_port: int = Field(993, ge=1, le=65535)
    imap_user: str | None = None
    imap_password: SecretStr | None = None
    imap_ssl: bool = True
    imap_folder: str = "INBOX"
    imap_poll_seconds: float = Field(30.0, gt=0)
    smtp_host: str | None = Field(None, description="outbound relay")
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_tls: bool = False
    smtp_timeout: float = Field(30.0, gt=0)
    max_message_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    max_attachment_bytes: int = Field(5 * 1024 * 1024, ge=1)
    allowed_attachment_types: list[str] = [
        "image/png",
        "image/jpeg",
        "image/gif",
        "application/pdf",
        "text/plain",
        "text/csv",
    ]

    @property
    def enabled(self) -> bool:
        return bool(
            self.address
            and self.smtp_host
            and (self.inbound_smtp_port is not None or self.imap_host)
        )


class SlackSettings(BaseModel):
    """The Slack app. On when the bot token and signing secret (or app token for Socket
    Mode) are set."""

    bot_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    app_token: SecretStr | None = Field(None, description="xapp- token, for Socket Mode")
    socket_mode: bool = False
    api_base_url: str = "https://slack.com/api/"
    timestamp_window_seconds: int = Field(300, ge=1)
    agent_channel: str | None = Field(
        None,
        description="Slack channel id where escalations are posted; replies in their "
        "threads go to the customer",
    )

    @property
    def enabled(self) -> bool:
        if self.bot_token is None:
            return False
        return self.app_token is not None if self.socket_mode else self.signing_secret is not None


class TelegramSettings(BaseModel):
    """The Telegram bot. On when the bot token is set (and the webhook secret in
    webhook mode)."""

    bot_token: SecretStr | None = None
    mode: Literal["webhook", "polling"] = "webhook"
    webhook_secret: SecretStr | None = Field(
        None, description="checked against X-Telegram-Bot-Api-Secret-Token"
    )
    webhook_url: str | None = Field(None, description="public URL to register with setWebhook")
    api_base_url: str = "https://api.telegram.org/bot"
    file_base_url: str = "https://api.telegram.org/file/bot"
    max_file_bytes: int = Field(10 * 1024 * 1024, ge=1)

    @property
    def enabled(self) -> bool:
        if self.bot_token is None:
            return False
        return self.mode == "polling" or self.webhook_secret is not None


class WebhookSettings(BaseModel):
    """Outbound webhooks (the endpoints themselves are kept in the database)."""

    allow_private_targets: bool = Field(
        False,
        description="let webhooks reach loopback and private addresses (a receiver on "
        "this host or network); off, only public addresses are called",
    )


class PrivacySettings(BaseModel):
    """How long closed conversations are kept (the retention task)."""

    retention_days: int | None = Field(
        None,
        ge=1,
        le=36_500,
        description="resolved or closed conversations untouched this many days are "
        "redacted or deleted; unset keeps them for ever",
    )
    retention_mode: Literal["redact", "delete"] = Field(
        "redact",
        description="redact: keep the conversation and its counts, remove words and files; "
        "delete: remove the conversation whole",
    )
    retention_interval_hours: float = Field(
        6.0, gt=0, le=24 * 30, description="how often the retention task looks"
    )
    retention_batch: int = Field(
        200, ge=1, le=10_000, description="conversations handled per transaction"
    )


class Settings(BaseSettings):
    """All of omnidesk's settings."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="ignore",
        validate_default=True,
    )

    data_dir: Path = Field(Path("var"), description="SQLite file, search index and uploads")
    database_url: str | None = Field(
        None, description="SQLAlchemy async URL; default is SQLite under data_dir"
    )
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    public_url: str | None = Field(None, description="base URL customers reach us at")
    log_level: str = "INFO"
    inbox_workers: int = Field(4, ge=1, le=64)

    secret_key: SecretStr | None = Field(
        None, description="signs visitor tokens; generated into data_dir when unset"
    )
    admin_email: str = Field(
        "admin@localhost", description="the admin account created on first start"
    )
    admin_password: SecretStr | None = Field(
        None,
        description="its password; when unset one is generated into data_dir/admin_password",
    )

    auth: AuthSettings = AuthSettings()
    knowledge: KnowledgeSettings = KnowledgeSettings()
    webchat: WebchatSettings = WebchatSettings()
    branding: BrandingSettings = BrandingSettings()
    escalation: EscalationSettings = EscalationSettings()
    sla: SlaSettings = SlaSettings()
    email: EmailSettings = EmailSettings()
    slack: SlackSettings = SlackSettings()
    telegram: TelegramSettings = TelegramSettings()
    webhooks: WebhookSettings = WebhookSettings()
    privacy: PrivacySettings = PrivacySettings()

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = _config_path()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if path is not None:
            sources.append(_SecretlessToml(settings_cls, toml_file=path))
        return tuple(sources)

    # -- derived values -------------------------------------------------------------

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'omnidesk.db'}"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def https(self) -> bool:
        """Whether people reach us over https (session cookies are then Secure)."""
        return bool(self.public_url and self.public_url.lower().startswith("https://"))

    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host  # noqa: S104
        return f"http://{host}:{self.port}"

    def ensure_secrets(self) -> None:
        """Fill unset secrets from files under ``data_dir``, creating them on first use."""
        if self.secret_key is None:
            self.secret_key = SecretStr(_read_or_create(self.data_dir / "secret_key"))

    def channels_on(self) -> dict[str, bool]:
        """Which channels run: one without its settings is simply off."""
        return {
            "webchat": True,
            "email": self.email.enabled,
            "slack": self.slack.enabled,
            "telegram": self.telegram.enabled,
        }

    def masked(self) -> dict[str, Any]:
        """The effective settings as plain data with every secret masked."""
        data = self.model_dump(mode="json")
        _mask_secrets(self, data)
        data["effective_database_url"] = _mask_url(self.effective_database_url)
        if data.get("database_url"):
            data["database_url"] = _mask_url(data["database_url"])
        data["channels"] = self.channels_on()
        # Unset here does not mean missing: say where the generated ones live.
        if self.secret_key is None:
            data["secret_key"] = f"(generated on first start in {self.data_dir / 'secret_key'})"
        if data.get("admin_password") is None:
            kept = self.data_dir / "admin_password"
            data["admin_password"] = f"(generated on first start; shown once, kept in {kept})"
        return data


def _secret_paths(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Dotted paths of every SecretStr field, nested models included."""
    paths: list[tuple[str, ...]] = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            paths.extend(_secret_paths(annotation, (*prefix, name)))
        elif "SecretStr" in str(annotation):
            paths.append((*prefix, name))
    return paths


def _mask_secrets(settings: BaseModel, data: dict[str, Any]) -> None:
    for path in _secret_paths(type(settings)):
        node: Any = data
        value: Any = settings
        for part in path[:-1]:
            node = node[part]
            value = getattr(value, part)
        set_ = getattr(value, path[-1]) is not None
        node[path[-1]] = "********" if set_ else None


class _SecretlessToml(TomlConfigSettingsSource):
    """The TOML source, refusing secrets so they never end up in a config file."""

    def __call__(self) -> dict[str, Any]:
        data = super().__call__()
        for path in _secret_paths(Settings):
            node: Any = data
            for part in path:
                if not isinstance(node, dict) or part not in node:
                    break
                node = node[part]
            else:
                env = ENV_PREFIX + "__".join(path).upper()
                raise ValueError(f"{'.'.join(path)} must not be set in the config file; use {env}")
        return data


def _config_path() -> Path | None:
    explicit = os.environ.get(CONFIG_ENV)
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise FileNotFoundError(f"config file {path} (from {CONFIG_ENV}) does not exist")
        return path
    default = Path(DEFAULT_CONFIG_FILE)
    return default if default.is_file() else None


def read_or_create_secret(path: Path) -> str:
    """The secret in ``path``, created (random, mode 0600) when missing or empty."""
    return _read_or_create(path)


def _read_or_create(path: Path) -> str:
    if path.is_file():
        value = path.read_text().strip()
        if value:
            return value
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    # Written with 0600 so other local users cannot read the secret.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value


def _mask_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "********"


def load_settings(**overrides: Any) -> Settings:
    """Build settings from defaults, the TOML file, the environment and ``overrides``."""
    return Settings(**overrides)
