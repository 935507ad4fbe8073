"""Properties of the answer parsers: no text crashes any of them, and every value they
return keeps its invariants. Texts mix arbitrary Unicode (all categories, surrogates
and control characters included) with fragments that reach the parsers' inner paths."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialogue.answers import (
    Amount,
    Company,
    Email,
    Employees,
    Industry,
    PersonName,
    Phone,
    PostalCode,
    Role,
    Timeline,
    extract_all,
    parse_amount,
    parse_city,
    parse_company,
    parse_country,
    parse_email,
    parse_employees,
    parse_industry,
    parse_name,
    parse_number,
    parse_phone,
    parse_postal_code,
    parse_role,
    parse_timeline,
)
from dialogue.answers.company import LEGAL_FORMS
from dialogue.answers.employees import MAX_EMPLOYEES
from dialogue.answers.industry import INDUSTRY_KEYS
from dialogue.answers.money import CURRENCIES, MAX_AMOUNT
from dialogue.answers.numbers import MAX_NUMBER
from dialogue.answers.postal import POSTAL_FORMATS, is_valid_postal_code
from dialogue.answers.role import ROLE_KEYS
from dialogue.answers.timeline import MAX_MONTHS
from dialogue.lexicon import SUPPORTED
from dialogue.spacy_pipelines import PIPELINES_DIR, load_pipelines

FAST = settings(
    max_examples=200,
    deadline=None,
    # The autouse environment fixture of conftest.py is harmless to share between examples.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FRAGMENTS = (
    "60 ", "sechzig ", "sixty-five ", "-", "–", " bis ", " zwischen ", " und ", " and ", "k",
    " Mio", "Mio.", "€", "$", "£", "CHF ", "T€", "TEUR", "1.5", "1,5", "150.000", "150,000",
    "1'500'000", "10^999", "1e400", "e", "^", "99999999999999999999999", "0", " Q2 ", "2027",
    " im ", " in ", "März", "May", " Monaten", " weeks", " Jahr", " nächstes ", "Frühjahr",
    "Ende des Jahres", " a ", " dozen", " half", " ein halbes", "anderthalb", "Hunderttausend",
    "D-", "33602", "CH-", "8001", "1234 AB", "SW1A 1AA", "@", "a.b@x.de", "+49", "(0)",
    "0521", " GmbH", " & Co. KG", "Müller", "Ich bin ", "Geschäftsführerin", "Metallbau",
    "Bielefeld", "Wien", "kein Budget", "weiß nicht", "?", ".", " ", "🙂", "\x00", "\u200b",
    "ß", "İ", "١٢٣", "²", "'", "’", "/", " Mitarbeiter", " people",
)  # fmt: skip
any_character = st.characters(exclude_categories=())
texts = st.one_of(
    st.text(max_size=2000),
    st.text(alphabet=any_character, max_size=2000),
    st.lists(st.sampled_from(FRAGMENTS) | st.text(any_character, max_size=4), max_size=30).map(
        "".join
    ),
)
languages = st.sampled_from(SUPPORTED) | st.text(max_size=5)
TODAY = date(2026, 11, 25)
ATTRIBUTES = {"employees", "industry", "company", "role", "country", "postal_code", "town",
              "timeline", "budget", "email", "phone"}  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def spacy_pipelines():
    """The parsers load build/spacy; build it once when a fresh checkout lacks it."""
    if not all((PIPELINES_DIR / lang).is_dir() for lang in SUPPORTED):
        from ops.build import build_spacy

        build_spacy()
    return load_pipelines()


def check_employees(value: Employees) -> None:
    assert 0 < value.low <= value.count <= value.high <= MAX_EMPLOYEES


def check_amount(value: Amount) -> None:
    assert isinstance(value.known, bool) and value.currency in set(CURRENCIES.values())
    assert value.low is not None and value.high is not None
    assert 0 <= value.low <= value.value <= value.high <= MAX_AMOUNT
    assert value.known or value.value == 0


def check_timeline(value: Timeline) -> None:
    assert value.months is None or 0 <= value.months <= MAX_MONTHS


def check_postal_code(value: PostalCode) -> None:
    assert value.country in POSTAL_FORMATS and is_valid_postal_code(value.country, value.code)


def check_email(value: Email) -> None:
    assert value.address.count("@") == 1 and isinstance(value.freemail, bool)
    local, domain = value.address.split("@")
    assert 0 < len(local) <= 64 and "." in domain and len(value.address) <= 254
    assert domain == domain.lower() and not re.search(r"\s", value.address)


def check_phone(value: Phone) -> None:
    assert re.fullmatch(r"\+[1-9][0-9]{5,14}", value.number)


def check_name(value: PersonName) -> None:
    words = value.full.split()
    assert 1 <= len(words) <= 4 and not any(ch.isdigit() for ch in value.full)


def check_company(value: Company) -> None:
    assert 0 < len(value.name) <= 120 and value.name == value.name.strip()
    assert value.legal_form is None or value.legal_form in {form for form, _, _ in LEGAL_FORMS}


def check_industry(value: Industry) -> None:
    assert value.key in INDUSTRY_KEYS and re.fullmatch(r"[A-U]", value.nace_section)


def check_role(value: Role) -> None:
    assert value.key in ROLE_KEYS


def check_country(value: str) -> None:
    assert re.fullmatch(r"[A-Z]{2}", value)


PARSERS: dict[str, tuple[Callable[[str, str], object], type, Callable]] = {
    "employees": (parse_employees, Employees, check_employees),
    "amount": (parse_amount, Amount, check_amount),
    "timeline": (lambda t, lang: parse_timeline(t, lang, TODAY), Timeline, check_timeline),
    "postal_code": (parse_postal_code, PostalCode, check_postal_code),
    "postal_code_at": (
        lambda t, lang: parse_postal_code(t, lang, "AT"),
        PostalCode,
        check_postal_code,
    ),  # fmt: skip
    "postal_code_gb": (
        lambda t, lang: parse_postal_code(t, lang, "uk"),
        PostalCode,
        check_postal_code,
    ),  # fmt: skip
    "country": (parse_country, str, check_country),
    "email": (parse_email, Email, check_email),
    "phone": (parse_phone, Phone, check_phone),
    "name": (parse_name, PersonName, check_name),
    "company": (parse_company, Company, check_company),
    "industry": (parse_industry, Industry, check_industry),
    "role": (parse_role, Role, check_role),
}


@pytest.mark.parametrize("kind", sorted(PARSERS))
def test_any_text_gives_none_or_a_valid_value(kind):
    parse, value_type, check = PARSERS[kind]

    @FAST
    @given(text=texts, language=languages)
    def run(text, language):
        value = parse(text, language)
        if value is not None:
            assert isinstance(value, value_type)
            check(value)

    run()


@FAST
@given(text=texts, language=languages)
def test_any_text_gives_a_finite_number_or_none(text, language):
    value = parse_number(text, language)
    assert value is None or (math.isfinite(value) and abs(value) <= MAX_NUMBER)


@FAST
@given(text=texts, language=languages, today=st.dates())
def test_any_text_and_day_give_a_timeline_in_range_or_none(text, language, today):
    value = parse_timeline(text, language, today)
    assert value is None or (isinstance(value, Timeline) and check_timeline(value) is None)


@FAST
@given(text=texts, language=languages)
def test_any_text_volunteers_only_valid_attributes(text, language):
    found = extract_all(text, language, TODAY)
    assert set(found) <= ATTRIBUTES
    checks = {"employees": check_employees, "budget": check_amount,
              "timeline": check_timeline, "postal_code": check_postal_code,
              "email": check_email, "phone": check_phone, "company": check_company,
              "industry": check_industry, "role": check_role, "country": check_country}  # fmt: skip
    town = found.pop("town", None)  # the place's name as written, with its country
    assert town is None or (isinstance(town, str) and town.strip() and "country" in found)
    for key, value in found.items():
        checks[key](value)
    assert found.get("role") != Role("other")


@FAST
@given(text=texts)
def test_any_text_gives_a_known_city_or_none(text):
    city = parse_city(text)
    assert city is None or is_valid_postal_code(city.country, city.postal_code.code)


# --- round trips ---------------------------------------------------------------------


@FAST
@given(n=st.integers(1, 100_000), language=st.sampled_from(SUPPORTED))
def test_employee_counts_round_trip(n, language):
    assert parse_employees(str(n), language) == Employees(n, n, n)
    assert parse_employees(f"{n} Mitarbeiter", language) == Employees(n, n, n)


@FAST
@given(n=st.integers(1001, 99_998), language=st.sampled_from(SUPPORTED))
def test_german_postal_codes_round_trip(n, language):
    assert parse_postal_code(f"{n:05d}", language) == PostalCode("DE", f"{n:05d}")
    assert parse_postal_code(f"D-{n:05d}", language) == PostalCode("DE", f"{n:05d}")


@FAST
@given(n=st.integers(0, 10**9), language=st.sampled_from(SUPPORTED))
def test_amounts_round_trip_in_both_digit_formats(n, language):
    german = f"{n:,}".replace(",", ".")
    assert parse_amount(f"{german} €", language) == Amount(n)
    assert parse_amount(f"{n:,} EUR", language) == Amount(n)


@FAST
@given(n=st.integers(0, 10**12), language=st.sampled_from(SUPPORTED))
def test_numbers_round_trip(n, language):
    assert parse_number(str(n), language) == n


@FAST
@given(months=st.integers(0, MAX_MONTHS), today=st.dates(), language=st.sampled_from(SUPPORTED))
def test_months_round_trip(months, today, language):
    assert parse_timeline(f"in {months} Monaten", language, today) == Timeline(months)
    assert parse_timeline(f"in {months} months", language, today) == Timeline(months)


labels = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789"), min_size=1, max_size=12)


@FAST
@given(
    local=st.from_regex(r"[a-z0-9]([a-z0-9._+-]{0,20}[a-z0-9])?", fullmatch=True).filter(
        lambda local: ".." not in local
    ),
    domain=st.lists(labels, min_size=1, max_size=3).map(".".join),
    tld=st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz"), min_size=2, max_size=6),
    language=st.sampled_from(SUPPORTED),
)
def test_emails_round_trip_from_a_sentence(local, domain, tld, language):
    address = f"{local}@{domain}.{tld}"
    found = parse_email(f"Meine Mail ist {address.upper()}, danke!", language)
    assert found is not None and found.address == f"{local.upper()}@{domain}.{tld}"


@FAST
@given(
    area=st.integers(30, 9999),
    subscriber=st.integers(10_000, 99_999_999),
    language=st.sampled_from(SUPPORTED),
)
def test_german_phone_numbers_round_trip(area, subscriber, language):
    expected = Phone(f"+49{area}{subscriber}")
    assert parse_phone(f"0{area} {subscriber}", language) == expected
    assert parse_phone(f"+49 (0) {area} {subscriber}", language) == expected
    assert parse_phone(f"0049 {area}/{subscriber}", language) == expected
