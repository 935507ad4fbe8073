"""Lotse's settings, read once from the environment and validated.

Only the embedded defaults exist so far: SQLite under `var/` and the local ports.
`rasa_token` (LOTSE_RASA_TOKEN) is a secret: it is never printed or logged.
"""

from __future__ import annotations

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

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://{self.host}:{self.action_port}/webhook"


def load_settings() -> Settings:
    return Settings(
        database_url=os.environ.get("LOTSE_DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'lotse.db'}"),
        rasa_port=_port("LOTSE_RASA_PORT", 5005),
        action_port=_port("LOTSE_ACTION_PORT", 5055),
        web_port=_port("LOTSE_WEB_PORT", 8080),
        host=os.environ.get("LOTSE_HOST", "127.0.0.1"),
        console_port=_port("LOTSE_CONSOLE_PORT", 8090),
        rasa_token=os.environ.get("LOTSE_RASA_TOKEN", ""),
    )
