"""The lead card of a handoff: what the bot learnt, and an agent's corrections to it.

`lead_card` is the lead's report (answers, fit and interest explained, stage, consent),
each answer also `shown` as the staff member reads it (`shown_answer`). `change_answer`
reads a text the agent typed as the answer to one qualification question, with the
bot's own parsers, and records it as the staff's answer (source `human`): the scores
and stage follow, and the bot uses it when the conversation comes back to it. Personal
answers need a consent on record (ConsentRequired); a text that is no answer is an
UnreadableAnswer (its message names neither the text nor the question: the console
shows it next to the question). Holds personal data: for logged-in staff only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from console.i18n import translator
from crm_adapter.explanation import ENGLISH, Wording, lead_report
from crm_adapter.port import ANSWERED, HUMAN, Answer, CrmPort
from crm_adapter.recording import Learnt, record
from crm_adapter.scoring_model import load_scoring_model
from dialogue.qualification.interpret import AnswerInterpreter
from dialogue.qualification.questions import load_questionnaire
from lotse.translations import N_

MAX_ANSWER_CHARS = 300


class UnreadableAnswer(ValueError):
    """The text is not an answer to that question."""


def lead_card(
    crm: CrmPort, lead_id: int, now: datetime, words: Wording = ENGLISH
) -> dict[str, Any]:
    """The card; its explanation lines in the language of `words` (the staff member's)."""
    report = lead_report(crm.lead(lead_id), load_scoring_model(), now, words)
    for key, answer in report["answers"].items():
        answered = answer["status"] == ANSWERED
        answer["shown"] = shown_answer(key, answer["value"], words) if answered else None
    report["lead_id"] = lead_id
    report["questions"] = [q.key for q in load_questionnaire().questions]
    return report


def shown_answer(key: str, value: Any, words: Wording = ENGLISH) -> str | None:
    """An answer's value (the JSON `dialogue.qualification.interpret` stores) in the
    language of `words`: a code in words ("metalworking": "Metallverarbeitung"), the
    visitor's own words where the bot kept them, numbers in the language's format.
    None for a value of a shape not known here (the console shows it as it is)."""
    if not isinstance(value, dict):
        return None
    if key == "need" and value.get("product_line"):
        line = str(value["product_line"])
        return str(value.get("purpose") or line) if line == "other" else words.value(line)
    if key in ("industry", "role") and value.get("key"):
        return str(value.get("words") or words.value(str(value["key"])))
    if key == "employees" and isinstance(value.get("count"), int):
        low, high = value.get("low"), value.get("high")
        return f"{low}–{high}" if low != high and low is not None else str(value["count"])
    if key == "location" and value.get("country"):
        return " ".join(str(value[k]) for k in ("country", "postal_code", "town") if value.get(k))
    if key == "timeline" and isinstance(value.get("months"), int):
        months = value["months"]
        return words.say("1 month") if months == 1 else words.say("{months} months", months=months)
    if key == "budget" and isinstance(value.get("value"), (int, float)):
        amount = translator(words.language).number(value["value"])
        return f"{amount} {value.get('currency') or ''}".strip()
    fields = {"company": "name", "name": "full", "email": "address", "phone": "number"}
    return str(value[fields[key]]) if key in fields and value.get(fields[key]) else None


def empty_card(words: Wording = ENGLISH) -> dict[str, Any]:
    """The card of a visitor the CRM knows nothing about yet: no answers, but the
    questions, so the agent can record what they learn (the first answer makes the lead)."""
    return {
        "lead_id": None,
        "email": None,
        "freemail": False,
        "name": None,
        "phone": None,
        "stage": None,
        "fit": None,
        "interest": 0,
        "answers": {},
        "explanation": {"fit": [words.say("nothing known yet")], "interest": []},
        "consent": None,
        "timeline": [],
        "tasks": [],
        "feedback": [],
        "questions": [q.key for q in load_questionnaire().questions],
    }


def change_answer(
    crm: CrmPort,
    interpreter: AnswerInterpreter,
    lead_id: int,
    attribute: str,
    text: str,
    language: str,
    conversation_id: str,
    now: datetime,
    words: Wording = ENGLISH,
) -> dict[str, Any]:
    """Records the agent's answer; returns the updated card. KeyError: no such question."""
    try:
        question = load_questionnaire().question(attribute)
    except (KeyError, StopIteration):
        raise KeyError(f"no qualification question {attribute!r}") from None
    text = text.strip()[:MAX_ANSWER_CHARS]
    reading = interpreter.read(question, text, language, now.date()) if text else None
    if reading is None:
        raise UnreadableAnswer(N_("that could not be read as an answer to this question"))
    answer = Answer(attribute, reading.value, ANSWERED, now, HUMAN, conversation_id)
    lead = crm.lead(lead_id)
    record(crm, lead, Learnt(conversation_id, answers=[answer]), load_scoring_model(), now)
    return lead_card(crm, lead_id, now, words)
