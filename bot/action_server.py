"""`python -m bot.action_server --host H --port P`: Rasa's action server, for Rasa only.

Rasa SDK's own command listens on every interface (0.0.0.0) and allows any CORS
origin. Lotse's action server listens on the given host (`lotse run`: LOTSE_HOST,
127.0.0.1 by default), sends no CORS headers (no browser calls it), and, when
LOTSE_ACTION_SECRET is set, answers only requests carrying it in
`X-Lotse-Action-Secret` (compared in constant time): 401 without the header, 403 with
a wrong one. The Rasa servers send it (endpoints.yml, `action_endpoint.headers`);
`lotse run` makes one up per run unless it is set. `/health` stays open.

Every action call has an upper bound on its time, LOTSE_ACTION_TIME_LIMIT seconds
(default 10): Rasa holds the conversation's lock while it waits (60 s in Redis, Rasa's
own wait for an action server is 300 s), and no action of Lotse's needs more than a
database round trip (CRM calls go through the outbox). Calls run on a pool of
ACTION_THREADS threads, each on an event loop of its own, so an action stuck in
blocking I/O does not hold its turn past the bound: Rasa gets 504 and the turn fails
without the action's events (`bot/loud_actions.py`). A call that waited for a thread
past the bound is never run (its turn has failed and will be sent again); one already
running cannot be stopped and keeps its thread until it returns.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from lotse import log_redaction
from lotse.ops_routes import PATHS, add_ops_routes
from lotse.readiness import Readiness, database_check
from lotse.settings import ACTION_TIME_LIMIT, load_settings

SECRET_VARIABLE = "LOTSE_ACTION_SECRET"
SECRET_HEADER = "X-Lotse-Action-Secret"
ACTIONS = "bot.actions"
OPEN_PATHS = frozenset({"/health", *PATHS})  # the runner's health check, and ops routes
ACTION_THREADS = 8
log = logging.getLogger(__name__)


class ActionTookTooLong(Exception):
    """An action call ran past the time limit; its result, if any comes, is dropped."""


def bound(app: Sanic, executor_type: type[ActionExecutor], limit: float) -> None:
    """Runs every action call of `executor_type` on a thread pool, at most `limit` s."""
    unbounded = executor_type.run
    pool = ThreadPoolExecutor(max_workers=ACTION_THREADS, thread_name_prefix="action")

    def in_thread(action_call: dict[str, Any], self: ActionExecutor, deadline: float) -> Any:
        if time.monotonic() > deadline:  # waited for a thread past the limit: Rasa has
            return None  # failed the turn already, and the visitor sends it again
        return asyncio.run(unbounded(self, action_call))

    async def run(self: ActionExecutor, action_call: dict[str, Any]) -> dict[str, Any] | None:
        deadline = time.monotonic() + limit
        call = asyncio.get_running_loop().run_in_executor(
            pool, in_thread, action_call, self, deadline
        )
        try:
            return await asyncio.wait_for(call, limit)  # cancels a call still waiting
        except asyncio.TimeoutError:
            name = str(action_call.get("next_action"))[:64]
            log.error("action server: %s ran longer than %.0f s; its turn ends", name, limit)
            raise ActionTookTooLong(name) from None

    executor_type.run = run  # type: ignore[method-assign]

    @app.exception(ActionTookTooLong)
    async def took_too_long(_request: Request, error: Exception) -> HTTPResponse:
        return response.json({"error": "the action took too long", "action_name": str(error)}, 504)


def guard(app: Sanic, secret: str) -> None:
    """Refuses every request but the health, readiness and metrics routes that lacks the
    shared secret (`/metrics` has its own rule: `lotse.ops_routes`)."""

    @app.middleware("request")
    async def shared_secret(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        given = request.headers.get(SECRET_HEADER)
        if given is None:
            log.warning("action server: refused a request without the shared secret")
            return response.json({"error": "missing secret"}, status=401)
        if not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("action server: refused a request with a wrong shared secret")
            return response.json({"error": "wrong secret"}, status=403)
        return None


def build_app(secret: str | None, limit: float = ACTION_TIME_LIMIT,
              metrics_token: str | None = None) -> Sanic:  # fmt: skip
    app = create_app(ACTIONS, cors_origins=None)
    add_ops_routes(app, Readiness({"database": database_check(_engine)}), metrics_token)
    bound(app, ActionExecutor, limit)
    if secret:
        guard(app, secret)
    return app


def warm() -> None:
    """What the actions build on first use, built before the server listens: the
    documents' matcher and index, the handoff desk's routing (seconds otherwise taken
    from the first visitor who asks)."""
    from wiring.services import services

    try:
        found = services()
        found.documents  # noqa: B018 - built and kept (cached_property)
        found.desk  # noqa: B018
    except Exception as error:  # noqa: BLE001 - the first action builds them then
        log.warning("warming up failed (%s)", type(error).__name__)


def _engine() -> Any:
    from wiring.services import services

    return services().engine


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5055)
    args = parser.parse_args(argv)
    log_redaction.install()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s - %(message)s"
    )
    settings = load_settings()
    app = build_app(settings.secrets.action_secret, settings.limits.action_time_limit,
                    settings.secrets.metrics_token)  # fmt: skip
    warm()
    log.info("action server on http://%s:%d", args.host, args.port)
    app.run(args.host, args.port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
