"""Who takes a conversation: the routing rules of `routing.yml` applied to one request.

`route()` walks the rules in order. A rule matches when all its conditions hold on the
request; a condition on something unknown (no country, no postal code, no size) does
not hold. A rule's candidates are the staff it names (or its team's members) who
speak the visitor's language and handle the product line. The first matching rule with
candidates decides: they are `responsible` (owners for callbacks and meetings), and
the conversation goes live to the next of them in turn who is online with room left;
if none is, it waits in the team's queue. A matching rule without candidates (nobody
speaks English in postal area 7) is noted and the next rules are tried. No rule at all:
the fallback team's queue.

Pure and deterministic: presence and the round-robin memory come in as arguments, the
caller stores the new `last_assigned[rule]` itself. The request holds company data
(country, postal code, size), no personal data; the explanation lines repeat it for
staff and must not go to logs of third parties.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from handoff.routing_model import Conditions, RoutingModel, Rule, StaffMember


@dataclass(frozen=True)
class RoutingRequest:
    language: str  # "de" | "en"
    need: str = "sales"  # "sales" | "service"
    product_line: str | None = None
    country: str | None = None  # ISO 3166 two-letter code
    postal_code: str | None = None
    employees: int | None = None


@dataclass(frozen=True)
class StaffStatus:
    online: bool
    load: int  # conversations they hold or have waiting for them now


@dataclass(frozen=True)
class RoutingDecision:
    rule: str | None  # the rule that decided; None: the fallback queue
    team: str  # whose queue and office hours apply
    responsible: tuple[str, ...]  # the rule's staff who speak the language; may be empty
    assignee: str | None  # who gets it live now; None: the team queue
    explanation: tuple[str, ...]  # English lines for staff: which rule, who was skipped, why


def route(
    request: RoutingRequest,
    model: RoutingModel,
    presence: Mapping[str, StaffStatus],
    last_assigned: Mapping[str, str],
) -> RoutingDecision:
    """The decision for `request`. Staff missing from `presence` count as offline."""
    lines: list[str] = []
    for rule in model.rules:
        reasons = _matches(rule.when, request)
        if reasons is None:
            continue
        why = f" ({'; '.join(reasons)})" if reasons else ""
        lines.append(f"Rule {rule.name} matched{why}: {rule.description}")
        candidates = []
        for staff_id in _named(rule, model):
            member = model.staff[staff_id]
            unfit = _unfit(member, request)
            if unfit is None:
                candidates.append(staff_id)
            else:
                lines.append(f"{member.name} skipped: {unfit}.")
        if not candidates:
            lines.append(f"Nobody of rule {rule.name} can take it; trying the next rules.")
            continue
        return _assign(rule, tuple(candidates), request, model, presence, last_assigned, lines)
    team = model.teams[model.fallback_team]
    lines.append(
        f"No rule gives this to anybody ({_facts(request)}); {_waits_in(team.label['en'])}"
    )
    return RoutingDecision(
        rule=None, team=team.key, responsible=(), assignee=None, explanation=tuple(lines)
    )


def explain(decision: RoutingDecision) -> str:
    return "\n".join(decision.explanation)


def in_language(line: str, model: RoutingModel, language: str) -> str:
    """A recorded explanation line with the rule description and the team name it quotes
    in `language` (routing.yml's texts; the line's own words the console translates).
    A line of a rule or team no longer in the model stays as recorded."""
    for rule in model.rules:
        if line.startswith(f"Rule {rule.name} matched") and line.endswith(f": {rule.description}"):
            return line[: len(line) - len(rule.description)] + rule.description_in(language)
    for team in model.teams.values():
        queue = _waits_in(team.label["en"])
        if line.endswith(queue):
            return line[: -len(queue)] + _waits_in(team.label.get(language, team.label["en"]))
    return line


def _waits_in(team_label: str) -> str:
    return f"it waits in the {team_label} team queue."


def _assign(
    rule: Rule,
    candidates: tuple[str, ...],
    request: RoutingRequest,
    model: RoutingModel,
    presence: Mapping[str, StaffStatus],
    last_assigned: Mapping[str, str],
    lines: list[str],
) -> RoutingDecision:
    team = rule.team or model.staff[candidates[0]].team
    eligible = set()
    for staff_id in candidates:
        member = model.staff[staff_id]
        status = presence.get(staff_id)
        if status is None or not status.online:
            lines.append(f"{member.name} skipped: offline.")
        elif status.load >= member.capacity:
            lines.append(f"{member.name} skipped: at capacity {status.load}/{member.capacity}.")
        else:
            eligible.add(staff_id)
    label = model.teams[team].label["en"]
    if not eligible:
        lines.append(
            f"Nobody of rule {rule.name} is online with room left; {_waits_in(label)}"
        )
        return RoutingDecision(rule.name, team, candidates, None, tuple(lines))
    previous = last_assigned.get(rule.name)
    start = candidates.index(previous) + 1 if previous in candidates else 0
    turn = candidates[start:] + candidates[:start]
    assignee = next(staff_id for staff_id in turn if staff_id in eligible)
    name = model.staff[assignee].name
    if len(candidates) == 1:
        lines.append(f"Assigned to {name}.")
    elif previous in candidates:
        before = model.staff[previous].name
        lines.append(f"Assigned to {name}: next in turn after {before} (round robin).")
    else:
        lines.append(f"Assigned to {name}: first in turn (round robin).")
    return RoutingDecision(rule.name, team, candidates, assignee, tuple(lines))


def _named(rule: Rule, model: RoutingModel) -> tuple[str, ...]:
    return model.team_members(rule.team) if rule.team is not None else rule.staff


def _unfit(member: StaffMember, request: RoutingRequest) -> str | None:
    """Why `member` cannot take the request at all (whoever is online), or None."""
    if request.language not in member.languages:
        return f"does not speak {request.language}"
    if member.products is not None and request.product_line not in member.products:
        handles = ", ".join(sorted(member.products))
        line = request.product_line or "unknown"
        return f"handles only {handles}, the product line is {line}"
    return None


def _matches(when: Conditions, request: RoutingRequest) -> list[str] | None:
    """Why every condition holds, one phrase each; None when one does not."""
    country = _country(request.country)
    postal = _postal(request.postal_code)
    reasons = []
    if when.need is not None:
        if request.need != when.need:
            return None
        reasons.append(f"need is {request.need}")
    if when.product_line is not None:
        if request.product_line not in when.product_line:
            return None
        reasons.append(f"product line is {request.product_line}")
    if when.employees_over is not None:
        if request.employees is None or request.employees <= when.employees_over:
            return None
        reasons.append(f"{request.employees} employees, over {when.employees_over}")
    if when.country is not None:
        if country not in when.country:
            return None
        reasons.append(f"country is {country}")
    if when.postal_prefix is not None:
        prefix = next((p for p in when.postal_prefix if postal and postal.startswith(p)), None)
        if prefix is None:
            return None
        reasons.append(f"postal code {postal} starts with {prefix}")
    if when.country_not is not None:
        if country is None or country in when.country_not:
            return None
        reasons.append(f"country {country} is not {', '.join(sorted(when.country_not))}")
    if when.language is not None:
        if request.language not in when.language:
            return None
        reasons.append(f"language is {request.language}")
    return reasons


def _country(value: str | None) -> str | None:
    """The two-letter code, or None for anything else (which counts as unknown)."""
    code = (value or "").strip().upper()
    return code if len(code) == 2 and code.isalpha() else None


def _postal(value: str | None) -> str | None:
    code = "".join((value or "").split()).upper()
    return code or None


def _facts(request: RoutingRequest) -> str:
    parts = [f"language {request.language}", f"need {request.need}"]
    if request.product_line:
        parts.append(f"product line {request.product_line}")
    parts.append(f"country {_country(request.country) or 'unknown'}")
    if request.postal_code:
        parts.append(f"postal code {_postal(request.postal_code)}")
    if request.employees is not None:
        parts.append(f"{request.employees} employees")
    return ", ".join(parts)
