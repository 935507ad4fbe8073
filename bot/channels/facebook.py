"""Facebook Messenger: Rasa's message handling behind Meta's SHA-256 signature check.

Credentials: `verify` (the verify token you type into Meta's webhook settings),
`secret` (the app secret), `page-access-token`. Rasa's connector checks only the
legacy `X-Hub-Signature` (SHA-1), compares with `==` and answers 200 to a bad
signature; Lotse checks `X-Hub-Signature-256` in constant time and refuses with
401/403 (`bot.channels.messenger`). Each messaging event of the request (Meta
batches several) is read by Rasa's own `Messenger` (text, quick replies, postbacks,
attachments) and stored with its `mid` as the key (`bot.channels.inbox`); Rasa's
`mark_seen`/`typing_on` calls to the Graph API in the request (which failed the
request with 500 during an outage, the token in the traceback's URL) are not made.
Replies go to the Send API (at LOTSE_FACEBOOK_API_URL when that is set) with the page
token in the `Authorization` header, never in a URL. Buttons become quick replies (up
to 13, titles of 20 characters); the webhook's verification handshake (GET with
`hub.verify_token`) is answered in constant time too.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Mapping
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.facebook import FacebookInput, Messenger
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import inbox
from bot.channels.admission import Handler
from bot.channels.authenticity import meta_signature_ok
from bot.channels.messenger import MessengerChannel
from bot.channels.outlet import PlatformBusy, PlatformRefused
from bot.channels.platform_http import PlatformHttp
from conversations.rendering import Part
from lotse.settings import load_settings

API_URL_VARIABLE = "LOTSE_FACEBOOK_API_URL"
GRAPH_API_VERSION = "v19.0"
# developers.facebook.com/docs/messenger-platform/error-codes and graph-api/overview/
# rate-limiting: rate limits and temporary failures; any other code is a refusal.
TRANSIENT_CODES = frozenset({1, 2, 4, 17, 32, 613, 1200})


class StoringMessenger(Messenger):
    """Rasa's reading of a messaging event, handing the message on without Rasa's
    Graph API calls around it (`mark_seen`, `typing_on`/`off`): the turn runs later."""

    async def _handle_user_message(
        self, text: str, sender_id: str, metadata: dict[str, Any] | None
    ) -> None:
        await self.on_new_message(
            UserMessage(text, None, sender_id, input_channel=self.name(), metadata=metadata)
        )


def event_key(event: Mapping[str, Any]) -> str | None:
    """A messaging event's id: the message's or the postback's `mid`."""
    for kind in ("message", "postback"):
        part = event.get(kind)
        if isinstance(part, dict) and isinstance(part.get("mid"), str):
            return part["mid"]
    return None


class FacebookSender:
    """The Send API (`me/messages`, a standard response) through `PlatformHttp`. Meta
    answers most errors with 400 and a code: its rate limits (4, 17, 32, 613) and
    temporary failures (1, 2, 1200) may be sent again; any other code is a refusal
    (e.g. 551, the person is not reachable; 10, outside the 24-hour window)."""

    def __init__(self, page_access_token: str, http: PlatformHttp | None = None) -> None:
        base = (load_settings().messengers.facebook or "https://graph.facebook.com").rstrip("/")
        self.url = f"{base}/{GRAPH_API_VERSION}/me/messages"
        self.token = page_access_token
        self.http = http or PlatformHttp("facebook")

    async def send(self, address: Mapping[str, Any], part: Part) -> None:
        message: dict[str, Any] = {"text": part.text}
        if part.buttons:
            message["quick_replies"] = [
                {"content_type": "text", "title": b.title, "payload": b.payload}
                for b in part.buttons
            ]
        body = {"messaging_type": "RESPONSE", "notification_type": "REGULAR",
                "recipient": {"id": address["id"]}, "message": message}  # fmt: skip
        bearer = {"Authorization": f"Bearer {self.token}"}
        answer = await asyncio.to_thread(self.http.post, self.url, json=body, headers=bearer)
        code = answer.field("error", "code")
        if code in TRANSIENT_CODES:
            raise PlatformBusy(f"Graph API error {code}")
        answer.check("facebook")
        if code is not None:
            raise PlatformRefused(f"Graph API error {code}")


def _echo(event: Mapping[str, Any]) -> bool:
    """The page's own message, echoed back to the webhook: not the person's."""
    message = event.get("message")
    return isinstance(message, dict) and bool(message.get("is_echo"))


def messaging_events(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Every messaging event of a webhook request, in order (Rasa's `Messenger.handle`
    takes only the first)."""
    found = []
    for entry in _listed(body.get("entry")):
        if isinstance(entry, dict):
            found += [e for e in _listed(entry.get("messaging"))
                      if isinstance(e, dict) and not _echo(e)]  # fmt: skip
    return found


def _listed(value: Any) -> list[Any]:
    """A JSON list as it is; any other value (`"entry": true`) holds nothing."""
    return value if isinstance(value, list) else []


class LotseFacebookInput(MessengerChannel, FacebookInput):
    signature_header = "X-Hub-Signature-256"

    def authentic(self, request: Request) -> bool:
        header = request.headers.get(self.signature_header)
        return meta_signature_ok((self.fb_secret or "").encode(), request.body or b"", header)

    def sender(self) -> FacebookSender:
        return FacebookSender(self.fb_access_token)

    def event_key(self, request: Request) -> str | None:
        """The first messaging event's `mid` (Meta sends a batch again as it was)."""
        body = request.json if isinstance(request.json, dict) else {}
        for event in messaging_events(body):
            return event_key(event)
        return None

    def blueprint(self, on_new_message: Handler) -> Blueprint:
        return self.wrapped(self._webhook, on_new_message)

    def _webhook(self, handle: Handler) -> Blueprint:
        webhook = Blueprint("fb_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["GET"])
        async def verification(request: Request) -> HTTPResponse:
            given = request.args.get("hub.verify_token") or ""
            if self.fb_verify and hmac.compare_digest(given.encode(), self.fb_verify.encode()):
                return response.text(request.args.get("hub.challenge") or "")
            return response.text("invalid verify token", status=403)

        @webhook.route("/webhook", methods=["POST"])
        async def message(request: Request) -> HTTPResponse:
            body = request.json
            if not isinstance(body, dict):
                return response.text("not a Messenger event", status=400)
            messenger = StoringMessenger(self.fb_access_token, handle)
            metadata = self.get_metadata(request)
            try:
                for event in messaging_events(body):
                    inbox.begin_message(event_key(event))
                    single = {"object": body.get("object"), "entry": [{"messaging": [event]}]}
                    await messenger.handle(single, metadata)
            # Not the shape Meta sends (AttributeError: a value that is no text where Rasa
            # expects one, e.g. a quick reply payload `true`, which Rasa's message strips).
            except (KeyError, TypeError, IndexError, AttributeError):
                return response.text("not a Messenger event", status=400)
            return response.text("success")

        return webhook
