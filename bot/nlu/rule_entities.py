"""A Rasa entity extractor that reports what the bilingual tokenizer found.

Entities: `language` (only when the text's language was detected with confidence, so
a short "ok" never switches the conversation's language), every label of the spaCy
entity ruler (products, product lines), and `request` when the visitor asks for a
quote, demo, callback or to buy (the words of `controls.request` in
`bot/data/qualification.yml`).
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.bilingual_tokenizer import LANGUAGE_KEY, SPACY_ENTITIES_KEY, BilingualSpacyTokenizer
from bot.qualification.questions import load_questionnaire

EXTRACTOR_NAME = "SpacyRuleEntityExtractor"
REQUEST = load_questionnaire().controls["request"]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class SpacyRuleEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Adds `language` and entity-ruler entities to each message."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [BilingualSpacyTokenizer]

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SpacyRuleEntityExtractor:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            found = self._entities(message)
            if found:
                message.set(ENTITIES, message.get(ENTITIES, []) + found, add_to_output=True)
        return messages

    def _entities(self, message: Message) -> list[dict[str, Any]]:
        entities = [
            self._entity(label, value, start, end, text)
            for label, value, start, end, text in message.get(SPACY_ENTITIES_KEY) or []
        ]
        text = message.get(TEXT) or ""
        language = message.get(LANGUAGE_KEY)
        if language:
            entities.append(self._entity("language", language, 0, len(text), text))
        if REQUEST.said(text):
            entities.append(self._entity("request", "yes", 0, len(text), text))
        return entities

    @staticmethod
    def _entity(label: str, value: str, start: int, end: int, text: str) -> dict[str, Any]:
        return {
            "entity": label,
            "value": value,
            "start": start,
            "end": end,
            "confidence": 1.0,
            "extractor": EXTRACTOR_NAME,
        }
