"""Webhook requests as each messenger platform sends them, signed with the fakes' secrets
(`tests/support/fake_messengers.py`)."""

from __future__ import annotations

import json
from typing import Any, Protocol
from urllib.parse import parse_qs

from bot.channels.authenticity import twilio_signature
from bot.channels.botframework import LotseBotFrameworkInput
from bot.channels.facebook import LotseFacebookInput
from bot.channels.slack import LotseSlackInput
from bot.channels.telegram import LotseTelegramInput
from bot.channels.twilio import LotseTwilioInput
from tests.support import fake_messengers as fm


class Webhooks(Protocol):
    """Where a test's channels listen, and the fake platforms they answer through."""

    fake: fm.FakeMessengers

    def url(self, channel: str) -> str: ...


def signed_request(
    channel: str, webhooks: Webhooks, text: str, name: Any, platform_id: str, extra: Any = None
) -> tuple[bytes, dict[str, str]]:
    """A message request of `channel`'s shape, signed as the platform signs it; `extra`
    goes where the platform has an optional field (a last name, a quick reply payload)."""
    if channel == "telegram":
        update = fm.telegram_update(abs(hash(platform_id)) % 2**40, text, first_name=name)
        if extra is not None:
            update["message"]["from"]["last_name"] = extra
        return json.dumps(update).encode(), fm.telegram_headers()
    if channel == "facebook":
        event = fm.facebook_event(platform_id, text)
        if extra is not None:
            event["entry"][0]["messaging"][0]["message"]["quick_reply"] = {"payload": extra}
        body = json.dumps(event).encode()
        return body, fm.meta_headers(body)
    if channel == "twilio":
        form = fm.twilio_form(platform_id, text, profile_name=str(name))
        return fm.twilio_body(form), fm.twilio_headers(webhooks.url("twilio"), form)
    if channel == "slack":
        body = json.dumps(fm.slack_event(platform_id, f"D{platform_id}", text)).encode()
        return body, fm.slack_headers(body)
    service_url = f"{webhooks.fake.url}/botframework"
    activity = fm.teams_activity(platform_id, text, service_url, f"a:{platform_id}")
    activity["from"]["name"] = name
    body = json.dumps(activity).encode()
    token = webhooks.fake.bot_framework_jwt(service_url)
    return body, {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def sign(channel: str, webhooks: Webhooks, body: bytes) -> dict[str, str]:
    """Headers that sign `body` as `channel`'s platform would (Twilio's: a form body)."""
    if channel == "telegram":
        return fm.telegram_headers()
    if channel == "facebook":
        return fm.meta_headers(body)
    if channel == "twilio":
        try:  # the form as Sanic parses it
            form = parse_qs(body.decode("utf-8"))
        except UnicodeDecodeError:
            form = {}
        signature = twilio_signature(fm.TWILIO_TOKEN, webhooks.url("twilio"), form)
        return {"X-Twilio-Signature": signature,
                "Content-Type": "application/x-www-form-urlencoded"}  # fmt: skip
    if channel == "slack":
        return fm.slack_headers(body)
    token = webhooks.fake.bot_framework_jwt(f"{webhooks.fake.url}/botframework")
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def messenger_inputs(base: str) -> list[object]:
    """Lotse's five messenger channels as credentials.yml makes them, with the fakes'
    credentials, for webhooks served at `base`."""
    return [
        LotseTelegramInput.from_credentials({
            "access_token": fm.TELEGRAM_TOKEN, "verify": fm.TELEGRAM_BOT_NAME,
            "webhook_url": f"{base}/webhooks/telegram/webhook",
            "secret_token": fm.TELEGRAM_SECRET}),
        LotseFacebookInput.from_credentials({
            "verify": fm.FACEBOOK_VERIFY_TOKEN, "secret": fm.FACEBOOK_APP_SECRET,
            "page-access-token": fm.FACEBOOK_PAGE_TOKEN}),
        LotseTwilioInput.from_credentials({
            "account_sid": fm.TWILIO_SID, "auth_token": fm.TWILIO_TOKEN,
            "twilio_number": fm.TWILIO_NUMBER, "webhook_url": f"{base}/webhooks/twilio/webhook"}),
        LotseSlackInput.from_credentials({
            "slack_token": fm.SLACK_TOKEN, "slack_signing_secret": fm.SLACK_SECRET}),
        LotseBotFrameworkInput.from_credentials({
            "app_id": fm.TEAMS_APP_ID, "app_password": fm.TEAMS_PASSWORD}),
    ]  # fmt: skip
