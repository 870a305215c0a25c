"""Storing a mail's attachments under the uploads folder: only allowed types, only up to
the size limit, under a random name the sender has no say in. What is refused is
skipped and reported back, never an error."""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from omnidesk.channels.base import Attachment
from omnidesk.channels.email.mime import MailPart

log = logging.getLogger(__name__)

URL_PREFIX = "/api/v1/attachments/"
# Stable extensions for common types; mimetypes' answers vary between platforms.
_EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
    "text/csv": ".csv",
}
# File signatures of types a browser would render: a file that claims one of these
# types must start like one, so nobody smuggles other content in under an image type.
_SIGNATURES = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/pdf": (b"%PDF-",),
}
_SAFE_EXTENSION = re.compile(r"^\.[A-Za-z0-9]{1,10}$")


@dataclass(frozen=True, slots=True)
class Skipped:
    """An attachment that was not stored, and why."""

    filename: str
    content_type: str
    size: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class AttachmentStore:
    """Writes allowed attachments into ``directory``."""

    def __init__(self, directory: Path, max_bytes: int, allowed_types: Iterable[str]) -> None:
        self._directory = directory
        self._max_bytes = max_bytes
        self._allowed = frozenset(t.strip().lower() for t in allowed_types)

    async def save(self, parts: Sequence[MailPart]) -> tuple[list[Attachment], list[Skipped]]:
        """Store what is allowed; file writes run in a worker thread."""
        if not parts:
            return [], []
        return await asyncio.to_thread(self._save, parts)

    async def discard(self, attachments: Iterable[Attachment]) -> None:
        """Remove stored files again (their mail was not taken in, or was a duplicate)."""
        names = [a.url.removeprefix(URL_PREFIX) for a in attachments if a.url]
        if names:
            await asyncio.to_thread(self._remove, names)

    def check(self, part: MailPart) -> str | None:
        """Why ``part`` may not be stored, or None when it may."""
        content_type = part.content_type.lower()
        if content_type not in self._allowed:
            return f"type {content_type} is not allowed"
        if len(part.data) > self._max_bytes:
            return f"larger than {self._max_bytes} bytes"
        if not part.data:
            return "empty"
        signatures = _SIGNATURES.get(content_type)
        if signatures and not part.data.startswith(signatures):
            return f"content is not {content_type}"
        return None

    def _save(self, parts: Sequence[MailPart]) -> tuple[list[Attachment], list[Skipped]]:
        stored: list[Attachment] = []
        skipped: list[Skipped] = []
        for part in parts:
            reason = self.check(part)
            if reason is not None:
                log.info("email attachment %r skipped: %s", part.filename, reason)
                skipped.append(Skipped(part.filename, part.content_type, len(part.data), reason))
                continue
            self._directory.mkdir(parents=True, exist_ok=True)
            name = secrets.token_hex(16) + _extension(part.content_type)
            # "x": never overwrite, even on the impossible random-name collision.
            with (self._directory / name).open("xb") as fh:
                fh.write(part.data)
            stored.append(
                Attachment(
                    filename=part.filename,
                    content_type=part.content_type.lower(),
                    size=len(part.data),
                    url=URL_PREFIX + name,
                )
            )
        return stored, skipped

    def _remove(self, names: Iterable[str]) -> None:
        for name in names:
            path = self._directory / name
            # Only our own flat names: never follow anything out of the folder.
            if path.parent == self._directory and path.is_file():
                path.unlink(missing_ok=True)


def _extension(content_type: str) -> str:
    ext = _EXTENSIONS.get(content_type.lower()) or mimetypes.guess_extension(content_type) or ""
    return ext if _SAFE_EXTENSION.match(ext) else ".bin"
