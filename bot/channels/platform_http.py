"""One way to call a messenger platform's HTTP API: timeouts, and one error family.

Every sender (`bot.channels.telegram`, `.facebook`, `.twilio`, `.slack`,
`.botframework`) posts through a `PlatformHttp`. `post` sends one request with a
connect and a read timeout and raises only the errors of `bot.channels.outlet`:

- no connection was made (refused, no such host, connect timeout): `PlatformBusy`;
  nothing reached the platform, so sending again is safe;
- the request went out but no answer came (read timeout, connection lost):
  `DeliveryUnknown`; it is never sent again blindly (it may have arrived).

`Answer.check` turns an HTTP error answer into `PlatformBusy` (429, 408, 5xx: the
platform did not take it and says to try again, with its Retry-After in seconds or
as an HTTP date) or `PlatformRefused` (any other 4xx). Senders add their platform's
own rules (Slack's `ok: false`, Meta's rate-limit codes in a 400).

Blocking (requests): senders call it in a thread. The session's connection pool is
shared by threads. URLs carry tokens (Telegram's path, Meta's query) and bodies carry
what people wrote: neither goes into an error or a log line.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass, field
from typing import Any

import requests
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from bot.channels.outlet import DeliveryUnknown, PlatformBusy, PlatformRefused

CONNECT_SECONDS = 5.0
READ_SECONDS = 20.0
MAX_RETRY_AFTER_SECONDS = 3600.0
BUSY_STATUSES = frozenset({408, 429})


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date); None if
    absent or unreadable; at most MAX_RETRY_AFTER_SECONDS."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: CaseInsensitiveDict
    body: Any  # the JSON answer, or None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def field(self, *path: str) -> Any:
        """A value inside the JSON body (`field("error", "code")`), or None."""
        node = self.body
        for key in path:
            if not isinstance(node, dict):
                return None
            node = node.get(key)
        return node

    def check(self, platform: str, hinted_wait: float | None = None) -> Answer:
        """Itself when 2xx; else PlatformBusy (429, 408, 5xx) or PlatformRefused."""
        if self.ok:
            return self
        reason = f"{platform} answered {self.status}"
        if self.status in BUSY_STATUSES or self.status >= 500:
            wait = retry_after(self.headers.get("Retry-After"))
            raise PlatformBusy(reason, wait if wait is not None else hinted_wait)
        raise PlatformRefused(reason)


def _not_connected(error: requests.ConnectionError) -> bool:
    """True when the connection was never made (so nothing was sent)."""
    cause = error.args[0] if error.args else None
    reason = cause.reason if isinstance(cause, MaxRetryError) else cause
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))


@dataclass
class PlatformHttp:
    """The transport of one platform's sender; see the module docstring."""

    platform: str
    connect_seconds: float = CONNECT_SECONDS
    read_seconds: float = READ_SECONDS
    session: requests.Session = field(default_factory=requests.Session, repr=False)

    def post(
        self, url: str, *, json: Any = None, data: Any = None,
        params: dict[str, str] | None = None, headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> Answer:  # fmt: skip
        """One POST; raises PlatformBusy (not sent) or DeliveryUnknown (no answer)."""
        try:
            reply = self.session.post(
                url, json=json, data=data, params=params, headers=headers, auth=auth,
                timeout=(self.connect_seconds, self.read_seconds), allow_redirects=False,
            )  # fmt: skip
        except requests.ConnectTimeout:
            raise PlatformBusy(f"{self.platform}: no connection (timeout)") from None
        except requests.ConnectionError as error:
            if _not_connected(error):
                raise PlatformBusy(f"{self.platform}: no connection") from None
            raise DeliveryUnknown(f"{self.platform}: the connection was lost") from None
        except requests.Timeout:
            wait = f"{self.read_seconds:g} s"
            raise DeliveryUnknown(f"{self.platform}: no answer in {wait}") from None
        except requests.RequestException as error:
            raise DeliveryUnknown(f"{self.platform}: {type(error).__name__}") from None
        try:
            body = reply.json()
        except ValueError:
            body = None
        return Answer(reply.status_code, reply.headers, body)
