"""The HubSpot connector (crm_adapter/connectors/hubspot.py) against a local fake of
HubSpot's CRM API (tests/support/fake_hubspot.py): what lands in the CRM, what a person's edit
keeps, what a redelivery does not repeat, and every error mapped to retry, give up, or
fix the credentials."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from crm_adapter.connectors.hubspot import HubSpotConnector, hubspot_from_config
from crm_adapter.delivery import (
    ConnectorConfigError,
    CrmDeliveryError,
    CrmEvent,
    DeliveryAuthError,
    Link,
    PermanentDeliveryError,
    RetryableDeliveryError,
)
from crm_adapter.field_map import HUBSPOT_FIELDS, HUBSPOT_STAGES, field_map
from tests.support.fake_hubspot import FakeHubSpot
from tests.support.fake_servers import unused_port

TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"
EMAIL = "anna.schmidt@example.com"
SALES = {"staff_id": "s-7", "email": "jonas@lotse.example"}
CONSENT = {
    "purpose": "sales_contact",
    "text_version": "2026-10",
    "given_at": "2026-11-25T09:58:00+00:00",
    "legal_basis": "consent, Art. 6(1)(a) GDPR",
}


def contact(**changes: Any) -> dict[str, Any]:
    base = {
        "email": EMAIL, "name": "Anna Schmidt", "phone": "+49 30 1234567",
        "company": "Acme GmbH", "stage": "lead", "fit": 40, "interest": 20,
        "consent": CONSENT, "answers": {"need": "CRM sync", "employees": "50"}, "owner": None,
    }  # fmt: skip
    return {**base, **changes}


def event(
    kind: str = "contact.identified",
    change: dict[str, Any] | None = None,
    event_id: str = "e1",
    **contact_changes: Any,
) -> CrmEvent:
    payload = {"contact": contact(**contact_changes), "change": change or {}}
    return CrmEvent(event_id, kind, 12, payload, "2026-11-25T10:00:00+00:00")


def answer(attribute: str, value: str, event_id: str, **contact_changes: Any) -> CrmEvent:
    change = {"attribute": attribute, "value": value, "status": "answered", "source": "chat"}
    return event("answer.saved", change, event_id, **contact_changes)


def task_event(event_id: str = "t1", assignee: dict | None = SALES) -> CrmEvent:
    change = {"kind": "callback", "note": "Wants a call about <pricing>",
              "due_at": "2026-11-26T09:00:00+01:00", "assignee": assignee}  # fmt: skip
    return event("task.created", change, event_id)


@pytest.fixture
def hubspot() -> Iterator[FakeHubSpot]:
    with FakeHubSpot(token=TOKEN) as fake:
        fake.add_owner("501", "jonas@lotse.example", "Jonas", "Berg")
        yield fake


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as opened:
        yield opened


def connect(fake: FakeHubSpot, session: requests.Session, **config: Any) -> HubSpotConnector:
    options = {key: config.pop(key) for key in ("token", "timeout", "owners") if key in config}
    return HubSpotConnector(
        token=options.get("token", TOKEN),
        fields=field_map(HUBSPOT_FIELDS, HUBSPOT_STAGES, config),
        base_url=fake.url,
        session=session,
        timeout=options.get("timeout", 5.0),
        owners=options.get("owners", {}),
    )


def only_contact(fake: FakeHubSpot) -> tuple[str, dict[str, Any]]:
    [(record_id, record)] = fake.objects["contacts"].items()
    return record_id, record["properties"]


# ---------------------------------------------------------------------- contacts


def test_a_new_contact_is_created_with_company_and_a_note_of_the_answers(hubspot, session):
    link = connect(hubspot, session).deliver(event(), Link())

    record_id, properties = only_contact(hubspot)
    assert properties == {
        "email": EMAIL, "firstname": "Anna", "lastname": "Schmidt", "phone": "+49 30 1234567",
        "company": "Acme GmbH", "lifecyclestage": "lead", "lotse_fit_score": "40",
        "lotse_interest_score": "20", "lotse_consent": "granted",
        "lotse_consent_legal_basis": "consent, Art. 6(1)(a) GDPR",
        "lotse_consent_given_at": "2026-11-25T09:58:00+00:00",
        "lotse_consent_text_version": "2026-10", "lotse_need": "CRM sync",
        "lotse_employees": "50",
    }  # fmt: skip
    [company] = hubspot.linked("companies", record_id)
    assert company["properties"] == {"name": "Acme GmbH"}
    [note] = hubspot.linked("notes", record_id)
    body = note["properties"]["hs_note_body"]
    assert "<strong>need:</strong> CRM sync" in body and "lotse-event-e1" in body
    assert note["properties"]["hs_timestamp"] == "2026-11-25T10:00:00+00:00"
    assert ("note", note["id"], "contact", record_id, 202) in hubspot.associations
    assert link.remote_id == record_id
    assert link.sent["lotse_need"] == "CRM sync"
    assert link.sent["__company_id:Acme GmbH"] == company["id"]
    assert {r.headers.get("Authorization") for r in hubspot.requests} == {f"Bearer {TOKEN}"}


def test_an_identified_contact_without_answers_gets_no_note(hubspot, session):
    connect(hubspot, session).deliver(event(answers={}), Link())
    record_id, _ = only_contact(hubspot)
    assert hubspot.linked("notes", record_id) == []


def test_a_second_event_updates_the_same_record_and_writes_only_what_changed(hubspot, session):
    hub = connect(hubspot, session)
    link = hub.deliver(event(), Link())
    later = event("score.changed", {"events": [{"axis": "fit", "cause": "employees 50",
                  "change": 20, "value_after": 60}]}, "e2", fit=60)  # fmt: skip
    link = hub.deliver(later, link)

    record_id, properties = only_contact(hubspot)
    assert properties["lotse_fit_score"] == "60"
    [patch] = hubspot.calls("PATCH")
    assert patch.path == f"/crm/v3/objects/contacts/{record_id}"
    assert patch.body == {"properties": {"lotse_fit_score": 60}}
    assert len(hubspot.linked("notes", record_id)) == 2
    assert len(hubspot.objects["companies"]) == 1  # a score change does not touch companies
    assert link.remote_id == record_id and link.sent["lotse_fit_score"] == 60


def test_a_contact_known_by_email_is_updated_not_created(hubspot, session):
    existing = hubspot.add_contact(email="Anna.Schmidt@Example.com", firstname="Anna")
    link = connect(hubspot, session).deliver(event(), Link())
    assert link.remote_id == existing
    assert len(hubspot.objects["contacts"]) == 1
    assert hubspot.calls("POST", "/crm/v3/objects/contacts") == []
    assert hubspot.contact(existing)["lastname"] == "Schmidt"


def test_a_409_race_resolves_to_the_existing_record(hubspot, session):
    hubspot.race_create(email=EMAIL, lastname="Schmidt-Meyer")
    link = connect(hubspot, session).deliver(event(), Link())

    record_id, properties = only_contact(hubspot)
    assert link.remote_id == record_id
    assert properties["lastname"] == "Schmidt-Meyer"  # theirs: filled by somebody else
    assert properties["firstname"] == "Anna" and properties["lotse_fit_score"] == "40"
    assert "lastname" not in link.sent
    assert len(hubspot.linked("notes", record_id)) == 1


def test_a_linked_record_that_is_gone_is_found_again_by_email(hubspot, session):
    hub = connect(hubspot, session)
    link = hub.deliver(event(), Link())
    hubspot.objects["contacts"].clear()  # deleted in HubSpot

    link = hub.deliver(answer("need", "CRM sync", "e2"), link)
    record_id, properties = only_contact(hubspot)
    assert link.remote_id == record_id and properties["email"] == EMAIL
    assert not any(key.startswith("__company_id:") for key in link.sent)


@pytest.mark.parametrize(("precedence", "kept"), [("crm", True), ("lotse", False)])
def test_a_persons_edit_wins_under_crm_precedence_but_owned_fields_are_always_written(
    hubspot, session, precedence, kept
):
    hub = connect(hubspot, session, precedence=precedence)
    link = hub.deliver(event(), Link())
    record_id, _ = only_contact(hubspot)
    hubspot.set_property(record_id, "phone", "+49 30 999")  # edited in HubSpot's UI
    hubspot.set_property(record_id, "lotse_fit_score", "5")
    hubspot.set_property(record_id, "lotse_consent_text_version", "old")

    hub.deliver(answer("employees", "50", "e2", phone="+49 30 1234567", interest=30), link)
    properties = hubspot.contact(record_id)
    assert properties["phone"] == ("+49 30 999" if kept else "+49 30 1234567")
    assert properties["lotse_fit_score"] == "40"
    assert properties["lotse_consent_text_version"] == "2026-10"
    assert properties["lotse_interest_score"] == "30"


def test_a_value_lotse_wrote_stays_lotses_to_change(hubspot, session):
    hub = connect(hubspot, session)
    link = hub.deliver(event(), Link())
    link = hub.deliver(answer("need", "ERP sync", "e2", answers={"need": "ERP sync"}), link)
    record_id, properties = only_contact(hubspot)
    assert properties["lotse_need"] == "ERP sync"


def test_a_write_whose_answer_was_lost_still_counts_as_lotses(hubspot, session):
    hub = connect(hubspot, session, timeout=0.3)
    link = hub.deliver(event(), Link())
    record_id = link.remote_id
    hubspot.fail(hang=3, apply=True, method="PATCH")
    erp = answer("need", "ERP sync", "e2", answers={"need": "ERP sync"})
    with pytest.raises(RetryableDeliveryError):
        hub.deliver(erp, link)
    link = hub.deliver(erp, link)  # the retry finds the value already there
    assert link.sent["lotse_need"] == "ERP sync"

    both = answer("need", "ERP and CRM", "e3", answers={"need": "ERP and CRM"})
    hub.deliver(both, link)
    assert hubspot.contact(record_id)["lotse_need"] == "ERP and CRM"


def test_the_lifecycle_stage_never_moves_backwards(hubspot, session):
    hub = connect(hubspot, session, precedence="lotse")
    link = hub.deliver(event(stage="marketing_qualified_lead"), Link())
    record_id, _ = only_contact(hubspot)
    hubspot.set_property(record_id, "lifecyclestage", "customer")

    change = {"old": "marketing_qualified_lead", "new": "sales_qualified_lead", "cause": "fit"}
    link = hub.deliver(event("stage.changed", change, "e2", stage="sales_qualified_lead"), link)
    assert hubspot.contact(record_id)["lifecyclestage"] == "customer"
    assert all("lifecyclestage" not in r.body["properties"] for r in hubspot.calls("PATCH"))

    hubspot.set_property(record_id, "lifecyclestage", "lead")
    hub.deliver(event("stage.changed", change, "e3", stage="sales_qualified_lead"), link)
    assert hubspot.contact(record_id)["lifecyclestage"] == "salesqualifiedlead"


def test_a_company_answer_associates_the_company_once(hubspot, session):
    hub = connect(hubspot, session)
    link = hub.deliver(event(company=None), Link())
    assert hubspot.objects["companies"] == {}
    hubspot.add_contact(email="other@example.com")
    known = hubspot._create("companies", {"name": "Acme GmbH"})["id"]

    link = hub.deliver(answer("company", "Acme GmbH", "e2"), link)
    link = hub.deliver(answer("company", "Acme GmbH", "e3"), link)
    record_id = link.remote_id
    assert [c["id"] for c in hubspot.linked("companies", record_id)] == [known]
    assert len(hubspot.objects["companies"]) == 1
    assert len(hubspot.calls("POST", "/crm/v3/objects/companies/search")) == 1
    assert len(hubspot.calls("PUT", "/crm/v4/")) == 1


# ---------------------------------------------------------------------- owners and tasks


def test_the_owner_is_looked_up_by_email_once_and_written(hubspot, session):
    hub = connect(hubspot, session)
    link = hub.deliver(event(owner=SALES), Link())
    hub.deliver(answer("need", "CRM sync", "e2", owner=SALES), link)

    record_id, properties = only_contact(hubspot)
    assert properties["hubspot_owner_id"] == "501"
    assert len(hubspot.calls("GET", "/crm/v3/owners")) == 1
    assert hubspot.calls("GET", "/crm/v3/owners")[0].query == {
        "email": "jonas@lotse.example", "limit": "1"
    }  # fmt: skip
    assert {n["properties"]["hubspot_owner_id"] for n in hubspot.linked("notes", record_id)} == {
        "501"
    }


def test_configured_owners_override_the_lookup_and_a_missing_owner_is_no_error(hubspot, session):
    connect(hubspot, session, owners={"s-7": "777"}).deliver(event(owner=SALES), Link())
    _, properties = only_contact(hubspot)
    assert properties["hubspot_owner_id"] == "777"
    assert hubspot.calls("GET", "/crm/v3/owners") == []

    stranger = {"staff_id": "s-9", "email": "nobody@lotse.example"}
    connect(hubspot, session).deliver(event(event_id="e2", owner=stranger), Link())
    assert hubspot.contact(hubspot.contact_id(EMAIL))["hubspot_owner_id"] == "777"


def test_a_persons_owner_change_wins_under_crm_precedence(hubspot, session):
    hub = connect(hubspot, session)
    link = hub.deliver(event(owner=SALES), Link())
    record_id, _ = only_contact(hubspot)
    hubspot.set_property(record_id, "hubspot_owner_id", "600")
    hub.deliver(answer("need", "CRM sync", "e2", owner=SALES), link)
    assert hubspot.contact(record_id)["hubspot_owner_id"] == "600"


def test_a_task_is_created_for_its_assignee_and_associated(hubspot, session):
    hub = connect(hubspot, session)
    link = hub.deliver(event(), Link())
    hub.deliver(task_event(), link)

    record_id = link.remote_id
    [task] = hubspot.linked("tasks", record_id)
    properties = task["properties"]
    assert {k: v for k, v in properties.items() if k != "hs_task_body"} == {
        "hs_timestamp": "2026-11-26T09:00:00+01:00", "hs_task_subject": "Lotse: call back",
        "hs_task_status": "NOT_STARTED", "hs_task_priority": "HIGH", "hs_task_type": "CALL",
        "hubspot_owner_id": "501",
    }  # fmt: skip
    assert "Wants a call about &lt;pricing&gt;" in properties["hs_task_body"]
    assert "lotse-event-t1" in properties["hs_task_body"]
    assert ("task", task["id"], "contact", record_id, 204) in hubspot.associations
    assert len(hubspot.linked("notes", record_id)) == 2


def test_redelivering_an_event_creates_no_second_note_or_task(hubspot, session):
    hub = connect(hubspot, session)
    link = hub.deliver(event(), Link())
    hub.deliver(task_event(), link)
    hub.deliver(task_event(), link)
    hub.deliver(event(), Link())  # the worker lost the link, too

    record_id, _ = only_contact(hubspot)
    assert len(hubspot.linked("notes", record_id)) == 2
    assert len(hubspot.linked("tasks", record_id)) == 1
    posts = [r.path for r in hubspot.calls("POST", "/crm/v3/objects/notes")]
    assert posts.count("/crm/v3/objects/notes/search") == 4
    assert posts.count("/crm/v3/objects/notes") == 2
    assert len(hubspot.objects["companies"]) == 1


def test_a_note_that_landed_before_a_timeout_is_not_created_again(hubspot, session):
    hub = connect(hubspot, session, timeout=0.3)
    hubspot.fail(hang=3, apply=True, method="POST", path="/crm/v3/objects/notes", exact=True)
    with pytest.raises(RetryableDeliveryError, match="timed out"):
        hub.deliver(event(), Link())
    link = hub.deliver(event(), Link())
    assert len(hubspot.linked("notes", link.remote_id)) == 1


# ---------------------------------------------------------------------- consent withdrawn


def withdrawal(event_id: str = "w1") -> CrmEvent:
    payload = {"contact": {"email": EMAIL}, "change": {"withdrawn_at": "2026-11-27T08:00:00Z"}}
    return CrmEvent(event_id, "consent.withdrawn", 12, payload, "2026-11-27T08:00:00+00:00")


def test_a_withdrawal_marks_the_consent_and_adds_a_note(hubspot, session):
    hub = connect(hubspot, session)
    link = hub.deliver(event(), Link())
    assert hub.deliver(withdrawal(), link) == Link()
    assert hub.deliver(withdrawal(), link) == Link()  # redelivered

    record_id, properties = only_contact(hubspot)
    assert properties["lotse_consent"] == "withdrawn"
    notes = hubspot.linked("notes", record_id)
    assert len(notes) == 2 and "Lotse: consent withdrawn" in notes[1]["properties"]["hs_note_body"]


def test_a_withdrawal_can_gdpr_delete_the_contact(hubspot, session):
    hub = connect(hubspot, session)
    link = hub.deliver(event(), Link())
    hub.on_withdrawal = "delete"
    assert hub.deliver(withdrawal(), link) == Link()

    assert hubspot.objects["contacts"] == {}
    [delete] = hubspot.calls("POST", "/crm/v3/objects/contacts/gdpr-delete")
    assert delete.body == {"objectId": link.remote_id}
    assert hub.deliver(withdrawal(), link) == Link()  # nothing left to do


def test_a_merged_contacts_withdrawal_finds_its_record_by_the_link_alone(hubspot, session):
    hub = connect(hubspot, session)
    link = hub.deliver(event(), Link())
    payload = {"contact": {"email": None}, "change": {"withdrawn_at": "2026-11-27T08:00Z"}}
    merged = CrmEvent("w2", "consent.withdrawn", 13, payload, "2026-11-27T08:00:00+00:00")
    assert hub.deliver(merged, link) == Link()
    assert only_contact(hubspot)[1]["lotse_consent"] == "withdrawn"


def test_a_withdrawal_for_an_unknown_contact_does_nothing(hubspot, session):
    assert connect(hubspot, session).deliver(withdrawal(), Link()) == Link()
    assert [r.method for r in hubspot.requests] == ["GET"]


# ---------------------------------------------------------------------- errors


def test_a_wrong_token_is_an_auth_error(hubspot, session):
    with pytest.raises(DeliveryAuthError, match="HubSpot: reading a contact") as raised:
        connect(hubspot, session, token="pat-wrong").deliver(event(), Link())
    assert "401" in str(raised.value)


@pytest.mark.parametrize(
    ("fault", "retry_after"),
    [
        ({"status": 429, "headers": {"Retry-After": "7"}}, 7.0),
        ({"status": 429}, None),
        ({"status": 500}, None),
        ({"status": 502, "path": "/crm/v3/objects/notes"}, None),
    ],
)
def test_rate_limits_and_server_errors_are_retryable(hubspot, session, fault, retry_after):
    hubspot.fail(**fault)
    with pytest.raises(RetryableDeliveryError) as raised:
        connect(hubspot, session).deliver(event(), Link())
    assert raised.value.retry_after == retry_after
    assert str(raised.value).startswith("HubSpot: ")
    connect(hubspot, session).deliver(event(), Link())  # the retry lands
    record_id, _ = only_contact(hubspot)
    assert len(hubspot.linked("notes", record_id)) == 1


def test_a_hanging_hubspot_is_a_retryable_timeout(hubspot, session):
    hubspot.fail(hang=5)
    started = time.monotonic()
    with pytest.raises(RetryableDeliveryError, match="timed out"):
        connect(hubspot, session, timeout=0.3).deliver(event(), Link())
    assert time.monotonic() - started < 2


def test_an_unreachable_hubspot_is_retryable(session):
    hub = HubSpotConnector(token=TOKEN, base_url=f"http://127.0.0.1:{unused_port()}",
                           session=session, timeout=1.0)  # fmt: skip
    with pytest.raises(RetryableDeliveryError, match="not reachable"):
        hub.deliver(event(), Link())


def test_a_validation_error_on_the_note_is_permanent(hubspot, session):
    body = {"status": "error", "message": "Property values were not valid",
            "correlationId": "c-1", "category": "VALIDATION_ERROR"}  # fmt: skip
    hubspot.fail(400, method="POST", path="/crm/v3/objects/notes", exact=True, body=body)
    with pytest.raises(PermanentDeliveryError, match="HubSpot: creating a note.*400"):
        connect(hubspot, session).deliver(event(), Link())


def test_errors_never_show_the_token_an_email_or_a_payload_value(hubspot, session):
    raised: list[CrmDeliveryError] = []
    for status in (401, 403, 400, 404, 429, 500):
        hubspot.fail(status, path="/crm/v3/objects/contacts")
        try:
            connect(hubspot, session).deliver(event(event_id=f"x{status}"), Link())
        except CrmDeliveryError as error:
            raised.append(error)
    assert len(raised) == 5  # a 404 on the lookup by email just means "create it"
    for error in raised:
        shown = f"{error!s} {error!r}"
        for secret in (TOKEN, EMAIL, "Anna", "Acme", "CRM sync"):
            assert secret not in shown


# ---------------------------------------------------------------------- config


def test_config_builds_a_connector_from_the_environment(hubspot, session):
    config = {"token_env": "CRM_TOKEN", "base_url": hubspot.url, "timeout": 2,
              "owners": {"s-7": 777}, "on_withdrawal": "delete", "precedence": "lotse",
              "fields": {"answer.need": "product_interest", "phone": None}}  # fmt: skip
    hub = hubspot_from_config(config, {"CRM_TOKEN": f" {TOKEN}\n"}, session)
    assert (hub.owners, hub.on_withdrawal, hub.timeout) == ({"s-7": "777"}, "delete", 2)
    hub.deliver(event(owner=SALES), Link())
    _, properties = only_contact(hubspot)
    assert properties["product_interest"] == "CRM sync" and "phone" not in properties
    assert properties["hubspot_owner_id"] == "777"


def test_config_defaults_to_hubspot_token_and_the_public_api():
    hub = hubspot_from_config({}, {"HUBSPOT_TOKEN": TOKEN})
    assert (hub.base_url, hub.on_withdrawal, hub.name) == ("https://api.hubapi.com", "mark",
                                                           "hubspot")  # fmt: skip
    assert hub.fields.precedence == "crm"
    assert TOKEN not in repr(hub) and "token" not in repr(hub)


@pytest.mark.parametrize(
    ("config", "env", "named"),
    [
        ({}, {}, "HUBSPOT_TOKEN"),
        ({"token_env": "MY_HUBSPOT"}, {"HUBSPOT_TOKEN": TOKEN}, "MY_HUBSPOT"),
        ({"token_env": "MY_HUBSPOT"}, {"MY_HUBSPOT": "  "}, "MY_HUBSPOT"),
        ({"token_env": ""}, {}, "token_env"),
        ({"token": TOKEN, "colour": "red"}, {"HUBSPOT_TOKEN": TOKEN}, "colour, token"),
        ({"precedence": "newest"}, {"HUBSPOT_TOKEN": TOKEN}, "precedence"),
        ({"fields": {"shoe_size": "x"}}, {"HUBSPOT_TOKEN": TOKEN}, "shoe_size"),
        ({"on_withdrawal": "forget"}, {"HUBSPOT_TOKEN": TOKEN}, "on_withdrawal"),
        ({"timeout": 0}, {"HUBSPOT_TOKEN": TOKEN}, "timeout"),
        ({"timeout": "fast"}, {"HUBSPOT_TOKEN": TOKEN}, "timeout"),
        ({"base_url": "ftp://x"}, {"HUBSPOT_TOKEN": TOKEN}, "base_url"),
        ({"owners": ["s-7"]}, {"HUBSPOT_TOKEN": TOKEN}, "owners"),
    ],
)
def test_bad_config_names_the_entry_and_never_the_token(config, env, named):
    with pytest.raises(ConnectorConfigError) as raised:
        hubspot_from_config(config, env)
    assert named in str(raised.value)
    assert TOKEN not in f"{raised.value!s} {raised.value!r}"
