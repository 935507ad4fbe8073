"""Telegram: Rasa's connector with the secret token checked, and native inline buttons.

Credentials (credentials.yml, from the environment): `access_token` (from BotFather),
`verify` (the bot's username), `webhook_url` (the public URL of
`/webhooks/telegram/webhook`), `secret_token` (1-256 characters of A-Z, a-z, 0-9, _ and
-). At start Lotse calls setWebhook with the URL and the secret token; Telegram then
sends the token in `X-Telegram-Bot-Api-Secret-Token` with every update, and an update
without it is refused. Rasa's own connector never sets or checks it, and serves
`/webhooks/telegram/set_webhook` to anyone, which registers the webhook again without
the secret (every update would then be refused: the channel is off). Lotse answers
that route 404; to register the webhook again (a new URL or secret), restart Rasa (any
replica does it at start). Buttons become an inline keyboard whose callback data is
the payload; when a payload is longer than Telegram's 64 bytes, the choices are
numbered text instead (`conversations.rendering`). The profile name is the sender's
first and last name.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

from aiogram.bot.api import TelegramAPIServer
from aiogram.utils.exceptions import TelegramAPIError
from aiohttp import ClientError
from rasa.core.channels.telegram import TelegramInput, TelegramOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.admission import Handler
from bot.channels.authenticity import telegram_secret_ok
from bot.channels.messenger import MessengerChannel, json_body
from bot.channels.outlet import PlatformRefused
from bot.channels.platform_http import PlatformHttp
from conversations.rendering import Part
from lotse.settings import load_settings

API_URL_VARIABLE = "LOTSE_TELEGRAM_API_URL"
API_URL = "https://api.telegram.org"
log = logging.getLogger(__name__)


def telegram_bot(access_token: str) -> TelegramOutput:
    """Rasa's client (aiogram): Rasa's connector asks it `getMe` per update; Lotse sets
    the webhook with it. Messages leave through `TelegramSender`."""
    bot = TelegramOutput(access_token)
    if base := load_settings().messengers.telegram:
        bot.server = TelegramAPIServer.from_base(base)
    return bot


def keyboard(part: Part) -> dict[str, Any]:
    """Native buttons carry payloads of at most 64 bytes (`rendering.LIMITS`): the
    callback data is the payload itself. One button a row."""
    return {"inline_keyboard": [[{"text": b.title, "callback_data": b.payload}]
                                for b in part.buttons]}  # fmt: skip


class TelegramSender:
    """sendMessage through `PlatformHttp`. Telegram answers its rate limit with 429 and
    `parameters.retry_after`; a person who blocked the bot, or a chat that is gone, is a
    403 or 400 (refused)."""

    def __init__(self, access_token: str, http: PlatformHttp | None = None) -> None:
        base = (load_settings().messengers.telegram or API_URL).rstrip("/")
        self.url = f"{base}/bot{access_token}/sendMessage"
        self.http = http or PlatformHttp("telegram")

    async def send(self, address: Mapping[str, Any], part: Part) -> None:
        body: dict[str, Any] = {"chat_id": address["id"], "text": part.text}
        if part.buttons:
            body["reply_markup"] = keyboard(part)
        answer = await asyncio.to_thread(self.http.post, self.url, json=body)
        hinted = answer.field("parameters", "retry_after")
        answer.check("telegram", float(hinted) if isinstance(hinted, (int, float)) else None)
        if answer.field("ok") is not True:
            raise PlatformRefused(f"telegram answered ok={answer.field('ok')!r}")


class KnownBot(TelegramOutput):
    """Rasa's connector asks Telegram `getMe` for every update, to compare the bot's
    username with `verify`: during an outage of Telegram's API that fails, and the
    update would be answered 500. The secret token already proves the update is for
    this bot; the username is the configured one, without a call."""

    def __init__(self, access_token: str, username: str) -> None:
        super().__init__(access_token)
        self._me = SimpleNamespace(username=username)

    async def get_me(self) -> Any:  # type: ignore[override]
        return self._me


async def set_webhook(access_token: str, url: str, secret_token: str) -> None:
    bot = telegram_bot(access_token)
    try:
        await bot.request("setWebhook", {"url": url, "secret_token": secret_token})
    finally:
        await bot.close()


class LotseTelegramInput(MessengerChannel, TelegramInput):
    signature_header = "X-Telegram-Bot-Api-Secret-Token"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> LotseTelegramInput:
        if not credentials:
            cls.raise_missing_credentials_exception()
        return cls(
            credentials.get("access_token"),
            credentials.get("verify"),
            credentials.get("webhook_url"),
            str(credentials.get("secret_token") or ""),
        )

    def __init__(self, access_token: str, verify: str, webhook_url: str, secret_token: str) -> None:
        super().__init__(access_token, verify, webhook_url, debug_mode=False)
        self.secret_token = secret_token

    def authentic(self, request: Request) -> bool:
        return telegram_secret_ok(self.secret_token, request.headers.get(self.signature_header))

    def sender(self) -> TelegramSender:
        return TelegramSender(self.access_token)

    def event_key(self, request: Request) -> str | None:
        body = json_body(request)
        update_id = body.get("update_id") if isinstance(body, dict) else None
        return str(update_id) if isinstance(update_id, int) else None

    def profile_name(self, request: Request) -> str | None:
        body = request.json if isinstance(request.json, dict) else {}
        update = body.get("message") or body.get("edited_message") or body.get("callback_query")
        person = update.get("from") if isinstance(update, dict) else None
        if not isinstance(person, dict):
            return None
        names = (person.get("first_name"), person.get("last_name"))
        return " ".join(n for n in names if isinstance(n, str) and n.strip()) or None

    def unusable(self, request: Request) -> HTTPResponse | None:
        """Updates without a message (a person blocked the bot, a channel post, a poll):
        acknowledged and dropped, so Telegram does not send them again."""
        body = json_body(request)
        if isinstance(body, dict) and any(
            isinstance(body.get(key), dict)
            for key in ("message", "edited_message", "callback_query")
        ):
            return None
        return response.text("success")

    def get_output_channel(self) -> TelegramOutput:
        """Rasa's output, without Rasa's setWebhook (done in `blueprint`, with the secret),
        and without its `getMe` per update (`KnownBot`)."""
        return KnownBot(self.access_token, self.verify)

    def blueprint(self, on_new_message: Handler) -> Blueprint:
        try:
            asyncio.run(set_webhook(self.access_token, self.webhook_url, self.secret_token))
        except (TelegramAPIError, ClientError, asyncio.TimeoutError) as error:
            log.error("telegram: setWebhook failed (%s); updates arrive only once it is set",
                      type(error).__name__)  # fmt: skip
        blueprint = self.wrapped(super().blueprint, on_new_message)

        @blueprint.middleware("request")
        async def no_set_webhook(request: Request) -> HTTPResponse | None:
            """Rasa's unauthenticated re-registration without the secret: not served."""
            if request.path.rstrip("/").endswith("/set_webhook"):
                return response.text("not found", status=404)
            return None

        return blueprint
