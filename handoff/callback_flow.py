"""Arranging a callback or a meeting when nobody can take the conversation now.

A state machine like the qualification's: `step()` takes the state (a JSON-able dict
kept in a Rasa slot), the visitor's turn and what is already known, and returns what
to say and, once complete, what to store. Pure Python: the action does the reading
and writing (consent record, phone or email, the task or meeting, notifications).

Callback: consent (unless on record) -> phone (unless known) -> time window -> done.
Meeting: pick one of the offered slots -> consent -> email (unless known) -> done.
"stop", "abbrechen" or "no" at a choice ends it without storing anything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

CALLBACK, MEETING = "callback", "meeting"
MAX_WINDOW_CHARS = 100
MAX_FAILURES = 2


class Signal(Protocol):
    def matches(self, text: str, intent: str | None = None) -> bool: ...


@dataclass
class CallbackState:
    kind: str = CALLBACK
    asking: str | None = None  # "consent", "phone", "window", "slot", "email"
    failures: int = 0
    consent: bool | None = None
    phone: str | None = None
    window: str | None = None
    slot: str | None = None  # ISO start of the chosen slot
    offered: list[list[str]] = field(default_factory=list)  # [label, ISO start, ISO end]
    email: str | None = None

    def to_slot(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_slot(cls, raw: object) -> CallbackState:
        if not isinstance(raw, dict):
            return cls()
        try:
            return cls(**{k: raw[k] for k in cls.__dataclass_fields__ if k in raw})
        except TypeError:
            return cls()


@dataclass(frozen=True)
class CallbackTurn:
    text: str
    language: str
    intent: str | None = None
    starting: bool = False
    kind: str = CALLBACK
    consent_on_record: bool = False
    known_phone: str | None = None
    known_email: str | None = None
    offered: tuple[tuple[str, str, str], ...] = ()  # (label, ISO start, ISO end), meetings


@dataclass
class CallbackOutcome:
    state: CallbackState
    say: list[str] = field(default_factory=list)
    prompt: str = ""
    buttons: list[dict[str, str]] = field(default_factory=list)
    consent_given: bool = False
    finished: bool = False
    done: bool = False  # finished with everything needed to store it


@dataclass(frozen=True)
class CallbackTexts:
    """Texts by key and language; `consent` is the versioned consent wording."""

    texts: Mapping[str, Mapping[str, str]]
    consent: Mapping[str, str]

    def get(self, key: str, language: str, **values: str) -> str:
        template = self.texts[key].get(language) or self.texts[key]["de"]
        return template.format(**values) if values else template


Reader = Callable[[str, str], str | None]


@dataclass(frozen=True)
class CallbackReaders:
    phone: Reader  # (text, language) -> normalised phone or None
    email: Reader


def step(
    state: CallbackState,
    turn: CallbackTurn,
    texts: CallbackTexts,
    controls: Mapping[str, Signal],
    readers: CallbackReaders,
) -> CallbackOutcome:
    return _Flow(state, turn, texts, controls, readers).run()


class _Flow:
    def __init__(self, state: CallbackState, turn: CallbackTurn, texts: CallbackTexts,
                 controls: Mapping[str, Signal], readers: CallbackReaders) -> None:  # fmt: skip
        self.turn = turn
        self.texts = texts
        self.controls = controls
        self.readers = readers
        self.out = CallbackOutcome(state=CallbackState(**asdict(state)))

    @property
    def state(self) -> CallbackState:
        return self.out.state

    def said(self, control: str) -> bool:
        return self.controls[control].matches(self.turn.text, self.turn.intent)

    def text(self, key: str, **values: str) -> str:
        return self.texts.get(key, self.turn.language, **values)

    def run(self) -> CallbackOutcome:
        if self.turn.starting:
            self.out.state = CallbackState(kind=self.turn.kind)
            if self.turn.consent_on_record:
                self.state.consent = True
            if self.turn.kind == MEETING:
                self.state.offered = [list(o) for o in self.turn.offered]
            return self.next()
        if self.said("stop"):
            return self.finish(self.text("cancelled"))
        handler = getattr(self, f"on_{self.state.asking}", None)
        return handler() if handler else self.next()

    # -- each question -------------------------------------------------------------

    def on_consent(self) -> CallbackOutcome:
        if self.said("yes"):
            self.state.consent = True
            self.out.consent_given = True
            return self.next()
        if self.said("no"):
            return self.finish(self.text("no_consent"))
        return self.ask("consent", self.texts.consent[self.turn.language], yes_no=True)

    def on_phone(self) -> CallbackOutcome:
        phone = self.readers.phone(self.turn.text, self.turn.language)
        if phone is None:
            return self.retry("phone", "ask_phone")
        self.state.phone = phone
        return self.next()

    def on_window(self) -> CallbackOutcome:
        window = " ".join(self.turn.text.split())[:MAX_WINDOW_CHARS]
        if not window or window.startswith("/"):
            return self.retry("window", "ask_window")
        self.state.window = window
        return self.next()

    def on_slot(self) -> CallbackOutcome:
        chosen = self.chosen_slot()
        if chosen is None:
            if self.said("no"):
                return self.finish(self.text("cancelled"))
            return self.retry("slot", "ask_slot")
        self.state.slot = chosen
        return self.next()

    def on_email(self) -> CallbackOutcome:
        email = self.readers.email(self.turn.text, self.turn.language)
        if email is None:
            return self.retry("email", "ask_email")
        self.state.email = email
        return self.next()

    def chosen_slot(self) -> str | None:
        said = " ".join(self.turn.text.lower().split())
        for number, (label, start, _end) in enumerate(self.state.offered, start=1):
            if said in (label.lower(), str(number), f"/choose_slot_{number}"):
                return start
        return None

    # -- what comes next -----------------------------------------------------------

    def next(self) -> CallbackOutcome:
        s = self.state
        if s.kind == MEETING and s.slot is None:
            if not s.offered:
                return self.finish(self.text("no_slots"))
            return self.ask_slot()
        if not s.consent:
            return self.ask("consent", self.texts.consent[self.turn.language], yes_no=True)
        if s.kind == CALLBACK:
            if s.phone is None and self.turn.known_phone:
                s.phone = self.turn.known_phone
            if s.phone is None:
                return self.ask("phone", self.text("ask_phone"))
            if s.window is None:
                return self.ask("window", self.text("ask_window"))
        else:
            if s.email is None and self.turn.known_email:
                s.email = self.turn.known_email
            if s.email is None:
                return self.ask("email", self.text("ask_email"))
        self.out.done = True
        return self.finish("")  # the action words the confirmation once it is stored

    def ask_slot(self) -> CallbackOutcome:
        self.ask("slot", self.text("ask_slot"))
        self.out.buttons = [
            {"title": label, "payload": label} for label, _start, _end in self.state.offered
        ]
        return self.out

    def ask(self, what: str, prompt: str, yes_no: bool = False) -> CallbackOutcome:
        self.state.asking = what
        self.out.prompt = prompt
        if yes_no:
            self.out.buttons = [
                {"title": self.text("yes"), "payload": "/affirm"},
                {"title": self.text("no"), "payload": "/deny"},
            ]
        return self.out

    def retry(self, what: str, key: str) -> CallbackOutcome:
        self.state.failures += 1
        if self.state.failures > MAX_FAILURES:
            return self.finish(self.text("gave_up"))
        self.out.say.append(self.text("not_understood"))
        if what == "slot":
            return self.ask_slot()
        return self.ask(what, self.text(key))

    def finish(self, text: str) -> CallbackOutcome:
        self.state.asking = None
        self.out.finished = True
        self.out.prompt = text
        return self.out
