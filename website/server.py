"""The demo website: Nordwerk's product pages with the chat widget.

Serves the pages of `website.pages`, the widget's static files, `/api/chat`, a
thin proxy to Rasa's REST channel so the browser talks to one origin only, and
`/api/chat/updates`, what a person in the staff console says (`website.updates`). Request
bodies are bounded and never logged. Standard library HTTP server; one thread per
request.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import socket
import threading
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import requests
from sqlalchemy.exc import SQLAlchemyError

from bot.channels.rest import clean_sender
from bot.content import Content, load_content
from handoff.wiring import desk
from lotse import log_redaction
from lotse.settings import load_settings
from website.pages import find_route, render_page
from website.updates import FeedWatcher

STATIC = Path(__file__).parent / "static"
MAX_BODY_BYTES = 16 * 1024
RASA_TIMEOUT_SECONDS = 30


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


class SiteHandler(BaseHTTPRequestHandler):
    server_version = "LotseDemo"

    def __init__(
        self, *args: object, content: Content, rasa_url: str, feed: FeedWatcher, **kwargs: object
    ) -> None:
        self.content = content
        self.rasa_url = rasa_url
        self.feed = feed
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def setup(self) -> None:
        super().setup()
        # Headers and body go out as two writes: without this, Nagle's algorithm holds
        # the body until the client's delayed ACK (up to 40 ms per response).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Requests are not logged: paths and bodies may carry visitor data."""

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload: object) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json")

    def do_GET(self) -> None:  # noqa: N802
        path, _, query = self.path.partition("?")
        if path == "/api/chat/updates":
            return self._updates(parse_qs(query))
        if path.startswith("/static/"):
            return self._static(path.removeprefix("/static/"))
        route = find_route(path)
        if route is None:
            return self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain; charset=utf-8")
        page = render_page(route, self.content).encode()
        self._send(HTTPStatus.OK, page, "text/html; charset=utf-8")

    def _updates(self, query: dict[str, list[str]]) -> None:
        sender = clean_sender((query.get("sender") or [""])[0])
        after = (query.get("after") or ["0"])[0]
        if sender is None or not after.isdigit():
            return self._json(HTTPStatus.BAD_REQUEST, {"error": "sender and after are required"})
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
        if self.path != "/api/chat":
            return self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})
        length = int(self.headers.get("Content-Length") or 0)
        if length <= 0 or length > MAX_BODY_BYTES:
            return self._json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "message too large"})
        try:
            body = json.loads(self.rfile.read(length))
        except ValueError:
            return self._json(HTTPStatus.BAD_REQUEST, {"error": "invalid JSON"})
        if not isinstance(body, dict):
            return self._json(HTTPStatus.BAD_REQUEST, {"error": "expected a JSON object"})
        self._forward(body)

    def _forward(self, body: dict) -> None:
        try:
            reply = rasa_session().post(
                f"{self.rasa_url}/webhooks/rest/webhook", json=body, timeout=RASA_TIMEOUT_SECONDS
            )
            reply.raise_for_status()
            self._json(HTTPStatus.OK, reply.json())
        except (requests.RequestException, ValueError):
            self._json(HTTPStatus.BAD_GATEWAY, {"error": "the assistant is not reachable"})


class SiteServer(ThreadingHTTPServer):
    # The standard library's backlog of 5 resets connections when dozens of visitors
    # (and their long polls) connect at the same moment.
    request_queue_size = 128


def make_server(host: str, port: int, rasa_url: str) -> ThreadingHTTPServer:
    feed = FeedWatcher(desk())
    handler = partial(SiteHandler, content=load_content(), rasa_url=rasa_url, feed=feed)
    server = SiteServer((host, port), handler)
    server.daemon_threads = True
    return server


def main() -> None:
    settings = load_settings()
    parser = argparse.ArgumentParser(description="Serve the Nordwerk demo site with the chat.")
    parser.add_argument("--host", default=settings.host)
    parser.add_argument("--port", type=int, default=settings.web_port)
    parser.add_argument("--rasa-url", default=settings.rasa_url)
    args = parser.parse_args()
    log_redaction.install()
    server = make_server(args.host, args.port, args.rasa_url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
