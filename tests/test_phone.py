"""Phone numbers as the CRM compares them (`crm_adapter.phone`): E.164 or None."""

from __future__ import annotations

import pytest

from crm_adapter.phone import normalised_phone, whatsapp_phone

ANNA = "+4915112345678"


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


def test_a_national_number_takes_the_default_country() -> None:
    assert normalised_phone("0660 1234567", default_country="43") == "+436601234567"
    assert normalised_phone("+41 44 668 18 00", default_country="43") == "+41446681800"


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
    assert normalised_phone("+1234567") is None
    assert normalised_phone("+12345678") == "+12345678"
    assert normalised_phone("+123456789012345") == "+123456789012345"
    assert normalised_phone("+1234567890123456") is None


def test_a_default_country_must_be_a_calling_code() -> None:
    with pytest.raises(ValueError):
        normalised_phone("0151 12345678", default_country="DE")


def test_only_a_whatsapp_conversation_through_twilio_has_its_number_in_the_id() -> None:
    assert whatsapp_phone("twilio:whatsapp:+4915112345678") == ANNA
    assert whatsapp_phone("twilio:+4915112345678") is None  # an SMS, not WhatsApp
    assert whatsapp_phone("twilio:whatsapp:015112345678") is None  # platforms send E.164
    assert whatsapp_phone("twilio:whatsapp:+49") is None
    assert whatsapp_phone("web-4b1f0a4e-2c1d-4d8e-9a57-0c2f3f1b9e11") is None
    assert whatsapp_phone("telegram:123456789") is None
    assert whatsapp_phone("whatsapp:+4915112345678") is None
