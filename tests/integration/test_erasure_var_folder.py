"""Issue 18: after `lotse privacy erase`, no byte of the person's email, phone number or
name remains in any file under `var/`: the SQLite databases with their WAL and shared
memory files (CRM store, handoffs, event log and insights in `lotse.db`, transcripts
in `tracker.db`), the notification emails the embedded profile writes as `.eml` files
into `var/mail/` (no SMTP server), and the log file.

The folder is built as the running embedded stack builds it, with the same code and
while the stores' connections stay open (as Rasa's and the action server's do): a lead
with email, phone and name, two conversations (WhatsApp, whose id is the number, and
the website), transcripts, a handoff with messages and a note, an unanswered question,
conversation events, notifications sent by the dispatcher into the mail folder (with
an invitation attached, and one naming the person, quoted-printable and as MIME
encoded-words), and log lines written through the log redaction every process
installs. The scan (tests/support/var_scan.py) reads every file as bytes."""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from rasa.core.tracker_store import SerializedTrackerAsText
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import text
from sqlalchemy.engine import Engine

from conversations.address_book import AddressBook
from conversations.texts import SQLiteTexts
from crm_adapter.port import ANSWERED, Answer, Consent, Meeting, Notification, SalesTask, Visit
from crm_adapter.store import LocalCrm
from handoff.dispatch import notification_worker
from handoff.ics import meeting_invitation
from handoff.notify import Email, MailFolderSender, erase_mail_mentioning
from handoff.store import HandoffStore, NewHandoff
from handoff.texts import load_handoff_texts
from insights.event_log import EventLog
from insights.unanswered import UnansweredQuestions
from lotse import log_redaction
from lotse.migrate import migrated_engine
from lotse.notify_settings import notify_settings
from ops.cli import main
from privacy.erasure import DataErasure
from privacy.personal_stores import Scrubbed
from tests.support.var_scan import Person, traces
from wiring.services import open_personal_stores, services

PERSON = Person("joerg.weissmueller@stahlbau-nord.example", "+4915124681357", "Jörg Weißmüller")
TYPED_PHONE = "0151 2468 1357"
WHATSAPP = "twilio:whatsapp:+4915124681357"
WEB = "web-4b1d77"
STAFF = "anna.becker@nordwerk.example"


@pytest.fixture
def var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "var"
    monkeypatch.setenv("LOTSE_DATABASE_URL", f"sqlite:///{folder / 'lotse.db'}")
    monkeypatch.setenv("LOTSE_TRACKER_DB", str(folder / "tracker.db"))
    monkeypatch.setenv("LOTSE_MAIL_DIR", str(folder / "mail"))
    return folder


@pytest.fixture
def log_file(var: Path) -> Iterator[Path]:
    """The processes' log (INFO, redacted as `log_redaction.install()` makes it)."""
    var.mkdir(parents=True, exist_ok=True)
    path = var / "lotse.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s - %(message)s"))
    root, factory = logging.getLogger(), logging.getLogRecordFactory()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    log_redaction.install()
    try:
        yield path
    finally:
        logging.setLogRecordFactory(factory)
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()


def transcript(conversation: str, *lines: str) -> str:
    events = [e for line in lines for e in (UserUttered(line), BotUttered("Gern."))]
    tracker = DialogueStateTracker.from_events(conversation, events)
    return SerializedTrackerAsText.serialise_tracker(tracker)


def notifications(lead_id: int, now: datetime) -> tuple[list[Notification], list[Notification]]:
    """The callback's notifications (as `bot/actions/callback.py` writes them), and the
    meeting's (to the person, with the invitation, and to the staff member)."""
    texts = load_handoff_texts()
    values = {"phone": TYPED_PHONE, "window": "vormittags", "lead": str(lead_id),
              "stage": "marketing_qualified_lead", "conversation": WHATSAPP}  # fmt: skip
    callback = [
        Notification("email", texts.text("callback_email_subject", "de", **values),
                     texts.text("callback_email_body", "de", **values), (STAFF,)),
        # Any text a notification carries: here the person's name, with umlauts (the
        # body quoted-printable, the subject MIME encoded-words).
        Notification("email", f"Rückruf für {PERSON.name}",
                     f"{PERSON.name} bittet um Rückruf unter +49 151 2468 1357.", (STAFF,)),
    ]  # fmt: skip
    start = now + timedelta(days=2)
    invitation = meeting_invitation(
        uid="meeting-1@lotse", start=start, end=start + timedelta(minutes=30),
        summary="Gespräch mit Nordwerk (Anna Becker)", description="Ihr Termin",
        organizer=("Anna Becker", STAFF), attendees=[(PERSON.name, PERSON.email)], now=now,
    )  # fmt: skip
    values = {"slot": "Do 10:00", "lead": str(lead_id), "email": PERSON.email,
              "conversation": WEB}  # fmt: skip
    meeting = [
        Notification("email", "Gespräch mit Nordwerk", "Ihr Termin: Do 10:00",
                     (PERSON.email,), invitation),
        Notification("email", "Gespräch mit Nordwerk",
                     texts.text("meeting_staff_body", "de", **values), (STAFF,), invitation),
    ]  # fmt: skip
    return callback, meeting


def build(var: Path) -> tuple[Engine, SQLiteTexts, int]:
    """The embedded stack's var/ with the person in it; returns the CRM database's
    engine and the tracker store (kept open while the erasure runs, as the running
    processes keep theirs) and the lead."""
    now = datetime.now(timezone.utc)
    engine = migrated_engine(os.environ["LOTSE_DATABASE_URL"])
    crm, handoffs = LocalCrm(engine), HandoffStore(engine)
    for conversation, channel in ((WHATSAPP, "twilio"), (WEB, "rest")):
        lead = crm.lead_for(Visit(conversation, channel))
        crm.record_consent(lead.lead_id, Consent("lead_contact", "2026-11-01", "Einverstanden?",
                                                 "de", channel, now))  # fmt: skip
        crm.identify(lead.lead_id, PERSON.email, freemail=False)
    lead_id = crm.find_by_email(PERSON.email).lead_id
    crm.save_answer(lead_id, Answer("name", {"full": PERSON.name}, ANSWERED, now,
                                    conversation_id=WEB))  # fmt: skip
    crm.save_answer(lead_id, Answer("phone", {"number": TYPED_PHONE}, ANSWERED, now,
                                    conversation_id=WHATSAPP))  # fmt: skip
    crm.identify_phone(lead_id, TYPED_PHONE, WHATSAPP)
    callback, meeting = notifications(lead_id, now)
    crm.add_task(lead_id, SalesTask("callback", "vormittags", now, now), callback)
    start = now + timedelta(days=2)
    crm.book_meeting(lead_id, Meeting("anna", start, start + timedelta(minutes=30),
                                      "Gespräch mit Nordwerk", now), meeting)  # fmt: skip
    settings = notify_settings({"LOTSE_MAIL_DIR": os.environ["LOTSE_MAIL_DIR"]})
    assert notification_worker(engine, settings).run_once() == 4

    AddressBook(engine).remember(WHATSAPP, "twilio", {"id": "whatsapp:+4915124681357"})
    handoff = handoffs.request(NewHandoff(WHATSAPP, "asked", "de", "sales", "sales",
                                          timedelta(minutes=2), channel="twilio"))  # fmt: skip
    handoffs.add_message(WHATSAPP, "visitor", f"Hier {PERSON.name}, {TYPED_PHONE}", handoff.id)
    handoffs.add_message(WHATSAPP, "agent", "Gern, Herr Weißmüller!", handoff.id, "anna", "Anna")
    handoffs.add_note(handoff, "anna", f"Weißmüller will die P400, {PERSON.email}")
    UnansweredQuestions(engine).add(WEB, now.timestamp(), "out_of_scope",
                                    f"Ich bin {PERSON.name}, gibt es Kantinenessen?")  # fmt: skip
    EventLog(engine).record(
        [{"sender_id": WHATSAPP, "event": "user", "timestamp": now.timestamp() - 60,
          "parse_data": {"intent": {"name": "greet"}}, "input_channel": "twilio"}]
    )  # fmt: skip
    texts = SQLiteTexts(os.environ["LOTSE_TRACKER_DB"])  # Rasa's, open all along
    texts[WHATSAPP] = transcript(WHATSAPP, "Was kostet eine P400?", f"Ich bin {PERSON.name}")
    texts[WEB] = transcript(WEB, f"Meine Mail: {PERSON.email}", f"Telefon {TYPED_PHONE}")
    # A library's line quoting a whole event (Rasa's Pika broker does, when a publish
    # fails): the redaction every process installs withholds it.
    logging.getLogger("rasa.core.brokers.pika").error(
        "Failed to publish Pika message. rasa_event=%s",
        {"sender_id": WHATSAPP, "event": "user", "text": f"Ich bin {PERSON.name}"},
    )
    return engine, texts, lead_id


@pytest.mark.parametrize("asked", ["command", "chat"])
def test_after_an_erasure_no_file_under_var_holds_the_person(
    asked: str, var: Path, log_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`lotse privacy erase`; and the chat's withdrawal and button (as the console's
    erasure, without VACUUM: secure_delete and the emptied write-ahead log suffice;
    the mails are found by what the transcripts say, the lead no longer knows it)."""
    engine, texts, lead_id = build(var)
    before = traces(var, PERSON)
    seen = {trace.split(":")[0].split("/")[0] for trace in before}
    # The scan sees the person in every kind of file (else it would prove nothing).
    assert {"lotse.db-wal", "tracker.db-wal", "mail"} <= seen, before
    assert {"tracker.db-wal: email (raw)", "tracker.db-wal: name (raw)"} <= set(before)
    mail = [t.split(": ", 1)[1] for t in before if t.startswith("mail/")]
    assert {"name (decoded mail)", "email (raw)", "phone (raw, digits)"} <= set(mail)
    logged = log_file.read_text(encoding="utf-8")
    assert "email written to the mail folder" in logged and "rasa_event=[redacted]" in logged

    if asked == "command":
        assert main(["privacy", "erase", "--email", PERSON.email, "--by", "dpo"]) == 0
        said = "erased: 1 lead(s), 2 conversation(s), 4 email(s) in the mail folder"
        assert said in capsys.readouterr().out
    else:  # the chat: the withdrawal's turn (it clears the lead's email, phone and
        # name), then the button's erasure (the console's too runs without VACUUM)
        personal = services().personal_stores
        personal.crm.withdraw_consent(lead_id, datetime.now(timezone.utc))
        lead = personal.crm.lead(lead_id)
        assert (lead.email, lead.phone, lead.name) == (None, None, None)
        erased = DataErasure(personal).erase_leads([lead], "chat", asked_in=WEB)
        assert (erased.leads, erased.conversations, erased.mails, erased.busy) == (1, 2, 4, ())
        personal.engine.dispose()

    assert traces(var, PERSON) == []
    assert WHATSAPP not in texts and WEB not in texts
    texts.db.close()
    engine.dispose()


def test_the_mail_folder_loses_every_email_naming_the_person_and_only_those(
    tmp_path: Path,
) -> None:
    """However the mail file writes them: a name in an encoded-word subject, a number
    written otherwise in a quoted-printable body, an address in a base64 invitation,
    a conversation id; a half-written file from a crash too. Mails about others stay,
    also one whose conversation id only begins like the person's."""
    folder = tmp_path / "mail"
    sender = MailFolderSender(folder, "lotse@nordwerk.example")
    invitation = meeting_invitation(
        uid="m@lotse", start=datetime(2026, 12, 8, 9, tzinfo=timezone.utc),
        end=datetime(2026, 12, 8, 10, tzinfo=timezone.utc), summary="Termin",
        description="Termin", organizer=("Anna Becker", STAFF),
        attendees=[(PERSON.name, PERSON.email)],
    )  # fmt: skip
    about = [
        Email((STAFF,), f"Rückruf: {PERSON.name.upper()}", "Bitte zurückrufen"),
        Email((STAFF,), "Rückruf", "Telefon: +49 (0)151 2468-1357\nWunschzeit: früh"),
        Email((STAFF,), "Termin", "Ein Termin", invitation),
        Email((STAFF,), "Termin", f"Gespräch: {WEB}"),
    ]
    others = [
        Email((STAFF,), "Rückruf", "Telefon: 0171 5550 1234, Herr Weißhaupt"),
        Email((STAFF,), "Termin", f"Gespräch: {WEB}0 (Jonas)"),
    ]
    for email in about + others:
        sender.send(email)
    (folder / ".20261206T000000-abc.eml.tmp").write_bytes(
        f"To: {STAFF}\r\nSubject: x\r\n\r\n{PERSON.email}".encode()
    )
    texts, numbers = {PERSON.email, PERSON.name, WEB, WHATSAPP}, {PERSON.phone}
    assert erase_mail_mentioning(folder, texts, numbers) == len(about) + 1
    assert len(list(folder.iterdir())) == len(others)
    assert traces(folder, PERSON) == []
    assert erase_mail_mentioning(folder, texts, numbers) == 0
    assert erase_mail_mentioning(tmp_path / "none", texts, numbers) == 0


def test_vacuum_also_removes_what_a_connection_without_secure_delete_left(
    var: Path,
) -> None:
    """Lotse's connections all run with secure_delete; a row deleted by another (an
    older version, a hand-started sqlite3) leaves its bytes in the file, which the
    scrub of `lotse privacy erase` and the daily purge (with VACUUM) removes."""
    stores = services().personal_stores
    path = var / "lotse.db"
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("PRAGMA secure_delete=OFF")
    other.execute("CREATE TABLE scratch (note TEXT)")
    other.execute("INSERT INTO scratch VALUES (?)", (f"{PERSON.name} {PERSON.email} " * 50,))
    other.execute("DELETE FROM scratch")
    other.close()
    assert stores.scrub() == Scrubbed(1)  # the write-ahead log emptied into the file
    assert {t.split(" ")[0] for t in traces(var, PERSON)} == {"lotse.db:"}
    assert stores.scrub(vacuum=True) == Scrubbed(1)
    assert traces(var, PERSON) == []
    stores.engine.dispose()


def test_on_postgresql_the_command_s_erasure_vacuums_the_database() -> None:
    """PostgreSQL keeps an erased row's old version until VACUUM; `lotse privacy
    erase` runs it (the dead versions go; their space is not overwritten, see
    `privacy/personal_stores.py`)."""
    from tests.integration.test_crm_store import postgres_database

    with postgres_database() as url:
        stores = open_personal_stores(url, None)
        lead = stores.crm.lead_for(Visit(WEB, "rest"))
        stores.crm.record_consent(
            lead.lead_id,
            Consent(
                "lead_contact", "v1", "Einverstanden?", "de", "rest", datetime.now(timezone.utc)
            ),
        )
        stores.crm.identify(lead.lead_id, PERSON.email, freemail=False)
        erased = DataErasure(stores, vacuum=True).erase(email=PERSON.email)
        assert (erased.leads, erased.busy) == (1, ())
        deadline = time.monotonic() + 10
        query = text("SELECT last_vacuum FROM pg_stat_user_tables WHERE relname = 'crm_contacts'")
        while True:
            with stores.engine.connect() as connection:
                if connection.execute(query).scalar() is not None:
                    break
            assert time.monotonic() < deadline, "crm_contacts not vacuumed"
            time.sleep(0.2)
        stores.engine.dispose()


def test_erasing_by_email_clears_the_mail_folder_even_when_no_lead_has_it_any_more(
    var: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine, texts, lead_id = build(var)
    LocalCrm(engine).withdraw_consent(lead_id, datetime.now(timezone.utc))
    assert main(["privacy", "erase", "--email", PERSON.email]) == 0
    assert "erased: 0 lead(s), 0 conversation(s), 2 email(s)" in capsys.readouterr().out
    assert [t for t in traces(var, PERSON) if t.startswith("mail/") and "email" in t] == []
    texts.db.close()
    engine.dispose()
