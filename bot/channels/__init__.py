"""Lotse's Rasa input channels."""
