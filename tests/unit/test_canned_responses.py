"""The prepared answers (`handoff/canned_responses.py`): the shipped file loads, every
mistake names the file, line and entry, placeholders are filled in one pass without a
format engine, and what is saved reads back the same."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from handoff.canned_responses import (
    CANNED_FILE,
    MAX_VALUE_CHARS,
    CannedResponse,
    CannedResponsesError,
    load_canned_responses,
    parse_response,
    render,
    save_canned_responses,
)

GOOD = """\
version: 1
products:
  presses: {de: NW-Press, en: NW-Press}
answers:
  - key: greeting
    title: {de: Begrüßung, en: Greeting}
    text:
      de: "Guten Tag {visitor_name}, hier ist {agent_name}."
      en: "Hello {visitor_name}, this is {agent_name}."
"""


def written(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "canned_responses.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_answers_load_in_both_languages_with_nordwerks_facts():
    answers = load_canned_responses(CANNED_FILE)
    by_key = {r.key: r for r in answers.responses}
    assert {"greeting", "ask_phone", "office_hours", "offer", "spare_parts"} <= set(by_key)
    assert "+49 521 555 0100" in by_key["spare_parts"].text["de"]
    assert "24 Stunden" in by_key["spare_parts"].text["de"]
    assert "8:00 to 17:00" in by_key["office_hours"].text["en"]
    assert "7:00 to 18:00" in by_key["office_hours"].text["en"]
    assert answers.products["software"] == {"de": "NW-Connect", "en": "NW-Connect"}


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (GOOD.replace("{agent_name}.\"\n      en", "{price}.\"\n      en"),
         ":8: response 'greeting': text.de: unknown placeholder '{price}'"),
        (GOOD.replace("Guten Tag {visitor_name}", "Guten Tag {visitor_name.__class__}"),
         "unknown placeholder '{visitor_name.__class__}'"),
        (GOOD.replace("{agent_name}.\"\n      en", "{0}.\"\n      en"),
         "unknown placeholder '{0}'"),
        (GOOD.replace("{agent_name}.\"\n      en", "{agent_name!r}.\"\n      en"),
         "unknown placeholder '{agent_name!r}'"),
        (GOOD.replace("      en: \"Hello {visitor_name}, this is {agent_name}.\"\n", ""),
         "response 'greeting': text needs a text for en"),
        (GOOD.replace("title: {de: Begrüßung, en: Greeting}", "title: {de: Begrüßung, en: ''}"),
         ":6: response 'greeting': title.en must be a text"),
        (GOOD.replace("{de: Begrüßung, en: Greeting}", "{de: '" + "x" * 81 + "', en: G}"),
         "title.de has 81 characters (at most 80)"),
        (GOOD.replace("key: greeting", "key: Greeting!"), ":5: key 'Greeting!' must be"),
        (GOOD + GOOD[GOOD.index("  - key"):], ":10: key 'greeting' appears twice"),
        (GOOD.replace("    title:", "    colour: red\n    title:"),
         "unknown key 'colour' in response 1"),
        (GOOD.replace("answers:", "responses:"), "unknown key 'responses' in the file"),
        ("version: 1\nanswers: {}\n", ":2: answers must be a list"),
        ("answers: [\n", "not valid YAML"),
        ("", "the file is empty"),
    ],
)  # fmt: skip
def test_every_mistake_names_the_file_and_the_entry(tmp_path: Path, text: str, named: str):
    path = written(tmp_path, text)
    with pytest.raises(CannedResponsesError) as raised:
        load_canned_responses(path)
    assert str(raised.value).startswith(str(path)), raised.value
    assert named in str(raised.value)


def test_a_missing_file_is_named(tmp_path: Path):
    with pytest.raises(CannedResponsesError, match="nothing.yml: cannot be read"):
        load_canned_responses(tmp_path / "nothing.yml")


def test_placeholders_are_filled_and_missing_ones_left_empty_with_their_space():
    template = "Guten Tag {visitor_name}, hier ist {agent_name} zu {product}."
    assert render(template, {"visitor_name": "Frau Schmidt", "agent_name": "Anna Becker",
                             "product": "NW-Press"}) == (
        "Guten Tag Frau Schmidt, hier ist Anna Becker zu NW-Press.")  # fmt: skip
    assert render(template, {"agent_name": "Anna Becker", "visitor_name": ""}) == (
        "Guten Tag, hier ist Anna Becker zu."
    )
    assert render("{visitor_name}", {"visitor_name": None}) == ""


def test_braces_in_the_text_stay_and_values_are_not_rendered_again(tmp_path: Path):
    text = "Preise {netto, ab Werk} und {} für {company}"
    assert render(text, {"company": "{visitor_name} {0.__class__}"}) == (
        "Preise {netto, ab Werk} und {} für {visitor_name} {0.__class__}"
    )
    path = written(tmp_path, GOOD.replace("Guten Tag {visitor_name}", "Guten Tag { } {}"))
    [greeting] = load_canned_responses(path).responses
    assert greeting.text["de"].startswith("Guten Tag { } {}")


def test_values_are_bounded_and_kept_on_one_line():
    rendered = render("Hallo {visitor_name}!", {"visitor_name": "A\nB  " + "x" * 500})
    assert "\n" not in rendered
    assert len(rendered) == len("Hallo !") + MAX_VALUE_CHARS


def test_an_admins_answer_is_checked_like_the_files():
    text = {"de": "Angebot für {product}", "en": "Offer for {product}"}
    answer = parse_response("offer", {"de": " Angebot ", "en": "Offer"}, text)
    assert answer == CannedResponse("offer", {"de": "Angebot", "en": "Offer"}, text)
    with pytest.raises(CannedResponsesError, match=re.escape("'{visitor_name.__class__}'")):
        parse_response("x", {"de": "a", "en": "b"},
                       {"de": "{visitor_name.__class__}", "en": "b"})  # fmt: skip
    with pytest.raises(CannedResponsesError, match="needs exactly a text for de and en"):
        parse_response("x", {"de": "a"}, {"de": "a", "en": "b"})
    with pytest.raises(CannedResponsesError, match="the key must be"):
        parse_response("../x", {"de": "a", "en": "b"}, {"de": "a", "en": "b"})
    with pytest.raises(CannedResponsesError, match="control character"):
        parse_response("x", {"de": "a", "en": "b"}, {"de": "a\x00", "en": "b\ud800"})
    with pytest.raises(CannedResponsesError, match="at most 2000"):
        parse_response("x", {"de": "a", "en": "b"}, {"de": "a" * 2001, "en": "b"})


def test_saved_answers_read_back_the_same_and_keep_the_header(tmp_path: Path):
    path = written(tmp_path, CANNED_FILE.read_text(encoding="utf-8"))
    path.chmod(0o644)
    answers = load_canned_responses(path)
    changed = answers.replaced(parse_response(
        "thanks", {"de": "Danke", "en": "Thanks"}, {"de": "Danke, {visitor_name}!", "en": "Thanks!"}
    )).without("goodbye")  # fmt: skip
    save_canned_responses(changed, path)
    assert load_canned_responses(path) == changed
    assert path.read_text(encoding="utf-8").startswith("# Prepared answers for the staff console")
    assert path.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["canned_responses.yml"]  # no temporary left
    with pytest.raises(KeyError):
        changed.without("goodbye")
