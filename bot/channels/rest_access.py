"""Who may use Rasa's REST channel: the website's proxy and Lotse's own scripts.

Rasa serves the REST channel on the port the messenger webhooks make public, and the
channel takes any sender and metadata: whoever reaches it could skip the website's
signed visitor ids and rate limits (docs/website_security.md). So a request passes
only with

- the shared secret in `X-Lotse-Rest-Token` (LOTSE_REST_TOKEN; `lotse run` makes one
  per run and gives it to the website's proxy), compared in constant time; or
- (LOTSE_REST_ACCESS=local, the default) a connection from this machine that no proxy
  forwarded: the socket peer is a loopback address, and the request names no other
  client. Lotse's balancer appends the address it was connected from to
  `X-Forwarded-For`, so a request that came to the balancer from elsewhere carries that
  address and needs the token; a client's own `X-Forwarded-For` stays in front of it,
  so a forged "127.0.0.1" proves nothing. `X-Real-IP`, `Forwarded`, `Via` and similar
  headers (other proxies') always count as forwarded.

A reverse proxy on the same machine that adds none of these headers is
indistinguishable from a local script: behind such a proxy, set
LOTSE_REST_ACCESS=token. Refusals are 401 (no token) and 403 (a wrong one); the
caller's address is personal data and is not logged.

`token_headers` is the other side: what a client (the website's proxy) sends.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field

from lotse.settings import Settings

TOKEN_HEADER = "X-Lotse-Rest-Token"
# Headers a proxy adds; only X-Forwarded-For, whose every hop is loopback, stays local.
PROXY_HEADERS = ("x-real-ip", "forwarded", "via", "x-forwarded-host", "x-client-ip",
                 "x-cluster-client-ip", "true-client-ip", "cf-connecting-ip",
                 "fastly-client-ip", "x-original-forwarded-for")  # fmt: skip


def _loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def is_local(peer: str, headers: Mapping[str, str]) -> bool:
    """True for a connection from this machine that names no other client."""
    if not _loopback(peer or ""):
        return False
    pairs = [(name.lower(), value) for name, value in headers.items()]
    if any(name in PROXY_HEADERS for name, _ in pairs):
        return False
    # Every X-Forwarded-For line counts (a multi-dict's items give each of them).
    hops = [hop for name, value in pairs if name == "x-forwarded-for" for hop in value.split(",")]
    return all(_loopback(hop) for hop in hops)


@dataclass(frozen=True)
class RestAccess:
    token: str = field(repr=False)
    local: bool  # this machine's unforwarded connections need no token

    @classmethod
    def of(cls, settings: Settings) -> RestAccess:
        return cls(settings.rest_token, settings.rest_access == "local")

    def refusal(self, peer: str, headers: Mapping[str, str]) -> int | None:
        """None when the request may pass; else its status: 401 (no token), 403 (wrong)."""
        given = next((v for k, v in headers.items() if k.lower() == TOKEN_HEADER.lower()), "")
        if given:
            if self.token and hmac.compare_digest(given.encode(), self.token.encode()):
                return None
            return 403
        if self.local and is_local(peer, headers):
            return None
        return 401


def token_headers(settings: Settings) -> dict[str, str]:
    """The header a client of the REST channel sends, if a token is configured."""
    return {TOKEN_HEADER: settings.rest_token} if settings.rest_token else {}
