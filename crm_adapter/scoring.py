"""Fit and interest of a lead, computed from what is known, with their explanation.

Pure functions of the scoring model (`scoring_model.py`), the lead's known attributes
and its interest events: the same inputs give the same scores, and every score comes
with the lines that explain it ("company size 60 (50-70): 100"). Nothing here touches
a database or personal data (no names, emails or phone numbers).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from crm_adapter.scoring_model import FitRules, InterestRules, ScoringModel


@dataclass(frozen=True)
class FitFacts:
    """The firmographic answers that count towards the fit; None when not known."""

    employees: int | None = None
    industry: str | None = None
    role: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class FitLine:
    attribute: str
    value: str
    rule: str
    points: int

    def text(self, label: str) -> str:
        return f"{label} {self.value} ({self.rule}): {self.points}"


@dataclass(frozen=True)
class FitScore:
    value: int | None
    lines: tuple[FitLine, ...]


@dataclass(frozen=True)
class InterestEvent:
    kind: str
    at: datetime
    conversation_id: str | None = None


@dataclass(frozen=True)
class InterestLine:
    at: datetime
    kind: str | None  # None for a decay step
    change: float
    total: float


@dataclass(frozen=True)
class InterestScore:
    value: int
    lines: tuple[InterestLine, ...]


def _size_line(rules: FitRules, employees: int) -> FitLine | None:
    band = next((band for band in rules.size_bands if band.contains(employees)), None)
    if band is None:
        return None
    return FitLine("company_size", str(employees), band.describe(), band.points)


def _industry_line(rules: FitRules, industry: str) -> FitLine:
    if industry in rules.industry_points:
        return FitLine("industry", industry, "listed", rules.industry_points[industry])
    return FitLine("industry", industry, "any other", rules.industry_otherwise)


def _region_line(rules: FitRules, country: str) -> FitLine:
    if country.upper() in rules.service_area:
        return FitLine("region", country.upper(), "service area", rules.points_inside)
    return FitLine("region", country.upper(), "outside the service area", rules.points_outside)


def fit_lines(rules: FitRules, facts: FitFacts) -> tuple[FitLine, ...]:
    lines: list[FitLine | None] = []
    if facts.employees is not None:
        lines.append(_size_line(rules, facts.employees))
    if facts.industry:
        lines.append(_industry_line(rules, facts.industry))
    if facts.role and facts.role in rules.role_points:
        lines.append(FitLine("role", facts.role, "listed", rules.role_points[facts.role]))
    if facts.country:
        lines.append(_region_line(rules, facts.country))
    return tuple(line for line in lines if line is not None)


def fit_score(model: ScoringModel, facts: FitFacts) -> FitScore:
    """The average of the points of the attributes known (0-100), None if none is."""
    lines = fit_lines(model.fit, facts)
    if not lines:
        return FitScore(None, ())
    return FitScore(round(sum(line.points for line in lines) / len(lines)), lines)


def counted_events(events: list[InterestEvent]) -> list[InterestEvent]:
    """Events in time order, each kind once per conversation (a repeat adds nothing)."""
    seen: set[tuple[str, str | None]] = set()
    counted = []
    for event in sorted(events, key=lambda e: e.at):
        key = (event.kind, event.conversation_id)
        if event.conversation_id is not None and key in seen:
            continue
        seen.add(key)
        counted.append(event)
    return counted


def _decayed(rules: InterestRules, total: float, since: datetime, until: datetime) -> float:
    periods = max(0, (until - since).days // rules.decay_after_days)
    return total * rules.decay_factor**periods


def interest_score(
    model: ScoringModel, events: list[InterestEvent], now: datetime
) -> InterestScore:
    """Points per event, capped, halved for every quiet period (see scoring.yml)."""
    rules = model.interest
    total = 0.0
    last: datetime | None = None
    lines: list[InterestLine] = []
    for event in counted_events(events):
        kind = rules.events.get(event.kind)
        if kind is None:
            continue
        if last is not None:
            total = _decay_step(rules, total, last, event.at, lines)
        before = total
        total = min(float(rules.cap), total + kind.points)
        lines.append(InterestLine(event.at, event.kind, total - before, total))
        last = event.at
    if last is not None:
        total = _decay_step(rules, total, last, now, lines)
    return InterestScore(round(total), tuple(lines))


def _decay_step(
    rules: InterestRules, total: float, since: datetime, until: datetime, lines: list
) -> float:
    decayed = _decayed(rules, total, since, until)
    if decayed != total:
        lines.append(InterestLine(until, None, decayed - total, decayed))
    return decayed
