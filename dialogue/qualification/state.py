"""The qualification's data: its state between turns, one turn, and a turn's outcome.

The state is a small JSON-able dict kept in a Rasa slot; it holds no personal data
other than what the summary shows back to the visitor in this conversation. The bounds
that keep the conversation from looping are here too; `flow.py` enforces them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Protocol

from dialogue.qualification.questions import Question

CONSENT, GO_ON, SUMMARY = "@consent", "@go_on", "@summary"
HANDED_BACK = "handed_back"  # the intent Lotse sends when a person hands the visitor back

MAX_FAILURES = 2
"""Unusable answers in a row before the bot explains the question and asks to go on."""
MAX_TURNS_PER_QUESTION = 4
"""Turns spent on one question (answers it could not use, "why?", product questions in
between, small talk) before the bot lets the question go and moves on."""
MAX_CONTROL_TURNS = 3
"""Unclear answers to the consent question, the summary or "shall we go on?" before
the bot decides: no consent, the questions end (what was said stays stored)."""
MAX_QUALIFICATION_TURNS = 60
"""Turns of one qualification, whatever happens in them; then it ends."""


@dataclass(frozen=True)
class Reading:
    """An answer as understood: the value to store and how to show it back."""

    key: str
    value: dict[str, Any] | None
    shown: str
    unknown: bool = False  # the visitor says it is not known yet


class Interpreter(Protocol):
    def read(
        self, question: Question, text: str, language: str, today: date, *, catch_all: bool = True
    ) -> Reading | None:
        """The answer to `question` in `text`, or None when it is not one.

        `catch_all`: an answer in words the tables do not know counts ("Feinmechanik" is
        an industry of its own); False where the text may be about another question.
        """

    def volunteered(self, text: str, language: str, today: date) -> list[Reading]:
        """Everything else `text` clearly says (e.g. "we are 60 people in Bielefeld")."""


@dataclass
class State:
    asking: str | None = None  # a question key, CONSENT, GO_ON or SUMMARY
    go_on_question: str | None = None
    failures: int = 0
    declined: list[str] = field(default_factory=list)
    consent: bool | None = None
    noted: dict[str, str] = field(default_factory=dict)  # key -> shown, for the summary
    tries: dict[str, int] = field(default_factory=dict)  # turns spent per question
    turns: int = 0  # turns of this qualification
    skipped: list[str] = field(default_factory=list)  # let go after too many turns
    explained: list[str] = field(default_factory=list)  # explained after two misses
    partial: list[str] = field(default_factory=list)  # known in part: still to be asked

    def to_slot(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_slot(cls, raw: Any) -> State:
        if not isinstance(raw, dict):
            return cls()
        known = {name: raw[name] for name in cls.__dataclass_fields__ if name in raw}
        try:
            state = cls(**known)
        except TypeError:
            return cls()
        return state if state.is_sound() else cls()

    def is_sound(self) -> bool:
        """A slot's values of the right types (a damaged slot starts the state anew)."""
        return (
            (self.asking is None or isinstance(self.asking, str))
            and isinstance(self.failures, int)
            and isinstance(self.turns, int)
            and isinstance(self.tries, dict)
            and all(isinstance(v, int) for v in self.tries.values())
            and isinstance(self.noted, dict)
            and all(
                isinstance(x, list)
                for x in (self.declined, self.skipped, self.explained, self.partial)
            )
        )


@dataclass(frozen=True)
class Turn:
    text: str
    language: str
    today: date
    intent: str | None = None
    confidence: float = 0.0
    known: frozenset[str] = frozenset()  # question keys the CRM has an answer for
    consent_on_record: bool = False
    starting: bool = False
    earlier: tuple[str, ...] = ()  # the visitor's earlier messages, oldest first
    topic_line: str | None = None  # the product line of the product answer just given
    question: bool = False  # the message asks something (dialogue.understanding.questions)
    small_talk: str | None = None  # greeting, thanks, goodbye, acknowledge
    non_answer: bool = False  # only small talk and fillers ("ja gerne", "Moment")
    country: str | None = None  # the country the visitor gave (ISO), to read phone numbers


@dataclass
class Outcome:
    state: State
    say: list[str] = field(default_factory=list)
    responses: list[str] = field(default_factory=list)  # domain responses, e.g. an FAQ answer
    prompt: str = ""
    yes_no: bool = False
    readings: list[Reading] = field(default_factory=list)
    declined: list[str] = field(default_factory=list)
    consent_given: bool = False
    withdraw: bool = False
    finished: bool = False
    submitted: bool = False
    handoff: bool = False  # the visitor wants a person now; the questions wait
