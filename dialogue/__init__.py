"""The dialogue logic without Rasa: languages and dialects, the content, reading
messages, the qualification conversation and the parsers of its answers."""
