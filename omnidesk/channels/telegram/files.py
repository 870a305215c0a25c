"""Files customers send: fetched with getFile and a bounded download, kept under the
uploads folder, served to agents at ``/api/v1/attachments/<name>``.

A stored name is an HMAC of the chat, message and Telegram's ``file_unique_id`` under a
key only this service knows: it cannot be guessed, yet a redelivered update names the
same file, so a retry neither downloads again nor leaves an orphan behind.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import mimetypes
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from telegram import Bot
from telegram.error import TelegramError

from omnidesk.channels.base import Attachment
from omnidesk.channels.telegram.inbound import FileRef

log = logging.getLogger(__name__)

ATTACHMENT_URL = "/api/v1/attachments/{name}"
CHUNK_BYTES = 64 * 1024
DOWNLOAD_TIMEOUT = aiohttp.ClientTimeout(total=60, sock_connect=10)
_SAFE_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,10}")


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file that was not stored, and why (kept in the message's ``raw``)."""

    filename: str
    size: int | None
    reason: str

    def as_raw(self) -> dict[str, object]:
        return {"filename": self.filename, "size": self.size, "reason": self.reason}


class TooLarge(Exception):
    pass


class FileStore:
    """Downloads Telegram files into ``uploads_dir``, never more than ``max_bytes`` each."""

    def __init__(self, bot: Bot, uploads_dir: Path, max_bytes: int, name_key: bytes) -> None:
        self._bot = bot
        self._dir = uploads_dir
        self._max_bytes = max_bytes
        self._name_key = name_key
        self._http: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=DOWNLOAD_TIMEOUT)

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    def stored_name(self, scope: str, ref: FileRef) -> str:
        mac = hmac.new(self._name_key, f"{scope}:{ref.file_unique_id}".encode(), hashlib.sha256)
        return f"tg-{mac.hexdigest()[:32]}{_suffix(ref)}"

    async def fetch(self, scope: str, ref: FileRef) -> Attachment | Skipped:
        """Store one file of the message ``scope``; a failure skips it, never raises."""
        if ref.size is not None and ref.size > self._max_bytes:
            return Skipped(ref.filename, ref.size, "too_large")
        name = self.stored_name(scope, ref)
        path = self._dir / name
        try:
            if await asyncio.to_thread(path.is_file):
                size = (await asyncio.to_thread(path.stat)).st_size
            else:
                size = await self._download(ref, path)
        except TooLarge:
            return Skipped(ref.filename, ref.size, "too_large")
        except (TelegramError, aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.warning("telegram file %s not stored: %s", ref.filename, type(exc).__name__)
            return Skipped(ref.filename, ref.size, f"download_failed: {type(exc).__name__}")
        return Attachment(
            filename=ref.filename,
            content_type=ref.content_type,
            size=size,
            url=ATTACHMENT_URL.format(name=name),
            path=str(path),
        )

    async def _download(self, ref: FileRef, path: Path) -> int:
        if self._http is None:
            raise aiohttp.ClientError("file store is not started")
        remote = await self._bot.get_file(ref.file_id)
        if remote.file_size is not None and remote.file_size > self._max_bytes:
            raise TooLarge()
        if not remote.file_path:
            raise aiohttp.ClientError("Telegram gave no file path")
        data = bytearray()
        # The URL holds the bot token: it is never logged.
        async with self._http.get(remote.file_path) as response:
            if response.status != 200:
                raise aiohttp.ClientResponseError(response.request_info, (), status=response.status)
            if response.content_length is not None and response.content_length > self._max_bytes:
                raise TooLarge()
            async for chunk in response.content.iter_chunked(CHUNK_BYTES):
                data.extend(chunk)
                if len(data) > self._max_bytes:
                    raise TooLarge()
        await asyncio.to_thread(_write_atomically, path, bytes(data))
        return len(data)


def _suffix(ref: FileRef) -> str:
    suffix = Path(ref.filename).suffix
    if _SAFE_SUFFIX.fullmatch(suffix):
        return suffix.lower()
    guessed = mimetypes.guess_extension(ref.content_type) or ""
    return guessed if _SAFE_SUFFIX.fullmatch(guessed) else ""


def _write_atomically(path: Path, data: bytes) -> None:
    # Written under a hidden temporary name (the attachment route refuses dot names) and
    # renamed, so a reader never sees half a file.
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    try:
        with open(temporary, "wb") as fh:
            fh.write(data)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
