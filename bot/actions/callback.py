"""The callback-or-meeting form: its validation action and the question it asks.

Thin: reads the turn, runs `handoff.callback_flow`, and once the visitor has given
everything, stores it through the CRM port in one go: the consent, the phone or
email, a callback task for the routed person or a booked meeting, and their
notifications (emails, with an ICS invitation for meetings; Slack/Teams where
configured), which the console's dispatcher sends later. Nothing personal is logged.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.conversation import conversation_language
from bot.actions.handoff import ask_of
from bot.actions.identity import code_mail, code_sent
from bot.actions.leads import crm, profile_name, visit_of
from crm_adapter.port import (
    ANSWERED,
    Answer,
    Consent,
    CrmError,
    CrmUnavailable,
    Lead,
    SlotTaken,
)
from crm_adapter.recording import Learnt, record
from crm_adapter.scoring_model import load_scoring_model
from dialogue.answers.contact import is_freemail, parse_email, parse_phone
from dialogue.qualification.questions import load_questionnaire
from handoff.booking import BookingError, plan_callback, plan_meeting
from handoff.callback_flow import (
    MEETING,
    CallbackOutcome,
    CallbackReaders,
    CallbackState,
    CallbackTexts,
    CallbackTurn,
    step,
)
from handoff.meetings import HORIZON_DAYS, meeting_person, offered_slots
from handoff.routing_model import Team
from handoff.texts import load_handoff_texts
from wiring.services import desk

log = logging.getLogger(__name__)
COMPANY = ("Nordwerk Anlagenbau GmbH", "vertrieb@nordwerk.example")


def _phone(text: str, language: str, country: str | None = None) -> str | None:
    found = parse_phone(text, language, country)
    return found.number if found else None


def _email(text: str, language: str) -> str | None:
    found = parse_email(text, language)
    return found.address if found else None


def readers(lead: Lead) -> CallbackReaders:
    """The form's readers for `lead`: a number typed without "+" or "00" is read in the
    country of the lead's "location" answer ("0664 1234567" in Linz is "+43664..."),
    in Germany when it gave none."""
    answer = lead.answers.get("location")
    value = answer.value if answer is not None and answer.status == ANSWERED else None
    country = (value or {}).get("country")
    return CallbackReaders(
        phone=partial(_phone, country=country if isinstance(country, str) else None),
        email=_email,
    )


def callback_texts() -> CallbackTexts:
    return CallbackTexts(load_handoff_texts().texts, load_questionnaire().consent.text)


class ValidateCallbackForm(Action):
    def name(self) -> str:
        return "validate_callback_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        language = conversation_language(tracker)
        state = CallbackState.from_slot(tracker.get_slot("callback"))
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        now = desk().clock()  # office hours and meeting slots follow the desk's clock
        person = self.person(tracker, language)
        try:
            store = crm()
            lead = store.lead_for(visit_of(tracker, language))
            starting = state.asking is None
            kind = MEETING if intent == "request_meeting" else "callback"
            offered = self.offer(person, now, language) if starting and kind == MEETING else ()
            turn = CallbackTurn(
                text=tracker.latest_message.get("text") or "", language=language, intent=intent,
                starting=starting, kind=kind, consent_on_record=lead.consent is not None,
                known_phone=lead.phone, known_email=lead.email, offered=tuple(offered),
            )  # fmt: skip
            outcome = step(state, turn, callback_texts(), load_questionnaire().controls,
                           readers(lead))  # fmt: skip
            if outcome.consent_given:
                self.record_consent(lead, tracker, language, now)
            if outcome.done:
                return self.store(dispatcher, tracker, outcome, person, language, now)
        except CrmUnavailable:
            raise  # the turn fails and is sent again (bot/loud_actions.py)
        except CrmError:
            log.exception("callback: the CRM store failed; nothing was saved")
            return finished(CallbackState(), load_handoff_texts().text("save_failed", language))
        for text in outcome.say:
            dispatcher.utter_message(text=text)
        if outcome.finished:
            return finished(outcome.state, outcome.prompt)
        return asking(outcome)

    @staticmethod
    def person(tracker: Tracker, language: str) -> str | None:
        the_desk = desk()
        team = tracker.get_slot("handoff_team") or the_desk.model.fallback_team
        return meeting_person(the_desk.model, tracker.get_slot("handoff_person"), team, language)

    @staticmethod
    def offer(person: str | None, now: datetime, language: str) -> list[tuple[str, str, str]]:
        if person is None:
            return []
        booked = crm().meetings(person, now, now + timedelta(days=HORIZON_DAYS))
        busy = [(m.start, m.end) for m in booked]
        return offered_slots(desk().model, person, busy, now, language)

    @staticmethod
    def record_consent(lead: Lead, tracker: Tracker, language: str, now: datetime) -> None:
        text = load_questionnaire().consent
        consent = Consent(text.purpose, text.version, text.text[language], language,
                          visit_of(tracker, language).channel, now)  # fmt: skip
        learnt = Learnt(tracker.sender_id, consent=consent, profile_name=profile_name(tracker))
        record(crm(), lead, learnt, load_scoring_model(), now)

    def store(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, outcome: CallbackOutcome,
        person: str | None, language: str, now: datetime,
    ) -> list[EventType]:  # fmt: skip
        state = outcome.state
        if state.kind == MEETING:
            try:
                text = book(tracker, state, person, language, now)
            except SlotTaken:
                dispatcher.utter_message(text=load_handoff_texts().text("slot_taken", language))
                state.slot = None
                state.offered = [list(o) for o in self.offer(person, now, language)]
                return asking(retry_slot(outcome, language))
        else:
            text = arrange_callback(tracker, state, language, now)
        return finished(CallbackState(), text)


def retry_slot(outcome: CallbackOutcome, language: str) -> CallbackOutcome:
    outcome.state.asking = "slot"
    outcome.finished = False
    outcome.prompt = load_handoff_texts().text("ask_slot", language)
    outcome.buttons = [{"title": o[0], "payload": o[0]} for o in outcome.state.offered]
    return outcome


def routed(tracker: Tracker, now: datetime) -> tuple[str | None, Team]:
    """Who the callback is for: as routed when the bot offered it (the slots), routed
    again only when the conversation carries no such decision."""
    the_desk = desk()
    team_key = tracker.get_slot("handoff_team")
    if team_key in the_desk.model.teams:
        return tracker.get_slot("handoff_person"), the_desk.model.teams[team_key]
    decision = the_desk.route(ask_of(tracker, "visitor_asked").routing, now)
    person = decision.assignee or (decision.responsible[0] if decision.responsible else None)
    return person, the_desk.model.teams[decision.team]


def arrange_callback(tracker: Tracker, state: CallbackState, language: str, now: datetime) -> str:
    texts = load_handoff_texts()
    person, team = routed(tracker, now)
    plan = plan_callback(desk(), person, team, language, now)
    store = crm()
    phone = Answer(
        "phone", {"number": state.phone}, ANSWERED, now, conversation_id=tracker.sender_id
    )

    def save() -> None:
        """The number, the interest and the task with its notifications: one unit."""
        lead = store.lead_for(visit_of(tracker, language))
        lead_id = record(store, lead, Learnt(tracker.sender_id, answers=[phone],
                                             interest=["requested_callback"]),
                         load_scoring_model(), now)  # fmt: skip
        notify = plan.notifications(texts, lead_id, store.lead(lead_id).stage, state.phone,
                                    state.window, tracker.sender_id)  # fmt: skip
        store.add_task(lead_id, plan.task(state.window, now), notify)

    store.atomically(save, "arranging a callback")
    return plan.confirmation(texts, language, state.phone, state.window)


def book(
    tracker: Tracker, state: CallbackState, person: str | None, language: str, now: datetime
) -> str:
    texts = load_handoff_texts()
    try:
        plan = plan_meeting(desk(), texts, person, state.slot, state.email, state.offered,
                            language, now)  # fmt: skip
    except BookingError as error:
        raise CrmError(str(error)) from error  # the visitor is told it could not be saved
    store = crm()
    domain = plan.email.rsplit("@", 1)[-1]
    email = Answer("email", {"address": plan.email, "freemail": is_freemail(domain)}, ANSWERED,
                   now, conversation_id=tracker.sender_id)  # fmt: skip

    def save() -> int:
        """The email (its code sent), the interest and the meeting: one unit of work;
        SlotTaken leaves nothing behind."""
        lead = store.lead_for(visit_of(tracker, language))
        lead_id = record(store, lead, Learnt(tracker.sender_id, answers=[email],
                                             interest=["requested_demo"],
                                             code_mail=code_mail(language)),
                         load_scoring_model(), now)  # fmt: skip
        notify = plan.notifications(texts, language, lead_id, tracker.sender_id)
        store.book_meeting(lead_id, plan.meeting(now), notify)
        return lead_id

    lead_id = store.atomically(save, "booking a meeting")
    confirmed = plan.confirmation(texts, language)
    notice = code_sent(store, lead_id, language)  # the code that proves the address
    return confirmed if notice is None else f"{confirmed}\n\n{notice}"


def asking(outcome: CallbackOutcome) -> list[EventType]:
    return [
        SlotSet("callback", outcome.state.to_slot()),
        SlotSet("callback_prompt", outcome.prompt),
        SlotSet("callback_buttons", outcome.buttons),
        SlotSet("callback_answer", None),
    ]


def finished(state: CallbackState, closing: str) -> list[EventType]:
    state.asking = None
    return [
        SlotSet("callback", state.to_slot()),
        SlotSet("callback_prompt", closing),
        SlotSet("callback_buttons", []),
        SlotSet("callback_answer", "done"),
        SlotSet("requested_slot", None),
        SlotSet("handoff_offer", False),
    ]


class ActionAskCallbackAnswer(Action):
    """The form's question, with its buttons (yes/no, or the offered meeting times)."""

    def name(self) -> str:
        return "action_ask_callback_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        buttons = tracker.get_slot("callback_buttons") or []
        dispatcher.utter_message(text=tracker.get_slot("callback_prompt") or "", buttons=buttons)
        return []
