"""Email addresses claimed in a conversation, proven by a one-time code.

Typing an address proves nothing: anyone may type anyone's. So an address typed in a
chat is a claim (`crm_identity_claims`), and a random code goes to the address through
the outbox (`crm_events`, connector "notify", same transaction). The code coming back in
the conversation proves that the person at the keyboard reads that mailbox:
- a new address (nobody had it) is the lead's from the start, unconfirmed; the code
  confirms it, recorded with the consent in force (`crm_consents.confirmed_at`: the
  double opt-in);
- a known address (another contact has it) changes nothing of that contact and shows
  nothing of it; the code joins the lead into it (the caller merges).

A code (`crm_adapter.identity_code`) is valid CODE_MINUTES; MAX_CODE_ATTEMPTS wrong
ones void the claim. Only a salted SHA-256 of the code is stored. All functions work inside the
caller's transaction and raise SQLAlchemy errors. Personal data: the claim's address.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from crm_adapter.identity_code import CODE_MINUTES
from crm_adapter.port import KNOWN_ADDRESS, NEW_ADDRESS, Claim
from crm_adapter.store.models import IdentityClaimRow


def _hash(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


@dataclass(frozen=True)
class NewClaim:
    contact_id: int
    holder_id: int | None
    email: str
    email_normalised: str
    freemail: bool
    conversation_id: str | None


def open_claim_row(s: Session, contact_id: int) -> IdentityClaimRow | None:
    query = (
        select(IdentityClaimRow)
        .where(IdentityClaimRow.contact_id == contact_id)
        .order_by(IdentityClaimRow.id.desc())
        .limit(1)
    )
    return s.execute(query).scalar_one_or_none()


def add_claim(s: Session, claim: NewClaim, code: str, now: datetime) -> Claim:
    """Replaces the contact's open claim with this one; returns it as the port shows it."""
    drop_claims(s, [claim.contact_id])
    salt = secrets.token_hex(16)
    expires = now + timedelta(minutes=CODE_MINUTES)
    s.add(
        IdentityClaimRow(
            contact_id=claim.contact_id,
            holder_id=claim.holder_id,
            email=claim.email,
            email_normalised=claim.email_normalised,
            freemail=claim.freemail,
            salt=salt,
            code_hash=_hash(salt, code),
            attempts=0,
            conversation_id=claim.conversation_id,
            created_at=now,
            expires_at=expires,
        )  # fmt: skip
    )
    kind = NEW_ADDRESS if claim.holder_id is None else KNOWN_ADDRESS
    return Claim(kind, claim.email, expires)


def as_claim(row: IdentityClaimRow) -> Claim:
    return Claim(NEW_ADDRESS if row.holder_id is None else KNOWN_ADDRESS, row.email,
                 row.expires_at)  # fmt: skip


def matches(row: IdentityClaimRow, code: str) -> bool:
    return hmac.compare_digest(row.code_hash, _hash(row.salt, code))


def drop_claims(s: Session, contact_ids: list[int]) -> None:
    """The contacts' own claims are gone (a merge, a withdrawal, an erasure)."""
    s.execute(delete(IdentityClaimRow).where(IdentityClaimRow.contact_id.in_(contact_ids)))


def drop_claims_of_holders(s: Session, contact_ids: list[int]) -> None:
    """Others' claims of these contacts' addresses are gone (a withdrawal or an
    erasure: the address must not stay behind in someone else's claim)."""
    s.execute(delete(IdentityClaimRow).where(IdentityClaimRow.holder_id.in_(contact_ids)))
