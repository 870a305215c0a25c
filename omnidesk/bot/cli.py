"""The ``omnidesk`` command line: serve, config, db, agents, kb and ask."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
import uuid
from pathlib import Path
from typing import Any

import click
from aiohttp import web

from omnidesk.bot.accounts import agents, first_start_admin, sign_in_lines
from omnidesk.bot.contacts_cli import contacts
from omnidesk.config import CONFIG_ENV, Settings, load_settings


def _settings(ctx: click.Context) -> Settings:
    overrides: dict[str, Any] = ctx.obj.get("overrides", {})
    return load_settings(**overrides)


@click.group()
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="TOML file")
@click.option("--data-dir", type=click.Path(file_okay=False), help="where data lives")
@click.option("--database-url", help="SQLAlchemy async database URL")
@click.pass_context
def main(
    ctx: click.Context, config_file: str | None, data_dir: str | None, database_url: str | None
) -> None:
    """omnidesk: self-hosted omnichannel support bot and helpdesk."""
    if config_file:
        os.environ[CONFIG_ENV] = config_file
    overrides: dict[str, Any] = {}
    if data_dir:
        overrides["data_dir"] = Path(data_dir)
    if database_url:
        overrides["database_url"] = database_url
    ctx.obj = {"overrides": overrides}


def _logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


# -- serve ---------------------------------------------------------------------------------


@main.command()
@click.option("--host", help="address to listen on")
@click.option("--port", type=int, help="port to listen on")
@click.option("--data-dir", type=click.Path(file_okay=False), help="where data lives")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, data_dir: str | None) -> None:
    """Run the service: web chat, agent console, API and workers."""
    overrides = dict(ctx.obj["overrides"])
    if data_dir:
        overrides["data_dir"] = Path(data_dir)
    if host:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    settings = load_settings(**overrides)
    _logging(settings)
    asyncio.run(_serve(settings))


async def _serve(settings: Settings) -> None:
    from omnidesk.bot.app import SERVICES, create_app

    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    # After setup (the schema is migrated), before anyone can try to sign in.
    svc = app[SERVICES]
    created = await first_start_admin(settings, svc.sessionmaker, svc.bus)
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    base = settings.base_url()
    click.echo(f"omnidesk is running on {base}")
    click.echo(f"  web chat demo:  {base}/")
    for line in sign_in_lines(base, created, settings):
        click.echo(line)
    click.echo(f"  knowledge base: {base}/kb")
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


# -- config --------------------------------------------------------------------------------


@main.group()
def config() -> None:
    """Inspect settings."""


@config.command("show")
@click.pass_context
def config_show(ctx: click.Context) -> None:
    """Print the effective settings, secrets masked."""
    settings = _settings(ctx)
    click.echo(json.dumps(settings.masked(), indent=2))


# -- db ------------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Apply every migration."""
    from omnidesk.bot.migrate import current, upgrade
    from omnidesk.db import create_engine

    settings = _settings(ctx)

    async def run() -> str | None:
        engine = create_engine(settings.effective_database_url)
        try:
            await upgrade(engine)
            return await current(engine)
        finally:
            await engine.dispose()

    revision = asyncio.run(run())
    click.echo(f"database is at revision {revision}")


main.add_command(agents)
main.add_command(contacts)


# -- kb ------------------------------------------------------------------------------------


@main.group()
def kb() -> None:
    """Knowledge base."""


@kb.command("import")
@click.argument("path", type=click.Path(exists=True))
@click.pass_context
def kb_import(ctx: click.Context, path: str) -> None:
    """Import articles from PATH, a folder or one file; re-import updates by slug.

    Markdown with front matter (.md), HTML pages (.html: main text, title from h1 or
    title), and question/answer pairs (.csv or .json with question and answer: one
    article per pair). A broken file is reported and the rest still import; the exit
    status is 1 if any failed.
    """
    settings = _settings(ctx)
    settings.knowledge.seed_sample = False

    async def run() -> Any:
        from omnidesk.bot.services import Services

        async with Services(settings, workers=False) as svc:
            return await svc.kb.import_path(Path(path), progress=True)

    report = asyncio.run(run())
    click.echo(str(report))
    if getattr(report, "errors", None):
        sys.exit(1)


@kb.command("export")
@click.argument("directory", type=click.Path(file_okay=False))
@click.pass_context
def kb_export(ctx: click.Context, directory: str) -> None:
    """Write every article to DIRECTORY as <slug>.md with front matter (drafts too);
    importing the folder again changes nothing."""
    settings = _settings(ctx)
    settings.knowledge.seed_sample = False

    async def run() -> list[Path]:
        from omnidesk.bot.services import Services

        async with Services(settings, workers=False) as svc:
            return await svc.kb.export_to(Path(directory))

    written = asyncio.run(run())
    click.echo(f"{len(written)} articles written to {directory}")


@kb.command("eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False), required=False)
@click.option(
    "--json", "json_out", type=click.Path(dir_okay=False), help="also write the report as JSON"
)
@click.option(
    "--target-wrong",
    type=click.FloatRange(0.0, 1.0),
    default=0.03,
    show_default=True,
    help="share of wrong answers the suggested confidence bar allows",
)
@click.pass_context
def kb_eval(
    ctx: click.Context, file: str | None, json_out: str | None, target_wrong: float
) -> None:
    """Score retrieval on FILE (CSV: question,expected slug; default: the packaged
    sample's eval.csv): hit@1, hit@5, MRR, the calibration of the answer bar, what the
    bot would do (answered right or wrong, declined) and the confidence bar that keeps
    wrong answers within --target-wrong. A row with an empty expected is a question no
    article should answer (out of scope)."""
    from omnidesk.knowledge import EvaluationError, evaluate, load_cases

    settings = _settings(ctx)
    try:
        cases = load_cases(file) if file else load_cases()
    except EvaluationError as exc:
        raise click.ClickException(f"{file}: {exc}") from None

    async def run() -> Any:
        from omnidesk.bot.services import Services

        async with Services(settings, workers=False) as svc:
            return await evaluate(svc.kb, cases, target_wrong=target_wrong)

    report = asyncio.run(run())
    for line in report.lines():
        click.echo(line)
    if json_out:
        Path(json_out).write_text(json.dumps(report.to_dict(), indent=2) + "\n")
        click.echo(f"report written to {json_out}")


@kb.command("search")
@click.argument("question", required=False)
@click.option("-k", "k", type=int, default=5, show_default=True, help="hits per question")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
@click.pass_context
def kb_search(ctx: click.Context, question: str | None, k: int, as_json: bool) -> None:
    """Search the knowledge base; with no QUESTION, one question per line from stdin."""
    settings = _settings(ctx)
    questions = [question] if question else [q.strip() for q in sys.stdin if q.strip()]
    as_json = as_json or question is None

    async def run() -> None:
        from omnidesk.bot.services import Services

        async with Services(settings, workers=False) as svc:
            for q in questions:
                hits = await svc.kb.search(q, k=k)
                if as_json:
                    line = {
                        "question": q,
                        "hits": [
                            {"slug": h.slug, "title": h.title, "score": round(h.score, 4)}
                            for h in hits
                        ],
                    }
                    click.echo(json.dumps(line))
                else:
                    click.echo(q)
                    for rank, h in enumerate(hits, 1):
                        click.echo(f"  {rank}. {h.score:.3f}  {h.title}  ({h.slug})")

    asyncio.run(run())


# -- ask -----------------------------------------------------------------------------------


@main.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="print the replies as JSON")
@click.pass_context
def ask(ctx: click.Context, question: str, as_json: bool) -> None:
    """Run one message through the full router and print what the bot would answer."""
    settings = _settings(ctx)

    async def run() -> list[Any]:
        from omnidesk.bot.services import Services
        from omnidesk.bot.testchannel import CaptureChannel
        from omnidesk.channels import InboundMessage

        svc = Services(settings, workers=False)
        capture = CaptureChannel()
        svc.add_channel(capture)
        async with svc:
            await svc.on_message(
                InboundMessage(
                    channel=capture.name,
                    sender_id=f"cli-{uuid.uuid4().hex[:8]}",
                    dedupe_key=uuid.uuid4().hex,
                    text=question,
                )
            )
            await svc.inbox.drain()
            await svc.outbox.dispatch_ready()
        return list(capture.sent)

    replies = asyncio.run(run())
    for reply in replies:
        if as_json:
            click.echo(json.dumps(reply.to_dict()))
            continue
        click.echo(reply.as_plain_text())
        if reply.confidence is not None:
            click.echo(f"(confidence {reply.confidence:.2f})")


if __name__ == "__main__":
    main()
