"""The demo website as a Sanic app: Nordwerk's pages, the widget's files, the chat API.

Routes (docs/website_security.md):
- `GET /`, the product pages (`website.pages`) and `/static/<file>`;
- `POST /api/chat/visitor`: a new signed visitor id (`website.visitor_ids`);
- `POST /api/chat`: a message, forwarded to Rasa's REST channel (`website.rasa_proxy`);
- `GET /api/chat/updates`: the long poll of what staff wrote (`website.updates`);
- `POST /api/chat/typing`: the visitor types (or stopped), during a handoff;
- `OPTIONS /api/chat*`: CORS preflights, answered only for LOTSE_SITE_ORIGINS;
- `/healthz`, `/readyz`, `/metrics` (`lotse.ops_routes`).

Every `/api/chat*` request passes the `Guard` (`website.guard`) before anything reaches
Rasa or the store: an unsigned sender gets 403, a token bucket without tokens 429 with
Retry-After, a POST from a foreign browser origin 403. Handlers are thin and never
block the event loop: Rasa is asked with aiohttp, the store and Redis from threads.

Bounds: request bodies up to MAX_BODY_BYTES (413 beyond, before the body is read); an
unreadable Content-Length 400; a client silent for REQUEST_TIMEOUT_SECONDS while its
request head arrives gets 408, for RESPONSE_TIMEOUT_SECONDS while its body arrives or
the answer is made 503 (room for Rasa's 30 s and the 20 s long poll), and is closed.
Nothing is logged per request (no access log: paths and bodies carry visitor ids and
texts); an unexpected error is logged by its type only. Every answer carries nosniff
and `Cache-Control: no-store`; errors are JSON, but for pages (plain text).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import mimetypes
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs

from sanic import Sanic, response
from sanic.exceptions import InvalidUsage, SanicException, ServiceUnavailable
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError

from dialogue.content import Content
from lotse.ops_routes import add_ops_routes
from lotse.rate_limit import Bucket
from lotse.readiness import Readiness
from website.guard import Guard, client_ip, judge_origin, take_token
from website.pages import find_route, render_page
from website.rasa_proxy import RasaProxy

log = logging.getLogger(__name__)
NO_CHECKS = Readiness()

STATIC = Path(__file__).parent / "static"
MAX_BODY_BYTES = 16 * 1024
REQUEST_TIMEOUT_SECONDS = 10
RESPONSE_TIMEOUT_SECONDS = 45  # Rasa's 30 s, the long poll's 20 s, and some to spare
KEEP_ALIVE_TIMEOUT_SECONDS = 75
SHUTDOWN_SECONDS = 10  # open long polls end within `lotse run`'s 15 s to stop
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
UNKNOWN_VISITOR = {"error": "unknown visitor"}
TOO_MANY = {"error": "too many messages, please wait a moment"}
FOREIGN_ORIGIN = {"error": "this site may not use the chat"}
TOO_LARGE = {"error": "message too large"}
NOT_FOUND = {"error": "not found"}
ERRORS = {
    HTTPStatus.BAD_REQUEST: "bad request",
    HTTPStatus.NOT_FOUND: "not found",
    HTTPStatus.METHOD_NOT_ALLOWED: "method not allowed",
    HTTPStatus.REQUEST_TIMEOUT: "request timeout",
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: TOO_LARGE["error"],
}


class Feed(Protocol):
    """What `/api/chat/updates` asks (`website.updates.FeedWatcher`)."""

    async def updates(
        self, conversation_id: str, after: int, *, typing: bool = False
    ) -> dict[str, Any]: ...

    async def visitor_typing(self, conversation_id: str, typing: bool) -> bool: ...


@dataclass(frozen=True)
class SiteContext:
    content: Content
    guard: Guard
    feed: Feed
    rasa: RasaProxy
    readiness: Readiness = NO_CHECKS
    metrics_token: str | None = None


class BadRequest(InvalidUsage):
    """A 400 whose message the client may read."""


def make_app(site: SiteContext, name: str = "lotse_website") -> Sanic:
    # Sanic's own log set-up would print its start lines twice next to the process's.
    app = Sanic(name, configure_logging=False)
    app.config.update(
        REQUEST_MAX_SIZE=MAX_BODY_BYTES,
        REQUEST_TIMEOUT=REQUEST_TIMEOUT_SECONDS,
        RESPONSE_TIMEOUT=RESPONSE_TIMEOUT_SECONDS,
        KEEP_ALIVE_TIMEOUT=KEEP_ALIVE_TIMEOUT_SECONDS,
        GRACEFUL_SHUTDOWN_TIMEOUT=SHUTDOWN_SECONDS,
        ACCESS_LOG=False,
    )
    app.ctx.site = site
    app.add_signal(check_length, "http.lifecycle.request")
    app.register_middleware(add_headers, "response")
    app.error_handler.add(Exception, answer_error)
    for where, path in (("root", "/"), ("any", "/<path:path>")):  # the named routes win
        app.add_route(page, path, methods=["GET"], name=f"page_{where}")
        app.add_route(preflight, path, methods=["OPTIONS"], name=f"preflight_{where}")
        app.add_route(nowhere, path, methods=["POST"], name=f"nowhere_{where}")
    api = (("GET", "/api/chat/updates", updates), ("POST", "/api/chat/visitor", issue),
           ("POST", "/api/chat/typing", typing), ("POST", "/api/chat", chat))  # fmt: skip
    for method, path, handler in api:
        app.add_route(handler, path, methods=[method])
        app.add_route(preflight, path, methods=["OPTIONS"], name=f"preflight_{handler.__name__}")
    add_ops_routes(app, site.readiness, site.metrics_token)

    @app.before_server_start
    async def open_proxy(_app: Sanic, _loop: object) -> None:
        await site.rasa.open()

    @app.after_server_stop
    async def close_proxy(_app: Sanic, _loop: object) -> None:
        await site.rasa.close()

    return app


# ------------------------------------------------------------ around every request


async def check_length(request: Request) -> None:
    """Before Sanic reads a body: a Content-Length that is not a plain number is a 400
    (Sanic itself would take "-1" or "+5")."""
    declared = request.headers.get("content-length")
    if declared is not None and not (declared.isascii() and declared.strip().isdigit()):
        raise BadRequest("invalid Content-Length")


def add_headers(request: Request, reply: HTTPResponse) -> None:
    for name, value in {**SECURITY_HEADERS, **_cors_headers(request)}.items():
        reply.headers.setdefault(name, value)


def _cors_headers(request: Request) -> dict[str, str]:
    origin = getattr(request.ctx, "cors_origin", None)
    if origin is None:
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Expose-Headers": "Retry-After",
        "Vary": "Origin",
    }


async def answer_error(request: Request, error: Exception) -> HTTPResponse:
    """Sanic's refusals (413, 404, 405, timeouts) as JSON with fixed texts; anything
    else is a 400 if the request could not even be read, else a 500, logged by type."""
    if isinstance(error, ServiceUnavailable) and request.stream is not None:
        # Cut off by the response timeout (maybe still waiting for a body sent too
        # slowly): close after this answer; Sanic 21.12 would wait for the rest forever.
        request.stream.request_body = None
    if isinstance(error, SanicException):
        status = error.status_code
        message = str(error) if isinstance(error, BadRequest) else ERRORS.get(status)
        if status == HTTPStatus.NOT_FOUND and request.method == "GET":
            return _text(status, "not found")
        return _json(status, {"error": message or HTTPStatus(status).phrase.lower()})
    if request.route is None:  # Sanic failed on the request's head
        return _json(HTTPStatus.BAD_REQUEST, {"error": "bad request"})
    log.error("website request failed: %s", type(error).__name__)
    return _json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "internal error"})


def _json(status: int, payload: object, headers: Mapping[str, str] = {}) -> HTTPResponse:
    return response.raw(json.dumps(payload).encode(), status=status, headers=dict(headers),
                        content_type="application/json")  # fmt: skip


def _text(status: int, text: str) -> HTTPResponse:
    return response.text(text, status=status, content_type="text/plain; charset=utf-8")


def _site(request: Request) -> SiteContext:
    return request.app.ctx.site


def _origin_allowed(request: Request) -> bool:
    """False for a browser's request from a foreign page; for a listed origin, the
    answer gets CORS headers."""
    verdict = judge_origin(_site(request).guard, request.headers.get("origin"),
                           request.headers.get("host"))  # fmt: skip
    request.ctx.cors_origin = verdict.cors_origin
    return verdict.allowed


def _client_ip(request: Request) -> str:
    return client_ip(_site(request).guard, request.conn_info.client_ip,
                     request.headers.getall("x-forwarded-for", []))  # fmt: skip


async def _refused(bucket: Bucket | None, key: str) -> HTTPResponse | None:
    """Takes a token; without one, the 429 to answer."""
    wait = await take_token(bucket, key)
    if wait <= 0:
        return None
    return _json(HTTPStatus.TOO_MANY_REQUESTS, TOO_MANY, {"Retry-After": str(math.ceil(wait))})


# ------------------------------------------------------------------------ routes


async def page(request: Request, path: str = "") -> HTTPResponse:
    if request.path.startswith("/static/"):
        return await _static(request.path.removeprefix("/static/"))
    route = find_route(request.path)
    if route is None:
        return _text(HTTPStatus.NOT_FOUND, "not found")
    return response.html(render_page(route, _site(request).content))


async def _static(name: str) -> HTTPResponse:
    file = (STATIC / name).resolve()
    if file.parent != STATIC.resolve() or not file.is_file():
        return _text(HTTPStatus.NOT_FOUND, "not found")
    kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    return response.raw(await asyncio.to_thread(file.read_bytes), content_type=kind)


async def preflight(request: Request, path: str = "") -> HTTPResponse:
    """CORS preflights, answered only for the origins in LOTSE_SITE_ORIGINS."""
    if not request.path.startswith("/api/chat"):
        return _json(HTTPStatus.NOT_FOUND, NOT_FOUND)
    _origin_allowed(request)
    if request.ctx.cors_origin is None:
        return _json(HTTPStatus.FORBIDDEN, FOREIGN_ORIGIN)
    return response.empty(headers={
        "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type",
        "Access-Control-Max-Age": "600",
    })  # fmt: skip


async def nowhere(_request: Request, path: str = "") -> HTTPResponse:
    return _json(HTTPStatus.NOT_FOUND, NOT_FOUND)


async def updates(request: Request) -> HTTPResponse:
    guard = _site(request).guard
    _origin_allowed(request)  # a foreign page gets no CORS headers, so cannot read
    if refused := await _refused(guard.per_ip, f"updates {_client_ip(request)}"):
        return refused
    query = parse_qs(request.query_string)
    sender = guard.visitors.verify((query.get("sender") or [""])[0])
    if sender is None:
        return _json(HTTPStatus.FORBIDDEN, UNKNOWN_VISITOR)
    after = (query.get("after") or ["0"])[0]
    if not (after.isascii() and after.isdigit()):
        return _json(HTTPStatus.BAD_REQUEST, {"error": "after must be a number"})
    shows_typing = (query.get("typing") or ["0"])[0] == "1"
    if refused := await _refused(guard.per_visitor, f"updates {sender}"):
        return refused
    feed = _site(request).feed
    try:
        return _json(HTTPStatus.OK, await feed.updates(sender, int(after), typing=shows_typing))
    except SQLAlchemyError:
        return _json(HTTPStatus.SERVICE_UNAVAILABLE, {"error": "updates are not available"})


async def typing(request: Request) -> HTTPResponse:
    """The visitor types (`{"sender": ..., "typing": true}`) or stopped (false): checked
    like a message (origin, signed sender, its own token buckets), recorded only while
    the conversation's handoff is open (409 otherwise). Nothing is logged."""
    site = _site(request)
    if not request.body:
        return _json(HTTPStatus.BAD_REQUEST, {"error": "expected a JSON object"})
    if not _origin_allowed(request):
        return _json(HTTPStatus.FORBIDDEN, FOREIGN_ORIGIN)
    try:
        body = json.loads(request.body)
    except (ValueError, RecursionError):
        return _json(HTTPStatus.BAD_REQUEST, {"error": "invalid JSON"})
    if not isinstance(body, dict) or not isinstance(body.get("typing"), bool):
        return _json(HTTPStatus.BAD_REQUEST, {"error": "expected {sender, typing: true|false}"})
    if refused := await _refused(site.guard.per_ip, f"typing {_client_ip(request)}"):
        return refused
    sender = site.guard.visitors.verify(body.get("sender"))
    if sender is None:
        return _json(HTTPStatus.FORBIDDEN, UNKNOWN_VISITOR)
    if refused := await _refused(site.guard.per_visitor, f"typing {sender}"):
        return refused
    try:
        recorded = await site.feed.visitor_typing(sender, body["typing"])
    except SQLAlchemyError:
        return _json(HTTPStatus.SERVICE_UNAVAILABLE, {"error": "typing is not available"})
    if not recorded:
        return _json(HTTPStatus.CONFLICT, {"error": "no conversation with a person"})
    return _json(HTTPStatus.OK, {"typing": body["typing"]})


async def issue(request: Request) -> HTTPResponse:
    guard = _site(request).guard
    if not _origin_allowed(request):
        return _json(HTTPStatus.FORBIDDEN, FOREIGN_ORIGIN)
    if refused := await _refused(guard.issuing, _client_ip(request)):
        return refused
    return _json(HTTPStatus.OK, {"visitor_id": guard.visitors.issue()})


async def chat(request: Request) -> HTTPResponse:
    site = _site(request)
    if not request.body:
        return _json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, TOO_LARGE)
    if not _origin_allowed(request):
        return _json(HTTPStatus.FORBIDDEN, FOREIGN_ORIGIN)
    try:
        body = json.loads(request.body)
    except (ValueError, RecursionError):
        return _json(HTTPStatus.BAD_REQUEST, {"error": "invalid JSON"})
    if not isinstance(body, dict):
        return _json(HTTPStatus.BAD_REQUEST, {"error": "expected a JSON object"})
    if refused := await _refused(site.guard.per_ip, f"chat {_client_ip(request)}"):
        return refused
    sender = site.guard.visitors.verify(body.get("sender"))
    if sender is None:
        return _json(HTTPStatus.FORBIDDEN, UNKNOWN_VISITOR)
    if refused := await _refused(site.guard.per_visitor, f"chat {sender}"):
        return refused
    reply = await site.rasa.forward(forwarded(body, sender))
    return _json(reply.status, reply.payload, reply.headers)


def forwarded(body: dict[str, Any], sender: str) -> dict[str, object]:
    """Only Rasa REST's own keys, with the verified sender as the visitor id: never a
    client's other id, and no `input_channel` posing as another channel."""
    metadata = body.get("metadata")
    metadata = {**metadata} if isinstance(metadata, dict) else {}
    metadata["visitor_id"] = sender
    message: dict[str, object] = {"sender": sender, "metadata": metadata}
    if "message" in body:
        message["message"] = body["message"]
    return message
