"""The summary at the top of a conversation in the staff console: why it came to a
person, what the bot already answered, and what is known of the lead, at one glance.

`summarise(handoff, tracker_events, card, topics, personal)` is pure: it reads the
handoff record, Rasa's tracker events of the conversation and the lead card the console
already builds (`console.lead_card`), and returns a `Summary` (no language model, no I/O).
Words for the UI (the reason in words, the headings) are the console's catalogue
(`console/locale`, shown by `console/static/summary.js` in the staff member's language);
here only codes, titles of the content in both languages, and data.

Which part of the tracker counts: the handoff's request is the `handoff_requested` slot
set true by the handoff action; the summary reads the Rasa session (after the last
`action_session_start`) up to that request. The request is found by time (at or before
the handoff's `requested_at`, with `CLOCK_TOLERANCE` for the action's own run); when
the clocks of bot and console disagree so none fits, the latest request is taken, and
without any request in the tracker, the whole session.

The last question is the visitor's last typed message that asks something: not a
greeting, a yes/no or the wish for a person (`NOT_A_QUESTION`), and not an answer to a
form's question unless it asks something itself (an FAQ question in the middle of the
qualification); without one, the last typed message that answered no form.

Personal data: the visitor's last question (a text the visitor typed, as the transcript
shows it, bounded to `MAX_QUESTION_CHARS`) and the lead's answers, fit, interest, stage
and consent, as the lead card shows them. Without a consent in force, the answers to
personal questions (`personal`) are left out, whatever the card holds; the card's email,
name and phone are never copied. For logged-in staff who may read the handoff only,
never for logs.

Not to be confused with `console.views.handoff_summary` (the handoff's row in the queue)
or `insights.conversation_summary` (what the dashboard counts).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from dialogue.content import FAQ_INTENT_PREFIX
from handoff.store import Handoff

MAX_QUESTION_CHARS = 300
INTEREST_LINES = 3  # the latest changes and the total; the lead card lists them all
CLOCK_TOLERANCE = timedelta(seconds=60)
SESSION_START = "action_session_start"
REQUEST_SLOT = "handoff_requested"
FAQ_RESPONSE_PREFIX = "utter_" + FAQ_INTENT_PREFIX
FORM_ACTIONS = frozenset({"qualification_form", "callback_form"})
BOOKKEEPING_ACTIONS = frozenset({"action_listen", "action_extract_slots"})
ASKING_INTENTS = frozenset({
    "document_question", "out_of_scope", "out_of_depth", "follow_up", "request_enquiry",
})  # fmt: skip
DOCUMENT_RESPONSE = "utter_document_answer"
# Messages that say yes, no, hello or "a person please" rather than what the visitor
# wants: the last question is the message before them (or, if there is none, the last
# message the visitor typed).
NOT_A_QUESTION = frozenset({
    "greet", "goodbye", "thanks", "affirm", "deny", "request_human", "empty_message",
    "switch_language", "cancel_handoff", "handed_back", "handoff_timed_out",
    "request_callback", "request_meeting", "confirm_code", "rate", "bot_challenge",
})  # fmt: skip


@dataclass(frozen=True)
class Answered:
    """One thing the bot answered: an FAQ topic (`kind` "faq", `key` the topic) or a
    passage of a document (`kind` "document", `key` None). `title` by language; a
    document's is its source as the bot named it, the same in every language."""

    kind: str
    key: str | None
    title: dict[str, str]


@dataclass(frozen=True)
class LeadAnswer:
    key: str
    value: Any
    status: str
    source: str | None
    shown: str | None = None  # the value in the staff member's words (the lead card's)


@dataclass(frozen=True)
class LeadFacts:
    stage: str | None
    fit: int | None
    interest: int | None
    fit_explanation: tuple[str, ...]
    interest_explanation: tuple[str, ...]
    answers: tuple[LeadAnswer, ...]
    consent_given: bool
    consent_given_at: str | None
    consent_version: str | None


@dataclass(frozen=True)
class Summary:
    reason: str
    need: str
    last_question: str | None
    last_question_at: str | None
    answered: tuple[Answered, ...]
    lead: LeadFacts | None


def summarise(
    handoff: Handoff,
    tracker_events: Sequence[Mapping[str, Any]],
    card: Mapping[str, Any] | None,
    topics: Mapping[str, Mapping[str, str]],
    personal: Collection[str],
) -> Summary:
    """The summary of the conversation that led to `handoff`.

    `topics`: FAQ topic key -> title by language (unknown topics are not listed);
    `personal`: the question keys whose answers need a consent to be shown.
    """
    events = before_request(tracker_events, handoff.requested_at)
    question = last_question(events)
    return Summary(
        reason=handoff.reason,
        need=handoff.need,
        last_question=question[0] if question else None,
        last_question_at=question[1] if question else None,
        answered=answered(events, topics),
        lead=lead_facts(card, personal) if card is not None else None,
    )


def _at(event: Mapping[str, Any]) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(event.get("timestamp")), timezone.utc)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _is_request(event: Mapping[str, Any]) -> bool:
    return (
        event.get("event") == "slot"
        and event.get("name") == REQUEST_SLOT
        and event.get("value") is True
    )


def before_request(
    events: Sequence[Mapping[str, Any]], requested_at: datetime
) -> list[Mapping[str, Any]]:
    """The events of the handoff's session up to its request (see the module)."""
    requests = [i for i, e in enumerate(events) if _is_request(e)]
    latest = requested_at + CLOCK_TOLERANCE
    in_time = [i for i in requests if (_at(events[i]) or latest) <= latest]
    end = (in_time or requests or [len(events) - 1])[-1] + 1
    start = max(
        (i for i in range(end) if events[i].get("event") == "action"
         and events[i].get("name") == SESSION_START),
        default=0,
    )  # fmt: skip
    return list(events[start:end])


def _stamp(event: Mapping[str, Any]) -> str | None:
    at = _at(event)
    return at.isoformat(timespec="milliseconds") if at else None


def _intent(event: Mapping[str, Any]) -> str:
    return str(((event.get("parse_data") or {}).get("intent") or {}).get("name") or "")


def _answers_a_form(events: Sequence[Mapping[str, Any]], index: int) -> bool:
    """Whether the bot's next action after the message at `index` is a form's: the
    message answered the bot's question (an employee count, a phone number)."""
    for event in events[index + 1 :]:
        if event.get("event") == "action" and event.get("name") not in BOOKKEEPING_ACTIONS:
            return event.get("name") in FORM_ACTIONS
    return False


def _asks(intent: str) -> bool:
    return intent.startswith(FAQ_INTENT_PREFIX) or intent in ASKING_INTENTS


def last_question(events: Sequence[Mapping[str, Any]]) -> tuple[str, str | None] | None:
    """The visitor's last typed message that asks something, else their last typed one;
    answers to the bot's own questions (a form's) count only if they ask something."""
    typed = []
    for index, event in enumerate(events):
        text = event.get("text")
        if event.get("event") != "user" or not isinstance(text, str) or not text.strip():
            continue
        if text.startswith("/"):  # a button or the widget's own message, not typed
            continue
        if _answers_a_form(events, index) and not _asks(_intent(event)):
            continue
        typed.append(event)
    if not typed:
        return None
    asking = [e for e in typed if _intent(e) not in NOT_A_QUESTION]
    chosen = (asking or typed)[-1]
    text = " ".join(str(chosen["text"]).split())
    if len(text) > MAX_QUESTION_CHARS:
        text = text[: MAX_QUESTION_CHARS - 1] + "…"
    return text, _stamp(chosen)


def _faq_topic(name: object, topics: Mapping[str, Mapping[str, str]]) -> str | None:
    if isinstance(name, str) and name.startswith(FAQ_RESPONSE_PREFIX):
        key = name[len(FAQ_RESPONSE_PREFIX) :]
        return key if key in topics else None
    return None


def answered(
    events: Sequence[Mapping[str, Any]], topics: Mapping[str, Mapping[str, str]]
) -> tuple[Answered, ...]:
    """The FAQ topics and document sources the bot answered with, first answer first,
    each once. An FAQ answer is its response's action (`utter_faq_<topic>`) or a bot
    message made from that response (a follow-up's answer); a document answer is a bot
    message of `utter_document_answer`, whose `source` Rasa keeps in its metadata."""
    found: dict[tuple[str, str], Answered] = {}
    for event in events:
        kind = event.get("event")
        metadata = event.get("metadata") if kind == "bot" else None
        response = metadata.get("utter_action") if isinstance(metadata, Mapping) else None
        topic = _faq_topic(event.get("name") if kind == "action" else response, topics)
        if topic is not None:
            found.setdefault(("faq", topic), Answered("faq", topic, dict(topics[topic])))
            continue
        source = metadata.get("source") if isinstance(metadata, Mapping) else None
        if response == DOCUMENT_RESPONSE and isinstance(source, str) and source.strip():
            title = " ".join(source.split())[:200]
            found.setdefault(("document", title),
                             Answered("document", None, {"de": title, "en": title}))  # fmt: skip
    return tuple(found.values())


def lead_facts(card: Mapping[str, Any], personal: Collection[str]) -> LeadFacts:
    """What the lead card says, condensed; personal answers only under a consent."""
    consent = card.get("consent")
    explanation = card.get("explanation") or {}
    raw = card.get("answers") or {}
    questions = [q for q in card.get("questions") or [] if q in raw]
    order = questions + sorted(k for k in raw if k not in questions)
    answers = tuple(
        LeadAnswer(
            key,
            raw[key].get("value"),
            str(raw[key].get("status") or ""),
            raw[key].get("source"),
            raw[key].get("shown"),
        )
        for key in order
        if consent or key not in personal
    )
    return LeadFacts(
        stage=card.get("stage"),
        fit=card.get("fit"),
        interest=card.get("interest"),
        fit_explanation=tuple(explanation.get("fit") or ()),
        interest_explanation=tuple(explanation.get("interest") or ())[-INTEREST_LINES:],
        answers=answers,
        consent_given=bool(consent),
        consent_given_at=consent.get("given_at") if consent else None,
        consent_version=consent.get("version") if consent else None,
    )
