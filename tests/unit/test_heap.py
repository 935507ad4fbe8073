"""The Rasa process gives freed memory back to the system (`bot.heap`)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot import heap, rasa_ops


def _resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(heap._libc() is None, reason="no glibc: nothing to give back")
def test_freed_memory_goes_back_to_the_system() -> None:
    """Many small objects freed stay in glibc's heap until they are given back."""
    kept = [bytearray(1000) for _ in range(200_000)]  # about 200 MB in small blocks
    spacer = [bytearray(100) for _ in range(10)]  # keeps the heap's top in use
    del kept
    before = _resident_mb()
    assert heap.release_free_memory() is True
    assert _resident_mb() < before - 50
    del spacer


def test_without_glibc_nothing_is_done(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heap, "_libc", lambda: None)
    assert heap.release_free_memory() is False


def test_the_warm_up_ends_by_giving_memory_back(monkeypatch: pytest.MonkeyPatch) -> None:
    released: list[bool] = []
    monkeypatch.setattr(heap, "release_free_memory", lambda: released.append(True) or True)
    monkeypatch.setattr("bot.nlu.message_reader.warm_readers", lambda: None)
    monkeypatch.setattr("bot.channels.ownership_gate.ownership_gate", lambda: None)
    monkeypatch.setattr("dialogue.dialect.german_words", lambda: None)
    app = SimpleNamespace(ctx=SimpleNamespace(agent=None))
    asyncio.run(rasa_ops._warm(app, None))
    assert released == [True]
