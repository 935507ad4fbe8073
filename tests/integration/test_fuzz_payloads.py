"""Fuzzing what arrives over HTTP: no request makes the staff console or a channel's
webhook answer 500, and what passes on to the bot stays within its bounds.

- The staff console (its real Sanic app, served from a thread against a temporary
  SQLite store, with a waiting, a claimed and a lead's conversation): every JSON route
  of `openapi.yaml` gets arbitrary bodies, body shapes with wrong types, bytes that
  are no JSON, odd content types, wrong CSRF tokens and origins, and path parameters
  in and out of range. The answer is never a 5xx other than a documented 503, and an
  error answer of the API is `{"error": <text>}`. (The event stream is left out: it
  stays open.) `test_console_schema.py` adds schemathesis on the same document.
- The channels as Rasa serves them (`rasa.core.channels.channel.register`, every
  messenger channel against the fake platforms of `tests/support/fake_messengers.py`, a fake
  agent instead of a trained model): requests without a valid signature are refused
  401/403 (a Teams request with an Authorization header but a body that is no JSON
  may be 400) and reach nobody; signed requests of the platform's shape with fuzzed
  values, and the REST channel's bodies, never answer 5xx, and each message the bot
  gets has a bounded, safe conversation id, cleaned and bounded text and metadata.

Bugs the fuzzing found have their inputs pinned by tests of their own below (handoff
ids beyond the stores' integers, unhashable transfer targets, Telegram updates without
a message, Slack bodies that are no object).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote, urlencode, urlsplit
from zoneinfo import ZoneInfo

import pytest
import requests
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.channel import register as register_channels
from sanic import Sanic

from bot.channels import relay
from bot.channels.botframework import OPENID_URL_VARIABLE
from bot.channels.facebook import API_URL_VARIABLE as FACEBOOK_API
from bot.channels.inbox import SEND_AGAIN
from bot.channels.messenger import MAX_PROFILE_NAME_CHARS
from bot.channels.rest import MAX_METADATA_CHARS, METADATA_KEYS, LotseRestInput
from bot.channels.slack import API_URL_VARIABLE as SLACK_API
from bot.channels.telegram import API_URL_VARIABLE as TELEGRAM_API
from bot.channels.twilio import API_URL_VARIABLE as TWILIO_API
from console.app import OPENAPI, ConsoleContext, make_app
from crm_adapter.port import Visit
from dialogue.qualification.questions import load_questionnaire
from dialogue.text_input import EMPTY_MESSAGE_INTENT, MAX_TEXT_CHARS
from handoff.canned_responses import CANNED_FILE
from handoff.desk import Actor, Ask, Desk
from handoff.routing import RoutingRequest
from handoff.routing_model import load_routing_model
from handoff.texts import load_handoff_texts
from tests.support import fake_messengers as fm
from tests.support.console_client import Staff, add_users, free_port, logged_in
from tests.support.sanic_thread import served
from tests.support.signed_webhooks import messenger_inputs, sign, signed_request
from wiring.services import services, services_for

FUZZ = settings(
    max_examples=40,
    deadline=None,
    # The autouse environment fixture of conftest.py is harmless to share between examples.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
SPEC = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
MAX_NESTING = 30_000


# --- values ----------------------------------------------------------------------------

json_scalars = (
    st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.floats(allow_nan=False)
    | st.text(max_size=60)
)  # fmt: skip
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),  # fmt: skip
    max_leaves=20,
)
any_text = st.text(st.characters(exclude_categories=()), max_size=200)
# Header values a client can send: latin-1, no line breaks, no white space around.
latin1 = st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f")
header_texts = st.text(latin1, max_size=80).map(str.strip)


def nested(depth: int) -> bytes:
    return b'{"text": ' + b"[" * depth + b"]" * depth + b"}"


# Values the app knows, for the properties whose schema says only "string".
KNOWN_VALUES = {
    "attribute": load_questionnaire().keys,
    "staff_id": tuple(load_routing_model().staff),
    "team": tuple(load_routing_model().teams),
    "email": ("anna.muster@mueller-metallbau.example", "not an address"),
    "phone": ("+49 151 12345678", "0151 1234 5678", "12"),
}


def typed(schema: dict[str, Any], name: str = "") -> st.SearchStrategy[Any]:
    """Values of a property's schema (enums, types, text bounds), sometimes anything."""
    schema = resolved(schema)
    kind = schema.get("type")
    if name in KNOWN_VALUES:
        fitting: st.SearchStrategy[Any] = st.sampled_from(KNOWN_VALUES[name]) | st.text(max_size=20)
    elif "enum" in schema:
        fitting = st.sampled_from(schema["enum"])
    elif kind == "string":
        fitting = st.text(st.characters(exclude_categories=("Cs",)),
                          max_size=min(schema.get("maxLength", 300) + 5, 400))  # fmt: skip
    elif kind == "boolean":
        fitting = st.booleans()
    elif kind == "integer":
        fitting = st.integers(-5, 10**6)
    else:
        fitting = json_values
    if schema.get("nullable"):
        fitting = st.none() | fitting
    return fitting | fitting | fitting | json_values | any_text


def raw_bodies(fields: dict[str, Any], required: Iterable[str] = ()) -> st.SearchStrategy[bytes]:
    """Bodies for a route whose JSON object has `fields` (name: schema): mostly objects
    of that shape (the `required` ones given) with well- or ill-typed values, else any
    JSON, bytes that are no JSON, deep nesting, huge numbers."""
    given_always = {name: typed(fields[name], name) for name in required if name in fields}
    shaped = st.fixed_dictionaries(given_always, optional={
        name: typed(schema, name) for name, schema in [*fields.items(), ("extra", {})]
        if name not in given_always
    })  # fmt: skip
    return st.one_of(
        shaped.map(lambda value: json.dumps(value).encode()),
        shaped.map(lambda value: json.dumps(value).encode()),
        shaped.map(lambda value: json.dumps(value, ensure_ascii=False).encode("utf-8",
                                                                             "surrogatepass")),
        json_values.map(lambda value: json.dumps(value).encode()),
        st.binary(max_size=200),
        st.integers(1, MAX_NESTING).map(nested),
        st.sampled_from([b"", b"{}", b"null", b"[]", b'{"text": "' + b"1" * 5000 + b'"}',
                         b"1" * 5000, b'{"a": 1e999}', b'{"a": NaN}', b"\xff\xfe{}"]),
    )  # fmt: skip


# --- the staff console -----------------------------------------------------------------


@dataclass
class Console:
    base: str
    admin: Staff
    anna: Staff
    handoffs: list[int]
    desk: Desk
    spare: list[Staff] = field(default_factory=list)  # sessions to log out


def waiting(desk: Desk, conversation: str, lead_id: int | None = None) -> int:
    ask = Ask(conversation, "visitor_asked", RoutingRequest(language="de"), "rest", "presses",
              lead_id)  # fmt: skip
    return desk.request(ask).handoff.id  # type: ignore[union-attr]


@contextmanager
def seeded_console(folder: Path, prefix: str) -> Iterator[tuple[str, Desk, list[int]]]:
    """The console app on a fresh SQLite store in `folder`, served from a thread, with
    the demo staff and three handoffs: waiting, waiting with a lead, claimed by anna.
    Yields (base URL, desk, handoff ids)."""
    url = f"sqlite:///{folder / 'lotse.db'}"
    root = services_for(url)
    crm = root.crm
    add_users(url)
    desk = Desk(root.handoffs, load_routing_model(), load_handoff_texts(),
                clock=lambda: TUESDAY_10)  # fmt: skip
    lead = crm.lead_for(Visit(f"{prefix}-lead", "rest", None, "de"))
    handoffs = [waiting(desk, f"{prefix}-waiting"), waiting(desk, f"{prefix}-lead", lead.lead_id),
                waiting(desk, f"{prefix}-claimed")]  # fmt: skip
    desk.claim(handoffs[2], Actor("anna", "agent", "anna"))
    canned = folder / "canned_responses.yml"  # admins' edits go here, not to bot/data
    canned.write_bytes(CANNED_FILE.read_bytes())
    ctx = ConsoleContext(desk, root.staff, crm, None, secure_cookies=False,
                         canned_responses=canned)  # fmt: skip
    app = make_app(ctx, name=f"{prefix}_console_{uuid.uuid4().hex[:8]}")
    with served(app, free_port()) as base:
        yield base, desk, handoffs


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    with seeded_console(tmp_path_factory.mktemp("fuzz_console"), "fuzz") as (base, desk, ids):
        # Logged in before any fuzzing: the random logins fill the rate limit of 127.0.0.1.
        spare = [logged_in(base, "tim") for _ in range(LOGOUTS)]
        admin, anna = logged_in(base, "admin"), logged_in(base, "anna")
        yield Console(base, admin, anna, ids, desk, spare)


def resolved(node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


@dataclass
class Operation:
    method: str
    path: str
    fields: dict[str, Any]  # the JSON body's properties and their schemas
    required: tuple[str, ...]
    statuses: frozenset[int]
    query: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


def operations() -> list[Operation]:
    found = []
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "delete"):
                continue
            body = resolved(operation.get("requestBody") or {})
            schema = resolved(body.get("content", {}).get("application/json", {}).get("schema"))
            parts = resolved(schema).get("allOf", [schema]) if schema else []
            required = tuple(name for part in parts for name in resolved(part).get(
                "required", []))  # fmt: skip
            fields = {name: value for part in parts
                      for name, value in resolved(part).get("properties", {}).items()}  # fmt: skip
            query = [resolved(p)["name"] for p in operation.get("parameters", [])
                     if resolved(p).get("in") == "query"]  # fmt: skip
            statuses = frozenset(int(code) for code in operation["responses"])
            found.append(Operation(method.upper(), path, fields, required, statuses, tuple(query)))
    return found


OPERATIONS = operations()
# The event stream stays open; logging out ends the session the other examples use, and
# logging in has its own test (after the others: failed logins fill the rate limit).
FUZZED = [op for op in OPERATIONS if op.path not in ("/console/api/events",
          "/console/api/logout", "/console/api/login")]  # fmt: skip
LOGOUTS = 5
CONTENT_TYPES = st.sampled_from(["application/json", "application/json; charset=utf-8",
                                 "APPLICATION/JSON", "text/plain", "application/x-www-form-"
                                 "urlencoded", ""]) | header_texts  # fmt: skip
USED_LOGINS = ("admin", "anna", "tim")  # disabling them would end the fuzzing sessions


@st.composite
def console_requests(draw: st.DrawFn, op: Operation, console: Console) -> dict[str, Any]:
    """A request for `op`: nine in ten as the console's page sends them (the session's
    CSRF token, JSON), with a body of the route's shape or not; one in ten with a wrong
    token, content type or origin. Path ids are mostly those of real handoffs."""
    who = draw(st.sampled_from([console.admin, console.anna]))
    path, well_formed = op.path, True
    if "{handoff_id}" in path:
        if draw(st.integers(0, 3)):
            choice: Any = draw(st.sampled_from(console.handoffs))
        else:
            choice = draw(st.integers(-(2**80), 2**80)
                          | st.text(max_size=12).map(lambda t: quote(t, safe="")))  # fmt: skip
            well_formed = choice in console.handoffs
        path = path.replace("{handoff_id}", str(choice))
    if "{username}" in path:
        name = draw(st.from_regex(r"[a-z0-9._-]{3,64}", fullmatch=True) | st.text(max_size=20))
        name = "nobody" if name.strip().lower() in USED_LOGINS else name
        path = path.replace("{username}", quote(name, safe=""))
    headers = {"Cookie": f"lotse_console={who.cookie}"}
    foreign = False
    if op.method != "GET":
        headers.update({"X-CSRF-Token": who.csrf, "Content-Type": "application/json"})
        if not draw(st.integers(0, 9)):
            well_formed = False
            spoilt = draw(st.sampled_from(["X-CSRF-Token", "Content-Type", "Origin"]))
            headers[spoilt] = draw({
                "X-CSRF-Token": st.sampled_from(["", who.csrf + "x"]) | header_texts,
                "Content-Type": CONTENT_TYPES,
                "Origin": st.sampled_from(["https://evil.example", "http://["]) | header_texts,
            }[spoilt])  # fmt: skip
            foreign = spoilt == "Origin" and is_foreign(headers["Origin"], console.base)
    body = draw(raw_bodies(op.fields, op.required)) if op.method in ("POST", "PUT") else b""
    query = {name: draw(typed({"type": "string"}) | st.just("")) for name in op.query
             if draw(st.booleans())}  # fmt: skip
    return {"method": op.method, "url": console.base + path, "headers": headers, "data": body,
            "params": query, "well_formed": well_formed, "foreign": foreign}  # fmt: skip


def is_foreign(origin: str, base: str) -> bool:
    """Whether the console must refuse a request from `origin` (empty: no Origin sent)."""
    try:
        return bool(origin) and urlsplit(origin).netloc != urlsplit(base).netloc
    except ValueError:
        return True


def check_answer(op: Operation, reply: requests.Response, well_formed: bool) -> None:
    where = f"{op.label}: {reply.status_code} {reply.text[:300]}"
    assert reply.status_code < 500 or (reply.status_code == 503 and 503 in op.statuses), where
    if well_formed:
        assert reply.status_code in op.statuses, where
        if reply.status_code >= 400:
            assert isinstance(reply.json().get("error"), str), where


@pytest.mark.parametrize("op", FUZZED, ids=lambda op: op.label)
def test_no_request_to_the_console_api_is_answered_with_a_server_error(console: Console, op):
    @FUZZ
    @given(data=st.data())
    def run(data):
        call = data.draw(console_requests(op, console))
        well_formed, foreign = call.pop("well_formed"), call.pop("foreign")
        reply = requests.request(**call, timeout=30)
        event(f"{reply.status_code} {'well-formed' if well_formed else 'malformed'}")
        check_answer(op, reply, well_formed)
        if foreign:  # any Origin that is not the console's own, even one that is no URL
            assert reply.status_code == 403, (call["headers"]["Origin"], reply.text[:200])

    run()


def test_logging_out_with_any_body_ends_only_that_session(console: Console):
    [logout] = [op for op in OPERATIONS if op.path == "/console/api/logout"]

    @settings(FUZZ, max_examples=LOGOUTS)
    @given(body=raw_bodies({}))
    def run(body):
        staff = console.spare.pop() if console.spare else logged_in(console.base, "tim")
        reply = requests.post(f"{console.base}/console/api/logout", data=body,
                              headers={**staff.headers(), "Content-Type": "application/json"},
                              timeout=30)  # fmt: skip
        check_answer(logout, reply, well_formed=True)
        assert staff.get("/console/api/me").status_code == 401
        assert console.anna.get("/console/api/me").status_code == 200

    run()


def test_any_login_body_is_refused_without_a_server_error(console: Console):
    [login] = [op for op in OPERATIONS if op.path == "/console/api/login"]

    @settings(FUZZ, max_examples=60)
    @given(body=raw_bodies(login.fields, login.required),
           content_type=st.sampled_from(["application/json"] * 4) | CONTENT_TYPES)  # fmt: skip
    def run(body, content_type):
        reply = requests.post(f"{console.base}/console/api/login", data=body,
                              headers={"Content-Type": content_type}, timeout=30)  # fmt: skip
        check_answer(login, reply, well_formed=content_type == "application/json")
        assert reply.status_code != 200 or "lotse_console" in reply.cookies

    run()


def test_a_handoff_id_out_of_the_stores_range_is_not_found(console: Console):
    assert console.admin.get("/console/api/handoffs/99999999999999999999").status_code == 404


def test_a_transfer_to_a_list_is_refused(console: Console):
    handoff_id = waiting(console.desk, f"fuzz-transfer-{uuid.uuid4().hex[:8]}")
    assert console.anna.post(f"/console/api/handoffs/{handoff_id}/claim").status_code == 200
    reply = console.anna.post(f"/console/api/handoffs/{handoff_id}/transfer", {"staff_id": []})
    assert reply.status_code == 422


def test_deeply_nested_json_is_refused(console: Console):
    reply = requests.put(f"{console.base}/console/api/presence", data=b"[" * 60_000,
                         headers={**console.anna.headers(), "Content-Type": "application/json"},
                         timeout=30)  # fmt: skip
    assert reply.status_code == 422 and reply.json()["error"] == "the body is not valid JSON"


# --- the REST channel's cleaning -------------------------------------------------------

SENDER = re.compile(r"[A-Za-z0-9._:@-]{1,128}")


@settings(FUZZ, max_examples=150)
@given(body=st.fixed_dictionaries({}, optional={
    "sender": json_values | any_text, "message": json_values | any_text,
    "input_channel": json_values | any_text,
    "metadata": st.fixed_dictionaries({}, optional={key: json_values | any_text
                                                    for key in METADATA_KEYS}) | json_values,
}) | json_values)  # fmt: skip
def test_the_rest_channel_cleans_any_body(body):
    channel = LotseRestInput()
    request = SimpleNamespace(json=body)
    sender = asyncio.run(channel._extract_sender(request))
    assert sender is None or SENDER.fullmatch(sender)
    text = channel._extract_message(request)
    assert text == EMPTY_MESSAGE_INTENT or 0 < len(text) <= MAX_TEXT_CHARS
    metadata = channel.get_metadata(request)
    if metadata is not None:
        assert set(metadata) <= set(METADATA_KEYS)
        assert all(isinstance(v, str) and v.strip() and len(v) <= MAX_METADATA_CHARS
                   for v in metadata.values())  # fmt: skip


# --- the channels as Rasa serves them --------------------------------------------------


@dataclass
class Channels:
    base: str
    fake: fm.FakeMessengers
    received: list[UserMessage]
    env: dict[str, str]

    def url(self, channel: str) -> str:
        return f"{self.base}/webhooks/{channel}/webhook"


@pytest.fixture(scope="module")
def channels() -> Iterator[Channels]:
    with fm.FakeMessengers() as fake, pytest.MonkeyPatch.context() as patch:
        env = {TELEGRAM_API: f"{fake.url}/telegram", FACEBOOK_API: f"{fake.url}/facebook",
               TWILIO_API: f"{fake.url}/twilio", SLACK_API: f"{fake.url}/slack/api",
               OPENID_URL_VARIABLE: f"{fake.url}/botframework/openid"}  # fmt: skip
        for name, value in env.items():
            patch.setenv(name, value)
        # No handoff relay: nothing is sent here (its `register` is a plain function).
        patch.setattr(relay, "register", lambda _outlet: None)
        for name in ("start", "stop"):
            patch.setattr(relay, name, _nothing)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        inputs = [LotseRestInput(), *messenger_inputs(base)]
        received: list[UserMessage] = []

        async def handle_message(message: UserMessage) -> None:
            if message.text == FAILING_TURN:
                raise RuntimeError("the tracker store failed")
            received.append(message)

        app = Sanic(f"fuzz_channels_{uuid.uuid4().hex[:8]}")
        app.ctx.agent = SimpleNamespace(handle_message=handle_message)
        register_channels(inputs, app, "/webhooks/")
        with served(app, port):
            yield Channels(base, fake, received, env)


async def _nothing(*_args: Any, **_kwargs: Any) -> None:
    return None


@pytest.fixture
def webhooks(channels: Channels, monkeypatch: pytest.MonkeyPatch) -> Channels:
    for name, value in channels.env.items():  # conftest clears LOTSE_* for every test
        monkeypatch.setenv(name, value)
    channels.received.clear()
    return channels


MESSENGERS = ("telegram", "facebook", "twilio", "slack", "botframework")
FAILING_TURN = "Diese Nachricht scheitert"  # the fake bot fails its turn
SIGNATURE_HEADERS = {"telegram": "X-Telegram-Bot-Api-Secret-Token",
                     "facebook": "X-Hub-Signature-256", "twilio": "X-Twilio-Signature",
                     "slack": "X-Slack-Signature", "botframework": "Authorization"}  # fmt: skip


@pytest.mark.parametrize("channel", MESSENGERS)
def test_unsigned_or_forged_webhook_calls_reach_nobody(webhooks: Channels, channel: str):
    header = SIGNATURE_HEADERS[channel]

    @FUZZ
    @given(body=raw_bodies(dict.fromkeys(["message", "entry", "event", "Body", "from"], {})),
           signature=st.none() | header_texts | header_texts.map("Bearer {}".format)
           | header_texts.map("sha256={}".format) | header_texts.map("v0={}".format),
           stamp=st.none() | header_texts | st.integers(0, 2 * 10**9).map(str),
           content_type=CONTENT_TYPES)  # fmt: skip
    def run(body, signature, stamp, content_type):
        headers = {"Content-Type": content_type}
        if signature is not None:
            headers[header] = signature
        if stamp is not None:
            headers["X-Slack-Request-Timestamp"] = stamp
        reply = requests.post(webhooks.url(channel), data=body, headers=headers, timeout=30)
        refusals = {400, 401, 403} if channel == "botframework" else {401, 403}
        assert reply.status_code in refusals, (reply.status_code, reply.text[:300])
        assert not webhooks.received

    run()


names = st.text(st.characters(exclude_categories=("Cs",)), max_size=120)
visitor_texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=2500) | st.sampled_from(
    ["", " ", "1", "2.", "/restart", "/greet", '/inform{"x": 1}', "\x00\u200b", "😀" * 50]
)  # fmt: skip
platform_ids = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=150)


def settled(timeout: float = 15.0) -> None:
    """Waits until the inbox worker has run the turn of every stored message: a webhook
    answers once the message is stored, and the turn runs after that."""
    deadline = time.monotonic() + timeout
    while services().inbox.open_count() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert services().inbox.open_count() == 0


def check_received(channel: str, messages: list[UserMessage]) -> None:
    """Every message of `channel` cleaned, once the turns of the stored messages ran."""
    settled()
    for message in [m for m in messages if m.input_channel == channel]:
        assert re.fullmatch(rf"{channel}:[A-Za-z0-9._:@+-]+", message.sender_id)
        assert len(message.sender_id) <= 128
        assert isinstance(message.text, str) and 0 < len(message.text) <= MAX_TEXT_CHARS
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\u200b]", message.text)
        name = (message.metadata or {}).get("profile_name")
        assert name is None or (isinstance(name, str) and len(name) <= MAX_PROFILE_NAME_CHARS)


@pytest.mark.parametrize("channel", MESSENGERS)
def test_signed_messages_with_any_values_reach_the_bot_cleaned(webhooks: Channels, channel):
    @FUZZ
    @given(text=visitor_texts, name=names | json_values, platform_id=platform_ids,
           extra=st.none() | json_values | visitor_texts)  # fmt: skip
    def run(text, name, platform_id, extra):
        body, headers = signed_request(channel, webhooks, text, name, platform_id, extra)
        webhooks.received.clear()
        reply = requests.post(webhooks.url(channel), data=body, headers=headers, timeout=30)
        assert reply.status_code < 500, (reply.status_code, reply.text[:300])
        check_received(channel, webhooks.received)

    run()


@settings(FUZZ, max_examples=60)
@given(body=raw_bodies(dict.fromkeys(["sender", "message", "metadata", "input_channel"], {})),
       content_type=CONTENT_TYPES)  # fmt: skip
def test_any_rest_request_is_answered_without_a_server_error(webhooks: Channels, body,
                                                             content_type):  # fmt: skip
    webhooks.received.clear()
    reply = requests.post(webhooks.url("rest"), data=body,
                          headers={"Content-Type": content_type}, timeout=30)  # fmt: skip
    assert reply.status_code < 500, (reply.status_code, reply.text[:300])
    for message in webhooks.received:
        assert SENDER.fullmatch(message.sender_id) and ":" not in message.sender_id
        assert message.input_channel == "rest"
        assert message.text == EMPTY_MESSAGE_INTENT or 0 < len(message.text) <= MAX_TEXT_CHARS


@pytest.mark.parametrize("channel", MESSENGERS)
def test_a_plain_signed_message_reaches_the_bot(webhooks: Channels, channel: str):
    """So that the refusals above mean something: the same set-up lets a real message in."""
    body, headers = signed_request(
        channel,
        webhooks,
        "Was kostet die P400?",
        "Anna Muster",
        "+4915112345678" if channel == "twilio" else "U12345",
    )
    reply = requests.post(webhooks.url(channel), data=body, headers=headers, timeout=30)
    assert reply.status_code == 200, reply.text[:300]
    settled()  # the turn runs after the answer
    [message] = ours(webhooks.received)
    assert message.sender_id.startswith(f"{channel}:")
    assert message.input_channel == channel  # what check_received picks a channel's by
    check_received(channel, [message])


def ours(received: list[UserMessage]) -> list[UserMessage]:
    return [m for m in received if m.text == "Was kostet die P400?"]


form_fields = st.sampled_from(["From", "Body", "ProfileName", "To", "WaId", "NumMedia"])
form_bodies = st.dictionaries(
    form_fields | st.text(max_size=8),
    st.lists(st.text(max_size=80), min_size=1, max_size=2), max_size=6,
).map(lambda form: urlencode(form, doseq=True).encode()) | st.binary(max_size=100)  # fmt: skip


@pytest.mark.parametrize("channel", ["facebook", "twilio", "botframework", "telegram", "slack"])
def test_signed_bodies_of_any_shape_are_answered_without_a_server_error(webhooks, channel):
    fields = ["object", "entry", "messaging", "message", "type", "from", "text", "serviceUrl",
              "conversation", "recipient", "channelData", "value"]  # fmt: skip
    bodies = form_bodies if channel == "twilio" else raw_bodies(dict.fromkeys(fields, {}))

    @FUZZ
    @given(body=bodies)
    def run(body):
        reply = requests.post(webhooks.url(channel), data=body,
                              headers=sign(channel, webhooks, body), timeout=30)  # fmt: skip
        assert reply.status_code < 500, (reply.status_code, reply.text[:300])
        check_received(channel, webhooks.received)

    run()


MY_CHAT_MEMBER = {  # what Telegram sends when a person blocks the bot
    "update_id": 10001,
    "my_chat_member": {
        "chat": {"id": 1, "type": "private"}, "date": 1,
        "from": {"id": 1, "is_bot": False, "first_name": "Anna"},
        "old_chat_member": {"status": "member",
                            "user": {"id": 2, "is_bot": True, "first_name": "Lotse"}},
        "new_chat_member": {"status": "kicked", "until_date": 0,
                            "user": {"id": 2, "is_bot": True, "first_name": "Lotse"}},
    },
}  # fmt: skip


def test_a_telegram_update_without_a_message_is_acknowledged(webhooks: Channels):
    body = json.dumps(MY_CHAT_MEMBER).encode()
    reply = requests.post(webhooks.url("telegram"), data=body, headers=sign("telegram", webhooks,
                          body), timeout=30)  # fmt: skip
    assert reply.status_code == 200 and not webhooks.received


def test_a_signed_slack_body_that_is_no_object_is_refused(webhooks: Channels):
    for body in (b"", b"null", b"[]", b'{"event": []}'):
        reply = requests.post(webhooks.url("slack"), data=body, headers=sign("slack", webhooks,
                              body), timeout=30)  # fmt: skip
        assert reply.status_code < 500, body


def test_the_rest_channel_keeps_out_of_messenger_conversations(webhooks: Channels):
    """`telegram:<chat id>` is guessable: the REST channel neither writes into nor reads
    such a conversation; a message without a sender is refused too; the channel is rest."""
    webhooks.received.clear()
    for body, status in (({"sender": "telegram:4711", "message": "Hallo"}, 403),
                         ({"sender": "twilio:whatsapp:+4915112345678", "message": "Hi"}, 403),
                         ({"message": "Hallo"}, 400)):  # fmt: skip
        assert requests.post(webhooks.url("rest"), json=body, timeout=30).status_code == status
    assert webhooks.received == []
    posing = {"sender": "web-1", "message": "Hallo", "input_channel": "telegram"}
    assert requests.post(webhooks.url("rest"), json=posing, timeout=30).status_code == 200
    assert [(m.sender_id, m.input_channel) for m in webhooks.received] == [("web-1", "rest")]


def test_a_rest_conversation_over_its_rate_gets_429(webhooks: Channels):
    webhooks.received.clear()
    body = {"sender": f"web-burst-{uuid.uuid4().hex[:6]}", "message": "Hallo"}
    answers = [requests.post(webhooks.url("rest"), json=body, timeout=30) for _ in range(31)]
    assert [a.status_code for a in answers[:30]] == [200] * 30
    assert answers[30].status_code == 429 and int(answers[30].headers["Retry-After"]) >= 1
    assert answers[30].json() == {"error": "too many messages, please wait a moment"}
    assert len(webhooks.received) == 30


@pytest.mark.parametrize("channel", ["telegram", "facebook", "twilio"])
def test_a_messenger_visitor_whose_turn_failed_is_asked_to_send_again(webhooks, channel):
    """The platform has its 200 before the turn runs; a turn that fails every time it is
    tried queues the request to send the message again (the relay sends it)."""
    sender = "+4915112345678" if channel == "twilio" else "U12345"
    body, headers = signed_request(channel, webhooks, FAILING_TURN, "Anna Muster", sender)
    reply = requests.post(webhooks.url(channel), data=body, headers=headers, timeout=30)
    assert reply.status_code == 200
    settled()
    [event] = [e for e in all_events(channel) if e["message"]["text"] == FAILING_TURN]
    assert event["outcome"] == "failed: RuntimeError" and event["attempts"] == 1
    queued = services().handoffs.messages(event["conversation_id"], 0, ("bot",))
    assert [m.text for m in queued] == [SEND_AGAIN]


def all_events(channel: str) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from conversations.channel_inbox import inbox

    with services().engine.connect() as c:
        rows = c.execute(select(inbox).where(inbox.c.channel == channel)).mappings()
        return [dict(r) for r in rows]
