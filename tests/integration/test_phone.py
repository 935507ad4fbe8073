"""Phone numbers as the CRM compares them (`crm_adapter.phone`): E.164 or None, a
national number read in the visitor's country (Germany when none is known); and that
country reaching the number where a visitor types it: the answer parser, what one
message volunteers, and the callback form through to the lead's stored number
(`dialogue.answers`, `bot.actions.callback`, `crm_adapter.recording` on a SQLite store)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.actions import callback
from crm_adapter import phone
from crm_adapter.phone import normalised_phone, whatsapp_phone
from crm_adapter.port import ANSWERED, Answer, Consent, Visit
from crm_adapter.recording import Learnt, record
from crm_adapter.scoring_model import load_scoring_model
from crm_adapter.store import LocalCrm
from dialogue.answers import contact, volunteered
from dialogue.answers.contact import Phone, parse_phone
from lotse.database import make_engine
from lotse.migrate import migrate

ANNA = "+4915112345678"
SEPP = "+436641234567"  # an Austrian mobile number
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "raw",
    [
        "+4915112345678",
        "0151 12345678",
        "0151-1234 5678",
        "0151/12345678",
        "0151.1234.5678",
        "(0151) 123 456 78",
        "0049 151 12345678",
        "+49 (0)151 12345678",
        "+49 (0) 151-123 456 78",
        "0049 (0)151 12345678",
        "  +49 151 12345678\n",
        "whatsapp:+4915112345678",
        "WhatsApp:+49 151 12345678",
    ],
)
def test_what_people_type_and_platforms_send_is_one_number(raw: str) -> None:
    assert normalised_phone(raw) == ANNA


@pytest.mark.parametrize(
    "raw", ["+49 0151 1234 5678", "+49 0151 12345678", "0049 0151 12345678", "+490151 1234 5678"]
)
def test_a_trunk_zero_after_the_country_code_is_the_same_number(raw: str) -> None:
    # "+49 0151 ..." once became "+49015112345678": one person, two leads.
    assert normalised_phone(raw) == normalised_phone("0151 12345678") == ANNA
    assert normalised_phone(raw) == normalised_phone("+49 151 12345678")


def test_a_national_number_takes_the_default_country() -> None:
    assert normalised_phone("0660 1234567", default_country="AT") == "+436601234567"
    assert normalised_phone("+41 44 668 18 00", default_country="AT") == "+41446681800"


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("0664 1234567", "AT", SEPP),
        ("0664/123 45 67", "at", SEPP),
        ("0664 1234567", "DE", "+496641234567"),  # in Germany, 06641 is Lauterbach
        ("079 123 45 67", "CH", "+41791234567"),
        ("044 668 18 00", "CH", "+41446681800"),
        ("0151 12345678", "DE", ANNA),
        ("07700 900123", "GB", "+447700900123"),  # Ofcom's range for drama: possible
    ],
)
def test_a_national_number_is_read_in_the_visitors_country(
    raw: str, country: str, expected: str
) -> None:
    assert normalised_phone(raw, default_country=country) == expected


def test_a_country_whose_numbers_start_with_0_keeps_it() -> None:
    assert normalised_phone("+39 06 1234 5678") == "+390612345678"  # Rome
    assert normalised_phone("0039 (0)6 1234 5678") == "+390612345678"


def test_without_a_country_a_national_number_is_german() -> None:
    assert normalised_phone("0664 1234567") == "+496641234567"
    assert phone.DEFAULT_COUNTRY == "DE"
    for unknown in (None, "", "XX", "49", "Österreich", 43):
        assert phone.phone_country(unknown) == "DE"
    assert (phone.phone_country("at"), phone.phone_country(" CH ")) == ("AT", "CH")


@pytest.mark.parametrize(
    "raw",
    [
        "0043 664 1234567",
        "0043 (0)664 1234567",
        "+43 664 1234567",
        "+43 (0) 664 123 45 67",
        "whatsapp:+43 664 1234567",
        "WHATSAPP:+436641234567",
    ],
)
@pytest.mark.parametrize("country", ["DE", "AT", "CH", "GB"])
def test_an_international_number_keeps_its_own_country(raw: str, country: str) -> None:
    assert normalised_phone(raw, default_country=country) == SEPP


@pytest.mark.parametrize(
    "raw",
    [
        "+12345678",  # North America has 10 digits after the 1
        "+1 234 5678",
        "+999 1234 5678",  # no country has the calling code 999
        "+43 664 1234567 8901 2",
        "+49 30 1234 5678 9012",  # 16 digits, whatever the German plan allows
    ],
)
def test_a_number_no_country_can_have_is_none(raw: str) -> None:
    assert normalised_phone(raw) is None


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "+",
        "15112345678",  # no "+", "00" or "0": which country?
        "+49 151 1234567a",
        "+49 151 +12345678",
        "+0151 12345678",  # no country code starts with 0
        "000151 12345678",
        "+49 1234",  # 6 digits: too short to tell people apart
        "0123 45",
        "+49 1511 2345 6789 0123",  # 18 digits: longer than E.164
        "+49 151 1234\u0665678",  # an Arabic-Indic digit is no ASCII digit
        "+49 151 12345678 ext. 12",
        "0" * 70,
    ],
)
def test_anything_else_is_no_phone_number(raw: str) -> None:
    assert normalised_phone(raw) is None


def test_the_bounds_are_8_and_15_digits() -> None:
    assert normalised_phone("+49 30 123") is None
    assert normalised_phone("+49 30 1234") == "+49301234"
    assert normalised_phone("+49 30 1234 5678 901") == "+493012345678901"
    assert normalised_phone("+1234567") is None


def test_a_default_country_is_a_country_code() -> None:
    assert normalised_phone("0151 12345678", default_country="de") == ANNA
    for no_country in ("49", "+49", "DEU", "XX"):
        with pytest.raises(ValueError):
            normalised_phone("0151 12345678", default_country=no_country)


def test_only_a_whatsapp_conversation_through_twilio_has_its_number_in_the_id() -> None:
    assert whatsapp_phone("twilio:whatsapp:+4915112345678") == ANNA
    assert whatsapp_phone("twilio:+4915112345678") is None  # an SMS, not WhatsApp
    assert whatsapp_phone("twilio:whatsapp:015112345678") is None  # platforms send E.164
    assert whatsapp_phone("twilio:whatsapp:+49") is None
    assert whatsapp_phone("web-4b1f0a4e-2c1d-4d8e-9a57-0c2f3f1b9e11") is None
    assert whatsapp_phone("telegram:123456789") is None
    assert whatsapp_phone("whatsapp:+4915112345678") is None


# --- the visitor's country, where visitors type numbers --------------------------------


@pytest.mark.parametrize("country", ["DE", "AT", "CH", None, "XX"])
@pytest.mark.parametrize(
    "text", ["01067", "PLZ 01067 Dresden", "1010 Wien", "8001 Zürich", "33602 Bielefeld",
             "am 01.12.2026", "keine Nummer", "+49 0123", "Tel. 4711"],
)  # fmt: skip
def test_postal_codes_dates_and_rubbish_are_no_phone_numbers(text: str, country) -> None:
    assert parse_phone(text, "de", default_country=country) is None
    assert contact.normalised_phone(text, country) is None


def test_the_answer_parser_reads_a_national_number_in_the_visitors_country() -> None:
    assert parse_phone("Meine Nummer: 0664 1234567", "de", default_country="AT") == Phone(SEPP)
    assert parse_phone("079 123 45 67", "de", default_country="CH") == Phone("+41791234567")
    assert parse_phone("0664 1234567", "de") == Phone("+496641234567")  # Germany by default
    assert parse_phone("ruf an: +49 0151 1234 5678", "de") == Phone(ANNA)
    assert parse_phone("0043 664 1234567", "de", default_country="CH") == Phone(SEPP)


def test_a_number_said_with_a_place_is_read_in_that_places_country() -> None:
    found = volunteered.extract_all("Wir sitzen in Linz, Tel. 0664 1234567", "de")
    assert (found["country"], found["phone"]) == ("AT", Phone(SEPP))
    found = volunteered.extract_all("We are in Zurich, call me on 079 123 45 67", "en")
    assert (found["country"], found["phone"]) == ("CH", Phone("+41791234567"))


def test_a_volunteered_number_is_read_in_the_country_the_visitor_gave() -> None:
    found = volunteered.extract_all("Tel. 0664 1234567", "de", country="AT")
    assert found["phone"] == Phone(SEPP)
    assert volunteered.extract_all("Tel. 0664 1234567", "de")["phone"] == Phone("+496641234567")


@pytest.fixture
def crm(tmp_path: Path) -> LocalCrm:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    migrate(url)
    return LocalCrm(make_engine(url), clock=lambda: NOW)


def austrian_lead(crm: LocalCrm, conversation: str) -> int:
    """A lead that consented and said it is in Linz, Austria."""
    consent = Consent("lead_contact", "2026-11-01", "Einverstanden?", "de", "rest", NOW)
    location = Answer("location", {"country": "AT", "postal_code": "4020"}, ANSWERED, NOW,
                      conversation_id=conversation)  # fmt: skip
    lead = crm.lead_for(Visit(conversation, "rest"))
    return record(crm, lead, Learnt(conversation, answers=[location], consent=consent),
                  load_scoring_model(), NOW)  # fmt: skip


def test_the_callback_form_reads_the_number_in_the_leads_country(crm: LocalCrm) -> None:
    lead = crm.lead(austrian_lead(crm, "web-linz"))
    number = callback.readers(lead).phone("Sie erreichen mich unter 0664 1234567", "de")
    assert number == SEPP
    answer = Answer("phone", {"number": number}, ANSWERED, NOW, conversation_id="web-linz")
    record(crm, lead, Learnt("web-linz", answers=[answer]), load_scoring_model(), NOW)
    assert crm.lead(lead.lead_id).phone == SEPP  # what sales calls back


def test_without_a_location_the_callback_form_reads_german_numbers(crm: LocalCrm) -> None:
    lead = crm.lead_for(Visit("web-anywhere", "rest"))
    assert callback.readers(lead).phone("0664 1234567", "de") == "+496641234567"
    assert callback.readers(lead).phone("0043 664 1234567", "de") == SEPP


def test_the_qualification_reads_the_phone_answer_in_the_country_the_visitor_gave() -> None:
    """The phone question of the qualification: a national number in the country of the
    lead's location answer (issue 18), German without one."""
    from datetime import date

    from bot.actions.qualification import country_of
    from crm_adapter.port import ANSWERED, Answer, Lead
    from dialogue.qualification.interpret import AnswerInterpreter
    from dialogue.qualification.questions import load_questionnaire

    question = load_questionnaire().question("phone")
    read = AnswerInterpreter().read
    location = Answer("location", {"country": "AT", "postal_code": "4020"}, ANSWERED,
                      datetime(2026, 12, 6, tzinfo=timezone.utc))  # fmt: skip
    austrian = Lead(1, answers={"location": location})
    assert country_of(austrian) == "AT" and country_of(Lead(2)) is None
    reading = read(question, "0664 1234567", "de", date(2026, 12, 6), country="AT")
    assert reading is not None and reading.value == {"number": "+436641234567"}
    german = read(question, "0151 12345678", "de", date(2026, 12, 6), country=None)
    assert german is not None and german.value == {"number": "+4915112345678"}
