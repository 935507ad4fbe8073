"""Rasa's endpoint requests on kept connections (`bot.kept_connections`): one TCP
connection for many requests, as Rasa's own code makes them, and closed at the end."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator

import pytest
from aiohttp import web
from rasa.utils.endpoints import EndpointConfig

from bot import kept_connections


@pytest.fixture
def kept(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(EndpointConfig, "session", EndpointConfig.session)
    kept_connections.install()
    yield


async def serve(peers: list[object]) -> tuple[web.AppRunner, str]:
    async def webhook(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername"))
        return web.json_response({"events": [], "seen": request.headers.get("X-Token")})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001 - the port it took
    return runner, f"http://127.0.0.1:{port}/webhook"


def against_a_server(check: Callable[[str, list[object]], Awaitable[None]]) -> None:
    """Runs `check(url, peers)` with a server up; closes the kept sessions after it."""

    async def scenario() -> None:
        peers: list[object] = []
        runner, url = await serve(peers)
        try:
            await check(url, peers)
        finally:
            await kept_connections.close_all()
            await runner.cleanup()

    asyncio.run(scenario())


def test_requests_share_one_connection_and_stop_closes_it(kept: None) -> None:
    async def check(url: str, peers: list[object]) -> None:
        endpoint = EndpointConfig(url, headers={"X-Token": "t"})
        answers = [await endpoint.request(json={"n": n}) for n in range(5)]
        assert all(answer == {"events": [], "seen": "t"} for answer in answers)
        assert len(peers) == 5 and len(set(peers)) == 1  # one client port: one connection
        session = kept_connections.kept_session(endpoint)
        assert not session.closed
        await kept_connections.close_all()
        assert session.closed
        assert await endpoint.request(json={}) == {"events": [], "seen": "t"}  # a new one
        assert kept_connections.kept_session(endpoint) is not session

    against_a_server(check)


def test_other_headers_get_their_own_session(kept: None) -> None:
    async def check(url: str, _peers: list[object]) -> None:
        one, other = EndpointConfig(url, headers={"X-Token": "a"}), EndpointConfig(url)
        assert (await one.request(json={}))["seen"] == "a"
        assert (await other.request(json={}))["seen"] is None
        assert kept_connections.kept_session(one) is not kept_connections.kept_session(other)

    against_a_server(check)


def test_a_server_that_closed_its_idle_connection_is_asked_on_a_new_one(kept: None) -> None:
    async def scenario() -> None:
        peers: list[object] = []
        runner, url = await serve(peers)
        endpoint = EndpointConfig(url)
        try:
            await endpoint.request(json={})
            await runner.cleanup()  # the server goes away, and comes back on the same port
            port = int(url.split(":")[2].split("/")[0])
            app = web.Application()

            async def webhook(request: web.Request) -> web.Response:
                peers.append(request.transport.get_extra_info("peername"))
                return web.json_response({"events": []})

            app.router.add_post("/webhook", webhook)
            runner = web.AppRunner(app)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            assert await endpoint.request(json={}) == {"events": []}
        finally:
            await kept_connections.close_all()
            await runner.cleanup()

    asyncio.run(scenario())
