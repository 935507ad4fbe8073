"""The qualification form's validation action and the withdrawal of consent.

Thin: reads the turn from the tracker, runs the state machine (`dialogue.qualification.flow`)
and hands what it learnt to `crm_adapter.recording.record`, which writes the CRM
store; the whole turn is one unit of work (`CrmPort.atomically`). An email answer sends
a code to the address (`bot.actions.identity`); a code typed back is checked here
while the qualification runs. If the store fails, the visitor is told that nothing
could be saved (never "we'll be in touch" when nothing was stored); if it cannot be
reached, the turn fails to be sent again. The log names no personal data.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.conversation import conversation_language
from bot.actions.follow_up import follow_up_of, line_of, previous_subject
from bot.actions.handoff import pause_for_person
from bot.actions.identity import checked_code, code_mail, code_sent
from bot.actions.leads import crm, profile_name, visit_of
from crm_adapter.port import CrmError, CrmPort, CrmUnavailable, Lead
from crm_adapter.recording import Learnt, record
from crm_adapter.scoring_model import ScoringModel, load_scoring_model
from dialogue.content import FAQ_INTENT_PREFIX
from dialogue.qualification.flow import CONSENT, Outcome, State, Turn, step
from dialogue.qualification.interpret import AnswerInterpreter
from dialogue.qualification.learning import learnt_from
from dialogue.qualification.questions import load_questionnaire
from dialogue.qualification.replies import Replies
from dialogue.understanding.questions import is_question
from dialogue.understanding.reading import CODE_INTENT, FOLLOW_UP_INTENT
from dialogue.understanding.small_talk import is_non_answer, small_talk_kind
from dialogue.understanding.words import words_of
from handoff.texts import load_handoff_texts
from handoff.triggers import rule_met

log = logging.getLogger(__name__)
INTERPRETER = AnswerInterpreter()
# The flow's control questions with a step of their own in the funnel.
STEP_NAMES = {CONSENT: "consent"}


def warm_up() -> None:
    """Loads the questions, the scoring model, the spaCy pipelines and word tables now.

    Done when the action server imports this module: otherwise the first visitor's
    first answer pays about two seconds for it, and every other turn waits behind.
    """
    load_questionnaire()
    load_scoring_model()
    today = datetime.now(timezone.utc).date()
    for language, text in (("de", "Wir sind 60 Leute in Bielefeld"), ("en", "We are 60 people")):
        INTERPRETER.volunteered(text, language, today)


warm_up()


MAX_EARLIER_MESSAGES = 20
"""Earlier messages read for facts when the questions begin (the newest ones)."""


def history(tracker: Tracker) -> list[tuple[str, str]]:
    """(intent, text) of every visitor message so far."""
    return [
        (
            (event.get("parse_data") or {}).get("intent", {}).get("name") or "",
            event.get("text") or "",
        )
        for event in tracker.events
        if event.get("event") == "user"
    ]


def earlier_texts(said: list[tuple[str, str]]) -> tuple[str, ...]:
    """The visitor's messages before this one (no button payloads), oldest first."""
    texts = [text for _, text in said[:-1] if text and not text.startswith("/")]
    return tuple(texts[-MAX_EARLIER_MESSAGES:])


def topic_line(tracker: Tracker) -> str | None:
    """The product line of the last product answer (the need an accepted offer is about)."""
    subject = previous_subject(list(tracker.events))
    if subject is None:
        return None
    return line_of(subject.topic, None) or line_of(None, subject.product)


def turn_of(tracker: Tracker, state: State, language: str, known: frozenset[str],
            consent: bool, country: str | None = None) -> Turn:  # fmt: skip
    intent = tracker.latest_message.get("intent") or {}
    text = tracker.latest_message.get("text") or ""
    words = words_of(text)
    starting = state.asking is None
    name, confidence = intent.get("name"), float(intent.get("confidence") or 0.0)
    if name == CODE_INTENT:  # digits, but no code is awaited: an answer like any other
        name = "inform"
    if name == FOLLOW_UP_INTENT:  # "und die große?" between the questions: a product question
        follow = follow_up_of(tracker)
        name = FAQ_INTENT_PREFIX + follow.topic if follow is not None else name
    return Turn(
        text=text,
        language=language,
        today=datetime.now(timezone.utc).date(),
        intent=name,
        confidence=confidence,
        known=known,
        consent_on_record=consent,
        starting=starting,
        earlier=earlier_texts(history(tracker)) if starting else (),
        topic_line=topic_line(tracker) if starting else None,
        question=is_question(text, words),
        small_talk=small_talk_kind(words),
        non_answer=is_non_answer(words),
        country=country,
    )


def country_of(lead: Lead) -> str | None:
    """The country of the lead's location answer (ISO), if it has one."""
    location = lead.answers.get("location")
    country = (location.value or {}).get("country") if location is not None else None
    return country if isinstance(country, str) else None


def say(dispatcher: CollectingDispatcher, outcome: Outcome) -> None:
    for response in outcome.responses:
        dispatcher.utter_message(response=response)
    for text in outcome.say:
        dispatcher.utter_message(text=text)


class ValidateQualificationForm(Action):
    def name(self) -> str:
        return "validate_qualification_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        language = conversation_language(tracker)
        questionnaire = load_questionnaire()
        asked_before = State.from_slot(tracker.get_slot("qualification")).asking
        now = datetime.now(timezone.utc)
        visit = visit_of(tracker, language)

        def turn() -> tuple[Outcome, int, str | None, str | None] | str:
            """The whole turn as one unit of work: run again from the start if the
            store retries it, so the state is read anew each time."""
            state = State.from_slot(tracker.get_slot("qualification"))
            lead = store.lead_for(visit)
            text = tracker.latest_message.get("text") or ""
            if (tracker.latest_message.get("intent") or {}).get("name") == CODE_INTENT:
                code_reply = checked_code(store, lead.lead_id, text, language)
                if code_reply is not None:
                    return code_reply
            known = frozenset(lead.answers)
            turn = turn_of(tracker, state, language, known, lead.consent is not None,
                           country_of(lead))  # fmt: skip
            outcome = step(questionnaire, state, turn, INTERPRETER)
            model = load_scoring_model()
            learnt = learnt_from(
                questionnaire, outcome, turn, tracker.sender_id, history(tracker),
                returning=len(lead.conversation_ids) > 1,
                short_timeline_months=model.interest.short_timeline_months,
                channel=visit.channel, now=now,
            )  # fmt: skip
            learnt.profile_name = profile_name(tracker)  # kept only with a consent
            learnt.code_mail = code_mail(language)
            lead_id = record(store, lead, learnt, model, now)
            rule = sales_ready(store, lead_id, model, now) if outcome.submitted else None
            claimed = any(a.attribute == "email" and a.value for a in learnt.answers)
            notice = code_sent(store, lead_id, language) if claimed else None
            return outcome, lead_id, rule, notice

        try:
            store = crm()
            done = store.atomically(turn)
        except CrmUnavailable:
            raise  # the turn fails and is sent again (bot/loud_actions.py)
        except CrmError:
            log.exception("qualification: the CRM store failed; nothing was saved")
            return _finished_events(State(), Replies(language).text("save_failed"))
        if isinstance(done, str):  # a code typed back: the question stays open
            dispatcher.utter_message(text=done)
            return [SlotSet("qualification_answer", None)]
        outcome, _, rule, notice = done
        if notice is not None:
            dispatcher.utter_message(text=notice)
        say(dispatcher, outcome)
        steps = step_events(asked_before, outcome)
        if outcome.handoff:
            return steps + pause_for_person(dispatcher, tracker, outcome.state.to_slot())
        if rule is not None:  # e.g. a sales qualified lead who asked for a demo
            outcome.state.asking = None
            paused = pause_for_person(dispatcher, tracker, outcome.state.to_slot(),
                                      reason="sales_ready", lead_in=outcome.prompt)  # fmt: skip
            return steps + paused
        if outcome.finished:
            return steps + _finished_events(
                outcome.state, outcome.prompt, erase_offer=outcome.withdraw
            )
        return steps + [
            SlotSet("qualification", outcome.state.to_slot()),
            SlotSet("qualification_prompt", outcome.prompt),
            SlotSet("qualification_yes_no", outcome.yes_no),
            SlotSet("qualification_answer", None),
        ]


def step_events(asked_before: str | None, outcome: Outcome) -> list[EventType]:
    """The insight slot `qualification_step` (`insights/event_log.py`): for the question
    asked before this turn, whether it was answered or declined, and which question is
    asked now (`consent` for the consent question). Question keys only, no answer."""
    steps = []
    if asked_before is not None:
        key = STEP_NAMES.get(asked_before, asked_before)
        if asked_before in outcome.declined or (asked_before == CONSENT
                                                and outcome.state.consent is False):  # fmt: skip
            steps.append(f"{key}:declined")
        elif any(r.key == asked_before for r in outcome.readings) or (
            asked_before == CONSENT and outcome.consent_given
        ):
            steps.append(f"{key}:answered")
    asking = outcome.state.asking
    if asking and asking != asked_before and (asking in STEP_NAMES or asking[0] != "@"):
        steps.append(f"{STEP_NAMES.get(asking, asking)}:asked")
    return [SlotSet("qualification_step", step) for step in steps]


def sales_ready(store: CrmPort, lead_id: int, model: ScoringModel, now: datetime) -> str | None:
    """The name of the first handoff rule (handoff.yml) the lead now meets, if any."""
    rule = rule_met(load_handoff_texts().rules, store.lead(lead_id), model, now)
    return rule.name if rule else None


def _finished_events(state: State, closing: str, erase_offer: bool = False) -> list[EventType]:
    state.asking = None
    return [
        SlotSet("erase_offer", erase_offer),
        SlotSet("qualification", state.to_slot()),
        SlotSet("qualification_prompt", closing),
        SlotSet("qualification_yes_no", False),
        SlotSet("qualification_answer", "done"),
        SlotSet("requested_slot", None),
        SlotSet("handoff_offer", False),
    ]


class ActionWithdrawConsent(Action):
    """'Delete my data': withdraws the consent and erases personal data, any time."""

    def name(self) -> str:
        return "action_withdraw_consent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        language = conversation_language(tracker)
        now = datetime.now(timezone.utc)
        try:
            store = crm()
            lead = store.lead_for(visit_of(tracker, language))
            record(store, lead, Learnt(tracker.sender_id, withdraw=True),
                   load_scoring_model(), now)  # fmt: skip
        except CrmUnavailable:
            raise  # the turn fails and is sent again (bot/loud_actions.py)
        except CrmError:
            log.exception("withdrawal: the CRM store failed")
            dispatcher.utter_message(text=Replies(language).text("withdraw_failed"))
            return []
        replies = Replies(language)
        erase = {"title": replies.text("erase_everything_button"), "payload": "/erase_everything"}
        dispatcher.utter_message(text=replies.withdrawn(), buttons=[erase])
        state = State.from_slot(tracker.get_slot("qualification"))
        state.consent = False
        state.noted = {
            key: shown
            for key, shown in state.noted.items()
            if not load_questionnaire().question(key).personal
        }
        return [SlotSet("qualification", state.to_slot())]
