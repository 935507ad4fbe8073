"""Serving a Sanic app from a thread of the test process, as `app.run` would."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sanic import Sanic


@contextmanager
def served(app: Sanic, port: int) -> Iterator[str]:
    """`app` on 127.0.0.1:`port` in a thread of its own (listeners and background tasks
    run as under `app.run`); yields the base URL, stops the server afterwards."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    problems: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            server = loop.run_until_complete(app.create_server(
                host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False,
            ))  # fmt: skip
            app.is_running = True  # as `app.run` does, so listeners may add tasks
            for step in (server.startup, server.before_start, server.after_start):
                loop.run_until_complete(step())
        except BaseException as error:  # noqa: BLE001 - reported to the waiting test
            problems.append(error)
            started.set()
            return
        started.set()
        loop.run_forever()
        loop.run_until_complete(server.before_stop())
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.run_until_complete(server.after_stop())
        for task in asyncio.all_tasks(loop):
            task.cancel()
        loop.run_until_complete(asyncio.sleep(0))
        loop.close()

    with pytest.MonkeyPatch.context() as patch:
        # Sanic rewrites its HTTP class for the first app it starts; in test mode it keeps
        # the original, so a second app in this process (another module's) starts too.
        patch.setattr(Sanic, "test_mode", True)
        thread = threading.Thread(target=run, name=f"sanic-{app.name}", daemon=True)
        thread.start()
        if not started.wait(60) or problems:
            raise RuntimeError(f"{app.name} did not start") from (problems[0] if problems else None)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
