"""Lotse's settings: one typed object, `Settings`, read from the environment by
`load_settings(env)` — every LOTSE_* variable is read here and nowhere else, checked,
and a bad value ends the start with a `SettingsError` naming the variable.

The groups:
- the top level: the database (LOTSE_DATABASE_URL), host and ports, the Rasa API token
  (LOTSE_RASA_TOKEN), the REST channel's token and access (LOTSE_REST_TOKEN,
  LOTSE_REST_ACCESS, `bot.channels.rest_access`), the console's trusted proxies
  (LOTSE_CONSOLE_TRUSTED_PROXY, comma-separated addresses or networks), the port of the
  health and metrics routes of the processes without a web server (LOTSE_OPS_PORT: the
  event consumer's; the CRM delivery worker's is the next one, `lotse.ops_routes`);
- `files`: the tracker store (LOTSE_TRACKER_DB, LOTSE_TRACKER_URL), the mail folder
  (LOTSE_MAIL_DIR), the CRM config (LOTSE_CRM_CONFIG), the company's documents
  (LOTSE_DOCUMENTS_DIR), the console's prepared answers (LOTSE_CANNED_RESPONSES), the
  tests' clock file;
- `notify`: SMTP and Slack/Teams webhooks (`lotse.notify_settings`);
- `limits`: rate limits (LOTSE_RATE_VISITOR, _IP, _ISSUE, _CONVERSATION) and where
  their buckets are (LOTSE_RATE_STORE: "memory", each process its own, or "redis",
  shared by all: the scale-out profile's, `lotse.shared_rate_limit`), turns at once
  (LOTSE_TURN_CONCURRENCY), an action's time (LOTSE_ACTION_TIME_LIMIT), the event
  consumer's refill (LOTSE_EVENT_FILL_SECONDS);
- `web`: the website's origins (LOTSE_SITE_ORIGINS), its trusted proxies
  (LOTSE_TRUSTED_PROXY), the visitor id key (LOTSE_VISITOR_KEY), the console's cookies
  (LOTSE_CONSOLE_INSECURE_COOKIES);
- `messengers`: the platforms' API base URLs (LOTSE_<PLATFORM>_API_URL, ...), set only
  to point a channel at a test server;
- `secrets`: the action server's (LOTSE_ACTION_SECRET), a new staff password for
  scripts (LOTSE_STAFF_PASSWORD), the token that opens `/metrics` to other machines
  (LOTSE_METRICS_TOKEN);
- `services`: the scale-out profile's PostgreSQL, Redis and RabbitMQ
  (`lotse.service_addresses`).
Secrets are left out of every repr and never quoted in an error. The one exception to
"read here": a CRM connector's secrets, read by `crm_adapter.crm_config` from the
variables its `crm:` config names (LOTSE_WEBHOOK_SECRET by default, HUBSPOT_TOKEN...),
since the company chooses their names.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from lotse import setting_values as read
from lotse.notify_settings import NotifySettings, notify_settings
from lotse.rate_limit import Limit, per_minute
from lotse.service_addresses import ServiceAddresses
from lotse.setting_values import Address, Environ, Network, SettingsError

__all__ = ["PROJECT", "ROOT", "Network", "Settings", "SettingsError", "load_settings"]

# The code and the files shipped with it (bot/data, the console's static files...): the
# repository, or the site-packages folder of an installed Lotse.
ROOT = Path(__file__).resolve().parents[1]
# Where Lotse writes what it derives and keeps (build/, var/): the repository, or, for an
# installed Lotse, whose site-packages is no place to write, the folder it is started in.
PROJECT = ROOT if (ROOT / "pyproject.toml").is_file() else Path.cwd()
VAR = PROJECT / "var"


@dataclass(frozen=True)
class Files:
    tracker_db: Path = VAR / "tracker.db"  # the embedded tracker store's SQLite file
    tracker_url: str | None = field(default=None, repr=False)  # its server; may hold a password
    mail_dir: Path = VAR / "mail"  # where mails land without SMTP (and erasure looks)
    crm_config: Path | None = None  # another file holding the `crm:` section
    documents_dir: Path = ROOT / "bot" / "data" / "documents"  # the company's documents
    # the console's prepared answers, which admins edit (handoff/canned_responses.py)
    canned_responses: Path = ROOT / "bot" / "data" / "canned_responses.yml"
    test_clock_file: Path | None = None  # tests only: the console's clock


VISITOR_RATE = per_minute(30, burst=10)
IP_RATE = per_minute(300, burst=60)
ISSUE_RATE = per_minute(30, burst=10)  # new visitor ids per IP
CONVERSATION_RATE = per_minute(60, 30)
TURN_CONCURRENCY = 4
ACTION_TIME_LIMIT = 10.0
EVENT_FILL_SECONDS = 120.0


@dataclass(frozen=True)
class Limits:
    """Rate limits (None: off), turns at once, seconds per action, event refill."""

    per_visitor: Limit | None = VISITOR_RATE
    per_ip: Limit | None = IP_RATE
    issuing: Limit | None = ISSUE_RATE
    per_conversation: Limit | None = CONVERSATION_RATE
    turn_concurrency: int = TURN_CONCURRENCY
    action_time_limit: float = ACTION_TIME_LIMIT
    event_fill_seconds: float = EVENT_FILL_SECONDS
    store: str = "memory"  # where the buckets are: "memory" (per process) or "redis"


RATE_STORES = ("memory", "redis")
MIN_VISITOR_KEY_CHARS = 32


@dataclass(frozen=True)
class Web:
    site_origins: frozenset[str] = frozenset()
    trusted_proxies: frozenset[Address] = frozenset()  # the website's
    visitor_key: str | None = field(default=None, repr=False)  # None: the key file
    console_insecure_cookies: bool = False  # only for plain HTTP on 127.0.0.1 (tests)


@dataclass(frozen=True)
class Messengers:
    """Base URLs of the platforms' APIs; None: the platform's own."""

    twilio: str | None = None
    telegram: str | None = None
    slack: str | None = None
    facebook: str | None = None
    botframework_token: str | None = None
    botframework_openid: str | None = None


@dataclass(frozen=True)
class Secrets:
    action_secret: str | None = field(default=None, repr=False)
    staff_password: str | None = field(default=None, repr=False)
    metrics_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Settings:
    database_url: str
    rasa_port: int
    action_port: int
    web_port: int
    host: str
    console_port: int = 8090
    # /healthz, /readyz and /metrics of the event consumer (this port) and the CRM
    # delivery worker (the next one): the processes without a web server of their own.
    ops_port: int = 9190
    # For Rasa's HTTP API (hand-back, timeouts); a secret.
    rasa_token: str = field(default="", repr=False)
    # Reverse proxies in front of the console whose X-Forwarded-For it believes.
    console_trusted_proxies: tuple[Network, ...] = ()
    # What the website's proxy and scripts show Rasa's REST channel; a secret.
    rest_token: str = field(default="", repr=False)
    # "local": this machine's unforwarded connections need no token; "token": none pass
    # without it.
    rest_access: str = "local"
    files: Files = field(default_factory=Files)
    notify: NotifySettings = field(default_factory=NotifySettings)
    limits: Limits = field(default_factory=Limits)
    web: Web = field(default_factory=Web)
    messengers: Messengers = field(default_factory=Messengers)
    secrets: Secrets = field(default_factory=Secrets)
    services: ServiceAddresses = field(
        default_factory=lambda: ServiceAddresses.from_environment({}), repr=False
    )

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://{self.host}:{self.action_port}/webhook"


REST_ACCESS = ("local", "token")
MIN_REST_TOKEN_CHARS = 32


def _rest_access(env: Environ) -> tuple[str, str]:
    """(LOTSE_REST_TOKEN, LOTSE_REST_ACCESS), checked."""
    token = env.get("LOTSE_REST_TOKEN", "")
    access = env.get("LOTSE_REST_ACCESS", "local").strip().lower() or "local"
    if access not in REST_ACCESS:
        raise SettingsError(f"LOTSE_REST_ACCESS must be 'local' or 'token', got {access!r}")
    if token and len(token) < MIN_REST_TOKEN_CHARS:
        raise SettingsError(f"LOTSE_REST_TOKEN must have at least {MIN_REST_TOKEN_CHARS} "
                            "characters (e.g. `openssl rand -hex 32`)")  # fmt: skip
    if access == "token" and not token:
        raise SettingsError("LOTSE_REST_ACCESS=token needs LOTSE_REST_TOKEN")
    return token, access


def _files(env: Environ) -> Files:
    crm, clock = read.optional(env, "LOTSE_CRM_CONFIG"), read.optional(env, "LOTSE_TEST_CLOCK_FILE")
    return Files(
        tracker_db=read.path(env, "LOTSE_TRACKER_DB", VAR / "tracker.db"),
        tracker_url=read.optional(env, "LOTSE_TRACKER_URL"),
        mail_dir=read.path(env, "LOTSE_MAIL_DIR", VAR / "mail"),
        crm_config=Path(crm) if crm else None,
        documents_dir=read.path(env, "LOTSE_DOCUMENTS_DIR", ROOT / "bot" / "data" / "documents"),
        canned_responses=read.path(
            env, "LOTSE_CANNED_RESPONSES", ROOT / "bot" / "data" / "canned_responses.yml"
        ),
        test_clock_file=Path(clock) if clock else None,
    )


def _limits(env: Environ) -> Limits:
    return Limits(
        per_visitor=read.rate(env, "LOTSE_RATE_VISITOR", VISITOR_RATE),
        per_ip=read.rate(env, "LOTSE_RATE_IP", IP_RATE),
        issuing=read.rate(env, "LOTSE_RATE_ISSUE", ISSUE_RATE),
        per_conversation=read.rate(env, "LOTSE_RATE_CONVERSATION", CONVERSATION_RATE),
        turn_concurrency=read.whole(env, "LOTSE_TURN_CONCURRENCY", TURN_CONCURRENCY),
        # below the 60 s lifetime of a conversation's lock
        action_time_limit=read.seconds(env, "LOTSE_ACTION_TIME_LIMIT", ACTION_TIME_LIMIT, 50),
        event_fill_seconds=read.seconds(env, "LOTSE_EVENT_FILL_SECONDS", EVENT_FILL_SECONDS),
        store=read.choice(env, "LOTSE_RATE_STORE", RATE_STORES, "memory"),
    )


def _web(env: Environ) -> Web:
    return Web(
        site_origins=read.origins(env, "LOTSE_SITE_ORIGINS"),
        trusted_proxies=read.addresses(env, "LOTSE_TRUSTED_PROXY"),
        visitor_key=read.secret(env, "LOTSE_VISITOR_KEY", MIN_VISITOR_KEY_CHARS),
        console_insecure_cookies=read.flag(env, "LOTSE_CONSOLE_INSECURE_COOKIES"),
    )


def _messengers(env: Environ) -> Messengers:
    return Messengers(
        twilio=read.http_url(env, "LOTSE_TWILIO_API_URL"),
        telegram=read.http_url(env, "LOTSE_TELEGRAM_API_URL"),
        slack=read.http_url(env, "LOTSE_SLACK_API_URL"),
        facebook=read.http_url(env, "LOTSE_FACEBOOK_API_URL"),
        botframework_token=read.http_url(env, "LOTSE_BOTFRAMEWORK_TOKEN_URL"),
        botframework_openid=read.http_url(env, "LOTSE_BOTFRAMEWORK_OPENID_URL"),
    )


def _secrets(env: Environ) -> Secrets:
    return Secrets(
        action_secret=env.get("LOTSE_ACTION_SECRET") or None,
        staff_password=env.get("LOTSE_STAFF_PASSWORD"),  # "" is a (refused) password
        metrics_token=env.get("LOTSE_METRICS_TOKEN") or None,
    )


def load_settings(env: Environ | None = None) -> Settings:
    """Every LOTSE_* variable of `env` (the process environment by default), checked."""
    env = os.environ if env is None else env
    rest_token, rest_access = _rest_access(env)
    return Settings(
        database_url=read.text(env, "LOTSE_DATABASE_URL", f"sqlite:///{VAR / 'lotse.db'}"),
        rasa_port=read.port(env, "LOTSE_RASA_PORT", 5005),
        action_port=read.port(env, "LOTSE_ACTION_PORT", 5055),
        web_port=read.port(env, "LOTSE_WEB_PORT", 8080),
        host=read.text(env, "LOTSE_HOST", "127.0.0.1"),
        console_port=read.port(env, "LOTSE_CONSOLE_PORT", 8090),
        ops_port=read.port(env, "LOTSE_OPS_PORT", 9190),
        rasa_token=env.get("LOTSE_RASA_TOKEN", ""),
        console_trusted_proxies=read.networks(env, "LOTSE_CONSOLE_TRUSTED_PROXY"),
        rest_token=rest_token,
        rest_access=rest_access,
        files=_files(env),
        notify=notify_settings(env),
        limits=_limits(env),
        web=_web(env),
        messengers=_messengers(env),
        secrets=_secrets(env),
        services=ServiceAddresses.from_environment(env),
    )
