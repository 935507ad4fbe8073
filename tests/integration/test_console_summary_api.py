"""The summary at the top of a conversation, in the handoff's detail over real HTTP: the
console reads the bot's part from a fake Rasa (its tracker API) and the lead from the
CRM store; an agent who may read the handoff gets the summary, one who may not gets 403.
The summary's rules themselves are tested in tests/unit/test_console_summary.py."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from crm_adapter.port import ANSWERED, Answer, Consent, Visit
from handoff.desk import Desk
from tests.conftest import set_clock
from tests.integration.test_console_access import desk, waiting  # noqa: F401, F811 - shared fixture
from tests.support.console_client import add_users, console_server, logged_in
from wiring.services import services_for

TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
TOKEN = "rasa-test-token"


def at(seconds: float) -> float:
    return (TUESDAY_10 + timedelta(seconds=seconds)).timestamp()


TRACKERS: dict[str, list[dict[str, Any]]] = {
    "sum-consent": [
        {"event": "action", "name": "action_session_start", "timestamp": at(-300)},
        {"event": "user", "text": "Wie lange dauert die Lieferung?", "timestamp": at(-200),
         "parse_data": {"intent": {"name": "faq_delivery_time"}}},
        {"event": "action", "name": "utter_faq_delivery_time", "timestamp": at(-199)},
        {"event": "bot", "text": "Etwa 12 Wochen.", "timestamp": at(-199),
         "metadata": {"utter_action": "utter_faq_delivery_time"}},
        {"event": "user", "text": "Kann die P800 auch Aluminium pressen?", "timestamp": at(-100),
         "parse_data": {"intent": {"name": "document_question"}}},
        {"event": "bot", "text": "Ja.", "timestamp": at(-99),
         "metadata": {"utter_action": "utter_document_answer", "source": "NW Flow, Seite 3"}},
        {"event": "user", "text": "Ich möchte mit jemandem sprechen", "timestamp": at(-2),
         "parse_data": {"intent": {"name": "request_human"}}},
        {"event": "slot", "name": "handoff_requested", "value": True, "timestamp": at(1)},
    ],
}  # fmt: skip


class FakeRasa(BaseHTTPRequestHandler):
    """Rasa's tracker API (`GET /conversations/<id>/tracker?token=...`)."""

    def do_GET(self) -> None:  # noqa: N802 - the http.server hook
        path, _, query = self.path.partition("?")
        conversation = path.removeprefix("/conversations/").removesuffix("/tracker")
        if f"token={TOKEN}" not in query:
            self.send_response(401)
            self.end_headers()
            return
        body = json.dumps({"events": TRACKERS.get(conversation, [])}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:  # quiet
        pass


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('summary') / 'lotse.db'}"
    add_users(url)
    return url


@pytest.fixture(scope="module")
def base(database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    rasa = ThreadingHTTPServer(("127.0.0.1", 0), FakeRasa)
    threading.Thread(target=rasa.serve_forever, daemon=True).start()
    clock: Path = tmp_path_factory.mktemp("clock") / "clock"
    set_clock(clock, TUESDAY_10)
    env = {"LOTSE_TEST_CLOCK_FILE": str(clock), "LOTSE_RASA_TOKEN": TOKEN,
           "LOTSE_RASA_PORT": str(rasa.server_address[1])}  # fmt: skip
    try:
        with console_server(database, env) as url:
            yield url
    finally:
        rasa.shutdown()
        rasa.server_close()


def lead_of(database: str, conversation: str, consent: bool) -> int:
    crm = services_for(database).crm
    lead = crm.lead_for(Visit(conversation, "rest", None, "de"))
    now = TUESDAY_10 - timedelta(minutes=3)
    if consent:
        crm.record_consent(lead.lead_id, Consent("sales_contact", "v1", "Einverstanden?", "de",
                                                 "rest", now))  # fmt: skip
        crm.save_answer(lead.lead_id, Answer("name", {"full": "Erika Muster"}, ANSWERED, now))
    crm.save_answer(lead.lead_id, Answer("employees", {"count": 60}, ANSWERED, now))
    return lead.lead_id


def test_an_agent_reads_why_what_was_answered_and_the_lead_at_the_top(
    base: str, desk: Desk, database: str,  # noqa: F811 - the imported fixture
):
    handoff_id = waiting(desk, "sum-consent", lead_of(database, "sum-consent", consent=True))
    detail = logged_in(base, "anna").get(f"/console/api/handoffs/{handoff_id}")
    assert detail.status_code == 200, detail.text
    summary = detail.json()["summary"]
    assert summary["reason"] == "visitor_asked"
    assert summary["last_question"] == "Kann die P800 auch Aluminium pressen?"
    assert [(a["kind"], a["key"], a["title"]["de"]) for a in summary["answered"]] == [
        ("faq", "delivery_time", "Lieferzeiten"), ("document", None, "NW Flow, Seite 3"),
    ]  # fmt: skip
    lead = summary["lead"]
    assert lead["consent_given"] and lead["consent_version"] == "v1"
    answers = {a["key"]: a["value"] for a in lead["answers"]}
    assert answers == {"employees": {"count": 60}, "name": {"full": "Erika Muster"}}
    assert lead["fit_explanation"] and lead["interest_explanation"][-1].startswith("interest =")
    assert detail.json()["handoff"]["lead_stage"] == lead["stage"]


def test_without_consent_the_summary_says_so_and_a_colleague_elsewhere_reads_nothing(
    base: str, desk: Desk, database: str,  # noqa: F811 - the imported fixture
):
    handoff_id = waiting(desk, "sum-none", lead_of(database, "sum-none", consent=False))
    summary = logged_in(base, "anna").get(f"/console/api/handoffs/{handoff_id}").json()["summary"]
    assert summary["last_question"] is None and summary["answered"] == []  # no bot part
    assert not summary["lead"]["consent_given"] and summary["lead"]["consent_given_at"] is None
    assert [a["key"] for a in summary["lead"]["answers"]] == ["employees"]
    refused = logged_in(base, "tim").get(f"/console/api/handoffs/{handoff_id}")  # service team
    assert refused.status_code == 403 and "summary" not in refused.text
