"""Lotse's custom actions (run by `rasa run actions --actions bot.actions`).

Actions stay thin: they read the tracker, call plain-Python content and stores, and
return events.
"""
