"""When the bot hands a lead to a person by itself (`handoff_rules` in handoff.yml).

Pure Python: a rule holds when all its conditions hold on the lead's stage, scores
and interest events (`rule_met` for a lead). Checked at the end of the qualification.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from crm_adapter.lead_scores import Scores
from crm_adapter.lifecycle import STAGES, rank
from crm_adapter.port import Lead
from crm_adapter.recording import stage_once_proven
from crm_adapter.scoring_model import ScoringModel


class HandoffRuleError(ValueError):
    """A handoff rule in handoff.yml is malformed; the message names it."""


@dataclass(frozen=True)
class HandoffRule:
    name: str
    description: str
    stage_at_least: str | None = None
    any_interest: frozenset[str] = frozenset()
    fit_at_least: int | None = None
    interest_at_least: int | None = None

    def holds(self, stage: str | None, fit: int | None, interest: int,
              interest_kinds: Iterable[str]) -> bool:  # fmt: skip
        if self.stage_at_least is not None and rank(stage) < rank(self.stage_at_least):
            return False
        if self.any_interest and not self.any_interest & set(interest_kinds):
            return False
        if self.fit_at_least is not None and (fit is None or fit < self.fit_at_least):
            return False
        return self.interest_at_least is None or interest >= self.interest_at_least


KEYS = {"name", "description", "stage_at_least", "any_interest", "fit_at_least",
        "interest_at_least"}  # fmt: skip


def parse_rules(raw: object) -> tuple[HandoffRule, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise HandoffRuleError("handoff_rules must be a list")
    rules = []
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise HandoffRuleError(f"handoff rule {number} needs a name")
        unknown = set(item) - KEYS
        if unknown:
            raise HandoffRuleError(
                f"handoff rule {item['name']}: unknown keys {sorted(map(str, unknown))}"
            )
        stage = item.get("stage_at_least")
        if stage is not None and stage not in STAGES:
            raise HandoffRuleError(f"handoff rule {item['name']}: unknown stage {stage!r}")
        kinds = item.get("any_interest") or []
        if not isinstance(kinds, list) or not all(isinstance(kind, str) for kind in kinds):
            raise HandoffRuleError(
                f"handoff rule {item['name']}: any_interest must be a list of interest kinds"
            )
        for key in ("fit_at_least", "interest_at_least"):
            value = item.get(key)
            if value is not None and (not isinstance(value, int) or not 0 <= value <= 100):
                raise HandoffRuleError(f"handoff rule {item['name']}: {key} must be 0-100")
        rules.append(HandoffRule(
            name=item["name"], description=str(item.get("description") or ""),
            stage_at_least=stage, any_interest=frozenset(kinds),
            fit_at_least=item.get("fit_at_least"), interest_at_least=item.get("interest_at_least"),
        ))  # fmt: skip
    return tuple(rules)


def first_holding(
    rules: Iterable[HandoffRule], stage: str | None, fit: int | None, interest: int,
    interest_kinds: Iterable[str],
) -> HandoffRule | None:  # fmt: skip
    kinds = list(interest_kinds)
    return next((r for r in rules if r.holds(stage, fit, interest, kinds)), None)


def rule_met(
    rules: Iterable[HandoffRule], lead: Lead, model: ScoringModel, now: datetime
) -> HandoffRule | None:
    """The first rule the lead meets `now`: its scores, and its stage as far as it is
    proven (`stage_once_proven`: a typed email still waiting for its code counts)."""
    scores = Scores.of(lead, model, now)
    stage = stage_once_proven(lead, scores, model)
    kinds = [event.kind for event in lead.interest_events]
    return first_holding(rules, stage, scores.fit.value, scores.interest.value, kinds)
