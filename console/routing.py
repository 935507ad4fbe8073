"""What every route module of the console shares: the route decorator (ids beyond the
stores' INTEGER are a 404 before a handler runs), the console's context, its clock,
blocking work off the event loop, and the admin check."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from console.web import error
from handoff.desk import NotAllowed
from lotse.translations import N_

MAX_ID = 2**31 - 1  # PostgreSQL's INTEGER, which SQLite's holds
T = TypeVar("T")


async def blocking(function: Callable[..., T], *args: Any) -> T:
    """Database, Rasa and CRM calls run in threads: one slow call never stalls the event
    streams of other agents."""
    return await asyncio.to_thread(function, *args)


def admin_only(request: Request, refusal: str = N_("only an admin may manage users")) -> None:
    """Refuses (403) whoever is not an admin, with `refusal` (a catalogue's msgid)."""
    if request.ctx.session.role != "admin":
        raise NotAllowed(refusal)


class Routes:
    """The app's routes of one resource: `@routes(path, methods, name)` adds one."""

    def __init__(self, app: Sanic) -> None:
        self.app = app

    @property
    def console(self) -> Any:  # console.app.ConsoleContext (which imports the routes)
        return self.app.ctx.console

    def now(self) -> datetime:
        return self.console.desk.clock()

    def __call__(self, path: str, methods: list[str], name: str) -> Callable:
        def add(handler: Callable) -> Callable:
            @wraps(handler)
            async def within_range(request: Request, **params: Any) -> HTTPResponse:
                # Beyond the stores' INTEGER no handoff can exist (SQLite would overflow).
                if not 0 < params.get("handoff_id", 1) <= MAX_ID:
                    return error(404, "no such conversation")
                return await handler(request, **params)

            self.app.add_route(within_range, path, methods=methods, name=name)
            return handler

        return add
