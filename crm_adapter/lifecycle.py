"""Lifecycle stages of a contact (HubSpot's stages) and the rules that move them.

Stages only move forward, with one exception: sales may reject a lead, which puts it
back to `lead` and keeps the bot from promoting it again until sales accepts it.
Sales accepting a lead makes it a sales qualified lead. Opportunity, customer and
evangelist are set by people in the CRM, never by the bot. Pure Python.
"""

from __future__ import annotations

from dataclasses import dataclass

from crm_adapter.scoring_model import ScoringModel

SUBSCRIBER = "subscriber"
LEAD = "lead"
MQL = "marketing_qualified_lead"
SQL = "sales_qualified_lead"
STAGES = (SUBSCRIBER, LEAD, MQL, SQL, "opportunity", "customer", "evangelist")


def rank(stage: str | None) -> int:
    """-1 for an anonymous visitor (no stage yet), else the stage's position."""
    return STAGES.index(stage) if stage in STAGES else -1


@dataclass(frozen=True)
class StageChange:
    old: str | None
    new: str
    cause: str


@dataclass(frozen=True)
class LeadStanding:
    """What the stage rules look at."""

    identified: bool  # a business email given with consent, proven (double opt-in)
    fit: int | None
    interest: int
    accepted: bool = False  # by sales
    rejected: bool = False  # by sales, and not accepted since


def earned_stage(model: ScoringModel, standing: LeadStanding) -> tuple[str | None, str]:
    """The highest stage the scores earn, with its reason."""
    if not standing.identified:
        return None, "no proven business email with consent yet"
    fit = standing.fit if standing.fit is not None else 0
    if standing.accepted:
        return SQL, "accepted by sales"
    if standing.rejected:
        return LEAD, "rejected by sales"
    for stage, threshold in ((SQL, model.sql), (MQL, model.mql)):
        if fit >= threshold.fit and standing.interest >= threshold.interest:
            return stage, (
                f"fit {fit} >= {threshold.fit} and interest {standing.interest} "
                f">= {threshold.interest}"
            )
    return LEAD, "business email given with consent and proven"


def advance(current: str | None, model: ScoringModel, standing: LeadStanding) -> StageChange | None:
    """The forward move the standing earns, or None (stages never move back here)."""
    stage, cause = earned_stage(model, standing)
    if stage is None or rank(stage) <= rank(current):
        return None
    return StageChange(current, stage, cause)


def reject(current: str | None, reason: str) -> StageChange | None:
    """Sales rejects the lead: back to `lead` (or stays there)."""
    if rank(current) >= rank(SQL) + 1:
        raise ValueError(f"a contact at stage {current} is past qualification")
    if current == LEAD:
        return None
    return StageChange(current, LEAD, f"rejected by sales: {reason}")


def accept(current: str | None, reason: str) -> StageChange | None:
    """Sales accepts the lead: a sales qualified lead (unless already further)."""
    if rank(current) >= rank(SQL):
        return None
    return StageChange(current, SQL, f"accepted by sales: {reason}")
