"""Rasa's REST channel with Lotse's input hygiene (`/webhooks/rest/webhook`).

The request shape is Rasa's own (`{"sender", "message", "metadata"}`), so scripts,
load tests and the website's proxy speak plain Rasa REST. It is not for browsers: only
the website's proxy and Lotse's own scripts may use it (`bot.channels.rest_access`: the
shared token, or an unforwarded connection from this machine; 401/403 otherwise,
before the body is read), and a body is bounded to MAX_BODY_BYTES (413). Before Rasa
sees a message: the text is cleaned and bounded (`dialogue.text_input`), an empty or
unreadable text becomes the `empty_message` intent, the sender id is bounded to safe
characters, and only known metadata keys with short string values pass. A message
without a sender is refused (400; Rasa would file it under "default"), and so is a
sender with a `:` (403): those are the messenger channels' conversations
(`telegram:<chat id>`, guessable), which the REST channel must not write into or read.
A website visitor id (`web-...`, `website.visitor_ids`) is accepted as
`metadata.visitor_id` only together with the same sender, as the website's proxy sends
it (403 otherwise): no caller files a conversation under another visitor's lead. The
channel is always `rest` (Rasa lets the body name another). Then the conversation's
rate limit (429 with Retry-After over it) and both gates (`bot.channels.admission`)
decide whether the bot may answer at all. A turn that fails
(a store unreachable past its retries) answers 503, so a client knows to send the
message again; a failed turn saves nothing to the conversation, so sending again does
not repeat it there. The visitor's text is never logged. No streaming (`?stream=true`
is answered whole).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.admission import TooManyMessages, admitting
from bot.channels.rest_access import RestAccess
from bot.channels.turn_gate import TurnGate, configured_limit
from dialogue.text_input import to_rasa_text
from lotse.settings import load_settings

METADATA_KEYS = ("language", "page", "visitor_id")
MAX_METADATA_CHARS = 128
MAX_SENDER_CHARS = 128
# The website sends at most 16 KiB; a message's text is cut to 1,000 characters anyway.
MAX_BODY_BYTES = 64 * 1024
WEBSITE_ID_PREFIX = "web-"
_UNSAFE_SENDER = re.compile(r"[^A-Za-z0-9._:@-]")
TURN_FAILED = "the assistant could not answer; please send the message again"
TOO_MANY = "too many messages, please wait a moment"
MESSENGER_SENDER = "sender ids with ':' are the messenger channels' conversations"
NOT_YOURS = "a website visitor id is accepted only as the sender's own"
REFUSED = {401: "this endpoint is for the website and Lotse's own scripts",
           403: "wrong token"}  # fmt: skip
TOO_LARGE = f"the body is larger than {MAX_BODY_BYTES // 1024} KiB"
log = logging.getLogger(__name__)


def _body(request: Request) -> dict[str, Any]:
    body = request.json
    return body if isinstance(body, dict) else {}


def clean_sender(raw: object) -> str | None:
    if not isinstance(raw, (str, int)):
        return None
    sender = _UNSAFE_SENDER.sub("", str(raw))[:MAX_SENDER_CHARS]
    return sender or None


def claims_another_visitor(sender: str, metadata: dict[str, str] | None) -> bool:
    """True when a website visitor id is named with another sender (as the visitor id or
    as the sender): the website's proxy always sends a visitor's id as both."""
    visitor = (metadata or {}).get("visitor_id")
    if visitor is None or visitor == sender:
        return False
    return visitor.startswith(WEBSITE_ID_PREFIX) or sender.startswith(WEBSITE_ID_PREFIX)


def clean_metadata(raw: object) -> dict[str, str]:
    if not isinstance(raw, dict):
        return {}
    return {
        key: raw[key][:MAX_METADATA_CHARS]
        for key in METADATA_KEYS
        if isinstance(raw.get(key), str) and raw[key].strip()
    }


class LotseRestInput(RestInput):
    """Drop-in replacement for Rasa's `rest` channel; see the module docstring."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = TurnGate(configured_limit())
        self.access = RestAccess.of(load_settings())  # a bad setting stops Rasa's start

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Rasa's two routes, except that a failed turn answers 503 (Rasa's answers 200
        with whatever was said so far, and logs the visitor's text)."""
        handler = admitting(self.gate, on_new_message)
        routes = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @routes.route("/", methods=["GET"])
        async def health(_request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        # Streamed: the access check comes before the body is read, and the body's
        # bound is Lotse's, not Sanic's (100 MB for the whole Rasa app).
        @routes.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            refused = self.access.refusal(request.ip, request.headers)
            if refused is not None:
                log.warning("rest channel: refused a request (%d)", refused)
                return response.json({"error": REFUSED[refused]}, status=refused)
            if not await read_bounded(request):
                return response.json({"error": TOO_LARGE}, status=413)
            sender = await self._extract_sender(request)
            if sender is None:  # Rasa would put every such message in one conversation
                return response.json({"error": "a sender id is required"}, status=400)
            if ":" in sender:
                return response.json({"error": MESSENGER_SENDER}, status=403)
            metadata = self.get_metadata(request)
            if claims_another_visitor(sender, metadata):
                return response.json({"error": NOT_YOURS}, status=403)
            collector = CollectingOutputChannel()
            message = UserMessage(
                self._extract_message(request),
                collector,
                sender,
                input_channel=self.name(),
                metadata=metadata,
            )
            try:
                await handler(message)
            except TooManyMessages as refused:
                wait = str(max(1, math.ceil(refused.wait)))
                return response.json({"error": TOO_MANY}, status=429, headers={"Retry-After": wait})
            except Exception as error:  # noqa: BLE001 - any failure of the turn
                log.error("rest channel: a turn failed (%s); answered 503", type(error).__name__)
                return response.json({"error": TURN_FAILED}, status=503)
            return response.json(collector.messages)

        return routes

    async def _extract_sender(self, req: Request) -> str | None:
        return clean_sender(_body(req).get("sender"))

    def _extract_message(self, req: Request) -> str:
        return to_rasa_text(_body(req).get("message"))

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        return clean_metadata(_body(request).get("metadata")) or None


async def read_bounded(request: Request) -> bool:
    """Reads the body into `request.body` unless it is over MAX_BODY_BYTES (False then;
    the connection is closed rather than the rest read)."""
    request.stream.request_max_size = MAX_BODY_BYTES
    try:
        await request.receive_body()
    except PayloadTooLarge:
        return False
    return True
