"""The Dynamics 365 connector (crm_adapter/connectors/dynamics.py) against a local fake of
Dataverse and of the Entra ID token endpoint (tests/support/fake_dynamics.py): the lead it
creates and updates, precedence of a person's edits, owners, notes and tasks that a
redelivery never duplicates, token caching and refresh, and every error mapped to retry,
give up, or fix the credentials. Assertions are on the fake's state."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest

from crm_adapter.connectors.dynamics import (
    NAMESPACE,
    DynamicsConnector,
    dynamics_from_config,
)
from crm_adapter.connectors.oauth import ClientCredentials
from crm_adapter.delivery import (
    ConnectorConfigError,
    CrmEvent,
    DeliveryAuthError,
    Link,
    PermanentDeliveryError,
    RetryableDeliveryError,
)
from tests.support.fake_dynamics import API, CLIENT_ID, CLIENT_SECRET, FakeDynamics

ENV = {"DYNAMICS_CLIENT_SECRET": CLIENT_SECRET}
EMAIL = "anna.schmidt@example.com"
CONTACT: dict[str, Any] = {
    "email": EMAIL, "name": "Anna Schmidt", "phone": "+49 30 1234567",
    "company": "Schmidt GmbH", "stage": "marketing_qualified_lead", "fit": 80, "interest": 40,
    "consent": {"purpose": "sales_contact", "text_version": "v3",
                "given_at": "2026-11-25T10:00:00+01:00",
                "legal_basis": "consent, Art. 6(1)(a) GDPR"},
    "answers": {"need": "CRM integration"}, "owner": None,
}  # fmt: skip
COLUMNS = {
    "emailaddress1": EMAIL, "firstname": "Anna", "lastname": "Schmidt",
    "telephone1": "+49 30 1234567", "companyname": "Schmidt GmbH",
    "lotse_stage": "marketing_qualified_lead", "lotse_fitscore": 80, "lotse_interestscore": 40,
    "lotse_consent": "granted", "lotse_consentlegalbasis": "consent, Art. 6(1)(a) GDPR",
    "lotse_consentgivenat": "2026-11-25T10:00:00+01:00", "lotse_consenttextversion": "v3",
    "lotse_need": "CRM integration",
}  # fmt: skip
_ids = iter(range(1, 10_000))


def event(
    kind: str = "contact.identified", change: dict[str, Any] | None = None,
    event_id: str | None = None, **contact: Any,
) -> CrmEvent:  # fmt: skip
    payload = {"contact": {**CONTACT, **contact}, "change": change or {}}
    return CrmEvent(event_id or f"evt-{next(_ids)}", kind, 7, payload,
                    "2026-11-25T10:00:00+00:00")  # fmt: skip


def answer(key: str = "need", value: str = "CRM integration", **contact: Any) -> CrmEvent:
    change = {"attribute": key, "value": value, "status": "confirmed", "source": "chat"}
    return event("answer.saved", change, **contact)


def config(fake: FakeDynamics, **extra: Any) -> dict[str, Any]:
    return {"base_url": fake.url, "client_id": CLIENT_ID, "token_url": fake.token_url, **extra}


def connector(fake: FakeDynamics, **extra: Any) -> DynamicsConnector:
    return dynamics_from_config(config(fake, **extra), ENV)


@pytest.fixture
def fake():
    with FakeDynamics() as server:
        yield server


def only(rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
    [row] = rows.values()
    return row


# ------------------------------------------------------------------- the lead


def test_a_first_event_creates_a_lead_with_the_mapped_columns_and_keeps_its_id(fake):
    link = connector(fake).deliver(event(), Link())

    lead = only(fake.leads)
    assert {column: lead[column] for column in COLUMNS} == COLUMNS
    assert lead["subject"] == "Lotse: website chat"
    assert link.remote_id == lead["leadid"]
    assert link.sent == COLUMNS
    [post] = fake.requests_to("POST", f"{API}/leads")
    assert post.headers["mscrm.suppressduplicatedetection"] == "false"
    for request in fake.requests_to("GET") + fake.requests_to("POST") + fake.requests_to("PATCH"):
        assert request.headers["authorization"].startswith("Bearer fake-access-token-")
        assert request.headers["odata-maxversion"] == "4.0"
        assert request.headers["odata-version"] == "4.0"
        assert request.headers["accept"] == "application/json"
        assert request.headers["content-type"] == "application/json; charset=utf-8"


def test_a_second_event_updates_the_same_lead_with_only_what_changed(fake):
    dynamics = connector(fake)
    link = dynamics.deliver(event(), Link())

    later = event("stage.changed", {"old": "marketing_qualified_lead",
                                    "new": "sales_qualified_lead"},
                  stage="sales_qualified_lead", fit=90)  # fmt: skip
    after = dynamics.deliver(later, link)

    assert after.remote_id == link.remote_id
    lead = only(fake.leads)
    assert (lead["lotse_stage"], lead["lotse_fitscore"]) == ("sales_qualified_lead", 90)
    [patch] = fake.requests_to("PATCH", f"{API}/leads")
    assert patch.path == f"{API}/leads({link.remote_id})"
    assert patch.headers["if-match"] == "*"
    assert patch.json() == {"lotse_stage": "sales_qualified_lead", "lotse_fitscore": 90}
    assert after.sent["lotse_fitscore"] == 90


def test_a_contact_without_a_link_is_found_by_email(fake):
    lead_id = fake.add_lead(emailaddress1="ANNA.SCHMIDT@example.com", lastname="Schmidt")

    link = connector(fake).deliver(answer(), Link())

    assert link.remote_id == lead_id
    assert len(fake.leads) == 1
    assert fake.requests_to("POST", f"{API}/leads") == []


def test_a_lead_deleted_in_dynamics_is_looked_up_again_and_created_anew(fake):
    dynamics = connector(fake)
    stale = Link("0b7c5f2e-1111-4222-8333-944444444444", {"telephone1": "+49 30 0"})

    link = dynamics.deliver(answer(), stale)

    lead = only(fake.leads)
    assert link.remote_id == lead["leadid"] != stale.remote_id
    assert "+49 30 0" not in link.sent.values()  # what was sent to the old record is gone


def test_duplicate_detection_412_updates_the_lead_somebody_else_created(fake):
    fake.create_before_next_post(emailaddress1=EMAIL, firstname="Anne")

    link = connector(fake).deliver(event(), Link())

    lead = only(fake.leads)
    assert link.remote_id == lead["leadid"]
    assert lead["firstname"] == "Anne"  # somebody else's value wins under precedence "crm"
    assert lead["lotse_fitscore"] == 80 and lead["lastname"] == "Schmidt"
    assert [r.method for r in fake.requests_to("POST", f"{API}/leads")] == ["POST"]


def test_a_post_whose_answer_was_lost_is_found_by_email_on_the_retry(fake):
    dynamics = connector(fake, timeout=0.3)
    fake.hang(5, method="POST", applied=True)

    with pytest.raises(RetryableDeliveryError):
        dynamics.deliver(event(), Link())
    link = dynamics.deliver(event(), Link())

    assert link.remote_id == only(fake.leads)["leadid"]


def test_a_persons_edit_is_kept_under_crm_precedence_but_owned_columns_are_written(fake):
    dynamics = connector(fake)
    link = dynamics.deliver(event(), Link())
    fake.edit_lead(link.remote_id, telephone1="+49 89 7654321", lotse_fitscore=5,
                   lotse_consent="")  # fmt: skip

    after = dynamics.deliver(answer(phone="+49 30 1111111"), link)

    lead = only(fake.leads)
    assert lead["telephone1"] == "+49 89 7654321"
    assert (lead["lotse_fitscore"], lead["lotse_consent"]) == (80, "granted")
    assert after.sent["telephone1"] == "+49 30 1234567"  # still what Lotse wrote last


def test_lotse_precedence_overwrites_a_persons_edit(fake):
    dynamics = connector(fake, precedence="lotse")
    link = dynamics.deliver(event(), Link())
    fake.edit_lead(link.remote_id, telephone1="+49 89 7654321")

    dynamics.deliver(answer(phone="+49 30 1111111"), link)

    assert only(fake.leads)["telephone1"] == "+49 30 1111111"


def test_the_field_map_of_the_config_is_used(fake):
    dynamics = connector(fake, fields={"phone": "mobilephone", "fit_score": None},
                         answer_template="lotse_q_{key}")  # fmt: skip

    dynamics.deliver(event(), Link())

    lead = only(fake.leads)
    assert lead["mobilephone"] == "+49 30 1234567" and lead["lotse_q_need"] == "CRM integration"
    assert "telephone1" not in lead and "lotse_fitscore" not in lead


# ------------------------------------------------------------------ owners


def test_the_owner_is_looked_up_once_and_assigned(fake):
    user = fake.add_user("max.mueller@vendor.example")
    owner = {"staff_id": "s-1", "email": "max.mueller@vendor.example"}
    dynamics = connector(fake)

    link = dynamics.deliver(event(owner=owner), Link())
    dynamics.deliver(answer("budget", "50k", owner=owner), link)
    dynamics.deliver(event(email="bo@example.com", owner=owner), Link())

    assert len(fake.requests_to("GET", f"{API}/systemusers")) == 1
    assert [lead["_ownerid_value"] for lead in fake.leads.values()] == [user, user]
    assert link.sent["ownerid"] == user
    posts = fake.requests_to("POST", f"{API}/leads")
    assert [p.json()["ownerid@odata.bind"] for p in posts] == [f"/systemusers({user})"] * 2
    assert not any(
        "ownerid@odata.bind" in r.json() for r in fake.requests_to("PATCH", f"{API}/leads")
    )


def test_a_new_owner_is_assigned_and_an_override_needs_no_lookup(fake):
    first = fake.add_user("max.mueller@vendor.example")
    second = str(uuid.uuid4())
    fake.add_user("eva.berg@vendor.example", second)
    dynamics = connector(fake, owners={"s-2": second})

    link = dynamics.deliver(event(owner={"staff_id": "s-1", "email": "max.mueller@vendor.example"}),
                            Link())  # fmt: skip
    dynamics.deliver(answer(owner={"staff_id": "s-2", "email": "eva.berg@vendor.example"}), link)

    assert only(fake.leads)["_ownerid_value"] == second != first
    [lookup] = fake.requests_to("GET", f"{API}/systemusers")
    assert "max.mueller" in lookup.query["$filter"]


def test_an_owner_unknown_to_dynamics_leaves_the_lead_unassigned(fake):
    link = connector(fake).deliver(event(owner={"staff_id": "s-9", "email": "x@vendor.example"}),
                                   Link())  # fmt: skip

    assert "_ownerid_value" not in only(fake.leads)
    assert "ownerid" not in link.sent


# ------------------------------------------------------------- notes, tasks


def test_every_event_becomes_a_structured_note_and_a_redelivery_adds_none(fake):
    dynamics = connector(fake)
    saved = answer("need", "CRM integration")

    link = dynamics.deliver(saved, Link())
    dynamics.deliver(saved, link)
    dynamics.deliver(saved, Link())

    note_id = str(uuid.uuid5(NAMESPACE, saved.event_id))
    assert list(fake.annotations) == [note_id]
    note = fake.annotations[note_id]
    assert note["subject"] == "Lotse: qualification answer"
    assert note["notetext"].splitlines() == [
        "Lotse: qualification answer", "Question: need", "Answer: CRM integration",
        "Status: confirmed", "Source: chat", f"lotse-event-{saved.event_id}",
    ]  # fmt: skip
    assert note["_objectid_value"] == link.remote_id
    assert len(fake.leads) == 1


def test_contact_identified_lists_the_answers_and_without_answers_adds_no_note(fake):
    dynamics = connector(fake)
    dynamics.deliver(event(), Link())
    assert "need: CRM integration" in only(fake.annotations)["notetext"]

    dynamics.deliver(event(email="bo@example.com", answers={}), Link())
    assert len(fake.annotations) == 1 and len(fake.leads) == 2


def test_task_created_adds_a_task_regarding_the_lead_once(fake):
    user = fake.add_user("max.mueller@vendor.example")
    change = {"kind": "callback", "note": "Tuesday morning", "due_at": "2026-11-26T09:00:00+01:00",
              "assignee": {"staff_id": "s-1", "email": "max.mueller@vendor.example"}}  # fmt: skip
    task_event = event("task.created", change)
    dynamics = connector(fake)

    link = dynamics.deliver(task_event, Link())
    dynamics.deliver(task_event, link)

    task_id = str(uuid.uuid5(NAMESPACE, f"{task_event.event_id}:task"))
    assert list(fake.tasks) == [task_id]
    task = fake.tasks[task_id]
    assert task["subject"] == "Lotse: call back"
    assert task["scheduledend"] == "2026-11-26T09:00:00+01:00"
    assert task["prioritycode"] == 2
    assert task["_regardingobjectid_value"] == link.remote_id
    assert task["_ownerid_value"] == user
    assert "Note: Tuesday morning" in task["description"]
    assert len(fake.annotations) == 1


# ---------------------------------------------------------- consent withdrawn


def withdrawn() -> CrmEvent:
    payload = {"contact": {"email": EMAIL}, "change": {"withdrawn_at": "2026-11-27T08:00:00Z"}}
    return CrmEvent(f"evt-{next(_ids)}", "consent.withdrawn", 7, payload, "2026-11-27T08:00Z")


def test_a_withdrawal_marks_the_lead_and_notes_it(fake):
    dynamics = connector(fake)
    link = dynamics.deliver(event(), Link())

    after = dynamics.deliver(withdrawn(), link)

    assert after == Link()
    lead = only(fake.leads)
    assert lead["lotse_consent"] == "withdrawn"
    assert lead["telephone1"] == "+49 30 1234567"
    notes = [n for n in fake.annotations.values() if n["subject"] == "Lotse: consent withdrawn"]
    assert [n["_objectid_value"] for n in notes] == [link.remote_id]


def test_a_withdrawal_in_delete_mode_deletes_the_lead_and_tolerates_it_gone(fake):
    dynamics = connector(fake, on_withdrawal="delete")
    link = dynamics.deliver(event(), Link())

    assert dynamics.deliver(withdrawn(), link) == Link()
    assert fake.leads == {}
    assert dynamics.deliver(withdrawn(), link) == Link()  # redelivered: nothing left
    [delete] = fake.requests_to("DELETE")
    assert delete.path == f"{API}/leads({link.remote_id})"


def test_a_merged_contacts_withdrawal_finds_its_lead_by_the_link_alone(fake):
    dynamics = connector(fake)
    link = dynamics.deliver(event(), Link())
    merged = withdrawn()
    merged = CrmEvent(merged.event_id, merged.kind, 8, {"contact": {"email": None},
                      "change": merged.payload["change"]}, merged.occurred_at)  # fmt: skip

    assert dynamics.deliver(merged, link) == Link()
    assert only(fake.leads)["lotse_consent"] == "withdrawn"
    assert dynamics.deliver(merged, Link()) == Link()  # nothing to find it by: nothing done


def test_a_withdrawal_for_an_unknown_contact_changes_nothing(fake):
    assert connector(fake).deliver(withdrawn(), Link()) == Link()
    assert fake.leads == {} and fake.annotations == {}
    assert [r.method for r in fake.requests_to("PATCH") + fake.requests_to("DELETE")] == []


def test_an_email_with_a_quote_is_escaped_in_the_filter(fake):
    dynamics = connector(fake)
    dynamics.deliver(event(email="o'brien+sales@example.com"), Link())

    link = dynamics.deliver(answer(email="o'brien+sales@example.com"), Link())

    assert link.remote_id == only(fake.leads)["leadid"]
    lookup = fake.requests_to("GET", f"{API}/leads")[-1]
    assert lookup.query["$filter"] == "emailaddress1 eq 'o''brien+sales@example.com'"
    assert "%27o%27%27brien%2Bsales%40example.com%27" in lookup.raw_query
    assert lookup.query["$top"] == "1"


# -------------------------------------------------------------------- tokens


def test_the_token_is_fetched_once_and_reused_for_several_events(fake):
    dynamics = connector(fake)
    link = dynamics.deliver(event(), Link())
    for _ in range(3):
        link = dynamics.deliver(answer(), link)

    assert fake.token_requests == 1
    assert len({r.headers["authorization"] for r in fake.requests_to("PATCH")}) == 1
    form = fake.requests_to("POST", fake.token_path)[0].form()
    assert form == {"grant_type": "client_credentials", "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET, "scope": f"{fake.url}/.default"}  # fmt: skip


def test_threads_delivering_at_once_share_one_token(fake):
    dynamics = connector(fake)
    errors: list[BaseException] = []

    def deliver(number: int) -> None:
        try:
            dynamics.deliver(event(email=f"visitor{number}@example.com"), Link())
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert errors == []
    assert fake.token_requests == 1 and len(fake.leads) == 4


def test_the_token_is_renewed_60_seconds_before_it_expires(fake):
    now = [1000.0]
    tokens = ClientCredentials(fake.token_url, CLIENT_ID, CLIENT_SECRET,
                               f"{fake.url}/.default", clock=lambda: now[0])  # fmt: skip
    dynamics = DynamicsConnector(fake.url, tokens)
    link = dynamics.deliver(event(), Link())

    now[0] += 3599 - 61
    link = dynamics.deliver(answer(), link)
    assert fake.token_requests == 1
    now[0] += 2
    dynamics.deliver(answer("budget", "50k"), link)
    assert fake.token_requests == 2


def test_a_401_from_dataverse_gets_a_new_token_and_one_retry(fake):
    dynamics = connector(fake)
    link = dynamics.deliver(event(), Link())
    fake.expire_tokens()
    before = len(fake.requests)

    dynamics.deliver(answer("budget", "50k"), link)

    assert fake.token_requests == 2
    refused, repeated = [r for r in fake.requests[before:] if r.path.startswith(API)][:2]
    assert (refused.method, refused.path) == (repeated.method, repeated.path)
    assert refused.headers["authorization"] != repeated.headers["authorization"]
    assert len(fake.annotations) == 2


def test_a_second_401_is_an_auth_error(fake):
    dynamics = connector(fake)
    fake.fail(401, times=2)

    with pytest.raises(DeliveryAuthError, match="Dynamics"):
        dynamics.deliver(event(), Link())
    assert fake.token_requests == 2
    dynamics.deliver(event(), Link())  # credentials fine again: it goes through
    assert len(fake.leads) == 1


def test_a_wrong_client_secret_is_an_auth_error_naming_entras_code_only(fake):
    dynamics = dynamics_from_config(config(fake), {"DYNAMICS_CLIENT_SECRET": "wrong~secret"})

    with pytest.raises(DeliveryAuthError) as raised:
        dynamics.deliver(event(), Link())

    assert "invalid_client" in str(raised.value) and "AADSTS7000215" in str(raised.value)
    assert "wrong~secret" not in str(raised.value)
    assert fake.requests_to("GET") == [] and fake.leads == {}


def test_an_unavailable_token_endpoint_is_retryable(fake):
    fake.fail(503, path=fake.token_path, retry_after=7)

    with pytest.raises(RetryableDeliveryError, match="access token") as raised:
        connector(fake).deliver(event(), Link())

    assert raised.value.retry_after == 7
    assert fake.requests_to("GET") == []


def test_neither_the_secret_nor_the_token_appears_in_errors_or_repr(fake):
    dynamics = connector(fake)
    dynamics.deliver(event(), Link())
    token = fake.requests_to("GET")[0].headers["authorization"].removeprefix("Bearer ")
    fake.fail(401, times=2)
    with pytest.raises(DeliveryAuthError) as refused:
        dynamics.deliver(answer(), Link())
    fake.fail(400)
    with pytest.raises(PermanentDeliveryError) as wrong:
        dynamics.deliver(answer(), Link())

    for text in (repr(dynamics), str(refused.value), str(wrong.value)):
        assert CLIENT_SECRET not in text and token not in text and EMAIL not in text
        assert "fake-access-token" not in text


# -------------------------------------------------------------------- errors


def test_service_protection_429_is_retryable_after_its_retry_after(fake):
    fake.throttle(retry_after=11)

    with pytest.raises(RetryableDeliveryError) as raised:
        connector(fake).deliver(event(), Link())

    assert raised.value.retry_after == 11
    assert "Dynamics" in str(raised.value) and "0x80072322" in str(raised.value)


@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error_is_retryable(fake, status):
    fake.fail(status, method="PATCH")

    with pytest.raises(RetryableDeliveryError, match=str(status)):
        connector(fake).deliver(event(), Link())


def test_a_timeout_is_retryable(fake):
    fake.hang(5)
    started = time.monotonic()

    with pytest.raises(RetryableDeliveryError, match="timed out"):
        connector(fake, timeout=0.3).deliver(event(), Link())

    assert time.monotonic() - started < 3


def test_a_column_missing_in_dynamics_is_a_permanent_error(fake):
    dynamics = connector(fake, fields={"phone": "mobile_phone_number"})

    with pytest.raises(PermanentDeliveryError, match="400"):
        dynamics.deliver(event(), Link())
    assert fake.leads == {}


def test_a_lead_deleted_between_read_and_update_is_retryable(fake):
    dynamics = connector(fake)
    link = dynamics.deliver(event(), Link())
    fake.fail(404, method="PATCH", path=f"{API}/leads", code="0x80040217")

    with pytest.raises(RetryableDeliveryError, match="deleted"):
        dynamics.deliver(answer(fit=99), link)


# -------------------------------------------------------------------- config


def test_the_config_defaults_to_entra_id_and_the_environment_scope():
    dynamics = dynamics_from_config(
        {"base_url": "https://contoso.crm4.dynamics.com/", "tenant_id": "t-1", "client_id": "c"},
        ENV,
    )
    assert dynamics.base_url == "https://contoso.crm4.dynamics.com"
    assert isinstance(dynamics.tokens, ClientCredentials)
    assert dynamics.tokens.token_url == ("https://login.microsoftonline.com/t-1/oauth2/v2.0/token")
    assert dynamics.tokens.scope == "https://contoso.crm4.dynamics.com/.default"
    assert dynamics.on_withdrawal == "mark" and dynamics.name == "dynamics"
    assert CLIENT_SECRET not in repr(dynamics)


@pytest.mark.parametrize(
    ("change", "env", "message"),
    [
        ({"base_url": None}, ENV, "base_url"),
        ({"client_id": ""}, ENV, "client_id"),
        ({"tenant_id": None}, ENV, "tenant_id"),
        ({}, {}, "DYNAMICS_CLIENT_SECRET"),
        ({"client_secret_env": "CRM_SECRET"}, ENV, "CRM_SECRET"),
        ({"colour": "blue"}, ENV, "colour"),
        ({"fields": {"shoe_size": "x"}}, ENV, "shoe_size"),
        ({"precedence": "whoever"}, ENV, "precedence"),
        ({"on_withdrawal": "shred"}, ENV, "on_withdrawal"),
        ({"timeout": 0}, ENV, "timeout"),
        ({"owners": {"s-1": "not-a-guid"}}, ENV, "owners"),
        ({"base_url": "contoso.crm4.dynamics.com"}, ENV, "base_url"),
    ],
)
def test_a_bad_config_names_the_entry(change, env, message):
    base = {"base_url": "https://contoso.crm4.dynamics.com", "tenant_id": "t", "client_id": "c"}
    settings = {key: value for key, value in {**base, **change}.items() if value is not None}

    with pytest.raises(ConnectorConfigError, match=message) as raised:
        dynamics_from_config(settings, env)

    assert CLIENT_SECRET not in str(raised.value)
