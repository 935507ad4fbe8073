"""An email address typed in a chat is a claim until the code sent to it comes back
(issue 18). A stranger who types a known address can neither read, change, merge into
nor erase that contact; the same person with the code can join it. On SQLite and on
PostgreSQL; the store as the actions use it (`crm_adapter.recording.record`)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from crm_adapter.identity_code import CODE_MINUTES, MAX_CODE_ATTEMPTS, code_in, new_code
from crm_adapter.port import (
    ANSWERED,
    BOT,
    CONFIRMED,
    EXPIRED,
    JOINED,
    KNOWN_ADDRESS,
    NEW_ADDRESS,
    NO_CLAIM,
    WRONG_CODE,
    Answer,
    Consent,
    Lead,
    Notification,
    Visit,
)
from crm_adapter.recording import Learnt, record
from crm_adapter.scoring_model import load_scoring_model
from crm_adapter.store import LocalCrm
from crm_adapter.store.models import Base, CrmEventRow, IdentityClaimRow
from dialogue.understanding.reading import CODE_INTENT, decide
from tests.support import crm_engines
from tests.support.notifications import queued

engine, postgres_url = crm_engines.engine, crm_engines.postgres_url  # shared fixtures

MODEL = load_scoring_model()
T0 = datetime(2026, 12, 6, 9, 0, tzinfo=timezone.utc)
ANNA = "anna.muster@metallbau.example"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def crm(engine: Engine, clock: Clock) -> LocalCrm:
    return LocalCrm(engine, clock=clock)


def mail(code: str, address: str) -> Notification:
    return Notification("email", "Ihr Code", f"Geben Sie {code} im Chat ein.", (address,))


def says(crm: LocalCrm, conversation: str, *answers: tuple[str, Any]) -> int:
    """One turn of `conversation`: a consent and these answers, as the actions record."""
    lead = crm.lead_for(Visit(conversation, "rest"))
    consent = Consent("lead_contact", "2026-11-26", "Einverstanden?", "de", "rest", T0)
    given = [Answer(key, value, ANSWERED, T0, BOT, conversation) for key, value in answers]
    learnt = Learnt(conversation, given, consent if lead.consent is None else None,
                    code_mail=mail)  # fmt: skip
    return record(crm, lead, learnt, MODEL, T0)


def email(address: str) -> tuple[str, Any]:
    return ("email", {"address": address, "freemail": False})


def code_sent_to(engine: Engine, address: str) -> str:
    body = next(n.body for n in reversed(queued(engine)) if address in n.recipients)
    found = re.search(r"[0-9]{6}", body)
    assert found is not None
    return found.group()


def everything_of(crm: LocalCrm, lead_id: int) -> Lead:
    return crm.lead(lead_id)


@pytest.fixture
def anna(crm: LocalCrm, engine: Engine) -> int:
    """Anna's lead: her answers, her address, confirmed with her code."""
    lead_id = says(crm, "anna-1", ("employees", {"count": 60}), ("name", {"full": "Anna Muster"}),
                   email(ANNA))  # fmt: skip
    assert crm.verify_code(lead_id, code_sent_to(engine, ANNA)).outcome == CONFIRMED
    return lead_id


def test_a_stranger_typing_a_known_address_changes_and_sees_nothing(
    crm: LocalCrm, engine: Engine, anna: int
) -> None:
    before = everything_of(crm, anna)
    stranger = says(crm, "stranger-1", ("employees", {"count": 5}),
                    ("name", {"full": "Mallory"}), email(ANNA.upper()))  # fmt: skip
    assert stranger != anna
    assert everything_of(crm, anna) == before  # not changed
    seen = crm.lead_for(Visit("stranger-1", "rest"))  # what the stranger's turns read
    assert seen.lead_id == stranger and seen.email is None
    assert seen.answers["employees"].value == {"count": 5} and "Anna" not in repr(seen)
    claim = crm.open_claim(stranger)
    assert claim is not None and claim.kind == KNOWN_ADDRESS
    assert crm.merges(anna) == []
    # The code went to Anna's mailbox, never to the stranger, and is stored only hashed.
    code = code_sent_to(engine, ANNA.upper())
    with engine.connect() as connection:
        dump = repr([list(connection.execute(select(t))) for t in Base.metadata.sorted_tables
                     if t is not CrmEventRow.__table__])  # fmt: skip
    assert code not in dump


def test_a_stranger_erasing_everything_erases_only_their_own(
    crm: LocalCrm, engine: Engine, anna: int
) -> None:
    before = everything_of(crm, anna)
    stranger = says(crm, "stranger-2", ("name", {"full": "Mallory"}), email(ANNA))
    crm.erase([crm.lead_for(Visit("stranger-2", "rest")).lead_id], T0, "chat")
    assert everything_of(crm, anna) == before
    assert crm.lead(stranger).email is None and crm.open_claim(stranger) is None


def test_wrong_codes_are_counted_and_then_void_the_claim(
    crm: LocalCrm, engine: Engine, anna: int
) -> None:
    stranger = says(crm, "stranger-3", email(ANNA))
    right = code_sent_to(engine, ANNA)
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    for left in range(MAX_CODE_ATTEMPTS - 1, 0, -1):
        result = crm.verify_code(stranger, wrong)
        assert (result.outcome, result.attempts_left) == (WRONG_CODE, left)
    assert crm.verify_code(stranger, wrong).attempts_left == 0
    assert crm.verify_code(stranger, right).outcome == NO_CLAIM  # too late: void
    assert crm.merges(anna) == [] and crm.lead(anna).conversation_ids == ["anna-1"]


def test_an_old_code_has_expired(crm: LocalCrm, engine: Engine, clock: Clock, anna: int) -> None:
    stranger = says(crm, "stranger-4", email(ANNA))
    code = code_sent_to(engine, ANNA)
    clock.now = T0 + timedelta(minutes=CODE_MINUTES, seconds=1)
    assert crm.verify_code(stranger, code).outcome == EXPIRED
    assert crm.merges(anna) == []


def test_the_person_with_the_code_joins_the_contact(
    crm: LocalCrm, engine: Engine, anna: int
) -> None:
    again = says(crm, "anna-2", ("timeline", {"months": 2}), email(ANNA))
    result = crm.verify_code(again, code_sent_to(engine, ANNA))
    assert (result.outcome, result.lead_id) == (JOINED, anna)
    joined = crm.lead_for(Visit("anna-2", "rest"))
    assert joined.lead_id == anna and joined.email == ANNA
    assert sorted(joined.conversation_ids) == ["anna-1", "anna-2"]
    assert joined.answers["timeline"].value == {"months": 2}
    assert crm.open_claim(anna) is None


def test_a_new_address_is_the_lead_s_and_the_code_confirms_it_with_the_consent(
    crm: LocalCrm, engine: Engine
) -> None:
    lead_id = says(crm, "bert-1", email("bert@kunde.example"))
    lead = crm.lead(lead_id)
    assert lead.email == "bert@kunde.example" and lead.consent.confirmed_at is None
    assert crm.open_claim(lead_id).kind == NEW_ADDRESS
    assert crm.verify_code(lead_id, code_sent_to(engine, "bert@kunde.example")).outcome \
        == CONFIRMED  # fmt: skip
    assert crm.lead(lead_id).consent.confirmed_at == T0
    assert crm.verify_code(lead_id, "123456").outcome == NO_CLAIM  # used up


def test_withdrawing_and_erasing_leave_no_address_in_a_claim(
    crm: LocalCrm, engine: Engine, anna: int
) -> None:
    says(crm, "stranger-5", email(ANNA))
    crm.erase([anna], T0, "console")  # Anna's erasure: the stranger's claim held her address
    with engine.connect() as connection:
        left = connection.execute(select(IdentityClaimRow)).all()
        outbox = connection.execute(text("SELECT payload FROM crm_events")).all()
    assert left == []
    assert all(ANNA.lower() not in str(row).lower() for row in outbox)


@pytest.mark.parametrize("typed, code", [
    ("482913", "482913"), ("482 913", "482913"), ("Code: 482-913", "482913"),
    ("der code ist 004711.", "004711"), ("My code is 482913", "482913"),
    ("12345", None), ("1234567", None), ("482913 und 123456", None), ("", None),
    ("0151 12345678", None), ("80331 München", None),
])  # fmt: skip
def test_codes_are_read_as_people_type_them(typed: str, code: str | None) -> None:
    assert code_in(typed) == code


def test_new_codes_are_six_random_digits() -> None:
    codes = {new_code() for _ in range(200)}
    assert all(re.fullmatch(r"[0-9]{6}", c) for c in codes) and len(codes) > 190


@pytest.mark.parametrize("typed, is_code", [
    ("482913", True), ("Der Code lautet 482 913", True), ("hier: 482913", True),
    ("Wir haben 150000 Euro Budget eingeplant", False), ("geht 482913 auch?", False),
    ("0521 5550100", False),
])  # fmt: skip
def test_the_reader_takes_a_typed_code_for_a_code(typed: str, is_code: bool) -> None:
    assert (decide(typed, "nlu_fallback").intent == CODE_INTENT) is is_code
