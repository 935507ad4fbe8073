"""A Rasa entity extractor that reports what the bilingual tokenizer found.

Entities: `language` (only for clear natural-language text, so an "ok", an email
address, a name or a line of code never switches the conversation's language), and
every label of the spaCy entity ruler (products, product lines). Requests are read by
`bot.nlu.message_reader`.
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

EXTRACTOR_NAME = "SpacyRuleEntityExtractor"


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
            rule_entity(label, value, start, end)
            for label, value, start, end, _ in message.get(SPACY_ENTITIES_KEY) or []
        ]
        text = message.get(TEXT) or ""
        language = message.get(LANGUAGE_KEY)
        if language:
            entities.append(rule_entity("language", language, 0, len(text)))
        return entities


def rule_entity(label: str, value: str, start: int, end: int) -> dict[str, Any]:
    """An entity as Rasa's extractors report it, marked as found by rule."""
    return {
        "entity": label,
        "value": value,
        "start": start,
        "end": end,
        "confidence": 1.0,
        "extractor": EXTRACTOR_NAME,
    }
