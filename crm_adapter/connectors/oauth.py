"""OAuth2 client-credentials tokens (Microsoft Entra ID) for a CRM connector.

`ClientCredentials.token()` POSTs `grant_type=client_credentials`, the client id, the
client secret and the scope, form-encoded, to the token URL
(`https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token`) and expects
`{"token_type": "Bearer", "expires_in": 3599, "access_token": "..."}`.

Caching: one token per instance, reused until 60 s before it expires (or half its
lifetime, for short-lived tokens), by the injectable `clock`. A lock makes the fetch
happen once when several worker threads need a token at the same moment.
`invalidate(token)` drops the cached token after the API refused it (401); it is a no-op
when another thread already replaced that token.

Errors (those of `crm_adapter.delivery`): `DeliveryAuthError` when the token endpoint
refuses us (400, 401, 403: wrong client id, secret, tenant or scope; the message holds
Entra's error code such as `invalid_client` and its AADSTS number, nothing else);
`RetryableDeliveryError` for timeouts, refused connections, 408, 429, 5xx and an answer
without a token. The secret and the token appear in no message and no repr.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests

from crm_adapter.delivery import (
    TIMEOUT_SECONDS,
    DeliveryAuthError,
    RetryableDeliveryError,
    call,
    raise_for,
)

REFRESH_MARGIN_SECONDS = 60.0
_CODE = re.compile(r"^[a-z_]{1,64}$")
_AADSTS = re.compile(r"\bAADSTS\d{1,10}\b")


class TokenSource(Protocol):
    def token(self) -> str:
        """A bearer token that is valid now."""

    def invalidate(self, token: str) -> None:
        """Forget `token` (the API refused it); the next `token()` fetches a new one."""


@dataclass
class ClientCredentials:
    """Bearer tokens for one app registration; thread-safe. `what` names the CRM in
    error messages (e.g. "Dynamics")."""

    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    scope: str
    session: requests.Session = field(default_factory=requests.Session, repr=False)
    timeout: float = TIMEOUT_SECONDS
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    what: str = "Dynamics"
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _token: str | None = field(default=None, init=False, repr=False)
    _refresh_at: float = field(default=0.0, init=False, repr=False)

    def token(self) -> str:
        with self._lock:
            if self._token is None or self.clock() >= self._refresh_at:
                self._token, self._refresh_at = self._fetch()
            return self._token

    def invalidate(self, token: str) -> None:
        with self._lock:
            if self._token == token:
                self._token = None

    def _fetch(self) -> tuple[str, float]:
        what = f"{self.what}: fetching an access token"
        started = self.clock()
        form = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "scope": self.scope,
        }
        reply = call(self.session, "POST", self.token_url, what, self.timeout, data=form,
                     headers={"Accept": "application/json"})  # fmt: skip
        if reply.status_code in (400, 401, 403):
            raise DeliveryAuthError(
                f"{what}: refused ({reply.status_code}{_reason(reply)}); check the tenant, "
                "client id, client secret and scope"
            )
        raise_for(reply, what)
        access_token, lifetime = _parse(reply, what)
        return access_token, started + max(lifetime - REFRESH_MARGIN_SECONDS, lifetime / 2)


def _parse(reply: requests.Response, what: str) -> tuple[str, float]:
    try:
        document: Any = reply.json()
        access_token = document["access_token"]
        lifetime = float(document["expires_in"])
        kind = str(document.get("token_type", "Bearer"))
    except (ValueError, KeyError, TypeError):
        raise RetryableDeliveryError(f"{what}: the answer holds no usable token") from None
    if not isinstance(access_token, str) or not access_token or lifetime <= 0:
        raise RetryableDeliveryError(f"{what}: the answer holds no usable token")
    if kind.lower() != "bearer":
        raise DeliveryAuthError(f"{what}: the token is not a bearer token")
    return access_token, lifetime


def _reason(reply: requests.Response) -> str:
    """ ", invalid_client AADSTS7000215" from Entra's error body; never the description
    text itself (it may quote the app or the tenant)."""
    try:
        document = reply.json()
        code = str(document.get("error", ""))
        description = str(document.get("error_description", ""))
    except (ValueError, AttributeError):
        return ""
    found = [code] if _CODE.match(code) else []
    found += _AADSTS.findall(description)[:1]
    return f", {' '.join(found)}" if found else ""
