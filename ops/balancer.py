"""`python -m ops.balancer --listen HOST:PORT=B1,B2 ...`: a small HTTP load balancer.

The scaled profile (`lotse run --scaled`) puts one in front of the Rasa replicas and
one in front of the action servers. Each request goes to the next backend in turn
(round robin); the conversation's state is in the shared stores, so any replica can
take any message. A backend that refuses the connection is skipped for
`DOWN_SECONDS` and the request goes to the next one: nothing was sent, so this is
always safe. A backend that dies while it holds a request answers 502 and is not
retried here: the request may have had effects (an action ran), so the client decides.
Upstream connections are not kept alive, so a killed backend never leaves a dead
pooled connection that a fresh request would fail on. Like any proxy, it appends the
address it was connected from to `X-Forwarded-For` (a client's own value stays in
front of it): Rasa's REST channel serves requests without its token only to this
machine (`bot.channels.rest_access`), and behind the balancer every request would
otherwise come from this machine.

Bodies and paths are not logged: they carry what visitors wrote.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web
from yarl import URL

from lotse import log_redaction

DOWN_SECONDS = 2.0
UPSTREAM_TIMEOUT_SECONDS = 330  # Rasa's own wait for an action server is 300 s
MAX_BODY_BYTES = 1024 * 1024
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
     "trailers", "transfer-encoding", "upgrade", "host", "content-length"}
)  # fmt: skip
log = logging.getLogger(__name__)


@dataclass
class Backends:
    """The backends of one listener, taken in turn; one that refused is rested."""

    urls: list[str]
    clock: Callable[[], float] = time.monotonic
    _next: int = 0
    _down_until: dict[str, float] = field(default_factory=dict)

    def order(self) -> list[str]:
        """Every backend once, starting with the next in turn; rested ones last."""
        start = self._next
        self._next = (self._next + 1) % len(self.urls)
        turn = self.urls[start:] + self.urls[:start]
        now = self.clock()
        up = [url for url in turn if self._down_until.get(url, 0.0) <= now]
        return up + [url for url in turn if url not in up]

    def refused(self, url: str) -> bool:
        """Rests `url`; True when it was taken as up until now (worth a log line)."""
        was_up = url not in self._down_until
        self._down_until[url] = self.clock() + DOWN_SECONDS
        return was_up

    def answered(self, url: str) -> None:
        self._down_until.pop(url, None)


def _forwarded_headers(headers: dict[str, str] | object) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}  # type: ignore[attr-defined]


def _with_client(headers: dict[str, str], hops: list[str], client: str | None) -> dict[str, str]:
    """`headers` with X-Forwarded-For: the `hops` the client sent, then `client` (the
    socket peer)."""
    rest = {k: v for k, v in headers.items() if k.lower() != "x-forwarded-for"}
    return {**rest, "X-Forwarded-For": ", ".join([*hops, client or "unknown"])}


def make_app(backends: Backends) -> web.Application:
    session: dict[str, aiohttp.ClientSession] = {}

    async def open_session(_app: web.Application) -> None:
        session["client"] = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(force_close=True, limit=0),
            timeout=aiohttp.ClientTimeout(total=UPSTREAM_TIMEOUT_SECONDS),
            auto_decompress=False,
        )

    async def close_session(_app: web.Application) -> None:
        await session["client"].close()

    async def forward(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        hops = request.headers.getall("X-Forwarded-For", [])
        headers = _with_client(_forwarded_headers(request.headers), hops, request.remote)
        for url in backends.order():
            try:
                target = URL(url + request.raw_path, encoded=True)  # as the client wrote it
                async with session["client"].request(
                    request.method, target, headers=headers, data=body, allow_redirects=False
                ) as upstream:
                    payload = await upstream.read()
                    backends.answered(url)
                    return web.Response(
                        status=upstream.status, body=payload,
                        headers=_forwarded_headers(upstream.headers),
                    )  # fmt: skip
            except aiohttp.ClientConnectorError:
                if backends.refused(url):  # nothing was sent: the next backend takes it
                    log.warning("balancer: backend %s refused; trying the next", url)
            except (aiohttp.ClientError, asyncio.TimeoutError):
                log.warning("balancer: backend %s failed while holding a request", url)
                return web.json_response({"error": "the server failed, try again"}, status=502)
        return web.json_response({"error": "no server is available"}, status=503)

    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app.on_startup.append(open_session)
    app.on_cleanup.append(close_session)
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


def parse_listen(spec: str) -> tuple[str, int, list[str]]:
    """`HOST:PORT=http://b1,http://b2` -> (host, port, backends)."""
    address, _, targets = spec.partition("=")
    host, _, port = address.rpartition(":")
    urls = [url.strip().rstrip("/") for url in targets.split(",") if url.strip()]
    if not host or not port.isdigit() or not urls:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT=URL[,URL...], got {spec!r}")
    return host, int(port), urls


async def serve(listeners: list[tuple[str, int, list[str]]]) -> None:
    runners = []
    for host, port, urls in listeners:
        runner = web.AppRunner(make_app(Backends(urls)), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, port, backlog=512).start()
        runners.append(runner)
        log.info("balancer on http://%s:%d -> %d backends", host, port, len(urls))
    try:
        await asyncio.Event().wait()
    finally:
        for runner in runners:
            await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", type=parse_listen, action="append", required=True)
    args = parser.parse_args(argv)
    log_redaction.install()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s - %(message)s"
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.listen))


if __name__ == "__main__":
    main()
