"""Kept connections from the Rasa server to its endpoints (the action server above all).

Rasa 3.6 opens a new `aiohttp.ClientSession`, and so a new TCP connection, for every
request to an endpoint (`EndpointConfig.request`: `async with self.session()`), which
is two connections per new conversation's first turn (the session start and the
action) and a tenth of the Rasa process's CPU under load. `install()` makes
`EndpointConfig.session` lend one session per event loop and endpoint setting instead,
which keeps its connections open between requests. A lent session is not closed when
the `async with` block ends; `close_all()` closes them when the server stops.

Connections are kept for KEEPALIVE_SECONDS after a request, less than the five seconds
Sanic's servers (the action server's) keep an idle connection, so a request never goes
out on a connection the server is closing.
"""

from __future__ import annotations

import asyncio
import weakref
from types import TracebackType
from typing import Any

import aiohttp
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

KEEPALIVE_SECONDS = 2.0
# Per event loop: the sessions by endpoint setting (headers and credentials).
_sessions: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class Lent:
    """`async with endpoint.session() as session`: the kept session, left open."""

    def __init__(self, endpoint: EndpointConfig) -> None:
        self.endpoint = endpoint

    async def __aenter__(self) -> aiohttp.ClientSession:
        return kept_session(self.endpoint)

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


def _setting(endpoint: EndpointConfig) -> tuple:
    auth = endpoint.basic_auth or {}
    return (
        tuple(sorted((endpoint.headers or {}).items())),
        auth.get("username"),
        auth.get("password"),
    )


def kept_session(endpoint: EndpointConfig) -> aiohttp.ClientSession:
    """The running loop's session for the endpoint's headers and credentials."""
    loop = asyncio.get_running_loop()
    sessions = _sessions.setdefault(loop, {})
    key = _setting(endpoint)
    session = sessions.get(key)
    if session is None or session.closed:
        session = sessions[key] = _new_session(endpoint)
    return session


def _new_session(endpoint: EndpointConfig) -> aiohttp.ClientSession:
    auth = endpoint.basic_auth
    return aiohttp.ClientSession(
        headers=endpoint.headers,
        auth=aiohttp.BasicAuth(auth["username"], auth["password"]) if auth else None,
        timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
        connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS),
    )


def _lend(self: EndpointConfig) -> Any:
    return Lent(self)


async def close_all(*_args: Any) -> None:
    """Closes the running loop's kept sessions (a server's `before_server_stop`)."""
    sessions = _sessions.pop(asyncio.get_running_loop(), {})
    for session in sessions.values():
        await session.close()


def install() -> None:
    EndpointConfig.session = _lend  # type: ignore[method-assign]
