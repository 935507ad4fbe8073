"""The website's way to Rasa: `/api/chat` bodies posted to Rasa's REST channel.

One aiohttp session per site (a keep-alive pool; Rasa sets no cookies, so it holds no
per-visitor state), opened and closed on the site's event loop. Every post has
RASA_TIMEOUT_SECONDS in all and carries the REST channel's token, if one is set
(`bot.channels.rest_access.token_headers`): the channel is not public.

`forward` never raises for Rasa's failures; it answers what the widget is to get:
- Rasa's answer (200);
- Rasa's 429 ("wait a moment") and 503 ("send it again") with their JSON and
  Retry-After, as they are;
- 502 `{"error": "the assistant is not reachable"}` for anything else: no connection,
  the timeout, another error status, a body that is no JSON.
Not idempotent: a post that timed out may have reached Rasa; it is not repeated.
The bodies hold what visitors wrote and are never logged.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus

import aiohttp

RASA_TIMEOUT_SECONDS = 30
POOL_SIZE = 64
PASSED_ON = (HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.SERVICE_UNAVAILABLE)


@dataclass(frozen=True)
class ProxyReply:
    status: int
    payload: object
    headers: Mapping[str, str] = field(default_factory=dict)


UNREACHABLE = ProxyReply(HTTPStatus.BAD_GATEWAY, {"error": "the assistant is not reachable"})


class RasaProxy:
    def __init__(
        self, rasa_url: str, headers: Mapping[str, str] = {},
        timeout: float = RASA_TIMEOUT_SECONDS,
    ) -> None:  # fmt: skip
        self._url = f"{rasa_url}/webhooks/rest/webhook"
        self._headers = dict(headers)
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        """Makes the session; call on the loop that will forward."""
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self._timeout),
            connector=aiohttp.TCPConnector(limit=POOL_SIZE),
            headers=self._headers,
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def forward(self, body: dict[str, object]) -> ProxyReply:
        """Posts `body` to the REST channel; see the module's docstring for the reply."""
        if self._session is None:
            raise RuntimeError("RasaProxy.open() was not called")
        try:
            async with self._session.post(self._url, json=body) as reply:
                raw = await reply.read()
                if reply.status in PASSED_ON:
                    wait = reply.headers.get("Retry-After")
                    headers = {"Retry-After": wait} if wait is not None else {}
                    return ProxyReply(reply.status, json.loads(raw), headers)
                if reply.status >= HTTPStatus.BAD_REQUEST:
                    return UNREACHABLE
                return ProxyReply(HTTPStatus.OK, json.loads(raw))
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
            return UNREACHABLE
