"""Health, readiness and metrics answers (`lotse.ops_routes`, `lotse.readiness`,
`bot.rasa_ops`): pure, without a server."""

from __future__ import annotations

import logging

import pytest

from bot.rasa_ops import channel_of
from lotse.ops_routes import metrics_allowed, ops_reply
from lotse.readiness import Readiness


def _down() -> None:
    raise ConnectionRefusedError("postgresql://lotse:s3cret@db.internal:5432 refused")


def test_healthz_answers_without_asking_the_stores() -> None:
    asked = []
    reply = ops_reply("/healthz", Readiness({"database": lambda: asked.append(1)}), lambda: False)
    assert reply.status == 200 and asked == []


def test_readyz_names_the_failing_checks_and_logs_no_message(caplog) -> None:
    readiness = Readiness({"database": lambda: None, "redis": _down, "model": lambda: False})
    with caplog.at_level(logging.WARNING):
        reply = ops_reply("/readyz", readiness, lambda: False)
    assert reply.status == 503
    assert b'"failing": ["redis", "model"]' in reply.body
    assert "ConnectionRefusedError" in caplog.text
    assert "s3cret" not in caplog.text and "db.internal" not in caplog.text
    assert b"s3cret" not in reply.body


def test_readyz_is_200_when_every_check_passes() -> None:
    assert ops_reply("/readyz", Readiness({"database": lambda: 1}), lambda: False).status == 200


def test_metrics_only_when_allowed() -> None:
    assert ops_reply("/metrics", Readiness(), lambda: False).status == 403
    reply = ops_reply("/metrics", Readiness(), lambda: True)
    assert reply.status == 200 and reply.content_type.startswith("text/plain")
    assert b"# HELP lotse_turns_total" in reply.body


@pytest.mark.parametrize(("peer", "authorization", "token", "allowed"), [
    ("127.0.0.1", None, None, True),
    ("::1", None, None, True),
    ("10.1.2.3", None, None, False),  # another machine, and no token configured
    ("not an address", None, None, False),
    (None, None, None, False),
    ("10.1.2.3", "Bearer right-token", "right-token", True),
    ("10.1.2.3", "Bearer wrong-token", "right-token", False),
    ("127.0.0.1", None, "right-token", False),  # with a token, this machine needs it too
    ("127.0.0.1", "right-token", "right-token", False),  # not as a bearer token
])  # fmt: skip
def test_who_may_read_the_metrics(peer, authorization, token, allowed) -> None:
    assert metrics_allowed(peer, authorization, token) is allowed


@pytest.mark.parametrize(("path", "channel"), [
    ("/webhooks/rest/webhook", "rest"),
    ("/webhooks/telegram/webhook", "telegram"),
    ("/webhooks/rest/", None),
    ("/model/parse", None),
    ("/webhooks/a/b/webhook", None),
])  # fmt: skip
def test_a_turn_is_a_post_to_a_channels_webhook(path, channel) -> None:
    assert channel_of(path) == channel
