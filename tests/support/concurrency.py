"""`run_together`: calls run side by side in threads, for the race tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

DEADLINE = 60.0


def run_together(calls: Sequence[Callable[[], Any]], deadline: float = DEADLINE) -> list[Any]:
    """Starts every call in its own thread and waits for all (`deadline` seconds in all).
    Returns their results in order; AssertionError if one still runs or any raised."""
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            results[index] = call()
        except BaseException as err:  # reported by the assertion below
            errors.append(err)

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    end = time.monotonic() + deadline
    for thread in threads:
        thread.join(max(0.0, end - time.monotonic()))
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    return results
