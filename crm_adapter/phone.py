"""Phone numbers as the CRM compares them: E.164 ("+4915112345678").

`normalised_phone(raw, default_country="DE")` reads what people type ("0151 1234 5678",
"+49 (0)151-1234/5678", "+49 0151 12345678", "0049 151 12345678") and what platforms
send ("whatsapp:+4915112345678") with Google's libphonenumber (the `phonenumbers`
package), which knows each country's numbering plan:
- a leading `whatsapp:` (any case) is dropped, then spaces, dashes, dots, slashes and
  parentheses;
- "+" or "00" starts an international number, whatever the visitor's country ("0049..."
  is "+49..."); a 0 right after the country code is the national trunk prefix and
  dropped ("+49 0151", "+49 (0)151", "+43 (0)664" are "+49151", "+43664") in countries
  that dial one (not in Italy, whose numbers keep their 0);
- a single leading "0" starts a national number of `default_country`, the ISO 3166 code
  of the visitor's country ("0664 1234567" is "+436641234567" in "AT", "+496641234567"
  in "DE"); `phone_country(country)` is the code to pass for whatever country a visitor
  gave: DEFAULT_COUNTRY (Germany) when none is known or the plan is unknown;
- anything else is no phone number, None: letters (an extension, "0800-CALL-ME"), a
  digit that is not ASCII, a "+" inside, a number without "+", "00" or "0" (which
  country?), a country code starting with 0, fewer than `min_digits` (8) or more than
  15 digits, and a number of a length its country's numbers never have, or of a
  calling code no country has ("+1 234 5678", "+999 ..."; libphonenumber's
  `is_possible_number`), or a 0 left after the country code that the country's numbers
  do not have ("+49 0123": too short once the trunk 0 is dropped).
Otherwise numbers are not checked against the ranges a country has allocated
(`is_valid_number`): those tables lag behind new ranges, and a number of a possible
length is kept as the visitor typed it rather than refused.

`whatsapp_phone(conversation_id)` is the number of a WhatsApp conversation through
Twilio ("twilio:whatsapp:+4915112345678"), None for any other conversation.

Pure functions over the text they are given; phone numbers are personal data, and
nothing here keeps or logs them.
"""

from __future__ import annotations

import re

import phonenumbers

DEFAULT_COUNTRY = "DE"
MIN_DIGITS = 8
MAX_DIGITS = 15
MAX_RAW_CHARS = 64  # longer than any phone number written out with separators
WHATSAPP_PREFIX = "whatsapp:"
WHATSAPP_CONVERSATION_PREFIXES = ("twilio:whatsapp:",)

_SEPARATORS = re.compile(r"[\s\-./()]")
_WRITTEN = re.compile(r"(?:\+|00|0)[0-9]+")  # after the separators are dropped
_POSSIBLE = phonenumbers.ValidationResult.IS_POSSIBLE


def phone_country(country: object) -> str:
    """The country to read national numbers in for a visitor who gave `country` (an
    ISO 3166 code such as "AT", any case, as the "location" answer holds it):
    that code if libphonenumber knows its numbering plan, DEFAULT_COUNTRY otherwise
    (None, "", "XX", a calling code)."""
    code = country.strip().upper() if isinstance(country, str) else ""
    return code if code in phonenumbers.SUPPORTED_REGIONS else DEFAULT_COUNTRY


def normalised_phone(
    raw: str, default_country: str = DEFAULT_COUNTRY, *, min_digits: int = MIN_DIGITS,
    min_national_digits: int = 0,
) -> str | None:  # fmt: skip
    """The E.164 form of `raw`, or None if it is no phone number (see the module
    docstring). ValueError if `default_country` is no ISO 3166 code libphonenumber
    knows (such as "49", a calling code; `phone_country` gives one for any country).
    `min_digits` is the fewest digits after the "+"; a national number needs at least
    `min_national_digits` digits after its 0 (the answer parser's guard against postal
    codes, `dialogue.answers.contact`)."""
    region = default_country.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"a default country is an ISO 3166 code, not {default_country!r}")
    text = raw.strip()
    if len(text) > MAX_RAW_CHARS:
        return None
    if text[: len(WHATSAPP_PREFIX)].lower() == WHATSAPP_PREFIX:
        text = text[len(WHATSAPP_PREFIX) :].strip()
    text = _SEPARATORS.sub("", text)
    if not _WRITTEN.fullmatch(text):
        return None
    if text.startswith("00"):
        text = "+" + text[2:]  # "00" is international in DE, AT, CH, not everywhere
    elif not text.startswith("+") and len(text) - 1 < min_national_digits:
        return None
    if text.startswith("+0"):
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.is_possible_number_with_reason(number) != _POSSIBLE:
        return None
    if number.italian_leading_zero and not phonenumbers.is_valid_number(number):
        return None  # a 0 kept after "+49": "+49 0123" is no German number, "+39 06" Roman
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164 if min_digits <= len(e164) - 1 <= MAX_DIGITS else None


def whatsapp_phone(conversation_id: str) -> str | None:
    """The E.164 number of a WhatsApp conversation's id, None for other conversations."""
    for prefix in WHATSAPP_CONVERSATION_PREFIXES:
        if conversation_id.startswith(prefix):
            number = conversation_id[len(prefix) :]
            return normalised_phone(number) if number.startswith("+") else None
    return None
