"""The demo website and its chat proxy, without Rasa (a local fake plays Rasa's REST channel).

The site is served as in tests/integration/test_website_security.py (`Site`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
import requests

from dialogue.content import load_content
from handoff.desk import Desk
from tests.integration.test_website_security import FakeFeed, Site
from website.guard import Guard
from website.pages import ROUTES, find_route, render_page
from website.updates import FeedWatcher
from website.visitor_ids import VisitorIds
from wiring.services import services_for

# What Lotse's REST channel answers when it must refuse: passed on to the widget as is.
REFUSALS = {
    "too fast": (429, {"error": "too many messages, please wait a moment"}),
    "store down": (503, {"error": "the assistant could not answer; please send the message again"}),
}


class FakeRasa(BaseHTTPRequestHandler):
    received: list[dict] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeRasa.received.append(body)
        status, answer = REFUSALS.get(body.get("message"), (200, None))
        if answer is None:
            answer = [{"recipient_id": body["sender"], "text": "Hallo!"}]
        payload = json.dumps(answer).encode()
        self.send_response(status)
        if status == 429:
            self.send_header("Retry-After", "7")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def serve(server: ThreadingHTTPServer) -> None:
    threading.Thread(target=server.serve_forever, daemon=True).start()


def guard() -> Guard:
    """Default limits, a key of the test's own (not var/visitor.key)."""
    return Guard(VisitorIds(b"k" * 32))


def visitor_id(site: str) -> str:
    return requests.post(f"{site}/api/chat/visitor", timeout=10).json()["visitor_id"]


def site_on(rasa_url: str) -> Site:
    return Site(SimpleNamespace(url=rasa_url), guard(), FakeFeed())  # type: ignore[arg-type]


@pytest.fixture
def site() -> Iterator[str]:
    rasa = ThreadingHTTPServer(("127.0.0.1", 0), FakeRasa)
    serve(rasa)
    with site_on(f"http://127.0.0.1:{rasa.server_port}") as web:
        yield web.url
    rasa.shutdown()
    rasa.server_close()


def test_every_route_renders_its_page_in_its_language():
    content = load_content()
    for route in ROUTES:
        html = render_page(route, content)
        assert f'<html lang="{route.language}" data-page="{route.page}">' in html
        assert "/static/widget.js" in html
    assert find_route("/en/presses/").page == "presses"
    assert find_route("/nope") is None


def test_pages_and_widget_are_served(site):
    page = requests.get(f"{site}/pressen", timeout=10)
    assert page.status_code == 200 and "P400" in page.text
    widget = requests.get(f"{site}/static/widget.js", timeout=10)
    assert widget.status_code == 200 and "textContent" in widget.text
    assert requests.get(f"{site}/static/../server.py", timeout=10).status_code == 404
    assert requests.get(f"{site}/static/%2e%2e/server.py", timeout=10).status_code == 404
    missing = requests.get(f"{site}/missing", timeout=10)
    assert missing.status_code == 404
    refused = requests.post(f"{site}/api/chat", json={"sender": "x"}, timeout=10)
    for answer in (page, widget, missing, refused):  # what a browser may not guess or keep
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Cache-Control"] == "no-store"
    assert requests.get(f"{site}/healthz", timeout=10).json() == {"status": "ok"}


def test_chat_is_forwarded_to_rasa(site):
    sender = visitor_id(site)
    message = {"sender": sender, "message": "Hallo", "metadata": {"page": "presses"}}
    reply = requests.post(f"{site}/api/chat", json=message, timeout=10)
    assert reply.json() == [{"recipient_id": sender, "text": "Hallo!"}]
    metadata = {"page": "presses", "visitor_id": sender}
    assert FakeRasa.received[-1] == {**message, "metadata": metadata}


def test_bad_chat_requests_get_clear_errors(site):
    assert requests.post(f"{site}/api/chat", data=b"{x", timeout=10).status_code == 400
    assert requests.post(f"{site}/api/chat", json=[1], timeout=10).status_code == 400
    too_big = {"sender": visitor_id(site), "message": "x" * 20_000}
    assert requests.post(f"{site}/api/chat", json=too_big, timeout=10).status_code == 413


def test_rasa_down_gives_502_not_a_crash():
    with site_on("http://127.0.0.1:9") as web:
        message = {"sender": visitor_id(web.url), "message": "x"}
        reply = requests.post(f"{web.url}/api/chat", json=message, timeout=40)
        assert reply.status_code == 502
        assert reply.json() == {"error": "the assistant is not reachable"}


def test_rasas_refusals_reach_the_widget_as_they_are(site):
    for message, (status, answer) in REFUSALS.items():
        reply = requests.post(f"{site}/api/chat", timeout=10,
                              json={"sender": visitor_id(site), "message": message})  # fmt: skip
        assert (reply.status_code, reply.json()) == (status, answer)
        assert reply.headers.get("Retry-After") == ("7" if status == 429 else None)


# ---------------------------------------------------------------- the staff feed


@pytest.fixture
def watching() -> Iterator:
    """Starts `FeedWatcher`s; stops their threads after the test."""
    watchers: list[FeedWatcher] = []

    def start(desk: Desk) -> FeedWatcher:
        watchers.append(FeedWatcher(desk))
        return watchers[-1]

    yield start
    for watcher in watchers:
        watcher.stop()


def test_a_waiting_update_poll_returns_when_staff_write_and_holds_no_thread(tmp_path, watching):
    """The real feed (`FeedWatcher` on a desk over SQLite): fifty polls wait at once (more
    than the loop's thread pool); a message to one conversation answers only its poll."""
    desk = services_for(f"sqlite:///{tmp_path / 'lotse.db'}").desk
    ids = VisitorIds(b"k" * 32)
    waiting, written = [ids.issue() for _ in range(50)], ids.issue()
    answers: dict[str, requests.Response] = {}

    def poll(base: str, sender: str) -> None:
        with contextlib.suppress(requests.RequestException):  # cut off when the site stops
            answers[sender] = requests.get(f"{base}/api/chat/updates", timeout=30,
                                           params={"sender": sender, "after": 0})  # fmt: skip

    rasa = SimpleNamespace(url="http://127.0.0.1:9")
    feed = watching(desk)
    with Site(rasa, Guard(ids, None, None, None), feed) as web:  # type: ignore[arg-type]
        polls = [threading.Thread(target=poll, args=(web.url, s), daemon=True)
                 for s in [*waiting, written]]  # fmt: skip
        for thread in polls:
            thread.start()
        deadline = time.monotonic() + 10
        while feed.waiting() < len(polls) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert feed.waiting() == len(polls)
        desk.store.add_message(written, "agent", "Guten Tag, hier ist Maria.")
        polls[-1].join(timeout=5)
        answer = answers[written]
        assert answer.status_code == 200
        assert [m["text"] for m in answer.json()["messages"]] == ["Guten Tag, hier ist Maria."]
        assert not any(sender in answers for sender in waiting)  # still waiting
        assert feed.waiting() == len(waiting)
        assert requests.get(f"{web.url}/healthz", timeout=2).status_code == 200


def test_the_feed_idles_while_nobody_waits_and_wakes_for_a_waiting_widget(tmp_path):
    """No widget waits: the watcher looks at the idle pace, not every POLL_SECONDS. A
    widget that starts to wait wakes it, and hears what staff write at the quick pace."""
    desk = services_for(f"sqlite:///{tmp_path / 'lotse.db'}").desk
    sender = VisitorIds(b"k" * 32).issue()
    looks = [0]
    changed_since = desk.store.changed_since

    def counted(after: int) -> list:
        looks[0] += 1
        return changed_since(after)

    desk.store.changed_since = counted  # type: ignore[method-assign]
    watcher = FeedWatcher(desk, poll_seconds=0.01, idle_seconds=60)
    try:
        time.sleep(0.3)
        assert looks[0] <= 1  # at 0.01 s it would be about 30

        async def wait_for_staff() -> tuple[dict, float]:
            polling = asyncio.create_task(watcher.updates(sender, 0, wait=10))
            await asyncio.sleep(0.1)
            started = time.monotonic()
            await asyncio.to_thread(desk.store.add_message, sender, "agent", "Hallo, Maria hier.")
            return await asyncio.wait_for(polling, 5), time.monotonic() - started

        reply, seconds = asyncio.run(wait_for_staff())
        assert [m["text"] for m in reply["messages"]] == ["Hallo, Maria hier."]
        assert seconds < 1.0
    finally:
        watcher.stop()
