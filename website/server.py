"""The demo website: Nordwerk's product pages with the chat widget.

Serves the pages of `website.pages`, the widget's static files, `/api/chat`, a
thin proxy to Rasa's REST channel so the browser talks to one origin only, and
`/api/chat/updates`, what a person in the staff console says (`website.updates`). Request
bodies are bounded and never logged. Standard library HTTP server; one thread per
request.

This is the public endpoint, so every `/api/chat*` request passes the `Guard` first
(docs/website_security.md): `POST /api/chat/visitor` issues a signed visitor id
(`website.visitor_ids`); a chat message or an updates poll whose sender is not such an
id gets 403 before anything reaches Rasa or the store; token buckets per visitor and
per client IP (`website.rate_limit`) answer 429 with Retry-After; a POST from a foreign
browser origin gets 403, and CORS headers go only to the origins in LOTSE_SITE_ORIGINS.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import math
import mimetypes
import socket
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

import requests
from sqlalchemy.exc import SQLAlchemyError

from bot.channels.rest_access import token_headers
from dialogue.content import Content, load_content
from lotse import log_redaction
from lotse.ops_routes import PATHS as OPS_PATHS
from lotse.ops_routes import metrics_allowed, ops_reply
from lotse.rate_limit import Bucket, TokenBucket
from lotse.readiness import Readiness, database_check
from lotse.settings import (
    IP_RATE,
    ISSUE_RATE,
    ROOT,
    VISITOR_RATE,
    Settings,
    SettingsError,
    load_settings,
)
from lotse.shared_rate_limit import rate_limiter
from website.pages import find_route, render_page
from website.updates import FeedWatcher
from website.visitor_ids import KEY_FILE_NAME, VisitorIds, load_visitor_key
from wiring.services import desk, services

STATIC = Path(__file__).parent / "static"
NO_CHECKS = Readiness()
MAX_BODY_BYTES = 16 * 1024
RASA_TIMEOUT_SECONDS = 30
DATA_DIR = ROOT / "var"
UNKNOWN_VISITOR = {"error": "unknown visitor"}
TOO_MANY = {"error": "too many messages, please wait a moment"}
FOREIGN_ORIGIN = {"error": "this site may not use the chat"}


_session_lock = threading.Lock()
_sessions: list[requests.Session] = []


def rasa_session() -> requests.Session:
    """One keep-alive connection pool to Rasa for all request threads (Rasa sets no
    cookies, so the shared session holds no per-visitor state)."""
    with _session_lock:
        if not _sessions:
            session = requests.Session()
            session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=64))
            _sessions.append(session)
        return _sessions[0]


class Feed(Protocol):
    """What `/api/chat/updates` asks (`website.updates.FeedWatcher`)."""

    def updates(self, conversation_id: str, after: int) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Guard:
    """What `/api/chat*` checks. A limit of None is off; `origins` get CORS headers."""

    visitors: VisitorIds
    # Per visitor: a person types; per IP: an office NAT has many visitors.
    per_visitor: Bucket | None = field(default_factory=lambda: TokenBucket(VISITOR_RATE))
    per_ip: Bucket | None = field(default_factory=lambda: TokenBucket(IP_RATE))
    issuing: Bucket | None = field(default_factory=lambda: TokenBucket(ISSUE_RATE))
    origins: frozenset[str] = frozenset()
    trusted_proxies: frozenset[ipaddress.IPv4Address | ipaddress.IPv6Address] = frozenset()


def load_guard(settings: Settings, data_dir: Path) -> Guard:
    """The guard the settings describe: the visitor id key (LOTSE_VISITOR_KEY, else
    `data_dir`/visitor.key), the rate limits, the origins and the trusted proxies.
    Raises SettingsError (a key file that cannot be used)."""
    limits, web = settings.limits, settings.web
    return Guard(
        visitors=VisitorIds(load_visitor_key(web.visitor_key, data_dir / KEY_FILE_NAME)),
        per_visitor=rate_limiter(limits.per_visitor, settings, "visitor"),
        per_ip=rate_limiter(limits.per_ip, settings, "ip"),
        issuing=rate_limiter(limits.issuing, settings, "issue"),
        origins=web.site_origins,
        trusted_proxies=web.trusted_proxies,
    )


def _ip_key(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """The rate limit key of an address: IPv6 by its /64 (one household or host may
    hold all of it), IPv4 (also IPv4-mapped) as it is."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class SiteHandler(BaseHTTPRequestHandler):
    server_version = "LotseDemo"

    def __init__(
        self,
        *args: object,
        content: Content,
        rasa_url: str,
        feed: Feed,
        guard: Guard,
        readiness: Readiness = NO_CHECKS,
        metrics_token: str | None = None,
        **kwargs: object,
    ) -> None:
        self.readiness = readiness
        self.metrics_token = metrics_token
        self.content = content
        self.rasa_url = rasa_url
        self.feed = feed
        self.guard = guard
        self.cors_origin: str | None = None  # set for a listed Origin on /api/chat*
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def setup(self) -> None:
        super().setup()
        # Headers and body go out as two writes: without this, Nagle's algorithm holds
        # the body until the client's delayed ACK (up to 40 ms per response).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Requests are not logged: paths and bodies may carry visitor data."""

    def _send(
        self, status: int, body: bytes, content_type: str, headers: Mapping[str, str] = {}
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        for name, value in {**self._cors_headers(), **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload: object, headers: Mapping[str, str] = {}) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json", headers)

    # ------------------------------------------------------------ origin, IP, limits

    def _cors_headers(self) -> dict[str, str]:
        if self.cors_origin is None:
            return {}
        return {
            "Access-Control-Allow-Origin": self.cors_origin,
            "Access-Control-Expose-Headers": "Retry-After",
            "Vary": "Origin",
        }

    def _check_origin(self) -> bool:
        """Sets `cors_origin` for a listed Origin; False for a browser request from an
        origin that is neither listed nor this site (by its Host header)."""
        origin = (self.headers.get("Origin") or "").strip().lower()
        if not origin:
            return True  # not a browser's cross-site request
        if origin in self.guard.origins:
            self.cors_origin = origin
            return True
        host = (self.headers.get("Host") or "").strip().lower()
        return bool(host) and urlsplit(origin).netloc == host

    def _client_ip(self) -> str:
        """The socket peer; behind a trusted proxy, the last X-Forwarded-For hop (the
        address that proxy saw; earlier hops are whatever the client wrote)."""
        peer = ipaddress.ip_address(self.client_address[0])
        if peer in self.guard.trusted_proxies:
            hops = ",".join(self.headers.get_all("X-Forwarded-For") or []).split(",")
            try:
                return _ip_key(ipaddress.ip_address(hops[-1].strip()))
            except ValueError:
                pass
        return _ip_key(peer)

    def _over_limit(self, bucket: Bucket | None, key: str) -> bool:
        """Takes a token; when there is none, answers 429 and returns True."""
        wait = bucket.take(key) if bucket is not None else 0.0
        if wait <= 0:
            return False
        self._json(HTTPStatus.TOO_MANY_REQUESTS, TOO_MANY, {"Retry-After": str(math.ceil(wait))})
        return True

    # ------------------------------------------------------------------------ routes

    def do_OPTIONS(self) -> None:  # noqa: N802
        """CORS preflights, answered only for the origins in LOTSE_SITE_ORIGINS."""
        path = self.path.partition("?")[0]
        if not path.startswith("/api/chat"):
            return self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})
        self._check_origin()
        if self.cors_origin is None:
            return self._json(HTTPStatus.FORBIDDEN, FOREIGN_ORIGIN)
        self.send_response(HTTPStatus.NO_CONTENT)
        for name, value in self._cors_headers().items():
            self.send_header(name, value)
        self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "Content-Type")
        self.send_header("Access-Control-Max-Age", "600")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:  # noqa: N802
        path, _, query = self.path.partition("?")
        if path in OPS_PATHS:
            peer, given = self.client_address[0], self.headers.get("Authorization")
            allowed = lambda: metrics_allowed(peer, given, self.metrics_token)  # noqa: E731
            reply = ops_reply(path, self.readiness, allowed)
            return self._send(reply.status, reply.body, reply.content_type)
        if path == "/api/chat/updates":
            self._check_origin()  # a foreign page gets no CORS headers, so cannot read
            return self._updates(parse_qs(query))
        if path.startswith("/static/"):
            return self._static(path.removeprefix("/static/"))
        route = find_route(path)
        if route is None:
            return self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain; charset=utf-8")
        page = render_page(route, self.content).encode()
        self._send(HTTPStatus.OK, page, "text/html; charset=utf-8")

    def _updates(self, query: dict[str, list[str]]) -> None:
        if self._over_limit(self.guard.per_ip, f"updates {self._client_ip()}"):
            return None
        sender = self.guard.visitors.verify((query.get("sender") or [""])[0])
        if sender is None:
            return self._json(HTTPStatus.FORBIDDEN, UNKNOWN_VISITOR)
        after = (query.get("after") or ["0"])[0]
        if not (after.isascii() and after.isdigit()):
            return self._json(HTTPStatus.BAD_REQUEST, {"error": "after must be a number"})
        if self._over_limit(self.guard.per_visitor, f"updates {sender}"):
            return None
        try:
            self._json(HTTPStatus.OK, self.feed.updates(sender, int(after)))
        except SQLAlchemyError:
            self._json(HTTPStatus.SERVICE_UNAVAILABLE, {"error": "updates are not available"})

    def _static(self, name: str) -> None:
        file = (STATIC / name).resolve()
        if file.parent != STATIC.resolve() or not file.is_file():
            return self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain; charset=utf-8")
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        self._send(HTTPStatus.OK, file.read_bytes(), kind)

    def do_POST(self) -> None:  # noqa: N802
        path = self.path.partition("?")[0]
        if path not in ("/api/chat", "/api/chat/visitor"):
            return self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})
        declared = (self.headers.get("Content-Length") or "0").strip()
        if not (declared.isascii() and declared.isdigit()):
            return self._json(HTTPStatus.BAD_REQUEST, {"error": "invalid Content-Length"})
        length = int(declared)
        if length > MAX_BODY_BYTES or (length == 0 and path == "/api/chat"):
            return self._json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "message too large"})
        raw = self.rfile.read(length)  # read before any answer: the client is still sending
        if not self._check_origin():
            return self._json(HTTPStatus.FORBIDDEN, FOREIGN_ORIGIN)
        if path == "/api/chat/visitor":
            return self._issue()
        try:
            body = json.loads(raw)
        except ValueError:
            return self._json(HTTPStatus.BAD_REQUEST, {"error": "invalid JSON"})
        if not isinstance(body, dict):
            return self._json(HTTPStatus.BAD_REQUEST, {"error": "expected a JSON object"})
        self._chat(body)

    def _issue(self) -> None:
        if self._over_limit(self.guard.issuing, self._client_ip()):
            return
        self._json(HTTPStatus.OK, {"visitor_id": self.guard.visitors.issue()})

    def _chat(self, body: dict) -> None:
        if self._over_limit(self.guard.per_ip, f"chat {self._client_ip()}"):
            return
        sender = self.guard.visitors.verify(body.get("sender"))
        if sender is None:
            return self._json(HTTPStatus.FORBIDDEN, UNKNOWN_VISITOR)
        if self._over_limit(self.guard.per_visitor, f"chat {sender}"):
            return
        # Only Rasa REST's own keys, with the verified sender as the visitor id: never a
        # client's other id, and no `input_channel` posing as another channel.
        metadata = body.get("metadata")
        metadata = {**metadata} if isinstance(metadata, dict) else {}
        metadata["visitor_id"] = sender
        forwarded: dict[str, object] = {"sender": sender, "metadata": metadata}
        if "message" in body:
            forwarded["message"] = body["message"]
        self._forward(forwarded)

    def _forward(self, body: dict) -> None:
        try:
            reply = rasa_session().post(
                f"{self.rasa_url}/webhooks/rest/webhook", json=body, timeout=RASA_TIMEOUT_SECONDS,
                headers=token_headers(load_settings()),  # Rasa's REST channel is not public
            )  # fmt: skip
            if reply.status_code in (HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.SERVICE_UNAVAILABLE):
                # Rasa's "wait a moment" and "send it again" reach the widget as they are.
                wait = (
                    {"Retry-After": reply.headers["Retry-After"]}
                    if "Retry-After" in reply.headers
                    else {}
                )
                return self._json(reply.status_code, reply.json(), wait)
            reply.raise_for_status()
            self._json(HTTPStatus.OK, reply.json())
        except (requests.RequestException, ValueError):
            self._json(HTTPStatus.BAD_GATEWAY, {"error": "the assistant is not reachable"})


class SiteServer(ThreadingHTTPServer):
    # The standard library's backlog of 5 resets connections when dozens of visitors
    # (and their long polls) connect at the same moment.
    request_queue_size = 128


def make_server(
    host: str, port: int, rasa_url: str, guard: Guard | None = None, feed: Feed | None = None
) -> ThreadingHTTPServer:
    """The site; `guard` defaults to `load_guard` on the settings and `var/`, `feed`
    to a `FeedWatcher` on the handoff desk."""
    guard = guard or load_guard(load_settings(), DATA_DIR)
    feed = feed or FeedWatcher(desk())
    readiness = Readiness({"database": database_check(lambda: services().engine)})
    handler = partial(
        SiteHandler, content=load_content(), rasa_url=rasa_url, feed=feed, guard=guard,
        readiness=readiness, metrics_token=load_settings().secrets.metrics_token,
    )  # fmt: skip
    server = SiteServer((host, port), handler)
    server.daemon_threads = True
    return server


def main() -> None:
    try:
        settings = load_settings()
    except SettingsError as error:
        sys.exit(f"website: {error}")
    parser = argparse.ArgumentParser(description="Serve the Nordwerk demo site with the chat.")
    parser.add_argument("--host", default=settings.host)
    parser.add_argument("--port", type=int, default=settings.web_port)
    parser.add_argument("--rasa-url", default=settings.rasa_url)
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR, help="where visitor.key is kept")
    args = parser.parse_args()
    log_redaction.install()
    try:
        guard = load_guard(settings, args.data_dir)
    except SettingsError as error:
        sys.exit(f"website: {error}")
    server = make_server(args.host, args.port, args.rasa_url, guard)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
