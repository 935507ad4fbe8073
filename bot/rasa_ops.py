"""Rasa's `/healthz`, `/readyz` and `/metrics` (`lotse.ops_routes`), and the turns'
count and time (`lotse.metrics`): added to the Sanic app Rasa makes, by wrapping
`rasa.core.run.configure_app` before Rasa starts (`bot.rasa_server`).

Once the server has started, the model's first-use work is done (`_warm`). Ready means:
the model is loaded, and Lotse's database, the tracker store's database and
the lock store's Redis (where those are used) answer. A turn is a POST to a channel's
webhook (`/webhooks/<channel>/webhook`); its time runs from the request's arrival to
the response.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from lotse.metrics import TURN_SECONDS, TURNS
from lotse.readiness import Readiness, database_check

STARTED = "lotse_turn_started"
log = logging.getLogger(__name__)


def channel_of(path: str) -> str | None:
    """The channel's name of a webhook path, None for any other path."""
    parts = path.strip("/").split("/")
    if len(parts) == 3 and parts[0] == "webhooks" and parts[2] == "webhook":
        return parts[1]
    return None


def rasa_readiness(app: Any) -> Readiness:
    def model() -> bool:
        agent = getattr(app.ctx, "agent", None)
        return agent is not None and agent.is_ready()

    def tracker_store() -> None:
        store = app.ctx.agent.tracker_store
        inner = getattr(store, "_tracker_store", store)
        engine = getattr(inner, "engine", None)
        if engine is not None:
            database_check(lambda: engine)()

    def lock_store() -> None:
        red = getattr(app.ctx.agent.lock_store, "red", None)
        if red is not None:
            red.ping()

    def lotse_database() -> Any:
        from wiring.services import services

        return services().engine

    return Readiness({"model": model, "database": database_check(lotse_database),
                      "tracker_store": tracker_store, "lock_store": lock_store})  # fmt: skip


def add_turn_metrics(app: Any) -> None:
    async def started(request: Any) -> None:
        if request.method == "POST" and channel_of(request.path):
            setattr(request.ctx, STARTED, time.perf_counter())

    async def finished(request: Any, response: Any) -> None:
        began = getattr(request.ctx, STARTED, None)
        if began is None:
            return
        channel = channel_of(request.path) or "unknown"
        TURN_SECONDS.labels(channel).observe(time.perf_counter() - began)
        TURNS.labels(channel, f"{response.status // 100}xx").inc()

    app.register_middleware(started, "request")
    app.register_middleware(finished, "response")


async def _warm(app: Any, _loop: Any) -> None:
    """The first-use work done now, off the event loop: the readers' routers
    (`warm_readers`), the handoff desk every message passes (its routing model, office
    hours and holiday calendars: the ownership gate), the German words the tokenizer
    tells Swiss spellings by, and one parse through the NLU graph (the word lists its
    rules load on first use). Then the memory freed by loading and warming up goes back
    to the system (`bot.heap`)."""
    from bot.channels.ownership_gate import ownership_gate
    from bot.heap import release_free_memory
    from bot.nlu.message_reader import warm_readers
    from dialogue.dialect import german_words

    try:
        await asyncio.to_thread(warm_readers)
        await asyncio.to_thread(ownership_gate)
        await asyncio.to_thread(german_words)
        agent = getattr(app.ctx, "agent", None)
        if agent is not None and agent.is_ready():
            for text in ("Hallo, was kostet eine P400?", "Hello, can I talk to a person?"):
                await agent.parse_message(text)
    except Exception as error:  # noqa: BLE001 - the first message does it then
        log.warning("warming up failed (%s)", type(error).__name__)
    release_free_memory()


def install(token: str | None) -> None:
    """Every app `rasa.core.run.configure_app` makes gets the routes and the metrics."""
    import rasa.core.run as run

    original: Callable[..., Any] = run.configure_app

    def configure_app(*args: Any, **kwargs: Any) -> Any:
        from bot.kept_connections import close_all
        from lotse.ops_routes import add_ops_routes

        app = original(*args, **kwargs)
        add_ops_routes(app, rasa_readiness(app), token)
        add_turn_metrics(app)
        app.register_listener(_warm, "after_server_start")
        app.register_listener(close_all, "before_server_stop")
        return app

    run.configure_app = configure_app
