"""Start a real ``omnidesk serve`` on loopback for a benchmark, and stop it after; its
first start creates the admin account ``ADMIN_EMAIL`` / ``ADMIN_PASSWORD``, and
``sign_in`` gives a benchmark that account's session cookie and CSRF token."""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ADMIN_EMAIL = "admin@bench.test"
ADMIN_PASSWORD = "bench-admin-password"


def sign_in(base: str, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> tuple[str, str]:
    """(session cookie value, CSRF token) of a fresh sign-in."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    request = urllib.request.Request(
        f"{base}/api/v1/auth/login",
        data=json.dumps({"email": email, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with opener.open(request, timeout=10) as response:
        csrf = json.loads(response.read())["csrf_token"]
    cookie = next(c.value for c in jar if c.name == "omnidesk_session")
    return str(cookie), str(csrf)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_server(data_dir: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    port = free_port()
    full_env = {
        **os.environ,
        "OMNIDESK_LOG_LEVEL": "WARNING",
        # The benchmark's visitors all come from loopback; per-address limits are for
        # strangers.
        "OMNIDESK_WEBCHAT__MESSAGES_PER_ADDRESS_PER_MINUTE": "1000000",
        "OMNIDESK_WEBCHAT__NEW_VISITORS_PER_ADDRESS_PER_MINUTE": "1000000",
        "OMNIDESK_ADMIN_EMAIL": ADMIN_EMAIL,
        "OMNIDESK_ADMIN_PASSWORD": ADMIN_PASSWORD,
        **(env or {}),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "omnidesk",
            "--data-dir",
            str(data_dir),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=full_env,
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}")
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            raise RuntimeError("server did not become healthy")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
