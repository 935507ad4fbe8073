"""`/healthz`, `/readyz` and `/metrics` on every Lotse process (docs/operations.md).

- `/healthz`: 200 while the process serves (liveness);
- `/readyz`: 200 when every readiness check passes (`lotse.readiness`), else 503 with
  the names of the failing checks (a load balancer takes the process out meanwhile);
- `/metrics`: the process's Prometheus metrics (`lotse.metrics`), to a client on this
  machine, or anywhere with `Authorization: Bearer <LOTSE_METRICS_TOKEN>` when that
  token is set: the figures say how busy the company is, which is nobody else's business.

`add_ops_routes` puts them on a Sanic app (Rasa, the action server, the console, the
website); `serve_ops` serves them from a thread of their own for a process without a
web server (the event consumer, the CRM delivery worker).
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

from lotse.readiness import Readiness

if TYPE_CHECKING:
    from sanic import Sanic
    from sanic.request import Request
    from sanic.response import HTTPResponse

log = logging.getLogger(__name__)
PATHS = ("/healthz", "/readyz", "/metrics")


@dataclass(frozen=True)
class OpsReply:
    status: int
    body: bytes
    content_type: str


def metrics_allowed(peer: str | None, authorization: str | None, token: str | None) -> bool:
    """With a token set, the request must carry it; without one, only this machine asks."""
    if token:
        expected = f"Bearer {token}".encode()
        return hmac.compare_digest((authorization or "").encode(), expected)
    try:
        return peer is not None and ipaddress.ip_address(peer).is_loopback
    except ValueError:
        return False


def ops_reply(path: str, readiness: Readiness, allowed: Callable[[], bool]) -> OpsReply:
    """The answer to one of PATHS (blocking: the readiness checks ask the stores)."""
    if path == "/healthz":
        return _json(200, {"status": "ok"})
    if path == "/readyz":
        failing = readiness.failing()
        if failing:
            return _json(503, {"status": "not ready", "failing": failing})
        return _json(200, {"status": "ready"})
    if not allowed():
        return _json(403, {"error": "metrics are served to this machine or with the token"})
    from lotse.metrics import exposition

    body, content_type = exposition()
    return OpsReply(200, body, content_type)


def _json(status: int, payload: dict) -> OpsReply:
    return OpsReply(status, json.dumps(payload).encode(), "application/json")


def add_ops_routes(app: Sanic, readiness: Readiness, token: str | None = None) -> None:
    from sanic import response

    async def answer(request: Request) -> HTTPResponse:
        peer = request.conn_info.client_ip if request.conn_info else None
        allowed = lambda: metrics_allowed(peer, request.headers.get("authorization"), token)  # noqa: E731
        reply = await asyncio.get_running_loop().run_in_executor(
            None, ops_reply, request.path, readiness, allowed
        )
        return response.raw(reply.body, status=reply.status, content_type=reply.content_type)

    for path in PATHS:
        app.add_route(answer, path, methods=["GET"], name=f"lotse_ops{path.replace('/', '_')}")


def serve_ops(host: str, port: int, readiness: Readiness,
              token: str | None = None) -> ThreadingHTTPServer | None:  # fmt: skip
    """The three routes on `host:port` from a daemon thread; None (and an error in the
    log) if the port cannot be had: the process's own work goes on without them."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the standard library's name
            path = self.path.split("?", 1)[0]
            if path not in PATHS:
                self.send_error(404)
                return
            reply = ops_reply(path, readiness, lambda: metrics_allowed(
                self.client_address[0], self.headers.get("Authorization"), token))  # fmt: skip
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # no request log: the paths say nothing, and nothing personal is asked

    try:
        server = ThreadingHTTPServer((host, port), Handler)
    except OSError as error:
        log.error("health and metrics not served: %s:%s (%s)", host, port, error.strerror)
        return None
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="lotse-ops", daemon=True).start()
    return server
