"""The demo website and its chat proxy, without Rasa (a local fake plays Rasa's REST channel)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from dialogue.content import load_content
from website.pages import ROUTES, find_route, render_page
from website.server import Guard, make_server
from website.visitor_ids import VisitorIds

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


@pytest.fixture
def site() -> Iterator[str]:
    rasa = ThreadingHTTPServer(("127.0.0.1", 0), FakeRasa)
    serve(rasa)
    web = make_server("127.0.0.1", 0, f"http://127.0.0.1:{rasa.server_port}", guard())
    serve(web)
    yield f"http://127.0.0.1:{web.server_port}"
    web.shutdown()
    rasa.shutdown()


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
    assert requests.get(f"{site}/missing", timeout=10).status_code == 404


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
    web = make_server("127.0.0.1", 0, "http://127.0.0.1:9", guard())
    serve(web)
    try:
        base = f"http://127.0.0.1:{web.server_port}"
        message = {"sender": visitor_id(base), "message": "x"}
        reply = requests.post(f"{base}/api/chat", json=message, timeout=40)
        assert reply.status_code == 502
        assert reply.json() == {"error": "the assistant is not reachable"}
    finally:
        web.shutdown()


def test_rasas_refusals_reach_the_widget_as_they_are(site):
    for message, (status, answer) in REFUSALS.items():
        reply = requests.post(f"{site}/api/chat", timeout=10,
                              json={"sender": visitor_id(site), "message": message})  # fmt: skip
        assert (reply.status_code, reply.json()) == (status, answer)
        assert reply.headers.get("Retry-After") == ("7" if status == 429 else None)
