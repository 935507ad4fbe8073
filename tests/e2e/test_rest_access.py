"""Who may use Rasa's REST channel (issue 18): it shares Rasa's port with the messenger
webhooks, which are public, so it answers only the website's proxy and Lotse's own
scripts (a shared token, or a connection from this machine that no proxy forwarded);
its bodies are bounded; and no caller may file a conversation under a website
visitor's id that is not its own sender.

The channel runs in a Sanic app of its own in a thread, with a fake bot; the balancer
(HAProxy with the scaled profile's configuration) and the website's proxy are the real
ones.
"""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.channel import register as register_channels
from sanic import Sanic

from bot.channels.rest import MAX_BODY_BYTES, LotseRestInput
from bot.channels.rest_access import TOKEN_HEADER, RestAccess, is_local
from lotse.settings import SettingsError, load_settings
from ops.haproxy_config import Pool
from tests.integration.test_fuzz_payloads import served
from tests.integration.test_website_security import FakeFeed, Site
from tests.support.console_client import free_port
from tests.support.fake_servers import FakeWebhookServer, Reply
from tests.support.haproxy import running_haproxy
from website.server import load_guard

TOKEN = "rest-token-" + "7" * 32
VISITOR = "web-AbCdEfGhIjKlMnOpQrStUv.0123456789abcdefghijkl"  # a website id's shape
OTHER_VISITOR = "web-ZyXwVuTsRqPoNmLkJiHgFe.lkjihgfedcba9876543210"


class Bot:
    """What Rasa's agent does with a message here: records it and says hello."""

    def __init__(self) -> None:
        self.received: list[UserMessage] = []

    async def handle_message(self, message: UserMessage) -> None:
        self.received.append(message)
        await message.output_channel.send_text_message(message.sender_id, "Hallo!")


@pytest.fixture
def rest(monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[str, Bot]]:
    """Starts the REST channel with the given LOTSE_* settings; returns (base URL, bot)."""
    started: list[Any] = []

    def start(**environment: str) -> tuple[str, Bot]:
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        bot = Bot()
        app = Sanic(f"rest_access_{uuid.uuid4().hex[:8]}")
        app.ctx.agent = bot
        register_channels([LotseRestInput()], app, "/webhooks/")
        server = served(app, free_port())
        base = server.__enter__()
        started.append(server)
        return base, bot

    yield start
    for server in started:
        server.__exit__(None, None, None)


def post(base: str, body: Any = None, **headers: str) -> requests.Response:
    body = {"sender": "script-1", "message": "Hallo"} if body is None else body
    return requests.post(f"{base}/webhooks/rest/webhook", json=body, headers=headers, timeout=10)


def test_a_script_on_this_machine_is_answered_without_a_token(rest) -> None:
    base, bot = rest()
    answer = post(base)
    assert answer.status_code == 200 and answer.json()[0]["text"] == "Hallo!"
    assert [m.sender_id for m in bot.received] == ["script-1"]


@pytest.mark.parametrize("forwarded", [
    {"X-Forwarded-For": "203.0.113.9"}, {"X-Forwarded-For": "127.0.0.1, 203.0.113.9"},
    {"X-Real-IP": "203.0.113.9"}, {"Forwarded": "for=203.0.113.9;proto=https"},
    {"X-Forwarded-For": "not an address"},
])  # fmt: skip
def test_a_request_a_proxy_forwarded_from_outside_needs_the_token(rest, forwarded) -> None:
    base, bot = rest(LOTSE_REST_TOKEN=TOKEN)
    assert post(base, **forwarded).status_code == 401
    assert post(base, **forwarded, **{TOKEN_HEADER: "wrong-" + TOKEN}).status_code == 403
    assert bot.received == []
    assert post(base, **forwarded, **{TOKEN_HEADER: TOKEN}).status_code == 200
    assert len(bot.received) == 1


def test_without_a_token_configured_nothing_from_outside_is_accepted(rest) -> None:
    base, bot = rest()
    assert post(base, **{"X-Forwarded-For": "203.0.113.9", TOKEN_HEADER: ""}).status_code == 401
    assert post(base, **{"X-Forwarded-For": "203.0.113.9", TOKEN_HEADER: "x"}).status_code == 403
    assert bot.received == []


def test_with_token_access_even_this_machine_needs_the_token(rest) -> None:
    base, bot = rest(LOTSE_REST_TOKEN=TOKEN, LOTSE_REST_ACCESS="token")
    assert post(base).status_code == 401
    assert post(base, **{TOKEN_HEADER: TOKEN}).status_code == 200
    assert len(bot.received) == 1
    assert requests.get(f"{base}/webhooks/rest/", timeout=10).status_code == 200  # health


def test_the_access_rule_on_its_own() -> None:
    local = RestAccess(token=TOKEN, local=True)
    assert local.refusal("127.0.0.1", {}) is None
    assert local.refusal("::1", {"X-Forwarded-For": "127.0.0.1, ::1"}) is None
    assert local.refusal("192.0.2.7", {}) == 401  # a peer elsewhere
    assert local.refusal("192.0.2.7", {TOKEN_HEADER: TOKEN}) is None
    assert local.refusal("127.0.0.1", {"Via": "1.1 proxy"}) == 401
    assert RestAccess(token=TOKEN, local=False).refusal("127.0.0.1", {}) == 401
    assert not is_local("", {})  # a UNIX socket or no peer: not known to be local
    assert is_local("::ffff:127.0.0.1", {})
    # Two X-Forwarded-For lines: a client's own "127.0.0.1" in one, the proxy's in the
    # other; every line counts, not only the last a dict would keep.
    from multidict import CIMultiDict

    lines = CIMultiDict([("X-Forwarded-For", "198.51.100.4"), ("X-Forwarded-For", "127.0.0.1")])
    assert not is_local("127.0.0.1", lines)
    assert local.refusal("127.0.0.1", lines) == 401


def test_bad_rest_settings_stop_the_start_with_the_variable_named(monkeypatch) -> None:
    monkeypatch.setenv("LOTSE_REST_TOKEN", "short")
    with pytest.raises(SettingsError, match="LOTSE_REST_TOKEN"):
        load_settings()
    monkeypatch.delenv("LOTSE_REST_TOKEN")
    monkeypatch.setenv("LOTSE_REST_ACCESS", "token")
    with pytest.raises(SettingsError, match="LOTSE_REST_TOKEN"):
        load_settings()
    monkeypatch.setenv("LOTSE_REST_ACCESS", "anyone")
    with pytest.raises(SettingsError, match="LOTSE_REST_ACCESS"):
        load_settings()


def test_a_body_over_the_bound_is_refused_before_the_bot_sees_it(rest) -> None:
    base, bot = rest()
    big = {"sender": "script-1", "message": "x" * (MAX_BODY_BYTES + 10)}
    assert post(base, big).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"sender": "script-1", "message": "'
        for _ in range(MAX_BODY_BYTES // 1024 + 2):
            yield b"x" * 1024
        yield b'"}'

    chunked = requests.post(f"{base}/webhooks/rest/webhook", data=chunks(), timeout=10,
                            headers={"Content-Type": "application/json"})  # fmt: skip
    assert chunked.status_code == 413
    assert bot.received == []
    fits = {"sender": "script-1", "message": "x" * 20_000}  # the conversation tests' longest
    assert post(base, fits).status_code == 200


def test_no_caller_files_a_message_under_another_website_visitors_id(rest) -> None:
    base, bot = rest()
    claimed = {"sender": "script-1", "message": "Hallo", "metadata": {"visitor_id": VISITOR}}
    assert post(base, claimed).status_code == 403
    crossed = {"sender": OTHER_VISITOR, "message": "Hallo", "metadata": {"visitor_id": VISITOR}}
    assert post(base, crossed).status_code == 403
    assert bot.received == []
    own = {"sender": VISITOR, "message": "Hallo", "metadata": {"visitor_id": VISITOR}}
    assert post(base, own).status_code == 200  # what the website's proxy sends
    script = {"sender": "test-2", "message": "Hallo", "metadata": {"visitor_id": "v-123"}}
    assert post(base, script).status_code == 200  # a script's returning visitor
    assert [(m.sender_id, m.metadata["visitor_id"]) for m in bot.received] == [
        (VISITOR, VISITOR), ("test-2", "v-123")]  # fmt: skip


# -- through the balancer, as in the scale-out profile -----------------------------------


def outside_address() -> str | None:
    """An address of this machine that is not loopback: a client connecting to it is,
    for the server, a client from elsewhere."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.254", 9))  # no packet is sent
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


@pytest.fixture
def balanced(rest, tmp_path) -> Iterator[tuple[str, str, Bot]]:
    """The REST channel behind the scaled profile's HAProxy listening on every interface;
    yields (the balancer's loopback URL, its port, the bot)."""
    base, bot = rest(LOTSE_REST_TOKEN=TOKEN)
    port = free_port()
    channel = base.removeprefix("http://")
    pool = Pool("rasa", "0.0.0.0", port, (channel,), health_path="/webhooks/rest/")
    with running_haproxy([pool], tmp_path):
        yield f"http://127.0.0.1:{port}", str(port), bot


def test_behind_the_balancer_only_this_machine_or_the_token_gets_in(balanced) -> None:
    local_url, port, bot = balanced
    assert post(local_url).status_code == 200  # a script here, through the balancer
    spoofed = post(local_url, **{"X-Forwarded-For": "203.0.113.9"})
    assert spoofed.status_code == 401  # the balancer passes on who asked, not only itself
    outside = outside_address()
    if outside is None:
        pytest.skip("this machine has no address but loopback")
    remote = f"http://{outside}:{port}"
    assert post(remote).status_code == 401
    assert post(remote, **{"X-Forwarded-For": "127.0.0.1"}).status_code == 401  # no laundering
    assert post(remote, **{TOKEN_HEADER: TOKEN}).status_code == 200
    assert len(bot.received) == 2


# -- the website's proxy sends the token ------------------------------------------------


def test_the_websites_proxy_sends_the_token_when_one_is_set(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LOTSE_REST_TOKEN", TOKEN)
    answer = json.dumps([{"recipient_id": "x", "text": "Hallo!"}]).encode()
    with FakeWebhookServer(Reply(200, {"Content-Type": "application/json"}, answer)) as rasa:
        rasa_url = rasa.url.split("/hooks/")[0]
        guard = load_guard(load_settings({"LOTSE_VISITOR_KEY": "k" * 32}), tmp_path)
        fake_rasa = SimpleNamespace(url=rasa_url)
        with Site(fake_rasa, guard, FakeFeed()) as site:
            reply = site.chat(site.visitor())
        assert reply.status_code == 200, reply.text
        [forwarded] = rasa.received
        assert forwarded.path == "/webhooks/rest/webhook"
        assert {k.lower(): v for k, v in forwarded.headers.items()}[TOKEN_HEADER.lower()] == TOKEN


# -- the running stack ------------------------------------------------------------------


@pytest.mark.model
def test_the_stacks_rest_channel_answers_this_machine_and_refuses_what_came_from_outside(stack):
    url = f"{stack.rasa_url}/webhooks/rest/webhook"
    body = {"sender": f"test-{uuid.uuid4().hex[:8]}", "message": "/faq_warranty"}
    # (as tests/support/rest_client.py sends it)
    assert requests.post(url, json=body, timeout=60).status_code == 200
    forwarded = requests.post(url, json=body, timeout=60,
                              headers={"X-Forwarded-For": "203.0.113.9"})  # fmt: skip
    assert forwarded.status_code == 401
    claimed = {**body, "metadata": {"visitor_id": VISITOR}}
    assert requests.post(url, json=claimed, timeout=60).status_code == 403


def test_rasas_app_bounds_every_body_unless_told_otherwise() -> None:
    from bot.rasa_server import MAX_BODY_BYTES as RASA_MAX_BODY_BYTES
    from bot.rasa_server import bound_bodies

    environ: dict[str, str] = {}
    bound_bodies(environ)
    assert environ == {"SANIC_REQUEST_MAX_SIZE": str(RASA_MAX_BODY_BYTES)}
    chosen = {"SANIC_REQUEST_MAX_SIZE": "5000000"}
    bound_bodies(chosen)
    assert chosen == {"SANIC_REQUEST_MAX_SIZE": "5000000"}
