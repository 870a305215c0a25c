"""The files customers sent, as the helpdesk finds them: channels store them under the
uploads folder and a message's payload names each by its URL
(``/api/v1/attachments/<name>``). Reading one for an agent or an export, and removing
them when their messages are erased, go through here so no name can leave the folder."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

URL_PREFIX = "/api/v1/attachments/"


def upload_path(directory: Path | None, name: str) -> Path | None:
    """The stored file called ``name``, or None when there is none (or the name would
    reach outside the folder)."""
    if directory is None or not name or name.startswith(".") or "/" in name or "\\" in name:
        return None
    path = (directory / name).resolve()
    if path.parent != directory.resolve() or not path.is_file():
        return None
    return path


def attachment_names(payload: Mapping[str, Any] | None) -> list[str]:
    """The stored files a message's payload points at (its attachments with our URL)."""
    files = (payload or {}).get("attachments")
    names: list[str] = []
    for item in files if isinstance(files, list) else []:
        url = item.get("url") if isinstance(item, dict) else None
        if isinstance(url, str) and url.startswith(URL_PREFIX):
            names.append(url.removeprefix(URL_PREFIX))
    return names


def remove_uploads(directory: Path | None, names: Iterable[str]) -> int:
    """Delete the stored files called ``names``; how many were there to delete."""
    removed = 0
    for name in set(names):
        path = upload_path(directory, name)
        if path is not None:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
