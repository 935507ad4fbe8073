"""The conversations' records outside Rasa's tracker: transcripts' texts, the marks of
erased conversations, and the messenger address book with its rendering of replies."""
