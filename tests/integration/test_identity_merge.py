"""One lead per person across channels, joined only on proof: an email address by the
code sent to it (issue 18), a number by the platform (WhatsApp); each merge recorded.
A typed number or address alone joins nobody.

The conversations go through `crm_adapter.recording.record` into the local store, as
the actions send them: a WhatsApp conversation through Twilio
("twilio:whatsapp:+49...", channel "twilio") and a website one ("web-<uuid>", channel
"rest"). Every test runs on SQLite and on PostgreSQL (a database of its own on the
server at LOTSE_TEST_POSTGRES_URL, see `tests.integration.test_crm_store`; skipped if unreachable).
"""

from __future__ import annotations

import re
import threading
import uuid
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Any

import pytest
from rasa_sdk import Tracker
from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.actions.leads import MAX_PROFILE_NAME_CHARS, profile_name
from crm_adapter.port import (
    ANSWERED,
    BOT,
    JOINED,
    KNOWN_ADDRESS,
    NEW_ADDRESS,
    PROFILE,
    Answer,
    Consent,
    ConsentRequired,
    MergeRecord,
    Notification,
    Visit,
)
from crm_adapter.recording import Learnt, record
from crm_adapter.scoring_model import load_scoring_model
from crm_adapter.store import LocalCrm
from crm_adapter.store.models import Contact, MergeRow
from dialogue.answers.contact import parse_phone
from tests.support import crm_engines
from tests.support.concurrency import run_together
from tests.support.notifications import queued

engine, postgres_url = crm_engines.engine, crm_engines.postgres_url  # shared fixtures

MODEL = load_scoring_model()
T0 = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)
ANNA = "+4915112345678"
WHATSAPP = f"twilio:whatsapp:{ANNA}"
DEADLINE = 60.0


class Clock:
    """The store's clock, moved on by the tests (merges are ordered by their time)."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def tick(self, minutes: int = 1) -> datetime:
        self.now += timedelta(minutes=minutes)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def crm(engine: Engine, clock: Clock) -> LocalCrm:
    return LocalCrm(engine, clock=clock)


def web() -> str:
    return f"web-{uuid.uuid4()}"


def consent(channel: str, at: datetime) -> Consent:
    return Consent("lead_contact", "2026-11-01", "Sind Sie einverstanden?", "de", channel, at)


def learn(crm: LocalCrm, conversation: str, channel: str, learnt: Learnt, now: datetime) -> int:
    """What one turn of `conversation` taught the bot, recorded as the actions do."""
    lead = crm.lead_for(Visit(conversation, channel))
    return record(crm, lead, learnt, MODEL, now)


def consenting(crm: LocalCrm, conversation: str, channel: str, now: datetime) -> int:
    return learn(crm, conversation, channel, Learnt(conversation, consent=consent(channel, now)),
                 now)  # fmt: skip


def typed_phone(conversation: str, text: str, now: datetime) -> Answer:
    """The answer the bot stores for a phone number typed in `conversation`."""
    found = parse_phone(text, "de")
    assert found is not None
    return Answer("phone", {"number": found.number}, ANSWERED, now, BOT, conversation)


def email(conversation: str, address: str, now: datetime) -> Answer:
    value = {"address": address, "freemail": False}
    return Answer("email", value, ANSWERED, now, BOT, conversation)


def merge_rows(engine: Engine) -> list[tuple[int, int, str, str | None]]:
    with Session(engine) as s:
        rows = s.execute(select(MergeRow).order_by(MergeRow.id)).scalars()
        return [(r.source_contact_id, r.target_contact_id, r.reason, r.conversation_id)
                for r in rows]  # fmt: skip


def code_mail(code: str, address: str) -> Notification:
    return Notification("email", "Ihr Code", f"Ihr Code: {code}", (address,))


def sent_code(engine: Engine, address: str) -> str:
    """The code in the latest mail to `address` in the outbox."""
    body = next(n.body for n in reversed(queued(engine)) if address in n.recipients)
    found = re.search(r"[0-9]{6}", body)
    assert found is not None
    return found.group()


def test_a_number_typed_on_the_website_does_not_join_the_whatsapp_lead(
    crm: LocalCrm, engine: Engine, clock: Clock
) -> None:
    """Issue 18: typing someone's number used to merge the typist into their lead. A
    typed number proves nothing (no code can go to it): it is an answer, no identity."""
    whatsapp_id = consenting(crm, WHATSAPP, "twilio", clock())
    assert crm.lead(whatsapp_id).phone == ANNA  # the platform's number, after the consent
    page = web()
    web_id = consenting(crm, page, "rest", clock.tick())
    answer = typed_phone(page, "0151 12345678", clock.tick())
    assert learn(crm, page, "rest", Learnt(page, answers=[answer]), clock()) == web_id
    assert crm.lead(web_id).answers["phone"].value == {"number": ANNA}
    assert crm.lead(whatsapp_id).conversation_ids == [WHATSAPP]
    assert merge_rows(engine) == [] and crm.merges(whatsapp_id) == []


def test_a_whatsapp_consent_does_not_join_a_lead_that_only_typed_its_number(
    crm: LocalCrm, engine: Engine, clock: Clock
) -> None:
    page = web()
    web_id = consenting(crm, page, "rest", clock())
    learn(crm, page, "rest", Learnt(page, answers=[typed_phone(page, "+49 (0)151 1234 5678",
                                                                clock())]), clock())  # fmt: skip
    whatsapp_id = crm.lead_for(Visit(WHATSAPP, "twilio")).lead_id
    assert crm.lead(whatsapp_id).phone is None  # nothing of the number before the consent
    assert consenting(crm, WHATSAPP, "twilio", clock.tick()) == whatsapp_id != web_id
    assert crm.lead(whatsapp_id).conversation_ids == [WHATSAPP]
    assert merge_rows(engine) == []


def test_the_same_email_in_two_conversations_joins_them_only_after_the_code(
    crm: LocalCrm, engine: Engine, clock: Clock
) -> None:
    first, second = web(), web()
    first_id = consenting(crm, first, "rest", clock())
    learn(crm, first, "rest", Learnt(first, [email(first, "anna@kunde.example", clock())],
                                     code_mail=code_mail), clock())  # fmt: skip
    assert crm.lead(first_id).email == "anna@kunde.example"  # new: hers, to be confirmed
    second_id = consenting(crm, second, "rest", clock.tick())
    answer = email(second, "Anna@Kunde.example", clock.tick())
    learnt = Learnt(second, [answer], code_mail=code_mail)
    assert learn(crm, second, "rest", learnt, clock()) == second_id  # a claim, no merge
    assert crm.lead(first_id).conversation_ids == [first]  # untouched, not shown
    assert crm.lead(second_id).email is None and merge_rows(engine) == []
    assert crm.open_claim(second_id).kind == KNOWN_ADDRESS
    merged_at = clock.tick()
    result = crm.verify_code(second_id, sent_code(engine, "Anna@Kunde.example"))
    assert (result.outcome, result.lead_id) == (JOINED, first_id)
    assert sorted(crm.lead(second_id).conversation_ids) == sorted([first, second])
    assert merge_rows(engine) == [(second_id, first_id, "email", second)]
    assert crm.merges(second_id) == [MergeRecord(second_id, first_id, "email", second, merged_at)]
    assert all(c.confirmed_at == merged_at for c in crm.lead(first_id).consents)


def test_nothing_merges_without_a_consent(crm: LocalCrm, engine: Engine, clock: Clock) -> None:
    whatsapp_id = consenting(crm, WHATSAPP, "twilio", clock())
    page = web()
    web_id = crm.lead_for(Visit(page, "rest")).lead_id
    answer = typed_phone(page, "0151 12345678", clock())
    with pytest.raises(ConsentRequired):
        learn(crm, page, "rest", Learnt(page, answers=[answer]), clock())
    with pytest.raises(ConsentRequired):
        crm.identify_phone(web_id, "0151 12345678")
    assert crm.lead(web_id).lead_id == web_id
    assert crm.lead(whatsapp_id).conversation_ids == [WHATSAPP]
    assert merge_rows(engine) == [] and crm.merges(whatsapp_id) == []


def test_merges_lists_every_merge_into_the_lead_oldest_first(crm: LocalCrm, clock: Clock) -> None:
    a, b, c = web(), web(), web()
    a_id, b_id, c_id = (consenting(crm, page, "rest", clock()) for page in (a, b, c))
    crm.identify(b_id, "anna@kunde.example", freemail=False)
    by_email = clock.tick()
    assert crm.identify(a_id, "anna@kunde.example", False, conversation_id=a) == b_id
    crm.identify_phone(c_id, ANNA)
    by_phone = clock.tick()
    assert crm.identify_phone(b_id, "0151 12345678", conversation_id=b) == c_id
    expected = [
        MergeRecord(a_id, b_id, "email", a, by_email),
        MergeRecord(b_id, c_id, "phone", b, by_phone),
    ]
    assert crm.merges(c_id) == expected
    assert crm.merges(a_id) == expected  # a merged id stands for the lead it went into
    assert crm.lead(c_id).email == "anna@kunde.example"  # taken over: c had none


def test_a_website_visitor_giving_the_whatsapp_lead_s_number_and_a_new_email_stays_apart(
    crm: LocalCrm, clock: Clock
) -> None:
    whatsapp_id = consenting(crm, WHATSAPP, "twilio", clock())
    office = typed_phone(WHATSAPP, "0521 5550100", clock.tick())
    learn(crm, WHATSAPP, "twilio", Learnt(WHATSAPP, answers=[office]), clock())
    assert crm.lead(whatsapp_id).phone == "+495215550100"  # the answer is the phone shown
    page = web()
    web_id = consenting(crm, page, "rest", clock.tick())
    answers = [email(page, "anna@kunde.example", clock()), typed_phone(page, ANNA, clock())]
    assert learn(crm, page, "rest", Learnt(page, answers, code_mail=code_mail), clock()) == web_id
    assert crm.lead(whatsapp_id).email is None
    assert crm.lead(web_id).email == "anna@kunde.example"
    assert crm.open_claim(web_id).kind == NEW_ADDRESS


def test_two_leads_with_different_emails_are_not_merged_by_a_shared_number(
    crm: LocalCrm, clock: Clock
) -> None:
    first, second = web(), web()
    first_id = consenting(crm, first, "rest", clock())
    crm.identify(first_id, "anna@kunde.example", False)
    crm.identify_phone(first_id, "0521 5550100")  # the office's switchboard
    second_id = consenting(crm, second, "rest", clock())
    crm.identify(second_id, "ben@kunde.example", False)
    assert crm.identify_phone(second_id, "0521 5550100") == second_id
    assert crm.merges(first_id) == crm.merges(second_id) == []


def test_identify_phone_refuses_what_is_no_phone_number(crm: LocalCrm, clock: Clock) -> None:
    lead_id = consenting(crm, web(), "rest", clock())
    with pytest.raises(ValueError):
        crm.identify_phone(lead_id, "12345")


def test_withdrawing_consent_forgets_the_number(
    crm: LocalCrm, engine: Engine, clock: Clock
) -> None:
    whatsapp_id = consenting(crm, WHATSAPP, "twilio", clock())
    crm.withdraw_consent(whatsapp_id, clock.tick())
    assert crm.lead(whatsapp_id).phone is None
    with Session(engine) as s:
        assert s.get(Contact, whatsapp_id).phone_normalised is None
    page = web()
    web_id = consenting(crm, page, "rest", clock.tick())
    assert crm.identify_phone(web_id, ANNA) == web_id  # nobody holds it any more


def test_concurrent_identifications_by_one_number_end_in_one_lead(
    crm: LocalCrm, engine: Engine, clock: Clock
) -> None:
    parties = 3
    pages = [web() for _ in range(parties)]
    ids = [consenting(crm, page, "rest", clock()) for page in pages]
    if engine.dialect.name == "postgresql":  # SQLite writers queue: no race to force
        _meet_before_locking_the_number(engine, parties)
    spellings = [ANNA, "0151 12345678", "0049 151 1234 5678"]
    pairs = zip(ids, spellings, strict=True)
    results = run_together([partial(crm.identify_phone, i, spelling) for i, spelling in pairs])
    assert len(set(results)) == 1
    lead = crm.lead(results[0])
    assert sorted(lead.conversation_ids) == sorted(pages)
    assert len(crm.merges(lead.lead_id)) == parties - 1


def _meet_before_locking_the_number(engine: Engine, parties: int) -> None:
    """Makes every thread wait, just before it takes the number's lock (or, were there
    none, looks for the number's holder), until all have their own lead locked: without
    the lock all would find no holder and take the number."""
    barrier = threading.Barrier(parties, timeout=DEADLINE / 2)
    waited = threading.local()

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        locking = "hashtext(%(number)s)" in statement
        looking = "phone_normalised =" in statement and "FOR UPDATE" in statement
        if (locking or looking) and not hasattr(waited, "x"):
            waited.x = True
            barrier.wait()

    event.listen(engine, "before_cursor_execute", before)


# The messenger profile's name.


def test_the_profile_name_is_stored_only_with_a_consent(crm: LocalCrm, clock: Clock) -> None:
    before = Learnt(WHATSAPP, interest=["asked_price"], profile_name="Anna Muster")
    lead_id = learn(crm, WHATSAPP, "twilio", before, clock())
    lead = crm.lead(lead_id)
    assert (lead.name, lead.phone, lead.answer_history) == (None, None, [])
    given = Learnt(WHATSAPP, consent=consent("twilio", clock.tick()), profile_name="Anna Muster")
    lead = crm.lead(learn(crm, WHATSAPP, "twilio", given, clock()))
    assert lead.name == "Anna Muster"
    assert (lead.answers["name"].source, lead.answers["name"].value) == (
        PROFILE, {"full": "Anna Muster"})  # fmt: skip
    typed = Answer("name", {"full": "Anna Muster-Berg"}, ANSWERED, clock.tick(), BOT, WHATSAPP)
    learn(crm, WHATSAPP, "twilio", Learnt(WHATSAPP, [typed]), clock())
    assert crm.lead(lead_id).name == "Anna Muster-Berg"  # what the person says wins


def test_the_profile_name_never_replaces_a_name_answer(crm: LocalCrm, clock: Clock) -> None:
    page = web()
    lead_id = consenting(crm, page, "rest", clock())
    typed = Answer("name", {"full": "Anna Muster"}, ANSWERED, clock(), BOT, page)
    learn(crm, page, "rest", Learnt(page, [typed]), clock())
    crm.withdraw_consent(lead_id, clock.tick())  # erases the name; a declined one stays
    declined = Answer("name", None, "declined", clock.tick(), BOT, page)
    learn(crm, page, "rest", Learnt(page, [declined]), clock())
    again = Learnt(page, consent=consent("rest", clock.tick()), profile_name="A. M.")
    lead = crm.lead(learn(crm, page, "rest", again, clock()))
    assert (lead.name, lead.answers["name"].status) == (None, "declined")


def _tracker(metadata: dict[str, Any]) -> Tracker:
    return Tracker.from_dict({
        "sender_id": WHATSAPP, "slots": {}, "events": [], "paused": False,
        "latest_message": {"text": "hallo", "metadata": metadata},
    })  # fmt: skip


def test_the_profile_name_is_read_from_the_message_metadata_bounded() -> None:
    assert profile_name(_tracker({"profile_name": "  Anna \n Muster "})) == "Anna Muster"
    long = profile_name(_tracker({"profile_name": "A" * 500}))
    assert long is not None and len(long) == MAX_PROFILE_NAME_CHARS
    assert profile_name(_tracker({"profile_name": "Anna\x00"})) is None
    assert profile_name(_tracker({"profile_name": 42})) is None
    assert profile_name(_tracker({})) is None
    assert profile_name(_tracker({"profile_name": "   "})) is None
