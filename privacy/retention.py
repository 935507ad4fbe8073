"""How long Lotse keeps what it learns, and what is due for deletion (plain Python).

`load_retention_policy()` reads `bot/data/retention.yml` (a company edits it; a
missing or bad value stops with a message naming it). `due(candidate, now, policy)`
says whether a lead is due for erasure: an anonymous one (no email, no consent in
force) `anonymous_conversations_days` after its last message, an unconverted one (an
email, never sales qualified or further) `unconverted_leads_days` after it. Transcripts
and handoff messages go `transcripts_days` after the conversation's last message,
whoever the lead is (`transcript_cutoff`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import yaml

from crm_adapter.lifecycle import SQL, rank
from crm_adapter.port import RetentionCandidate as Candidate
from lotse.settings import ROOT

RETENTION_FILE = ROOT / "bot" / "data" / "retention.yml"
KEYS = ("anonymous_conversations_days", "unconverted_leads_days", "transcripts_days")
ANONYMOUS = "anonymous"
UNCONVERTED = "unconverted"


class RetentionError(ValueError):
    """retention.yml is missing a period or has one that is not a whole number >= 1."""


@dataclass(frozen=True)
class RetentionPolicy:
    anonymous_conversations: timedelta
    unconverted_leads: timedelta
    transcripts: timedelta


def load_retention_policy(path: Path = RETENTION_FILE) -> RetentionPolicy:
    try:
        section = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("retention")
    except (OSError, yaml.YAMLError) as error:
        raise RetentionError(f"{path.name}: cannot be read ({type(error).__name__})") from None
    if not isinstance(section, dict):
        raise RetentionError(f"{path.name}: expected a 'retention:' section")
    days = []
    for key in KEYS:
        value = section.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise RetentionError(f"{path.name}: retention.{key} must be a whole number >= 1")
        days.append(timedelta(days=value))
    return RetentionPolicy(*days)


def due(candidate: Candidate, now: datetime, policy: RetentionPolicy) -> str | None:
    """ANONYMOUS or UNCONVERTED when the lead is due for erasure, else None."""
    idle = now - candidate.last_seen
    if not candidate.identified and not candidate.consented:
        return ANONYMOUS if idle > policy.anonymous_conversations else None
    if candidate.identified and rank(candidate.stage or "") < rank(SQL):
        return UNCONVERTED if idle > policy.unconverted_leads else None
    return None


def transcript_cutoff(now: datetime, policy: RetentionPolicy) -> datetime:
    return now - policy.transcripts
