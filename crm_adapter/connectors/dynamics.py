"""The Microsoft Dynamics 365 (Dataverse Web API v9.2) connector for CRM events.

Every event except `consent.withdrawn` updates (or creates) the contact's lead and adds a
note (annotation) to its timeline; `task.created` also adds a task. Requests go to
`{base_url}/api/data/v9.2/` with a bearer token from Entra ID (OAuth2 client credentials,
`crm_adapter.connectors.oauth`), `OData-MaxVersion: 4.0`, `OData-Version: 4.0`, JSON.

    GET    leads(<id>)?$select=<columns>                   the linked lead (404: forget it)
    GET    leads?$select=leadid,<columns>&$filter=emailaddress1 eq '<email>'&$top=1
    POST   leads     + MSCRM.SuppressDuplicateDetection: false    create; the id comes from
                                                           the OData-EntityId header
    PATCH  leads(<id>)  + If-Match: *                      update (never creates a lead)
    DELETE leads(<id>)                                     consent withdrawn, "delete" mode
    GET    systemusers?$select=systemuserid&$filter=internalemailaddress eq '<email>'&$top=1
    PATCH  annotations(<uuid5 of the event id>)            the timeline note (upsert)
    PATCH  tasks(<uuid5 of the event id + ":task">)        the task of a task.created event

Default columns (`fields:` in the config changes them, see `crm_adapter.field_map`):
email emailaddress1, first_name firstname, last_name lastname, phone telephone1, company
companyname, stage lotse_stage, fit_score lotse_fitscore, interest_score
lotse_interestscore, consent lotse_consent, consent_legal_basis lotse_consentlegalbasis,
consent_given_at lotse_consentgivenat, consent_text_version lotse_consenttextversion,
answers lotse_<key>. A created lead also gets the subject "Lotse: website chat". The
lotse_* columns are custom columns the customer creates; a missing one makes Dataverse
answer 400, which dead-letters the event.

Idempotency: a lead is found by its linked id, else by email, before one is created; a
POST that timed out is found by email on the retry. If the environment's duplicate
detection answers 412 (0x80040333: somebody created a lead with that email meanwhile),
that lead is updated instead. Notes and tasks have ids derived from the event id and are
written with PATCH without If-Match, which creates or updates: a redelivered event never
duplicates them. Under precedence "crm" a column a person edited keeps its value (see
`FieldMap.writable`); the owner (`ownerid`) is assigned when it differs from the one
Lotse assigned last. A lead deleted between our read and our PATCH gives a retryable
error; the retry finds the linked id gone and looks the contact up again.

Token: cached until 60 s before it expires; a 401 from Dataverse drops it and repeats the
request once with a new token; a second 401 is a `DeliveryAuthError`.

Errors (those of `crm_adapter.delivery`): retryable for timeouts, refused connections,
408, 429 (service protection limits, with their Retry-After) and 5xx; permanent for other
4xx (e.g. a column that does not exist); auth for 401/403 and a refused token request.
Messages name Dynamics, the operation, the status and Dataverse's error code (e.g.
0x80072322), never the URL, the token, the secret or a value of the contact.

Personal data sent to Dynamics: the contact's email, name, phone, company, stage, scores,
consent record and qualification answers, the owner's email (to find the user), and the
timeline entries (answers, transcripts of handoff chats). None of it is logged: the log
holds event ids and kinds only.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests

from crm_adapter.connectors.oauth import ClientCredentials, TokenSource
from crm_adapter.delivery import (
    TIMEOUT_SECONDS,
    ConnectorConfigError,
    CrmEvent,
    Link,
    PermanentDeliveryError,
    RetryableDeliveryError,
    call,
    raise_for,
)
from crm_adapter.field_map import DYNAMICS_FIELDS, IDENTITY_STAGES, FieldMap, FieldMapError
from crm_adapter.field_map import field_map as build_field_map
from crm_adapter.sync_event import (
    CONSENT_WITHDRAWN,
    IDENTIFIED,
    TASK_CREATED,
    contact_of,
    timeline_entry,
)

log = logging.getLogger(__name__)

API_PATH = "/api/data/v9.2"
LEAD_SUBJECT = "Lotse: website chat"
NAMESPACE = uuid.UUID("5d0c3a8e-6f3b-5b7e-9a53-6c6f74736501")  # Lotse's, for record ids
NOTE_LIMIT = 100_000  # annotation.notetext
TASK_TEXT_LIMIT = 2_000  # task.description
HIGH_PRIORITY = 2
DUPLICATE_FOUND = "0x80040333"
MARK, DELETE = "mark", "delete"
WITHDRAWAL_MODES = (MARK, DELETE)
OWNER = "ownerid"  # the key in Link.sent for the systemuserid Lotse assigned
HEADERS = {
    "OData-MaxVersion": "4.0",
    "OData-Version": "4.0",
    "Accept": "application/json",
    "Content-Type": "application/json; charset=utf-8",
}
_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_ENTITY_ID = re.compile(r"\(([0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12})\)\s*$")
_ERROR_CODE = re.compile(r"^0x[0-9a-fA-F]{8}$")

Record = tuple[str, dict[str, Any]]  # (leadid, column -> value)


def default_fields() -> FieldMap:
    return build_field_map(DYNAMICS_FIELDS, IDENTITY_STAGES, {})


@dataclass
class DynamicsConnector:
    """Delivers `CrmEvent`s to one Dataverse environment; safe to share between worker
    threads as far as the `requests.Session` is."""

    base_url: str  # the environment, e.g. "https://contoso.crm4.dynamics.com"
    tokens: TokenSource
    fields: FieldMap = field(default_factory=default_fields, repr=False)
    session: requests.Session = field(default_factory=requests.Session, repr=False)
    timeout: float = TIMEOUT_SECONDS
    owners: Mapping[str, str] = field(default_factory=dict, repr=False)  # staff_id -> user
    on_withdrawal: str = MARK
    name: str = "dynamics"
    _users: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    _users_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        if not self.base_url.startswith(("https://", "http://")):
            raise ConnectorConfigError("dynamics: base_url must be an http(s) URL")
        if self.on_withdrawal not in WITHDRAWAL_MODES:
            raise ConnectorConfigError(
                f"dynamics: on_withdrawal must be one of {', '.join(WITHDRAWAL_MODES)}"
            )

    def deliver(self, event: CrmEvent, link: Link) -> Link:
        """Applies `event` to the lead; idempotent for one `event.event_id`. Returns the
        link to the lead (an empty link after a withdrawal)."""
        contact = contact_of(event.payload)
        if event.kind == CONSENT_WITHDRAWN:
            self._withdraw(event, link, contact.get("email"))
            log.debug("Dynamics: event %s (%s) delivered", event.event_id, event.kind)
            return Link()
        owner = self._user_of(contact.get("owner"), event)
        lead_id, base, written = self._upsert_lead(contact, link, owner)
        self._note(event, lead_id)
        if event.kind == TASK_CREATED:
            self._task(event, lead_id, owner)
        log.debug("Dynamics: event %s (%s) delivered", event.event_id, event.kind)
        return base.with_sent(lead_id, written)

    # ------------------------------------------------------------------- the lead

    def _upsert_lead(
        self, contact: Mapping[str, Any], link: Link, owner: str | None
    ) -> tuple[str, Link, dict[str, Any]]:
        """(lead id, the link the written values add to, what Lotse wrote or agrees with)."""
        desired = self.fields.properties(contact)
        columns = sorted(desired)
        found = self._linked(link, columns)
        base = link if found else Link()
        found = found or self._by_email(_email_of(contact), columns)
        if found is None:
            created = self._create(desired, owner)
            if created is not None:
                return created, base, {**desired, **({OWNER: owner} if owner else {})}
            found = self._by_email(_email_of(contact), columns)
            if found is None:
                raise PermanentDeliveryError(
                    f"Dynamics: creating a lead: a duplicate detection rule matched another "
                    f"record ({DUPLICATE_FOUND})"
                )
        lead_id, current = found
        return lead_id, base, self._update(lead_id, desired, current, base.sent, owner)

    def _linked(self, link: Link, columns: list[str]) -> Record | None:
        if not link.remote_id or not _GUID.match(link.remote_id):
            return None
        what = "Dynamics: reading a lead"
        reply = self._send("GET", f"leads({link.remote_id})", what,
                           query={"$select": ",".join(["leadid", *columns])})  # fmt: skip
        if reply.status_code == 404:
            return None  # deleted (or merged) in Dynamics: look the contact up again
        _check(reply, what)
        return link.remote_id, _document(reply, what)

    def _by_email(self, email: str, columns: list[str]) -> Record | None:
        what = "Dynamics: finding a lead"
        column = self.fields.property_of("email") or DYNAMICS_FIELDS["email"]
        rows = self._query("leads", ["leadid", *columns], column, email, what)
        if not rows:
            return None
        lead_id = rows[0].get("leadid")
        if not isinstance(lead_id, str) or not _GUID.match(lead_id):
            raise RetryableDeliveryError(f"{what}: the answer holds no lead id")
        return lead_id, rows[0]

    def _create(self, desired: Mapping[str, Any], owner: str | None) -> str | None:
        """The new lead's id, or None when duplicate detection found another lead."""
        what = "Dynamics: creating a lead"
        body = {**desired, "subject": LEAD_SUBJECT, **_owner_bind(owner)}
        reply = self._send("POST", "leads", what, body=body,
                           headers={"MSCRM.SuppressDuplicateDetection": "false"})  # fmt: skip
        if reply.status_code == 412 and _error_code(reply) == DUPLICATE_FOUND:
            return None
        _check(reply, what)
        found = _ENTITY_ID.search(reply.headers.get("OData-EntityId", ""))
        if found is None:
            raise RetryableDeliveryError(f"{what}: the answer holds no lead id")
        return found.group(1).lower()

    def _update(
        self, lead_id: str, desired: Mapping[str, Any], current: Mapping[str, Any],
        sent: Mapping[str, Any], owner: str | None,
    ) -> dict[str, Any]:  # fmt: skip
        """Writes what may be written; returns it plus the values the lead already holds
        as Lotse wants them (so a value that landed before a failed try counts as ours)."""
        to_write = self.fields.writable(desired, current, sent)
        agreed = {p: v for p, v in desired.items() if p in current and _same(current[p], v)}
        body: dict[str, Any] = dict(to_write)
        if owner and owner != sent.get(OWNER):
            body.update(_owner_bind(owner))
        if body:
            what = "Dynamics: updating a lead"
            reply = self._send("PATCH", f"leads({lead_id})", what, body=body,
                               headers={"If-Match": "*"})  # fmt: skip
            if reply.status_code == 404:
                raise RetryableDeliveryError(f"{what}: the lead was deleted meanwhile")
            _check(reply, what)
        return {**agreed, **to_write, **({OWNER: owner} if owner else {})}

    # ---------------------------------------------------------- consent withdrawn

    def _withdraw(self, event: CrmEvent, link: Link, email: str | None) -> None:
        """By the linked lead, else by email (a merged contact's event has none)."""
        found = self._linked(link, [])
        if found is None and isinstance(email, str) and email.strip():
            found = self._by_email(email.strip(), [])
        if found is None:
            return
        lead_id = found[0]
        if self.on_withdrawal == DELETE:
            what = "Dynamics: deleting a lead"
            reply = self._send("DELETE", f"leads({lead_id})", what)
            if reply.status_code != 404:
                _check(reply, what)
            return
        column = self.fields.property_of("consent")
        if column:
            what = "Dynamics: marking a lead's consent withdrawn"
            reply = self._send("PATCH", f"leads({lead_id})", what,
                               body={column: "withdrawn"}, headers={"If-Match": "*"})  # fmt: skip
            if reply.status_code == 404:
                return  # deleted meanwhile: nothing left to mark
            _check(reply, what)
        self._note(event, lead_id)

    # ----------------------------------------------------------- timeline, tasks

    def _note(self, event: CrmEvent, lead_id: str) -> None:
        entry = timeline_entry(event.event_id, event.kind, event.payload)
        if event.kind == IDENTIFIED and not entry.lines:
            return
        note_id = uuid.uuid5(NAMESPACE, event.event_id)
        body = {"subject": entry.title, "notetext": entry.text()[:NOTE_LIMIT],
                "objectid_lead@odata.bind": f"/leads({lead_id})"}  # fmt: skip
        what = "Dynamics: writing a note"
        _check(self._send("PATCH", f"annotations({note_id})", what, body=body), what)

    def _task(self, event: CrmEvent, lead_id: str, owner: str | None) -> None:
        change = event.payload.get("change") or {}
        kind = str(change.get("kind") or "task")
        entry = timeline_entry(event.event_id, event.kind, event.payload)
        body: dict[str, Any] = {
            "subject": "Lotse: call back" if kind == "callback" else f"Lotse: {kind}",
            "description": entry.text()[:TASK_TEXT_LIMIT],
            "prioritycode": HIGH_PRIORITY,
            "regardingobjectid_lead_task@odata.bind": f"/leads({lead_id})",
            **_owner_bind(self._user_of(change.get("assignee"), event) or owner),
        }
        if change.get("due_at"):
            body["scheduledend"] = str(change["due_at"])
        task_id = uuid.uuid5(NAMESPACE, f"{event.event_id}:task")
        what = "Dynamics: writing a task"
        _check(self._send("PATCH", f"tasks({task_id})", what, body=body), what)

    # --------------------------------------------------------------------- users

    def _user_of(self, person: Mapping[str, Any] | None, event: CrmEvent) -> str | None:
        """The systemuserid of a sales person: the `owners` override, else found by the
        user's primary email (found ids are cached); None when Dynamics has no such user."""
        if not person:
            return None
        staff_id = str(person.get("staff_id") or "")
        if staff_id in self.owners:
            return self.owners[staff_id]
        email = str(person.get("email") or "").strip()
        if not email:
            return None
        with self._users_lock:
            if email.lower() in self._users:
                return self._users[email.lower()]
        what = "Dynamics: finding a user"
        rows = self._query("systemusers", ["systemuserid"], "internalemailaddress", email, what)
        user = rows[0].get("systemuserid") if rows else None
        if not isinstance(user, str) or not _GUID.match(user):
            log.info("Dynamics: no user for the owner of event %s", event.event_id)
            return None
        with self._users_lock:
            self._users[email.lower()] = user
        return user

    # ---------------------------------------------------------------------- HTTP

    def _query(
        self, entity_set: str, columns: list[str], column: str, value: str, what: str
    ) -> list[dict[str, Any]]:
        """The first row of `entity_set` whose `column` equals `value` (as a list)."""
        query = {"$select": ",".join(columns), "$filter": f"{column} eq {_literal(value)}",
                 "$top": "1"}  # fmt: skip
        reply = self._send("GET", entity_set, what, query=query)
        _check(reply, what)
        rows = _document(reply, what).get("value")
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise RetryableDeliveryError(f"{what}: the answer holds no rows")
        return rows

    def _send(
        self, method: str, path: str, what: str, *, query: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None,
    ) -> requests.Response:  # fmt: skip
        """One Dataverse request; after a 401 once more with a new token."""
        url = f"{self.base_url}{API_PATH}/{path}"
        if query:
            url += "?" + "&".join(f"{k}={quote(v, safe=',')}" for k, v in query.items())
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        token = self.tokens.token()
        reply = self._call(method, url, what, data, headers, token)
        if reply.status_code == 401:
            reply.close()
            self.tokens.invalidate(token)
            reply = self._call(method, url, what, data, headers, self.tokens.token())
        return reply

    def _call(
        self, method: str, url: str, what: str, data: bytes | None,
        headers: Mapping[str, str] | None, token: str,
    ) -> requests.Response:  # fmt: skip
        sent = {**HEADERS, "Authorization": f"Bearer {token}", **(headers or {})}
        return call(self.session, method, url, what, self.timeout, data=data, headers=sent)


def _check(reply: requests.Response, what: str) -> None:
    """`raise_for` with Dataverse's error code (never its message, which may quote
    values) added to the operation."""
    if 200 <= reply.status_code < 300:
        return
    code = _error_code(reply)
    raise_for(reply, f"{what} ({code})" if code else what)


def _error_code(reply: requests.Response) -> str | None:
    try:
        code = reply.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None
    return code if isinstance(code, str) and _ERROR_CODE.match(code) else None


def _document(reply: requests.Response, what: str) -> dict[str, Any]:
    try:
        document = reply.json()
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise RetryableDeliveryError(f"{what}: the answer is not a JSON object")
    return document


def _literal(value: str) -> str:
    """An OData string literal: quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


def _owner_bind(user: str | None) -> dict[str, str]:
    return {"ownerid@odata.bind": f"/systemusers({user})"} if user else {}


def _same(a: Any, b: Any) -> bool:
    return a is not None and b is not None and str(a).strip() == str(b).strip()


def _email_of(contact: Mapping[str, Any]) -> str:
    email = contact.get("email")
    if not isinstance(email, str) or not email.strip():
        raise PermanentDeliveryError("Dynamics: the event's contact has no email")
    return email.strip()


# ---------------------------------------------------------------------- config

CONFIG_KEYS = frozenset({
    "base_url", "tenant_id", "client_id", "client_secret_env", "token_url", "scope",
    "timeout", "owners", "on_withdrawal", "fields", "stages", "answer_template", "precedence",
})  # fmt: skip
DEFAULT_SECRET_ENV = "DYNAMICS_CLIENT_SECRET"
TOKEN_URL = "https://login.microsoftonline.com/{tenant_id}/oauth2/v2.0/token"


def dynamics_from_config(
    config: Mapping[str, Any], env: Mapping[str, str], session: requests.Session | None = None
) -> DynamicsConnector:
    """The connector for a `dynamics:` config block; the client secret comes from the
    environment variable named by `client_secret_env`. `ConnectorConfigError` names a
    missing or bad entry (or the variable), never a secret."""
    unknown = sorted(str(key) for key in set(config) - CONFIG_KEYS)
    if unknown:
        raise ConnectorConfigError(f"dynamics: unknown config entries: {', '.join(unknown)}")
    base_url = _required(config, "base_url").rstrip("/")
    client_id = _required(config, "client_id")
    token_url = config.get("token_url") or TOKEN_URL.format(
        tenant_id=_required(config, "tenant_id", "(or token_url)")
    )
    secret_env = str(config.get("client_secret_env") or DEFAULT_SECRET_ENV)
    secret = env.get(secret_env, "")
    if not secret.strip():
        raise ConnectorConfigError(
            f"dynamics: the client secret is missing: set the environment variable {secret_env}"
        )
    try:
        fields = build_field_map(DYNAMICS_FIELDS, IDENTITY_STAGES, config)
    except FieldMapError as error:
        raise ConnectorConfigError(f"dynamics: {error}") from None
    timeout = _timeout(config.get("timeout", TIMEOUT_SECONDS))
    session = session or requests.Session()
    tokens = ClientCredentials(str(token_url), client_id, secret,
                               str(config.get("scope") or f"{base_url}/.default"),
                               session, timeout)  # fmt: skip
    return DynamicsConnector(base_url, tokens, fields, session, timeout,
                             _owners(config.get("owners")),
                             str(config.get("on_withdrawal", MARK)))  # fmt: skip


def _required(config: Mapping[str, Any], key: str, hint: str = "") -> str:
    value = config.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConnectorConfigError(f"dynamics: {f'{key} {hint}'.strip()} is required")
    return value.strip()


def _timeout(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 300:
        raise ConnectorConfigError("dynamics: timeout must be a number of seconds (0 to 300)")
    return float(value)


def _owners(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(user, str) and _GUID.match(user) for user in value.values()
    ):
        raise ConnectorConfigError("dynamics: owners must map staff ids to systemuser ids")
    return {str(staff): user.lower() for staff, user in value.items()}
