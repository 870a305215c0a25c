"""The Telegram adapter: a webhook route (or a long-polling task) in, ``sendMessage`` out.

It owns one ``telegram.Bot`` for Bot API calls, started and shut down explicitly. It
verifies and converts updates and delivers replies; what to answer is the router's.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from aiohttp import web
from telegram import Bot, Message
from telegram.error import TelegramError

from omnidesk.channels.base import (
    Attachment,
    DeliveryReceipt,
    InboundMessage,
    InboundResult,
    OnMessage,
    OutboundMessage,
)
from omnidesk.channels.telegram.callbacks import CallbackCodec
from omnidesk.channels.telegram.convert import convert
from omnidesk.channels.telegram.files import FileStore, Skipped
from omnidesk.channels.telegram.inbound import ALLOWED_UPDATES, NAME, Ignored, Incoming, message_key
from omnidesk.channels.telegram.outbound import receipt_for, render
from omnidesk.channels.telegram.polling import Poller, UpdateSource, backoff
from omnidesk.channels.telegram.webhook import SECRET_HEADER, WEBHOOK_PATH, read_update, refusal
from omnidesk.config import TelegramSettings

log = logging.getLogger(__name__)

POLL_TIMEOUT = 25


class _RedactToken(logging.Filter):
    """httpx logs every request URL at INFO, and Bot API URLs carry the bot token."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self._token in message:
            record.msg = message.replace(self._token, "<bot-token>")
            record.args = ()
        return True


class TelegramChannel:
    """Telegram private chats as a channel; see the module docstring."""

    name = NAME

    def __init__(
        self,
        settings: TelegramSettings,
        uploads_dir: Path,
        on_message: OnMessage,
        *,
        poll_timeout: int = POLL_TIMEOUT,
        retry_base: float = 1.0,
        retry_cap: float = 60.0,
    ) -> None:
        if settings.bot_token is None:
            raise ValueError("telegram.bot_token is not set")
        token = settings.bot_token.get_secret_value()
        self._settings = settings
        self._on_message = on_message
        self._retry_base = retry_base
        self._retry_cap = retry_cap
        self._bot = Bot(token, base_url=settings.api_base_url, base_file_url=settings.file_base_url)
        self._codec = CallbackCodec()
        self._files = FileStore(self._bot, uploads_dir, settings.max_file_bytes, token.encode())
        self._updates = UpdateSource(self._bot.base_url)
        self._poller = Poller(
            self._updates,
            self.process,
            timeout=poll_timeout,
            retry_base=retry_base,
            retry_cap=retry_cap,
        )
        self._redact = _RedactToken(token)
        self._task: asyncio.Task[None] | None = None
        self._started = False

    @property
    def poller(self) -> Poller:
        return self._poller

    # -- Channel contract ----------------------------------------------------------------

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        if self._settings.mode != "webhook":
            return []
        return [web.post(WEBHOOK_PATH, self.webhook)]

    async def start(self) -> None:
        """Connect the Bot and register the webhook or start polling.

        Telegram being unreachable must not stop the rest of the service: a failed setup
        is retried in the background.
        """
        if self._started:
            return
        self._started = True
        logging.getLogger("httpx").addFilter(self._redact)
        await self._files.start()
        if self._settings.mode == "polling":
            self._task = asyncio.create_task(self._poll(), name="telegram-polling")
        elif not await self._setup_once():
            self._task = asyncio.create_task(
                self._setup_retrying(failures=1), name="telegram-setup"
            )

    async def stop(self) -> None:
        """Stop polling, release the HTTP clients. Safe to call twice."""
        if not self._started:
            return
        self._started = False
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._files.stop()
        await self._updates.close()
        try:
            await self._bot.shutdown()
        except Exception:
            log.exception("shutting down the Telegram bot failed")
        logging.getLogger("httpx").removeFilter(self._redact)

    async def send(self, message: OutboundMessage) -> DeliveryReceipt:
        try:
            outgoing = render(message, self._codec)
        except ValueError as exc:
            return DeliveryReceipt(ok=False, error=str(exc), permanent=True)
        sent: Message | None = None
        try:
            last = len(outgoing.chunks) - 1
            for n, chunk in enumerate(outgoing.chunks):
                sent = await self._bot.send_message(
                    chat_id=outgoing.chat_id,
                    text=chunk,
                    # The buttons belong under the end of a long message.
                    reply_markup=outgoing.keyboard if n == last else None,
                    reply_parameters=outgoing.reply_parameters if n == 0 else None,
                )
        except TelegramError as exc:
            return receipt_for(exc)
        assert sent is not None
        return DeliveryReceipt(ok=True, external_id=message_key(outgoing.chat_id, sent.message_id))

    # -- inbound -------------------------------------------------------------------------

    async def webhook(self, request: web.Request) -> web.Response:
        """POST /telegram/webhook: verify, convert, commit, then acknowledge."""
        secret = self._settings.webhook_secret
        refused = refusal(
            request.headers.get(SECRET_HEADER),
            secret.get_secret_value() if secret is not None else None,
        )
        if refused is not None:
            return refused
        update = await read_update(request)
        if isinstance(update, web.Response):
            return update
        try:
            await self.process(update)
        except Exception as exc:
            # Not committed: a non-2xx answer makes Telegram deliver the update again.
            # A database error's text can quote the row, the customer's words with it:
            # the name here, the whole of it only at DEBUG.
            log.error(
                "telegram update %s was not accepted (%s)", update["update_id"], type(exc).__name__
            )
            log.debug("telegram update %s was not accepted", update["update_id"], exc_info=True)
            return web.json_response({"ok": False, "error": "try again"}, status=500)
        return web.json_response({"ok": True})

    async def process(self, update: Mapping[str, Any]) -> InboundResult | None:
        """Convert one update's JSON and hand it to ``on_message``; None when it is
        ignored. An update the library cannot read is handed on too, marked unreadable,
        and parked by the inbox: acknowledged, never lost, never fetched again.

        Raises when the message could not be committed, so the platform delivers it again.
        """
        update_id = update.get("update_id")
        incoming = convert(update, self._codec, self._settings.max_file_bytes, self._bot)
        if isinstance(incoming, Ignored):
            log.debug("telegram update %s ignored: %s", update_id, incoming.reason)
            return None
        if incoming.message.unreadable:
            # The reason names what the library missed; the customer's words stay out.
            log.warning("telegram update %s could not be read; parked", update_id)
            return await self._on_message(incoming.message)
        inbound = await self._with_files(incoming)
        result = await self._on_message(inbound)
        if incoming.callback_query_id is not None:
            await self._answer_callback(incoming.callback_query_id)
        return result

    async def _with_files(self, incoming: Incoming) -> InboundMessage:
        inbound = incoming.message
        if not incoming.files:
            return inbound
        stored: list[Attachment] = []
        skipped: list[dict[str, object]] = []
        for ref in incoming.files:
            result = await self._files.fetch(inbound.dedupe_key, ref)
            if isinstance(result, Skipped):
                skipped.append(result.as_raw())
            else:
                stored.append(result)
        raw = dict(inbound.raw)
        if skipped:
            raw["skipped_files"] = skipped
        return dataclasses.replace(inbound, attachments=tuple(stored), raw=MappingProxyType(raw))

    async def _answer_callback(self, query_id: str) -> None:
        # Stops the spinner on the pressed button. The press is already committed, so a
        # failure here (a query older than Telegram keeps) changes nothing.
        try:
            await self._bot.answer_callback_query(query_id)
        except TelegramError as exc:
            log.info("answerCallbackQuery failed: %s", exc)

    # -- lifecycle helpers ---------------------------------------------------------------

    async def _setup(self) -> None:
        await self._bot.initialize()
        if self._settings.mode == "polling":
            # getUpdates is refused while a webhook is set.
            await self._bot.delete_webhook(drop_pending_updates=False)
            return
        secret = self._settings.webhook_secret
        if self._settings.webhook_url and secret is not None:
            await self._bot.set_webhook(
                self._settings.webhook_url,
                secret_token=secret.get_secret_value(),
                allowed_updates=ALLOWED_UPDATES,
            )

    async def _setup_once(self) -> bool:
        try:
            await self._setup()
        except TelegramError as exc:
            log.warning("telegram setup failed (%s); retrying in the background", exc)
            return False
        return True

    async def _setup_retrying(self, failures: int = 0) -> None:
        while True:
            if failures:
                await asyncio.sleep(backoff(failures, self._retry_base, self._retry_cap))
            if await self._setup_once():
                return
            failures += 1

    async def _poll(self) -> None:
        await self._setup_retrying()
        await self._poller.run()
