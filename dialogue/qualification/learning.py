"""What one qualification turn taught us, as records for the CRM (`recording.Learnt`).

Turns the state machine's `Outcome` into answers (answered, unknown or declined),
the consent record (version, time, channel and the exact wording shown), interest
events (FAQ topics and words of the conversation so far when the qualification
starts, a returning visitor, a short timeline) and the follow-up task once the
visitor confirms the summary. Pure Python.
"""

from __future__ import annotations

from datetime import datetime

from crm_adapter.port import ANSWERED, DECLINED, UNKNOWN, Answer, Consent, SalesTask
from crm_adapter.recording import Learnt
from dialogue.qualification.flow import Outcome, Turn
from dialogue.qualification.questions import Questionnaire

MAX_HISTORY_CHARS = 2000


def interest_kinds(
    questionnaire: Questionnaire, history: list[tuple[str, str]], returning: bool
) -> list[str]:
    """Event kinds shown by the conversation so far: (intent, text) per visitor message."""
    kinds = [
        questionnaire.interest_intents[i] for i, _ in history if i in questionnaire.interest_intents
    ]
    for _, text in history:
        kinds += [
            kind
            for kind, signal in questionnaire.interest_phrases.items()
            if signal.matches(text[:MAX_HISTORY_CHARS])
        ]
    if returning:
        kinds.append("returning_visitor")
    return list(dict.fromkeys(kinds))


def answers_of(outcome: Outcome, conversation_id: str, now: datetime) -> list[Answer]:
    answers = [
        Answer(
            attribute=reading.key,
            value=None if reading.unknown else reading.value,
            status=UNKNOWN if reading.unknown else ANSWERED,
            at=now,
            conversation_id=conversation_id,
        )
        for reading in outcome.readings
    ]
    answers += [Answer(key, None, DECLINED, now, conversation_id=conversation_id)
                for key in outcome.declined]  # fmt: skip
    return answers


def learnt_from(
    questionnaire: Questionnaire,
    outcome: Outcome,
    turn: Turn,
    conversation_id: str,
    history: list[tuple[str, str]],
    *,
    returning: bool,
    short_timeline_months: int,
    channel: str,
    now: datetime,
) -> Learnt:
    kinds = interest_kinds(questionnaire, history, returning) if turn.starting else []
    for reading in outcome.readings:
        months = (reading.value or {}).get("months") if reading.key == "timeline" else None
        if isinstance(months, int) and months < short_timeline_months:
            kinds.append("short_timeline")
    consent = None
    if outcome.consent_given:
        text = questionnaire.consent
        consent = Consent(text.purpose, text.version, text.text[turn.language], turn.language,
                          channel, now)  # fmt: skip
    task = None
    if outcome.submitted:
        task = SalesTask("follow_up", "enquiry confirmed in the chat", None, now)
    return Learnt(
        conversation_id=conversation_id,
        answers=answers_of(outcome, conversation_id, now),
        consent=consent,
        interest=kinds,
        withdraw=outcome.withdraw,
        task=task,
    )
