"""`lotse eval-conversations` / `make eval-conversations`: simulated visitors hold the
corpus's conversations with the running bot; the figures say how many became the
right lead (`docs/conversation_eval.md`).

`evaluate(conversations, send_as, lead_of)` runs them (several at once), reads each
lead back as `lotse leads show --json` shows it, and returns the `Results`;
`format_results` prints the figures per set and every miss with its transcript.
`run_eval_conversations` starts Lotse on ports of its own for it. It asserts nothing:
the floors are held by `tests/e2e/test_eval_conversations.py`.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from dialogue.qualification.state import MAX_QUALIFICATION_TURNS, MAX_TURNS_PER_QUESTION
from ops.conversation_corpus import Conversation
from ops.simulated_visitor import BotTexts, Sender, SimulatedVisitor, Visit

LeadOf = Callable[[str], "dict[str, Any] | None"]
"""The lead of a conversation id as `lotse leads show --json` shows it, or None."""
TEXT_FIELDS = {"company": "name", "name": "full", "industry": "words", "role": "words"}
"""Stored texts that must never be a filler (the need's purpose is the visitor's words
about it, whatever they were)."""
TIMELINE_TOLERANCE = 1


@dataclass
class Checked:
    key: str
    expected: Any
    stored: Any
    right: bool


@dataclass
class Scored:
    visit: Visit
    lead: dict[str, Any] | None
    fields: list[Checked] = field(default_factory=list)
    fillers: list[str] = field(default_factory=list)
    declined_wrong: list[str] = field(default_factory=list)
    outcome_right: bool = True
    loop: bool = False
    ended_in_lead: bool | None = None  # None: no lead expected

    @property
    def missed(self) -> bool:
        v = self.visit
        return bool(
            not self.outcome_right or self.loop or self.fillers or self.declined_wrong
            or v.asked_again or v.wrong_language or v.topic_misses or v.errors
            or any(not c.right for c in self.fields) or self.ended_in_lead is False
        )  # fmt: skip


def _norm(value: object) -> str:
    return re.sub(r"\s+", " ", str(value)).strip().casefold()


def _compact(value: object) -> str:
    return re.sub(r"[\s-]", "", str(value)).upper()


def field_right(key: str, expected: Any, answer: dict[str, Any] | None) -> tuple[bool, Any]:
    """Whether the stored answer is the expected value (docs/conversation_eval.md)."""
    if answer is None:
        return False, None
    value = answer.get("value") or {}
    if expected == "unknown":
        return answer.get("status") == "unknown", answer.get("status")
    stored: Any
    if key == "need":
        stored = value.get("product_line")
        return stored == expected, stored
    if key in ("industry", "role"):
        stored = value.get("key")
        return stored == expected, stored
    if key == "employees":
        if isinstance(expected, str) and "-" in expected:
            low, high = (int(part) for part in expected.split("-", 1))
            stored = f"{value.get('low')}-{value.get('high')}"
            return (value.get("low"), value.get("high")) == (low, high), stored
        stored = value.get("count")
        return stored == expected, stored
    if key == "location":
        stored = {"country": value.get("country"), "postal_code": value.get("postal_code")}
        right = stored["country"] == expected.get("country")
        if expected.get("postal_code"):
            right = right and _compact(stored["postal_code"] or "") == _compact(
                expected["postal_code"]
            )
        return right, stored
    if key == "timeline":
        stored = value.get("months")
        return isinstance(stored, int) and abs(stored - int(expected)) <= TIMELINE_TOLERANCE, stored
    if key == "budget":
        stored = value.get("value")
        return isinstance(stored, (int, float)) and abs(
            stored - expected
        ) <= 0.05 * expected, stored
    if key == "phone":
        stored = value.get("number")
        return _compact(stored or "") == _compact(expected), stored
    if key == "email":
        stored = value.get("address")
        return _norm(stored or "") == _norm(expected), stored
    stored = value.get({**TEXT_FIELDS, "need": "purpose"}.get(key, "text"))
    return _norm(stored or "") == _norm(expected), stored


def score(visit: Visit, lead: dict[str, Any] | None, optional: frozenset[str]) -> Scored:
    c = visit.conversation
    scored = Scored(visit, lead)
    answers = (lead or {}).get("answers") or {}
    # A field counts when the visitor gave it, or when its question is not optional (a
    # required question the bot never asked is a miss, not a field left out).
    unsaid = {key for detour in visit.unsaid_detours for key in detour.gives}
    for key, expected in c.fields.items():
        if key in optional and key not in visit.given:
            continue
        if key in unsaid:
            continue  # the visitor's correction waited for a question the bot never asked
        right, stored = field_right(key, expected, answers.get(key))
        scored.fields.append(Checked(key, expected, stored, right))
    for key in c.declined:
        if key in visit.asked and (answers.get(key) or {}).get("status") != "declined":
            scored.declined_wrong.append(key)
    non_answers = {_norm(t) for t in visit.non_answers}
    for key, part in TEXT_FIELDS.items():
        stored = ((answers.get(key) or {}).get("value") or {}).get(part)
        if stored and _norm(stored) in non_answers:
            scored.fillers.append(f"{key}: {stored!r}")
    scored.outcome_right = visit.outcome == c.outcome
    scored.loop = (
        visit.outcome in ("loop", "lost")
        or any(n > MAX_TURNS_PER_QUESTION for n in visit.asked.values())
        or visit.qualification_turns > MAX_QUALIFICATION_TURNS
    )
    if c.outcome == "submitted" and "email" in c.fields:
        scored.ended_in_lead = bool(
            lead and lead.get("email") and lead.get("consent") and visit.outcome == "submitted"
        )
    return scored


def evaluate(
    conversations: Iterable[Conversation],
    texts: BotTexts,
    send_as: Sender,
    lead_of: LeadOf,
    optional: frozenset[str],
    jobs: int = 4,
) -> list[Scored]:
    def one(conversation: Conversation) -> Scored:
        visit = SimulatedVisitor(conversation, texts, send_as).run()
        return score(visit, lead_of(visit.sender), optional)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, list(conversations)))


@dataclass
class Figures:
    conversations: int
    leads_expected: int
    leads: int
    fields: int
    fields_right: int
    per_field: dict[str, tuple[int, int]]
    asked_again: int
    fillers: int
    loops: int
    outcomes_wrong: int
    wrong_language: int
    topic_misses: int
    errors: int
    turns_per_lead: list[int]

    @property
    def lead_share(self) -> float:
        return self.leads / self.leads_expected if self.leads_expected else 1.0

    @property
    def field_accuracy(self) -> float:
        return self.fields_right / self.fields if self.fields else 1.0


def figures(results: list[Scored]) -> Figures:
    per_field: Counter = Counter()
    right: Counter = Counter()
    for scored in results:
        for checked in scored.fields:
            per_field[checked.key] += 1
            right[checked.key] += checked.right
    expected_leads = [s for s in results if s.ended_in_lead is not None]
    return Figures(
        conversations=len(results),
        leads_expected=len(expected_leads),
        leads=sum(bool(s.ended_in_lead) for s in expected_leads),
        fields=sum(per_field.values()),
        fields_right=sum(right.values()),
        per_field={key: (right[key], n) for key, n in sorted(per_field.items())},
        asked_again=sum(len(s.visit.asked_again) for s in results),
        fillers=sum(len(s.fillers) for s in results),
        loops=sum(s.loop for s in results),
        outcomes_wrong=sum(not s.outcome_right for s in results),
        wrong_language=sum(bool(s.visit.wrong_language) for s in results),
        topic_misses=sum(len(s.visit.topic_misses) for s in results),
        errors=sum(len(s.visit.errors) for s in results),
        turns_per_lead=[s.visit.turns for s in expected_leads if s.ended_in_lead],
    )


def format_figures(name: str, f: Figures) -> list[str]:
    turns = f.turns_per_lead
    lines = [
        f"{name}: {f.conversations} conversations",
        f"  ended in a lead:      {f.leads}/{f.leads_expected} ({100 * f.lead_share:.1f} %)",
        f"  fields stored right:  {f.fields_right}/{f.fields} ({100 * f.field_accuracy:.1f} %)",
        "    " + ", ".join(f"{k} {r}/{n}" for k, (r, n) in f.per_field.items()),
        f"  asked again (facts already given): {f.asked_again}",
        f"  fillers stored:       {f.fillers}",
        f"  loops:                {f.loops}",
        f"  wrong outcome:        {f.outcomes_wrong}",
        f"  wrong language:       {f.wrong_language}",
        f"  topic answers missed: {f.topic_misses}",
        f"  request errors:       {f.errors}",
    ]
    if turns:
        lines.append(
            f"  turns per finished lead: median {statistics.median(turns):.0f}, max {max(turns)}"
        )
    return lines


def format_miss(scored: Scored) -> list[str]:
    v = scored.visit
    c = v.conversation
    lines = [f"--- {c.id} ({c.source}, {c.style}): outcome {v.outcome}, expected {c.outcome}"]
    for checked in scored.fields:
        if not checked.right:
            lines.append(f"  field {checked.key}: expected {checked.expected!r}, "
                         f"stored {checked.stored!r}")  # fmt: skip
    problems = [
        *(f"asked again: {k}" for k in v.asked_again),
        *(f"filler stored: {x}" for x in scored.fillers),
        *(f"not stored as declined: {k}" for k in scored.declined_wrong),
        *(f"wrong language: {x}" for x in v.wrong_language[:3]),
        *v.topic_misses,
        *v.errors,
    ]
    if scored.loop:
        problems.append(f"loop: asked {dict(v.asked)}")
    if scored.ended_in_lead is False:
        problems.append("no lead (email with consent) at the end")
    lines += [f"  {p}" for p in problems]
    lines += [f"    {who:>7}: {' / '.join(text.splitlines())}" for who, text in v.transcript]
    return lines


def format_results(results: list[Scored]) -> str:
    lines: list[str] = []
    for name in sorted({s.visit.conversation.source for s in results}):
        lines += format_figures(
            name, figures([s for s in results if s.visit.conversation.source == name])
        )
    lines += format_figures("all", figures(results))
    misses = [s for s in results if s.missed]
    lines.append(f"\n{len(misses)} conversation(s) with a miss:")
    for scored in misses:
        lines += format_miss(scored)
    return "\n".join(lines)
