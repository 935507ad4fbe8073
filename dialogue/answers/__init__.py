"""Parsers for the answers of the qualification conversation (pure Python and spaCy).

One module per kind of answer. Each `parse_<kind>(text, language, ...)` takes untrusted
visitor text (bounded to 500 characters, never raising) in German or English whatever
`language` says, and returns a frozen dataclass value, or None when the text is no
usable answer. Budget and timeline also have a value for "the visitor says it is
unknown" (`Amount.unknown()`, `Timeline.unknown()`; `.known` is False), distinct from
None. `extract_all` collects what one sentence volunteers. The keyword tables a company
edits are YAML files in `bot/data/content/` (cities, freemail domains, industries,
roles). No Rasa imports; no visitor text is logged.
"""

from dialogue.answers.company import Company, parse_company
from dialogue.answers.contact import Email, PersonName, Phone, parse_email, parse_name, parse_phone
from dialogue.answers.country import parse_country
from dialogue.answers.employees import Employees, parse_employees, size_band
from dialogue.answers.industry import Industry, parse_industry
from dialogue.answers.money import Amount, parse_amount
from dialogue.answers.numbers import parse_number
from dialogue.answers.postal import City, PostalCode, parse_city, parse_postal_code
from dialogue.answers.role import Role, parse_role
from dialogue.answers.timeline import Timeline, parse_timeline
from dialogue.answers.volunteered import extract_all

__all__ = [
    "Amount",
    "City",
    "Company",
    "Email",
    "Employees",
    "Industry",
    "PersonName",
    "Phone",
    "PostalCode",
    "Role",
    "Timeline",
    "extract_all",
    "parse_amount",
    "parse_city",
    "parse_company",
    "parse_country",
    "parse_email",
    "parse_employees",
    "parse_industry",
    "parse_name",
    "parse_number",
    "parse_phone",
    "parse_postal_code",
    "parse_role",
    "parse_timeline",
    "size_band",
]
