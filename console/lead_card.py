"""The lead card of a handoff: what the bot learnt, and an agent's corrections to it.

`lead_card` is the lead's report (answers, fit and interest explained, stage, consent).
`change_answer` reads a text the agent typed as the answer to one qualification
question, with the bot's own parsers, and records it as the staff's answer (source
`human`): the scores and stage follow, and the bot uses it when the conversation comes
back to it. Personal answers need a consent on record (ConsentRequired). Holds
personal data: for logged-in staff only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crm_adapter.explanation import ENGLISH, Wording, lead_report
from crm_adapter.port import ANSWERED, HUMAN, Answer, CrmPort
from crm_adapter.recording import Learnt, record
from crm_adapter.scoring_model import load_scoring_model
from dialogue.qualification.interpret import AnswerInterpreter
from dialogue.qualification.questions import load_questionnaire

MAX_ANSWER_CHARS = 300


class UnreadableAnswer(ValueError):
    """The text is not an answer to that question."""


def lead_card(
    crm: CrmPort, lead_id: int, now: datetime, words: Wording = ENGLISH
) -> dict[str, Any]:
    """The card; its explanation lines in the language of `words` (the staff member's)."""
    report = lead_report(crm.lead(lead_id), load_scoring_model(), now, words)
    report["lead_id"] = lead_id
    report["questions"] = [q.key for q in load_questionnaire().questions]
    return report


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
        raise UnreadableAnswer(f"could not read {text!r} as an answer to {attribute!r}")
    answer = Answer(attribute, reading.value, ANSWERED, now, HUMAN, conversation_id)
    lead = crm.lead(lead_id)
    record(crm, lead, Learnt(conversation_id, answers=[answer]), load_scoring_model(), now)
    return lead_card(crm, lead_id, now, words)
