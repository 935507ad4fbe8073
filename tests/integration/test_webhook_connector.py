"""The signed webhook connector (crm_adapter/webhook.py) against a local fake receiver:
the signature a receiver can verify, stable event ids for idempotency, and every error
mapped to retry, give up, or fix the credentials."""

from __future__ import annotations

import json
import time

import pytest

from crm_adapter.delivery import (
    CrmEvent,
    DeliveryAuthError,
    PermanentDeliveryError,
    RetryableDeliveryError,
)
from crm_adapter.webhook import (
    WebhookConnector,
    body_of,
    signature,
    verify_signature,
)
from tests.support.fake_servers import FakeWebhookServer, Reply, unused_port

SECRET = b"a shared secret of 32 bytes....."
EVENT = CrmEvent(
    event_id="evt-3f2a",
    kind="stage.changed",
    lead_id=12,
    payload={"old": "lead", "new": "marketing_qualified_lead", "cause": "fit 100 >= 60"},
    occurred_at="2026-11-25T10:00:00+00:00",
)


def connector(url: str, **options: object) -> WebhookConnector:
    return WebhookConnector(url, SECRET, **options)  # type: ignore[arg-type]


def test_an_event_arrives_as_json_with_a_signature_the_receiver_can_verify():
    with FakeWebhookServer() as server:
        connector(server.url).deliver(EVENT)
        [request] = server.received
    document = json.loads(request.body)
    assert document == {
        "id": "evt-3f2a", "type": "stage.changed", "lead_id": 12,
        "occurred_at": "2026-11-25T10:00:00+00:00",
        "data": {"old": "lead", "new": "marketing_qualified_lead", "cause": "fit 100 >= 60"},
    }  # fmt: skip
    headers = {name.lower(): value for name, value in request.headers.items()}
    assert headers["x-lotse-event-id"] == "evt-3f2a"
    assert verify_signature(
        SECRET, request.body, headers["x-lotse-timestamp"], headers["x-lotse-signature"]
    )


def test_a_retry_carries_the_same_event_id():
    with FakeWebhookServer(Reply(503)) as server:
        with pytest.raises(RetryableDeliveryError):
            connector(server.url).deliver(EVENT)
        connector(server.url).deliver(EVENT)
        ids = [r.headers.get("X-Lotse-Event-Id") for r in server.received]
    assert ids == ["evt-3f2a", "evt-3f2a"]


@pytest.mark.parametrize(
    ("reply", "error", "retry_after"),
    [
        (Reply(429, {"Retry-After": "7"}), RetryableDeliveryError, 7.0),
        (Reply(503, {"Retry-After": "120"}), RetryableDeliveryError, 120.0),
        (Reply(500), RetryableDeliveryError, None),
        (Reply(408), RetryableDeliveryError, None),
        (Reply(401), DeliveryAuthError, None),
        (Reply(403), DeliveryAuthError, None),
        (Reply(400), PermanentDeliveryError, None),
        (Reply(302, {"Location": "https://elsewhere.example/"}), PermanentDeliveryError, None),
    ],
)
def test_answers_map_to_retry_give_up_or_fix_credentials(reply, error, retry_after):
    with FakeWebhookServer(reply) as server, pytest.raises(error) as raised:
        connector(server.url).deliver(EVENT)
    assert server.url not in str(raised.value)
    if error is RetryableDeliveryError:
        assert raised.value.retry_after == retry_after


def test_a_hanging_receiver_is_a_retryable_timeout():
    with FakeWebhookServer(Reply(hang=5)) as server:
        started = time.monotonic()
        with pytest.raises(RetryableDeliveryError, match="timed out"):
            connector(server.url, timeout=0.3).deliver(EVENT)
    assert time.monotonic() - started < 2


def test_a_receiver_that_is_down_is_retryable():
    with pytest.raises(RetryableDeliveryError, match="not reachable"):
        connector(f"http://127.0.0.1:{unused_port()}/hook").deliver(EVENT)


def test_verification_refuses_tampering_replays_and_other_secrets():
    body = body_of(EVENT)
    now = 1_800_000_000
    signed = signature(SECRET, now, body)
    assert verify_signature(SECRET, body, str(now), signed, now=now + 10)
    assert not verify_signature(SECRET, body + b" ", str(now), signed, now=now)
    assert not verify_signature(SECRET, body, str(now), signed, now=now + 301)  # too old
    assert not verify_signature(
        b"another secret of 32 bytes......", body, str(now), signed, now=now
    )
    assert not verify_signature(SECRET, body, None, signed, now=now)
    assert not verify_signature(SECRET, body, "soon", signed, now=now)


def test_bad_configuration_is_refused_and_secrets_stay_out_of_repr():
    with pytest.raises(ValueError, match="http"):
        connector("ftp://example.com/hook")
    with pytest.raises(ValueError, match="16 bytes"):
        WebhookConnector("https://example.com/hook", b"short")
    shown = repr(connector("https://hooks.example.com/T0/secret-path"))
    assert "secret-path" not in shown and "shared secret" not in shown
