"""Rasa's plug-ins: the domain and training data, NLU components, input channels,
actions, tracker, lock and event stores, and the Rasa and action servers."""
