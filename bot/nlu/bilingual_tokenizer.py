"""A Rasa tokenizer that detects the message's language and uses that spaCy pipeline.

Tokens carry spaCy lookup lemmas, so the featurizers see "Pressen" and "Presse" as
one word, and dialect words carry their standard word as lemma (`dialogue.dialect`:
"choschtet" is "kostet"). The language of clear natural-language text
(`dialogue.language.clear_language`, or None: the conversation keeps its language) is kept
on the message under `LANGUAGE_KEY`, the pipeline's language under
`PIPELINE_LANGUAGE_KEY`, the spaCy entities under `SPACY_ENTITIES_KEY`, for the
components that follow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from dialogue.dialect import standard_word, swiss_spelling
from dialogue.language import DEFAULT_LANGUAGE, clear_language, detect_language, normalise_language
from dialogue.spacy_pipelines import PIPELINES_DIR, load_lexicon, load_pipelines


def _lemma(text: str, lemma: str, german: bool) -> str:
    """spaCy's lemma, or the standard word of a dialect word ("choschtet": "kostet")."""
    standard = standard_word(text, german=german) or (swiss_spelling(text) if german else None)
    return (standard or lemma).lower()


LANGUAGE_KEY = "lotse_language"
PIPELINE_LANGUAGE_KEY = "lotse_pipeline_language"
SPACY_ENTITIES_KEY = "lotse_spacy_entities"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class BilingualSpacyTokenizer(Tokenizer):
    """Tokenizes German or English text with the matching blank spaCy pipeline."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
            "pipelines_dir": None,
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["spacy"]

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        source = Path(config["pipelines_dir"]) if config.get("pipelines_dir") else PIPELINES_DIR
        self._pipelines = load_pipelines(source)
        self._lexicon = load_lexicon(source)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> BilingualSpacyTokenizer:
        return cls(config)

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        text = message.get(attribute) or ""
        if attribute != TEXT:
            return self._convert_words_to_tokens(text.split(), text)
        detected = detect_language(text, self._lexicon)
        metadata = message.get("metadata") or {}
        hinted = (
            normalise_language(metadata.get("language")) if isinstance(metadata, dict) else None
        )
        language = detected or hinted or DEFAULT_LANGUAGE
        doc = self._pipelines[language](text)
        message.set(LANGUAGE_KEY, clear_language(text, self._lexicon))
        message.set(PIPELINE_LANGUAGE_KEY, language)
        message.set(
            SPACY_ENTITIES_KEY,
            [
                (ent.label_, ent.ent_id_ or ent.text, ent.start_char, ent.end_char, ent.text)
                for ent in doc.ents
            ],
        )
        german = language == "de"
        tokens = [Token(t.text, t.idx, lemma=_lemma(t.text, t.lemma_, german)) for t in doc
                  if t.text.strip()]  # fmt: skip
        return self._apply_token_pattern(tokens)
