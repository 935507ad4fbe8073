"""Lotse's settings, read once from the environment and validated.

Only the embedded defaults exist so far: SQLite under `var/` and the local ports.
`rasa_token` (LOTSE_RASA_TOKEN) and `rest_token` (LOTSE_REST_TOKEN) are secrets: never
printed or logged. Who may use Rasa's REST channel (`rest_access`, LOTSE_REST_ACCESS,
`local` or `token`): `bot.channels.rest_access`, docs/website_security.md.
`console_trusted_proxies` (LOTSE_CONSOLE_TRUSTED_PROXY, comma-separated addresses or
networks, none by default): the reverse proxies in front of the staff console whose
X-Forwarded-For it believes (docs/handoff.md).
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class SettingsError(ValueError):
    """A setting has a value Lotse cannot use; the message names the variable."""


def _port(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default))
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise SettingsError(f"{name} must be a TCP port number, got {raw!r}")
    return int(raw)


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(name: str) -> tuple[Network, ...]:
    raw = os.environ.get(name, "")
    try:
        return tuple(ipaddress.ip_network(p.strip()) for p in raw.split(",") if p.strip())
    except ValueError:
        raise SettingsError(
            f"{name} must be IP addresses or networks (comma-separated), got {raw!r}"
        ) from None


@dataclass(frozen=True)
class Settings:
    database_url: str
    rasa_port: int
    action_port: int
    web_port: int
    host: str
    console_port: int = 8090
    # For Rasa's HTTP API (hand-back, timeouts); a secret.
    rasa_token: str = field(default="", repr=False)
    # Reverse proxies in front of the console whose X-Forwarded-For it believes.
    console_trusted_proxies: tuple[Network, ...] = ()
    # What the website's proxy and scripts show Rasa's REST channel; a secret.
    rest_token: str = field(default="", repr=False)
    # "local": this machine's unforwarded connections need no token; "token": none pass
    # without it.
    rest_access: str = "local"

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://{self.host}:{self.action_port}/webhook"


REST_ACCESS = ("local", "token")
MIN_REST_TOKEN_CHARS = 32


def _rest_access() -> tuple[str, str]:
    """(LOTSE_REST_TOKEN, LOTSE_REST_ACCESS), checked."""
    token = os.environ.get("LOTSE_REST_TOKEN", "")
    access = os.environ.get("LOTSE_REST_ACCESS", "local").strip().lower() or "local"
    if access not in REST_ACCESS:
        raise SettingsError(f"LOTSE_REST_ACCESS must be 'local' or 'token', got {access!r}")
    if token and len(token) < MIN_REST_TOKEN_CHARS:
        raise SettingsError(f"LOTSE_REST_TOKEN must have at least {MIN_REST_TOKEN_CHARS} "
                            "characters (e.g. `openssl rand -hex 32`)")  # fmt: skip
    if access == "token" and not token:
        raise SettingsError("LOTSE_REST_ACCESS=token needs LOTSE_REST_TOKEN")
    return token, access


def load_settings() -> Settings:
    rest_token, rest_access = _rest_access()
    return Settings(
        database_url=os.environ.get("LOTSE_DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'lotse.db'}"),
        rasa_port=_port("LOTSE_RASA_PORT", 5005),
        action_port=_port("LOTSE_ACTION_PORT", 5055),
        web_port=_port("LOTSE_WEB_PORT", 8080),
        host=os.environ.get("LOTSE_HOST", "127.0.0.1"),
        console_port=_port("LOTSE_CONSOLE_PORT", 8090),
        rasa_token=os.environ.get("LOTSE_RASA_TOKEN", ""),
        console_trusted_proxies=_networks("LOTSE_CONSOLE_TRUSTED_PROXY"),
        rest_token=rest_token,
        rest_access=rest_access,
    )
