"""The website's public endpoint: signed visitor ids, rate limits, CORS, the id key.

The site (its Sanic app) runs in a thread with an event loop of its own against a fake
of Rasa's REST channel and a fake of the handoff feed, both recording what reaches them;
no model, no database.
"""

from __future__ import annotations

import asyncio
import http.client
import ipaddress
import itertools
import json
import secrets
import socket
import stat
import threading
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st
from sanic import Sanic

from bot.channels.rest import clean_sender
from lotse.rate_limit import Limit, TokenBucket, parse_limit
from lotse.settings import SettingsError, load_settings
from tests.support.concurrency import run_together
from tests.support.fake_servers import FakeApiServer, QuietJsonHandler, ServedInThread
from website.guard import Guard, load_guard
from website.server import make_site
from website.visitor_ids import VisitorIds, load_visitor_key

KEY = b"0123456789abcdef0123456789abcdef"
OFFICE = "https://www.nordwerk.example"
SITES = itertools.count()  # Sanic's apps need names of their own
UNKNOWN = {"error": "unknown visitor"}
TOO_MANY = {"error": "too many messages, please wait a moment"}


# ----------------------------------------------------------------------- the fakes


class _RasaHandler(QuietJsonHandler):
    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        fake: FakeRasa = self.server.fake
        with fake.lock:
            fake.received.append(json.loads(body))
        self.send_json(200, {}, [{"recipient_id": "x", "text": "Hallo!"}])


class FakeRasa(ServedInThread):
    """Rasa's REST channel: records each body, answers "Hallo!"."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self._serve(FakeApiServer(self, _RasaHandler))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"


class FakeFeed:
    """The handoff feed (`FeedWatcher`): records who asked, answers at once."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, int]] = []
        self.typed: list[tuple[str, bool]] = []

    async def updates(
        self, conversation_id: str, after: int, *, typing: bool = False
    ) -> dict[str, Any]:
        self.asked.append((conversation_id, after))
        return {"messages": [], "last_id": after, "status": {"state": "bot"},
                "typing": {"agent": False, "seconds": 0.0}}  # fmt: skip

    async def visitor_typing(self, conversation_id: str, typing: bool) -> bool:
        self.typed.append((conversation_id, typing))
        return True


class ServedApp:
    """A Sanic app on a free port of 127.0.0.1, served from a thread with its own event
    loop while used as a context manager; its listeners run as under `app.run`."""

    def __init__(self, app: Sanic) -> None:
        self.app = app
        self._socket = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.port = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._problems: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, name=f"sanic-{app.name}", daemon=True)
        # Sanic rewrites its HTTP class for the first app it starts; in test mode it keeps
        # the original, so the next app in this process starts too.
        self._test_mode = pytest.MonkeyPatch()

    def __enter__(self) -> ServedApp:
        self._test_mode.setattr(Sanic, "test_mode", True)
        self._thread.start()
        if not self._started.wait(30) or self._problems:
            self._test_mode.undo()
            raise RuntimeError(f"{self.app.name} did not start") from (
                self._problems[0] if self._problems else None)  # fmt: skip
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._test_mode.undo()

    def _run(self) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        try:
            # Listening from here on; answering once started up.
            server = loop.run_until_complete(self.app.create_server(
                sock=self._socket, return_asyncio_server=True, access_log=False))  # fmt: skip
            for step in (server.startup, server.before_start, server.after_start):
                loop.run_until_complete(step())
        except BaseException as error:  # noqa: BLE001 - reported to the waiting test
            self._problems.append(error)
            self._started.set()
            return
        self._started.set()
        loop.run_forever()
        loop.run_until_complete(server.before_stop())
        server.server.close()
        for connection in list(server.connections):
            connection.close()
        loop.run_until_complete(server.server.wait_closed())
        loop.run_until_complete(server.after_stop())
        for task in asyncio.all_tasks(loop):
            task.cancel()
        loop.run_until_complete(asyncio.sleep(0))
        loop.close()


class Site(ServedApp):
    """The website (`make_site`) with a fake Rasa at `rasa.url` and `feed`."""

    def __init__(self, rasa: FakeRasa, guard: Guard, feed: FakeFeed) -> None:
        super().__init__(make_site(rasa.url, guard, feed, name=f"website_{next(SITES)}"))

    def issue(self, **headers: str) -> requests.Response:
        return requests.post(f"{self.url}/api/chat/visitor", headers=headers, timeout=10)

    def visitor(self) -> str:
        answer = self.issue()
        assert answer.status_code == 200, answer.text
        return answer.json()["visitor_id"]

    def chat(self, sender: object, text: str = "Hallo", **headers: str) -> requests.Response:
        body = {"sender": sender, "message": text, "metadata": {"language": "de"}}
        return requests.post(f"{self.url}/api/chat", json=body, headers=headers, timeout=10)

    def updates(self, sender: str, **headers: str) -> requests.Response:
        return requests.get(
            f"{self.url}/api/chat/updates", params={"sender": sender, "after": 0},
            headers=headers, timeout=10,
        )  # fmt: skip

    def typing(self, sender: object, typing: object = True, **headers: str) -> requests.Response:
        body = {"sender": sender, "typing": typing}
        return requests.post(f"{self.url}/api/chat/typing", json=body, headers=headers, timeout=10)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def rasa() -> Iterator[FakeRasa]:
    with FakeRasa() as fake:
        yield fake


@pytest.fixture
def feed() -> FakeFeed:
    return FakeFeed()


@pytest.fixture
def run_site(rasa: FakeRasa, feed: FakeFeed) -> Iterator:
    """Starts the site with a given guard (default limits, the test key)."""
    sites: list[Site] = []

    def start(guard: Guard | None = None) -> Site:
        site = Site(rasa, guard or Guard(VisitorIds(KEY)), feed)
        sites.append(site.__enter__())
        return site

    yield start
    for site in sites:
        site.__exit__(None, None, None)


# ------------------------------------------------------------------- visitor ids


def test_an_issued_id_verifies_and_its_message_reaches_rasa_under_that_id(run_site, rasa, feed):
    site = run_site()
    sender = site.visitor()
    assert sender.startswith("web-") and "." in sender and len(sender) <= 128
    assert clean_sender(sender) == sender
    assert VisitorIds(KEY).verify(sender) == sender

    body = {"sender": sender, "message": "Hallo", "input_channel": "telegram",
            "metadata": {"language": "de", "visitor_id": "web-someone-else"}}  # fmt: skip
    reply = requests.post(f"{site.url}/api/chat", json=body, timeout=10)

    assert reply.status_code == 200 and reply.json()[0]["text"] == "Hallo!"
    # The verified sender is the visitor id; no other key (input_channel) passes.
    assert rasa.received == [
        {"sender": sender, "message": "Hallo", "metadata": {"language": "de", "visitor_id": sender}}
    ]
    assert site.updates(sender).status_code == 200
    assert feed.asked == [(sender, 0)]


def _forged() -> dict[str, str]:
    ids = VisitorIds(KEY)
    one, other = ids.issue(), ids.issue()
    token, signature = one.split(".")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    return {
        "random": f"web-{secrets.token_urlsafe(16)}.{secrets.token_urlsafe(16)[:22]}",
        "tampered signature": f"{token}.{flipped}",
        "tampered token": f"web-{'A' if token[4] != 'A' else 'B'}{token[5:]}.{signature}",
        "another id's signature": f"{token}.{other.split('.')[1]}",
        "another key's id": VisitorIds(b"x" * 32).issue(),
        "old style": "web-abc",
        "old style uuid": "web-1b4e28ba-2fa1-11d2-883f-0016cb4b5a9c",
        "trailing newline": one + "\n",
        "empty": "",
    }


@pytest.mark.parametrize("kind", list(_forged()))
def test_a_forged_id_is_refused_before_anything_reaches_rasa_or_the_feed(
    kind, run_site, rasa, feed
):
    site = run_site()
    forged = _forged()[kind]
    for answer in (site.chat(forged), site.updates(forged), site.typing(forged)):
        assert answer.status_code == HTTPStatus.FORBIDDEN
        assert answer.json() == UNKNOWN
    assert rasa.received == [] and feed.asked == [] and feed.typed == []


def exchange(port: int, request: bytes) -> bytes:
    """Sends `request` as it is and reads until the site closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
        return answer


def test_a_stalled_request_is_answered_and_its_connection_closed(rasa, feed):
    site = Site(rasa, Guard(VisitorIds(KEY)), feed)
    site.app.config.update(REQUEST_TIMEOUT=0.5, RESPONSE_TIMEOUT=1)
    with site:
        half_a_head = exchange(site.port, b"GET / HTTP/1.1\r\nHost: x\r\n")
        half_a_body = exchange(site.port, b"POST /api/chat HTTP/1.1\r\nHost: x\r\n"
                                          b"Content-Length: 10\r\n\r\n{}")  # fmt: skip
    assert half_a_head.startswith(b"HTTP/1.1 408 ")
    assert half_a_body.startswith(b"HTTP/1.1 503 ")
    assert rasa.received == []


def test_odd_numbers_are_refused_not_crashed_on(run_site, feed):
    site = run_site()
    sender = site.visitor()
    for after in ("²", "-1", "1e3"):
        answer = requests.get(f"{site.url}/api/chat/updates",
                              params={"sender": sender, "after": after}, timeout=10)  # fmt: skip
        assert answer.status_code == HTTPStatus.BAD_REQUEST
    connection = http.client.HTTPConnection("127.0.0.1", int(site.url.rsplit(":", 1)[1]), 10)
    connection.putrequest("POST", "/api/chat/visitor")
    connection.putheader("Content-Length", "²")
    connection.endheaders()
    assert connection.getresponse().status == HTTPStatus.BAD_REQUEST
    connection.close()
    assert feed.asked == []


def test_a_sender_that_is_no_string_is_refused(run_site, rasa):
    site = run_site()
    for sender in (None, 12345, ["web-a.b"], {"id": 1}):
        assert site.chat(sender).status_code == HTTPStatus.FORBIDDEN
    assert rasa.received == []


ID_SHAPED = st.from_regex(r"web-[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{22}", fullmatch=True)


@given(st.one_of(st.text(max_size=300), ID_SHAPED, st.binary(), st.integers(), st.none()))
def test_arbitrary_strings_never_verify_and_never_crash(raw):
    assert VisitorIds(KEY).verify(raw) is None


@given(st.integers(min_value=0, max_value=5))
def test_every_issued_id_verifies_and_survives_the_rest_channel(_):
    ids = VisitorIds(KEY)
    issued = ids.issue()
    assert ids.verify(issued) == issued and clean_sender(issued) == issued


# ------------------------------------------------------------------- rate limits


def test_a_visitor_past_the_burst_gets_429_and_others_still_talk(run_site, rasa):
    clock = FakeClock()
    site = run_site(Guard(VisitorIds(KEY), per_visitor=TokenBucket(Limit(1 / 60, 3), clock),
                          per_ip=None, issuing=None))  # fmt: skip
    anna, ben = site.visitor(), site.visitor()
    assert [site.chat(anna).status_code for _ in range(3)] == [200, 200, 200]

    refused = site.chat(anna)
    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert refused.json() == TOO_MANY
    assert refused.headers["Retry-After"] == "60"
    assert len(rasa.received) == 3

    assert site.chat(ben).status_code == 200
    clock.now += 60
    assert site.chat(anna).status_code == 200


def test_the_visitors_typing_is_checked_like_a_message_and_has_its_own_bucket(
    run_site, rasa, feed
):
    clock = FakeClock()
    site = run_site(Guard(VisitorIds(KEY), per_visitor=TokenBucket(Limit(1 / 60, 2), clock),
                          per_ip=None, issuing=None))  # fmt: skip
    anna = site.visitor()
    assert site.typing(anna).json() == {"typing": True}
    assert site.typing(anna, False).status_code == 200
    assert feed.typed == [(anna, True), (anna, False)]
    refused = site.typing(anna)
    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS and refused.json() == TOO_MANY
    assert site.chat(anna).status_code == 200  # typing used up its own tokens, not the chat's
    foreign = site.typing(anna, Origin="https://evil.example")
    assert foreign.status_code == HTTPStatus.FORBIDDEN
    assert foreign.json() == {"error": "this site may not use the chat"}
    for bad in ("yes", None, 1):
        assert site.typing(anna, bad).status_code == HTTPStatus.BAD_REQUEST
    assert len(feed.typed) == 2


def test_one_address_past_its_burst_gets_429_whatever_the_visitor(run_site, rasa, feed):
    clock = FakeClock()
    site = run_site(Guard(VisitorIds(KEY), per_visitor=None, issuing=None,
                          per_ip=TokenBucket(Limit(1.0, 2), clock)))  # fmt: skip
    visitors = [site.visitor() for _ in range(3)]
    assert [site.chat(v).status_code for v in visitors] == [200, 200, 429]
    # Forged ids count too: the address is limited before the id is looked at.
    assert [site.updates("web-abc").status_code for _ in range(3)] == [403, 403, 429]
    assert site.updates(visitors[0]).headers["Retry-After"] == "1"
    clock.now += 1
    assert site.chat(visitors[2]).status_code == 200
    assert len(rasa.received) == 3 and feed.asked == []


def test_issuing_ids_is_limited_per_address(run_site):
    site = run_site(Guard(VisitorIds(KEY), issuing=TokenBucket(Limit(30 / 60, 2), FakeClock())))
    answers = [site.issue() for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].json() == TOO_MANY and answers[2].headers["Retry-After"] == "2"


class SharedBucket:
    """A bucket elsewhere (the shape of `RedisTokenBucket`): records which thread asked
    and for what, answers the scripted waits."""

    def __init__(self, *waits: float) -> None:
        self.waits = list(waits)
        self.asked: list[tuple[str, str]] = []

    def take(self, key: str) -> float:
        self.asked.append((threading.current_thread().name, key))
        return self.waits.pop(0)


def test_a_shared_bucket_is_asked_from_a_thread_not_the_event_loop(run_site, rasa):
    shared = SharedBucket(0.0, 0.0, 2.5)
    site = run_site(Guard(VisitorIds(KEY), per_ip=None, issuing=None, per_visitor=shared))
    sender = site.visitor()
    assert site.chat(sender).status_code == 200
    assert site.updates(sender).status_code == 200
    refused = site.chat(sender)
    assert (refused.status_code, refused.headers["Retry-After"]) == (429, "3")
    assert [key for _, key in shared.asked] == [f"chat {sender}", f"updates {sender}",
                                                 f"chat {sender}"]  # fmt: skip
    assert not any(name.startswith("sanic-") for name, _ in shared.asked)
    assert len(rasa.received) == 1


def test_forwarded_for_counts_only_behind_a_trusted_proxy(run_site):
    limit = Limit(1 / 60, 1)
    proxy = frozenset([ipaddress.ip_address("127.0.0.1")])
    behind = run_site(
        Guard(VisitorIds(KEY), issuing=TokenBucket(limit, FakeClock()), trusted_proxies=proxy)
    )
    first = {"X-Forwarded-For": "203.0.113.9, 198.51.100.1"}
    second = {"X-Forwarded-For": "198.51.100.1, 198.51.100.2"}  # spoofed first hops don't count
    assert behind.issue(**first).status_code == 200
    assert behind.issue(**second).status_code == 200
    assert behind.issue(**{"X-Forwarded-For": "198.51.100.2"}).status_code == 429

    direct = run_site(Guard(VisitorIds(KEY), issuing=TokenBucket(limit, FakeClock())))
    assert direct.issue(**first).status_code == 200
    assert direct.issue(**second).status_code == 429  # the socket peer, header ignored


# ------------------------------------------------------------------------- CORS


def test_no_cors_headers_by_default_and_a_foreign_post_is_refused(run_site, rasa):
    site = run_site()
    sender = site.visitor()
    same_site = site.chat(sender, Origin=site.url)
    assert same_site.status_code == 200
    assert "Access-Control-Allow-Origin" not in same_site.headers

    assert site.chat(sender, Origin="https://evil.example").status_code == HTTPStatus.FORBIDDEN
    assert site.issue(Origin="https://evil.example").status_code == HTTPStatus.FORBIDDEN
    assert site.chat(sender, Origin="null").status_code == HTTPStatus.FORBIDDEN
    preflight = requests.options(f"{site.url}/api/chat", headers={"Origin": OFFICE}, timeout=10)
    assert preflight.status_code == HTTPStatus.FORBIDDEN
    assert "Access-Control-Allow-Origin" not in preflight.headers
    assert len(rasa.received) == 1


def test_listed_origins_get_cors_headers_and_others_none(run_site, rasa):
    site = run_site(Guard(VisitorIds(KEY), origins=frozenset([OFFICE])))
    preflight = requests.options(
        f"{site.url}/api/chat",
        headers={"Origin": OFFICE, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"},
        timeout=10,
    )  # fmt: skip
    assert preflight.status_code == HTTPStatus.NO_CONTENT
    assert preflight.headers["Access-Control-Allow-Origin"] == OFFICE
    assert preflight.headers["Vary"] == "Origin"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in preflight.headers["Access-Control-Allow-Headers"]

    issued = site.issue(Origin=OFFICE)
    sender = issued.json()["visitor_id"]
    answer = site.chat(sender, Origin=OFFICE)
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == OFFICE
    assert "Retry-After" in answer.headers["Access-Control-Expose-Headers"]
    # An error is readable by the listed origin too (the widget tells 403 from a fault).
    refused = site.chat("web-abc", Origin=OFFICE)
    assert refused.status_code == 403 and refused.headers["Access-Control-Allow-Origin"] == OFFICE
    assert site.updates(sender, Origin=OFFICE).headers["Access-Control-Allow-Origin"] == OFFICE

    other = "https://nordwerk.example.evil.example"
    preflight = requests.options(f"{site.url}/api/chat", headers={"Origin": other}, timeout=10)
    assert preflight.status_code == HTTPStatus.FORBIDDEN
    assert "Access-Control-Allow-Origin" not in preflight.headers
    refused = site.chat(sender, Origin=other)
    assert refused.status_code == HTTPStatus.FORBIDDEN
    assert "Access-Control-Allow-Origin" not in refused.headers
    assert "Access-Control-Allow-Origin" not in site.updates(sender, Origin=other).headers
    assert len(rasa.received) == 1


# ---------------------------------------------------------------- the id key


def test_the_key_file_is_made_once_with_mode_0600_and_reused(tmp_path):
    key_file = tmp_path / "var" / "visitor.key"
    key = load_visitor_key(None, key_file)
    assert len(key) == 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    issued = VisitorIds(key).issue()

    assert load_visitor_key(None, key_file) == key  # a restart
    assert VisitorIds(load_visitor_key(None, key_file)).verify(issued) == issued
    assert [p.name for p in key_file.parent.iterdir()] == ["visitor.key"]


def test_processes_starting_together_end_up_with_one_key(tmp_path):
    key_file = tmp_path / "visitor.key"
    keys = run_together([lambda: load_visitor_key(None, key_file)] * 8)
    assert len(set(keys)) == 1 and keys[0] == key_file.read_bytes()


def test_the_key_from_the_environment_is_used_and_no_file_made(tmp_path):
    key_file = tmp_path / "visitor.key"
    shared = secrets.token_hex(32)
    key = load_visitor_key(load_settings({"LOTSE_VISITOR_KEY": shared}).web.visitor_key, key_file)
    assert not key_file.exists()
    # Two replicas with the same variable accept each other's ids.
    issued = VisitorIds(key).issue()
    again = load_settings({"LOTSE_VISITOR_KEY": f"{shared}\n"}).web.visitor_key
    other = VisitorIds(load_visitor_key(again, tmp_path / "x"))
    assert other.verify(issued) == issued


@pytest.mark.parametrize("value", ["", "short", "x" * 31, "   " + "y" * 20 + "   "])
def test_a_short_key_in_the_environment_is_a_clear_error(value, tmp_path):
    with pytest.raises(SettingsError, match="LOTSE_VISITOR_KEY must be at least 32 characters"):
        load_settings({"LOTSE_VISITOR_KEY": value})
    assert not (tmp_path / "visitor.key").exists()


def test_a_truncated_key_file_is_a_clear_error(tmp_path):
    (tmp_path / "visitor.key").write_bytes(b"too short")
    with pytest.raises(SettingsError, match="holds 9 bytes"):
        load_visitor_key(None, tmp_path / "visitor.key")


@pytest.mark.parametrize(
    ("name", "value"),
    [("LOTSE_RATE_VISITOR", "lots"), ("LOTSE_RATE_IP", "0/minute"),
     ("LOTSE_RATE_ISSUE", "5/fortnight"), ("LOTSE_SITE_ORIGINS", "www.nordwerk.example"),
     ("LOTSE_SITE_ORIGINS", "https://a.example/path"), ("LOTSE_TRUSTED_PROXY", "proxy")],
)  # fmt: skip
def test_bad_settings_name_their_variable(name, value, tmp_path):
    with pytest.raises(SettingsError, match=name):
        load_settings({"LOTSE_VISITOR_KEY": "k" * 32, name: value})


def test_guard_settings_from_the_environment(tmp_path: Path):
    guard = load_guard(load_settings(
        {"LOTSE_RATE_VISITOR": "60/minute burst 5", "LOTSE_RATE_IP": "off",
         "LOTSE_SITE_ORIGINS": f"{OFFICE}/, https://Shop.Nordwerk.example",
         "LOTSE_TRUSTED_PROXY": "10.0.0.5"}), tmp_path)  # fmt: skip
    assert guard.per_visitor is not None and guard.per_visitor.limit == Limit(1.0, 5)
    assert guard.per_ip is None
    assert guard.issuing is not None and guard.issuing.limit == Limit(0.5, 10)
    assert guard.origins == {OFFICE, "https://shop.nordwerk.example"}
    assert [str(a) for a in guard.trusted_proxies] == ["10.0.0.5"]
    assert (tmp_path / "visitor.key").exists()


# ------------------------------------------------------------- the token bucket


def test_a_bucket_allows_its_burst_then_says_how_long_to_wait():
    clock = FakeClock()
    bucket = TokenBucket(Limit(per_second=0.5, burst=3), clock)
    assert [bucket.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take("a") == pytest.approx(2.0)
    assert bucket.take("b") == 0.0  # keys are independent
    clock.now += 1.0
    assert bucket.take("a") == pytest.approx(1.0)  # refused: nothing taken
    clock.now += 1.0
    assert bucket.take("a") == 0.0
    assert bucket.take("a") == pytest.approx(2.0)
    clock.now += 60
    assert [bucket.take("a") for _ in range(4)][-1] > 0  # refills to the burst, no more


def test_idle_keys_are_forgotten_and_the_number_of_keys_is_capped():
    clock = FakeClock()
    bucket = TokenBucket(Limit(per_second=1.0, burst=10), clock, max_keys=100)
    for i in range(50):
        bucket.take(f"idle-{i}")
    clock.now += 10  # a whole refill time: these buckets are full again
    bucket.take("fresh")
    assert len(bucket) == 1

    for i in range(500):
        bucket.take(f"flood-{i}")
    assert len(bucket) == 100


def test_a_bucket_shared_by_threads_hands_out_exactly_its_burst():
    bucket = TokenBucket(Limit(per_second=1e-6, burst=20), FakeClock())
    results = run_together([lambda: [bucket.take("shared") for _ in range(10)]] * 8)
    granted = [wait for batch in results for wait in batch if wait == 0.0]
    assert len(granted) == 20


@pytest.mark.parametrize(
    ("raw", "limit"),
    [("30/minute", Limit(0.5, 10)), ("5/minute", Limit(5 / 60, 5)),
     ("2/second burst 7", Limit(2.0, 7)), ("3600 / hour", Limit(1.0, 10)),
     (" 30/Minute ", Limit(0.5, 10)), ("off", None), ("OFF", None)],
)  # fmt: skip
def test_limits_are_read_from_text(raw, limit):
    assert parse_limit(raw, default_burst=10) == limit


UNREADABLE = ["", "30", "30 per minute", "0/minute", "-1/minute", "30/minute burst 0",
              "30/day", "30/minute burst"]  # fmt: skip


@pytest.mark.parametrize("raw", UNREADABLE)
def test_unreadable_limits_are_refused(raw):
    with pytest.raises(ValueError):
        parse_limit(raw, default_burst=10)


def test_an_unset_limit_variable_keeps_the_default():
    default = load_settings({}).limits.per_ip
    assert default == Limit(5.0, 60)
    assert load_settings({"LOTSE_RATE_IP": " "}).limits.per_ip == default
