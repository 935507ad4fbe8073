"""A Rasa component that settles what a message is, after the intent classifiers.

It runs `dialogue.understanding.reading.decide` on every message: a request (quote, demo,
callback...) becomes `request_enquiry` or rides along with a product question as the
entities `request` (which the rules react to) and `request_kind`; small talk is never a
misunderstanding; a visitor introducing their company is `inform`; an elliptical
follow-up the classifier did not understand is `follow_up`; a product question asked of
another product line than the one the classifier's topic is about ("a press of 400 t,
what is the price?" ranked as the software price) gets that line's topic. The intent it sets keeps
the classifier's ranking below it. A product question no FAQ topic's answer answers
(`knowledge.topic_fit`: it asks about what the documents hold and the topic does not,
or about a noun nobody speaks of) becomes `document_question`, which the documents
answer with their source or honestly cannot (`bot/actions/documents.py`); so does a
question the classifier placed nowhere that asks about what the documents hold. Runs
in the Rasa process: no action-server call.
The facts of an introduction are read with the answer parsers (`dialogue.answers`), only
for statements the classifier could not place. No visitor text is logged.
"""

from __future__ import annotations

import logging
import weakref
from datetime import datetime, timezone
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.bilingual_tokenizer import PIPELINE_LANGUAGE_KEY
from bot.nlu.rule_entities import rule_entity
from dialogue.answers.volunteered import extract_all
from dialogue.content import FAQ_INTENT_PREFIX, load_content
from dialogue.language import requested_language
from dialogue.qualification.interpret import named_lines
from dialogue.qualification.questions import load_questionnaire
from dialogue.understanding.reading import SWITCH_INTENT, Decision, decide
from knowledge.answering import DocumentAnswerer
from knowledge.index import IndexError_
from knowledge.topic_fit import TopicFit, topic_fit
from lotse.metrics import FALLBACKS
from wiring.services import services

log = logging.getLogger(__name__)
_READERS: weakref.WeakSet[MessageReader] = weakref.WeakSet()  # of the loaded models


def warm_readers() -> None:
    """Builds what the loaded models' readers build on first use (the documents' matcher
    and index, the topics' words: seconds), so the first visitor does not wait for it
    (`bot.rasa_ops` calls this once the server has started)."""
    for reader in list(_READERS):
        reader._router()
DOCUMENT_INTENT = "document_question"
FALLBACK_KINDS = frozenset({"nlu_fallback", "out_of_scope"})  # counted (lotse.metrics)
ROUTABLE = frozenset({"nlu_fallback", "out_of_scope", "out_of_depth"})
REQUEST_ENTITY = "request"
REQUEST_KIND_ENTITY = "request_kind"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class MessageReader(GraphComponent, IntentClassifier):
    """Settles the intent of each message with the conversation rules (see module)."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MessageReader:
        return cls()

    def __init__(self) -> None:
        content = self._content = load_content()
        controls = load_questionnaire().controls
        self._human = controls["human"]
        self._withdraw = controls["withdraw"]
        self._varying = frozenset(
            FAQ_INTENT_PREFIX + topic for topic in content.topics if content.answer_varies(topic)
        )
        self._no_enquiry = frozenset(
            topic.intent for topic in content.topics.values() if not topic.request_starts_enquiry
        )
        self._documents: tuple[DocumentAnswerer, TopicFit] | None = None
        self._without_documents = False
        _READERS.add(self)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._settle(message)
        return messages

    def _settle(self, message: Message) -> None:
        text = message.get(TEXT) or ""
        intent = message.get(INTENT) or {}
        name = intent.get(INTENT_NAME_KEY) or ""
        language = message.get(PIPELINE_LANGUAGE_KEY) or "de"
        ranking = [
            (str(entry.get(INTENT_NAME_KEY)), float(entry.get(PREDICTED_CONFIDENCE_KEY) or 0.0))
            for entry in message.get(INTENT_RANKING_KEY) or []
        ]
        decision = decide(
            text,
            name,
            ranking,
            confidence=float(intent.get(PREDICTED_CONFIDENCE_KEY) or 0.0),
            says_human=self._human.said,
            says_withdraw=self._withdraw.said,
            facts=lambda said: bool(_company_facts(said, language)),
            starts_enquiry=lambda faq: faq not in self._no_enquiry,
            answer_varies=lambda faq: faq in self._varying,
        )
        chosen = self._on_named_line(decision.intent, text)
        if decision.request is None and self._for_documents(text, language, chosen):
            chosen = DOCUMENT_INTENT
        if decision.changed or chosen != name:
            _set_intent(message, chosen)
        if chosen in FALLBACK_KINDS:
            FALLBACKS.labels(chosen).inc()
        if decision.request is not None:
            _add_request(message, decision, len(text))
            if name == SWITCH_INTENT:  # "Can we go on in English? We need a quote."
                wanted = requested_language(text, language)
                found = [rule_entity("language", wanted, 0, len(text))]
                message.set(ENTITIES, _without_language(message) + found, add_to_output=True)

    def _for_documents(self, text: str, language: str, intent: str) -> bool:
        if not (intent.startswith(FAQ_INTENT_PREFIX) or intent in ROUTABLE):
            return False
        router = self._router()
        if router is None:
            return False
        answerer, fit = router
        try:
            known = answerer.known_words(language)
            sure, found = answerer.answers(text, language)  # one search, when first asked
            return fit.for_documents(text, language, intent, known, sure, found)
        except IndexError_ as error:  # the database is away: the topics answer as before
            log.warning("the document index failed (%s)", error)
            return False

    def _router(self) -> tuple[DocumentAnswerer, TopicFit] | None:
        """The documents' answerer and the topics' fit, made on first use."""
        if self._documents is None and not self._without_documents:
            try:
                answerer = services().documents
                self._documents = (answerer, topic_fit(answerer.matcher, self._content))
            except Exception as error:  # noqa: BLE001 - no documents: the topics answer
                log.warning("answers from documents are off (%s)", type(error).__name__)
                self._without_documents = True
        return self._documents

    def _on_named_line(self, intent: str, text: str) -> str:
        """A product question asked of the other product line the message names."""
        if not intent.startswith(FAQ_INTENT_PREFIX):
            return intent
        topic = intent[len(FAQ_INTENT_PREFIX) :]
        return FAQ_INTENT_PREFIX + self._content.on_named_line(topic, named_lines(text))


def _without_language(message: Message) -> list[dict[str, Any]]:
    return [e for e in message.get(ENTITIES) or [] if e.get("entity") != "language"]


def _company_facts(text: str, language: str) -> dict[str, object]:
    """Facts about the company a statement gives (not an email or a phone number)."""
    found = extract_all(text, language, datetime.now(timezone.utc).date())
    return {k: v for k, v in found.items() if k not in ("email", "phone", "budget")}


def _set_intent(message: Message, name: str) -> None:
    chosen = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: 1.0}
    ranking = [dict(chosen)] + [
        entry
        for entry in message.get(INTENT_RANKING_KEY) or []
        if entry.get(INTENT_NAME_KEY) != name
    ]
    message.set(INTENT, chosen, add_to_output=True)
    message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)


def _add_request(message: Message, decision: Decision, length: int) -> None:
    found = [
        rule_entity(REQUEST_ENTITY, "yes", 0, length),
        rule_entity(REQUEST_KIND_ENTITY, decision.request or "", 0, length),
    ]
    message.set(ENTITIES, (message.get(ENTITIES) or []) + found, add_to_output=True)
