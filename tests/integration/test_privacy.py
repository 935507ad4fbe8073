"""`lotse privacy export|erase` (privacy/export.py, privacy/erasure.py): one JSON
document with everything Lotse holds about a person, found by email or by phone,
across the CRM store, the merges, the tracker store's transcripts, messenger
addresses, handoffs with messages and notes, and the outbox; and the erasure of all
of it, down to the bytes of the database files, with an audit row."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from rasa.core.tracker_store import SerializedTrackerAsText
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import text

from conversations.address_book import AddressBook
from conversations.erased import ErasedConversations
from conversations.texts import SQLiteTexts
from crm_adapter.port import Consent, Visit
from crm_adapter.store import LocalCrm
from handoff.store import HandoffStore, NewHandoff
from insights.event_log import EventLog
from insights.unanswered import UnansweredQuestions
from lotse.migrate import migrated_engine
from ops.cli import main

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)
WHATSAPP = "twilio:whatsapp:+4915112345678"
WEB = "web-7f3c"
EMAIL = "anna.muster@mueller-metallbau.example"


@pytest.fixture
def person(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Anna: a WhatsApp and a website conversation merged by email, a handoff with a
    colleague's reply and a note, her transcripts in the tracker store."""
    tracker_db = tmp_path / "tracker.db"
    monkeypatch.setenv("LOTSE_TRACKER_DB", str(tracker_db))
    engine = migrated_engine(f"sqlite:///{tmp_path / 'lotse.db'}")
    crm, handoffs = LocalCrm(engine, clock=lambda: NOW), HandoffStore(engine)
    for conversation, channel in ((WHATSAPP, "twilio"), (WEB, "rest")):
        lead = crm.lead_for(Visit(conversation, channel))
        crm.record_consent(lead.lead_id, Consent("lead_contact", "2026-11-01", "Einverstanden?",
                                                 "de", channel, NOW))  # fmt: skip
        crm.identify(lead.lead_id, EMAIL, freemail=False)
    crm.identify_phone(crm.find_by_email(EMAIL).lead_id, "0151 12345678")
    AddressBook(engine).remember(WHATSAPP, "twilio", {"id": "whatsapp:+4915112345678"})
    handoff = handoffs.request(NewHandoff(WHATSAPP, "asked", "de", "sales", "sales",
                                          timedelta(minutes=2), channel="twilio"))  # fmt: skip
    handoffs.add_message(WHATSAPP, "visitor", "Ich brauche ein Angebot", handoff.id)
    handoffs.add_message(WHATSAPP, "agent", "Gern, Frau Muster!", handoff.id, "anna", "Anna")
    handoffs.add_note(handoff, "anna", "Will die P400 bis März")
    UnansweredQuestions(engine).add(WEB, NOW.timestamp(), "out_of_scope", "Habt ihr Kantinenessen?")
    EventLog(engine).record(  # its summary holds the WhatsApp id (a phone number) too
        [{"sender_id": WHATSAPP, "event": "user", "timestamp": NOW.timestamp(),
          "parse_data": {"intent": {"name": "greet"}}, "input_channel": "twilio"}]
    )  # fmt: skip
    texts = SQLiteTexts(str(tracker_db))
    for conversation, line in ((WHATSAPP, "Was kostet eine P400?"), (WEB, "Grüße 👋")):
        tracker = DialogueStateTracker.from_events(
            conversation, [UserUttered(line), BotUttered("Gern helfe ich.")]
        )
        texts[conversation] = SerializedTrackerAsText.serialise_tracker(
            tracker
        )  # as Rasa stores it
    return tmp_path


def exported(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(["privacy", "export", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def test_everything_about_a_person_by_email(person, capsys) -> None:
    document = exported(capsys, "--email", EMAIL.upper())
    assert document["format"] == "lotse-data-export/1"
    [entry] = document["leads"]
    assert entry["lead"]["email"] == EMAIL and entry["lead"]["phone"] == "+4915112345678"
    assert [c["purpose"] for c in entry["lead"]["consents"]] == ["lead_contact", "lead_contact"]
    assert [m["reason"] for m in entry["merges"]] == ["email"]
    conversations = {c["conversation_id"]: c for c in entry["conversations"]}
    assert set(conversations) == {WHATSAPP, WEB}
    whatsapp = conversations[WHATSAPP]
    assert whatsapp["transcript"][0] == {"from": "person", "text": "Was kostet eine P400?",
                                         "at": whatsapp["transcript"][0]["at"]}  # fmt: skip
    assert [t["from"] for t in whatsapp["transcript"]] == ["person", "bot"]
    assert whatsapp["messenger_address"] == {"id": "whatsapp:+4915112345678"}
    assert [m["text"] for m in whatsapp["handoff_messages"]] == [
        "Ich brauche ein Angebot",
        "Gern, Frau Muster!",
    ]
    assert [n["text"] for n in whatsapp["handoffs"][0]["notes"]] == ["Will die P400 bis März"]
    assert conversations[WEB]["transcript"][0]["text"] == "Grüße 👋"
    [question] = conversations[WEB]["unanswered_questions"]
    assert (question["kind"], question["text"]) == ("out_of_scope", "Habt ihr Kantinenessen?")


def test_the_same_person_by_phone_however_written_and_to_a_file(person, capsys) -> None:
    by_phone = exported(capsys, "--phone", "+49 (0)151 1234 5678")
    assert [e["lead"]["email"] for e in by_phone["leads"]] == [EMAIL]
    out = person / "anna.json"
    assert main(["privacy", "export", "--email", EMAIL, "--out", str(out)]) == 0
    assert "written" in capsys.readouterr().out
    assert json.loads(out.read_text(encoding="utf-8"))["leads"][0]["lead"]["email"] == EMAIL


def test_nobody_known_is_a_clear_error(person, capsys) -> None:
    assert main(["privacy", "export", "--email", "nobody@example.org"]) == 1
    assert "nobody with that email or phone" in capsys.readouterr().err


PERSONAL = (
    EMAIL,
    "+4915112345678",
    "Muster",
    "Angebot",
    "P400 bis M",
    "Was kostet eine P400",
    "Kantinenessen",
)


def file_text(path: Path) -> str:
    """The database file's bytes (after folding the WAL in) as text, deleted pages too."""
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.read_bytes().decode("utf-8", "replace")


def raw_text(path: Path) -> str:
    """The database file's and its write-ahead log's bytes as they are, without a
    checkpoint (which would hide the old pages the log still holds)."""
    files = [path, path.with_name(path.name + "-wal")]
    return " ".join(f.read_bytes().decode("utf-8", "replace") for f in files if f.exists())


def test_erasure_leaves_nothing_personal_in_any_store(person, capsys) -> None:
    lead_id = (
        LocalCrm(migrated_engine(f"sqlite:///{person / 'lotse.db'}")).find_by_email(EMAIL).lead_id
    )
    stores = (person / "lotse.db", person / "tracker.db")
    before = " ".join(raw_text(store) for store in stores)
    assert [word for word in PERSONAL if word not in before] == []  # the scan can see them
    assert main(["privacy", "erase", "--email", EMAIL, "--by", "dpo"]) == 0
    assert "erased: 1 lead(s), 2 conversation(s)" in capsys.readouterr().out
    assert main(["privacy", "export", "--phone", "0151 12345678"]) == 1  # nobody left
    engine = migrated_engine(f"sqlite:///{person / 'lotse.db'}")
    lead = LocalCrm(engine).lead(lead_id)
    assert (lead.email, lead.name, lead.phone, lead.answers) == (None, None, None, {})
    assert all(c.startswith("erased:") for c in lead.conversation_ids)
    assert all(c.withdrawn_at is not None for c in lead.consents)
    handoffs = HandoffStore(engine)
    assert handoffs.for_conversation(WHATSAPP) == [] and handoffs.messages(WHATSAPP) == []
    [kept] = [h for c in lead.conversation_ids for h in handoffs.for_conversation(c)]
    assert handoffs.messages(kept.conversation_id) == [] and handoffs.notes(kept.id) == []
    assert AddressBook(engine).address(WHATSAPP) is None
    # Marked for a while: a turn running now cannot save the transcript back.
    assert ErasedConversations(engine).recent([WHATSAPP]) == {WHATSAPP}
    with engine.connect() as c:
        audit = c.execute(text("SELECT action, leads, conversations, requested_by "
                               "FROM privacy_audit")).all()  # fmt: skip
    assert [tuple(row) for row in audit] == [("erase", 1, 2, "dpo")]
    engine.dispose()
    for store in stores:
        stored = raw_text(store)
        assert not [word for word in PERSONAL if word in stored], store.name


def test_erasing_nobody_is_a_clear_error(person, capsys) -> None:
    assert main(["privacy", "erase", "--phone", "+49 30 1234567"]) == 1
    assert "nobody with that email or phone" in capsys.readouterr().err


def test_a_withdrawn_consent_takes_the_unanswered_questions_texts_but_not_their_count(
    person,
) -> None:
    engine = migrated_engine(f"sqlite:///{person / 'lotse.db'}")
    crm, questions = LocalCrm(engine, clock=lambda: NOW), UnansweredQuestions(engine)
    assert [q["text"] for q in questions.texts_of(WEB)] == ["Habt ihr Kantinenessen?"]
    crm.withdraw_consent(crm.find_by_email(EMAIL).lead_id, NOW)
    assert questions.texts_of(WEB) == []
    with engine.connect() as connection:
        kept = connection.execute(text("SELECT kind, text FROM unanswered_questions")).all()
    assert [tuple(row) for row in kept] == [("out_of_scope", None)]
    assert "Kantinenessen" not in file_text(person / "lotse.db")
