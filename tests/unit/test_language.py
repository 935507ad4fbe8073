import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogue.language import detect_language, normalise_language, requested_language
from dialogue.lexicon import Lexicon

LEXICON = Lexicon.from_examples(
    {
        "de": ["Was kostet eine Presse?", "Lieferzeit bitte"],
        "en": ["What does a press cost?", "price please"],
    }
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Was kostet eine P400 bei Ihnen?", "de"),
        ("Wir sind ein Zulieferer aus Österreich", "de"),
        ("How long does the delivery of a press take?", "en"),
        ("Do you deliver to Austria?", "en"),
        ("lieferzeit", "de"),
        ("price p400", "en"),
    ],
)
def test_clear_texts_are_detected(text, expected):
    assert detect_language(text, LEXICON) == expected


@pytest.mark.parametrize("text", ["ok", "hi", "P800", "ja", "no", "", "🙂", "12345"])
def test_short_or_neutral_texts_decide_nothing(text):
    assert detect_language(text, LEXICON) is None


def test_lexicon_keeps_only_words_of_one_language():
    lexicon = Lexicon.from_examples({"de": ["Presse P400 ok"], "en": ["press P400 ok"]})
    assert lexicon.de == {"presse"}
    assert lexicon.en == {"press"}


def test_lexicon_round_trips_through_json(tmp_path):
    path = tmp_path / "lexicon.json"
    path.write_text(LEXICON.to_json(), encoding="utf-8")
    assert Lexicon.load(path) == LEXICON
    assert Lexicon.load(tmp_path / "missing.json") == Lexicon()


@pytest.mark.parametrize(
    ("hint", "expected"),
    [("de-DE", "de"), ("en_GB", "en"), ("EN", "en"), ("fr", None), (None, None), (3, None)],
)
def test_channel_language_hints_are_normalised(hint, expected):
    assert normalise_language(hint) == expected


@given(st.text(max_size=2000))
def test_detection_never_crashes(text):
    assert detect_language(text, LEXICON) in ("de", "en", None)


@pytest.mark.parametrize(("text", "current", "wanted"), [
    ("Können wir auf Englisch weitermachen?", "de", "en"),
    ("Can we speak German?", "en", "de"),
    ("Im Deutschen bitte", "en", "de"),
    ("Sorry, I barely speak any German. Could you send me a quote?", "de", "en"),
    ("Ich spreche kein Englisch", "en", "de"),
    ("Do you speak English? My German isn't great", "de", "en"),
    ("Not German please, but English", "de", "en"),
    ("mis Englisch isch nöd so guet", "en", "de"),
    ("Wir sind aus Deutschland, geht auch Englisch?", "de", "en"),  # a country is no language
    ("We are based in Germany, english please", "de", "en"),
    ("other language please", "de", "en"),  # none named: the other one
])  # fmt: skip
def test_the_language_asked_for_is_not_the_one_the_visitor_says_they_lack(text, current, wanted):
    assert requested_language(text, current) == wanted
