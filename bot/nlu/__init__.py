"""Custom Rasa NLU components: the bilingual spaCy tokenizer and the rule entity extractor."""
