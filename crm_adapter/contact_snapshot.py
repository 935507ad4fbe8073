"""The contact as an external CRM receives it: a `Lead` turned into the `contact` part
of an event's payload (see `crm_adapter.sync_event`). Pure; personal data: the lead's
email, name, phone and answers, which the snapshot carries."""

from __future__ import annotations

from typing import Any

from crm_adapter.port import ANSWERED, Lead
from crm_adapter.sync_event import DEFAULT_LEGAL_BASIS, TEXT_LIMIT, stamp

# Per question, the part of the stored value that reads as the answer.
_MAIN_PART = ("product_line", "count", "name", "key", "number", "address", "country", "text")


def answer_text(attribute: str, value: dict[str, Any] | None) -> str | None:
    """One line for an answer's value: "presses", "60", "12 months", "50000 EUR"."""
    if not value:
        return None
    if attribute == "timeline" and value.get("months") is not None:
        return f"{value['months']} months"
    if attribute == "budget" and value.get("value") is not None:
        return f"{value['value']} {value.get('currency') or ''}".strip()
    for part in _MAIN_PART:
        if value.get(part) not in (None, ""):
            return str(value[part])[:TEXT_LIMIT]
    shown = ", ".join(str(v) for v in value.values() if v not in (None, "", False))
    return shown[:TEXT_LIMIT] or None


def _latest_score(lead: Lead, axis: str) -> int | None:
    values = [e.value_after for e in lead.scoring_events if e.axis == axis]
    return values[-1] if values else None


def _owner(lead: Lead) -> dict[str, Any] | None:
    assigned = [t.assignee for t in lead.tasks if t.assignee]
    met = [m.staff_id for m in lead.meetings if m.staff_id]
    staff = (assigned or met or [None])[-1]
    return {"staff_id": staff, "email": None} if staff else None


def snapshot(lead: Lead, legal_basis: str = DEFAULT_LEGAL_BASIS) -> dict[str, Any]:
    """The `contact` of an event for `lead` (which has an email, hence a consent)."""
    answers = {
        key: text
        for key, answer in sorted(lead.answers.items())
        if answer.status == ANSWERED and (text := answer_text(key, answer.value)) is not None
    }
    consent = lead.consent
    company = (lead.answers.get("company").value or {}) if "company" in lead.answers else {}
    return {
        "email": lead.email,
        "name": lead.name,
        "phone": lead.phone,
        "company": company.get("name"),
        "stage": lead.stage,
        "fit": _latest_score(lead, "fit"),
        "interest": _latest_score(lead, "interest") or 0,
        "consent": None
        if consent is None
        else {
            "purpose": consent.purpose,
            "text_version": consent.text_version,
            "given_at": stamp(consent.given_at),
            "legal_basis": legal_basis,
        },  # fmt: skip
        "answers": answers,
        "owner": _owner(lead),
    }
