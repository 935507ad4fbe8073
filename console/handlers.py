"""The console's JSON API (see openapi.yaml): `register` adds the routes of every
resource (`console/routes/`: sessions, the queue and its change feed, handoffs, users,
privacy), each thin over the desk, the staff logins, the CRM store and the privacy use
cases. Blocking work runs in threads (`console.routing.blocking`)."""

from __future__ import annotations

from sanic import Sanic

from console.routes import handoffs, privacy, queue, sessions, users
from console.routing import Routes


def register(app: Sanic) -> None:
    routes = Routes(app)
    for resource in (sessions, queue, handoffs, users, privacy):
        resource.register(routes)
