"""Where notifications go: LOTSE_SMTP_* and LOTSE_SLACK/TEAMS_WEBHOOK_URL, read and
checked (`notify_settings(env)`, part of `lotse.settings.Settings`). Secrets (the SMTP
password, the webhook URLs) are left out of the repr and never quoted in an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lotse import setting_values as read
from lotse.setting_values import Environ, SettingsError

DEFAULT_SENDER = "lotse@nordwerk.example"
DEFAULT_SMTP_PORT = 25


@dataclass(frozen=True)
class NotifySettings:
    """Where notifications go. Secrets are left out of repr."""

    smtp_host: str | None = None
    smtp_port: int = DEFAULT_SMTP_PORT
    smtp_sender: str = DEFAULT_SENDER
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_starttls: bool = False
    slack_webhook_url: str | None = field(default=None, repr=False)
    teams_webhook_url: str | None = field(default=None, repr=False)
    mail_dir: Path | None = None  # without an SMTP host, emails are written here


def plain_address(address: str) -> bool:
    """One plain address (local@domain): no display name, no CR/LF, no list."""
    local, at, domain = address.partition("@")
    unsafe = any(c.isspace() or not c.isprintable() or c in '<>",;' for c in address)
    return bool(at and local and domain) and "@" not in domain and not unsafe


def notify_settings(env: Environ) -> NotifySettings:
    """LOTSE_MAIL_DIR too: without an SMTP host, mails are written there (None: unset).
    Raises SettingsError naming the variable (never its value) when one is malformed,
    or when a username is given without a password."""
    sender = read.optional(env, "LOTSE_SMTP_SENDER") or DEFAULT_SENDER
    if not plain_address(sender):
        raise SettingsError("LOTSE_SMTP_SENDER must be a plain email address")
    username = read.optional(env, "LOTSE_SMTP_USERNAME")
    password = env.get("LOTSE_SMTP_PASSWORD") or None
    if username and not password:
        raise SettingsError("LOTSE_SMTP_PASSWORD is required when LOTSE_SMTP_USERNAME is set")
    port = (env.get("LOTSE_SMTP_PORT") or "").strip() or str(DEFAULT_SMTP_PORT)
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise SettingsError("LOTSE_SMTP_PORT must be a whole number between 1 and 65535")
    return NotifySettings(
        smtp_host=read.optional(env, "LOTSE_SMTP_HOST"),
        smtp_port=int(port),
        smtp_sender=sender,
        smtp_username=username,
        smtp_password=password,
        smtp_starttls=read.flag(env, "LOTSE_SMTP_STARTTLS"),
        slack_webhook_url=read.http_url(env, "LOTSE_SLACK_WEBHOOK_URL"),
        teams_webhook_url=read.http_url(env, "LOTSE_TEAMS_WEBHOOK_URL"),
        mail_dir=read.path(env, "LOTSE_MAIL_DIR", Path()) if read.optional(
            env, "LOTSE_MAIL_DIR") else None,
    )  # fmt: skip
