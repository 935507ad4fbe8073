"""conversations.rendering: message parts within each messenger's limits."""

from __future__ import annotations

import random
import re
import unicodedata

import pytest
import regex

from conversations.rendering import (
    LIMITS,
    MAX_PAYLOAD_CHARS,
    MAX_TITLE_UNITS,
    Button,
    ChannelLimits,
    Part,
    buttons_from,
    chosen_payload,
    numbered_menu,
    render,
    shorten,
    split_text,
    utf16_units,
)

WORDS = (
    ["Angebot", "Lieferzeit", "Größe", "Mitarbeitende", "Maschinenbau", "Österreich", "Rückruf"]
    + ["übermorgen", "Grüße", "Straße", "für", "Sie", "und", "wir", "gern", "50-249", "Preis:"]
    + ["(inkl.", "MwSt.)", "z.B.", "„Premium“", "Kalenderwoche", "Café", "Cafe\u0301"]
    + ["👍🏽", "👨‍👩‍👧", "👩🏽‍💻", "❤️", "🇩🇪", "🙂", "✅", "Team👍🏽", "super❤️!"]
    + ["u\u0308ber"]  # ü written as u + COMBINING DIAERESIS
    + ["50\xa0Stück"]  # a no-break space inside
    + ["Donaudampfschifffahrtsgesellschaftskapitän"]  # 42 units: longer than small limits
)
SEPARATORS = [" "] * 12 + [". ", "! ", "? ", "\n", "\n\n", "\r\n", " \n \n ", "\xa0", "… "]
# Characters that must never start a part: they belong to the character before them.
EXTENDERS = {"\u200d", "\ufe0f", "\ufe0e", "\u20e3"} | {chr(c) for c in range(0x1F3FB, 0x1F400)}
BREAKING_SPACE = re.compile(r"[^\S\xa0\u2007\u202f]+")


def random_text(rng: random.Random, words: int) -> str:
    pieces = []
    for _ in range(words):
        pieces.append(rng.choice(WORDS))
        pieces.append(rng.choice(SEPARATORS))
    return "".join(pieces)


def german_answer(length: int) -> str:
    sentences = [
        "Unsere Pressen der Serie P400 liefern wir in der Regel innerhalb von sechs Wochen.",
        "Für Kunden in Österreich und der Schweiz übernehmen wir die Zollformalitäten.",
        "Die Schulung Ihrer Mitarbeitenden vor Ort ist im Preis enthalten 👍🏽.",
        "Gern erstellt Ihnen unser Vertrieb ein Angebot für Ihre Stückzahlen.",
        "Bei Fragen zur Wartung erreichen Sie unseren Service werktags von 8 bis 17 Uhr.",
    ]
    paragraphs, paragraph, total = [], [], 0
    for index in range(10_000):
        sentence = sentences[index % len(sentences)]
        paragraph.append(sentence)
        total += len(sentence) + 1
        if len(paragraph) == 4:
            paragraphs.append(" ".join(paragraph))
            paragraph = []
            total += 1
        if total >= length:
            break
    paragraphs.append(" ".join(paragraph))
    return "\n\n".join(p for p in paragraphs if p)[:length].rstrip()


def cluster_boundaries(text: str) -> set[int]:
    offsets, position = {0}, 0
    for cluster in regex.findall(r"\X", text):
        position += len(cluster)
        offsets.add(position)
    return offsets


def assert_clean_cuts(text: str, parts: list[str]) -> None:
    """Every part is a piece of `text`, in order, cut between whole characters."""
    boundaries = cluster_boundaries(text)
    position = 0
    for part in parts:
        start = text.find(part, position)
        assert start >= 0, f"part not found in order: {part!r}"
        end = start + len(part)
        assert start in boundaries and end in boundaries, f"cut inside a character: {part!r}"
        assert not unicodedata.combining(part[0]) and part[0] not in EXTENDERS, part
        assert part[-1] != "\u200d", part
        if end < len(text):
            following = text[end]
            assert not unicodedata.combining(following) and following not in EXTENDERS, part
        position = end


def buttons(count: int, title: str = "Option") -> tuple[Button, ...]:
    return tuple(Button(f"{title} {n}", f'/choose{{"n":{n}}}') for n in range(1, count + 1))


# --- utf16_units --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("", 0),
        ("Grüße", 5),
        ("u\u0308", 2),
        ("€", 1),
        ("👍", 2),
        ("👍🏽", 4),
        ("👨‍👩‍👧", 8),
        ("❤️", 2),
        ("🇩🇪", 4),
    ],
)
def test_utf16_units_count_code_units(text, units):
    assert utf16_units(text) == units
    assert utf16_units(text) == len(text.encode("utf-16-le")) // 2


# --- buttons_from -------------------------------------------------------------------


def test_buttons_from_keeps_usable_buttons_and_skips_the_rest():
    raw = [
        {"title": "Ja, gerne 👍🏽", "payload": "/affirm"},
        {"title": " 50–249 ", "payload": ' /choose{"size":"50-249"} '},
        {"title": "Ohne Payload"},
        {"payload": "/deny"},
        {"title": "   ", "payload": "/deny"},
        {"title": "Leer", "payload": ""},
        {"title": 42, "payload": "/deny"},
        "kein dict",
        {"title": "Zu lang", "payload": "/x" + "y" * MAX_PAYLOAD_CHARS},
    ]
    assert buttons_from(raw) == (
        Button("Ja, gerne 👍🏽", "/affirm"),
        Button("50–249", '/choose{"size":"50-249"}'),
    )


def test_buttons_from_none_or_empty_gives_no_buttons():
    assert buttons_from(None) == ()
    assert buttons_from([]) == ()


def test_buttons_from_bounds_long_titles():
    (button,) = buttons_from([{"title": "Größe " * 100, "payload": "/x"}])
    assert utf16_units(button.title) <= MAX_TITLE_UNITS
    assert button.title.endswith("…")
    assert button.title.startswith("Größe Größe")


# --- shorten ------------------------------------------------------------------------


def test_shorten_keeps_fitting_text_unchanged():
    assert shorten("Rückruf 👍🏽", 20) == "Rückruf 👍🏽"


def test_shorten_cuts_between_characters_and_marks_the_cut():
    assert shorten("Unternehmensgröße auswählen", 20) == "Unternehmensgröße a…"
    # 👍🏽 is 4 units: it goes whole or not at all.
    assert shorten("Daumen 👍🏽👍🏽👍🏽", 12) == "Daumen 👍🏽…"
    assert shorten("Daumen 👍🏽👍🏽👍🏽", 11) == "Daumen…"
    assert shorten("Daumen👍🏽👍🏽", 12) == "Daumen👍🏽…"
    assert shorten("u\u0308ber alles", 4) == "u\u0308b…"


# --- LIMITS -------------------------------------------------------------------------


def test_limits_cover_each_channel_with_sane_figures():
    assert set(LIMITS) == {"telegram", "facebook", "twilio", "slack", "botframework"}
    for limits in LIMITS.values():
        assert limits.text_units >= 1000
        assert limits.max_buttons >= 0
        assert limits.max_buttons == 0 or limits.button_title_units >= 20
    assert LIMITS["facebook"] == ChannelLimits(2000, 13, 20)
    assert LIMITS["twilio"].max_buttons == 0


def test_facebook_three_buttons_are_native_with_twenty_unit_titles():
    three = (
        Button("Ja", "/affirm"),
        Button("Rückruf vereinbaren 📞 bitte", "/request_callback"),
        Button("Nein, danke", "/deny"),
    )
    parts = render("Darf unser Vertrieb Sie anrufen?", three, LIMITS["facebook"])
    assert parts == [
        Part(
            "Darf unser Vertrieb Sie anrufen?",
            (
                Button("Ja", "/affirm"),
                Button("Rückruf vereinbaren…", "/request_callback"),
                Button("Nein, danke", "/deny"),
            ),
        )
    ]
    assert all(utf16_units(b.title) <= 20 for b in parts[0].buttons)


def test_facebook_fourteen_buttons_become_numbered_text():
    parts = render("Welche Branche?", buttons(14, "Branche"), LIMITS["facebook"])
    assert len(parts) == 1
    assert parts[0].buttons == ()
    lines = parts[0].text.split("\n")
    assert lines[:2] == ["Welche Branche?", ""]
    assert lines[2:] == [f"{n}. Branche {n}" for n in range(1, 15)]


def test_facebook_thirteen_buttons_stay_native():
    parts = render("Welche Branche?", buttons(13), LIMITS["facebook"])
    assert len(parts[-1].buttons) == 13


@pytest.mark.parametrize("count", [1, 2, 5])
def test_twilio_always_gets_numbered_text(count):
    parts = render("Wie groß ist Ihr Team?", buttons(count), LIMITS["twilio"])
    assert [part.buttons for part in parts] == [()]
    assert parts[0].text == "Wie groß ist Ihr Team?\n\n" + numbered_menu(buttons(count))


def test_long_german_answer_on_facebook_is_three_parts_within_the_limit():
    text = german_answer(5000)
    assert len(text) >= 4990
    parts = render(text, (), LIMITS["facebook"])
    assert len(parts) == 3
    assert all(0 < utf16_units(part.text) <= 2000 for part in parts)
    assert " ".join(part.text for part in parts).split() == text.split()
    assert all(f"{part.text}\n\n" in text for part in parts[:-1])  # cut at paragraphs
    assert_clean_cuts(text, [part.text for part in parts])


def test_buttons_go_on_the_last_part_only():
    parts = render(german_answer(5000), buttons(3), LIMITS["facebook"])
    assert [len(part.buttons) for part in parts] == [0, 0, 3]


def test_slack_allows_ten_buttons_then_numbers_them():
    assert len(render("Thema?", buttons(10), LIMITS["slack"])[-1].buttons) == 10
    eleven = render("Thema?", buttons(11), LIMITS["slack"])
    assert eleven[-1].buttons == () and "11. Option 11" in eleven[-1].text


def test_teams_allows_six_buttons_then_numbers_them():
    assert len(render("Thema?", buttons(6), LIMITS["botframework"])[-1].buttons) == 6
    assert render("Thema?", buttons(7), LIMITS["botframework"])[-1].buttons == ()


def test_telegram_payloads_over_64_bytes_fall_back_to_numbered_text():
    fits = Button("München", '/inform{"city":"' + "ü" * 23 + '"}')  # 64 bytes in UTF-8
    too_long = Button("München", '/inform{"city":"' + "ü" * 24 + '"}')  # 66 bytes
    assert len(fits.payload.encode()) == 64
    assert render("Wo?", (fits,), LIMITS["telegram"])[-1].buttons == (fits,)
    parts = render("Wo?", (too_long,), LIMITS["telegram"])
    assert parts == [Part("Wo?\n\n1. München")]


# --- render: menus and empty texts --------------------------------------------------


def test_menu_that_does_not_fit_goes_in_a_part_of_its_own():
    text = "Wort " * 398 + "Ende."  # 1995 units
    parts = render(text, buttons(14), LIMITS["facebook"])
    assert [part.text for part in parts] == [text.strip(), numbered_menu(buttons(14))]


def test_a_huge_menu_is_split_between_its_lines():
    many = buttons(120, "Eine recht lange Branchenbezeichnung")
    parts = render("Welche Branche?", many, LIMITS["twilio"])
    assert len(parts) > 2
    assert all(utf16_units(part.text) <= 1600 for part in parts)
    assert parts[0] == Part("Welche Branche?")
    lines = "\n".join(part.text for part in parts[1:]).split("\n")
    assert lines == numbered_menu(many).split("\n")


def test_empty_text_with_native_buttons_still_yields_a_part():
    assert render("", buttons(2), LIMITS["facebook"]) == [Part("", buttons(2))]


def test_empty_text_with_numbered_buttons_yields_the_menu():
    assert render("  \n", buttons(2), LIMITS["twilio"]) == [Part("1. Option 1\n2. Option 2")]


@pytest.mark.parametrize("text", ["", "   ", "\n\n\r\n\t"])
def test_nothing_to_say_yields_no_parts(text):
    assert render(text, (), LIMITS["telegram"]) == []


def test_text_is_kept_exactly_without_normalisation_or_escaping():
    text = "Grüße aus Köln 👋🏼 – u\u0308ber <b>Preise</b> & *Rabatte*_ [1]"
    assert render(text, (), LIMITS["telegram"]) == [Part(text)]
    assert render(f"  {text}\n\n", (), LIMITS["telegram"]) == [Part(text)]


# --- split_text: where the cuts go ----------------------------------------------------


def test_paragraph_break_is_preferred():
    text = "Erste Zeile im Absatz.\nZweite Zeile im Absatz.\n\nNeuer Absatz.\nNoch eine Zeile."
    assert split_text(text, 65) == [
        "Erste Zeile im Absatz.\nZweite Zeile im Absatz.",
        "Neuer Absatz.\nNoch eine Zeile.",
    ]


def test_line_break_comes_before_sentence_end():
    text = "Preise auf Anfrage. Lieferung in KW 12\nDanach geht es weiter und weiter."
    assert split_text(text, 60)[0] == "Preise auf Anfrage. Lieferung in KW 12"


def test_sentence_end_comes_before_space():
    text = "Wir melden uns morgen. Das Team ist informiert und danach geht es weiter."
    assert split_text(text, 40)[0] == "Wir melden uns morgen."


def test_space_comes_before_cutting_a_word():
    text = "Wir melden uns morgen und das Team ist informiert"
    assert split_text(text, 30) == ["Wir melden uns morgen und das", "Team ist informiert"]


def test_an_early_break_gives_way_to_a_lesser_one_that_fills_the_part():
    text = "Kurz.\n\nDann kommt ein langer Satz. Und noch mehr Text hier."
    assert split_text(text, 40)[0] == "Kurz.\n\nDann kommt ein langer Satz."


def test_a_word_longer_than_the_limit_is_cut_between_characters():
    assert split_text("Donaudampfschifffahrt", 8) == ["Donaudam", "pfschiff", "fahrt"]
    assert split_text("ab👍🏽cd", 4) == ["ab", "👍🏽", "cd"]
    assert split_text("uu\u0308u\u0308", 3) == ["uu\u0308", "u\u0308"]


def test_no_break_spaces_are_not_breaks():
    text = "Wir liefern 50\xa0Stück"
    assert split_text(text, 16) == ["Wir liefern", "50\xa0Stück"]


def test_windows_line_endings_are_not_torn_apart():
    text = "Erste Zeile hier\r\nZweite Zeile dort"
    assert split_text(text, 20) == ["Erste Zeile hier", "Zweite Zeile dort"]


def test_a_character_longer_than_the_limit_is_the_only_thing_cut_inside():
    zalgo = "a" + "\u0301" * 30  # one cluster of 31 units
    parts = split_text(f"Hallo {zalgo} Welt", 10)
    assert all(utf16_units(part) <= 10 for part in parts)
    assert "".join(parts).replace(" ", "") == f"Hallo{zalgo}Welt"


def test_split_text_rejects_a_limit_no_character_fits():
    with pytest.raises(ValueError, match="at least 2"):
        split_text("Hallo", 1)


# --- split_text and render: properties over random texts -----------------------------


def test_random_texts_split_within_the_limit_without_losing_or_tearing_anything():
    rng = random.Random(20240611)
    words_kept_checked = 0
    for _ in range(600):
        text = random_text(rng, rng.randint(0, 120))
        limit = rng.randint(12, 160)
        parts = split_text(text, limit)
        assert all(part and part == part.strip() for part in parts)
        assert all(utf16_units(part) <= limit for part in parts)
        assert "".join("".join(parts).split()) == "".join(text.split())
        assert_clean_cuts(text, parts)
        if all(utf16_units(run) <= limit for run in BREAKING_SPACE.split(text)):
            assert " ".join(parts).split() == text.split()
            words_kept_checked += 1
    assert words_kept_checked > 200  # the word-level property was really exercised


def test_random_messages_render_within_every_platforms_limits():
    rng = random.Random(7)
    for _ in range(80):
        text = random_text(rng, rng.randint(0, 1200))
        titles = [random_text(rng, rng.randint(1, 8)).strip() or "Ok" for _ in range(20)]
        raw = [{"title": t, "payload": f'/choose{{"n":{n}}}'} for n, t in enumerate(titles)]
        choice = buttons_from(raw[: rng.randint(0, 20)])
        for name, limits in LIMITS.items():
            parts = render(text, choice, limits)
            assert parts or not (text.strip() or choice), name
            assert all(utf16_units(part.text) <= limits.text_units for part in parts)
            assert all(part.text or part.buttons for part in parts)
            assert all(part.buttons == () for part in parts[:-1])
            if parts and parts[-1].buttons:
                assert len(parts[-1].buttons) <= limits.max_buttons
                assert [b.payload for b in parts[-1].buttons] == [b.payload for b in choice]
                assert all(
                    utf16_units(b.title) <= limits.button_title_units for b in parts[-1].buttons
                )
            elif choice:
                assert numbered_menu(choice) in "\n".join(part.text for part in parts)


# --- numbered_menu and chosen_payload -------------------------------------------------

CHOICES = (
    Button("1–49 Mitarbeitende", '/choose{"size":"1-49"}'),
    Button("50–249", '/choose{"size":"50-249"}'),
    Button("Größer 👍🏽", '/choose{"size":"250+"}'),
)


def test_numbered_menu_lists_titles_in_order():
    assert numbered_menu(CHOICES) == "1. 1–49 Mitarbeitende\n2. 50–249\n3. Größer 👍🏽"
    assert numbered_menu(()) == ""


@pytest.mark.parametrize("reply", ["2", " 2 ", "2.", "2)", "\t2 )\n", "02"])
def test_chosen_payload_by_number(reply):
    assert chosen_payload(reply, CHOICES) == '/choose{"size":"50-249"}'


@pytest.mark.parametrize(
    ("reply", "payload"),
    [
        ("50–249", '/choose{"size":"50-249"}'),
        ("1–49 MITARBEITENDE", '/choose{"size":"1-49"}'),
        ("  größer 👍🏽 ", '/choose{"size":"250+"}'),
        ("GRÖSSER 👍🏽", '/choose{"size":"250+"}'),
    ],
)
def test_chosen_payload_by_exact_title(reply, payload):
    assert chosen_payload(reply, CHOICES) == payload


@pytest.mark.parametrize(
    "reply",
    ["0", "4", "-1", "2.5", "2 bitte", "zwei", "", "  ", "50", "Größer", "1." * 200, "3" * 300],
)
def test_chosen_payload_rejects_anything_else(reply):
    assert chosen_payload(reply, CHOICES) is None


def test_chosen_payload_without_buttons_is_none():
    assert chosen_payload("1", ()) is None
