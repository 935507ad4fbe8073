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
  the text is cleaned and bounded like the website's (`bot.text_input`); a reply
  naming a numbered choice ("2") becomes that choice's payload; only the channel's
  known metadata (the profile name, bounded) passes; the message goes through the
  turn and ownership gates (`bot.channels.admission`).
- Every bot message leaves through `MessengerOutput`: rendered for the platform
  (`bot.channels.rendering`: native buttons or numbered text, split within its
  limits) and sent by the channel's `Sender`, which speaks the platform's send API.

`LOTSE_<CHANNEL>_API_URL` environment variables point a sender at another base URL
(a proxy, or the local fakes of the test suite); unset, the platform's own is used.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from functools import lru_cache
from typing import Any, Protocol

from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import relay
from bot.channels.address_book import AddressBook, conversation_id_for
from bot.channels.admission import Handler, admitting
from bot.channels.rendering import (
    LIMITS,
    Button,
    ChannelLimits,
    Part,
    buttons_from,
    chosen_payload,
    render,
)
from bot.channels.turn_gate import TurnGate, configured_limit
from bot.text_input import to_rasa_text
from crm_adapter.store.engine import make_crm_engine
from lotse.settings import load_settings

MAX_PROFILE_NAME_CHARS = 80
BUTTONS_ONLY_TEXT = "…"
log = logging.getLogger(__name__)


class SendFailed(Exception):
    """The platform did not take a message; the text says why, without its content."""


class Sender(Protocol):
    async def send(self, address: Mapping[str, Any], part: Part) -> None:
        """Sends one rendered part; raises SendFailed (or the client's error)."""


@lru_cache(maxsize=1)
def address_book() -> AddressBook:
    return AddressBook(make_crm_engine(load_settings().database_url))


class MessengerOutput(OutputChannel):
    """Rasa's output for one messenger conversation: each message rendered, then sent."""

    def __init__(
        self, channel: str, conversation_id: str, address: Mapping[str, Any], sender: Sender,
        limits: ChannelLimits,
    ) -> None:  # fmt: skip
        self.channel = channel
        self.conversation_id = conversation_id
        self.address = dict(address)
        self.sender = sender
        self.limits = limits

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
        await send_rendered(address_book(), self.channel, self.conversation_id, self.address,
                            self.sender,
                            render(text, buttons, self.limits), buttons)  # fmt: skip


async def send_rendered(
    book: AddressBook, channel: str, conversation_id: str, address: Mapping[str, Any],
    sender: Sender, parts: list[Part], menu: tuple[Button, ...],
) -> None:  # fmt: skip
    """Sends the parts in order; remembers the menu a numbered reply may refer to.
    A failed part is logged (channel and error class only) and raised."""
    await asyncio.to_thread(book.set_menu, conversation_id, menu)
    for part in parts:
        if not part.text.strip():  # buttons alone: Telegram and Messenger need some text
            part = Part(BUTTONS_ONLY_TEXT, part.buttons)
        try:
            await sender.send(address, part)
        except Exception as error:
            log.warning("%s: a message could not be sent (%s)", channel, type(error).__name__)
            raise


class MessengerChannel:
    """Mixin for Lotse's wrappers of Rasa's messenger connectors; see the module docstring.

    A channel defines `signature_header`, `authentic(request)`, `address_of(message)`,
    `sender()` and, where its platform sends one, `profile_name(request)`."""

    signature_header: str = ""
    name: Callable[[], str]  # Rasa's connector class names the channel

    def authentic(self, request: Request) -> bool | Awaitable[bool]:
        raise NotImplementedError

    def address_of(self, message: UserMessage) -> dict[str, Any]:
        return {"id": str(message.sender_id)}

    def sender(self) -> Sender:
        raise NotImplementedError

    def profile_name(self, request: Request) -> str | None:
        return None

    @property
    def limits(self) -> ChannelLimits:
        return LIMITS[self.name()]

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        """The connector's own metadata (Slack's routing), plus the profile name, bounded."""
        metadata = dict(super().get_metadata(request) or {})  # type: ignore[misc]
        name = self.profile_name(request)
        if isinstance(name, str) and name.strip():
            metadata["profile_name"] = to_rasa_text(name)[:MAX_PROFILE_NAME_CHARS]
        return metadata or None

    def guarded(self, blueprint: Blueprint) -> Blueprint:
        """The connector's blueprint, refusing unsigned or badly signed webhook calls, and
        running the handoff relay (`bot.channels.relay`) for this channel."""
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
            return None

        relay.register(channel, self.sender(), self.limits)
        blueprint.listener("after_server_start")(relay.start)
        blueprint.listener("before_server_stop")(relay.stop)
        return blueprint

    def handler(self, on_new_message: Handler) -> Handler:
        """`on_new_message` as every messenger message must reach it (module docstring)."""
        channel, sender, limits = self.name(), self.sender(), self.limits
        admit = admitting(TurnGate(configured_limit()), on_new_message)

        async def handle(message: UserMessage) -> Any:
            conversation_id = conversation_id_for(channel, message.sender_id)
            if conversation_id is None:
                return None
            address = self.address_of(message)
            menu = await asyncio.to_thread(address_book().remember, conversation_id, channel,
                                           address)  # fmt: skip
            text = to_rasa_text(message.text)
            message.text = chosen_payload(text, menu) or text
            message.sender_id = conversation_id
            message.output_channel = MessengerOutput(channel, conversation_id, address, sender,
                                                     limits)  # fmt: skip
            return await admit(message)

        return handle
