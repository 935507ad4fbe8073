"""Sales' verdict on a lead: accept (it becomes a sales qualified lead) or reject.

`give_verdict` records the feedback with the scores the lead had (to judge the
scoring model later) and moves the lifecycle stage; used by `lotse leads accept|reject`
and by the staff console when a conversation is closed. One function, two writes
through the port. Raises ValueError for an empty reason or an unknown decision, and
CrmError from the store.
"""

from __future__ import annotations

from datetime import datetime

from crm_adapter import lifecycle
from crm_adapter.lead_scores import Scores
from crm_adapter.port import CrmPort, Feedback, Lead, StageRecord
from crm_adapter.scoring_model import ScoringModel

DECISIONS = ("accept", "reject")
MAX_REASON_CHARS = 500
MAX_ACTOR_CHARS = 80


def give_verdict(
    crm: CrmPort, lead: Lead, decision: str, reason: str, actor: str, model: ScoringModel,
    now: datetime,
) -> Lead:  # fmt: skip
    """The lead after the verdict."""
    if decision not in DECISIONS:
        raise ValueError(f"a verdict is accept or reject, not {decision!r}")
    reason = " ".join(reason.split())[:MAX_REASON_CHARS]
    if not reason:
        raise ValueError("a verdict needs a reason")
    scores = Scores.of(lead, model, now)
    change = (lifecycle.accept if decision == "accept" else lifecycle.reject)(lead.stage, reason)
    actor = actor[:MAX_ACTOR_CHARS]
    crm.record_feedback(
        lead.lead_id,
        Feedback(decision, reason, scores.fit.value, scores.interest.value, actor, now),
    )
    if change is not None:
        crm.change_stage(
            lead.lead_id, StageRecord(change.old, change.new, change.cause, now, actor)
        )
    return crm.lead(lead.lead_id)
