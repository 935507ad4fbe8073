"""Lotse's conversational side: domain, content, NLU components, channels and actions."""
