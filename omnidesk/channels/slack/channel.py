"""The Slack channel: slack-bolt's ``AsyncApp`` mounted in our aiohttp server (or fed by
Socket Mode), turning direct messages, mentions, thread replies and button clicks into
``InboundMessage`` and answers into ``chat.postMessage`` in the question's thread.

It is an edge: it verifies, converts and delivers; the router decides. Bolt runs with
``process_before_response=True``, so the message is committed to the inbox before Slack
gets its 200; when the commit fails Slack gets a 500 and delivers the event again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from omnidesk.channels.base import (
    AgentMessage,
    ChannelError,
    DeliveryReceipt,
    InboundMessage,
    InboundResult,
    OnAgentMessage,
    OnMessage,
    OutboundMessage,
    RoomPost,
)
from omnidesk.channels.slack import signature
from omnidesk.channels.slack.agents import (
    agent_message,
    handoff_arguments,
    is_thread_reply,
)
from omnidesk.channels.slack.convert import (
    ACTION_PREFIX,
    NAME,
    Addressed,
    classify_mention,
    classify_message,
    inbound_from_action,
    inbound_from_event,
    parse_thread_key,
)
from omnidesk.channels.slack.delivery import BLOCK_ERRORS, error_code, find_posted, receipt_for
from omnidesk.channels.slack.glue import to_aiohttp_response, to_bolt_request, unreadable
from omnidesk.channels.slack.render import escape, post_arguments
from omnidesk.channels.slack.revisions import (
    REVISION_SUBTYPES,
    author_message,
    classify_revision,
    inbound_from_revision,
)
from omnidesk.channels.slack.text import mentioned_users
from omnidesk.channels.slack.threads import ThreadMemory
from omnidesk.channels.slack.users import UserDirectory
from omnidesk.config import SlackSettings

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
INTERACTIVITY_PATH = "/slack/interactivity"
REQUEST_TIMEOUT_SECONDS = 10


class SlackUnavailable(ChannelError):
    """Slack could not tell us who we are; the request is answered 500 so Slack retries."""


class SlackChannel:
    """One Slack workspace app (a bot token), over HTTP events or Socket Mode."""

    name = NAME

    def __init__(self, settings: SlackSettings, on_message: OnMessage) -> None:
        if settings.bot_token is None:
            raise ValueError("the Slack channel needs slack.bot_token")
        if settings.socket_mode and settings.app_token is None:
            raise ValueError("Slack Socket Mode needs slack.app_token")
        secret = settings.signing_secret.get_secret_value() if settings.signing_secret else ""
        if not settings.socket_mode and not secret:
            # Without a secret anyone could sign a request (an empty key is a key too).
            raise ValueError("Slack over HTTP needs slack.signing_secret")
        self._settings = settings
        self._on_message = on_message
        self._token = settings.bot_token.get_secret_value()
        self._signing_secret = secret
        self.client = AsyncWebClient(
            token=self._token, base_url=settings.api_base_url, timeout=REQUEST_TIMEOUT_SECONDS
        )
        # Bolt's own client carries no token: our ``authorize`` hands bolt the token with
        # the bot's identity, so bolt never calls auth.test itself (``identity`` says why).
        self._bolt_client = AsyncWebClient(
            base_url=settings.api_base_url, timeout=REQUEST_TIMEOUT_SECONDS
        )
        self._users = UserDirectory(self.client)
        self._threads = ThreadMemory(self.client)
        self._identity: AuthorizeResult | None = None
        # Set by the service when escalations are posted to ``settings.agent_channel``.
        self.on_agent_message: OnAgentMessage | None = None
        self._session: aiohttp.ClientSession | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._socket_task: asyncio.Task[None] | None = None
        self.app = self._build_app()

    # -- Channel contract ----------------------------------------------------------------

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        if self._settings.socket_mode:
            # Slack delivers over the socket; an open HTTP endpoint would only invite forgeries.
            return []
        return [web.post(EVENTS_PATH, self.handle), web.post(INTERACTIVITY_PATH, self.handle)]

    async def start(self) -> None:
        if self._session is None:
            # One connection pool for every Web API call, closed with the channel.
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS)
            )
            self.client.session = self._session
            self._bolt_client.session = self._session
        app_token = self._settings.app_token
        if self._settings.socket_mode and app_token is not None and self._socket is None:
            self._socket = AsyncSocketModeHandler(
                self.app,
                app_token.get_secret_value(),
                logger=logging.getLogger(f"{__name__}.socket"),
                web_client=self._bolt_client,
            )
            # Connecting runs in the background: the SDK retries until Slack is reachable,
            # and the rest of the service must not wait for it.
            self._socket_task = asyncio.create_task(
                self._socket.connect_async(), name="slack-socket-mode-connect"
            )

    async def stop(self) -> None:
        socket, self._socket = self._socket, None
        if socket is not None:
            with contextlib.suppress(Exception):
                await socket.close_async()
        task, self._socket_task = self._socket_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        session, self._session = self._session, None
        if session is not None:
            self.client.session = None
            self._bolt_client.session = None
            await session.close()

    async def send(self, message: OutboundMessage) -> DeliveryReceipt:
        """Post ``message`` in its conversation's thread."""
        target = parse_thread_key(message.thread_key)
        # A conversation without a Slack thread (none today) goes to the person's DM:
        # chat.postMessage accepts a user id as the channel.
        channel, thread_ts = target if target else (message.recipient_id, None)
        arguments = post_arguments(message)
        response = await self._post(channel, thread_ts, arguments)
        if isinstance(response, DeliveryReceipt):
            return await self._settle(response, channel, thread_ts, message.message_id)
        posted_channel = str(response.get("channel") or channel)
        if thread_ts is not None:
            self._threads.remember(posted_channel, thread_ts)
        return DeliveryReceipt(ok=True, external_id=f"{posted_channel}:{response.get('ts')}")

    async def _settle(
        self, receipt: DeliveryReceipt, channel: str, thread_ts: str | None, message_id: int
    ) -> DeliveryReceipt:
        """After a failure that may have posted anyway (a time-out, a 5xx: the answer was
        lost, not the request), look for our post before the outbox sends it again:
        Slack has no idempotency key, but the post carries our id in its metadata."""
        if receipt.ok or receipt.permanent or receipt.retry_after is not None:
            return receipt
        ts = await find_posted(self.client, channel, thread_ts, message_id)
        if ts is None:
            return receipt
        log.info("Slack posted message %s although the call failed; not sending again", message_id)
        return DeliveryReceipt(ok=True, external_id=f"{channel}:{ts}")

    @property
    def agent_channel(self) -> str | None:
        """The channel id where escalations are posted for agents, when one is set."""
        return self._settings.agent_channel or None

    async def post_handoff(self, handoff: RoomPost) -> str | None:
        """Post an escalation to the agent channel; the thread ts of the post, or None
        when there is no agent channel or Slack refused it."""
        channel = self.agent_channel
        if channel is None:
            return None
        response = await self._post(channel, None, handoff_arguments(handoff))
        if isinstance(response, DeliveryReceipt):
            log.warning(
                "posting conversation %s for agents failed: %s",
                handoff.conversation_id,
                response.error,
            )
            return None
        return str(response.get("ts") or "") or None

    async def post_in_thread(self, thread_ts: str, text: str) -> bool:
        """Add a line to an agent thread (a customer's follow-up, say)."""
        channel = self.agent_channel
        if channel is None:
            return False
        arguments = {"text": escape(text), "unfurl_links": False}
        response = await self._post(channel, thread_ts, arguments)
        return not isinstance(response, DeliveryReceipt)

    # -- HTTP ------------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.Response:
        """Events API and interactivity requests: verified here, then given to bolt."""
        body = await request.read()
        try:
            signature.check(
                self._signing_secret,
                body,
                request.headers.get(signature.TIMESTAMP_HEADER),
                request.headers.get(signature.SIGNATURE_HEADER),
                now=time.time(),
                window_seconds=self._settings.timestamp_window_seconds,
            )
        except ChannelError as exc:
            log.warning("refused a Slack request from %s: %s", request.remote, exc)
            return web.json_response({"ok": False, "error": "invalid_signature"}, status=401)
        reason = unreadable(body, request.content_type)
        if reason is not None:
            return web.json_response({"ok": False, "error": f"bad_body: {reason}"}, status=400)
        bolt_response = await self.app.async_dispatch(to_bolt_request(request, body))
        return to_aiohttp_response(bolt_response)

    # -- bolt ------------------------------------------------------------------------------

    def _build_app(self) -> AsyncApp:
        async def authorize() -> AuthorizeResult:
            return await self.identity()

        app = AsyncApp(
            name="omnidesk-slack",
            logger=logging.getLogger(f"{__name__}.bolt"),
            client=self._bolt_client,
            # Checked in ``handle`` with our configurable window; bolt's check is fixed
            # at five minutes and would run a second time for nothing.
            request_verification_enabled=False,
            signing_secret="",
            authorize=authorize,
            # Listeners finish (the inbox commit included) before Slack is answered.
            process_before_response=True,
        )
        # First match wins, as in bolt; the last one acknowledges other subscribed events
        # so Slack does not see 404s and retry them.
        app.event("app_mention")(self._mention)
        app.event("message")(self._message)
        app.action(re.compile(f"^{ACTION_PREFIX}"))(self._action)
        # Other clicks (a link button, another app's element) are acknowledged too: an
        # unanswered click shows the person an error in Slack.
        app.action(re.compile(".*"))(self._other_action)
        app.event(re.compile(".*"))(self._other_event)
        return app

    async def identity(self) -> AuthorizeResult:
        """The bot's identity from ``auth.test``, asked once.

        Bolt's own authorization answers Slack 200 when auth.test fails, which would
        acknowledge an event that was never stored; raising anything but
        ``SlackApiError`` makes bolt answer 500 instead, so Slack retries.
        """
        if self._identity is None:
            try:
                response = await self.client.auth_test()
            except SlackApiError as exc:
                raise SlackUnavailable(f"auth.test failed: {error_code(exc)}") from None
            except (TimeoutError, aiohttp.ClientError) as exc:
                raise SlackUnavailable(f"auth.test failed: {type(exc).__name__}") from None
            self._identity = AuthorizeResult.from_auth_test_response(
                auth_test_response=response, bot_token=self._token
            )
        return self._identity

    async def _bot_user_id(self) -> str | None:
        return (await self.identity()).bot_user_id

    async def _message(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        bot = await self._bot_user_id()
        if self.agent_channel and event.get("channel") == self.agent_channel:
            # The agents' room: nothing there is a customer's question.
            await self._agent_reply(body, event, bot)
            return
        if event.get("subtype") in REVISION_SUBTYPES:
            await self._revision(body, event, bot)
            return
        addressed = await self._in_thread(classify_message(event, bot), event, event, bot)
        if addressed is Addressed.YES:
            await self._accept_event(body, event, bot)

    async def _revision(self, body: dict[str, Any], event: dict[str, Any], bot: str | None) -> None:
        """A person edited or deleted a message: passed on when the bot took it."""
        message = author_message(event)
        addressed = await self._in_thread(classify_revision(event, bot), event, message, bot)
        if addressed is not Addressed.YES:
            return
        user = await self._users.lookup(str(message["user"]))
        if user is not None and user.is_bot:
            return
        names = await self._names(message, bot)
        await self._deliver(inbound_from_revision(body, event, user, bot, names))

    async def _in_thread(
        self,
        addressed: Addressed,
        event: Mapping[str, Any],
        message: Mapping[str, Any],
        bot: str | None,
    ) -> Addressed:
        """``IF_BOT_IN_THREAD`` settled: whether the bot takes part in the thread of
        ``message`` (the event itself, or the message an edit or deletion is about)."""
        if addressed is not Addressed.IF_BOT_IN_THREAD:
            return addressed
        channel = str(event["channel"])
        ours = await self._threads.bot_in_thread(channel, str(message["thread_ts"]), bot)
        return Addressed.YES if ours else Addressed.NO

    async def _names(self, message: Mapping[str, Any], bot: str | None) -> dict[str, str]:
        """The names of the people a message mentions, by user id."""
        return await self._users.names(mentioned_users(message) - {bot or ""})

    async def _mention(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        bot = await self._bot_user_id()
        if classify_mention(event, bot) is not Addressed.YES:
            return
        if self.agent_channel and event.get("channel") == self.agent_channel:
            return
        # Later replies in this thread are for the bot even without a mention.
        self._threads.remember(str(event["channel"]), str(event.get("thread_ts") or event["ts"]))
        await self._accept_event(body, event, bot)

    async def _accept_event(
        self, body: dict[str, Any], event: dict[str, Any], bot: str | None
    ) -> None:
        user = await self._users.lookup(str(event["user"]))
        if user is not None and user.is_bot:
            return
        names = await self._names(event, bot)
        await self._deliver(inbound_from_event(body, event, user, bot, names))

    async def _agent_reply(
        self, body: dict[str, Any], event: dict[str, Any], bot: str | None
    ) -> None:
        if self.on_agent_message is None or not is_thread_reply(event, bot):
            return
        user = await self._users.lookup(str(event["user"]))
        if user is not None and user.is_bot:
            return
        reply: AgentMessage = agent_message(body, event, user, bot, await self._names(event, bot))
        # An exception reaches bolt, which answers 500: Slack delivers the reply again.
        await self.on_agent_message(reply)

    async def _action(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        person = (body.get("user") or {}).get("id")
        user = await self._users.lookup(str(person)) if person else None
        inbound = inbound_from_action(body, action, user)
        if inbound is not None:
            await self._deliver(inbound)
        # Acknowledged only once stored: a failure shows the person an error instead.
        await ack()

    async def _other_action(self, ack: AsyncAck, action: dict[str, Any]) -> None:
        log.debug("ignoring Slack action %s", action.get("action_id"))
        await ack()

    async def _other_event(self, event: dict[str, Any]) -> None:
        log.debug("ignoring Slack event %s", event.get("type"))

    async def _deliver(self, inbound: InboundMessage) -> None:
        # An exception here reaches bolt, which answers 500: Slack retries the event.
        result = await self._on_message(inbound)
        if result == InboundResult.DUPLICATE:
            log.info("Slack delivered %s again; already in the inbox", inbound.dedupe_key)

    # -- Web API ---------------------------------------------------------------------------

    async def _post(
        self, channel: str, thread_ts: str | None, arguments: dict[str, Any]
    ) -> AsyncSlackResponse | DeliveryReceipt:
        try:
            return await self.client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, **arguments
            )
        except Exception as exc:
            if (
                isinstance(exc, SlackApiError)
                and error_code(exc) in BLOCK_ERRORS
                and "blocks" in arguments
            ):
                # Rich parts degrade to text rather than lose the message.
                log.warning("Slack refused our blocks (%s); sending text only", error_code(exc))
                text_only = {k: v for k, v in arguments.items() if k != "blocks"}
                return await self._post(channel, thread_ts, text_only)
            return receipt_for(exc)
