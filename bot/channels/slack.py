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

import os
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
from bot.channels.outlet import SendFailed
from bot.channels.rendering import Part

API_URL_VARIABLE = "LOTSE_SLACK_API_URL"


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
    def __init__(self, token: str) -> None:
        self.bot = SlackBot(token)
        if base := os.environ.get(API_URL_VARIABLE):
            self.bot.client.base_url = base.rstrip("/") + "/"

    async def send(self, address: Mapping[str, Any], part: Part) -> None:
        thread = {"thread_ts": address["thread"]} if address.get("thread") else {}
        reply = await self.bot.client.chat_postMessage(
            channel=address.get("channel") or address["id"], text=part.text, blocks=blocks(part),
            **thread,
        )  # fmt: skip
        if not reply.get("ok"):  # the client raises SlackApiError first; this is a guard
            raise SendFailed(f"Slack error {reply.get('error')}")


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

    def blueprint(self, on_new_message: Handler) -> Blueprint:
        return self.wrapped(super().blueprint, on_new_message)
