"""The qualification conversation as a state machine: one visitor message in, replies out.

`step()` is a pure function of the questionnaire, the conversation's state, the turn
(the visitor's text, NLU intent, what the CRM already knows, what the visitor said
before) and an `Interpreter` that reads answers. It decides what to ask next (the
minimum: known and declined questions are skipped, optional ones once scoring and
routing are decided, personal ones only after consent) and returns what the bot says
and what must be stored. No Rasa, no database: the action that calls it does the
reading and writing.

What it does with a message, in this order: a wish for a person, a withdrawal, a stop
(or a goodbye), then by what is open: the answer to the current question (a "why?", a
decline, a product question in between, the answer itself with anything else it says,
a correction of an earlier answer, small talk), the consent question, "shall we go
on?", the summary. Rules that keep the data right:
- facts said before the questions begin (in earlier messages) are taken at the start;
- an answer given is changed only by a message that names its question ("wir sind
  doch 80 Mitarbeiter") or says it corrects ("eigentlich ..."), and a question is
  never a correction ("Was kosten eigentlich Wartungsverträge?" is answered);
- small talk and fillers ("ja gerne", "Moment") are never an answer.
It never loops (`state.py` holds the bounds): a question is let go after
`MAX_TURNS_PER_QUESTION` turns or a second round of misses after its explanation; the
consent question, the summary and "shall we go on?" decide after `MAX_CONTROL_TURNS`
unclear answers; a qualification ends after `MAX_QUALIFICATION_TURNS` turns.
"""

from __future__ import annotations

from dataclasses import asdict
from functools import lru_cache

from dialogue.qualification.interpret import purpose_of
from dialogue.qualification.questions import Question, Questionnaire
from dialogue.qualification.replies import Replies
from dialogue.qualification.state import (
    CONSENT,
    GO_ON,
    HANDED_BACK,
    MAX_CONTROL_TURNS,
    MAX_FAILURES,
    MAX_QUALIFICATION_TURNS,
    MAX_TURNS_PER_QUESTION,
    SUMMARY,
    Interpreter,
    Outcome,
    Reading,
    State,
    Turn,
)
from dialogue.understanding.conversation_words import conversation_words
from dialogue.understanding.patterns import Phrase, compile_phrases, first_match
from dialogue.understanding.questions import asks_how
from dialogue.understanding.small_talk import small_talk_kinds
from dialogue.understanding.words import words_of

__all__ = [
    "CONSENT", "GO_ON", "SUMMARY", "HANDED_BACK", "MAX_FAILURES", "MAX_TURNS_PER_QUESTION",
    "MAX_CONTROL_TURNS", "MAX_QUALIFICATION_TURNS", "Interpreter", "Outcome", "Reading",
    "State", "Turn", "step",
]  # fmt: skip

FAQ_CONFIDENCE = 0.6
CONTROL_CONFIDENCE = 0.7


@lru_cache(maxsize=64)
def _name_phrases(names: tuple[str, ...]) -> tuple[Phrase, ...]:
    return compile_phrases(names, typos_from=99)


def step(
    questionnaire: Questionnaire, state: State, turn: Turn, interpreter: Interpreter
) -> Outcome:
    """What the bot does with this message of the qualification conversation."""
    return _Flow(questionnaire, state, turn, interpreter).run()


class _Flow:
    def __init__(
        self, questionnaire: Questionnaire, state: State, turn: Turn, interpreter: Interpreter
    ) -> None:
        self.q = questionnaire
        self.turn = turn
        self.interpreter = interpreter
        self.replies = Replies(turn.language)
        self.out = Outcome(state=State(**asdict(state)))
        self.words = words_of(turn.text)

    @property
    def state(self) -> State:
        return self.out.state

    # -- reading the message ------------------------------------------------------

    def control(self, name: str) -> bool:
        """The visitor's words say `name`, or NLU is confident they do."""
        confident = self.turn.confidence >= CONTROL_CONFIDENCE
        return self.q.controls[name].matches(
            self.turn.text, self.turn.intent if confident else None
        )

    def says_no(self) -> bool:
        return self.control("no")

    def says_yes(self) -> bool:
        """Yes, unless the words also say no ("nicht einverstanden" holds "einverstanden")."""
        return self.control("yes") and not self.says_no()

    def agrees_in_small_talk(self) -> bool:
        """Small talk that agrees, acknowledges or thanks and does not refuse ("Is good",
        "that's all fine, thanks")."""
        kinds = small_talk_kinds(words_of(self.turn.text))
        return bool(kinds & {"agree", "acknowledge", "thanks"}) and "refuse" not in kinds

    def withdraws(self) -> bool:
        """Withdrawal in words ("Daten löschen", "ich widerrufe"), not a question how to
        ("Wie kann ich meine Daten löschen lassen?") and not the consent question's no
        ("Nein, ich möchte nicht, dass meine Daten gespeichert werden")."""
        if not self.q.controls["withdraw"].said(self.turn.text):
            return False
        if asks_how(self.turn.text, self.words):
            return False
        return not (self.state.asking == CONSENT and self.says_no())

    def is_faq(self) -> bool:
        intent = self.turn.intent or ""
        return intent.startswith("faq_") and self.turn.confidence >= FAQ_CONFIDENCE

    def read(self, question: Question, *, catch_all: bool = True) -> Reading | None:
        if self.turn.non_answer or self.turn.text.startswith("/"):
            return None  # small talk, fillers, a button's payload
        return self.interpreter.read(
            question, self.turn.text, self.turn.language, self.turn.today, catch_all=catch_all,
            country=self.turn.country,
        )  # fmt: skip

    def volunteered(self, text: str | None = None) -> list[Reading]:
        said = self.turn.text if text is None else text
        return self.interpreter.volunteered(said, self.turn.language, self.turn.today,
                                            self.turn.country)  # fmt: skip

    def about_themselves(self) -> bool:
        """The visitor speaks of themselves or their company ("wir", "unsere", "I")."""
        return first_match(conversation_words().self_words, self.words) is not None

    def names(self, key: str) -> bool:
        """The message names what question `key` asks ("Mitarbeiter", "Firma")."""
        question = self.question(key)
        if question is None or not question.names:
            return False
        return first_match(_name_phrases(question.names), self.words) is not None

    # -- the turn -------------------------------------------------------------------

    def run(self) -> Outcome:
        if self.turn.intent == HANDED_BACK:
            return self.resume()
        if self.turn.starting:
            return self.start()
        self.state.turns += 1
        if self.state.turns > MAX_QUALIFICATION_TURNS:
            return self.finish(self.replies.stopped())
        if self.control("human"):
            self.out.handoff = True  # the question stays open for after the hand-back
            return self.out
        if self.withdraws():
            return self.withdraw()
        if self.state.asking != SUMMARY and (
            self.control("stop") or self.turn.small_talk == "goodbye"
        ):
            return self.finish(self.replies.stopped())
        asking = self.state.asking or ""
        self.state.tries[asking] = self.state.tries.get(asking, 0) + 1
        handlers = {CONSENT: self.on_consent, GO_ON: self.on_go_on, SUMMARY: self.on_summary}
        return handlers.get(asking, self.on_answer)()

    # -- starting and ending -------------------------------------------------------

    def start(self) -> Outcome:
        """Takes what the visitor said before the questions, then asks what is missing."""
        self.out.state = State(consent=True if self.turn.consent_on_record else None)
        earlier: dict[str, Reading] = {}
        for text in self.turn.earlier:  # oldest first: what was said last counts
            earlier.update((r.key, r) for r in self.volunteered(text))
        need = (
            self.need_from([self.turn.text])
            or self.topic_need()
            or self.need_from(list(reversed(self.turn.earlier)))
        )
        now = {r.key: r for r in self.volunteered()}
        found = {**earlier, **now, **({"need": need} if need else {})}
        self.note([r for r in found.values() if r.key not in self.turn.known])
        self.out.say.append(self.replies.intro())
        return self.ask_next()

    def topic_need(self) -> Reading | None:
        """The need the product answer just given is about (an offer after the
        retrofit answer, accepted: service)."""
        line = self.turn.topic_line
        if line is None or self.question("need") is None:
            return None
        said = self.turn.earlier[-1] if self.turn.earlier else self.turn.text
        return Reading("need", {"product_line": line, "purpose": purpose_of(said)}, line)

    def need_from(self, texts: list[str]) -> Reading | None:
        """The product line of the newest message that names one ("eine P400")."""
        question = self.question("need")
        if question is None:
            return None
        for text in texts:
            reading = self.interpreter.read(
                question, text, self.turn.language, self.turn.today, catch_all=False
            )
            if reading is not None:
                return reading
        return None

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
        if self.turn.question and self.is_faq():
            return self.digression(question)
        reading = self.read(question, catch_all=False)
        new, changed = self.extras(question)
        if reading is not None:
            return self.answered(reading, [*new, *changed])
        if not (new or changed) and self.control("correct") and not self.turn.question:
            changed = self.corrections(question)
        if new or changed:  # more information, or a correction, but not this answer
            self.note([*new, *changed], change=True)
            self.out.say.append(self.replies.noted(self.shown([*new, *changed])))
            return self.ask_next() if self.done(question.key) else self.ask(question)
        # In the visitor's own words ("Orgelbau"), once nothing else fits: not a
        # correction of an earlier answer ("eigentlich sind wir 80").
        reading = None if self.turn.question else self.read(question)
        if reading is not None:
            return self.answered(reading, [])
        if self.is_faq() and not self.about_themselves():
            return self.digression(question)  # not "Wir pressen Karosserieteile": an answer
        if self.turn.question:  # a question about the question: its reason, no miss
            self.out.say.append(question.why[self.turn.language])
            return self.ask(question)
        if self.turn.small_talk or self.turn.non_answer:
            return self.ask(question)  # "ok", "Moment bitte": no answer, and no miss
        return self.not_understood(question)

    def answered(self, reading: Reading, more: list[Reading]) -> Outcome:
        self.state.failures = 0
        self.note([reading, *more], change=True)
        return self.ask_next()

    def extras(
        self, current: Question, *, with_current: bool = False
    ) -> tuple[list[Reading], list[Reading]]:
        """What else the message says: new facts, and changes to answers given before
        that the message names ("wir sind doch 80 Leute"); other changes are guesses."""
        new, changed = [], []
        for reading in self.volunteered():
            if reading.key == current.key and not with_current:
                continue
            if not self.done(reading.key):
                new.append(reading)
            elif self.names(reading.key) or self.control("correct"):
                changed.append(reading)
        return new, changed

    def corrections(self, current: Question | None = None) -> list[Reading]:
        """ "Actually we are 80": the text read as an answer to an earlier question,
        the one it names first, else the newest it fits."""
        keys = [
            key for key in reversed(list(self.state.noted)) if current is None or key != current.key
        ]
        keys.sort(key=lambda key: not self.names(key))
        for key in keys:
            question = self.question(key)
            if question is None:
                continue
            reading = self.read(question, catch_all=False)
            if reading is not None:
                return [reading]
        return []

    def digression(self, question: Question) -> Outcome:
        """A product question in between: answered, then back to the open question."""
        self.out.responses.append(f"utter_{self.turn.intent}")
        new, _ = self.extras(question, with_current=True)
        self.note(new)
        if self.done(question.key):
            return self.ask_next()
        self.out.say.append(self.replies.back_to_question())
        return self.ask(question)

    def declined(self, question: Question) -> Outcome:
        if not question.skippable:
            if question.key in self.state.explained:
                return self.let_go(question)  # declined again after the explanation
            self.state.explained.append(question.key)
            self.out.say.append(self.replies.needed(question.why[self.turn.language]))
            return self.offer_go_on(question)
        self.state.declined.append(question.key)
        self.out.declined.append(question.key)
        self.out.say.append(self.replies.skipped())
        return self.ask_next()

    def not_understood(self, question: Question) -> Outcome:
        self.state.failures += 1
        if self.state.failures >= MAX_FAILURES:
            if question.key in self.state.explained:
                return self.let_go(question)
            self.state.explained.append(question.key)
            self.out.say.append(self.replies.explain(question.why[self.turn.language]))
            return self.offer_go_on(question)
        self.out.say.append(self.replies.not_understood())
        return self.ask(question)

    def let_go(self, question: Question) -> Outcome:
        """Too many turns on one question: it stays unanswered and the bot moves on (a
        lead needs its email, so without one the questions end)."""
        if question.personal and not question.skippable:
            return self.finish(self.replies.stopped())
        self.state.skipped.append(question.key)
        self.out.say.append(self.replies.text("let_go"))
        return self.ask_next()

    def offer_go_on(self, question: Question) -> Outcome:
        if self.state.tries.get(GO_ON, 0) >= MAX_CONTROL_TURNS:
            return self.let_go(question)  # "shall we go on?" asked often enough
        self.set_asking(GO_ON)
        self.state.go_on_question = question.key
        self.out.prompt = self.replies.go_on()
        self.out.yes_no = True
        return self.out

    def on_go_on(self) -> Outcome:
        question = self.question(self.state.go_on_question or "") or self.q.questions[0]
        reading = self.read(question)
        if reading is not None and not self.turn.question:  # answered instead of yes
            self.note([reading])
            return self.ask_next()
        if self.says_no():
            return self.finish(self.replies.stopped())
        if self.says_yes():
            self.state.failures = 0
            return self.ask(question, again=True)
        if self.is_faq():
            self.out.responses.append(f"utter_{self.turn.intent}")
        return self.offer_go_on(question)

    # -- consent ------------------------------------------------------------------

    def on_consent(self) -> Outcome:
        if self.control("why"):
            self.out.say.append(self.replies.consent_why())
            return self.ask_consent()
        if self.says_no() or self.control("decline"):
            return self.consent_refused()
        if self.says_yes():
            self.state.consent = True
            self.out.consent_given = True
            self.out.say.append(self.replies.consent_thanks())
            return self.ask_next()
        if self.is_faq():
            self.out.responses.append(f"utter_{self.turn.intent}")
        if self.state.tries.get(CONSENT, 0) >= MAX_CONTROL_TURNS:
            return self.consent_refused()  # no clear yes: nothing personal is stored
        return self.ask_consent()

    def consent_refused(self) -> Outcome:
        self.state.consent = False
        self.out.say.append(self.replies.consent_refused())
        return self.ask_next()

    def ask_consent(self) -> Outcome:
        self.set_asking(CONSENT)
        self.out.prompt = self.q.consent.text[self.turn.language]
        self.out.yes_no = True
        return self.out

    # -- the summary --------------------------------------------------------------

    def on_summary(self) -> Outcome:
        extras = [r for r in self.volunteered() if self.may_store(r.key)]
        if not extras and not self.turn.question and (self.control("correct") or self.says_no()):
            extras = self.corrections()
        if extras:
            self.state.tries[SUMMARY] = 0  # a correction is progress
            self.note(extras, change=True)
            return self.ask_summary()
        if self.says_yes() or self.agrees_in_small_talk():
            self.out.submitted = True  # "Passt so", "Looks good!", "Super, danke"
            return self.finish(self.replies.submitted())
        if self.control("stop"):
            return self.finish(self.replies.stopped())
        if self.state.tries.get(SUMMARY, 0) >= MAX_CONTROL_TURNS:
            return self.finish(self.replies.stopped())  # what was said stays stored
        if self.says_no():
            self.out.say.append(self.replies.what_to_correct())
        elif self.is_faq():
            self.out.responses.append(f"utter_{self.turn.intent}")
        else:
            self.out.say.append(self.replies.not_understood())
        return self.ask_summary()

    def ask_summary(self) -> Outcome:
        self.set_asking(SUMMARY)
        lines = [
            f"{self.replies.label(key)}: {self.replies.value(shown)}"
            for key in self.q.keys
            if (shown := self.state.noted.get(key))
        ]
        self.out.prompt = self.replies.summary(lines)
        self.out.yes_no = True
        return self.out

    # -- choosing the next question ----------------------------------------------

    def note(self, readings: list[Reading], *, change: bool = False) -> None:
        """Keeps the readings it may: personal ones only with consent, and answers given
        before only when `change` (an explicit correction or this question's answer)."""
        for reading in readings:
            if not self.may_store(reading.key):
                continue
            if not change and self.done(reading.key):
                continue
            self.out.readings = [r for r in self.out.readings if r.key != reading.key]
            self.out.readings.append(reading)
            self.state.noted[reading.key] = reading.shown
            if self.partial(reading):
                self.state.partial = [*self.state.partial, reading.key]
            else:
                self.state.partial = [k for k in self.state.partial if k != reading.key]

    def partial(self, reading: Reading) -> bool:
        """A country without the postal code that routing needs there, and without a
        town ("aus Deutschland"; "aus Tuttlingen" names the place)."""
        question = self.question(reading.key)
        value = reading.value or {}
        return bool(
            question is not None
            and value.get("country") in question.needs_postal_code_in
            and not value.get("postal_code")
            and not value.get("town")
        )

    def may_store(self, key: str) -> bool:
        question = self.question(key)
        return question is not None and (not question.personal or self.state.consent is True)

    def done(self, key: str) -> bool:
        if key in self.state.partial and not self.state.tries.get(key):
            return False  # known in part, not asked yet: asked once
        return (
            key in self.turn.known
            or key in self.state.declined
            or key in self.state.skipped
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

    def ask(self, question: Question, *, again: bool = False) -> Outcome:
        """Asks `question`; the same one again only within its bound of turns."""
        spent = self.state.tries.get(question.key, 0)
        bound = MAX_TURNS_PER_QUESTION + (1 if again else 0)  # once more after "yes, go on"
        if self.state.asking in (question.key, GO_ON) and spent >= bound:
            return self.let_go(question)
        self.set_asking(question.key)
        self.out.prompt = question.ask[self.turn.language]
        return self.out

    def set_asking(self, key: str) -> None:
        if self.state.asking != key:
            self.state.failures = 0 if key not in (GO_ON,) else self.state.failures
        self.state.asking = key

    def current_question(self) -> Question | None:
        return self.question(self.state.asking or "")

    def question(self, key: str) -> Question | None:
        return next((q for q in self.q.questions if q.key == key), None)

    def shown(self, readings: list[Reading]) -> str:
        return self.replies.listing([(r.key, r.shown) for r in readings])
