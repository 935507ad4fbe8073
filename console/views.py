"""What the console shows: handoffs, transcripts and lead cards as JSON-able dicts.

Pure functions of store records, the routing model and Rasa's tracker events; the
web handlers only serialise them. The output holds personal data (message texts, the
lead's answers): it goes to logged-in staff only, never to logs.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from handoff.routing import in_language
from handoff.routing_model import RoutingModel
from handoff.store import Handoff, Message, Note

STAFF_SENDERS = ("visitor", "agent", "system")


def stamp(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="milliseconds") if moment else None


def staff_name(model: RoutingModel, staff_id: str | None) -> str | None:
    member = model.staff.get(staff_id or "")
    return member.name if member else None


def handoff_summary(
    handoff: Handoff,
    model: RoutingModel,
    now: datetime,
    stage: str | None = None,
    language: str = "en",
) -> dict[str, Any]:
    """The handoff's row in the queue; the team's label in `language` (the staff
    member's console language)."""
    team = model.teams.get(handoff.team)
    return {
        "id": handoff.id,
        "conversation_id": handoff.conversation_id,
        "state": handoff.state,
        "reason": handoff.reason,
        "need": handoff.need,
        "language": handoff.language,
        "channel": handoff.channel,
        "page": handoff.page,
        "team": handoff.team,
        "team_label": (team.label.get(language) or team.label.get("en")) if team else handoff.team,
        "assignee": handoff.assignee,
        "assignee_name": staff_name(model, handoff.assignee),
        "responsible": [staff_name(model, s) or s for s in handoff.responsible],
        "rule": handoff.rule,
        "explanation": [in_language(line, model, language) for line in handoff.explanation],
        "requested_at": stamp(handoff.requested_at),
        "waiting_seconds": int((now - handoff.requested_at).total_seconds()),
        "claimed_at": stamp(handoff.claimed_at),
        "closed_at": stamp(handoff.closed_at),
        "outcome": handoff.outcome,
        "lead_id": handoff.lead_id,
        "lead_stage": stage,
    }


def message_view(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "from": message.sender,
        "author": message.author_label,
        "text": message.text,
        "buttons": message.buttons or [],
        "at": stamp(message.at),
    }


def tracker_lines(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The visitor's and the bot's messages as Rasa recorded them (bot part of the transcript)."""
    lines = []
    for event in events:
        kind = event.get("event")
        text = event.get("text")
        if kind not in ("user", "bot") or not isinstance(text, str) or not text:
            continue
        if text.startswith("/"):  # a button or the widget's opening: show what it asked for
            text = f"[{text[1:].split('{', 1)[0]}]"
        at = datetime.fromtimestamp(float(event.get("timestamp") or 0), timezone.utc)
        lines.append({"id": None, "from": "visitor" if kind == "user" else "bot",
                      "author": None, "text": text, "buttons": [], "at": stamp(at)})  # fmt: skip
    return lines


def transcript(tracker_events: list[dict[str, Any]], feed: list[Message]) -> list[dict[str, Any]]:
    """Rasa's messages and the handoff's messages in time order.

    What visitors wrote to a person and what staff wrote never reached Rasa, so they come
    from the feed; the bot's own messages come from Rasa (the feed's copies of what the
    bot said after a hand-back or timeout are left out, they would show twice).
    """
    lines = tracker_lines(tracker_events)
    lines += [message_view(m) for m in feed if m.sender in STAFF_SENDERS]
    return sorted(lines, key=lambda line: line["at"] or "")


def note_view(note: Note) -> dict[str, Any]:
    return {"id": note.id, "author": note.author, "text": note.text, "at": stamp(note.at)}
