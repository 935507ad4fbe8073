"""Bounding and cleaning of text a visitor typed.

Every visitor text is untrusted. `clean_visitor_text` is applied by the input
channel before Rasa sees a message, so trackers, logs and the NLU pipeline only ever
get bounded, printable text. Pure function: no I/O, no personal data kept.
"""

from __future__ import annotations

import unicodedata

MAX_TEXT_CHARS = 1000
"""Longer messages are cut here; nobody asks a product question in more."""

EMPTY_MESSAGE_INTENT = "/empty_message"
"""What a message with nothing readable in it becomes (an intent of the domain)."""

_KEEP_CONTROL = {"\n", "\t"}


def clean_visitor_text(raw: object, max_chars: int = MAX_TEXT_CHARS) -> str:
    """Return `raw` as NFC text without control/format characters, cut to `max_chars`.

    Anything that is not a string (None, numbers, lists from a malformed request)
    becomes the empty string.
    """
    if not isinstance(raw, str):
        return ""
    text = unicodedata.normalize("NFC", raw[: max_chars * 4])
    kept = [
        " " if ch in _KEEP_CONTROL else ch
        for ch in text
        if ch in _KEEP_CONTROL or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    ]
    return " ".join("".join(kept).split())[:max_chars].strip()


def has_readable_content(text: str) -> bool:
    """True when the text holds at least one letter or digit (emoji alone do not count)."""
    return any(unicodedata.category(ch)[0] in ("L", "N") for ch in text)


def to_rasa_text(raw: object) -> str:
    """What the channel hands to Rasa: cleaned text, or the empty-message intent."""
    text = clean_visitor_text(raw)
    if not has_readable_content(text):
        return EMPTY_MESSAGE_INTENT
    return text
