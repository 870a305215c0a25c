"""The public survey pages behind email links. CSAT: ``GET /csat/{token}?score=N``
records the score and shows a small thank-you page with an optional comment form, which
posts back to the same address. NPS: ``GET /nps/{token}`` shows the 0-10 question with a
comment box, ``POST`` records both. No sign-in: the signed token is the key."""

from __future__ import annotations

import html

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omnidesk.helpdesk import actions
from omnidesk.helpdesk.catalogue import CSAT_SCORES, Catalogue
from omnidesk.helpdesk.events import EventBus, unit_of_work
from omnidesk.helpdesk.models import SurveySend, Ticket
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
            web.get("/nps/{token}", self.nps_question),
            web.post("/nps/{token}", self.nps_answer),
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

    async def nps_question(self, request: web.Request) -> web.Response:
        send_id = self._ref(request, "nps")
        async with self._sessionmaker() as session:
            send = await _nps_row(session, send_id)
            answered = send.score
        lead = self._catalogue.nps_question()
        if answered is not None:
            lead = f"Thank you, you answered {answered}. You can change your answer here."
        return _page(200, lead, _nps_form(request.match_info["token"]))

    async def nps_answer(self, request: web.Request) -> web.Response:
        send_id = self._ref(request, "nps")
        form = await request.post()
        raw = str(form.get("score") or "")
        comment = str(form.get("comment") or "").strip()
        if not raw.isdigit() or int(raw) not in actions.NPS_SCORES:
            return _page(400, "Please choose a number from 0 to 10.")
        if len(comment) > MAX_COMMENT_CHARS:
            return _page(400, f"Please keep the comment under {MAX_COMMENT_CHARS} characters.")
        async with unit_of_work(self._sessionmaker, self._bus) as session:
            send = await _nps_row(session, send_id)
            await actions.answer_nps(session, send, int(raw), via="link", comment=comment)
        return _page(200, f"Thank you! You answered {int(raw)} out of 10.")

    def _ticket(self, request: web.Request) -> int:
        return self._ref(request, "csat")

    def _ref(self, request: web.Request, kind: str) -> int:
        ref = self._links.read(request.match_info["token"], kind)
        if ref is None:
            raise _page_error(404, "This survey link is not valid or has expired.")
        return ref


async def _ticket_row(session: AsyncSession, ticket_id: int) -> Ticket:
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None:
        raise _page_error(404, "This rating link is not valid any more.")
    return ticket


async def _nps_row(session: AsyncSession, send_id: int) -> SurveySend:
    send = await session.get(SurveySend, send_id)
    if send is None or send.kind != "nps":
        raise _page_error(404, "This survey link is not valid any more.")
    return send


def _nps_form(token: str) -> str:
    """Eleven buttons (each submits its score) and an optional comment above them."""
    action = html.escape(f"/nps/{token}", quote=True)
    buttons = "".join(
        f'<button type="submit" name="score" value="{n}">{n}</button>' for n in actions.NPS_SCORES
    )
    return (
        f'<form method="post" action="{action}">'
        '<label for="comment">Anything you would like to add? (optional)</label>'
        f'<textarea id="comment" name="comment" maxlength="{MAX_COMMENT_CHARS}"></textarea>'
        '<p class="scale">0 = not at all likely, 10 = extremely likely</p>'
        f'<div class="scores">{buttons}</div></form>'
    )


def _page(status: int, message: str, extra: str = "") -> web.Response:
    body = (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        "<title>Your feedback</title><style>body{font:16px system-ui,sans-serif;max-width:32rem;"
        "margin:3rem auto;padding:0 1rem}textarea{display:block;width:100%;min-height:6rem;"
        "margin:.5rem 0}.scores{display:flex;flex-wrap:wrap;gap:.25rem}"
        ".scores button{min-width:2.5rem;padding:.5rem}</style>"
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
