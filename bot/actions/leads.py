"""The CRM as the actions see it: the configured store, and the visit of a conversation."""

from __future__ import annotations

from functools import lru_cache

from rasa_sdk import Tracker

from bot.actions.conversation import channel_name, message_metadata
from crm_adapter.connect import open_crm
from crm_adapter.port import CrmPort, Visit
from lotse.settings import load_settings

MAX_VISITOR_ID_CHARS = 64


@lru_cache(maxsize=1)
def crm() -> CrmPort:
    return open_crm(load_settings().database_url)


def visit_of(tracker: Tracker, language: str) -> Visit:
    visitor = message_metadata(tracker).get("visitor_id")
    visitor_id = visitor[:MAX_VISITOR_ID_CHARS] if isinstance(visitor, str) and visitor else None
    return Visit(tracker.sender_id, channel_name(tracker) or "unknown", visitor_id, language)
