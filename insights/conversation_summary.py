"""The summaries of a conversation's sessions, derived from its events in the event log.

Pure: takes the event log's rows of one conversation (`insights/event_log.py`: type, time,
intent or action name, channel; slot events of the insight slots carry
`<slot>=<value>`, see `SLOT_VALUES`) and returns what the dashboard counts. No text
a visitor typed ever reaches this module.

A conversation here is a Rasa session: a visit (the website keeps a visitor's id for
months and a messenger's id never changes, so a sender id spans many visits). A new
session starts after 60 minutes of silence (`session_config` in bot/domain.yml).

Definitions (docs/insights.md):
- a visitor message is a `user` event, except the ones Lotse sends itself
  (`SYSTEM_INTENTS`);
- engaged: at least one visitor message with an intent other than small talk
  (`SMALL_TALK`), i.e. the visitor asked or did something;
- unanswered: a message the bot answered with its "could not answer" path (the action
  `action_note_unanswered` ran after it: not understood, or outside the content);
  a fallback: such a message the NLU could not classify (`nlu_fallback`). Free-text
  answers in the qualification are `nlu_fallback` to the NLU but answered by the
  form, so they are neither;
- handoff: the bot asked a person for the conversation (`handoff_requested` set true);
- rating: the last 1-5 rating given at the end of the conversation, and the last one
  given after a handoff;
- a question of the qualification was asked, answered, declined; dropped off there:
  the last question asked, neither answered nor declined;
- a variant: the A/B variant the conversation was assigned, exposed once the
  experiment's response was said.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# Slots whose values the event log keeps (`slot=value`), and the only values it keeps
# of each: none is personal, and a visitor who types a payload (`/rate{"rating": ...}`)
# cannot put anything else there. The same patterns are in insights/event_log.py's SQL.
SLOT_VALUES = {
    "language": r"de|en",
    "rating": r"(end|handoff):[1-5]",
    "handoff_requested": r"true|false",
    "qualification_step": r"[a-z_]{1,40}:(asked|answered|declined)",
}
VARIANT_SLOT_PREFIX = "ab_"
VARIANT_VALUE = r"[A-Za-z0-9_-]{1,32}"
SYSTEM_INTENTS = frozenset({"handed_back", "handoff_timed_out"})
SMALL_TALK = frozenset({"greet", "goodbye", "thanks", "empty_message", "rate", ""})
FALLBACK = "nlu_fallback"
NOTE_UNANSWERED = "action_note_unanswered"
SESSION_START = "action_session_start"
STEP_STATES = ("asked", "answered", "declined")
RATING = re.compile(r"(end|handoff):([1-5])")
UNKNOWN = "unknown"


def value_pattern(slot: str) -> str | None:
    """The values of `slot` the event log keeps (a regular expression), if any."""
    if slot.startswith(VARIANT_SLOT_PREFIX):
        return VARIANT_VALUE
    return SLOT_VALUES.get(slot)


def slot_event_name(slot: str, value: object) -> str:
    """The event log's name for a slot event: `slot=value` for an insight slot holding
    one of its few values, else the slot's name alone (never its value)."""
    pattern = value_pattern(slot)
    if pattern is not None and value is not None:
        # As PostgreSQL's `data ->> 'value'` gives it (the event log's SQL fill): JSON's
        # true/false for booleans.
        text = json.dumps(value) if isinstance(value, bool) else str(value)
        if re.fullmatch(pattern, text):
            return f"{slot}={text}"
    return slot


@dataclass(frozen=True)
class Event:
    type_name: str
    at: float
    name: str
    channel: str | None = None


@dataclass
class Step:
    question: str
    asked: bool = False
    answered: bool = False
    declined: bool = False
    dropped: bool = False


@dataclass
class Summary:
    conversation_id: str
    started_at: float
    last_at: float
    channel: str = UNKNOWN
    language: str = UNKNOWN
    user_messages: int = 0
    engaged: bool = False
    fallbacks: int = 0
    unanswered: int = 0
    handoff: bool = False
    rating: int | None = None
    rating_after_handoff: int | None = None
    steps: dict[str, Step] = field(default_factory=dict)
    variants: dict[str, str] = field(default_factory=dict)
    exposed: set[str] = field(default_factory=set)


def sessions(
    conversation_id: str, events: Iterable[Event], responses: Mapping[str, str]
) -> list[Summary]:
    """The summaries of a Rasa conversation's sessions (visits: each begins with the
    session start, `action_session_start` and `session_started`, after 60 minutes of
    silence), in time order; a session without a visitor's message (only the session
    start, or only Lotse's own `handed_back`) is none."""
    parts: list[list[Event]] = [[]]
    for event in events:
        if _begins_session(event) and not all(_begins_session(e) for e in parts[-1]):
            parts.append([])
        parts[-1].append(event)
    found = []
    for part in parts:
        if any(e.type_name == "user" and e.name not in SYSTEM_INTENTS for e in part):
            summary = summarise(conversation_id, part, responses)
            if summary is not None:
                found.append(summary)
    return found


def _begins_session(event: Event) -> bool:
    return event.type_name == "session_started" or (
        event.type_name == "action" and event.name == SESSION_START
    )


def summarise(
    conversation_id: str, events: Iterable[Event], responses: Mapping[str, str]
) -> Summary | None:
    """The summary of one session's events (in time order); None without events.
    `responses` maps each A/B experiment to the response it tests. Slots set before the
    session's first user message are carried over from the session before: only the
    language and the variant count from those."""
    ordered = list(events)
    if not ordered:
        return None
    summary = Summary(conversation_id, ordered[0].at, ordered[-1].at)
    last_asked: list[str] = []
    last_intent, messages_began = "", False
    for event in ordered:
        summary.started_at = min(summary.started_at, event.at)
        summary.last_at = max(summary.last_at, event.at)
        if event.type_name == "user":
            _user(summary, event)
            messages_began = True
            if event.name not in SYSTEM_INTENTS:
                last_intent = event.name
        elif event.type_name == "slot" and (messages_began or _carried(event.name)):
            _slot(summary, event.name, last_asked)
        elif event.type_name == "action":
            summary.exposed |= {e for e, r in responses.items() if r == event.name}
            if event.name == NOTE_UNANSWERED:
                summary.unanswered += 1
                summary.fallbacks += last_intent == FALLBACK
    if last_asked:
        step = summary.steps[last_asked[-1]]
        step.dropped = not (step.answered or step.declined)
    return summary


def _carried(name: str) -> bool:
    """Whether a slot event before the session's first message counts: the language
    and the A/B variant (set at every session start)."""
    return name.startswith(("language=", VARIANT_SLOT_PREFIX))


def _user(summary: Summary, event: Event) -> None:
    if event.name in SYSTEM_INTENTS:
        return
    summary.user_messages += 1
    if summary.channel == UNKNOWN and event.channel:
        summary.channel = event.channel
    if event.name not in SMALL_TALK:
        summary.engaged = True


def _slot(summary: Summary, name: str, last_asked: list[str]) -> None:
    slot, _, value = name.partition("=")
    if not value:
        return
    if slot == "language":
        summary.language = value[:8]
    elif slot == "handoff_requested" and value in ("true", "True"):
        summary.handoff = True
    elif slot == "rating" and (match := RATING.fullmatch(value)):
        if match.group(1) == "end":
            summary.rating = int(match.group(2))
        else:
            summary.rating_after_handoff = int(match.group(2))
    elif slot == "qualification_step":
        question, _, state = value.rpartition(":")
        if question and state in STEP_STATES:
            step = summary.steps.setdefault(question, Step(question))
            setattr(step, state, True)
            if state == "asked":
                last_asked.append(question)
    elif slot.startswith(VARIANT_SLOT_PREFIX):
        summary.variants[slot[len(VARIANT_SLOT_PREFIX) :]] = value
