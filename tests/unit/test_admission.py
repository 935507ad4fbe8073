"""The way in for every channel (bot/channels/admission.py): each conversation's rate
is bounded before anything runs; other conversations are not affected."""

from __future__ import annotations

import asyncio

import pytest
from rasa.core.channels.channel import UserMessage

from bot.channels.admission import TooManyMessages, admitting
from bot.channels.turn_gate import TurnGate
from lotse.settings import SettingsError


def bot_and_admission() -> tuple[list[str], object]:
    heard: list[str] = []

    async def bot(message: UserMessage) -> None:
        heard.append(f"{message.sender_id}: {message.text}")

    return heard, admitting(TurnGate(4), bot)


def test_a_conversation_over_its_rate_is_refused_before_anything_runs(monkeypatch) -> None:
    monkeypatch.setenv("LOTSE_RATE_CONVERSATION", "60/minute burst 3")
    heard, admit = bot_and_admission()

    async def burst() -> float:
        for n in range(3):
            await admit(UserMessage(f"m{n}", sender_id="web-1"))
        with pytest.raises(TooManyMessages) as refused:
            await admit(UserMessage("m3", sender_id="web-1"))
        await admit(UserMessage("hallo", sender_id="web-2"))  # another conversation
        return refused.value.wait

    wait = asyncio.run(burst())
    assert 0 < wait <= 1.0  # one message a second comes back
    assert heard == ["web-1: m0", "web-1: m1", "web-1: m2", "web-2: hallo"]


def test_the_limit_can_be_off_and_a_bad_one_is_named(monkeypatch) -> None:
    monkeypatch.setenv("LOTSE_RATE_CONVERSATION", "off")
    heard, admit = bot_and_admission()

    async def many() -> None:
        for n in range(100):
            await admit(UserMessage(f"m{n}", sender_id="web-1"))

    asyncio.run(many())
    assert len(heard) == 100
    monkeypatch.setenv("LOTSE_RATE_CONVERSATION", "viel")
    with pytest.raises(SettingsError, match="LOTSE_RATE_CONVERSATION"):
        bot_and_admission()
