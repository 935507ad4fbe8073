"""The generic webhook connector: CRM events as signed JSON POSTs (Zapier, n8n, own code).

Each event is POSTed as JSON to the configured URL with these headers:

- `X-Lotse-Event-Id`: the event's stable id. A retry sends the same id, so a receiver
  that remembers ids it has processed never applies an event twice.
- `X-Lotse-Timestamp`: seconds since the epoch when this attempt was signed.
- `X-Lotse-Signature`: `v1=` + hex HMAC-SHA256, keyed with the shared secret, over
  `"{timestamp}.{raw body}"` (the body bytes exactly as received).

A receiver verifies by recomputing the HMAC over the timestamp header, a dot and the raw
body, comparing in constant time, and rejecting timestamps older than a few minutes
(replays); `verify_signature` below does exactly that and is the reference.

Errors: those of `crm_adapter.delivery` (retryable: timeout, refused connection, 5xx,
408, 429 with its Retry-After; permanent: another 4xx or a redirect; auth: 401, 403).
The URL and the secret are never logged or put into an error message.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from crm_adapter.delivery import ConnectorConfigError, CrmEvent, Link, call, raise_for

SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE_SECONDS = 300
TIMEOUT_SECONDS = 10.0


def body_of(event: CrmEvent) -> bytes:
    document = {
        "id": event.event_id,
        "type": event.kind,
        "lead_id": event.lead_id,
        "occurred_at": event.occurred_at,
        "data": dict(event.payload),
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def verify_signature(
    secret: bytes,
    body: bytes,
    timestamp_header: str | None,
    signature_header: str | None,
    now: float | None = None,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    if not timestamp_header or not signature_header or not timestamp_header.isdigit():
        return False
    timestamp = int(timestamp_header)
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return hmac.compare_digest(expected, signature_header.strip())


@dataclass
class WebhookConnector:
    """Delivers `CrmEvent`s to one URL, signed with one secret. Thread-safe as far as the
    `requests.Session` is (one per worker thread is the safe use)."""

    url: str = field(repr=False)
    secret: bytes = field(repr=False)
    session: requests.Session = field(default_factory=requests.Session, repr=False)
    timeout: float = TIMEOUT_SECONDS
    clock: Callable[[], float] = time.time
    name: str = "webhook"

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ValueError("the webhook URL must be an http(s) URL")
        if len(self.secret) < 16:
            raise ValueError("the webhook secret must be at least 16 bytes")

    def deliver(self, event: CrmEvent, link: Link | None = None) -> Link:
        """Sends `event` once; raises a `CrmDeliveryError` subclass when it did not land.
        Idempotent for a receiver that honours `X-Lotse-Event-Id`."""
        body = body_of(event)
        timestamp = int(self.clock())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Lotse-Event-Id": event.event_id,
            "X-Lotse-Timestamp": str(timestamp),
            "X-Lotse-Signature": signature(self.secret, timestamp, body),
            "User-Agent": "Lotse-Webhook/1",
        }
        reply = call(self.session, "POST", self.url, "Webhook: posting an event",
                     self.timeout, data=body, headers=headers)  # fmt: skip
        reply.close()
        raise_for(reply, "Webhook: posting an event")
        return link or Link()


WEBHOOK_KEYS = ("url", "secret_env", "timeout")


def webhook_from_config(
    config: Mapping[str, Any], env: Mapping[str, str], session: requests.Session | None = None
) -> WebhookConnector:
    """`url` (required), `secret_env` (the variable holding the shared secret, default
    LOTSE_WEBHOOK_SECRET), `timeout` (seconds, default 10)."""
    unknown = sorted(str(key) for key in config if key not in WEBHOOK_KEYS)
    if unknown:
        raise ConnectorConfigError(
            f"webhook: unknown config keys: {', '.join(unknown)} (known: {', '.join(WEBHOOK_KEYS)})"
        )
    url = config.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ConnectorConfigError("webhook: url must be an http(s) URL")
    variable = str(config.get("secret_env") or "LOTSE_WEBHOOK_SECRET")
    secret = env.get(variable, "")
    if len(secret.encode()) < 16:
        raise ConnectorConfigError(
            f"webhook: the environment variable {variable} must hold the shared secret "
            "(at least 16 bytes)"
        )
    timeout = config.get("timeout", TIMEOUT_SECONDS)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ConnectorConfigError("webhook: timeout must be a positive number of seconds")
    return WebhookConnector(url, secret.encode(), session or requests.Session(), float(timeout))
