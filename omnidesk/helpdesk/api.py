"""The agent console: its static pages, attachments, and the agents' work routes
(conversations, canned responses and notifications, contacts), which live in
``work_api``, ``canned_api`` and ``contacts_api``. Every API route needs a signed-in
agent (the auth middleware checks the role each route is marked with)."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omnidesk.helpdesk.canned_api import CannedAPI
from omnidesk.helpdesk.contacts_api import ContactsAPI
from omnidesk.helpdesk.events import EventBus
from omnidesk.helpdesk.http import HTTPJSONError, agents_only, require_role
from omnidesk.helpdesk.uploads import upload_path
from omnidesk.helpdesk.work_api import WorkAPI

CONSOLE_DIR = Path(__file__).parent / "console"
# Attachment types a browser cannot run code from; they keep their type on download.
INERT_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"}
)


class ConsoleAPI:
    """Handlers for agents (an admin may do everything an agent may)."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        bus: EventBus,
        uploads_dir: Path | None = None,
    ) -> None:
        self._uploads_dir = uploads_dir
        self._sessionmaker = sessionmaker
        self._bus = bus

    def routes(self) -> list[web.AbstractRouteDef]:
        parts = (WorkAPI, CannedAPI, ContactsAPI)
        work = [
            route
            for part in parts
            for route in part(self._sessionmaker, self._bus, require_role).routes()
        ]
        return [
            *work,
            web.get(r"/api/v1/attachments/{name:[A-Za-z0-9._-]+}", agents_only(self.attachment)),
            web.get("/console", self.console_page),
            web.get("/console/", self.console_page),
            web.static("/console", CONSOLE_DIR, show_index=False),
        ]

    async def console_page(self, request: web.Request) -> web.StreamResponse:
        # Reached only signed in (the middleware sends strangers to /signin).
        return web.FileResponse(CONSOLE_DIR / "index.html")

    async def attachment(self, request: web.Request) -> web.StreamResponse:
        """A file a customer sent, stored by its channel under the uploads folder."""
        name = request.match_info["name"]
        path = upload_path(self._uploads_dir, name)
        if path is None:
            raise HTTPJSONError(404, "not_found", "no such attachment")
        # Always a download, never rendered in our origin: HTML, SVG or script a customer
        # sent must not run with an agent's session. Types a browser only displays keep
        # their type so the download opens in the right program; the rest are bytes.
        guessed = mimetypes.guess_type(name)[0] or ""
        return web.FileResponse(
            path,
            headers={
                "Content-Type": guessed if guessed in INERT_TYPES else "application/octet-stream",
                "Content-Disposition": f'attachment; filename="{name}"',
                "Content-Security-Policy": "sandbox",
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "private, no-store",
            },
        )
