from hypothesis import given
from hypothesis import strategies as st

from dialogue.text_input import (
    EMPTY_MESSAGE_INTENT,
    MAX_TEXT_CHARS,
    clean_visitor_text,
    has_readable_content,
    to_rasa_text,
)


def test_cleaning_keeps_ordinary_text_with_umlauts_and_emoji():
    assert clean_visitor_text("  Grüße aus Köln 👋 ") == "Grüße aus Köln 👋"


def test_control_and_format_characters_are_removed_and_whitespace_folded():
    assert clean_visitor_text("Was\x00 kostet\x1b[31m die\u200b P400?\r\n\tDanke") == (
        "Was kostet[31m die P400? Danke"
    )


def test_long_text_is_cut_to_the_bound():
    assert len(clean_visitor_text("a" * 20_000)) == MAX_TEXT_CHARS


def test_non_strings_become_empty():
    assert clean_visitor_text(None) == ""
    assert clean_visitor_text(["x"]) == ""
    assert clean_visitor_text(42) == ""


def test_empty_and_emoji_only_texts_become_the_empty_message_intent():
    assert to_rasa_text("") == EMPTY_MESSAGE_INTENT
    assert to_rasa_text("   \x00 ") == EMPTY_MESSAGE_INTENT
    assert to_rasa_text("😀😀🎉") == EMPTY_MESSAGE_INTENT
    assert to_rasa_text(None) == EMPTY_MESSAGE_INTENT


def test_mixed_scripts_are_readable():
    assert has_readable_content("Привет, was kostet 東京 P400?")
    assert to_rasa_text("Привет P400") == "Привет P400"


@given(st.text(max_size=5000))
def test_no_text_makes_cleaning_crash_and_the_result_is_bounded(raw):
    cleaned = clean_visitor_text(raw)
    assert len(cleaned) <= MAX_TEXT_CHARS
    assert "\x00" not in cleaned
    assert cleaned == cleaned.strip()
    assert to_rasa_text(raw) in (cleaned, EMPTY_MESSAGE_INTENT)
