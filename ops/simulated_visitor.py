"""A simulated visitor: holds one corpus conversation with the running bot over REST.

It says the conversation's opening, then answers whatever the bot asks from the
profile (`ops.conversation_corpus`), and records the transcript, the questions the
bot asked (and whether the visitor had already given that fact), the texts' languages
and the outcome. What the bot asks is recognised by the texts of the data files
(`BotTexts`): each question's wording, the consent question, the summary, "shall we
go on?", the enquiry offer (with its A/B variants) and the closing lines; a handoff by
the widget's `handoff` message. The transcript holds the corpus's made-up data only.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dialogue.content import Content
from dialogue.experiments import Experiment
from dialogue.qualification.questions import Questionnaire
from ops.conversation_corpus import IGNORE_OFFER, Conversation, Message

DECLINE = {"de": "Dazu möchte ich nichts sagen", "en": "I'd rather not say"}
REFUSE_OFFER = {"de": "Nein, danke", "en": "No, thanks"}
GO_ON = {"de": "Ja", "en": "Yes"}
MAX_TURNS = 90
"""Messages one conversation may take; the bot's own bound is well below."""
CLOSINGS = ("submitted", "stopped", "withdrawn", "nothing_to_note", "save_failed")
MISUNDERSTOOD_REPLIES = ("not_understood",)
MISUNDERSTOOD_RESPONSES = (
    "utter_ask_rephrase", "utter_offer_human_out_of_scope", "utter_offer_human_out_of_depth",
    "utter_default",
)  # fmt: skip


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


@dataclass
class BotTexts:
    """What the bot says, by the data files: (kind, key, language) per known text."""

    prompts: list[tuple[str, str, str, str]] = field(default_factory=list)
    topic_answers: dict[str, list[str]] = field(default_factory=dict)
    misunderstood: list[str] = field(default_factory=list)
    greetings: list[str] = field(default_factory=list)

    @classmethod
    def of(
        cls,
        questionnaire: Questionnaire,
        replies: dict[str, Any],
        content: Content,
        experiments: tuple[Experiment, ...],
        domain_responses: dict[str, list[dict[str, Any]]],
    ) -> BotTexts:
        texts = cls()
        for language in ("de", "en"):
            for question in questionnaire.questions:
                texts.add("question", question.key, language, question.ask[language])
            texts.add("consent", "consent", language, questionnaire.consent.text[language])
            texts.add("go_on", "go_on", language, replies["go_on"][language])
            summary_head = replies["summary"][language].split("{lines}")[0]
            texts.add("summary", "summary", language, summary_head)
            texts.add("offer", "offer", language, replies["offer"][language])
            for closing in CLOSINGS:
                texts.add("closing", closing, language, replies[closing][language])
            for key in MISUNDERSTOOD_REPLIES:
                texts.misunderstood.append(_norm(replies[key][language]))
        for experiment in experiments:
            if experiment.response == "utter_offer_enquiry":
                for variant in experiment.variants:
                    for language, text in (variant.text or {}).items():
                        texts.add("offer", "offer", language, text)
        for topic in content.topics.values():
            answers = list(topic.answer.values())
            answers += [
                line
                for product in content.products.values()
                for line in product.lines.get(topic.key, {}).values()
            ]
            texts.topic_answers[topic.key] = [_norm(a) for a in answers]
        for name in MISUNDERSTOOD_RESPONSES:
            texts.misunderstood += [_norm(v["text"]) for v in domain_responses.get(name, [])]
        texts.greetings = [_norm(v["text"]) for v in domain_responses.get("utter_greet", [])]
        return texts

    def add(self, kind: str, key: str, language: str, text: str) -> None:
        self.prompts.append((kind, key, language, _norm(text)))

    def recognise(self, reply: str) -> list[tuple[str, str, str]]:
        """(kind, key, language) of every known text the reply holds, in reply order."""
        said = _norm(reply)
        found = [(said.find(text), kind, key, lang) for kind, key, lang, text in self.prompts
                 if text and text in said]  # fmt: skip
        return [(kind, key, lang) for _, kind, key, lang in sorted(found)]


@dataclass
class Visit:
    """What happened in one simulated conversation."""

    conversation: Conversation
    sender: str
    transcript: list[tuple[str, str]] = field(default_factory=list)  # (who, text)
    asked: Counter = field(default_factory=Counter)  # question key -> times asked
    asked_again: list[str] = field(default_factory=list)  # keys asked after being given
    given: set[str] = field(default_factory=set)
    wrong_language: list[str] = field(default_factory=list)
    topic_misses: list[str] = field(default_factory=list)
    started: bool = False
    outcome: str = "no_enquiry"
    turns: int = 0
    qualification_turns: int = 0
    handoff: bool = False
    non_answers: list[str] = field(default_factory=list)  # texts that must not be stored
    unsaid_detours: list[Message] = field(default_factory=list)  # their question never came
    errors: list[str] = field(default_factory=list)


CANCEL_HANDOFF = "/cancel_handoff"
"""The payload of the widget's button that cancels a wait for a person."""

Sender = Callable[[str, str, dict[str, Any]], list[dict[str, Any]]]
"""Sends (sender id, text, metadata) to the bot; returns its REST replies."""


class SimulatedVisitor:
    def __init__(self, conversation: Conversation, texts: BotTexts, send_as: Sender) -> None:
        self.c = conversation
        self.texts = texts
        self.visit = Visit(conversation, f"eval-{uuid.uuid4().hex[:12]}")
        self._send_as = send_as
        self.detours = {}
        for detour in conversation.detours:
            self.detours.setdefault(detour.at, []).append(detour.message)
        self.answered: set[str] = set()  # keys the visitor answered when asked
        self.declined = False  # the visitor said no to the enquiry offer
        self.offered = False  # the bot offered an enquiry at some point

    # -- talking ----------------------------------------------------------------

    def say(self, message: Message | str) -> str:
        text = message if isinstance(message, str) else message.say
        self.visit.transcript.append(("visitor", text))
        self.visit.turns += 1
        if self.visit.started:
            self.visit.qualification_turns += 1
        metadata = {"language": self.c.language, "visitor_id": self.visit.sender}
        try:
            replies = self._send_as(self.visit.sender, text, metadata)
        except Exception as error:  # noqa: BLE001 - a failed request is a finding
            self.visit.errors.append(f"request failed: {type(error).__name__}")
            replies = []
        if any(isinstance(r.get("custom"), dict) and "handoff" in r["custom"] for r in replies):
            self.visit.handoff = True
        reply = " ".join(r.get("text") or "" for r in replies)
        self.visit.transcript.append(("bot", reply))
        if not isinstance(message, str):
            self.check(message, reply)
            self.visit.given |= set(message.gives)
        return reply

    def check(self, message: Message, reply: str) -> None:
        said = _norm(reply)
        if message.expect_topic and not any(
            answer in said for answer in self.texts.topic_answers[message.expect_topic]
        ):
            self.visit.topic_misses.append(f"{message.say!r}: no {message.expect_topic} answer")
        if message.expect == "not_misunderstood" and (
            any(text in said for text in self.texts.misunderstood) or self.visit.handoff
        ):
            self.visit.topic_misses.append(f"{message.say!r}: taken as not understood")
        if message.expect == "greeting" and not any(g in said for g in self.texts.greetings):
            self.visit.topic_misses.append(f"{message.say!r}: no greeting")

    # -- the conversation ---------------------------------------------------------

    def run(self) -> Visit:
        reply = ""
        for message in self.c.opening:
            reply = self.say(message)
            if self.prompt_of(reply) not in (None, ("offer", "offer")):
                break
        while self.visit.turns < MAX_TURNS:
            prompt = self.prompt_of(reply)
            if self.visit.handoff:
                self.visit.outcome = "handoff"
                self.leave_the_queue()
                break
            if prompt is None:
                if self.declined or (self.offered and self.c.accept_offer is None):
                    self.visit.outcome = "declined_offer"
                elif not self.visit.started:
                    self.visit.outcome = "no_enquiry"
                else:
                    self.visit.outcome = "lost"  # the bot asks nothing it is known to ask
                break
            kind, key = prompt
            if kind == "closing":
                self.visit.outcome = {"submitted": "submitted", "stopped": "stopped"}.get(key, key)
                break
            reply = self.answer(kind, key)
        else:
            self.visit.outcome = "loop"
        self.visit.unsaid_detours = [m for pending in self.detours.values() for m in pending]
        return self.visit

    def leave_the_queue(self) -> None:
        """After a handoff the visitor cancels the wait (the widget's button), so that
        an evaluation leaves no conversation waiting for the staff of the stack."""
        metadata = {"language": self.c.language, "visitor_id": self.visit.sender}
        try:
            self._send_as(self.visit.sender, CANCEL_HANDOFF, metadata)
        except Exception as error:  # noqa: BLE001 - a failed request is a finding
            self.visit.errors.append(f"cancelling the wait failed: {type(error).__name__}")

    def prompt_of(self, reply: str) -> tuple[str, str] | None:
        """The last thing the bot asks in `reply` (a later text wins), or None."""
        found = self.texts.recognise(reply)
        for kind, _, language in found:
            asks = kind in ("question", "consent", "summary", "go_on", "closing")
            if asks and language != self.c.reply_language:
                self.visit.wrong_language.append(f"{kind} in {language}")
        if not found:
            return None
        kind, key, _ = found[-1]
        self.offered = self.offered or kind == "offer"
        return kind, key

    def answer(self, kind: str, key: str) -> str:
        language = self.c.reply_language
        if kind == "offer":
            if self.c.accept_offer == IGNORE_OFFER:
                return ""  # the visitor does not answer the offer
            if self.c.accept_offer is None:
                self.say(REFUSE_OFFER[language])
                self.declined = True
                return ""
            self.visit.non_answers.append(self.c.accept_offer)
            return self.say(self.c.accept_offer)
        self.visit.started = True
        if kind == "go_on":
            return self.say(GO_ON[language])
        if kind == "question":
            self.visit.asked[key] += 1
            volunteered = key in self.visit.given and key not in self.answered
            if volunteered and key not in self.visit.asked_again:
                self.visit.asked_again.append(key)  # the visitor said it before being asked
        pending = self.detours.get(key) or []
        if pending:
            detour = pending.pop(0)
            if not detour.gives:
                self.visit.non_answers.append(detour.say)
            return self.say(detour)
        message = self.c.answers.get(key)
        if kind == "question":
            self.answered.add(key)
            self.visit.given.add(key)
        if message is None:
            return self.say(DECLINE[language])
        return self.say(message)
