"""A/B tests of the bot's messages: the experiments file (dialogue/experiments.py), the
variant a conversation gets, and the variants written into the domain (ops/build.py)."""

from __future__ import annotations

import copy
from collections import Counter
from pathlib import Path

import pytest
from rasa.core.nlg.generator import ResponseVariationFilter

from dialogue.experiments import (
    EXPERIMENTS_FILE,
    Experiment,
    ExperimentsError,
    Variant,
    exposure_responses,
    load_experiments,
    read_experiments,
    variant_responses,
)
from ops.build import language_variations, qualification_responses, with_experiments

IDS = [f"conversation-{i}" for i in range(10_000)]
HEADER = "version: 1\nexperiments:\n"


def written(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "experiments.yml"
    path.write_text(text, encoding="utf-8")
    return path


def two_way(name: str, first: int, second: int) -> str:
    return (
        f"  {name}:\n    response: utter_offer_enquiry\n    variants:\n"
        f"      control:\n        weight: {first}\n"
        f"      direct:\n        weight: {second}\n"
        "        text: {de: Jetzt anfragen, en: Enquire now}\n"
    )


def test_the_shipped_file_has_one_experiment_split_evenly() -> None:
    (experiment,) = load_experiments(EXPERIMENTS_FILE)
    assert (experiment.name, experiment.response, experiment.slot) == (
        "enquiry_offer", "utter_offer_enquiry", "ab_enquiry_offer")  # fmt: skip
    assert [(v.name, v.weight, v.text is None) for v in experiment.variants] == [
        ("control", 50, True), ("direct", 50, False)]  # fmt: skip
    assert set(experiment.variants[1].text or {}) == {"de", "en"}
    assert exposure_responses((experiment,)) == {"enquiry_offer": "utter_offer_enquiry"}


def test_a_conversation_keeps_its_variant() -> None:
    (shipped,) = load_experiments(EXPERIMENTS_FILE)
    again = Experiment(shipped.name, shipped.response, shipped.variants)
    assert [shipped.assign(i) for i in IDS[:200]] == [again.assign(i) for i in IDS[:200]]
    # Pinned: a change of the hash would move running conversations to another variant.
    assert [shipped.assign(i) for i in ("web-1", "web-2", "telegram:42")] == [
        "control", "direct", "direct"]  # fmt: skip


@pytest.mark.parametrize(("first", "second"), [(50, 50), (80, 20), (1, 3)])
def test_variants_are_spread_by_their_weights(tmp_path: Path, first: int, second: int) -> None:
    (experiment,) = read_experiments(written(tmp_path, HEADER + two_way("offer", first, second)))
    counts = Counter(experiment.assign(i) for i in IDS)
    share = first / (first + second)
    assert abs(counts["control"] / len(IDS) - share) <= 0.03
    assert counts["control"] + counts["direct"] == len(IDS)


def test_two_experiments_assign_independently(tmp_path: Path) -> None:
    one, two = read_experiments(
        written(tmp_path, HEADER + two_way("first", 50, 50) + two_way("second", 50, 50))
    )
    same = sum(one.assign(i) == two.assign(i) for i in IDS)
    assert abs(same / len(IDS) - 0.5) <= 0.03


def test_no_file_or_no_experiments_is_none(tmp_path: Path) -> None:
    assert read_experiments(tmp_path / "missing.yml") == ()
    assert read_experiments(written(tmp_path, "version: 1\nexperiments:\n")) == ()
    assert read_experiments(written(tmp_path, "version: 1\n")) == ()


VARIANTS = "    response: utter_offer_enquiry\n    variants:\n"
OFFER = HEADER + "  offer:\n" + VARIANTS


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (OFFER + "      control:\n        weight: 1\n        colour: red\n"
         "      direct:\n        weight: 1\n        text: {de: a, en: b}\n",
         8, "unknown key 'colour' in experiment 'offer'.variants.control (allowed: text, weight)"),
        (OFFER + "      control:\n        weight: 0\n"
         "      direct:\n        weight: 1\n        text: {de: a, en: b}\n",
         7, "experiment 'offer'.variants.control.weight must be >= 1, not 0"),
        (OFFER + "      control:\n        weight: 1\n",
         6, "experiment 'offer' needs at least two variants"),
        (OFFER + "      control:\n        weight: 1\n      other:\n        weight: 1\n",
         6, "experiment 'offer': only one variant may leave out `text`"),
        pytest.param(HEADER + "  Offer-1:\n" + VARIANTS,
         3, "experiment name 'Offer-1' must be lower case a-z, 0-9, _"),
        pytest.param(OFFER + "      control:\n        weight: 1\n"
         "      two words:\n        weight: 1\n        text: {de: a, en: b}\n",
         8, "variant name 'two words' must be 1-32 of A-Z, a-z, 0-9, _, -"),
        (OFFER + "      control:\n        weight: 1\n"
         "      direct:\n        weight: 1\n        text: {de: nur deutsch}\n",
         10, "experiment 'offer'.variants.direct.text needs a text for en"),
        (HEADER + "  offer:\n    variants:\n      a:\n        weight: 1\n",
         4, "experiment 'offer' needs 'response'"),
        ("version: 1\nexperiment:\n", 2,
         "unknown key 'experiment' in the experiments file (allowed: experiments, version)"),
        (HEADER + "  offer: [\n", 4, "not valid YAML"),
    ],
    ids=["unknown key", "weight 0", "one variant", "two controls", "bad experiment name",
         "bad variant name", "a language missing", "no response", "unknown top key",
         "invalid YAML"],
)  # fmt: skip
def test_mistakes_name_the_file_and_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = written(tmp_path, text)
    with pytest.raises(ExperimentsError) as refused:
        read_experiments(path)
    assert str(refused.value).startswith(f"{path}:{line}: {message}")


def test_an_empty_file_is_named(tmp_path: Path) -> None:
    path = written(tmp_path, "# nothing yet\n")
    with pytest.raises(ExperimentsError) as refused:
        read_experiments(path)
    assert str(refused.value) == f"{path}: the file is empty"


BUTTONS = {
    "de": [{"title": "Ja", "payload": "/affirm"}],
    "en": [{"title": "Yes", "payload": "/affirm"}],
}
CONTROL = language_variations(
    {"de": "Soll ich Ihre Anfrage aufnehmen?", "en": "Shall I take your enquiry?"},
    {language: {"buttons": buttons} for language, buttons in BUTTONS.items()},
)
EXPERIMENT = Experiment(
    "enquiry_offer",
    "utter_offer_enquiry",
    (Variant("control", 50, None), Variant("direct", 50, {"de": "Direkt?", "en": "Direct?"})),
)


def conditioned(language: str, variant: str | None, text: str) -> dict:
    return {
        "condition": [
            {"type": "slot", "name": "language", "value": language},
            {"type": "slot", "name": "ab_enquiry_offer", "value": variant},
        ],
        "text": text,
        "buttons": BUTTONS[language],
    }


def test_variant_responses_give_one_variation_per_variant_and_language() -> None:
    before = copy.deepcopy(CONTROL)
    assert variant_responses(EXPERIMENT, CONTROL) == [
        conditioned("de", "control", "Soll ich Ihre Anfrage aufnehmen?"),
        conditioned("en", "control", "Shall I take your enquiry?"),
        conditioned("de", "direct", "Direkt?"),
        conditioned("en", "direct", "Direct?"),
        # A conversation without a variant (begun before the experiment): the control's.
        conditioned("de", None, "Soll ich Ihre Anfrage aufnehmen?"),
        conditioned("en", None, "Shall I take your enquiry?"),
        {"text": "Soll ich Ihre Anfrage aufnehmen?", "buttons": BUTTONS["de"]},  # the default
    ]
    assert before == CONTROL


def test_with_experiments_adds_the_variants_and_the_slot() -> None:
    domain = {
        "slots": {"language": {"type": "text"}},
        "responses": {"utter_offer_enquiry": CONTROL, "utter_greet": [{"text": "Hallo"}]},
    }
    before = copy.deepcopy(domain)
    found = with_experiments(domain, (EXPERIMENT,))
    assert found["slots"] == {
        "language": {"type": "text"},
        "ab_enquiry_offer": {"type": "categorical", "values": ["control", "direct"],
                             "influence_conversation": False, "mappings": [{"type": "custom"}]},
    }  # fmt: skip
    assert found["responses"]["utter_offer_enquiry"] == variant_responses(EXPERIMENT, CONTROL)
    assert found["responses"]["utter_greet"] == [{"text": "Hallo"}]
    assert domain == before
    assert with_experiments(domain, ()) == domain


def test_with_experiments_refuses_a_response_the_bot_does_not_have() -> None:
    unknown = Experiment("typo", "utter_ofer_enquiry", EXPERIMENT.variants)
    with pytest.raises(ExperimentsError) as refused:
        with_experiments({"responses": {"utter_offer_enquiry": CONTROL}}, (unknown,))
    assert str(refused.value) == "experiment 'typo': the bot has no response 'utter_ofer_enquiry'"


def test_the_shipped_experiment_fits_the_shipped_offer() -> None:
    experiments = load_experiments(EXPERIMENTS_FILE)
    found = with_experiments({"responses": qualification_responses()}, experiments)
    offer = found["responses"]["utter_offer_enquiry"]
    assert len(offer) == 7 and "condition" not in offer[-1]
    direct = experiments[0].variants[1].text or {}
    assert [v["text"] for v in offer[2:4]] == [direct["de"], direct["en"]]
    assert [v["buttons"][0]["payload"] for v in offer] == ["/affirm"] * 7


@pytest.mark.parametrize(
    ("slots", "expected"),
    [
        ({"language": "de", "ab_enquiry_offer": "control"}, "Soll ich Ihre Anfrage aufnehmen?"),
        ({"language": "en", "ab_enquiry_offer": "control"}, "Shall I take your enquiry?"),
        ({"language": "de", "ab_enquiry_offer": "direct"}, "Direkt?"),
        ({"language": "en", "ab_enquiry_offer": "direct"}, "Direct?"),
        ({"language": "en", "ab_enquiry_offer": None}, "Shall I take your enquiry?"),
        ({"language": None, "ab_enquiry_offer": "direct"}, "Soll ich Ihre Anfrage aufnehmen?"),
    ],
)
def test_rasa_picks_exactly_the_variation_of_the_conversations_variant(slots, expected) -> None:
    """Rasa chooses at random among every conditional variation that matches: exactly
    one may match each combination of language and variant."""
    variations = variant_responses(EXPERIMENT, CONTROL)
    picker = ResponseVariationFilter({"utter_offer_enquiry": variations})
    found = picker.responses_for_utter_action("utter_offer_enquiry", "rest", slots)
    assert [variation["text"] for variation in found] == [expected]


def test_with_experiments_refuses_a_response_tested_twice_or_chosen_by_other_slots() -> None:
    twice = Experiment("second_offer", "utter_offer_enquiry", EXPERIMENT.variants)
    with pytest.raises(ExperimentsError, match="tested by another experiment"):
        with_experiments({"responses": {"utter_offer_enquiry": CONTROL}}, (EXPERIMENT, twice))
    by_page = [{"condition": [{"type": "slot", "name": "page", "value": "presses"}],
                "text": "Pressen?"}, *CONTROL]  # fmt: skip
    with pytest.raises(ExperimentsError, match="other slots than the language"):
        with_experiments({"responses": {"utter_offer_enquiry": by_page}}, (EXPERIMENT,))
