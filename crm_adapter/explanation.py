"""A lead as sales sees it: answers, scores explained line by line, consent, timeline.

`lead_report()` turns a `Lead` into a plain dict (the `--json` output of `lotse leads
show`); `report_lines()` renders it for a terminal. The report contains the lead's
personal data (email, name, phone): it is for sales staff, never for logs.

The explanation lines are English unless a caller gives a `Wording`: the scoring
model's labels in its language, the connecting words and a fit rule's words from its
`say` (gettext-style: the English text with {named} placeholders is the msgid; the
console passes its catalogue, `console/locale`), the codes of the answers (an industry
or role key) from its `value`, and days in its `day` format.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from crm_adapter.lead_scores import Scores
from crm_adapter.port import Lead
from crm_adapter.scoring_model import ScoringModel
from lotse.translations import N_

# The rules of a fit line that are words (crm_adapter/scoring.py; a size band's rule is
# its numbers): msgids, said in the language of the `Wording`.
RULE_WORDS = (N_("listed"), N_("any other"), N_("service area"), N_("outside the service area"))


def _stamp(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def _english(msgid: str, **params: Any) -> str:
    return msgid.format(**params)


@dataclass(frozen=True)
class Wording:
    """The language of the explanation lines (see the module docstring)."""

    language: str = "en"
    say: Callable[..., str] = _english
    day: Callable[[date], str] = date.isoformat
    value: Callable[[str], str] = str  # a code of the answers ("metalworking") in words


ENGLISH = Wording()


def fit_explanation(model: ScoringModel, scores: Scores, words: Wording = ENGLISH) -> list[str]:
    say = words.say
    lines = [
        say("{label} {value} ({rule}): {points}", value=words.value(line.value),
            rule=say(line.rule), points=line.points,
            label=model.fit.labels[line.attribute][words.language])
        for line in scores.fit.lines
    ]  # fmt: skip
    if scores.fit.value is None:
        return [say("nothing known yet that counts towards the fit")]
    return [*lines, say("fit = average of {count} known attribute(s) = {fit}",
                        count=len(lines), fit=scores.fit.value)]  # fmt: skip


def interest_explanation(
    model: ScoringModel, scores: Scores, words: Wording = ENGLISH
) -> list[str]:
    say, lines = words.say, []
    for line in scores.interest.lines:
        day = words.day(line.at.date())
        if line.kind is None:
            factor, total = model.interest.decay_factor, f"{line.total:g}"
            lines.append(say("{day} quiet period: x{factor} -> {total}", day=day,
                             factor=factor, total=total))  # fmt: skip
        else:
            label = model.interest.events[line.kind].label[words.language]
            lines.append(say("{day} {label} +{change} -> {total}", day=day, label=label,
                             change=f"{line.change:g}", total=f"{line.total:g}"))  # fmt: skip
    return [*lines, say("interest = {interest} (cap {cap})", interest=scores.interest.value,
                        cap=model.interest.cap)]  # fmt: skip


def lead_report(
    lead: Lead, model: ScoringModel, now: datetime, words: Wording = ENGLISH
) -> dict[str, Any]:
    scores = Scores.of(lead, model, now)
    consent = lead.consent
    return {
        "email": lead.email,
        "freemail": lead.freemail,
        "name": lead.name,
        "phone": lead.phone,
        "stage": lead.stage,
        "fit": scores.fit.value,
        "interest": scores.interest.value,
        "answers": {
            key: {
                "value": answer.value,
                "status": answer.status,
                "source": answer.source,
                "at": _stamp(answer.at),
            }
            for key, answer in sorted(lead.answers.items())
        },
        "explanation": {
            "fit": fit_explanation(model, scores, words),
            "interest": interest_explanation(model, scores, words),
        },
        "consent": None
        if consent is None
        else {
            "version": consent.text_version,
            "purpose": consent.purpose,
            "given_at": _stamp(consent.given_at),
            "channel": consent.channel,
            "language": consent.language,
            "wording": consent.wording,
        },
        "timeline": timeline(lead),
        "tasks": [
            {"kind": t.kind, "note": t.note, "status": t.status, "due_at": _stamp(t.due_at)}
            for t in lead.tasks
        ],
        "feedback": [
            {
                "decision": f.decision,
                "reason": f.reason,
                "by": f.actor,
                "at": _stamp(f.at),
                "fit": f.fit,
                "interest": f.interest,
            }  # fmt: skip
            for f in lead.feedback
        ],
    }


def timeline(lead: Lead) -> list[dict[str, Any]]:
    entries: list[tuple[datetime, dict[str, Any]]] = []
    for stage in lead.stages:
        text = f"stage {stage.old or '-'} -> {stage.new} ({stage.cause})"
        entries.append((stage.at, {"at": _stamp(stage.at), "by": stage.actor, "event": text}))
    for event in lead.scoring_events:
        entries.append((event.at, {"at": _stamp(event.at), "by": "bot", "event": event.cause}))
    for consent in lead.consents:
        entries.append(
            (
                consent.given_at,
                {
                    "at": _stamp(consent.given_at),
                    "by": "visitor",
                    "event": f"consent {consent.text_version} given",
                },
            )  # fmt: skip
        )
        if consent.withdrawn_at:
            entries.append(
                (
                    consent.withdrawn_at,
                    {
                        "at": _stamp(consent.withdrawn_at),
                        "by": "visitor",
                        "event": "consent withdrawn",
                    },
                )  # fmt: skip
            )
    return [entry for _, entry in sorted(entries, key=lambda item: item[0])]


def report_lines(report: dict[str, Any]) -> list[str]:
    lines = [
        f"{report['email']}  {report['name'] or ''}  {report['phone'] or ''}".rstrip(),
        f"stage {report['stage'] or '-'}   fit {_score(report['fit'])}   "
        f"interest {report['interest']}" + ("   (freemail address)" if report["freemail"] else ""),
        "",
        "answers:",
    ]
    for key, answer in report["answers"].items():
        value = answer["value"] if answer["status"] == "answered" else f"({answer['status']})"
        lines.append(f"  {key:<10} {value}  [{answer['source']}]")
    lines += ["", "fit:", *(f"  {line}" for line in report["explanation"]["fit"])]
    lines += ["interest:", *(f"  {line}" for line in report["explanation"]["interest"])]
    consent = report["consent"]
    lines += ["", "consent: " + (
        f"{consent['version']} given {consent['given_at']} via {consent['channel']}"
        if consent else "none in force"
    )]  # fmt: skip
    lines += ["", "timeline:", *(f"  {e['at']}  {e['event']}" for e in report["timeline"])]
    return lines


def _score(value: int | None) -> str:
    return "-" if value is None else str(value)
