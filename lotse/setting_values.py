"""Reading one environment variable as a typed value, or `SettingsError` naming the
variable and saying what it must look like (secrets' values are never quoted).

Plain functions over a mapping (`os.environ` or a test's dict); `lotse.settings` uses
them to read every LOTSE_* variable in one place.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from lotse.rate_limit import Limit, parse_limit

Environ = Mapping[str, str]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class SettingsError(ValueError):
    """A setting has a value Lotse cannot use; the message names the variable."""


def text(env: Environ, name: str, default: str = "") -> str:
    """The value as it is (not stripped: secrets and URLs keep what they were given)."""
    return env.get(name) or default


def optional(env: Environ, name: str) -> str | None:
    """The stripped value, None when unset or blank."""
    return (env.get(name) or "").strip() or None


def port(env: Environ, name: str, default: int) -> int:
    raw = env.get(name, str(default))
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise SettingsError(f"{name} must be a TCP port number, got {raw!r}")
    return int(raw)


def whole(env: Environ, name: str, default: int, least: int = 1) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < least:
        raise SettingsError(f"{name} must be a whole number >= {least}, not {raw!r}")
    return int(raw)


def seconds(env: Environ, name: str, default: float, most: float | None = None) -> float:
    """Seconds above 0 (and at most `most`)."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value > 0 or (most is not None and value > most):
        upper = f" and {most:g}" if most is not None else ""
        raise SettingsError(f"{name} must be seconds between 0{upper}, not {raw!r}")
    return value


def choice(env: Environ, name: str, allowed: tuple[str, ...], default: str) -> str:
    """One of `allowed` (case and blanks ignored); unset or blank is `default`."""
    raw = (env.get(name) or "").strip().lower() or default
    if raw not in allowed:
        raise SettingsError(f"{name} must be one of {', '.join(allowed)}, not {raw!r}")
    return raw


def flag(env: Environ, name: str) -> bool:
    """"1" is on; unset, blank and "0" are off."""
    raw = (env.get(name) or "").strip() or "0"
    if raw not in ("0", "1"):
        raise SettingsError(f"{name} must be 0 or 1")
    return raw == "1"


def path(env: Environ, name: str, default: Path) -> Path:
    return Path(optional(env, name) or default)


def http_url(env: Environ, name: str) -> str | None:
    """An http(s) URL, or None; the value is not quoted (it may hold a token)."""
    url = optional(env, name)
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SettingsError(f"{name} must be an http(s) URL")
    return url


def networks(env: Environ, name: str) -> tuple[Network, ...]:
    raw = env.get(name, "")
    try:
        return tuple(ipaddress.ip_network(p.strip()) for p in raw.split(",") if p.strip())
    except ValueError:
        raise SettingsError(
            f"{name} must be IP addresses or networks (comma-separated), got {raw!r}"
        ) from None


def addresses(env: Environ, name: str) -> frozenset[Address]:
    raw = env.get(name, "")
    try:
        return frozenset(ipaddress.ip_address(p.strip()) for p in raw.split(",") if p.strip())
    except ValueError:
        raise SettingsError(f"{name} must be IP addresses (comma-separated), got {raw!r}") from None


def origins(env: Environ, name: str) -> frozenset[str]:
    """Browser origins (scheme and host, no path), lower-case, without a trailing /."""
    found = set()
    raw = env.get(name, "")
    for item in filter(None, (part.strip().rstrip("/").lower() for part in raw.split(","))):
        parts = urlsplit(item)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
            raise SettingsError(
                f"{name} must list origins like https://www.example.com, got {item!r}"
            )
        found.add(item)
    return frozenset(found)


def rate(env: Environ, name: str, default: Limit) -> Limit | None:
    """A rate limit ("30/minute", "30/minute burst 10"), None for "off"."""
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return parse_limit(raw, default.burst)
    except ValueError:
        raise SettingsError(
            f'{name} must look like "30/minute", "30/minute burst 10" or "off", got {raw!r}'
        ) from None


def secret(env: Environ, name: str, least: int) -> str | None:
    """A secret of at least `least` characters (stripped), None when unset."""
    raw = env.get(name)
    if raw is None:
        return None
    value = raw.strip()
    if len(value) < least:
        raise SettingsError(
            f"{name} must be at least {least} characters long (got {len(value)}); "
            "e.g. the output of `openssl rand -hex 32`"
        )
    return value
