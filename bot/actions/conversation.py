"""What the actions need to know about a conversation: its language, page and channel."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from dialogue.language import DEFAULT_LANGUAGE, normalise_language

MAX_PAGE_CHARS = 64


def message_metadata(tracker: Tracker) -> dict[str, Any]:
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    return metadata if isinstance(metadata, dict) else {}


def session_metadata(tracker: Tracker) -> dict[str, Any]:
    metadata = tracker.get_slot("session_started_metadata") or {}
    return metadata if isinstance(metadata, dict) else {}


def conversation_language(tracker: Tracker) -> str:
    """Slot first (detected or chosen), then the channel's hint, then German."""
    return (
        normalise_language(tracker.get_slot("language"))
        or normalise_language(message_metadata(tracker).get("language"))
        or normalise_language(session_metadata(tracker).get("language"))
        or DEFAULT_LANGUAGE
    )


def page_key(metadata: dict[str, Any]) -> str | None:
    """The website page the visitor is on, as a short key, or None."""
    page = metadata.get("page")
    if not isinstance(page, str):
        return None
    page = "".join(ch for ch in page.strip().lower() if ch.isalnum() or ch in "-_")
    return page[:MAX_PAGE_CHARS] or None


def current_page(tracker: Tracker) -> str | None:
    return (
        page_key(message_metadata(tracker))
        or tracker.get_slot("page")
        or page_key(session_metadata(tracker))
    )


def channel_name(tracker: Tracker) -> str | None:
    return (tracker.get_latest_input_channel() or None) if tracker.events else None
