"""Answers of a contact: which one is current, and the views derived from them.

The rule (`prevails`): of two answers to the same attribute the later one is current,
except that it never replaces one from a stronger source: an answer from the bot never
replaces one from a human (a person has corrected or confirmed what the bot
understood), and a messenger's profile name never replaces what the visitor said. The
other one stays as history, with `superseded_at` set to the later of the two answers'
times.

`refresh_views` copies the current answered answers into the contact's `name` and
`phone` (personal data, from the answers to "name" and "phone"; without a phone
answer, `phone` is the number the contact was identified by, `phone_normalised`) and
into its company row (the firmographic view); COMPANY_SOURCES and CONTACT_SOURCES say
which key of which answer's value fills which column. Texts are cut to the column's length (the
full value stays in the answer). All functions work inside the caller's transaction
and raise SQLAlchemy errors.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, select
from sqlalchemy.orm import Session

from crm_adapter.port import ANSWERED, SOURCES
from crm_adapter.store.models import AnswerRow, Company, Contact

# Which (attribute, key of its value) fills which column; the first one known counts.
# The shapes are those of dialogue/qualification/interpret.py.
Sources = tuple[tuple[str, str], ...]
COMPANY_SOURCES: dict[str, Sources] = {
    "name": (("company", "name"),),
    "legal_form": (("company", "legal_form"),),
    "employees": (("employees", "count"),),
    "industry": (("industry", "key"),),
    "nace": (("industry", "nace_division"), ("industry", "nace_section")),
    "country": (("location", "country"),),
    "postal_code": (("location", "postal_code"),),
}
CONTACT_SOURCES: dict[str, Sources] = {"name": (("name", "full"),), "phone": (("phone", "number"),)}


def current_answers(
    s: Session, contact_id: int, attributes: Iterable[str] | None = None
) -> dict[str, AnswerRow]:
    """The current answer of each attribute (of `attributes`, if given)."""
    query = select(AnswerRow).where(
        AnswerRow.contact_id == contact_id, AnswerRow.superseded_at.is_(None)
    )
    if attributes is not None:
        query = query.where(AnswerRow.attribute.in_(list(attributes)))
    return {row.attribute: row for row in s.execute(query).scalars()}


def prevails(later: AnswerRow, earlier: AnswerRow) -> bool:
    """Whether the later answer replaces the earlier one as the current answer."""
    return SOURCES.index(later.source) >= SOURCES.index(earlier.source)


def settle(earlier: AnswerRow, later: AnswerRow) -> AnswerRow:
    """Marks the one of two current answers that loses as superseded; returns the winner."""
    winner, loser = (later, earlier) if prevails(later, earlier) else (earlier, later)
    loser.superseded_at = max(loser.created_at, winner.created_at)
    return winner


def record_answer(s: Session, row: AnswerRow) -> None:
    """Stores a new answer; it arrives after the current one, whatever its time says."""
    current = current_answers(s, row.contact_id, [row.attribute]).get(row.attribute)
    if current is not None:
        settle(current, row)
        s.flush()  # frees the "one current answer" index slot before the insert
    s.add(row)
    s.flush()


def settle_merged(s: Session, target_id: int, source_id: int) -> None:
    """Before the source's answers move to the target: one current answer per attribute.

    Of two current answers the later is treated as arriving last (on a tie the
    target's), so the outcome is the one had both been given to one contact.
    """
    target = current_answers(s, target_id)
    source = current_answers(s, source_id)
    for attribute in target.keys() & source.keys():
        kept, moved = target[attribute], source[attribute]
        if moved.created_at > kept.created_at:
            settle(kept, moved)
        else:
            settle(moved, kept)
    s.flush()


def _coerce(column: Any, raw: Any) -> Any:
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(column.type, Integer):
        return raw if isinstance(raw, int) else None
    if isinstance(raw, (str, int)):
        return str(raw).strip()[: column.type.length] or None
    return None


def _view(table: Any, sources: dict[str, Sources], current: dict[str, AnswerRow]) -> dict[str, Any]:
    """Column values of `table` from the current answers, as `sources` says."""
    view = {}
    for name, candidates in sources.items():
        found = (current[a].value.get(key) for a, key in candidates if a in current)
        view[name] = _coerce(table.c[name], next((v for v in found if v is not None), None))
    return view


def refresh_views(s: Session, contact: Contact, now: datetime) -> None:
    """Copies the contact's current answers into its name, phone and company row."""
    current = {
        attribute: row
        for attribute, row in current_answers(s, contact.id).items()
        if row.status == ANSWERED and isinstance(row.value, dict)
    }
    for name, value in _view(Contact.__table__, CONTACT_SOURCES, current).items():
        setattr(contact, name, value)
    if contact.phone is None:
        contact.phone = contact.phone_normalised
    contact.updated_at = now
    fields = _view(Company.__table__, COMPANY_SOURCES, current)
    if contact.company_id is None and all(value is None for value in fields.values()):
        return
    company = None if contact.company_id is None else s.get(Company, contact.company_id)
    if company is None:
        company = Company(updated_at=now)
        s.add(company)
        s.flush()
        contact.company_id = company.id
    for name, value in fields.items():
        setattr(company, name, value)
    company.updated_at = now
