"""The console's JSON API (see openapi.yaml): `register` adds the routes of every
resource (`console/routes/`: sessions, the queue and its change feed, handoffs, who
types and what was delivered, users, privacy, prepared answers, the messengers'
undelivered messages), each thin over the
desk, the staff logins, the CRM store, the privacy use cases and the prepared answers'
file. Blocking work runs in threads
(`console.routing.blocking`)."""

from __future__ import annotations

from sanic import Sanic

from console.routes import (
    canned,
    conversation_live,
    handoffs,
    privacy,
    queue,
    sessions,
    undelivered,
    users,
)
from console.routing import Routes


def register(app: Sanic) -> None:
    routes = Routes(app)
    for resource in (sessions, queue, handoffs, conversation_live, users, privacy, canned,
                     undelivered):  # fmt: skip
        resource.register(routes)
