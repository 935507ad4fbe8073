"""A local fake of the HubSpot CRM API (the endpoints `crm_adapter.connectors.hubspot`
uses), in memory, on 127.0.0.1 with an ephemeral port, used as a context manager.

State: `objects[type][id]` for contacts, companies, notes and tasks (`{"id",
"properties", "createdAt", "updatedAt", "archived"}`, property values stored as text
like HubSpot does), `associations` as (from type, from id, to type, to id, type id),
and `owners` seeded by the test. Every request is recorded (method, path, query, JSON
body, headers) before anything else happens, so a client that got its answer (or gave
up) can read the record at once.

Scripting: `fail(...)` makes the next matching requests answer an error, or hang
(optionally after applying the request: the write lands, the answer is lost);
`latency` adds seconds to every request; `set_property` is a person's edit in the UI;
`race_create` makes somebody else create a contact just before our next create.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from tests.support.fake_servers import FakeApiServer, QuietJsonHandler, ServedInThread

STAGES = ("subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity",
          "customer", "evangelist")  # fmt: skip
TYPES = ("contacts", "companies", "notes", "tasks")
SINGULAR = {"contacts": "contact", "companies": "company", "notes": "note", "tasks": "task"}
ASSOCIATION_TYPES = {("notes", "contact"): 202, ("tasks", "contact"): 204}
CATEGORIES = {400: "VALIDATION_ERROR", 401: "INVALID_AUTHENTICATION", 403: "MISSING_SCOPES",
              404: "OBJECT_NOT_FOUND", 409: "CONFLICT", 500: "INTERNAL_ERROR"}  # fmt: skip
Answer = tuple[int, dict[str, str], Any]


def error(status: int, message: str, category: str | None = None) -> Answer:
    body = {"status": "error", "message": message, "correlationId": str(uuid.uuid4()),
            "category": category or CATEGORIES.get(status, "ERROR")}  # fmt: skip
    if status == 429:
        body = {"status": "error", "message": "You have reached your secondly limit.",
                "errorType": "RATE_LIMIT", "correlationId": body["correlationId"],
                "policyName": "SECONDLY"}  # fmt: skip
    return status, {}, body


NOT_FOUND = "resource not found"


@dataclass
class Fault:
    """The next `times` requests matching `method` and the `path` prefix (all when None)
    answer `status` (with `headers`, and `body` or HubSpot's error body). With `hang`,
    they get no answer for that many seconds and then the connection closes; `apply`
    applies the request first (the write lands, the answer is lost)."""

    status: int = 500
    times: int = 1
    method: str | None = None
    path: str | None = None
    exact: bool = False  # `path` must match exactly, not as a prefix
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    hang: float = 0.0
    apply: bool = False

    def matches(self, method: str, path: str) -> bool:
        if self.times <= 0 or (self.method and self.method != method):
            return False
        return self.path is None or (
            path == self.path if self.exact else path.startswith(self.path)
        )


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


class _Handler(QuietJsonHandler):
    def _handle(self) -> None:
        fake = self.server.fake
        url = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")  # answered 400 below
        query, headers = dict(parse_qsl(url.query)), dict(self.headers.items())
        request = Recorded(self.command, url.path, query, headers, body)
        fault = fake._record(request)
        if fake.latency and fake._released.wait(fake.latency):
            return
        if fault is not None and fault.hang:
            if fault.apply:
                fake._answer(request)
            fake._released.wait(fault.hang)
            self.close_connection = True
            return
        if fault is not None:
            default = error(fault.status, "scripted failure")[2]
            answer: Answer = (fault.status, fault.headers, fault.body or default)
        else:
            answer = fake._answer(request)
        self._send(*answer)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

    def _send(self, status: int, headers: dict[str, str], body: Any) -> None:
        self.send_json(status, {"Content-Type": "application/json;charset=utf-8", **headers}, body)


class FakeHubSpot(ServedInThread):
    """HubSpot for one private-app `token`; see the module docstring."""

    def __init__(self, token: str = "pat-test-token", latency: float = 0.0) -> None:
        self.token = token
        self.latency = latency
        self.objects: dict[str, dict[str, dict[str, Any]]] = {t: {} for t in TYPES}
        self.associations: set[tuple[str, str, str, str, int]] = set()
        self.owners: list[dict[str, Any]] = []
        self.faults: list[Fault] = []
        self._requests: list[Recorded] = []
        self._race: dict[str, Any] | None = None
        self._next_id = 1000
        self._lock = threading.RLock()
        self._released = threading.Event()
        self._serve(FakeApiServer(self, _Handler), self._released)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # ------------------------------------------------------------------ scripting

    def fail(self, status: int = 500, times: int = 1, **options: Any) -> Fault:
        """Scripts a `Fault` (options: method, path, exact, headers, body, hang, apply)."""
        fault = Fault(status, times, **options)
        with self._lock:
            self.faults.append(fault)
        return fault

    def add_owner(self, owner_id: str, email: str, first: str = "", last: str = "") -> None:
        owner = {"id": owner_id, "email": email, "firstName": first, "lastName": last}
        self.owners.append({**owner, "archived": False})

    def add_contact(self, **properties: Any) -> str:
        with self._lock:
            return self._create("contacts", properties)["id"]

    def set_property(self, record_id: str, name: str, value: Any, kind: str = "contacts") -> None:
        """A person's edit in HubSpot's UI (no checks)."""
        with self._lock:
            self.objects[kind][record_id]["properties"][name] = _text(value)

    def race_create(self, **properties: Any) -> None:
        """Somebody else creates this contact right before our next contact create."""
        with self._lock:
            self._race = properties

    # ------------------------------------------------------------------ reading

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._requests)

    def calls(self, method: str, path_prefix: str = "") -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    def contact(self, record_id: str) -> dict[str, Any]:
        return self.objects["contacts"][record_id]["properties"]

    def contact_id(self, email: str) -> str | None:
        with self._lock:
            return self._by_email(email)

    def linked(self, kind: str, contact_id: str) -> list[dict[str, Any]]:
        """The notes/tasks/companies associated with a contact."""
        with self._lock:
            ids = [a[3] if a[0] == "contact" else a[1] for a in self.associations
                   if contact_id in (a[1], a[3]) and SINGULAR[kind] in (a[0], a[2])]  # fmt: skip
            return [self.objects[kind][i] for i in sorted(ids) if i in self.objects[kind]]

    # ------------------------------------------------------------------ serving

    def _record(self, request: Recorded) -> Fault | None:
        with self._lock:
            self._requests.append(request)
            for fault in self.faults:
                if fault.matches(request.method, request.path):
                    fault.times -= 1
                    return fault
        return None

    def _answer(self, request: Recorded) -> Answer:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return error(401, "Authentication credentials not found. This API supports OAuth 2.0 "
                         "authentication and you can find more details at https://developers."
                         "hubspot.com/docs/methods/auth/oauth-overview")  # fmt: skip
        if request.body is not None and not isinstance(request.body, dict):
            return error(400, "Invalid input JSON")
        for method, pattern, handler in ROUTES:
            found = re.fullmatch(pattern, request.path)
            if method == request.method and found:
                with self._lock:
                    try:
                        return handler(self, request, *map(unquote, found.groups()))
                    except (KeyError, TypeError, ValueError, AttributeError):
                        return error(400, "Invalid input JSON")
        return error(404, NOT_FOUND)

    def _create(self, kind: str, properties: dict[str, Any]) -> dict[str, Any]:
        self._next_id += 1
        now = datetime.now(timezone.utc).isoformat()
        values = {k: _text(v) for k, v in properties.items()}
        record = {"id": str(self._next_id), "properties": values, "createdAt": now,
                  "updatedAt": now, "archived": False}  # fmt: skip
        self.objects[kind][record["id"]] = record
        return record

    def _by_email(self, email: str) -> str | None:
        wanted = email.strip().lower()
        for record_id, record in self.objects["contacts"].items():
            if (record["properties"].get("email") or "").lower() == wanted:
                return record_id
        return None

    def _get_contact(self, request: Recorded, key: str) -> Answer:
        by_email = request.query.get("idProperty") == "email"
        record_id = self._by_email(key) if by_email else key
        record = self.objects["contacts"].get(record_id or "")
        if record is None:
            return error(404, NOT_FOUND)
        return 200, {}, _shown(record, request.query.get("properties", "").split(","))

    def _post_contact(self, request: Recorded) -> Answer:
        properties = dict((request.body or {}).get("properties") or {})
        if self._race is not None:
            self._create("contacts", self._race)
            self._race = None
        existing = properties.get("email") and self._by_email(str(properties["email"]))
        if existing:
            return error(409, f"Contact already exists. Existing ID: {existing}")
        return 201, {}, self._create("contacts", properties)

    def _patch_contact(self, request: Recorded, record_id: str) -> Answer:
        record = self.objects["contacts"].get(record_id)
        if record is None:
            return error(404, NOT_FOUND)
        properties = (request.body or {}).get("properties") or {}
        now, new = record["properties"].get("lifecyclestage"), properties.get("lifecyclestage")
        if now in STAGES and new in STAGES and STAGES.index(new) < STAGES.index(now):
            return error(400, "Property values were not valid: lifecyclestage cannot move back")
        record["properties"].update({k: _text(v) for k, v in properties.items()})
        record["updatedAt"] = datetime.now(timezone.utc).isoformat()
        return 200, {}, record

    def _post_object(self, request: Recorded, kind: str) -> Answer:
        body = request.body or {}
        properties = dict(body.get("properties") or {})
        if kind in ("notes", "tasks") and not properties.get("hs_timestamp"):
            return error(400, "Property values were not valid: hs_timestamp is required")
        links = []
        for association in body.get("associations") or []:
            to_id = str(association["to"]["id"])
            type_ids = [t.get("associationTypeId") for t in association.get("types") or []]
            wanted = [ASSOCIATION_TYPES.get((kind, "contact"))]
            if to_id not in self.objects["contacts"] or type_ids != wanted:
                return error(400, "invalid association")
            links.append((SINGULAR[kind], "", "contact", to_id, type_ids[0]))
        record = self._create(kind, properties)
        self.associations.update((a[0], record["id"], *a[2:]) for a in links)
        return 201, {}, record

    def _search(self, request: Recorded, kind: str) -> Answer:
        body = request.body or {}
        groups = body.get("filterGroups") or []
        operators = {f.get("operator") for g in groups for f in g["filters"]}
        if not operators <= {"EQ", "CONTAINS_TOKEN"}:
            return error(400, "unsupported operator")
        found = [r for _, r in sorted(self.objects[kind].items()) if _matches(r, groups)]
        shown = [_shown(r, body.get("properties") or []) for r in found[: body.get("limit", 10)]]
        return 200, {}, {"total": len(found), "results": shown}

    def _associate(self, request: Recorded, contact_id: str, company_id: str) -> Answer:
        contacts, companies = self.objects["contacts"], self.objects["companies"]
        if contact_id not in contacts or company_id not in companies:
            return error(404, NOT_FOUND)
        self.associations.add(("contact", contact_id, "company", company_id, 1))
        return 204, {}, None

    def _gdpr_delete(self, request: Recorded) -> Answer:
        body = request.body or {}
        key = str(body.get("objectId") or "")
        record_id = self._by_email(key) if body.get("idProperty") == "email" else key
        if self.objects["contacts"].pop(record_id or "", None) is None:
            return error(404, NOT_FOUND)
        self.associations = {a for a in self.associations if record_id not in (a[1], a[3])}
        return 204, {}, None

    def _list_owners(self, request: Recorded) -> Answer:
        email = request.query.get("email", "").lower()
        found = [o for o in self.owners if not email or o["email"].lower() == email]
        return 200, {}, {"results": found[: int(request.query.get("limit", 100))]}


ROUTES = [
    ("GET", r"/crm/v3/owners/?", FakeHubSpot._list_owners),
    ("POST", r"/crm/v3/objects/contacts/gdpr-delete", FakeHubSpot._gdpr_delete),
    ("POST", r"/crm/v3/objects/(contacts|companies|notes|tasks)/search", FakeHubSpot._search),
    ("POST", r"/crm/v3/objects/contacts", FakeHubSpot._post_contact),
    ("POST", r"/crm/v3/objects/(companies|notes|tasks)", FakeHubSpot._post_object),
    ("GET", r"/crm/v3/objects/contacts/([^/]+)", FakeHubSpot._get_contact),
    ("PATCH", r"/crm/v3/objects/contacts/([^/]+)", FakeHubSpot._patch_contact),
    ("PUT", r"/crm/v4/objects/contact/(\w+)/associations/default/company/(\w+)",
     FakeHubSpot._associate),
]  # fmt: skip


def _text(value: Any) -> str | None:
    """HubSpot keeps every property value as text."""
    return None if value is None else str(value)


def _shown(record: dict[str, Any], names: list[str]) -> dict[str, Any]:
    properties = {n: record["properties"].get(n) for n in names if n}
    return {**record, "properties": {"hs_object_id": record["id"], **properties}}


def _matches(record: dict[str, Any], groups: list[dict[str, Any]]) -> bool:
    def holds(f: dict[str, Any]) -> bool:
        have = (record["properties"].get(f["propertyName"]) or "").lower()
        want = str(f.get("value", "")).lower()
        return have == want if f["operator"] == "EQ" else want in have

    return not groups or any(all(holds(f) for f in g["filters"]) for g in groups)
