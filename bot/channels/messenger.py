"""What Lotse adds around each of Rasa's messenger connectors.

A Lotse messenger channel (`bot.channels.telegram`, `.facebook`, `.twilio`, `.slack`,
`.botframework`) subclasses Rasa's connector for the platform and mixes in
`MessengerChannel`. Rasa's connector still parses the platform's request; around it:

- Authenticity first: a request middleware on the connector's blueprint calls the
  channel's `authentic(request)` for every POST to `/webhook` and refuses a request
  without the platform's signature header with 401, and a wrong one with 403, before
  Rasa parses anything. The refusal is logged with the channel and the body's size
  only, never its content.
- Then each message: the conversation id becomes `"{channel}:{platform id}"`; the
  platform address is remembered (`AddressBook`) for staff replies during a handoff;
  the text is cleaned and bounded like the website's (`dialogue.text_input`); a reply
  naming a numbered choice ("2") becomes that choice's payload; only the channel's
  known metadata (the profile name, bounded) passes; the message goes through the
  turn and ownership gates (`bot.channels.admission`).
- Every bot message leaves through `MessengerOutput` and the channel's `Outlet`
  (`bot.channels.outlet`): rendered for the platform (native buttons or numbered
  text, split within its limits) and sent by the channel's `Sender`, which speaks the
  platform's send API.

`LOTSE_<CHANNEL>_API_URL` environment variables point a sender at another base URL
(a proxy, or the local fakes of the test suite); unset, the platform's own is used.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import relay
from bot.channels.admission import Handler, TooManyMessages, admitting
from bot.channels.outlet import Outlet, Sender
from bot.channels.turn_gate import TurnGate, configured_limit
from conversations.address_book import AddressBook, conversation_id_for
from conversations.rendering import LIMITS, Button, buttons_from, chosen_payload
from dialogue.text_input import to_rasa_text
from wiring.services import services

MAX_PROFILE_NAME_CHARS = 80
log = logging.getLogger(__name__)


SEND_AGAIN = (
    "Entschuldigung, das hat gerade nicht geklappt. Bitte senden Sie Ihre Nachricht noch "
    "einmal. / Sorry, that did not work just now. Please send your message again."
)


def json_body(request: Request) -> Any:
    """The request's JSON, or None when it has none or it does not parse."""
    try:
        return request.json
    except Exception:  # noqa: BLE001 - Sanic raises its own error for a bad body
        return None


class MessengerOutput(OutputChannel):
    """Rasa's output for one messenger conversation: each message through the outlet."""

    def __init__(
        self, outlet: Outlet, book: AddressBook, conversation_id: str,
        address: Mapping[str, Any], shown: tuple[Button, ...],
    ) -> None:  # fmt: skip
        self.outlet = outlet
        self.book = book
        self.conversation_id = conversation_id
        self.address = dict(address)
        self.shown = shown  # the choices the conversation has on record

    @classmethod
    def name(cls) -> str:
        return "messenger"

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        buttons = buttons_from(message.get("buttons") or message.get("quick_replies"))
        text = message.get("text") or ""
        if image := message.get("image"):
            text = f"{text}\n\n{image}".strip()
        if not text.strip() and not buttons:
            return
        await self.outlet.deliver(self.book, self.conversation_id, self.address, text, buttons,
                                  self.shown)  # fmt: skip
        self.shown = buttons


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
        blueprint = blueprint_of(self.handler(outlet, on_new_message))
        self.guard(blueprint)
        relay.register(outlet)
        blueprint.listener("after_server_start")(relay.start)
        blueprint.listener("before_server_stop")(relay.stop)
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
            return self.unusable(request)

    def handler(self, outlet: Outlet, on_new_message: Handler) -> Handler:
        """`on_new_message` as every messenger message must reach it (module docstring)."""
        admit = admitting(TurnGate(configured_limit()), on_new_message)

        async def handle(message: UserMessage) -> Any:
            conversation_id = conversation_id_for(outlet.channel, message.sender_id)
            if conversation_id is None:
                return None
            book = services().addresses
            address = self.address_of(message)
            shown = await asyncio.to_thread(book.remember, conversation_id, outlet.channel,
                                            address)  # fmt: skip
            text = to_rasa_text(message.text)
            message.text = chosen_payload(text, shown) or text
            message.sender_id = conversation_id
            message.output_channel = MessengerOutput(outlet, book, conversation_id, address,
                                                     shown)  # fmt: skip
            try:
                return await admit(message)
            except TooManyMessages:
                log.warning("%s: a conversation over its rate limit; a message dropped",
                            outlet.channel)  # fmt: skip
                return None
            except Exception as error:  # noqa: BLE001 - a failed turn saved nothing
                # Rasa's connectors answer the platform 200 after a failure, so it will
                # not send the update again: the visitor is asked to.
                log.error("%s: a turn failed (%s); the visitor is asked to send again",
                          outlet.channel, type(error).__name__)  # fmt: skip
                with contextlib.suppress(Exception):  # the platform may be the failure
                    await message.output_channel.send_response(
                        conversation_id, {"text": SEND_AGAIN}
                    )
                return None

        return handle
