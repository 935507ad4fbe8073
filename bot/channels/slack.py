"""Slack: Rasa's connector behind the signing-secret check with its replay window.

Credentials: `slack_token` (the bot token, `xoxb-...`), `slack_signing_secret`;
optionally `slack_channel` (answer in that channel instead of the direct message).
Rasa checks the signature too but answers a bad one with 400; Lotse refuses first
with 401/403, and a timestamp more than five minutes off (a replay) like a bad
signature. Buttons become a Block Kit actions block (a clicked button sends its
payload back); text goes in a section of at most 3,000 characters. Slack sends no
profile name with a message, so none is used. The conversation id is
`slack:{user id}`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.slack import SlackBot, SlackInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.admission import Handler
from bot.channels.authenticity import slack_signature_ok
from bot.channels.messenger import MessengerChannel, json_body
from bot.channels.outlet import PlatformBusy, PlatformRefused
from bot.channels.platform_http import PlatformHttp
from conversations.rendering import Part
from lotse.settings import load_settings

API_URL_VARIABLE = "LOTSE_SLACK_API_URL"
API_URL = "https://slack.com/api/"
# api.slack.com/methods/chat.postMessage#errors: the ones worth another try.
SLACK_BUSY = frozenset({"ratelimited", "rate_limited", "service_unavailable", "fatal_error",
                        "internal_error", "request_timeout"})  # fmt: skip


def blocks(part: Part) -> list[dict[str, Any]]:
    section = {"type": "section", "text": {"type": "plain_text", "text": part.text}}
    if not part.buttons:
        return [section]
    actions = {
        "type": "actions",
        "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": b.title}, "value": b.payload}
            for b in part.buttons
        ],
    }
    return [section, actions]


class SlackSender:
    """chat.postMessage (JSON, bearer token) through `PlatformHttp`. Slack answers its
    rate limit with 429 and Retry-After; otherwise 200 with `ok: false` and an error
    name: SLACK_BUSY ones may be sent again, any other (channel_not_found,
    invalid_auth, ...) is a refusal."""

    def __init__(self, token: str, http: PlatformHttp | None = None) -> None:
        base = load_settings().messengers.slack or API_URL
        self.url = base.rstrip("/") + "/chat.postMessage"
        self.headers = {"Authorization": f"Bearer {token}",
                        "Content-Type": "application/json; charset=utf-8"}  # fmt: skip
        self.http = http or PlatformHttp("slack")

    async def send(self, address: Mapping[str, Any], part: Part) -> None:
        body: dict[str, Any] = {"channel": address.get("channel") or address["id"],
                                "text": part.text, "blocks": blocks(part)}  # fmt: skip
        if address.get("thread"):
            body["thread_ts"] = address["thread"]
        answer = await asyncio.to_thread(self.http.post, self.url, json=body,
                                         headers=self.headers)  # fmt: skip
        answer.check("slack")
        if answer.field("ok") is not True:
            error = str(answer.field("error"))[:40]
            if error in SLACK_BUSY:
                raise PlatformBusy(f"Slack error {error}")
            raise PlatformRefused(f"Slack error {error}")


class LotseSlackInput(MessengerChannel, SlackInput):
    signature_header = "X-Slack-Signature"

    def authentic(self, request: Request) -> bool:
        return slack_signature_ok(
            (self.slack_signing_secret or "").encode(), request.body or b"",
            request.headers.get("X-Slack-Request-Timestamp"),
            request.headers.get(self.signature_header),
        )  # fmt: skip

    def address_of(self, message: UserMessage) -> dict[str, Any]:
        output = message.output_channel
        address: dict[str, Any] = {"id": str(message.sender_id)}
        if isinstance(output, SlackBot):
            address["channel"] = output.slack_channel
            address["thread"] = output.thread_id
        return address

    def unusable(self, request: Request) -> HTTPResponse | None:
        """A JSON body must be an object whose `event`, if any, is one (Rasa's connector
        calls `.get` on them); interactive payloads come form-encoded."""
        if request.form:
            return None
        body = json_body(request)
        if isinstance(body, dict) and isinstance(body.get("event", {}), dict):
            return None
        return response.text("not a Slack event", status=400)

    def sender(self) -> SlackSender:
        return SlackSender(self.slack_token)

    def event_key(self, request: Request) -> str | None:
        """The Events API's `event_id`; an interactive payload's `trigger_id`."""
        if request.form and request.form.get("payload"):
            try:
                payload = json.loads(request.form.get("payload"))
            except ValueError:
                return None
            return payload.get("trigger_id") if isinstance(payload, dict) else None
        body = json_body(request)
        return body.get("event_id") if isinstance(body, dict) else None

    async def process_message(
        self, request: Request, on_new_message: Handler, text: str, sender_id: str | None,
        metadata: dict[str, Any] | None,
    ) -> HTTPResponse:  # fmt: skip
        """Rasa's, without its background task and its own handling of Slack's retries:
        the message is stored before Slack gets its answer (a failed store is answered
        503, and Slack sends it again); a retry of a stored event never gets here
        (`MessengerChannel.guard`)."""
        metadata = metadata or {}
        thread_id = metadata.get("thread_id") if self.use_threads else None
        output = self.get_output_channel(metadata.get("out_channel"), thread_id)
        await on_new_message(UserMessage(text, output, sender_id, input_channel=self.name(),
                                         metadata=metadata))  # fmt: skip
        return response.text("")

    def blueprint(self, on_new_message: Handler) -> Blueprint:
        return self.wrapped(super().blueprint, on_new_message)
