"""What every `/api/chat*` request passes first (docs/website_security.md).

`Guard` holds the visitor id key (`website.visitor_ids`), the token buckets per visitor,
per client address and for issuing ids, the origins that get CORS headers and the
reverse proxies whose X-Forwarded-For is believed. The functions here decide on plain
values (header texts, the socket peer), so they know nothing of the web framework.

Buckets are read through `take(key)` (`lotse.rate_limit.Bucket`): in this process's
memory, or in Redis (`lotse.shared_rate_limit`), whose network round trip `take_token`
runs in a thread so the event loop never waits on it. Client addresses are rate limit
keys only; nothing here logs them.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from lotse.rate_limit import Bucket, TokenBucket
from lotse.settings import IP_RATE, ISSUE_RATE, VISITOR_RATE, Settings
from lotse.shared_rate_limit import rate_limiter
from website.visitor_ids import KEY_FILE_NAME, VisitorIds, load_visitor_key

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Guard:
    """What `/api/chat*` checks. A limit of None is off; `origins` get CORS headers."""

    visitors: VisitorIds
    # Per visitor: a person types; per IP: an office NAT has many visitors.
    per_visitor: Bucket | None = field(default_factory=lambda: TokenBucket(VISITOR_RATE))
    per_ip: Bucket | None = field(default_factory=lambda: TokenBucket(IP_RATE))
    issuing: Bucket | None = field(default_factory=lambda: TokenBucket(ISSUE_RATE))
    origins: frozenset[str] = frozenset()
    trusted_proxies: frozenset[Address] = frozenset()


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


async def take_token(bucket: Bucket | None, key: str) -> float:
    """`bucket.take(key)`: 0.0 to go ahead (also with no bucket), else the seconds to
    wait. A bucket in memory answers at once; any other is asked from a thread."""
    if bucket is None:
        return 0.0
    if isinstance(bucket, TokenBucket):
        return bucket.take(key)
    return await asyncio.to_thread(bucket.take, key)


def ip_key(address: Address) -> str:
    """The rate limit key of an address: IPv6 by its /64 (one household or host may
    hold all of it), IPv4 (also IPv4-mapped) as it is."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def client_ip(guard: Guard, peer: str, forwarded_for: Iterable[str]) -> str:
    """The key of the client's address: the socket `peer`; behind a trusted proxy, the
    last X-Forwarded-For hop (the address that proxy saw; earlier hops are whatever the
    client wrote). `forwarded_for` is every X-Forwarded-For header, in order."""
    address = ipaddress.ip_address(peer)
    if address in guard.trusted_proxies:
        hops = ",".join(forwarded_for).split(",")
        try:
            return ip_key(ipaddress.ip_address(hops[-1].strip()))
        except ValueError:
            pass
    return ip_key(address)


@dataclass(frozen=True)
class OriginVerdict:
    allowed: bool  # False: a browser's request from a foreign page
    cors_origin: str | None = None  # a listed origin, to be named in the CORS headers


def judge_origin(guard: Guard, origin: str | None, host: str | None) -> OriginVerdict:
    """A request without Origin (not a browser's cross-site request) and one from this
    site (the Origin's host is the Host header) are allowed without CORS headers; a
    listed origin is allowed with them; any other is not."""
    origin = (origin or "").strip().lower()
    if not origin:
        return OriginVerdict(True)
    if origin in guard.origins:
        return OriginVerdict(True, origin)
    host = (host or "").strip().lower()
    try:
        same_site = bool(host) and urlsplit(origin).netloc == host
    except ValueError:  # no URL at all ("http://["): not this site
        same_site = False
    return OriginVerdict(same_site)
