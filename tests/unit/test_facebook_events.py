"""Which messaging events a Facebook webhook request holds, whatever its shape."""

from __future__ import annotations

import pytest

from bot.channels.facebook import messaging_events

MESSAGE = {"sender": {"id": "1"}, "message": {"mid": "m.1", "text": "Hallo"}}
ECHO = {"sender": {"id": "2"}, "message": {"mid": "m.2", "text": "Hi", "is_echo": True}}


def test_every_event_of_every_entry_in_order_without_the_pages_echoes() -> None:
    second = {"sender": {"id": "1"}, "message": {"mid": "m.3", "text": "Noch was"}}
    body = {"entry": [{"messaging": [MESSAGE, ECHO]}, {"messaging": [second]}]}
    assert messaging_events(body) == [MESSAGE, second]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"entry": True},
        {"entry": 7},
        {"entry": "text"},
        {"entry": {"messaging": [MESSAGE]}},
        {"entry": [True, None, "x", {"messaging": True}, {"messaging": "abc"}]},
        {"entry": [{"messaging": [1, None, "m"]}]},
    ],
)
def test_a_body_not_shaped_as_meta_sends_holds_no_event(body: dict) -> None:
    assert messaging_events(body) == []
