"""What Lotse adds around each of Rasa's messenger connectors.

A Lotse messenger channel (`bot.channels.telegram`, `.facebook`, `.twilio`, `.slack`,
`.botframework`) subclasses Rasa's connector for the platform and mixes in
`MessengerChannel`. Rasa's connector still parses the platform's request; around it:

- Authenticity first: a request middleware on the connector's blueprint calls the
  channel's `authentic(request)` for every POST to `/webhook` and refuses a request
  without the platform's signature header with 401, and a wrong one with 403, before
  Rasa parses anything. The refusal is logged with the channel and the body's size
  only, never its content.
- Acknowledge first, then work: a signed request whose event the inbox holds already
  (the platform sent it again: Slack's `event_id`, Meta's `mid`, Twilio's
  `MessageSid`, Telegram's `update_id`, the activity's id; `event_key`) is answered
  200 at once. Otherwise each of its messages is stored in the channel inbox
  (`conversations.channel_inbox`) with the conversation id `"{channel}:{platform id}"`,
  the text cleaned and bounded like the website's (`dialogue.text_input`), only the
  channel's known metadata (the profile name, bounded) and the platform address; the
  platform gets 200 then. The bot's turn runs after that (`bot.channels.inbox`): in
  order per conversation, through the rate limit and the turn and ownership gates
  (`bot.channels.admission`); a reply naming a numbered choice ("2") becomes that
  choice's payload there.
- Every message for the person (the bot's answers, and staff messages during a
  handoff) is queued and sent by the relay (`bot.channels.relay`) through the
  channel's `Outlet` (`bot.channels.outlet`): rendered for the platform (native
  buttons or numbered text, split within its limits), sent by the channel's `Sender`,
  with retries, and recorded.

`LOTSE_<CHANNEL>_API_URL` environment variables point a sender at another base URL
(a proxy, or the local fakes of the test suite); unset, the platform's own is used.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import inbox, relay
from bot.channels.admission import Handler, admitting
from bot.channels.outlet import Outlet, Sender
from bot.channels.turn_gate import TurnGate, configured_limit
from conversations.address_book import conversation_id_for
from conversations.rendering import LIMITS
from dialogue.text_input import to_rasa_text
from lotse.metrics import MESSENGER_EVENTS
from wiring.services import services

MAX_PROFILE_NAME_CHARS = 80
MAX_EVENT_KEY_CHARS = 160
log = logging.getLogger(__name__)


def json_body(request: Request) -> Any:
    """The request's JSON, or None when it has none or it does not parse."""
    try:
        return request.json
    except Exception:  # noqa: BLE001 - Sanic raises its own error for a bad body
        return None


class MessengerChannel:
    """Mixin for Lotse's wrappers of Rasa's messenger connectors; see the module docstring.

    A channel defines `signature_header`, `authentic(request)`, `sender()`, where its
    platform needs more than the sender id `address_of(message)`, and where its platform
    sends one `profile_name(request)`; its `blueprint` returns `self.wrapped(...)`."""

    signature_header: str = ""
    name: Callable[[], str]  # Rasa's connector class names the channel

    def authentic(self, request: Request) -> bool | Awaitable[bool]:
        raise NotImplementedError

    def address_of(self, message: UserMessage) -> dict[str, Any]:
        return {"id": str(message.sender_id)}

    def sender(self) -> Sender:
        raise NotImplementedError

    def event_key(self, request: Request) -> str | None:
        """The platform's id of the event the request carries, or None; the body's
        digest is the key then (a platform sends the same body again)."""
        return None

    def acknowledgement(self, request: Request) -> HTTPResponse:
        """What the platform gets for an event it sent again (and has had before)."""
        return response.text("success")

    def unusable(self, request: Request) -> HTTPResponse | None:
        """The answer to a signed request whose shape Rasa's connector cannot take (it
        would fail with 500, and the platform would send it again), or None."""
        return None

    def profile_name(self, request: Request) -> str | None:
        return None

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        """The connector's own metadata (Slack's routing), plus the profile name, bounded."""
        metadata = dict(super().get_metadata(request) or {})  # type: ignore[misc]
        name = self.profile_name(request)
        if isinstance(name, str) and name.strip():
            metadata["profile_name"] = to_rasa_text(name)[:MAX_PROFILE_NAME_CHARS]
        return metadata or None

    def wrapped(
        self, blueprint_of: Callable[[Handler], Blueprint], on_new_message: Handler
    ) -> Blueprint:
        """The connector's blueprint (`blueprint_of`, given the handler) with Lotse around
        it: authenticity first, each message as `handler` makes it, and the handoff relay
        (`bot.channels.relay`) sending staff messages for this channel."""
        outlet = Outlet(self.name(), self.sender(), LIMITS[self.name()])
        blueprint = blueprint_of(self.handler())
        self.guard(blueprint)
        relay.register(outlet)
        inbox.register(self.name(), admitting(TurnGate(configured_limit()), on_new_message))
        for module in (relay, inbox):
            blueprint.listener("after_server_start")(module.start)
            blueprint.listener("before_server_stop")(module.stop)
        return blueprint

    def guard(self, blueprint: Blueprint) -> None:
        """Refuses unsigned (401) or badly signed (403) webhook calls, before Rasa."""
        channel = self.name()

        @blueprint.middleware("request")
        async def authenticity(request: Request) -> HTTPResponse | None:
            if request.method != "POST" or not request.path.rstrip("/").endswith("/webhook"):
                return None
            if not request.headers.get(self.signature_header):
                log.warning("%s: refused an unsigned request (%d bytes)", channel,
                            len(request.body or b""))  # fmt: skip
                return response.text("missing signature", status=401)
            verdict = self.authentic(request)
            if inspect.isawaitable(verdict):
                verdict = await verdict
            if not verdict:
                log.warning("%s: refused a badly signed request (%d bytes)", channel,
                            len(request.body or b""))  # fmt: skip
                return response.text("bad signature", status=403)
            refused = self.unusable(request)
            if refused is not None:
                return refused
            key = self.request_key(request)
            try:
                seen = await asyncio.to_thread(services().inbox.seen, channel, key)
            except Exception as error:  # noqa: BLE001 - the database: the platform resends
                log.error("%s: the inbox could not be read (%s); the platform is asked to "
                          "send again", channel, type(error).__name__)  # fmt: skip
                return response.text("not stored; please send again", status=503)
            if seen:
                MESSENGER_EVENTS.labels(channel, "repeated").inc()
                return self.acknowledgement(request)
            inbox.begin_request(key)
            return None

        @blueprint.middleware("response")
        async def plain_ok(request: Request, answer: HTTPResponse) -> HTTPResponse | None:
            """A request whose messages could not be stored (the database) is answered 503,
            whatever Rasa's connector said, so that the platform sends it again; a stored
            one 200 (Rasa's Twilio says 204): what every platform takes as delivered."""
            if request.method != "POST" or not request.path.rstrip("/").endswith("/webhook"):
                return None
            events = inbox.current_request()
            if events is not None and events.failed:
                return response.text("not stored; please send again", status=503)
            if answer.status in (201, 202, 204):
                ok = self.acknowledgement(request)
                ok.headers.update({k: v for k, v in answer.headers.items()
                                   if k.lower().startswith("x-slack")})  # fmt: skip
                return ok
            return None

    def request_key(self, request: Request) -> str:
        """`event_key`, bounded, else the body's SHA-256."""
        key = self.event_key(request)
        if isinstance(key, str) and key.strip():
            return key.strip()[:MAX_EVENT_KEY_CHARS]
        return "sha256:" + hashlib.sha256(request.body or b"").hexdigest()

    def handler(self) -> Handler:
        """What Rasa's connector calls with each message of a signed request: the message
        stored in the inbox for the worker (`bot.channels.inbox`), nothing more."""
        channel = self.name()

        async def store(message: UserMessage) -> None:
            conversation_id = conversation_id_for(channel, message.sender_id)
            key = inbox.next_event_key()
            if conversation_id is None or key is None:
                return
            stored = json.loads(json.dumps(
                inbox.stored_message(message, self.address_of(message)), default=str))
            try:
                fresh = await asyncio.to_thread(inbox.accepted, channel, key, conversation_id,
                                                stored, services().inbox)  # fmt: skip
            except Exception as error:  # noqa: BLE001 - answered 503: the platform resends
                log.error("%s: a message could not be stored (%s); the platform is asked to "
                          "send it again", channel, type(error).__name__)  # fmt: skip
                events = inbox.current_request()
                if events is not None:
                    events.failed = True
                return
            if fresh:
                inbox.wake()

        return store
