"""The shipped content: all 20 topics of the demo company, every fact, both languages."""

from pathlib import Path

import pytest
import yaml

from dialogue.content import ContentError, load_content, parse_content
from dialogue.nlu_examples import nlu_examples
from ops.build import examples_by_language, generated_domain, generated_rules
from tests.support.facts import FACTS, missing_facts

CONTENT = load_content()
TOPICS = sorted(FACTS["de"])


def test_the_content_has_exactly_the_20_topics_of_the_demo_company():
    assert sorted(CONTENT.topics) == TOPICS
    assert len(TOPICS) == 20


@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("topic", TOPICS)
def test_every_answer_holds_its_exact_facts(topic, language):
    assert missing_facts(CONTENT.topics[topic].answer[language], topic, language) == []


def test_every_topic_has_training_examples_in_both_languages():
    examples = nlu_examples()
    by_language = examples_by_language()
    for topic in CONTENT.topics.values():
        texts = [text for intent, text in examples if intent == topic.intent]
        german = [t for t in texts if t in by_language["de"]]
        english = [t for t in texts if t in by_language["en"]]
        assert len(german) >= 10, topic.key
        assert len(english) >= 10, topic.key


def test_generated_domain_and_rules_cover_every_topic():
    domain = generated_domain(CONTENT)
    rules = generated_rules(CONTENT)["rules"]
    for topic in CONTENT.topics.values():
        assert topic.intent in domain["intents"]
        assert {"intent": topic.intent} in [step for rule in rules for step in rule["steps"]]
    assert "greet" in domain["intents"]


def test_answers_become_responses_in_both_languages_with_follow_up_buttons():
    responses = generated_domain(CONTENT)["responses"]
    for topic in CONTENT.topics.values():
        english, german = responses[topic.response]
        assert english["condition"] == [{"type": "slot", "name": "language", "value": "en"}]
        assert english["text"] == topic.answer["en"]
        assert "condition" not in german and german["text"] == topic.answer["de"]
        assert german["buttons"] == CONTENT.buttons(topic.suggestions, "de")
    assert {"utter_greet", "utter_page_intro"} <= set(responses)


def test_every_website_page_names_a_topic():
    assert set(CONTENT.pages) == {"home", "presses", "conveyors", "software", "service"}


def _valid() -> dict:
    return yaml.safe_load(Path("bot/data/content/faq.yml").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["topics"]["warranty"]["answer"].pop("en"), "topics.warranty.answer: the 'en'"),
        (
            lambda d: d["topics"]["warranty"].update(suggestions=["nope"]),
            "unknown topic(s) ['nope']",
        ),
        (lambda d: d["topics"]["warranty"]["title"].update(de="x" * 40), "longer than 25"),
        (lambda d: d["pages"]["home"].update(topic="nope"), "pages.home.topic"),
        (lambda d: d.pop("topics"), "needs a 'topics:' mapping"),
        (lambda d: d["topics"].update({"Bad Key": d["topics"]["warranty"]}), "topics.Bad Key"),
    ],
)
def test_content_errors_name_the_place(mutate, message):
    data = _valid()
    mutate(data)
    with pytest.raises(
        ContentError,
        match=message.replace("(", r"\(")
        .replace(")", r"\)")
        .replace("[", r"\[")
        .replace("]", r"\]"),
    ):
        parse_content(data)


def test_unreadable_file_gives_a_content_error(tmp_path):
    broken = tmp_path / "faq.yml"
    broken.write_text("topics: [unclosed", encoding="utf-8")
    with pytest.raises(ContentError, match="not valid YAML"):
        load_content(broken)
    with pytest.raises(ContentError, match="cannot be read"):
        load_content(tmp_path / "missing.yml")


def test_the_greeting_line_follows_page_and_language() -> None:
    from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator

    from ops.build import page_intro_variations

    content = load_content()
    nlg = TemplatedNaturalLanguageGenerator({"utter_page_intro": page_intro_variations(content)})

    def line(**slots: object) -> dict:
        filled = {"language": None, "page": None, **slots}
        return nlg.generate_from_slots("utter_page_intro", filled, "rest")

    presses = line(language="de", page="presses")
    assert presses["text"] == content.pages["presses"].intro["de"]
    assert {"title": "Hydraulikpressen", "payload": "/faq_presses"} in presses["buttons"]
    assert line(language="en", page="software")["text"] == content.pages["software"].intro["en"]
    assert line(language="en")["text"] == content.pages["home"].intro["en"]
    assert line()["text"] == content.pages["home"].intro["de"]  # language not known yet
    # Every call gives exactly the one variation its slots select, never a random other.
    assert all(line(language="de", page="presses") == presses for _ in range(20))


@pytest.mark.parametrize(
    ("topic", "text", "expected"),
    [
        ("software_price", "Looking for a 400 t hydraulic press, how much?", "press_price"),
        ("press_price", "was kostet euer Monitoring ungefähr", "software_price"),
        ("software_price", "Was kostet NW-Connect für unser Presswerk?", "software_price"),
        ("software_price", "Preis für Pressen und die Software?", "software_price"),
        ("maintenance", "Wartung für unsere Pressen", "maintenance"),  # no facet: stays
        ("delivery_time", "wie lange dauert eine Presse", "delivery_time"),  # no line: stays
    ],
)
def test_a_question_asked_of_another_product_line_gets_that_lines_topic(topic, text, expected):
    from dialogue.qualification.interpret import named_lines

    assert load_content().on_named_line(topic, named_lines(text)) == expected
