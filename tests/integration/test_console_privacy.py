"""The console's data protection routes over real HTTP (console/routes/privacy.py):
an admin downloads everything about a person (the document `lotse privacy export`
writes, as the OpenAPI document describes it) or erases them (as `lotse privacy erase`
does); agents are refused, anonymous callers asked to log in, bad input is a 400 that
does not repeat it; every export and erasure leaves a `privacy_audit` row naming who
asked and nothing of the person, from the console and from the command alike."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from jsonschema import Draft7Validator, RefResolver
from rasa.core.tracker_store import SerializedTrackerAsText
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import text

from console.app import OPENAPI
from conversations.address_book import AddressBook
from conversations.texts import SQLiteTexts
from crm_adapter.port import ANSWERED, Answer, Consent, Visit
from crm_adapter.store import LocalCrm
from handoff.store import HandoffStore, NewHandoff
from lotse.migrate import migrated_engine
from ops.cli import main
from tests.support.console_client import Staff, add_users, console_server, logged_in

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)
EXPORT = "/console/api/privacy/export"
ERASE = "/console/api/privacy/erase"
SPEC = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Person:
    email: str
    phone: str  # E.164, as the lead keeps it
    typed_phone: str  # as a person writes it
    whatsapp: str
    web: str
    said: str  # what they wrote to the bot (tracker store)
    asked: str  # what they wrote to a colleague (handoff store)
    note: str  # what the colleague noted about them

    @property
    def personal(self) -> tuple[str, ...]:
        return (self.email, self.phone, self.phone[1:], self.email.split("@")[0])


ANNA = Person("anna.muster@mueller-metallbau.example", "+4915112345678", "0151 1234 5678",
              "twilio:whatsapp:+4915112345678", "web-anna", "Was kostet eine P400?",
              "Ich brauche ein Angebot", "Will die P400 bis März")  # fmt: skip
BERND = Person("bernd.beispiel@kunde.example", "+4917098765432", "+49 170 9876 5432",
               "twilio:whatsapp:+4917098765432", "web-bernd", "Bitte rufen Sie mich an",
               "Bin erreichbar ab 14 Uhr", "Rückruf vereinbart")  # fmt: skip


def seed(database: str, tracker_db: Path, person: Person) -> None:
    """A lead with two conversations merged by email, answers, a number, a WhatsApp
    address, a handoff with a message and a note, and both transcripts."""
    engine = migrated_engine(database)
    crm, handoffs = LocalCrm(engine, clock=lambda: NOW), HandoffStore(engine)
    for conversation, channel in ((person.whatsapp, "twilio"), (person.web, "rest")):
        lead = crm.lead_for(Visit(conversation, channel))
        crm.record_consent(lead.lead_id, Consent("lead_contact", "2026-11-01", "Einverstanden?",
                                                 "de", channel, NOW))  # fmt: skip
        crm.identify(lead.lead_id, person.email, freemail=False)
    lead_id = crm.find_by_email(person.email).lead_id
    crm.identify_phone(lead_id, person.typed_phone)
    crm.save_answer(lead_id, Answer("name", {"full": "Muster"}, ANSWERED, NOW))
    crm.save_answer(lead_id, Answer("employees", {"count": 60}, ANSWERED, NOW))
    AddressBook(engine).remember(person.whatsapp, "twilio", {"id": f"whatsapp:{person.phone}"})
    handoff = handoffs.request(NewHandoff(person.whatsapp, "asked", "de", "sales", "sales",
                                          timedelta(minutes=2), channel="twilio"))  # fmt: skip
    handoffs.add_message(person.whatsapp, "visitor", person.asked, handoff.id)
    handoffs.add_note(handoff, "anna", person.note)
    texts = SQLiteTexts(str(tracker_db))
    for conversation in (person.whatsapp, person.web):
        tracker = DialogueStateTracker.from_events(
            conversation, [UserUttered(person.said), BotUttered("Gern helfe ich.")]
        )
        texts[conversation] = SerializedTrackerAsText.serialise_tracker(tracker)
    texts.db.close()
    engine.dispose()


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('privacy') / 'lotse.db'}"
    add_users(url)  # on the schema as `lotse run` brings it up
    return url


@pytest.fixture(scope="module")
def tracker_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tracker") / "tracker.db"


@pytest.fixture(scope="module")
def base(database: str, tracker_db: Path) -> Iterator[str]:
    # Started before Rasa has written its tracker store, as `lotse run` may start it.
    assert not tracker_db.exists()
    with console_server(database, {"LOTSE_TRACKER_DB": str(tracker_db)}) as url:
        yield url


@pytest.fixture(scope="module")
def people(base: str, database: str, tracker_db: Path) -> None:
    for person in (ANNA, BERND):
        seed(database, tracker_db, person)


def export(staff: Staff, **person: Any) -> requests.Response:
    return staff.post(EXPORT, person)


def audit(database: str) -> list[dict[str, Any]]:
    engine = migrated_engine(database)
    with engine.connect() as c:
        rows = [dict(row) for row in c.execute(text("SELECT * FROM privacy_audit")).mappings()]
    engine.dispose()
    return rows


def assert_nothing_personal(rows: list[dict[str, Any]]) -> None:
    columns = " ".join(str(value) for row in rows for value in row.values()).lower()
    for person in (ANNA, BERND):
        assert not [word for word in person.personal if word.lower() in columns]


def json_schema(node: Any) -> Any:
    """An OpenAPI 3.0 schema as JSON Schema (`nullable` becomes a null type)."""
    if isinstance(node, list):
        return [json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable") and "type" in converted:
        converted["type"] = [converted["type"], "null"]
    return converted


def assert_described(document: Any, schema: str) -> None:
    spec = json_schema(SPEC)
    validator = Draft7Validator({"$ref": f"#/components/schemas/{schema}"},
                                resolver=RefResolver.from_schema(spec))  # fmt: skip
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []


def test_an_admin_downloads_everything_about_a_person(base: str, database: str, people: None):
    before = audit(database)
    reply = export(logged_in(base, "admin"), email=ANNA.email.upper())
    assert reply.status_code == 200, reply.text
    assert re.fullmatch(r'attachment; filename="lotse-export-\d{4}-\d{2}-\d{2}\.json"',
                        reply.headers["Content-Disposition"])  # fmt: skip
    assert reply.headers["Cache-Control"] == "no-store"
    assert reply.headers["Content-Type"].startswith("application/json")
    document = reply.json()
    assert document["format"] == "lotse-data-export/1"
    [entry] = document["leads"]
    assert (entry["lead"]["email"], entry["lead"]["phone"]) == (ANNA.email, ANNA.phone)
    assert entry["lead"]["answers"]["employees"]["value"] == {"count": 60}
    conversations = {c["conversation_id"]: c for c in entry["conversations"]}
    assert set(conversations) == {ANNA.whatsapp, ANNA.web}
    whatsapp = conversations[ANNA.whatsapp]
    # The tracker store's file appeared after the console started: its transcripts are in.
    assert [(t["from"], t["text"]) for t in whatsapp["transcript"]] == [
        ("person", ANNA.said), ("bot", "Gern helfe ich.")]  # fmt: skip
    assert [m["text"] for m in whatsapp["handoff_messages"]] == [ANNA.asked]
    assert [n["text"] for n in whatsapp["handoffs"][0]["notes"]] == [ANNA.note]
    assert whatsapp["messenger_address"] == {"id": f"whatsapp:{ANNA.phone}"}
    assert BERND.email not in reply.text
    assert_described(document, "PersonExport")
    added = audit(database)[len(before) :]
    assert [(r["action"], r["leads"], r["conversations"], r["requested_by"]) for r in added] == [
        ("export", 1, 2, "admin")]  # fmt: skip
    assert_nothing_personal(added)


def test_the_console_and_the_command_export_the_same_document_and_audit_alike(
    base: str, database: str, tracker_db: Path, people: None,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
):  # fmt: skip
    from_console = export(logged_in(base, "admin"), phone=ANNA.typed_phone).json()
    monkeypatch.setenv("LOTSE_DATABASE_URL", database)
    monkeypatch.setenv("LOTSE_TRACKER_DB", str(tracker_db))
    before = audit(database)
    assert main(["privacy", "export", "--phone", ANNA.typed_phone, "--by", "dpo"]) == 0
    from_command = json.loads(capsys.readouterr().out)
    assert {**from_console, "exported_at": None} == {**from_command, "exported_at": None}
    added = audit(database)[len(before) :]
    assert [(r["action"], r["leads"], r["conversations"], r["requested_by"]) for r in added] == [
        ("export", 1, 2, "dpo")]  # fmt: skip
    assert_nothing_personal(audit(database))


def test_nobody_found_is_a_document_without_leads_and_not_audited(base: str, database: str):
    before = audit(database)
    reply = export(logged_in(base, "admin"), email="nobody@example.org")
    assert reply.status_code == 200
    assert reply.json()["leads"] == []
    assert_described(reply.json(), "PersonExport")
    assert audit(database) == before


@pytest.mark.parametrize(("params", "message"), [
    ({}, "give an email address or a phone number"),
    ({"email": "  "}, "give an email address or a phone number"),
    ({"email": ANNA.email, "phone": ANNA.typed_phone}, "not both"),
    ({"email": "anna.muster at mueller-metallbau"}, "not an email address"),
    ({"email": "a" * 250 + "@kunde.example"}, "at most 254 characters"),
    ({"phone": "+49 151 " + "1" * 70}, "at most 64 characters"),
    ({"phone": "call me maybe"}, "not a phone number"),
    ({"email": [ANNA.email, BERND.email]}, "must be a text"),
])  # fmt: skip
def test_bad_input_is_a_400_that_does_not_repeat_it(base: str, database: str, params, message):
    before = audit(database)
    reply = export(logged_in(base, "admin"), **params)
    assert reply.status_code == 400 and message in reply.json()["error"]
    assert "@kunde" not in reply.text and "maybe" not in reply.text and "1111" not in reply.text
    assert audit(database) == before


def test_agents_are_refused_and_anonymous_callers_asked_to_log_in(base: str, people: None):
    anna = logged_in(base, "anna")
    refused = export(anna, email=ANNA.email)
    assert refused.status_code == 403 and "only an admin" in refused.json()["error"]
    assert ANNA.email not in refused.text
    assert anna.post(ERASE, {"email": ANNA.email, "confirm": True}).status_code == 403
    anonymous = requests.post(base + EXPORT, json={"email": ANNA.email}, timeout=30)
    assert anonymous.status_code == 401 and ANNA.email not in anonymous.text
    erase = requests.post(base + ERASE, json={"email": ANNA.email, "confirm": True}, timeout=30)
    assert erase.status_code == 401
    assert export(logged_in(base, "admin"), email=ANNA.email).json()["leads"]  # still there


def test_erasing_needs_the_csrf_token_and_a_confirmation(base: str, database: str, people: None):
    admin = logged_in(base, "admin")
    no_csrf = admin.post(ERASE, {"email": BERND.email, "confirm": True}, csrf=False)
    assert no_csrf.status_code == 403 and "CSRF" in no_csrf.json()["error"]
    unconfirmed = admin.post(ERASE, {"email": BERND.email})
    assert unconfirmed.status_code == 400 and "confirm" in unconfirmed.json()["error"]
    assert admin.post(ERASE, {"email": BERND.email, "confirm": "yes"}).status_code == 400
    both = admin.post(ERASE, {"email": BERND.email, "phone": BERND.typed_phone, "confirm": True})
    assert both.status_code == 400 and BERND.email not in both.text
    not_json = requests.post(base + ERASE, data=b"[1, 2",
                             headers={**admin.headers(), "Content-Type": "application/json"},
                             timeout=30)  # fmt: skip
    assert not_json.status_code == 400
    assert export(admin, email=BERND.email).json()["leads"]  # nothing erased


def test_an_admin_erases_a_person_everywhere(base: str, database: str, tracker_db: Path,
                                             people: None):  # fmt: skip
    admin = logged_in(base, "admin")
    engine = migrated_engine(database)
    crm, handoffs = LocalCrm(engine), HandoffStore(engine)
    lead_id = crm.find_by_email(BERND.email).lead_id
    before = audit(database)
    reply = admin.post(ERASE, {"phone": BERND.typed_phone, "confirm": True})
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"leads": 1, "conversations": 2}
    assert_described(reply.json(), "PersonErased")
    assert export(admin, email=BERND.email).json()["leads"] == []
    lead = crm.lead(lead_id)
    assert (lead.email, lead.name, lead.phone, lead.answers) == (None, None, None, {})
    assert all(c.startswith("erased:") for c in lead.conversation_ids)
    assert all(c.withdrawn_at is not None for c in lead.consents)
    assert crm.find_by_phone(BERND.phone) == []
    assert handoffs.for_conversation(BERND.whatsapp) == []
    assert handoffs.messages(BERND.whatsapp) == []
    [kept] = [h for c in lead.conversation_ids for h in handoffs.for_conversation(c)]
    assert handoffs.messages(kept.conversation_id) == [] and handoffs.notes(kept.id) == []
    assert AddressBook(engine).address(BERND.whatsapp) is None
    assert crm.find_by_email(ANNA.email) is not None  # nobody else
    engine.dispose()
    texts = SQLiteTexts(str(tracker_db))
    assert BERND.whatsapp not in texts and BERND.web not in texts and ANNA.web in texts
    texts.db.close()
    added = audit(database)[len(before) :]
    assert [(r["action"], r["leads"], r["conversations"], r["requested_by"]) for r in added] == [
        ("erase", 1, 2, "admin")]  # fmt: skip
    assert_nothing_personal(audit(database))
    again = admin.post(ERASE, {"email": BERND.email, "confirm": True})
    assert again.json() == {"leads": 0, "conversations": 0}
    assert len(audit(database)) == len(before) + 1
