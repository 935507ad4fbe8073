"""What every CRM connector shares: the event it delivers, what it remembers of a
contact at its CRM (`Link`), the errors it raises, and one HTTP call mapped to them.

A connector is an object with a `name` and `deliver(event, link) -> link`. The worker
(`crm_adapter.delivery_worker.DeliveryWorker`) loads the contact's `Link` for that connector,
calls `deliver`, and stores the link it gets back in the same transaction that marks
the event delivered. `deliver` must be idempotent for one `event.event_id`: a worker
that died after the CRM applied an event, before it was marked, sends it again.

Errors (the worker decides by type): `RetryableDeliveryError` (timeout, connection
refused, 5xx, 408, 429; carries `retry_after` from a Retry-After header) /
`PermanentDeliveryError` (another 4xx: the event itself is wrong) / `DeliveryAuthError`
(401, 403: the credentials are wrong; retried slowly, since every event would fail).
Messages name the CRM, the operation and the HTTP status, never a URL with a secret,
a token or a value from the payload.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from crm_adapter.port import CrmError
from lotse.retry import parse_retry_after

if TYPE_CHECKING:  # requests is loaded by whoever sends: the CRM store and commands need not
    import requests

TIMEOUT_SECONDS = 10.0
MAX_RETRY_AFTER = 3600.0


class CrmDeliveryError(CrmError):
    """An event could not be delivered to the external CRM."""


class RetryableDeliveryError(CrmDeliveryError):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentDeliveryError(CrmDeliveryError):
    """Retrying the same event cannot succeed (it goes to the dead letters)."""


class DeliveryAuthError(CrmDeliveryError):
    """The CRM refused our credentials; nothing gets through until they are fixed."""


@dataclass(frozen=True)
class CrmEvent:
    """One change for the external CRM. `event_id` is stable across retries.

    `payload` is `{"contact": {...}, "change": {...}}` (see `crm_adapter.sync_event`).
    """

    event_id: str
    kind: str  # e.g. "contact.identified", "stage.changed", "handoff.closed"
    lead_id: int
    payload: Mapping[str, Any]
    occurred_at: str  # ISO 8601
    # True when no earlier attempt can have reached the CRM (the event was never handed
    # out before): a connector may skip looking for what an earlier attempt created.
    first_send: bool = False


@dataclass(frozen=True)
class Link:
    """What Lotse knows of one contact at one CRM: the record's id there, and the
    values Lotse last wrote to each of its fields (to tell a human's edit from ours)."""

    remote_id: str | None = None
    sent: Mapping[str, Any] = field(default_factory=dict)

    def with_sent(self, remote_id: str, written: Mapping[str, Any]) -> Link:
        return Link(remote_id, {**self.sent, **written})


class Connector(Protocol):
    name: str

    def deliver(self, event: CrmEvent, link: Link) -> Link:
        """Applies `event`; returns the contact's link afterwards. Raises a
        `CrmDeliveryError` subclass when the event did not land (completely)."""


def retry_after(reply: requests.Response) -> float | None:
    seconds = parse_retry_after(reply.headers.get("Retry-After"))
    return None if seconds is None else min(seconds, MAX_RETRY_AFTER)


def raise_for(reply: requests.Response, what: str) -> None:
    """Nothing for a 2xx; else the error class the status means (`what` names the CRM
    and the operation, e.g. "HubSpot: creating a note")."""
    status = reply.status_code
    if 200 <= status < 300:
        return
    if status in (401, 403):
        raise DeliveryAuthError(f"{what}: the CRM refused the credentials ({status})")
    if status in (408, 429) or status >= 500:
        raise RetryableDeliveryError(f"{what}: the CRM answered {status}", retry_after(reply))
    raise PermanentDeliveryError(f"{what}: the CRM answered {status}")


def call(
    session: requests.Session, method: str, url: str, what: str, timeout: float = TIMEOUT_SECONDS,
    **kwargs: Any,
) -> requests.Response:  # fmt: skip
    """One HTTP request; transport failures become `RetryableDeliveryError`. The reply
    is returned whatever its status (callers handle 404/409/412 before `raise_for`)."""
    import requests

    try:
        return session.request(method, url, timeout=timeout, allow_redirects=False, **kwargs)
    except requests.Timeout:
        raise RetryableDeliveryError(f"{what}: the CRM timed out") from None
    except requests.RequestException as error:
        raise RetryableDeliveryError(
            f"{what}: the CRM is not reachable ({type(error).__name__})"
        ) from None


class ConnectorConfigError(ValueError):
    """A connector's config cannot be used; the message names the entry (or the
    environment variable) and never quotes a secret."""
