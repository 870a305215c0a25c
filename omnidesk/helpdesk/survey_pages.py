"""The public rating pages behind email links: ``GET /csat/{token}?score=N`` records the
score and shows a small thank-you page with an optional comment form, which posts back
to the same address. No sign-in: the signed token is the key."""

from __future__ import annotations

import html

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omnidesk.helpdesk import actions
from omnidesk.helpdesk.catalogue import CSAT_SCORES, Catalogue
from omnidesk.helpdesk.events import EventBus, unit_of_work
from omnidesk.helpdesk.models import Ticket
from omnidesk.helpdesk.survey import SurveyLinks

MAX_COMMENT_CHARS = 2000
_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"


class SurveyPages:
    """The public pages behind the links; no sign-in, the signed token is the key."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        bus: EventBus,
        links: SurveyLinks,
        catalogue: Catalogue,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._bus = bus
        self._links = links
        self._catalogue = catalogue

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.get("/csat/{token}", self.rate),
            web.post("/csat/{token}", self.comment),
        ]

    async def rate(self, request: web.Request) -> web.Response:
        ticket_id = self._ticket(request)
        raw = request.query.get("score", "")
        if not raw.isdigit() or int(raw) not in CSAT_SCORES:
            return _page(400, "That rating link is not complete: the score must be 1 to 5.")
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            ticket = await _ticket_row(session, ticket_id)
            await actions.rate(session, ticket, int(raw), via="link")
        token = html.escape(request.match_info["token"], quote=True)
        form = (
            f'<form method="post" action="/csat/{token}">'
            '<label for="comment">Anything you would like to add? (optional)</label>'
            f'<textarea id="comment" name="comment" maxlength="{MAX_COMMENT_CHARS}"></textarea>'
            '<button type="submit">Send</button></form>'
        )
        return _page(200, f"Thank you! You rated us {int(raw)} out of 5.", form)

    async def comment(self, request: web.Request) -> web.Response:
        ticket_id = self._ticket(request)
        form = await request.post()
        comment = str(form.get("comment") or "").strip()
        if len(comment) > MAX_COMMENT_CHARS:
            return _page(400, f"Please keep the comment under {MAX_COMMENT_CHARS} characters.")
        if comment:
            async with unit_of_work(self._sessionmaker, self._bus) as session:
                ticket = await _ticket_row(session, ticket_id)
                if ticket.csat_score is None:
                    return _page(409, "Please choose a rating first.")
                await actions.comment_on_rating(session, ticket, comment)
        return _page(200, self._catalogue.comment_thanks())

    def _ticket(self, request: web.Request) -> int:
        ticket_id = self._links.ticket_of(request.match_info["token"])
        if ticket_id is None:
            raise _page_error(404, "This rating link is not valid or has expired.")
        return ticket_id


async def _ticket_row(session: AsyncSession, ticket_id: int) -> Ticket:
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None:
        raise _page_error(404, "This rating link is not valid any more.")
    return ticket


def _page(status: int, message: str, extra: str = "") -> web.Response:
    body = (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        "<title>Your rating</title><style>body{font:16px system-ui,sans-serif;max-width:32rem;"
        "margin:3rem auto;padding:0 1rem}textarea{display:block;width:100%;min-height:6rem;"
        "margin:.5rem 0}</style>"
        f"<p>{html.escape(message)}</p>{extra}</html>"
    )
    return web.Response(
        status=status,
        text=body,
        content_type="text/html",
        headers={
            "Cache-Control": "no-store",
            "Content-Security-Policy": _CSP,
        },
    )


def _page_error(status: int, message: str) -> web.HTTPException:
    response = _page(status, message)
    error = web.HTTPNotFound if status == 404 else web.HTTPBadRequest
    return error(
        text=response.text, content_type="text/html", headers={"Cache-Control": "no-store"}
    )
