"""Field mapping and precedence (crm_adapter/field_map.py): defaults, config changes,
clear errors, and which values Lotse may write over what the CRM holds."""

from __future__ import annotations

import pytest

from crm_adapter.field_map import (
    HUBSPOT_FIELDS,
    HUBSPOT_STAGES,
    IDENTITY_STAGES,
    FieldMapError,
    field_map,
)

CONTACT = {"email": "anna@kunde.example", "name": "Anna Maria Schmidt", "phone": None,
           "company": "Kunde GmbH", "stage": "marketing_qualified_lead", "fit": 75,
           "interest": 20, "answers": {"need": "presses", "employees": "60"},
           "consent": {"legal_basis": "consent, Art. 6(1)(a) GDPR", "given_at": "2026-11-25",
                       "text_version": "v1"}}  # fmt: skip


def test_the_defaults_map_every_known_value_and_leave_out_unknown_ones():
    properties = field_map(HUBSPOT_FIELDS, HUBSPOT_STAGES, {}).properties(CONTACT)
    assert properties == {
        "email": "anna@kunde.example", "firstname": "Anna Maria", "lastname": "Schmidt",
        "company": "Kunde GmbH", "lifecyclestage": "marketingqualifiedlead",
        "lotse_fit_score": 75, "lotse_interest_score": 20, "lotse_consent": "granted",
        "lotse_consent_legal_basis": "consent, Art. 6(1)(a) GDPR",
        "lotse_consent_given_at": "2026-11-25", "lotse_consent_text_version": "v1",
        "lotse_need": "presses", "lotse_employees": "60",
    }  # fmt: skip


def test_config_renames_drops_and_maps_stages():
    config = {
        "fields": {"answer.need": "product_interest", "fit_score": None},
        "stages": {"marketing_qualified_lead": "lead"},
        "answer_template": "x_{key}",
    }
    properties = field_map(HUBSPOT_FIELDS, HUBSPOT_STAGES, config).properties(CONTACT)
    assert properties["product_interest"] == "presses" and properties["x_employees"] == "60"
    assert "lotse_fit_score" not in properties and "lotse_need" not in properties
    assert properties["lifecyclestage"] == "lead"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"fields": {"salary": "x"}}, "'salary' is not a Lotse field"),
        ({"fields": {"email": None}}, "email cannot be dropped"),
        ({"fields": {"phone": ""}}, "phone must name a CRM field"),
        ({"stages": {"vip": "x"}}, "'vip' is not a Lotse lifecycle stage"),
        ({"answer_template": "lotse_answer"}, "must contain {key}"),
        ({"precedence": "newest"}, "precedence must be one of crm, lotse"),
    ],
)
def test_a_bad_mapping_names_the_entry(config, message):
    with pytest.raises(FieldMapError, match=message):
        field_map(HUBSPOT_FIELDS, IDENTITY_STAGES, config)


def test_under_crm_precedence_a_persons_edit_stays_and_lotses_own_fields_are_written():
    fields = field_map(HUBSPOT_FIELDS, HUBSPOT_STAGES, {})
    desired = {"phone": "+49 30 2", "company": "Kunde GmbH", "lotse_fit_score": 80,
               "lotse_need": "software"}  # fmt: skip
    current = {"phone": "+49 30 1", "company": "KUNDE (edited)", "lotse_fit_score": "75",
               "lotse_need": ""}  # fmt: skip
    sent = {"phone": "+49 30 1", "company": "Kunde GmbH", "lotse_fit_score": 75}
    assert fields.writable(desired, current, sent) == {
        "phone": "+49 30 2",  # still what Lotse wrote: Lotse may change it
        "lotse_fit_score": 80,  # Lotse's own
        "lotse_need": "software",  # empty in the CRM
    }  # the company was edited by a person: kept
    lotse_wins = field_map(HUBSPOT_FIELDS, HUBSPOT_STAGES, {"precedence": "lotse"})
    assert "company" in lotse_wins.writable(desired, current, sent)


def test_the_email_is_corrected_only_where_lotse_wrote_it():
    for precedence in ("crm", "lotse"):
        fields = field_map(HUBSPOT_FIELDS, HUBSPOT_STAGES, {"precedence": precedence})
        new = {"email": "anna.neu@kunde.example"}
        assert fields.writable(new, {"email": "anna@kunde.example"},
                               {"email": "anna@kunde.example"}) == new  # fmt: skip
        assert fields.writable(new, {"email": "a.schmidt@kunde.example"},
                               {"email": "anna@kunde.example"}) == {}  # fmt: skip
