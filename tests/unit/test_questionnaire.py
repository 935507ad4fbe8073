"""The qualification file: checked at build time, errors name the question and field."""

from __future__ import annotations

import copy

import pytest
import yaml

from dialogue.qualification.questions import (
    QUESTIONS_FILE,
    QuestionnaireError,
    load_questionnaire,
    parse_questionnaire,
)

RAW = yaml.safe_load(QUESTIONS_FILE.read_text(encoding="utf-8"))


def edited(change) -> dict:  # noqa: ANN001
    data = copy.deepcopy(RAW)
    change(data)
    return data


def test_the_shipped_questions_follow_the_demo_company_order() -> None:
    questionnaire = load_questionnaire()
    assert questionnaire.keys == (
        "need", "company", "employees", "industry", "role", "location", "timeline",
        "budget", "name", "email", "phone",
    )  # fmt: skip
    assert [q.key for q in questionnaire.questions if q.personal] == ["name", "email", "phone"]
    assert [q.key for q in questionnaire.questions if q.optional] == ["budget", "phone"]
    assert questionnaire.formal and "Ihr " in questionnaire.question("employees").ask["de"]
    assert questionnaire.consent.version and "datenschutz" in questionnaire.consent.text["de"]


def test_informal_german_is_a_setting() -> None:
    def informal(data: dict) -> None:
        data["formal"] = False
        data["questions"][2]["ask"]["de_du"] = "Wie viele Leute arbeiten bei euch?"

    questionnaire = parse_questionnaire(edited(informal))
    assert questionnaire.question("employees").ask["de"] == "Wie viele Leute arbeiten bei euch?"
    # Without a "du" text the formal one is used.
    assert "fragen Sie" in questionnaire.question("company").ask["de"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["questions"][2].pop("parser"), "question 'employees' needs a 'parser'"),
        (lambda d: d["questions"][2].update(parser="size"), "'parser' is 'size'"),
        (
            lambda d: d["questions"][3]["why"].pop("en"),
            "question 'industry' 'why' has no text for 'en'",
        ),
        (lambda d: d["questions"][0].update(skipable=True), "unknown field(s) skipable"),
        (lambda d: d["questions"][4].update(scoring="rank"), "'scoring' is 'rank'"),
        (lambda d: d["questions"].pop(9), "must include 'email'"),
        (lambda d: d["consent"].pop("version"), "consent needs a 'version'"),
        (lambda d: d["controls"].pop("why"), "controls need why"),
    ],
)
def test_mistakes_name_the_question_and_field(change, message: str) -> None:  # noqa: ANN001
    with pytest.raises(QuestionnaireError) as error:
        parse_questionnaire(edited(change))
    assert message in str(error.value)
