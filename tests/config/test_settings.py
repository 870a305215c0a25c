"""Settings come from defaults < TOML file < environment, and never print secrets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from omnidesk.bot.cli import main
from omnidesk.config import CONFIG_ENV, Settings, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("OMNIDESK_DATA_DIR", "OMNIDESK_DATABASE_URL", CONFIG_ENV):
        monkeypatch.delenv(name, raising=False)


def test_defaults_use_sqlite_under_var(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.data_dir == tmp_path / "var"
    assert (
        settings.effective_database_url == f"sqlite+aiosqlite:///{tmp_path / 'var' / 'omnidesk.db'}"
    )
    assert settings.knowledge.embedding_model == "all-MiniLM-L6-v2"


def test_toml_then_environment_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "omnidesk.toml").write_text(
        'port = 9000\nhost = "0.0.0.0"\n[knowledge]\ntop_k = 5\n'
    )
    settings = load_settings()
    assert (settings.port, settings.host, settings.knowledge.top_k) == (9000, "0.0.0.0", 5)
    monkeypatch.setenv("OMNIDESK_PORT", "9100")
    monkeypatch.setenv("OMNIDESK_KNOWLEDGE__TOP_K", "7")
    settings = load_settings()
    assert (settings.port, settings.knowledge.top_k) == (9100, 7)
    assert settings.base_url() == "http://127.0.0.1:9100"


def test_secrets_refused_in_toml(tmp_path: Path) -> None:
    (tmp_path / "omnidesk.toml").write_text('admin_password = "oops"\n')
    with pytest.raises(ValueError, match="must not be set in the config file"):
        load_settings()


def test_missing_explicit_config_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "nope.toml"))
    with pytest.raises(FileNotFoundError):
        load_settings()


def test_generated_secrets_persist_with_private_mode(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d")
    settings.ensure_secrets()
    again = Settings(data_dir=tmp_path / "d")
    again.ensure_secrets()
    assert settings.secret_key is not None and again.secret_key is not None
    assert settings.secret_key.get_secret_value() == again.secret_key.get_secret_value()
    assert (tmp_path / "d" / "secret_key").stat().st_mode & 0o077 == 0


def test_config_show_masks_secrets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OMNIDESK_ADMIN_PASSWORD", "super-secret-token")
    monkeypatch.setenv("OMNIDESK_DATABASE_URL", "postgresql+asyncpg://u:hunter2@db/x")
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path / "dd"), "config", "show"])
    assert result.exit_code == 0, result.output
    assert "super-secret-token" not in result.output and "hunter2" not in result.output
    shown = json.loads(result.output)
    assert shown["admin_password"] == "********"
    assert "console_token" not in shown and "admin_token" not in shown
    assert shown["data_dir"] == str(tmp_path / "dd")
    assert shown["effective_database_url"].startswith("postgresql+asyncpg://u:***@db/x")


def test_nested_secrets_refused_in_toml_and_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "omnidesk.toml").write_text('[slack]\nbot_token = "xoxb-leak"\n')
    with pytest.raises(ValueError, match=r"slack\.bot_token must not be set"):
        load_settings()
    (tmp_path / "omnidesk.toml").write_text('[slack]\napi_base_url = "http://127.0.0.1:9/api/"\n')
    monkeypatch.setenv("OMNIDESK_SLACK__BOT_TOKEN", "xoxb-secret")
    monkeypatch.setenv("OMNIDESK_SLACK__SIGNING_SECRET", "shh")
    settings = load_settings()
    assert settings.slack.enabled and not settings.telegram.enabled
    shown = settings.masked()
    assert shown["slack"]["bot_token"] == "********"
    assert shown["telegram"]["bot_token"] is None
    assert shown["channels"] == {"webchat": True, "email": False, "slack": True, "telegram": False}
    assert "xoxb-secret" not in json.dumps(shown)


def test_show_says_where_generated_secrets_live(tmp_path: Path) -> None:
    shown = Settings(data_dir=tmp_path / "dd").masked()
    assert shown["secret_key"] == f"(generated on first start in {tmp_path / 'dd' / 'secret_key'})"
    assert str(tmp_path / "dd" / "admin_password") in shown["admin_password"]
    given = Settings(data_dir=tmp_path, secret_key="k" * 32, admin_password="p" * 12).masked()
    assert given["secret_key"] == given["admin_password"] == "********"
