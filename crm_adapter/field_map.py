"""Which CRM field gets which of Lotse's values, and whether Lotse may overwrite it.

Lotse's fields (the names used in the `fields:` mapping of a connector's config):

    email, first_name, last_name, phone, company    the contact
    stage                                           the lifecycle stage (mapped through
                                                    `stages:` to the CRM's values)
    fit_score, interest_score                       the two scores
    consent, consent_legal_basis,                   "granted" (or "withdrawn"), the
    consent_given_at, consent_text_version          legal basis, when, which wording
    answer.<key>                                    a qualification answer, e.g.
                                                    answer.need, answer.employees

A connector starts from its defaults (`HUBSPOT_FIELDS`, `DYNAMICS_FIELDS`, listed in the
README); `fields:` in the config changes single entries (`answer.need: product_line`)
or drops one (`fit_score: null`). Answers without an entry go to `answer_template`
with the key filled in (`lotse_{key}`), unless the template is set to null.

Precedence (`precedence:` in the config):
- `crm` (the default): a field a person edited in the CRM keeps its value. Lotse writes
  a field only when it is empty there, or still holds what Lotse last wrote (the
  `Link.sent` values); anything else is somebody else's edit.
- `lotse`: Lotse's values always win.
Lotse's own fields (the scores and the consent) are written under either rule. The
email, the key, follows the `crm` rule under either: a visitor's corrected address
replaces the one Lotse wrote, never one a person entered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from crm_adapter.sync_event import split_name

CRM_WINS, LOTSE_WINS = "crm", "lotse"
PRECEDENCES = (CRM_WINS, LOTSE_WINS)
OWNED = frozenset(
    {"fit_score", "interest_score", "consent", "consent_legal_basis", "consent_given_at",
     "consent_text_version"}
)  # fmt: skip
CONTACT_FIELDS = (
    "email", "first_name", "last_name", "phone", "company", "stage", "fit_score",
    "interest_score", "consent", "consent_legal_basis", "consent_given_at",
    "consent_text_version",
)  # fmt: skip
IDENTITY_STAGES = {
    s: s for s in ("subscriber", "lead", "marketing_qualified_lead", "sales_qualified_lead",
                   "opportunity", "customer", "evangelist")
}  # fmt: skip

HUBSPOT_FIELDS: dict[str, str] = {
    "email": "email", "first_name": "firstname", "last_name": "lastname", "phone": "phone",
    "company": "company", "stage": "lifecyclestage", "fit_score": "lotse_fit_score",
    "interest_score": "lotse_interest_score", "consent": "lotse_consent",
    "consent_legal_basis": "lotse_consent_legal_basis",
    "consent_given_at": "lotse_consent_given_at",
    "consent_text_version": "lotse_consent_text_version",
}  # fmt: skip
HUBSPOT_STAGES = {
    "subscriber": "subscriber", "lead": "lead",
    "marketing_qualified_lead": "marketingqualifiedlead",
    "sales_qualified_lead": "salesqualifiedlead", "opportunity": "opportunity",
    "customer": "customer", "evangelist": "evangelist",
}  # fmt: skip
DYNAMICS_FIELDS: dict[str, str] = {
    "email": "emailaddress1", "first_name": "firstname", "last_name": "lastname",
    "phone": "telephone1", "company": "companyname", "stage": "lotse_stage",
    "fit_score": "lotse_fitscore", "interest_score": "lotse_interestscore",
    "consent": "lotse_consent", "consent_legal_basis": "lotse_consentlegalbasis",
    "consent_given_at": "lotse_consentgivenat",
    "consent_text_version": "lotse_consenttextversion",
}  # fmt: skip


class FieldMapError(ValueError):
    """The `fields:`/`stages:`/`precedence:` config cannot be used; says which entry."""


def lotse_values(contact: Mapping[str, Any]) -> dict[str, Any]:
    """Lotse's field name -> value for a payload's contact; unknown values are left out."""
    first, last = split_name(contact.get("name"))
    consent = contact.get("consent")
    values: dict[str, Any] = {
        "email": contact.get("email"), "first_name": first, "last_name": last,
        "phone": contact.get("phone"), "company": contact.get("company"),
        "stage": contact.get("stage"), "fit_score": contact.get("fit"),
        "interest_score": contact.get("interest"),
    }  # fmt: skip
    if consent:
        values.update({
            "consent": "granted", "consent_legal_basis": consent.get("legal_basis"),
            "consent_given_at": consent.get("given_at"),
            "consent_text_version": consent.get("text_version"),
        })  # fmt: skip
    for key, answer in (contact.get("answers") or {}).items():
        values[f"answer.{key}"] = answer
    return {name: value for name, value in values.items() if value is not None}


@dataclass(frozen=True)
class FieldMap:
    fields: Mapping[str, str | None]
    stages: Mapping[str, str]
    answer_template: str | None = "lotse_{key}"
    precedence: str = CRM_WINS
    owned: frozenset[str] = field(default=OWNED)

    def property_of(self, name: str) -> str | None:
        if name in self.fields:
            return self.fields[name]
        if name.startswith("answer.") and self.answer_template:
            return self.answer_template.format(key=name.removeprefix("answer."))
        return None

    def properties(self, contact: Mapping[str, Any]) -> dict[str, Any]:
        """CRM property -> value, for everything Lotse knows of the contact."""
        found: dict[str, Any] = {}
        for name, value in lotse_values(contact).items():
            target = self.property_of(name)
            if target is None:
                continue
            if name == "stage":
                value = self.stages.get(value)
                if value is None:
                    continue
            found[target] = value
        return found

    def owned_properties(self) -> set[str]:
        return {p for name in self.owned if (p := self.property_of(name)) is not None}

    def writable(
        self, desired: Mapping[str, Any], current: Mapping[str, Any], sent: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Of `desired`, what may be written over the record's `current` values, given
        what Lotse `sent` last; unchanged values are left out."""
        owned = self.owned_properties()
        email = self.property_of("email")
        out: dict[str, Any] = {}
        for prop, value in desired.items():
            now = current.get(prop)
            if _same(now, value):
                continue
            crm_rule = self.precedence == CRM_WINS or prop == email  # the key: never forced
            if crm_rule and prop not in owned and _edited(now, sent.get(prop)):
                continue  # somebody else's value: a person's edit wins
            out[prop] = value
        return out


def _edited(now: Any, sent: Any) -> bool:
    """The CRM holds a value Lotse did not write last."""
    return not _empty(now) and (sent is None or not _same(now, sent))


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _same(a: Any, b: Any) -> bool:
    """CRMs return numbers as text (HubSpot) or numbers (Dataverse): compare as text."""
    if a is None or b is None:
        return a is b
    return str(a).strip() == str(b).strip()


def field_map(
    defaults: Mapping[str, str], default_stages: Mapping[str, str], config: Mapping[str, Any]
) -> FieldMap:
    """The defaults changed by a connector's config; FieldMapError names a bad entry."""
    fields: dict[str, str | None] = dict(defaults)
    for name, target in (config.get("fields") or {}).items():
        if name not in CONTACT_FIELDS and not str(name).startswith("answer."):
            raise FieldMapError(
                f"fields: {name!r} is not a Lotse field (one of {', '.join(CONTACT_FIELDS)}, "
                "or answer.<key>)"
            )
        if target is not None and (not isinstance(target, str) or not target.strip()):
            raise FieldMapError(f"fields: {name} must name a CRM field, or be null")
        fields[str(name)] = target
    if fields.get("email") is None:
        raise FieldMapError("fields: email cannot be dropped, it is how contacts are matched")
    stages = dict(default_stages)
    for stage, value in (config.get("stages") or {}).items():
        if stage not in IDENTITY_STAGES:
            raise FieldMapError(f"stages: {stage!r} is not a Lotse lifecycle stage")
        stages[stage] = str(value)
    template = config.get("answer_template", "lotse_{key}")
    if template is not None and "{key}" not in str(template):
        raise FieldMapError("answer_template must contain {key}, or be null")
    precedence = config.get("precedence", CRM_WINS)
    if precedence not in PRECEDENCES:
        raise FieldMapError(f"precedence must be one of {', '.join(PRECEDENCES)}")
    return FieldMap(fields, stages, None if template is None else str(template), precedence)
