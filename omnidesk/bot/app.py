"""The aiohttp application factory, for ``omnidesk serve`` and the tests alike."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from aiohttp import web

from omnidesk.bot.metrics import Metrics
from omnidesk.bot.middlewares import MIDDLEWARES
from omnidesk.bot.services import Services
from omnidesk.config import Settings
from omnidesk.escalation import asks_for_human, normalise_calendar
from omnidesk.helpdesk import (
    AdminAPI,
    AuditAPI,
    AuthGuard,
    ConsoleAPI,
    PeopleAPI,
    PoliciesAPI,
    RightsAPI,
    SearchAPI,
    WebhooksAPI,
    live_guard,
)
from omnidesk.helpdesk.catalogue import Catalogue
from omnidesk.helpdesk.contacts_csv import ContactsCsvAPI
from omnidesk.helpdesk.survey_pages import SurveyPages
from omnidesk.knowledge import ArticleAdmin, kb_routes
from omnidesk.reports import ReportsAPI

SERVICES = web.AppKey("services", Services)
GUARD = web.AppKey("guard", AuthGuard)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
DEMO_PAGE = Path(__file__).resolve().parent.parent / "channels" / "webchat" / "static" / "demo.html"
MAX_BODY_BYTES = 1024 * 1024


def create_app(settings: Settings, services: Services | None = None) -> web.Application:
    """Build the one aiohttp server; it owns the services' lifecycle unless given them."""
    svc = services or Services(settings)
    guard = AuthGuard(svc.sessionmaker, svc.bus, settings.auth, https=settings.https)
    app = web.Application(
        middlewares=[*MIDDLEWARES, guard.middleware()],
        client_max_size=MAX_BODY_BYTES,
    )
    app[SERVICES] = svc
    app[GUARD] = guard

    if services is None:

        async def lifecycle(app: web.Application) -> AsyncIterator[None]:
            await svc.start()
            yield
            await svc.stop()

        app.cleanup_ctx.append(lifecycle)

    async def close_sockets(app: web.Application) -> None:
        # Open WebSockets would hold shutdown for aiohttp's whole grace period; the other
        # channels stop after the outbox, in Services.stop.
        await svc.webchat.stop()

    app.on_shutdown.append(close_sockets)

    async def demo(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(DEMO_PAGE)

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    console = ConsoleAPI(svc.sessionmaker, svc.bus, settings.uploads_dir)
    articles = ArticleAdmin(svc.kb)
    admin = AdminAPI(
        svc.sessionmaker,
        articles,
        # "agent please" escalates, but it is no question the knowledge base lacks.
        not_a_question=asks_for_human,
    )
    # Open to anyone: the demo page, health, the public knowledge base and every channel's
    # own routes (each channel checks its platform's signature or visitor token itself).
    guard.allow_public([app.router.add_get("/", demo)])
    guard.allow_public([app.router.add_get("/healthz", healthz)])
    guard.allow_public(Metrics(svc).install(app))
    guard.allow_public(app.router.add_routes(kb_routes(svc.kb)))
    for channel in svc.channels.values():
        guard.allow_public(app.router.add_routes(channel.routes()))
    # Survey pages behind email links (CSAT, NPS): the signed token in the address is the key.
    survey = SurveyPages(
        svc.sessionmaker, svc.bus, svc.survey_links, Catalogue.from_settings(settings)
    )
    guard.allow_public(app.router.add_routes(survey.routes()))
    # Everything else needs an account: each route says which role (see AuthGuard).
    app.router.add_routes(PeopleAPI(svc.sessionmaker, svc.bus, guard).routes())
    app.router.add_routes(console.routes())
    app.router.add_routes(admin.routes())
    policies = PoliciesAPI(svc.sessionmaker, svc.bus, settings.sla, normalise_calendar)
    app.router.add_routes(policies.routes())
    svc.live.install(app, live_guard())
    app.router.add_routes(SearchAPI(svc.sessionmaker).routes())
    app.router.add_routes(AuditAPI(svc.sessionmaker).routes())
    reports = ReportsAPI(
        svc.sessionmaker,
        default_tz=settings.sla.calendar.timezone,
        group_questions=articles.group_questions,
        not_a_question=asks_for_human,
        nps=settings.escalation.nps_enabled,
    )
    app.router.add_routes(reports.routes())
    app.router.add_routes(WebhooksAPI(svc.sessionmaker, svc.bus).routes())
    app.router.add_routes(ContactsCsvAPI(svc.sessionmaker, svc.bus).routes())
    rights = RightsAPI(svc.sessionmaker, svc.bus, settings.uploads_dir, settings.privacy)
    app.router.add_routes(rights.routes())
    return app
