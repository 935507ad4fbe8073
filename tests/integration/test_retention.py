"""Retention (privacy/retention.py, privacy/purge.py): the periods a company sets
in bot/data/retention.yml, which leads are due, and the purge: due leads erased and
audited, old transcripts and handoff messages deleted, everything else kept; a dry
run deletes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from rasa.core.tracker_store import SerializedTrackerAsText
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import text, update

from conversations.texts import SQLiteTexts
from crm_adapter.port import Consent, Visit
from crm_adapter.store import LocalCrm
from crm_adapter.store.models import Contact
from handoff.store import HandoffStore, NewHandoff
from lotse.migrate import migrated_engine
from privacy.purge import DataPurge
from privacy.retention import (
    ANONYMOUS,
    UNCONVERTED,
    Candidate,
    RetentionError,
    RetentionPolicy,
    due,
    load_retention_policy,
)
from wiring.services import open_personal_stores

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)
POLICY = RetentionPolicy(timedelta(days=90), timedelta(days=365), timedelta(days=180))


def days_ago(n: int) -> datetime:
    return NOW - timedelta(days=n)


def test_the_shipped_periods_and_a_bad_one(tmp_path: Path) -> None:
    assert load_retention_policy() == POLICY
    bad = tmp_path / "retention.yml"
    bad.write_text("retention:\n  anonymous_conversations_days: 0\n  unconverted_leads_days: 1\n"
                   "  transcripts_days: 1\n")  # fmt: skip
    with pytest.raises(RetentionError, match="anonymous_conversations_days"):
        load_retention_policy(bad)
    bad.write_text("retention:\n  unconverted_leads_days: 1\n")
    with pytest.raises(RetentionError, match="anonymous_conversations_days"):
        load_retention_policy(bad)


@pytest.mark.parametrize(("identified", "consented", "stage", "idle", "expected"), [
    (False, False, None, 91, ANONYMOUS),
    (False, False, None, 89, None),
    (False, True, None, 400, None),  # consented: no longer anonymous, no email yet
    (True, True, "marketing_qualified_lead", 366, UNCONVERTED),
    (True, True, "marketing_qualified_lead", 364, None),
    (True, True, "sales_qualified_lead", 3000, None),
    (True, False, "customer", 3000, None),
])  # fmt: skip
def test_which_leads_are_due(identified, consented, stage, idle, expected) -> None:
    candidate = Candidate(1, identified, consented, stage, days_ago(idle))
    assert due(candidate, NOW, POLICY) == expected


def seen(engine, conversation: str, at: datetime, email: str | None = None) -> int:
    crm = LocalCrm(engine, clock=lambda: at)
    lead = crm.lead_for(Visit(conversation, "rest"))
    if email:
        crm.record_consent(lead.lead_id, Consent("lead_contact", "v1", "Ok?", "de", "rest", at))
        crm.identify(lead.lead_id, email, freemail=False)
    return lead.lead_id


def test_the_purge_erases_what_is_due_and_keeps_the_rest(tmp_path: Path) -> None:
    engine = migrated_engine(f"sqlite:///{tmp_path / 'lotse.db'}")
    handoffs = HandoffStore(engine)  # brings the schema up to date
    old_anonymous = seen(engine, "web-old", days_ago(100))
    recent_anonymous = seen(engine, "web-new", days_ago(10))
    old_lead = seen(engine, "web-lead", days_ago(400), "old@kunde.example")
    customer = seen(engine, "web-customer", days_ago(400), "customer@kunde.example")
    with engine.begin() as c:
        c.execute(update(Contact).where(Contact.id == customer).values(stage="customer"))
    handoff = handoffs.request(NewHandoff("web-customer", "asked", "de", "sales", "sales",
                                          timedelta(minutes=2)))  # fmt: skip
    handoffs.add_message("web-customer", "visitor", "alt", handoff.id, now=days_ago(200))
    handoffs.add_message("web-customer", "visitor", "neu", handoff.id, now=days_ago(1))
    texts = SQLiteTexts(str(tmp_path / "tracker.db"))
    for conversation, age in (("web-customer", 200), ("web-new", 10)):
        event = UserUttered("Hallo", timestamp=days_ago(age).timestamp())
        tracker = DialogueStateTracker.from_events(conversation, [event])
        texts[conversation] = SerializedTrackerAsText.serialise_tracker(tracker)
    stores = open_personal_stores(f"sqlite:///{tmp_path / 'lotse.db'}", tmp_path / "tracker.db")
    purge = DataPurge(stores, POLICY)

    counted = purge.run(NOW, dry_run=True)
    assert (counted.leads, counted.transcripts) == ({ANONYMOUS: 1, UNCONVERTED: 1}, 1)
    assert "web-customer" in texts and LocalCrm(engine).lead(old_lead).email is not None

    done = purge.run(NOW)
    assert (done.leads, done.transcripts, done.handoff_messages) == (
        {ANONYMOUS: 1, UNCONVERTED: 1},
        1,
        1,
    )
    crm = LocalCrm(engine)
    assert crm.find_by_email("old@kunde.example") is None
    assert all(c.startswith("erased:") for c in crm.lead(old_anonymous).conversation_ids)
    assert crm.lead(recent_anonymous).conversation_ids == ["web-new"]
    assert crm.lead(customer).email == "customer@kunde.example"
    assert sorted(texts) == ["web-new"]
    assert [m.text for m in handoffs.messages("web-customer")] == ["neu"]
    with engine.connect() as c:
        audit = c.execute(text("SELECT leads, requested_by FROM privacy_audit")).all()
    assert [tuple(row) for row in audit] == [(2, "retention")]
    assert purge.run(NOW).leads == {}  # nothing due twice
