"""A local fake of Microsoft Dataverse (Web API v9.2) and of the Entra ID token endpoint.

One HTTP/1.1 server (keep-alive) in a daemon thread on 127.0.0.1 with an ephemeral port,
used as a context manager. It serves

    POST {token_path}                      client credentials -> a bearer token
    GET  /api/data/v9.2/<set>(<id>)        one row ($select)
    GET  /api/data/v9.2/<set>?...          rows ($select, $filter "col eq 'x' and ...", $top)
    POST /api/data/v9.2/leads              create (duplicate detection, OData-EntityId)
    PATCH /api/data/v9.2/<set>(<id>)       update; creates the row unless `If-Match: *`
    DELETE /api/data/v9.2/<set>(<id>)

for the sets leads, annotations, tasks and systemusers, with Dataverse's error bodies
(`{"error": {"code": "0x...", "message": "..."}}`). `<nav>@odata.bind` values become
`_<lookup>_value` columns (ownerid -> _ownerid_value, objectid_lead -> _objectid_value,
regardingobjectid_lead_task -> _regardingobjectid_value). A lead column that is neither a
standard one nor `lotse_*` gets 400, as a missing custom column does in Dataverse.

Scripting, for fault tests and benchmarks (all thread-safe):

    fail(status, times, method, path, retry_after)   the next matching requests get status
    throttle(retry_after, times, method, path)       429 0x80072322 + Retry-After
    hang(seconds, times, method, path, applied)      silence first (longer than the
                                                     client's timeout); applied=True
                                                     changes the state before the silence
    latency = 0.05                                   seconds added to every request
    expire_tokens()                                  every issued token gets 401 now
    expires_in = 3599                                lifetime of tokens issued from now on
                                                     (honoured: an old token gets 401)
    add_user(email) / add_lead(**columns)            seed data
    edit_lead(lead_id, **columns)                    a person edits the lead in Dynamics
    create_before_next_post(**columns)               somebody else creates this lead just
                                                     before our next POST /leads (-> 412)

`path` is a prefix of the request path; it defaults to the Dataverse API (`API`), so
faults hit the token endpoint only with `path=fake.token_path`. Faults are used in the
order they were added, each for `times` matching requests; `clear_faults()` drops them.

State, read as copies: `leads`, `annotations`, `tasks` (id -> columns), `requests` (every
request, recorded before it is answered: method, path, query, raw_query, lower-case
headers, body; `.json()`, `.form()`), `requests_to(method, path_prefix)`,
`token_requests`. Addresses: `url` (the connector's base_url), `token_url`, `token_path`.
The token endpoint accepts CLIENT_ID / CLIENT_SECRET (or those given) and the scope
`{url}/.default`; anything else gets Entra's 400/401 error bodies.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.support.fake_servers import FakeApiServer, QuietJsonHandler, ServedInThread

API = "/api/data/v9.2"
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
CLIENT_SECRET = "fake~client~secret~value~0123456789"
TENANT = "tenant"
THROTTLED = "0x80072322"
DUPLICATE = "0x80040333"
NOT_FOUND = "0x80040217"
BAD_QUERY = "0x80060888"
LEAD_COLUMNS = frozenset({
    "leadid", "subject", "firstname", "lastname", "fullname", "emailaddress1",
    "emailaddress2", "telephone1", "mobilephone", "companyname", "jobtitle", "description",
    "statecode", "statuscode", "_ownerid_value", "createdon", "modifiedon",
})  # fmt: skip
_RESOURCE = re.compile(r"^/(\w+)(?:\(([^)]*)\))?$")
_BIND = re.compile(r"^/(\w+)\(([^)]*)\)$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_CLAUSE = re.compile(r"\s*(\w+)\s+eq\s+('(?:[^']|'')*'|-?\d+(?:\.\d+)?|null|true|false)\s*")


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]  # decoded
    raw_query: str  # as sent (percent-encoded)
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode()))


@dataclass
class Fault:
    status: int = 500
    times: int = 1
    method: str | None = None  # None: any method
    path: str = API  # a prefix of the request path
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    hang: float = 0.0  # seconds of silence first
    applied: bool = False  # with hang: the request changes the state, only the answer is lost

    def matches(self, method: str, path: str) -> bool:
        return self.times > 0 and self.method in (None, method) and path.startswith(self.path)


@dataclass
class Answer:
    status: int
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Table:
    logical: str  # "lead"
    key: str  # "leadid"
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)


class BadRequest(Exception):
    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.status)
        self.answer = answer


def error(status: int, code: str, message: str, **headers: str) -> Answer:
    return Answer(status, {"error": {"code": code, "message": message}}, headers)


class _Handler(QuietJsonHandler):
    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        url = urlsplit(self.path)
        request = Recorded(method, url.path, dict(parse_qsl(url.query)), url.query,
                           {k.lower(): v for k, v in self.headers.items()}, body)  # fmt: skip
        answer = self.server.fake.answer(request)
        if answer is not None:
            self._write(answer)

    def _write(self, answer: Answer) -> None:
        headers = {**answer.headers, "OData-Version": "4.0"}
        if answer.body is not None:
            headers["Content-Type"] = "application/json; odata.metadata=minimal"
        try:
            self.send_json(answer.status, headers, answer.body)
        except OSError:
            self.close_connection = True  # the client gave up (its timeout)


class FakeDynamics(ServedInThread):
    """Dataverse and its token endpoint in one local server (see the module docstring)."""

    def __init__(
        self, client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET,
        tenant: str = TENANT, expires_in: int = 3599, duplicate_detection: bool = True,
    ) -> None:  # fmt: skip
        self.client_id, self.client_secret, self.tenant = client_id, client_secret, tenant
        self.expires_in = expires_in
        self.duplicate_detection = duplicate_detection
        self.latency = 0.0
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._faults: list[Fault] = []
        self._requests: list[Recorded] = []
        self._tokens: dict[str, float] = {}  # token -> when it expires (monotonic)
        self._token_requests = 0
        self._before_post: list[dict[str, Any]] = []
        self._tables = {
            "leads": _Table("lead", "leadid"),
            "annotations": _Table("annotation", "annotationid"),
            "tasks": _Table("task", "activityid"),
            "systemusers": _Table("systemuser", "systemuserid"),
        }
        self._serve(FakeApiServer(self, _Handler), self._released)

    # ------------------------------------------------------------ addresses

    @property
    def url(self) -> str:
        """The environment URL (the connector's base_url)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def token_path(self) -> str:
        return f"/{self.tenant}/oauth2/v2.0/token"

    @property
    def token_url(self) -> str:
        return self.url + self.token_path

    # ------------------------------------------------------------- scripting

    def fail(
        self, status: int, times: int = 1, method: str | None = None, path: str = API,
        retry_after: float | None = None, code: str = "0x80040216",
    ) -> None:  # fmt: skip
        headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
        body = {"error": {"code": code, "message": f"Scripted failure {status}"}}
        self._add(Fault(status, times, method, path, headers, body))

    def throttle(
        self, retry_after: float, times: int = 1, method: str | None = None, path: str = API
    ) -> None:
        body = {"error": {"code": THROTTLED, "message": "Number of requests exceeded the "
                          "limit of 6000 over time window of 300 seconds."}}  # fmt: skip
        self._add(Fault(429, times, method, path, {"Retry-After": f"{retry_after:g}"}, body))

    def hang(
        self, seconds: float, times: int = 1, method: str | None = None, path: str = API,
        applied: bool = False,
    ) -> None:  # fmt: skip
        """Silence for `seconds` (cut short when the server stops), then 504 without a
        change, or (applied=True) the normal answer to a request already applied."""
        body = {"error": {"code": "0x80044151", "message": "Gateway timeout"}}
        self._add(Fault(504, times, method, path, {}, body, seconds, applied))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def expire_tokens(self) -> None:
        """Every token issued so far is refused from now on (401 invalid_token)."""
        with self._lock:
            self._tokens.clear()

    def add_user(self, email: str, user_id: str | None = None) -> str:
        user_id = user_id or str(uuid.uuid4())
        row = {"systemuserid": user_id, "internalemailaddress": email, "fullname": email}
        with self._lock:
            self._tables["systemusers"].rows[user_id] = row
        return user_id

    def add_lead(self, **columns: Any) -> str:
        with self._lock:
            return self._insert_lead(columns)

    def edit_lead(self, lead_id: str, **columns: Any) -> None:
        with self._lock:
            self._tables["leads"].rows[lead_id].update(columns)

    def create_before_next_post(self, **columns: Any) -> None:
        with self._lock:
            self._before_post.append(columns)

    # ----------------------------------------------------------------- state

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, method: str, path: str = API) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path)]

    @property
    def token_requests(self) -> int:
        with self._lock:
            return self._token_requests

    @property
    def leads(self) -> dict[str, dict[str, Any]]:
        return self._rows("leads")

    @property
    def annotations(self) -> dict[str, dict[str, Any]]:
        return self._rows("annotations")

    @property
    def tasks(self) -> dict[str, dict[str, Any]]:
        return self._rows("tasks")

    def _rows(self, entity_set: str) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {k: dict(v) for k, v in self._tables[entity_set].rows.items()}

    # ------------------------------------------------------------- answering

    def answer(self, request: Recorded) -> Answer | None:
        """The answer to one request; None when the server stopped while it hung."""
        with self._lock:
            self._requests.append(request)
            if request.method == "POST" and request.path == self.token_path:
                self._token_requests += 1
            fault = self._take_fault(request)
            latency = self.latency
        if latency and self._released.wait(latency):
            return None
        if fault is not None and not fault.applied:
            if fault.hang and self._released.wait(fault.hang):
                return None
            return Answer(fault.status, fault.body, dict(fault.headers))
        with self._lock:
            answer = self._route(request)
        if fault is not None and self._released.wait(fault.hang):
            return None
        return answer

    def _add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def _take_fault(self, request: Recorded) -> Fault | None:
        for fault in self._faults:
            if fault.matches(request.method, request.path):
                fault.times -= 1
                return fault
        return None

    def _route(self, request: Recorded) -> Answer:
        if request.path == self.token_path and request.method == "POST":
            return self._token(request.form())
        if not request.path.startswith(API + "/"):
            return error(404, BAD_QUERY, "Resource not found.")
        if not self._authorized(request.headers.get("authorization", "")):
            return error(401, "", "The access token is invalid or expired.",
                         **{"WWW-Authenticate": 'Bearer error="invalid_token"'})  # fmt: skip
        try:
            return self._dataverse(request)
        except BadRequest as bad:
            return bad.answer

    def _token(self, form: dict[str, str]) -> Answer:
        if form.get("grant_type") != "client_credentials":
            return _entra(400, "unsupported_grant_type", "AADSTS70003: grant type not supported.")
        if form.get("client_id") != self.client_id:
            return _entra(400, "unauthorized_client", "AADSTS700016: Application not found.")
        if form.get("client_secret") != self.client_secret:
            return _entra(401, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
        if form.get("scope") != f"{self.url}/.default":
            return _entra(400, "invalid_scope", "AADSTS70011: The scope is not valid.")
        token = f"fake-access-token-{uuid.uuid4().hex}"
        self._tokens[token] = time.monotonic() + self.expires_in
        return Answer(200, {"token_type": "Bearer", "expires_in": self.expires_in,
                            "ext_expires_in": self.expires_in, "access_token": token})  # fmt: skip

    def _authorized(self, header: str) -> bool:
        scheme, _, token = header.partition(" ")
        return scheme == "Bearer" and self._tokens.get(token, 0.0) > time.monotonic()

    # ------------------------------------------------------------- Dataverse

    def _dataverse(self, request: Recorded) -> Answer:
        found = _RESOURCE.match(request.path[len(API) :])
        table = self._tables.get(found[1]) if found else None
        if found is None or table is None:
            return error(404, BAD_QUERY, "Resource not found for the segment.")
        key = found[2]
        if key is not None and not _GUID.match(key):
            return error(400, BAD_QUERY, "Bad Request - Error in query syntax.")
        method = request.method
        if method == "GET":
            return self._list(found[1], table, request.query) if key is None else \
                self._get(found[1], table, key, request.query)  # fmt: skip
        if method == "POST" and key is None and found[1] == "leads":
            return self._create_lead(request)
        if method == "PATCH" and key is not None:
            return self._patch(found[1], table, key.lower(), request)
        if method == "DELETE" and key is not None:
            if table.rows.pop(key.lower(), None) is None:
                return self._missing(table, key)
            return Answer(204)
        return error(405, BAD_QUERY, "Method not allowed.")

    def _get(self, name: str, table: _Table, key: str, query: dict[str, str]) -> Answer:
        row = table.rows.get(key.lower())
        if row is None:
            return self._missing(table, key)
        columns = self._select(table, query)
        document = {"@odata.context": f"{self.url}{API}/$metadata#{name}/$entity"}
        return Answer(200, {**document, **_project(table, row, columns)})

    def _list(self, name: str, table: _Table, query: dict[str, str]) -> Answer:
        columns = self._select(table, query)
        clauses = _parse_filter(query.get("$filter", ""))
        rows = [row for row in table.rows.values() if all(_eq(row.get(c), v) for c, v in clauses)]
        if "$top" in query:
            rows = rows[: int(query["$top"])]
        return Answer(200, {"@odata.context": f"{self.url}{API}/$metadata#{name}",
                            "value": [_project(table, row, columns) for row in rows]})  # fmt: skip

    def _create_lead(self, request: Recorded) -> Answer:
        columns = self._columns(self._tables["leads"], request)
        for other in self._before_post:
            self._insert_lead(other)
        self._before_post.clear()
        check = request.headers.get("mscrm.suppressduplicatedetection", "").lower() == "false"
        email = str(columns.get("emailaddress1") or "").lower()
        leads = self._tables["leads"].rows.values()
        if (
            check
            and self.duplicate_detection
            and email
            and any(str(row.get("emailaddress1") or "").lower() == email for row in leads)
        ):
            return error(412, DUPLICATE, "A record was not created or updated because a "
                         "duplicate of the current record already exists.")  # fmt: skip
        lead_id = self._insert_lead(columns)
        return Answer(204, headers={"OData-EntityId": f"{self.url}{API}/leads({lead_id})"})

    def _patch(self, name: str, table: _Table, key: str, request: Recorded) -> Answer:
        columns = self._columns(table, request)
        row = table.rows.get(key)
        if row is None and request.headers.get("if-match") == "*":
            return self._missing(table, key)
        if row is None:
            row = table.rows[key] = {table.key: key}
        row.update(columns)
        row["versionnumber"] = int(row.get("versionnumber", 0)) + 1
        return Answer(204, headers={"OData-EntityId": f"{self.url}{API}/{name}({key})"})

    def _insert_lead(self, columns: dict[str, Any]) -> str:
        lead_id = str(uuid.uuid4())
        self._tables["leads"].rows[lead_id] = {"leadid": lead_id, "versionnumber": 1, **columns}
        return lead_id

    def _columns(self, table: _Table, request: Recorded) -> dict[str, Any]:
        """The body's columns, binds resolved to `_<lookup>_value`."""
        try:
            body = request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise BadRequest(error(400, "0x80048d19", "Error identified in Payload."))
        columns: dict[str, Any] = {}
        for name, value in body.items():
            if name.endswith("@odata.bind"):
                lookup = name.removesuffix("@odata.bind").split("_")[0]
                columns[f"_{lookup}_value"] = self._bound(str(value))
            else:
                self._known(table, name)
                columns[name] = value
        return columns

    def _bound(self, value: str) -> str:
        found = _BIND.match(value)
        table = self._tables.get(found[1]) if found else None
        if found is None or table is None:
            raise BadRequest(error(400, BAD_QUERY, "Invalid bind reference."))
        if found[2].lower() not in table.rows:
            raise BadRequest(self._missing(table, found[2]))
        return found[2].lower()

    def _select(self, table: _Table, query: dict[str, str]) -> list[str] | None:
        if "$select" not in query:
            return None
        columns = [c.strip() for c in query["$select"].split(",") if c.strip()]
        for column in columns:
            self._known(table, column)
        return columns

    def _known(self, table: _Table, column: str) -> None:
        if (
            table.logical == "lead"
            and column not in LEAD_COLUMNS
            and not (column.startswith("lotse_"))
        ):
            message = f"Could not find a property named '{column}' on type '{table.logical}'."
            raise BadRequest(error(400, BAD_QUERY, message))

    @staticmethod
    def _missing(table: _Table, key: str) -> Answer:
        return error(404, NOT_FOUND, f"{table.logical} With Id = {key} Does Not Exist")


def _entra(status: int, code: str, description: str) -> Answer:
    return Answer(status, {"error": code, "error_description": description})


def _project(table: _Table, row: dict[str, Any], columns: list[str] | None) -> dict[str, Any]:
    etag = {"@odata.etag": f'W/"{row.get("versionnumber", 1)}"'}
    if columns is None:
        return {**etag, **row}
    return {**etag, **{c: row.get(c) for c in columns}, table.key: row[table.key]}


def _parse_filter(text: str) -> list[tuple[str, Any]]:
    """`col eq 'x' and col2 eq 3` -> [(col, "x"), (col2, 3)]; else 400, as Dataverse."""
    clauses: list[tuple[str, Any]] = []
    position = 0
    while text.strip():  # left by a return or a raise
        found = _CLAUSE.match(text, position)
        if found is None:
            raise BadRequest(error(400, BAD_QUERY, "Syntax error in $filter."))
        clauses.append((found[1], _literal(found[2])))
        position = found.end()
        if position == len(text):
            return clauses
        if not text.startswith("and ", position):
            raise BadRequest(error(400, BAD_QUERY, "Syntax error in $filter."))
        position += 4
    return clauses


def _literal(token: str) -> Any:
    if token.startswith("'"):
        return token[1:-1].replace("''", "'")
    return {"null": None, "true": True, "false": False}.get(token, token)


def _eq(value: Any, wanted: Any) -> bool:
    if isinstance(wanted, str) and isinstance(value, str):
        return value.lower() == wanted.lower()  # Dataverse compares text case-insensitively
    return str(value) == str(wanted) if wanted is not None else value is None
