"""Tiny local servers for notification tests: SMTP and an HTTP webhook.

Each runs in a daemon thread on 127.0.0.1 with an ephemeral port, records what it
receives, and is used as a context manager. Each server records a request before it
answers, so a client that got its answer can read the record without waiting.
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

Served = TypeVar("Served", bound="ServedInThread")


class ServedInThread:
    """Runs a fake's server in a daemon thread while the fake is used as a context
    manager. `_released` is set before the server shuts down (it cuts scripted hangs
    short)."""

    def _serve(
        self, server: socketserver.BaseServer, released: threading.Event | None = None
    ) -> None:
        self._server = server
        self._released = released or threading.Event()
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self: Served) -> Served:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def unused_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---------------------------------------------------------------------------- SMTP


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_to: list[str]
    data: bytes  # the message as sent, dot-stuffing removed, CRLF line ends


@dataclass
class _SmtpScript:
    refuse: dict[str, str] = field(default_factory=dict)  # address -> full reply line
    data_reply: str = "250 2.0.0 queued"
    greeting: str = "220 fake.smtp.test ESMTP"


class _SmtpHandler(socketserver.StreamRequestHandler):
    server: _SmtpTcpServer

    def handle(self) -> None:
        script = self.server.script
        self._reply(script.greeting)
        if not script.greeting.startswith("220"):
            return
        mail_from: str | None = None
        rcpt_to: list[str] = []
        while True:
            line = self.rfile.readline(4096)
            if not line:
                return
            command, _, argument = line.decode("utf-8", "replace").rstrip("\r\n").partition(" ")
            self.server.commands.append(command.upper())
            verb = command.upper()
            if verb == "EHLO":
                self._reply("250-fake.smtp.test\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 HELP")
            elif verb == "HELO":
                self._reply("250 fake.smtp.test")
            elif verb == "MAIL":
                mail_from, rcpt_to = _path(argument), []
                self._reply("250 2.1.0 ok")
            elif verb == "RCPT":
                if mail_from is None:
                    self._reply("503 5.5.1 MAIL first")
                    continue
                address = _path(argument)
                if address in script.refuse:
                    self._reply(script.refuse[address])
                else:
                    rcpt_to.append(address)
                    self._reply("250 2.1.5 ok")
            elif verb == "DATA":
                if mail_from is None or not rcpt_to:
                    self._reply("503 5.5.1 no valid recipients")
                    continue
                self._reply("354 end data with <CR><LF>.<CR><LF>")
                data = self._read_data()
                if data is None:
                    return
                if script.data_reply.startswith("250"):
                    with self.server.lock:
                        self.server.received.append(ReceivedMail(mail_from, rcpt_to, data))
                self._reply(script.data_reply)
                mail_from, rcpt_to = None, []
            elif verb == "RSET":
                mail_from, rcpt_to = None, []
                self._reply("250 2.0.0 ok")
            elif verb == "NOOP":
                self._reply("250 2.0.0 ok")
            elif verb == "QUIT":
                self._reply("221 2.0.0 bye")
                return
            else:
                self._reply("502 5.5.2 command not implemented")

    def _read_data(self) -> bytes | None:
        lines: list[bytes] = []
        while True:
            line = self.rfile.readline(65536)
            if not line:
                return None
            if line == b".\r\n":
                return b"".join(lines)
            lines.append(line[1:] if line.startswith(b".") else line)

    def _reply(self, text: str) -> None:
        self.wfile.write(text.encode("utf-8") + b"\r\n")
        self.wfile.flush()


def _path(argument: str) -> str:
    """`FROM:<a@b> SIZE=12` -> `a@b`."""
    _, _, rest = argument.partition(":")
    rest = rest.strip()
    if rest.startswith("<"):
        return rest[1 : rest.index(">")]
    return rest.split(" ")[0]


class _SmtpTcpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, script: _SmtpScript) -> None:
        super().__init__(("127.0.0.1", 0), _SmtpHandler)
        self.script = script
        self.received: list[ReceivedMail] = []
        self.commands: list[str] = []
        self.lock = threading.Lock()


class FakeSmtpServer(ServedInThread):
    """An SMTP server that stores accepted messages in `received`.

    `refuse` maps recipient addresses to the reply they get (e.g. "550 5.1.1 unknown");
    `data_reply` is the answer after DATA (e.g. "451 4.3.0 try later").
    """

    def __init__(
        self,
        refuse: dict[str, str] | None = None,
        data_reply: str = "250 2.0.0 queued",
        greeting: str = "220 fake.smtp.test ESMTP",
    ) -> None:
        self._serve(_SmtpTcpServer(_SmtpScript(refuse or {}, data_reply, greeting)))

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def received(self) -> list[ReceivedMail]:
        with self._server.lock:
            return list(self._server.received)

    @property
    def commands(self) -> list[str]:
        return list(self._server.commands)


# ---------------------------------------------------------------------------- HTTP


@dataclass(frozen=True)
class Reply:
    """One scripted answer; `hang` seconds of silence first (cut short on shutdown)."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    hang: float = 0.0


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class _WebhookHandler(BaseHTTPRequestHandler):
    server: _WebhookHttpServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        with self.server.lock:
            self.server.received.append(
                ReceivedRequest("POST", self.path, dict(self.headers.items()), body)
            )
            reply = self.server.script.pop(0) if self.server.script else Reply()
        if reply.hang and self.server.released.wait(reply.hang):
            return
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output quiet


class _WebhookHttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, script: list[Reply]) -> None:
        super().__init__(("127.0.0.1", 0), _WebhookHandler)
        self.script = script
        self.received: list[ReceivedRequest] = []
        self.lock = threading.Lock()
        self.released = threading.Event()


class FakeWebhookServer(ServedInThread):
    """An HTTP server answering POSTs from a script of `Reply`s (then 200 "ok")."""

    def __init__(self, *script: Reply) -> None:
        server = _WebhookHttpServer(list(script))
        self._serve(server, server.released)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/T000/B000/secret-token"

    @property
    def received(self) -> list[ReceivedRequest]:
        with self._server.lock:
            return list(self._server.received)


# ------------------------------------------------------------- fake CRM APIs (shared)


class FakeApiServer(ThreadingHTTPServer):
    """The HTTP server under a fake CRM API: 127.0.0.1, an ephemeral port, one thread
    per connection; its handler reaches the fake's state as `self.server.fake`."""

    daemon_threads = True

    def __init__(self, fake: Any, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.fake = fake


class QuietJsonHandler(BaseHTTPRequestHandler):
    """Keep-alive, no Nagle delay (headers and body are two writes: without it each
    answer waits ~40 ms for a delayed ACK), JSON answers, nothing printed."""

    server: FakeApiServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def send_json(self, status: int, headers: dict[str, str], body: Any) -> None:
        data = b"" if status == 204 or body is None else json.dumps(body).encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output quiet
