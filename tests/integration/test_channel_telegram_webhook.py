"""Telegram's webhook registration (issue 18): Lotse registers the webhook with its secret
token when Rasa starts; Rasa's own `/webhooks/telegram/set_webhook`, which anyone could
call to register it again without the secret (after which every update is refused and
the channel is dead), is not served."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from rasa.core.channels.channel import register as register_channels
from sanic import Sanic

from bot.channels import relay
from bot.channels.telegram import API_URL_VARIABLE, LotseTelegramInput
from tests.integration.test_fuzz_payloads import served
from tests.support import fake_messengers as fm
from tests.support.console_client import free_port


async def _nothing(*_args: Any, **_kwargs: Any) -> None:
    return None


@pytest.fixture
def telegram(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, fm.FakeMessengers]]:
    with fm.FakeMessengers() as fake:
        monkeypatch.setenv(API_URL_VARIABLE, f"{fake.url}/telegram")
        monkeypatch.setattr(relay, "register", lambda _outlet: None)  # no handoff relay here
        for name in ("start", "stop"):
            monkeypatch.setattr(relay, name, _nothing)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        channel = LotseTelegramInput.from_credentials({
            "access_token": fm.TELEGRAM_TOKEN, "verify": fm.TELEGRAM_BOT_NAME,
            "webhook_url": f"{base}/webhooks/telegram/webhook",
            "secret_token": fm.TELEGRAM_SECRET})  # fmt: skip
        app = Sanic(f"telegram_webhook_{port}")

        async def handle_message(_message: Any) -> None:
            return None

        app.ctx.agent = type("Agent", (), {"handle_message": staticmethod(handle_message)})
        register_channels([channel], app, "/webhooks/")
        with served(app, port):
            yield base, fake


def set_webhook_calls(fake: fm.FakeMessengers) -> int:
    with fake.lock:
        return sum(1 for platform, path in fake.calls
                   if platform == "telegram" and path.lower().endswith("/setwebhook"))  # fmt: skip


def test_rasas_set_webhook_route_is_not_served_and_registers_nothing(telegram) -> None:
    base, fake = telegram
    assert set_webhook_calls(fake) == 1  # at start, with the secret
    for method in ("GET", "POST"):
        answer = requests.request(method, f"{base}/webhooks/telegram/set_webhook", timeout=10)
        assert answer.status_code == 404, (method, answer.status_code, answer.text)
    assert set_webhook_calls(fake) == 1
    signed = requests.post(f"{base}/webhooks/telegram/webhook",
                           json=fm.telegram_update(4242, "Hallo"), headers=fm.telegram_headers(),
                           timeout=10)  # fmt: skip
    assert signed.status_code == 200  # the webhook itself still answers
