"""The turn gate: a bounded number of turns at once, first come first served."""

from __future__ import annotations

import asyncio

import pytest

from bot.channels.turn_gate import TurnGate, configured_limit
from lotse.settings import TURN_CONCURRENCY


async def run_turns(gate: TurnGate, senders: list[str]) -> tuple[list[str], int]:
    started: list[str] = []
    inside = 0
    most = 0

    async def turn(number: int, sender: str) -> None:
        nonlocal inside, most
        async with gate.turn(sender):
            started.append(f"{sender}#{number}")
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.01)
            inside -= 1

    await asyncio.gather(*(turn(n, s) for n, s in enumerate(senders)))
    return started, most


def test_at_most_limit_turns_run_at_once_in_arrival_order() -> None:
    gate = TurnGate(3)
    senders = [f"visitor-{n}" for n in range(12)]
    started, most = asyncio.run(run_turns(gate, senders))
    assert most == 3
    assert started == [f"{sender}#{n}" for n, sender in enumerate(senders)]
    assert gate.conversations_waiting == 0


def test_a_burst_from_one_visitor_runs_one_turn_at_a_time_without_blocking_others() -> None:
    gate = TurnGate(2)
    senders = ["burst"] * 5 + ["other-1", "other-2"]
    started, most = asyncio.run(run_turns(gate, senders))
    assert most == 2
    # The other visitors do not wait behind the whole burst.
    assert started.index("other-1#5") < started.index("burst#2")
    assert [turn for turn in started if turn.startswith("burst")] == [
        f"burst#{n}" for n in range(5)
    ]
    assert gate.conversations_waiting == 0


def test_a_failing_turn_frees_its_place() -> None:
    gate = TurnGate(1)

    async def scenario() -> None:
        with pytest.raises(RuntimeError):
            async with gate.turn("a"):
                raise RuntimeError("boom")
        async with gate.turn("a"):
            pass

    asyncio.run(asyncio.wait_for(scenario(), timeout=5))
    assert gate.conversations_waiting == 0


def test_the_limit_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert configured_limit() == TURN_CONCURRENCY
    monkeypatch.setenv("LOTSE_TURN_CONCURRENCY", "8")
    assert configured_limit() == 8
    monkeypatch.setenv("LOTSE_TURN_CONCURRENCY", "zero")
    with pytest.raises(ValueError, match="LOTSE_TURN_CONCURRENCY"):
        configured_limit()
