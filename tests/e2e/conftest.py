"""End-to-end fixtures: the real service in a subprocess and headless Chromium.

The ``server`` fixture starts ``python -m omnidesk serve`` once per session on a free
loopback port with a fresh data directory; its first start creates the admin account
(credentials from the environment) and an agent account is added with ``omnidesk agents
add`` (see ``_add_accounts``). Browsers sign in through the real /signin page
(``sign_in``); Python code calls the API with a personal token made through the API
(``Server.token``). Set
``OMNIDESK_E2E_BASE_URL`` (and ``OMNIDESK_E2E_ADMIN_EMAIL``/``_PASSWORD``,
``OMNIDESK_E2E_AGENT_EMAIL``/``_PASSWORD``) to run the suite against a service that is
already up.
Chromium is the Debian package at ``/usr/bin/chromium``; a browser is never downloaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("OMNIDESK_E2E_CHROMIUM", "/usr/bin/chromium")
# The machine has no outside network; without these Chromium keeps dialing out.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# The first start imports and embeds the sample knowledge base.
STARTUP_TIMEOUT_S = 90.0
SHUTDOWN_TIMEOUT_S = 15.0
SHOTS_DIR = Path(os.environ.get("OMNIDESK_E2E_SHOTS", "/tmp/omnidesk-shots"))


@dataclass(frozen=True)
class Account:
    email: str
    password: str
    name: str


ADMIN = Account(
    os.environ.get("OMNIDESK_E2E_ADMIN_EMAIL", "admin@e2e.test"),
    os.environ.get("OMNIDESK_E2E_ADMIN_PASSWORD", "e2e-admin-password-41d8b2"),
    "Admin",
)
AGENT = Account(
    os.environ.get("OMNIDESK_E2E_AGENT_EMAIL", "agent@e2e.test"),
    os.environ.get("OMNIDESK_E2E_AGENT_PASSWORD", "e2e-agent-password-7f3c9a"),
    "Agent",
)
_TOKENS: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Server:
    """A running omnidesk service."""

    base_url: str
    admin: Account = ADMIN
    agent: Account = AGENT

    def url(self, path: str) -> str:
        return self.base_url + path

    def token(self, account: Account) -> str:
        """A personal API token of ``account`` (made once per run, through the API)."""
        key = (self.base_url, account.email)
        if key not in _TOKENS:
            _TOKENS[key] = api_token(self.base_url, account)
        return _TOKENS[key]

    def bearer(self, account: Account) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(account)}"}


def api_token(base_url: str, account: Account) -> str:
    """Sign in over HTTP like a browser (cookie + CSRF) and make a personal API token."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )

    def call(path: str, body: dict[str, str], headers: dict[str, str]) -> dict[str, str]:
        request = urllib.request.Request(
            base_url + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", **headers},
            method="POST",
        )
        with opener.open(request, timeout=10) as response:
            data: dict[str, str] = json.loads(response.read())
            return data

    login = call("/api/v1/auth/login", {"email": account.email, "password": account.password}, {})
    made = call("/api/v1/me/tokens", {"name": "e2e"}, {"X-CSRF-Token": login["csrf_token"]})
    return made["secret"]


async def sign_in(page: Any, server: Server, account: Account, path: str = "/console") -> None:
    """Open ``path`` logged out, get sent to /signin, sign in on the page, land on ``path``."""
    await page.goto(server.url(path))
    await page.wait_for_url(re.compile(re.escape(f"/signin?next={path}") + "$"))
    await page.locator("#si-email").fill(account.email)
    await page.locator("#si-password").fill(account.password)
    await page.locator(".si-submit").click()
    # The sign-in page's own address ends with ?next=<path>: wait for the path itself.
    await page.wait_for_url(lambda url: urllib.parse.urlsplit(url).path == path)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _service_env(data_dir: Path) -> dict[str, str]:
    # Nothing from the developer's own omnidesk setup may leak into the test service.
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNIDESK_")}
    env["OMNIDESK_ADMIN_EMAIL"] = ADMIN.email
    env["OMNIDESK_ADMIN_PASSWORD"] = ADMIN.password
    env["OMNIDESK_DATA_DIR"] = str(data_dir)
    # Every browser and visitor here comes from 127.0.0.1: the per-address limits would
    # treat the whole suite as one flooding office.
    env["OMNIDESK_WEBCHAT__MESSAGES_PER_ADDRESS_PER_MINUTE"] = "1000000"
    env["OMNIDESK_WEBCHAT__NEW_VISITORS_PER_ADDRESS_PER_MINUTE"] = "1000000"
    env["OMNIDESK_WEBHOOKS__ALLOW_PRIVATE_TARGETS"] = "true"  # the test receivers are local
    test_db = os.environ.get("OMNIDESK_TEST_DATABASE_URL")
    if test_db and os.environ.get("OMNIDESK_E2E_POSTGRES") == "1":
        env["OMNIDESK_DATABASE_URL"] = test_db
    # The checkout under test wins over any installed copy.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    # The packaged model is local; never let the hub try the network.
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TRANSFORMERS_OFFLINE", "1")
    return env


def _add_accounts(data_dir: Path, workdir: Path, env: dict[str, str]) -> None:
    """The agent account, added the way an admin would: ``omnidesk agents add``. The
    admin too, in case the database is not new (PostgreSQL): the first start made it
    only if no account existed."""
    base = [sys.executable, "-m", "omnidesk", "--data-dir", str(data_dir), "agents", "add"]
    for account, role in ((ADMIN, "admin"), (AGENT, "agent")):
        command = [*base, account.email, "--name", account.name, "--role", role]
        done = subprocess.run(
            [*command, "--password", account.password],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0 and "exists" not in done.stderr + done.stdout:
            pytest.fail(f"omnidesk agents add failed:\n{done.stdout}\n{done.stderr}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=SHUTDOWN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=SHUTDOWN_TIMEOUT_S)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The real service, started once for the e2e session."""
    external = os.environ.get("OMNIDESK_E2E_BASE_URL")
    if external:
        yield Server(external.rstrip("/"))
        return

    test_db = os.environ.get("OMNIDESK_TEST_DATABASE_URL")
    if test_db and os.environ.get("OMNIDESK_E2E_POSTGRES") == "1":
        # A clean database, as on SQLite: what earlier runs left (gaps, conversations)
        # must not leak into this one's answers.
        from tests.conftest import reset_postgres

        asyncio.run(reset_postgres(test_db))
    with running_service(tmp_path_factory.mktemp("omnidesk-e2e")) as base_url:
        yield Server(base_url)


@contextlib.contextmanager
def running_service(workdir: Path, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """``omnidesk serve`` in a subprocess on a free port; yields its base URL once
    ``/healthz`` answers, and stops it (SIGTERM, then kill) afterwards."""
    data_dir = workdir / "data"
    log_path = workdir / "server.log"
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "omnidesk",
        "serve",
        "--data-dir",
        str(data_dir),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with log_path.open("wb") as log:
        # cwd is the scratch directory so no omnidesk.toml of the checkout is picked up.
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env={**_service_env(data_dir), **(extra_env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not _healthy(base_url + "/healthz"):
            if process.poll() is not None:
                pytest.fail(
                    f"omnidesk serve exited with {process.returncode} before /healthz "
                    f"answered:\n{_tail(log_path)}"
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"/healthz did not answer 200 within {STARTUP_TIMEOUT_S:.0f} s:\n"
                    f"{_tail(log_path)}"
                )
            time.sleep(0.3)
        _add_accounts(data_dir, workdir, {**_service_env(data_dir), **(extra_env or {})})
        yield base_url
    finally:
        _stop(process)


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    """A headless Debian Chromium, one per test so no state leaks between tests."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    playwright_api = pytest.importorskip("playwright.async_api")
    async with playwright_api.async_playwright() as playwright:
        instance = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield instance
        finally:
            with contextlib.suppress(Exception):
                await instance.close()


@pytest.fixture(scope="session")
def shots_dir() -> Path:
    """Where screenshots for a visual check go."""
    SHOTS_DIR.mkdir(parents=True, exist_ok=True)
    return SHOTS_DIR
