"""Scoring feedback: how sales judged leads, per score band and per scoring rule.

Pure Python over the scoring model (`crm_adapter.scoring_model`). A judged lead is
its latest verdict (accept or reject, with the fit and interest scores it had then)
and the scoring rules that hold for it: each fit line (attribute and band or value,
`crm_adapter.scoring.fit_lines`) and each kind of interest event it showed.

For each rule the report compares the acceptance rate of judged leads with the rule
against those without it: the difference, with Newcombe's 95 % interval, says
whether the rule predicts acceptance (interval above 0), predicts rejection (below 0),
shows no clear link (interval spans 0), or has too few verdicts (fewer than
MIN_VERDICTS on either side). Bands split each axis at the lifecycle thresholds of the
model (below MQL, MQL up to SQL, SQL and above). A rule is named by an English key
("industry metalworking") in the report, its JSON and CSV; `rule_words` says it in a
staff member's language for the dashboard ("Branche Metallverarbeitung").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from crm_adapter.explanation import RULE_WORDS, Wording
from crm_adapter.scoring import FitFacts, fit_lines
from crm_adapter.scoring_model import ScoringModel
from insights.stats import difference_interval, rate, wilson_interval

MIN_VERDICTS = 3
ACCEPT = "accept"


@dataclass(frozen=True)
class Judged:
    decision: str  # accept or reject
    fit: int | None
    interest: int
    rules: frozenset[str]


def rule_keys(model: ScoringModel, facts: FitFacts, interest_kinds: Iterable[str]) -> set[str]:
    """The scoring rules that hold for a lead, named as the report shows them."""
    keys = set()
    for line in fit_lines(model.fit, facts):
        if line.attribute == "company_size":
            keys.add(f"company size {line.rule}")
        elif line.attribute == "industry" and line.rule == "listed":
            keys.add(f"industry {line.value}")
        elif line.attribute == "industry":
            keys.add("industry any other")
        elif line.attribute == "role":
            keys.add(f"role {line.value}")
        else:
            keys.add(f"{line.attribute.replace('_', ' ')} {line.rule}")
    keys |= {f"interest {kind}" for kind in interest_kinds if kind in model.interest.events}
    return keys


def bands(model: ScoringModel) -> dict[str, list[tuple[str, int, int]]]:
    """Per axis: (label, lowest, highest) score of each band."""

    def axis(mql: int, sql: int) -> list[tuple[str, int, int]]:
        return [(f"0-{mql - 1}", 0, mql - 1), (f"{mql}-{sql - 1}", mql, sql - 1),
                (f"{sql}-100", sql, 100)]  # fmt: skip

    return {"fit": axis(model.mql.fit, model.sql.fit),
            "interest": axis(model.mql.interest, model.sql.interest)}  # fmt: skip


def _counts(group: Sequence[Judged]) -> dict[str, object]:
    accepted = sum(j.decision == ACCEPT for j in group)
    interval = wilson_interval(accepted, len(group))
    return {
        "verdicts": len(group),
        "accepted": accepted,
        "rejected": len(group) - accepted,
        "acceptance_rate": rate(accepted, len(group)),
        "acceptance_low": interval[0] if interval else None,
        "acceptance_high": interval[1] if interval else None,
    }


def band_report(model: ScoringModel, judged: Sequence[Judged]) -> list[dict[str, object]]:
    rows = []
    for axis, axis_bands in bands(model).items():
        for label, low, high in axis_bands:
            group = [j for j in judged if (score := getattr(j, axis)) is not None
                     and low <= score <= high]  # fmt: skip
            rows.append({"axis": axis, "band": label, **_counts(group)})
        unknown = [j for j in judged if getattr(j, axis) is None]
        if unknown:
            rows.append({"axis": axis, "band": "unknown", **_counts(unknown)})
    return rows


def rule_report(judged: Sequence[Judged], all_rules: Iterable[str]) -> list[dict[str, object]]:
    """Per rule: acceptance with it against without it (one pass over the verdicts)."""
    total, accepted_total = len(judged), sum(j.decision == ACCEPT for j in judged)
    having: Counter[str] = Counter()
    accepted: Counter[str] = Counter()
    for j in judged:
        having.update(j.rules)
        if j.decision == ACCEPT:
            accepted.update(j.rules)
    rows = []
    for rule in sorted(set(all_rules) | set(having)):
        n_with, a = having[rule], accepted[rule]
        n_without, b = total - n_with, accepted_total - a
        interval = difference_interval(a, n_with, b, n_without)
        rows.append({
            "rule": rule,
            "verdicts_with": n_with,
            "accepted_with": a,
            "acceptance_with": rate(a, n_with),
            "verdicts_without": n_without,
            "accepted_without": b,
            "acceptance_without": rate(b, n_without),
            "difference_low": interval[0] if interval else None,
            "difference_high": interval[1] if interval else None,
            "finding": _finding(n_with, n_without, interval),
        })  # fmt: skip
    return rows


def _finding(n_with: int, n_without: int, interval: tuple[float, float] | None) -> str:
    if interval is None or min(n_with, n_without) < MIN_VERDICTS:
        return "too few verdicts"
    if interval[0] > 0:
        return "predicts acceptance"
    if interval[1] < 0:
        return "predicts rejection"
    return "no clear link"


def _model_rules(model: ScoringModel) -> list[tuple[str, str]]:
    """(what, which) of every rule of the model: a fit attribute with a size band, an
    answer's code or a fit rule's words; or "interest" with a kind of event."""
    rules = [("company_size", band.describe()) for band in model.fit.size_bands]
    rules += [("industry", key) for key in model.fit.industry_points] + [("industry", "any other")]
    rules += [("role", key) for key in model.fit.role_points]
    rules += [("region", "service area"), ("region", "outside the service area")]
    return rules + [("interest", kind) for kind in model.interest.events]


def model_rules(model: ScoringModel) -> list[str]:
    """Every rule of the model, so rules no judged lead met show as such."""
    return [f"{what.replace('_', ' ')} {which}" for what, which in _model_rules(model)]


def rule_words(model: ScoringModel, words: Wording) -> dict[str, str]:
    """Every rule of the model (the keys of `model_rules`) in the language of `words`:
    the scoring file's label, then the band, the answer's code in words (`words.value`)
    or the fit rule's words (`words.say`); an interest rule as the event's label."""
    language = words.language

    def named(what: str, which: str) -> str:
        if what == "interest":
            return f"{words.say('interest')}: {model.interest.events[which].label[language]}"
        shown = words.say(which) if which in RULE_WORDS else words.value(which)
        return f"{model.fit.labels[what][language]} {shown}"

    rules = _model_rules(model)
    return {key: named(*rule) for key, rule in zip(model_rules(model), rules, strict=True)}
