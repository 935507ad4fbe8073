"""The HubSpot connector: CRM events as contacts, companies, notes and tasks in HubSpot
(CRM API v3, private-app access token).

Endpoints (all under `base_url`, every request with `Authorization: Bearer <token>`):

    GET   /crm/v3/objects/contacts/{id}?properties=...                read a linked contact
    GET   /crm/v3/objects/contacts/{email}?idProperty=email&...        find one by email
    POST  /crm/v3/objects/contacts                                      create (409: exists)
    PATCH /crm/v3/objects/contacts/{id}                                 update
    POST  /crm/v3/objects/contacts/gdpr-delete                          on_withdrawal: delete
    POST  /crm/v3/objects/companies/search, /crm/v3/objects/companies  find or create
    PUT   /crm/v4/objects/contact/{id}/associations/default/company/{id}
    GET   /crm/v3/owners?email=...&limit=1                              owner id by email
    POST  /crm/v3/objects/notes/search, /crm/v3/objects/notes          timeline note
    POST  /crm/v3/objects/tasks/search, /crm/v3/objects/tasks          task.created

What `deliver` does: every event but `consent.withdrawn` creates or updates the contact
(found by its linked id, else by email; a linked id that is gone is forgotten) with
the properties of `FieldMap.properties`, writing over existing values only what
`FieldMap.writable` allows (precedence), never moving `lifecyclestage` backwards.
`contact.identified` and `answer.saved` of "company" find or create the company by
name and associate it (once per name; the company id is kept in `Link.sent` under
"__company_id:<name>"). The routed sales person becomes `hubspot_owner_id` (configured
`owners`, else looked up by email and cached). Every event but a `contact.identified`
without answers adds a note; `task.created` adds a task as well. `consent.withdrawn`
marks the consent property "withdrawn" and adds a note (`on_withdrawal: mark`), or
GDPR-deletes the contact (`delete`); it returns an empty `Link`.

Idempotency: contact writes are upserts; notes and tasks carry the event's marker
("lotse-event-<id>") and are searched for before they are created, so a redelivered
event adds nothing twice (the search is skipped on an event's first send, when no
earlier attempt can have created anything). Caveat: HubSpot's search index lags a few
seconds behind writes; the worker waits at least MIN_RETRY (5 s) before a retry, but a
lost answer followed by a very slow index can still duplicate a note.

Default field mapping (`field_map.HUBSPOT_FIELDS`): email -> email, first_name ->
firstname, last_name -> lastname, phone -> phone, company -> company, stage ->
lifecyclestage (through `HUBSPOT_STAGES`), fit_score/interest_score ->
lotse_fit_score/lotse_interest_score, consent* -> lotse_consent*, answer.<key> ->
lotse_<key>. The custom lotse_* properties must exist in the HubSpot account.

Errors: those of `crm_adapter.delivery` (retryable: timeout, unreachable, 5xx, 408,
429 with its Retry-After; permanent: another 4xx, e.g. a 400 VALIDATION_ERROR; auth:
401, 403). Messages say "HubSpot", the operation and the status only, never the token,
an email or a payload value. Personal data touched: the contact's name, email, phone,
company, answers, consent and scores, the owner's email (for the lookup), and the
texts of notes and tasks. Nothing is logged but event ids, kinds and statuses.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests

from crm_adapter.delivery import (
    ConnectorConfigError,
    CrmEvent,
    Link,
    RetryableDeliveryError,
    call,
    raise_for,
)
from crm_adapter.field_map import (
    HUBSPOT_FIELDS,
    HUBSPOT_STAGES,
    FieldMap,
    FieldMapError,
    field_map,
)
from crm_adapter.sync_event import (
    ANSWER_SAVED,
    CONSENT_WITHDRAWN,
    IDENTIFIED,
    TASK_CREATED,
    contact_of,
    timeline_entry,
)

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.hubapi.com"
DEFAULT_TOKEN_ENV = "HUBSPOT_TOKEN"
TIMEOUT_SECONDS = 10.0
MAX_TIMEOUT_SECONDS = 120.0
CONTACTS = "/crm/v3/objects/contacts"
COMPANIES = "/crm/v3/objects/companies"
NOTES = "/crm/v3/objects/notes"
TASKS = "/crm/v3/objects/tasks"
OWNERS = "/crm/v3/owners"
OWNER_PROPERTY = "hubspot_owner_id"
LIFECYCLE_PROPERTY = "lifecyclestage"
LIFECYCLE_ORDER = (
    "subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity",
    "customer", "evangelist",
)  # fmt: skip
NOTE_TO_CONTACT = 202  # HUBSPOT_DEFINED association type ids
TASK_TO_CONTACT = 204
COMPANY_KEY = "__company_id:"
WITHDRAWAL_MODES = ("mark", "delete")
WITHDRAWN = "withdrawn"
OWNER_MISS_SECONDS = 600.0  # an owner not found is looked up again after this long
SUBJECT_LIMIT = 200
EXISTING_ID = re.compile(r"Existing ID:\s*(\d+)")
CONFIG_KEYS = frozenset(
    {"token_env", "base_url", "timeout", "owners", "on_withdrawal", "fields", "stages",
     "answer_template", "precedence"}
)  # fmt: skip

Record = tuple[str, dict[str, Any]]  # HubSpot id, properties


def default_fields() -> FieldMap:
    return field_map(HUBSPOT_FIELDS, HUBSPOT_STAGES, {})


@dataclass
class HubSpotConnector:
    """Delivers `CrmEvent`s to one HubSpot account. Use one instance per worker thread
    (the owner cache and the `requests.Session` are not shared safely)."""

    token: str = field(repr=False)
    fields: FieldMap = field(default_factory=default_fields, repr=False)
    base_url: str = DEFAULT_BASE_URL
    session: requests.Session = field(default_factory=requests.Session, repr=False)
    timeout: float = TIMEOUT_SECONDS
    owners: Mapping[str, str] = field(default_factory=dict, repr=False)
    on_withdrawal: str = "mark"
    name: str = "hubspot"
    _owner_ids: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    _owner_misses: dict[str, float] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.token, str) or not self.token.strip():
            raise ConnectorConfigError("hubspot: the access token is empty")
        if not isinstance(self.base_url, str) or not self.base_url.startswith(
            ("http://", "https://")
        ):
            raise ConnectorConfigError("hubspot: base_url must be an http(s) URL")
        timeout = self.timeout
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
            raise ConnectorConfigError("hubspot: timeout must be a number of seconds")
        if not 0 < timeout <= MAX_TIMEOUT_SECONDS:
            raise ConnectorConfigError(f"hubspot: timeout must be in (0, {MAX_TIMEOUT_SECONDS:g}]")
        if self.on_withdrawal not in WITHDRAWAL_MODES:
            raise ConnectorConfigError(
                f"hubspot: on_withdrawal must be one of {', '.join(WITHDRAWAL_MODES)}"
            )
        self.token = self.token.strip()
        self.base_url = self.base_url.rstrip("/")

    # ------------------------------------------------------------------ delivery

    def deliver(self, event: CrmEvent, link: Link | None = None) -> Link:
        """Applies `event` to HubSpot; idempotent for one `event.event_id`. Raises a
        `CrmDeliveryError` subclass when it did not land completely."""
        link = link or Link()
        if event.kind == CONSENT_WITHDRAWN:
            result = self._withdraw(event, link)
        else:
            result = self._deliver_contact(event, link)
        log.debug("HubSpot: delivered event %s (%s)", event.event_id, event.kind)
        return result

    def _deliver_contact(self, event: CrmEvent, link: Link) -> Link:
        contact = contact_of(event.payload)
        owner_id = self._owner_id(contact.get("owner"))
        desired = self.fields.properties(contact)
        if owner_id:
            desired[OWNER_PROPERTY] = owner_id
        link, (record_id, written) = self._upsert(contact.get("email"), desired, link)
        written.update(self._company(event, contact, record_id, link))
        self._note(event, record_id, owner_id)
        if event.kind == TASK_CREATED:
            self._task(event, record_id, owner_id)
        return link.with_sent(record_id, written)

    def _withdraw(self, event: CrmEvent, link: Link) -> Link:
        email = contact_of(event.payload).get("email")
        consent = self.fields.property_of("consent")
        _, found = self._locate(link, email, [consent] if consent else [])
        if found is None:
            return Link()
        record_id = found[0]
        if self.on_withdrawal == "delete":
            self._gdpr_delete(email, record_id)
            return Link()
        if consent:
            self._patch_contact(record_id, {consent: WITHDRAWN})
        self._note(event, record_id, None)
        return Link()

    # ------------------------------------------------------------------ contacts

    def _upsert(
        self, email: str | None, desired: dict[str, Any], link: Link
    ) -> tuple[Link, tuple[str, dict[str, Any]]]:
        """The contact written; returns the link to build on and (id, values Lotse wrote
        or found already holding its value)."""
        link, found = self._locate(link, email, desired)
        if found is None:
            record_id, created = self._create_contact(desired)
            if created:
                return link, (record_id, dict(desired))
            found = self._read_contact(record_id, desired)
            if found is None:
                raise RetryableDeliveryError(
                    "HubSpot: reading a contact: the conflicting one is gone"
                )
        record_id, current = found
        to_write = _not_backwards(self.fields.writable(desired, current, link.sent), current)
        if to_write:
            self._patch_contact(record_id, to_write)
        return link, (record_id, _confirmed(desired, current, to_write))

    def _locate(
        self, link: Link, email: str | None, properties: Iterable[str]
    ) -> tuple[Link, Record | None]:
        """The linked record, else the one with `email`. A linked id that is gone
        (deleted, merged away) is forgotten together with what was sent to it."""
        names = sorted(set(properties))
        if link.remote_id:
            found = self._read_contact(link.remote_id, names)
            if found is not None:
                return link, found
            link = Link()
        if not email:
            return link, None
        return link, self._read_contact(email, names, by_email=True)

    def _read_contact(
        self, key: str, properties: Iterable[str], by_email: bool = False
    ) -> Record | None:
        what = "reading a contact"
        names = ",".join(sorted(properties))
        params = {"properties": names} if names else {}
        if by_email:
            params["idProperty"] = "email"
        reply = self._request("GET", f"{CONTACTS}/{_segment(key)}", what, params=params)
        if reply.status_code == 404:
            return None
        return _record(self._checked(reply, what), what)

    def _create_contact(self, properties: Mapping[str, Any]) -> tuple[str, bool]:
        """(id, True) for a new record; (id, False) for one somebody created first."""
        what = "creating a contact"
        reply = self._request("POST", CONTACTS, what, json={"properties": dict(properties)})
        if reply.status_code == 409:
            existing = EXISTING_ID.search(str(_json(reply, what).get("message") or ""))
            if existing is None:
                raise RetryableDeliveryError(f"HubSpot: {what}: a conflict without the id (409)")
            return existing.group(1), False
        return _record(self._checked(reply, what), what)[0], True

    def _patch_contact(self, record_id: str, properties: Mapping[str, Any]) -> None:
        self._expect("PATCH", f"{CONTACTS}/{_segment(record_id)}", "updating a contact",
                     json={"properties": dict(properties)})  # fmt: skip

    def _gdpr_delete(self, email: str | None, record_id: str) -> None:
        what = "deleting a contact (GDPR)"
        body = {"objectId": record_id}  # the record found (its email may have changed)
        reply = self._request("POST", f"{CONTACTS}/gdpr-delete", what, json=body)
        if reply.status_code != 404:  # already gone is what was asked for
            self._checked(reply, what)

    # ------------------------------------------------------------------ companies, owners

    def _company(
        self, event: CrmEvent, contact: Mapping[str, Any], contact_id: str, link: Link
    ) -> dict[str, str]:
        """Finds or creates the contact's company and associates it, once per name."""
        name = str(contact.get("company") or "").strip()
        change = event.payload.get("change") or {}
        wanted = event.kind == IDENTIFIED or (
            event.kind == ANSWER_SAVED and change.get("attribute") == "company"
        )
        key = COMPANY_KEY + name
        if not name or not wanted or link.sent.get(key):
            return {}
        company_id = self._find_company(name) or self._create_company(name)
        path = (f"/crm/v4/objects/contact/{_segment(contact_id)}/associations/default/company/"
                f"{_segment(company_id)}")  # fmt: skip
        self._expect("PUT", path, "associating a company")
        return {key: company_id}

    def _find_company(self, name: str) -> str | None:
        found = self._search(COMPANIES, "name", "EQ", name, "searching companies", ["name"])
        return found[0] if found else None

    def _create_company(self, name: str) -> str:
        what = "creating a company"
        return _record(self._expect("POST", COMPANIES, what, json={"properties": {"name": name}}),
                       what)[0]  # fmt: skip

    def _owner_id(self, person: Mapping[str, Any] | None) -> str | None:
        """The HubSpot owner for a sales person: configured, else by email (cached)."""
        if not person:
            return None
        staff_id = person.get("staff_id")
        if staff_id is not None and str(staff_id) in self.owners:
            return str(self.owners[str(staff_id)])
        email = str(person.get("email") or "").strip().lower()
        if not email:
            return None
        if email in self._owner_ids:
            return self._owner_ids[email]
        if time.monotonic() < self._owner_misses.get(email, float("-inf")):
            return None
        found = self._expect("GET", OWNERS, "looking up an owner",
                             params={"email": email, "limit": 1}).get("results") or []  # fmt: skip
        if found and isinstance(found[0], Mapping) and found[0].get("id"):
            self._owner_ids[email] = str(found[0]["id"])
            return self._owner_ids[email]
        self._owner_misses[email] = time.monotonic() + OWNER_MISS_SECONDS
        return None

    # ------------------------------------------------------------------ timeline

    def _note(self, event: CrmEvent, contact_id: str, owner_id: str | None) -> None:
        entry = timeline_entry(event.event_id, event.kind, event.payload)
        if event.kind == IDENTIFIED and not entry.lines:
            return
        if self._written_before(event, NOTES, "hs_note_body", entry.marker):
            return
        properties = {"hs_timestamp": event.occurred_at, "hs_note_body": entry.html()}
        if owner_id:
            properties[OWNER_PROPERTY] = owner_id
        body = {
            "properties": properties,
            "associations": [_to_contact(contact_id, NOTE_TO_CONTACT)],
        }
        self._expect("POST", NOTES, "creating a note", json=body)

    def _written_before(self, event: CrmEvent, objects: str, body: str, marker: str) -> bool:
        """An earlier try of this event created the note or task (never on a first send)."""
        if event.first_send:
            return False
        what = f"searching {objects.rsplit('/', 1)[-1]}"
        return bool(self._search(objects, body, "CONTAINS_TOKEN", marker, what))

    def _task(self, event: CrmEvent, contact_id: str, owner_id: str | None) -> None:
        entry = timeline_entry(event.event_id, event.kind, event.payload)
        if self._written_before(event, TASKS, "hs_task_body", entry.marker):
            return
        change = event.payload.get("change") or {}
        kind = str(change.get("kind") or "task")
        callback = kind == "callback"
        properties = {
            "hs_timestamp": change.get("due_at") or event.occurred_at,
            "hs_task_subject": "Lotse: call back" if callback else f"Lotse: {kind[:SUBJECT_LIMIT]}",
            "hs_task_body": entry.html(),  # HubSpot renders it as rich text: escaped
            "hs_task_status": "NOT_STARTED",
            "hs_task_priority": "HIGH",
            "hs_task_type": "CALL" if callback else "TODO",
        }  # fmt: skip
        assignee = self._owner_id(change.get("assignee")) or owner_id
        if assignee:
            properties[OWNER_PROPERTY] = assignee
        body = {
            "properties": properties,
            "associations": [_to_contact(contact_id, TASK_TO_CONTACT)],
        }
        self._expect("POST", TASKS, "creating a task", json=body)

    # ------------------------------------------------------------------ HTTP

    def _search(
        self, objects: str, prop: str, operator: str, value: str, what: str,
        properties: list[str] | None = None,
    ) -> list[str]:  # fmt: skip
        """Ids of the records whose `prop` matches (at most one)."""
        query: dict[str, Any] = {
            "filterGroups": [{"filters": [{"propertyName": prop, "operator": operator,
                                           "value": value}]}],
            "limit": 1,
        }  # fmt: skip
        if properties:
            query["properties"] = properties
        results = self._expect("POST", f"{objects}/search", what, json=query).get("results") or []
        return [str(r["id"]) for r in results if isinstance(r, Mapping) and r.get("id")]

    def _request(self, method: str, path: str, what: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        return call(self.session, method, self.base_url + path, f"HubSpot: {what}", self.timeout,
                    headers=headers, **kwargs)  # fmt: skip

    def _expect(self, method: str, path: str, what: str, **kwargs: Any) -> dict[str, Any]:
        return self._checked(self._request(method, path, what, **kwargs), what)

    @staticmethod
    def _checked(reply: requests.Response, what: str) -> dict[str, Any]:
        raise_for(reply, f"HubSpot: {what}")
        return _json(reply, what)


def _json(reply: requests.Response, what: str) -> dict[str, Any]:
    """The reply's JSON object ({} for an empty body)."""
    if reply.status_code == 204 or not reply.content:
        return {}
    try:
        document = reply.json()
    except ValueError:
        raise RetryableDeliveryError(
            f"HubSpot: {what}: the CRM answered {reply.status_code} without JSON"
        ) from None
    return document if isinstance(document, dict) else {}


def _segment(value: str) -> str:
    """An id or email as one URL path segment."""
    return quote(str(value), safe="")


def _record(document: Mapping[str, Any], what: str) -> Record:
    if not document.get("id"):
        raise RetryableDeliveryError(f"HubSpot: {what}: the answer holds no record id")
    return str(document["id"]), dict(document.get("properties") or {})


def _to_contact(contact_id: str, type_id: int) -> dict[str, Any]:
    kind = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}
    return {"to": {"id": contact_id}, "types": [kind]}


def _not_backwards(to_write: dict[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """HubSpot refuses to move `lifecyclestage` back (400); such a move is left out."""
    new, now = to_write.get(LIFECYCLE_PROPERTY), current.get(LIFECYCLE_PROPERTY)
    known = new in LIFECYCLE_ORDER and now in LIFECYCLE_ORDER
    if known and LIFECYCLE_ORDER.index(now) > LIFECYCLE_ORDER.index(new):
        return {k: v for k, v in to_write.items() if k != LIFECYCLE_PROPERTY}
    return to_write


def _confirmed(
    desired: Mapping[str, Any], current: Mapping[str, Any], written: Mapping[str, Any]
) -> dict[str, Any]:
    """What Lotse wrote, plus the values the record already held as Lotse wants them
    (e.g. written by an attempt whose answer was lost), so a later change of Lotse's
    own value is not mistaken for a person's edit."""
    same = {
        prop: value
        for prop, value in desired.items()
        if current.get(prop) is not None and str(current[prop]).strip() == str(value).strip()
    }
    return {**same, **written}


# ---------------------------------------------------------------------- config


def hubspot_from_config(
    config: Mapping[str, Any], env: Mapping[str, str], session: requests.Session | None = None
) -> HubSpotConnector:
    """The connector for one `hubspot` config entry. Keys: token_env (default
    HUBSPOT_TOKEN: the environment variable holding the private app's token), base_url,
    timeout, owners (staff id -> owner id), on_withdrawal (mark|delete), fields, stages,
    answer_template, precedence. `ConnectorConfigError` names a bad key or the missing
    variable, never the token."""
    unknown = sorted(str(key) for key in config if key not in CONFIG_KEYS)
    if unknown:
        hint = (
            " (the token belongs in the variable named by token_env)" if "token" in unknown else ""
        )
        raise ConnectorConfigError(
            f"hubspot: unknown config keys: {', '.join(unknown)}{hint}; "
            f"known: {', '.join(sorted(CONFIG_KEYS))}"
        )
    try:
        fields = field_map(HUBSPOT_FIELDS, HUBSPOT_STAGES, config)
    except FieldMapError as error:
        raise ConnectorConfigError(f"hubspot: {error}") from None
    return HubSpotConnector(
        token=_token(config, env),
        fields=fields,
        base_url=config.get("base_url", DEFAULT_BASE_URL),
        session=session if session is not None else requests.Session(),
        timeout=config.get("timeout", TIMEOUT_SECONDS),
        owners=_owners(config.get("owners")),
        on_withdrawal=config.get("on_withdrawal", "mark"),
    )


def _token(config: Mapping[str, Any], env: Mapping[str, str]) -> str:
    variable = config.get("token_env", DEFAULT_TOKEN_ENV)
    if not isinstance(variable, str) or not variable.strip():
        raise ConnectorConfigError("hubspot: token_env must name an environment variable")
    token = (env.get(variable) or "").strip()
    if not token:
        raise ConnectorConfigError(
            f"hubspot: the environment variable {variable} (token_env) is not set or empty; "
            "it must hold the private app's access token"
        )
    return token


def _owners(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    bad = ConnectorConfigError("hubspot: owners must map staff ids to HubSpot owner ids")
    if not isinstance(value, Mapping):
        raise bad
    owners: dict[str, str] = {}
    for staff_id, owner_id in value.items():
        if not isinstance(owner_id, (str, int)) or isinstance(owner_id, bool) or not str(owner_id):
            raise bad
        owners[str(staff_id)] = str(owner_id)
    return owners
