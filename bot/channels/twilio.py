"""WhatsApp through Twilio: Rasa's connector behind Twilio's request signature.

Credentials: `account_sid`, `auth_token`, `twilio_number` (`whatsapp:+49...`, the
sender Twilio gave you), `webhook_url` (the public URL of `/webhooks/twilio/webhook`
exactly as entered at Twilio: the signature covers it). Rasa's connector validates
nothing; Lotse checks `X-Twilio-Signature` (HMAC-SHA1 over the URL and the sorted
form parameters) in constant time first. Twilio's Messages API has no buttons, so
choices become numbered text ("1. ..."), and a reply with the number picks the
choice. Messages are split within 1,600 characters. The profile name is Twilio's
`ProfileName` (the person's WhatsApp name). The conversation id is
`twilio:whatsapp:+49...`: the number identifies the person once they consented.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from rasa.core.channels.twilio import TwilioInput, TwilioOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.admission import Handler
from bot.channels.authenticity import twilio_signature_ok
from bot.channels.messenger import MessengerChannel
from bot.channels.platform_http import PlatformHttp
from conversations.rendering import Part
from lotse.settings import load_settings

API_URL_VARIABLE = "LOTSE_TWILIO_API_URL"
API_URL = "https://api.twilio.com"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def twilio_client(account_sid: str, auth_token: str, number: str) -> TwilioOutput:
    """Rasa's Twilio client, which Rasa's connector builds its output with (replaced by
    Lotse's: messages leave through `TwilioSender`)."""
    client = TwilioOutput(account_sid, auth_token, number)
    if base := load_settings().messengers.twilio:
        client.api.base_url = base.rstrip("/")
    return client


class TwilioSender:
    """The Messages API (form body, HTTP Basic auth) through `PlatformHttp`: 201 when
    taken; 429 (code 20429) and 5xx may be sent again; any other error (e.g. 63016,
    outside WhatsApp's 24-hour window; 21610, the person opted out) is a refusal."""

    def __init__(self, account_sid: str, auth_token: str, number: str,
                 http: PlatformHttp | None = None) -> None:  # fmt: skip
        base = (load_settings().messengers.twilio or API_URL).rstrip("/")
        self.url = f"{base}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self.auth = (account_sid, auth_token)
        self.number = number
        self.http = http or PlatformHttp("twilio")

    async def send(self, address: Mapping[str, Any], part: Part) -> None:
        form = {"To": address["id"], "From": self.number, "Body": part.text}
        answer = await asyncio.to_thread(self.http.post, self.url, data=form, auth=self.auth)
        answer.check("twilio")


class LotseTwilioInput(MessengerChannel, TwilioInput):
    signature_header = "X-Twilio-Signature"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> LotseTwilioInput:
        if not credentials:
            cls.raise_missing_credentials_exception()
        return cls(
            credentials.get("account_sid"),
            credentials.get("auth_token"),
            credentials.get("twilio_number"),
            str(credentials.get("webhook_url") or ""),
        )

    def __init__(self, account_sid: str, auth_token: str, number: str, webhook_url: str) -> None:
        super().__init__(account_sid, auth_token, number, debug_mode=False)
        self.webhook_url = webhook_url

    def authentic(self, request: Request) -> bool:
        params = {name: request.form.getlist(name) for name in request.form}
        header = request.headers.get(self.signature_header)
        return twilio_signature_ok(self.auth_token or "", self.webhook_url, params, header)

    def sender(self) -> TwilioSender:
        return TwilioSender(self.account_sid, self.auth_token, self.twilio_number)

    def event_key(self, request: Request) -> str | None:
        return request.form.get("MessageSid") or request.form.get("SmsMessageSid")

    def acknowledgement(self, request: Request) -> HTTPResponse:
        """Empty TwiML: the answers leave through the Messages API, later."""
        return response.text(EMPTY_TWIML, content_type="text/xml")

    def profile_name(self, request: Request) -> str | None:
        return request.form.get("ProfileName")

    def get_output_channel(self) -> TwilioOutput:
        return twilio_client(self.account_sid, self.auth_token, self.twilio_number)

    def blueprint(self, on_new_message: Handler) -> Blueprint:
        return self.wrapped(super().blueprint, on_new_message)
