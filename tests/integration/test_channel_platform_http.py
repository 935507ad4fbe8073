"""The messenger senders' transport (bot/channels/platform_http.py): what a platform's
answer, or its silence, means for sending a message again; no error names a token."""

from __future__ import annotations

import email.utils
import time

import pytest

from bot.channels.outlet import DeliveryUnknown, PlatformBusy, PlatformRefused
from bot.channels.platform_http import MAX_RETRY_AFTER_SECONDS, PlatformHttp, retry_after
from tests.support.fake_servers import FakeWebhookServer, Reply, unused_port

SECRET_PATH = "/bot7123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0/sendMessage"


def test_no_connection_is_busy_nothing_was_sent() -> None:
    http = PlatformHttp("telegram", connect_seconds=2)
    with pytest.raises(PlatformBusy) as caught:
        http.post(f"http://127.0.0.1:{unused_port()}{SECRET_PATH}", json={"text": "Hallo"})
    assert caught.value.retry_after is None and "AAHdq" not in str(caught.value)


def test_no_answer_is_unknown_it_may_have_arrived() -> None:
    with FakeWebhookServer(Reply(hang=5)) as platform:
        http = PlatformHttp("telegram", read_seconds=0.3)
        with pytest.raises(DeliveryUnknown) as caught:
            http.post(platform.url + "?access_token=EAAG-secret", json={"text": "Hallo"})
        assert len(platform.received) == 1  # it went out
        assert "secret" not in str(caught.value)


@pytest.mark.parametrize(("reply", "error", "wait"), [
    (Reply(429, {"Retry-After": "7"}, b"{}"), PlatformBusy, 7.0),
    (Reply(503, {}, b"<html>down</html>"), PlatformBusy, None),
    (Reply(500, {"Retry-After": "2"}, b"{}"), PlatformBusy, 2.0),
    (Reply(408, {}, b""), PlatformBusy, None),
    (Reply(403, {"Retry-After": "5"}, b'{"ok": false}'), PlatformRefused, None),
    (Reply(400, {}, b'{"error": {"code": 551}}'), PlatformRefused, None),
])  # fmt: skip
def test_an_error_answer_is_busy_or_refused(reply: Reply, error: type, wait: float | None):
    with FakeWebhookServer(reply) as platform:
        answer = PlatformHttp("slack").post(platform.url, json={"text": "Hallo"})
    with pytest.raises(error) as caught:
        answer.check("slack")
    if error is PlatformBusy:
        assert caught.value.retry_after == wait


def test_a_taken_message_answers_its_json() -> None:
    with FakeWebhookServer(Reply(201, {"Content-Type": "application/json"},
                                 b'{"sid": "SM1"}')) as platform:  # fmt: skip
        answer = PlatformHttp("twilio").post(platform.url, data={"Body": "Grüße 👋"})
    assert answer.check("twilio").field("sid") == "SM1"
    assert platform.received[0].body == b"Body=Gr%C3%BC%C3%9Fe+%F0%9F%91%8B"


def test_retry_after_in_seconds_or_as_a_date_and_bounded() -> None:
    now = time.time()
    assert retry_after("3") == 3.0
    assert retry_after(" 1.5 ") == 1.5
    in_ten = email.utils.formatdate(now + 10, usegmt=True)
    assert 8.0 <= retry_after(in_ten, now=now) <= 10.0
    assert retry_after(email.utils.formatdate(now - 60, usegmt=True), now=now) == 0.0
    assert retry_after("99999999") == MAX_RETRY_AFTER_SECONDS
    assert retry_after(None) is None and retry_after("soon") is None and retry_after("nan") is None
