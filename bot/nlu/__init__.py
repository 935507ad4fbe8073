"""Custom Rasa NLU components (the only place in `bot/` besides actions/channels that imports Rasa)."""
