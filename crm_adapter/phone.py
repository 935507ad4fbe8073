"""Phone numbers as the CRM compares them: E.164 ("+4915112345678").

`normalised_phone(raw)` reads what people type ("0151 1234 5678", "+49 (0)151-1234/5678",
"0049 151 12345678") and what platforms send ("whatsapp:+4915112345678"):
- a leading `whatsapp:` (any case) is dropped;
- spaces, dashes, dots, slashes and parentheses are dropped, and a "(0)" right after
  the country code ("+49 (0)151 ...") with them;
- "00" starts an international number ("0049..." is "+49..."); a single leading "0" a
  national one of `default_country` (a calling code, "49" unless told);
- anything else (letters, a "+" inside, a number without "+", "00" or "0", a country
  code starting with 0, fewer than 8 or more than 15 digits) is no phone number: None.

`whatsapp_phone(conversation_id)` is the number of a WhatsApp conversation through
Twilio ("twilio:whatsapp:+4915112345678"), None for any other conversation.

Pure functions over the text they are given; phone numbers are personal data, and
nothing here keeps or logs them.
"""

from __future__ import annotations

import re

MIN_DIGITS = 8
MAX_DIGITS = 15
MAX_RAW_CHARS = 64  # longer than any phone number written out with separators
WHATSAPP_PREFIX = "whatsapp:"
WHATSAPP_CONVERSATION_PREFIXES = ("twilio:whatsapp:",)

_SEPARATORS = re.compile(r"[\s\-./()]")
_TRUNK_ZERO = re.compile(r"^((?:\+|00)[1-9][0-9]{0,2})[\s\-./]*\(0\)")
_CALLING_CODE = re.compile(r"[1-9][0-9]{0,2}")
_DIGITS = re.compile(r"[0-9]+")


def normalised_phone(
    raw: str, default_country: str = "49", *, min_digits: int = MIN_DIGITS,
    min_national_digits: int = 0,
) -> str | None:  # fmt: skip
    """The E.164 form of `raw`, or None if it is no phone number (see the module
    docstring). ValueError if `default_country` is no calling code ("49", "43", "41").
    `min_digits` is the fewest digits after the "+"; a national number needs at least
    `min_national_digits` digits after its 0 (the answer parser's guard against postal
    codes, `bot.answers.contact`)."""
    if not _CALLING_CODE.fullmatch(default_country):
        raise ValueError(f"a calling code is 1 to 3 digits, not {default_country!r}")
    text = raw.strip()
    if len(text) > MAX_RAW_CHARS:
        return None
    if text[: len(WHATSAPP_PREFIX)].lower() == WHATSAPP_PREFIX:
        text = text[len(WHATSAPP_PREFIX) :].strip()
    text = _SEPARATORS.sub("", _TRUNK_ZERO.sub(r"\1", text))
    if _national(text) and len(text) - 1 < min_national_digits:
        return None
    international = _international(text, default_country)
    if international is None or not _DIGITS.fullmatch(international):
        return None
    if international.startswith("0") or not min_digits <= len(international) <= MAX_DIGITS:
        return None
    return "+" + international


def _national(text: str) -> bool:
    return text.startswith("0") and not text.startswith("00")


def _international(text: str, default_country: str) -> str | None:
    """The digits after the "+" of `text` (separators removed), None without a prefix."""
    if text.startswith("+"):
        return text[1:]
    if text.startswith("00"):
        return text[2:]
    if _national(text):
        return default_country + text[1:]
    return None


def whatsapp_phone(conversation_id: str) -> str | None:
    """The E.164 number of a WhatsApp conversation's id, None for other conversations."""
    for prefix in WHATSAPP_CONVERSATION_PREFIXES:
        if conversation_id.startswith(prefix):
            number = conversation_id[len(prefix) :]
            return normalised_phone(number) if number.startswith("+") else None
    return None
