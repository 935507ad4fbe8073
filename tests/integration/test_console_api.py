"""The staff console's JSON API over real HTTP: sessions, CSRF, roles, the claim race,
replies, notes, transfer, close with a lead verdict, answers changed by an agent."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
import yaml

from console.app import OPENAPI
from crm_adapter.port import ANSWERED, Answer, Visit
from handoff.desk import Ask, Desk
from handoff.routing import RoutingRequest
from handoff.routing_model import load_routing_model
from handoff.store import HandoffStore
from handoff.texts import load_handoff_texts
from lotse.migrate import migrated_engine
from lotse.settings import ROOT
from tests.conftest import set_clock
from tests.support.console_client import Staff, add_users, console_server, logged_in
from wiring.services import services_for

TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
SPEC = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('console') / 'lotse.db'}"
    add_users(url)  # on the schema as `lotse run` brings it up
    return url


@pytest.fixture(scope="module")
def base(database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    clock = tmp_path_factory.mktemp("clock") / "clock"
    set_clock(clock, TUESDAY_10)  # the same "now" as the desk the tests queue with
    with console_server(database, {"LOTSE_TEST_CLOCK_FILE": str(clock)}) as url:
        yield url


@pytest.fixture
def desk(database: str) -> Desk:
    store = HandoffStore(migrated_engine(database))
    return Desk(store, load_routing_model(), load_handoff_texts(), clock=lambda: TUESDAY_10)


def waiting(desk: Desk, conversation: str, lead_id: int | None = None, **routing: object) -> int:
    request = RoutingRequest(**{"language": "de", **routing})  # type: ignore[arg-type]
    result = desk.request(Ask(conversation, "visitor_asked", request, "rest", "presses", lead_id))
    return result.handoff.id  # type: ignore[union-attr]


def api_routes() -> list[tuple[str, str]]:
    routes = []
    for path, operations in SPEC["paths"].items():
        for method in operations:
            if method in ("get", "post", "put", "delete"):
                routes.append((method.upper(), re.sub(r"\{[^}]+\}", "1", path)))
    return routes


def test_the_openapi_document_lists_exactly_the_routes_the_app_serves(desk: Desk, tmp_path: Path):
    from console.app import ConsoleContext, make_app
    from handoff.auth import StaffAuth

    auth = StaffAuth(migrated_engine(f"sqlite:///{tmp_path / 'auth.db'}"))
    app = make_app(ConsoleContext(desk, auth, None, None), name="openapi_check")
    served = set()
    for route in app.router.routes:
        path = "/" + re.sub(r"<(\w+)(:[^>]*)?>", r"{\1}", route.path).strip("/")
        if path.startswith("/console/api/"):
            served |= {(method, path) for method in route.methods if method != "HEAD"}
    documented = {
        (method.upper(), path)
        for path, operations in SPEC["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "delete")
    }
    assert served == documented


def test_every_api_route_refuses_without_a_session(base: str):
    refused = []
    for method, path in api_routes():
        if path == "/console/api/login":
            continue
        reply = requests.request(method, base + path, json={}, timeout=30)
        refused.append((method, path, reply.status_code))
    assert refused and all(status == 401 for _, _, status in refused), refused


def test_posts_without_json_or_csrf_token_or_from_another_origin_are_refused(base: str):
    anna = logged_in(base, "anna")
    assert anna.put("/console/api/presence", {"status": "away"}).status_code == 200
    no_csrf = anna.post("/console/api/handoffs/1/claim", csrf=False)
    assert no_csrf.status_code == 403 and "CSRF" in no_csrf.json()["error"]
    wrong = requests.post(
        f"{base}/console/api/logout", json={},
        headers={**anna.headers(), "X-CSRF-Token": "forged"}, timeout=30,
    )  # fmt: skip
    assert wrong.status_code == 403
    form = requests.post(
        f"{base}/console/api/logout", data="a=b",
        headers={**anna.headers(), "Content-Type": "application/x-www-form-urlencoded"},
        timeout=30,
    )  # fmt: skip
    assert form.status_code == 415
    foreign = requests.post(
        f"{base}/console/api/logout", json={},
        headers={**anna.headers(), "Origin": "https://evil.example"}, timeout=30,
    )  # fmt: skip
    assert foreign.status_code == 403
    assert anna.get("/console/api/me").status_code == 200  # the session survived all that


def test_login_sets_a_hardened_cookie_and_pages_carry_security_headers(base: str):
    reply = Staff(base, "anna").login()
    cookie = reply.headers["Set-Cookie"].lower()
    for attribute in ("httponly", "samesite=strict", "secure", "path=/console"):
        assert attribute in cookie
    page = requests.get(f"{base}/console/", timeout=30)
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    assert Staff(base, "anna").login("wrong password!").status_code == 401


def test_the_pages_script_modules_are_all_served_and_insert_no_html(base: str):
    """console.html loads console.js as a module; every module it reaches through its
    imports is served as JavaScript, and none writes HTML (text goes in by textContent)."""
    page = requests.get(f"{base}/console/", timeout=30).text
    [entry] = re.findall(r'<script type="module" src="([^"]+)"', page)
    seen, waiting = set(), [entry]
    while waiting:
        path = waiting.pop()
        if path in seen:
            continue
        seen.add(path)
        reply = requests.get(f"{base}{path}", timeout=30)
        assert reply.status_code == 200, path
        assert reply.headers["Content-Type"].startswith("text/javascript")
        for html_sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
            assert html_sink not in reply.text, (path, html_sink)
        folder = path.rsplit("/", 1)[0]
        waiting += [f"{folder}/{name}" for name in re.findall(r'from "\./([\w.]+)"', reply.text)]
    served = {path.rsplit("/", 1)[1] for path in seen}
    assert served == {p.name for p in (ROOT / "console" / "static").glob("*.js")}


def test_two_agents_claiming_at_once_over_http_have_exactly_one_winner(base: str, desk: Desk):
    handoff_id = waiting(desk, "web-race")
    anna, jonas = logged_in(base, "anna"), logged_in(base, "jonas")
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def claim(staff: Staff) -> None:
        barrier.wait()
        statuses.append(staff.post(f"/console/api/handoffs/{handoff_id}/claim").status_code)

    threads = [threading.Thread(target=claim, args=(s,)) for s in (anna, jonas)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 409]


def test_an_agent_works_a_conversation_from_queue_to_close(base: str, desk: Desk, database: str):
    crm = services_for(database).crm
    lead = crm.lead_for(Visit("web-work", "rest", None, "de"))
    crm.save_answer(lead.lead_id, Answer("employees", {"count": 60}, ANSWERED,
                                         datetime.now(timezone.utc)))  # fmt: skip
    handoff_id = waiting(desk, "web-work", lead.lead_id)
    desk.store.add_message("web-work", "visitor", "<b>Hallo</b> <script>x()</script>", handoff_id)
    anna = logged_in(base, "anna")
    queue = anna.get("/console/api/queue").json()
    [entry] = [h for h in queue["handoffs"] if h["id"] == handoff_id]
    assert (entry["state"], entry["team"], entry["reason"]) == ("waiting", "sales", "visitor_asked")
    assert anna.post(f"/console/api/handoffs/{handoff_id}/claim").status_code == 200
    assert anna.post(f"/console/api/handoffs/{handoff_id}/messages", {"text": "Guten Tag!"}).ok
    assert anna.post(f"/console/api/handoffs/{handoff_id}/notes", {"text": "will P400"}).ok
    changed = anna.post(
        f"/console/api/handoffs/{handoff_id}/answers", {"attribute": "employees", "text": "80"}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["answers"]["employees"]["value"]["count"] == 80
    assert changed.json()["answers"]["employees"]["source"] == "human"
    unreadable = anna.post(
        f"/console/api/handoffs/{handoff_id}/answers", {"attribute": "employees", "text": "hm"}
    )
    assert unreadable.status_code == 422
    detail = anna.get(f"/console/api/handoffs/{handoff_id}").json()
    lines = [(line["from"], line["text"]) for line in detail["transcript"]]
    assert ("visitor", "<b>Hallo</b> <script>x()</script>") in lines  # verbatim, as data
    assert ("agent", "Guten Tag!") in lines
    assert [n["text"] for n in detail["notes"]] == ["will P400"]
    assert detail["lead"]["answers"]["employees"]["value"]["count"] == 80
    no_reason = anna.post(f"/console/api/handoffs/{handoff_id}/close",
                          {"outcome": "lead_rejected", "lead_verdict": "reject"})  # fmt: skip
    assert no_reason.status_code == 422
    closed = anna.post(
        f"/console/api/handoffs/{handoff_id}/close",
        {"outcome": "lead_rejected", "lead_verdict": "reject", "reason": "Student project"},
    )
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    verdict = crm.lead(lead.lead_id)
    assert verdict.rejected and verdict.feedback[-1].reason == "Student project"
    assert verdict.feedback[-1].actor == "anna"


def test_transfer_and_hand_back_need_the_conversation_to_be_yours(base: str, desk: Desk):
    handoff_id = waiting(desk, "web-transfer")
    anna, jonas = logged_in(base, "anna"), logged_in(base, "jonas")
    assert anna.post(f"/console/api/handoffs/{handoff_id}/claim").ok
    assert jonas.post(f"/console/api/handoffs/{handoff_id}/hand-back").status_code == 403
    assert (
        jonas.post(f"/console/api/handoffs/{handoff_id}/messages", {"text": "x"}).status_code == 403
    )
    moved = anna.post(f"/console/api/handoffs/{handoff_id}/transfer", {"staff_id": "nina"})
    assert moved.ok and moved.json()["assignee"] == "nina"
    nina = logged_in(base, "nina")
    assert nina.post(f"/console/api/handoffs/{handoff_id}/claim").ok
    back = nina.post(f"/console/api/handoffs/{handoff_id}/hand-back")
    assert back.ok and back.json()["state"] == "bot"
    assert anna.post(
        f"/console/api/handoffs/{handoff_id}/transfer", {"staff_id": "x"}
    ).status_code in (403, 409)


def test_only_admins_manage_users(base: str):
    anna, admin = logged_in(base, "anna"), logged_in(base, "admin")
    assert anna.get("/console/api/users").status_code == 403
    created = admin.post("/console/api/users", {"username": "eva", "password": "long enough pw",
                                                "role": "agent", "staff_id": "eva"})  # fmt: skip
    assert created.status_code == 201
    assert "eva" in {u["username"] for u in admin.get("/console/api/users").json()["users"]}
    assert admin.post("/console/api/users/eva/active", {"active": False}).ok
    assert logged_in.__name__ and Staff(base, "eva").login("long enough pw").status_code == 401
    bad = admin.post("/console/api/users", {"username": "x", "password": "short", "role": "agent"})
    assert bad.status_code == 422


def test_login_attempts_are_rate_limited(database: str, tmp_path: Path):
    # The guessing address is slowed (the account's backoff; more in test_console_login.py).
    with console_server(f"sqlite:///{tmp_path / 'limit.db'}") as fresh:
        add_users(f"sqlite:///{tmp_path / 'limit.db'}")
        statuses = [Staff(fresh, "anna").login("wrong password!").status_code for _ in range(4)]
        assert statuses == [401, 401, 401, 429]
        refused = Staff(fresh, "anna").login()
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0


def test_the_routing_explanation_quotes_routing_yml_in_the_staff_members_language(
    base: str, desk: Desk
) -> None:
    handoff_id = waiting(desk, "web-routing-de", country="AT")
    admin = logged_in(base, "admin")
    try:
        assert admin.put("/console/api/me/language", {"language": "de"}).ok
        german = admin.get(f"/console/api/handoffs/{handoff_id}").json()["handoff"]
        assert any(line.endswith(": Österreich und die Schweiz.") for line in german["explanation"])
        queued = admin.get("/console/api/queue").json()["handoffs"]
        row = next(h for h in queued if h["id"] == handoff_id)
        assert row["explanation"] == german["explanation"]
        assert admin.put("/console/api/me/language", {"language": "en"}).ok
        english = admin.get(f"/console/api/handoffs/{handoff_id}").json()["handoff"]
        assert any(line.endswith(": Austria and Switzerland.") for line in english["explanation"])
    finally:
        admin.put("/console/api/me/language", {"language": None})
