"""The whole stack through an outage of every messenger platform (issue 23).

Rasa with all five channels, the action server and the rest, against the fake
platforms (`tests/support/faulty_messengers.py`). First a control conversation per
platform while the APIs work; then, with every API down for OUTAGE_SECONDS, another
person per platform says the same: each webhook call is answered 200, the turns run while the
APIs are down, and once they are back each person gets exactly the control's answers,
in the same order, none before the APIs returned.
"""

from __future__ import annotations

import time

import pytest

from tests.e2e.test_messenger_channels import CHANNELS, say, someone

pytestmark = pytest.mark.model

# The minute of the issue runs in tests/integration/test_messenger_delivery.py, with the
# channels as Rasa serves them and a stand-in bot; here the real bot, for less time.
OUTAGE_SECONDS = 20
SCRIPT = ("Was kostet eine P400?", "Nein")


def texts_to(fake, channel: str, recipient: str) -> list[str]:  # noqa: ANN001
    return [s.text for s in fake.sent_to(channel, recipient)]


def test_every_message_is_answered_once_in_order_after_an_outage(stack, stack_messengers):
    fake = stack_messengers
    control = {channel: someone(channel) for channel in CHANNELS}
    for line in SCRIPT:
        for person in control.values():
            say(stack, fake, person, line)
    expected: dict[str, list[str]] = {}
    deadline = time.monotonic() + 30
    for channel, person in control.items():  # the answers, as they are without an outage
        while time.monotonic() < deadline:
            before = texts_to(fake, channel, person.recipient)
            time.sleep(1.0)
            if before and texts_to(fake, channel, person.recipient) == before:
                break
        expected[channel] = texts_to(fake, channel, person.recipient)
        assert len(expected[channel]) >= 2, channel

    back = max(fake.outage(channel, OUTAGE_SECONDS) for channel in CHANNELS)
    people = {channel: someone(channel) for channel in CHANNELS}
    for line in SCRIPT:
        for person in people.values():
            say(stack, fake, person, line)  # 200, and the turn ran
    if time.monotonic() < back - 1:  # the turns ran while the APIs were down
        assert all(texts_to(fake, c, p.recipient) == [] for c, p in people.items())

    deadline = back + 60
    while time.monotonic() < deadline and any(
        len(texts_to(fake, c, p.recipient)) < len(expected[c]) for c, p in people.items()
    ):
        time.sleep(0.5)
    time.sleep(1.0)  # an answer sent twice would arrive now
    for channel, person in people.items():
        assert texts_to(fake, channel, person.recipient) == expected[channel], channel
        began = back - OUTAGE_SECONDS
        taken = [a for a in fake.attempts_of(channel) if a.fault is None and a.at >= began]
        assert min(a.at for a in taken) >= back - 0.05, channel
