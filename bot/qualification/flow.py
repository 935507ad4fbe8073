"""The qualification conversation as a state machine: one visitor message in, replies out.

`step()` is a pure function of the questionnaire, the conversation's state, the turn
(the visitor's text, NLU intent, what the CRM already knows) and an `Interpreter` that
reads answers. It decides what to ask next (the minimum: known and declined questions
are skipped, optional ones once scoring and routing are decided, personal ones only
after consent) and returns what the bot says and what must be stored. No Rasa, no
database: the action that calls it does the reading and writing.

The state is a small JSON-able dict kept in a Rasa slot; it holds no personal data
other than what the summary shows back to the visitor in this conversation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Protocol

from bot.qualification.questions import Question, Questionnaire
from bot.qualification.replies import Replies

CONSENT, GO_ON, SUMMARY = "@consent", "@go_on", "@summary"
HANDED_BACK = "handed_back"  # the intent Lotse sends when a person hands the visitor back
MAX_FAILURES = 2
FAQ_CONFIDENCE = 0.6
CONTROL_CONFIDENCE = 0.7


@dataclass(frozen=True)
class Reading:
    """An answer as understood: the value to store and how to show it back."""

    key: str
    value: dict[str, Any] | None
    shown: str
    unknown: bool = False  # the visitor says it is not known yet


class Interpreter(Protocol):
    def read(self, question: Question, text: str, language: str, today: date) -> Reading | None:
        """The answer to `question` in `text`, or None when it is not one."""

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

    def to_slot(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_slot(cls, raw: Any) -> State:
        if not isinstance(raw, dict):
            return cls()
        known = {name: raw[name] for name in cls.__dataclass_fields__ if name in raw}
        try:
            return cls(**known)
        except TypeError:
            return cls()


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


def step(
    questionnaire: Questionnaire, state: State, turn: Turn, interpreter: Interpreter
) -> Outcome:
    """What the bot does with this message of the qualification conversation."""
    flow = _Flow(questionnaire, state, turn, interpreter)
    return flow.run()


class _Flow:
    def __init__(
        self, questionnaire: Questionnaire, state: State, turn: Turn, interpreter: Interpreter
    ) -> None:
        self.q = questionnaire
        self.turn = turn
        self.interpreter = interpreter
        self.replies = Replies(turn.language)
        self.out = Outcome(state=State(**asdict(state)))

    @property
    def state(self) -> State:
        return self.out.state

    def control(self, name: str) -> bool:
        """The visitor's words say `name`, or NLU is confident they do."""
        confident = self.turn.confidence >= CONTROL_CONFIDENCE
        return self.q.controls[name].matches(
            self.turn.text, self.turn.intent if confident else None
        )

    def withdraws(self) -> bool:
        """Withdrawal in words, or by NLU unless the words say "stop" (not the same)."""
        signal = self.q.controls["withdraw"]
        return signal.said(self.turn.text) or (
            self.control("withdraw") and not self.q.controls["stop"].said(self.turn.text)
        )

    def run(self) -> Outcome:
        if self.turn.intent == HANDED_BACK:
            return self.resume()
        if self.turn.starting:
            return self.start()
        if self.control("human"):
            self.out.handoff = True  # the question stays open for after the hand-back
            return self.out
        if self.withdraws():
            return self.withdraw()
        if self.control("stop") and self.state.asking not in (SUMMARY,):
            return self.finish(self.replies.stopped())
        handlers = {CONSENT: self.on_consent, GO_ON: self.on_go_on, SUMMARY: self.on_summary}
        handler = handlers.get(self.state.asking or "", self.on_answer)
        return handler()

    # -- starting and ending -------------------------------------------------------

    def start(self) -> Outcome:
        self.out.state = State(consent=True if self.turn.consent_on_record else None)
        first = self.q.questions[0]
        reading = self.interpreter.read(first, self.turn.text, self.turn.language, self.turn.today)
        found = self.interpreter.volunteered(self.turn.text, self.turn.language, self.turn.today)
        self.note([reading, *found] if reading is not None else found)
        self.out.say.append(self.replies.intro())
        return self.ask_next()

    def resume(self) -> Outcome:
        """Back from a person: what they learnt is known now; ask what is still missing."""
        self.state.failures = 0
        self.out.say.append(self.replies.text("resumed"))
        if self.state.asking in (CONSENT, GO_ON):
            self.state.asking = None
        return self.ask_next()

    def withdraw(self) -> Outcome:
        self.out.withdraw = True
        self.state.consent = False
        for question in self.q.questions:
            if question.personal:
                self.state.noted.pop(question.key, None)
        return self.finish(self.replies.withdrawn())

    def finish(self, text: str) -> Outcome:
        self.out.finished = True
        self.state.asking = None
        self.out.prompt = text
        return self.out

    # -- the visitor answers a question -------------------------------------------

    def on_answer(self) -> Outcome:
        question = self.current_question()
        if question is None:
            return self.ask_next()
        if self.control("why"):
            self.out.say.append(question.why[self.turn.language])
            return self.ask(question)
        if self.control("decline"):
            return self.declined(question)
        reading = self.interpreter.read(
            question, self.turn.text, self.turn.language, self.turn.today
        )
        extras = [
            r
            for r in self.interpreter.volunteered(
                self.turn.text, self.turn.language, self.turn.today
            )
            if r.key != question.key
        ]
        if reading is not None:
            self.state.failures = 0
            self.note([reading, *extras])
            return self.ask_next()
        if not extras and self.control("correct"):
            extras = self.corrections(question)
        if extras:  # a correction or more information, but not this answer
            self.note(extras)
            self.out.say.append(self.replies.noted(self.shown(extras)))
            return self.ask(question)
        if self.is_faq():
            self.out.responses.append(f"utter_{self.turn.intent}")
            self.out.say.append(self.replies.back_to_question())
            return self.ask(question)
        return self.not_understood(question)

    def corrections(self, current: Question) -> list[Reading]:
        """ "Actually we are 80": the text read as an answer to an earlier question."""
        for key in reversed(list(self.state.noted)):
            if key == current.key:
                continue
            question = self.q.question(key)
            reading = self.interpreter.read(
                question, self.turn.text, self.turn.language, self.turn.today
            )
            if reading is not None:
                return [reading]
        return []

    def declined(self, question: Question) -> Outcome:
        if not question.skippable:
            self.out.say.append(self.replies.needed(question.why[self.turn.language]))
            return self.offer_go_on(question)
        self.state.declined.append(question.key)
        self.out.declined.append(question.key)
        self.out.say.append(self.replies.skipped())
        return self.ask_next()

    def not_understood(self, question: Question) -> Outcome:
        self.state.failures += 1
        if self.state.failures >= MAX_FAILURES:
            self.out.say.append(self.replies.explain(question.why[self.turn.language]))
            return self.offer_go_on(question)
        self.out.say.append(self.replies.not_understood())
        return self.ask(question)

    def offer_go_on(self, question: Question) -> Outcome:
        self.state.asking = GO_ON
        self.state.go_on_question = question.key
        self.out.prompt = self.replies.go_on()
        self.out.yes_no = True
        return self.out

    def on_go_on(self) -> Outcome:
        question = self.q.question(self.state.go_on_question or self.q.keys[0])
        if self.control("no"):
            return self.finish(self.replies.stopped())
        if self.control("yes"):
            # One more try only: a further miss moves on, so the bot never loops.
            self.state.failures = MAX_FAILURES - 1
            return self.ask(question)
        return self.offer_go_on(question)

    # -- consent ------------------------------------------------------------------

    def on_consent(self) -> Outcome:
        if self.control("why"):
            self.out.say.append(self.replies.consent_why())
            return self.ask_consent()
        if self.control("yes"):
            self.state.consent = True
            self.out.consent_given = True
            self.out.say.append(self.replies.consent_thanks())
            return self.ask_next()
        if self.control("no") or self.control("decline"):
            self.state.consent = False
            self.out.say.append(self.replies.consent_refused())
            return self.ask_next()
        return self.ask_consent()

    def ask_consent(self) -> Outcome:
        self.state.asking = CONSENT
        self.out.prompt = self.q.consent.text[self.turn.language]
        self.out.yes_no = True
        return self.out

    # -- the summary --------------------------------------------------------------

    def on_summary(self) -> Outcome:
        extras = self.interpreter.volunteered(self.turn.text, self.turn.language, self.turn.today)
        if not extras and self.control("correct"):
            extras = self.corrections()
        if extras:
            self.note(extras)
            return self.ask_summary()
        if self.control("yes"):
            self.out.submitted = True
            return self.finish(self.replies.submitted())
        if self.control("no"):
            self.out.say.append(self.replies.what_to_correct())
            return self.ask_summary()
        if self.control("stop"):
            return self.finish(self.replies.stopped())
        self.out.say.append(self.replies.not_understood())
        return self.ask_summary()

    def ask_summary(self) -> Outcome:
        self.state.asking = SUMMARY
        lines = [
            f"{self.replies.label(key)}: {self.replies.value(shown)}"
            for key in self.q.keys
            if (shown := self.state.noted.get(key))
        ]
        self.out.prompt = self.replies.summary(lines)
        self.out.yes_no = True
        return self.out

    # -- choosing the next question ----------------------------------------------

    def note(self, readings: list[Reading]) -> None:
        allowed = [r for r in readings if self.may_store(r.key)]
        self.out.readings.extend(allowed)
        for reading in allowed:
            self.state.noted[reading.key] = reading.shown

    def may_store(self, key: str) -> bool:
        question = next((q for q in self.q.questions if q.key == key), None)
        return question is not None and (not question.personal or self.state.consent is True)

    def done(self, key: str) -> bool:
        return (
            key in self.turn.known
            or key in self.state.declined
            or key in self.state.noted
            or any(r.key == key for r in self.out.readings)
        )

    def decided(self) -> bool:
        """Scoring and routing no longer depend on an answer still missing."""
        return all(self.done(q.key) for q in self.q.questions if q.scoring or q.routing)

    def next_question(self) -> Question | None:
        for question in self.q.questions:
            if self.done(question.key):
                continue
            if question.optional and self.decided():
                continue
            if question.personal and self.state.consent is False:
                continue
            return question
        return None

    def ask_next(self) -> Outcome:
        question = self.next_question()
        if question is None:
            if not self.state.noted:
                return self.finish(self.replies.nothing_to_note())
            return self.ask_summary()
        if question.personal and self.state.consent is None:
            return self.ask_consent()
        return self.ask(question)

    def ask(self, question: Question) -> Outcome:
        self.state.asking = question.key
        self.out.prompt = question.ask[self.turn.language]
        return self.out

    def current_question(self) -> Question | None:
        key = self.state.asking
        return next((q for q in self.q.questions if q.key == key), None)

    def is_faq(self) -> bool:
        intent = self.turn.intent or ""
        return intent.startswith("faq_") and self.turn.confidence >= FAQ_CONFIDENCE

    def shown(self, readings: list[Reading]) -> str:
        return ", ".join(
            f"{self.replies.label(r.key)} {self.replies.value(r.shown)}" for r in readings
        )
