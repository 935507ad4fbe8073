"""The CRM as the actions see it: the configured store, the visit of a conversation, and
the name the person's messenger profile shows (personal data: passed to the store,
which keeps it only with a consent; never logged)."""

from __future__ import annotations

from rasa_sdk import Tracker

from bot.actions.conversation import channel_name, message_metadata
from crm_adapter.port import CrmPort, Visit
from wiring.services import services

MAX_VISITOR_ID_CHARS = 64
MAX_PROFILE_NAME_CHARS = 100


def crm() -> CrmPort:
    return services().crm


def visit_of(tracker: Tracker, language: str) -> Visit:
    visitor = message_metadata(tracker).get("visitor_id")
    visitor_id = visitor[:MAX_VISITOR_ID_CHARS] if isinstance(visitor, str) and visitor else None
    return Visit(tracker.sender_id, channel_name(tracker) or "unknown", visitor_id, language)


def profile_name(tracker: Tracker) -> str | None:
    """The `profile_name` a messenger channel put into the latest message's metadata,
    whitespace collapsed and cut to MAX_PROFILE_NAME_CHARS; None if there is none."""
    raw = message_metadata(tracker).get("profile_name")
    if not isinstance(raw, str):
        return None
    name = " ".join(raw.split())[:MAX_PROFILE_NAME_CHARS].strip()
    return name if name.isprintable() and name else None
