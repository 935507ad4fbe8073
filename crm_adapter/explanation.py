"""A lead as sales sees it: answers, scores explained line by line, consent, timeline.

`lead_report()` turns a `Lead` into a plain dict (the `--json` output of `lotse leads
show`); `report_lines()` renders it for a terminal. The report contains the lead's
personal data (email, name, phone): it is for sales staff, never for logs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crm_adapter.lead_scores import Scores
from crm_adapter.port import Lead
from crm_adapter.scoring_model import ScoringModel


def _stamp(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def fit_explanation(model: ScoringModel, scores: Scores) -> list[str]:
    lines = [line.text(model.fit.labels[line.attribute]["en"]) for line in scores.fit.lines]
    if scores.fit.value is None:
        return ["nothing known yet that counts towards the fit"]
    return [*lines, f"fit = average of {len(lines)} known attribute(s) = {scores.fit.value}"]


def interest_explanation(model: ScoringModel, scores: Scores) -> list[str]:
    lines = []
    for line in scores.interest.lines:
        day = line.at.date().isoformat()
        if line.kind is None:
            lines.append(f"{day} quiet period: x{model.interest.decay_factor} -> {line.total:g}")
        else:
            label = model.interest.events[line.kind].label["en"]
            lines.append(f"{day} {label} +{line.change:g} -> {line.total:g}")
    capped = f" (cap {model.interest.cap})"
    return [*lines, f"interest = {scores.interest.value}{capped}"]


def lead_report(lead: Lead, model: ScoringModel, now: datetime) -> dict[str, Any]:
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
            "fit": fit_explanation(model, scores),
            "interest": interest_explanation(model, scores),
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
