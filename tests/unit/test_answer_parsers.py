"""Examples for the answer parsers of the qualification conversation, German and English.

Each table row is (text, expected); unless a test says otherwise it runs with both
pipelines, since visitors mix languages whatever the conversation's language is.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from dialogue.answers import (
    Amount,
    City,
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
    size_band,
)
from dialogue.answers.contact import is_freemail
from dialogue.answers.industry import industry_table
from dialogue.answers.pipeline import token_doc
from dialogue.answers.postal import city_table
from dialogue.answers.role import role_table
from dialogue.lexicon import SUPPORTED
from dialogue.spacy_pipelines import PIPELINES_DIR, load_pipelines

TODAY = date(2026, 11, 25)
BOTH = pytest.mark.parametrize("language", SUPPORTED)


@pytest.fixture(scope="module", autouse=True)
def spacy_pipelines():
    """The parsers load build/spacy; build it once when a fresh checkout lacks it."""
    if not all((PIPELINES_DIR / lang).is_dir() for lang in SUPPORTED):
        from ops.build import build_spacy

        build_spacy()
    return load_pipelines()


# --- numbers -------------------------------------------------------------------------


@BOTH
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sechzig", 60),
        ("sixty", 60),
        ("zwei", 2),
        ("two", 2),
        ("einundsechzig", 61),
        ("sixty-five", 65),
        ("anderthalb", 1.5),
        ("eineinhalb", 1.5),
        ("zweieinhalb", 2.5),
        ("one and a half", 1.5),
        ("a dozen", 12),
        ("hundert", 100),
        ("Hunderttausend", 100_000),
        ("anderthalb Hunderttausend", 150_000),
        ("thousand", 1000),
        ("two thousand five hundred", 2500),
        ("eine Million", 1_000_000),
        ("2 Millionen", 2_000_000),
        ("1.5 million", 1_500_000),
        ("half a million", 500_000),
        ("150.000", 150_000),
        ("150,000", 150_000),
        ("1.5", 1.5),
        ("1,5", 1.5),
        ("150 000", 150_000),
        ("1'500'000", 1_500_000),
        ("150.000,50", 150_000.5),
        ("150k", 150_000),
        ("150K", 150_000),
        ("10 Tsd", 10_000),
        ("150 T€", 150_000),
        ("1,5 Mio", 1_500_000),
        ("2m", 2_000_000),
        ("3 mn", 3_000_000),
        ("rund 60", 60),
        ("-5", -5),
    ],
)
def test_numbers_in_words_and_digits(text, expected, language):
    assert parse_number(text, language) == pytest.approx(expected)


@BOTH
@pytest.mark.parametrize(
    "text",
    ["", "keine Zahl", "P200", "Q2", "10^999", "1e400", "99999999999999999999999", "50-70",
     "2 oder 3", "🙂", "ein Betrieb"],
)  # fmt: skip
def test_no_single_number(text, language):
    assert parse_number(text, language) is None


# --- employees -----------------------------------------------------------------------


@BOTH
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rund 60 Leute", Employees(60, 60, 60)),
        ("60", Employees(60, 60, 60)),
        ("ca. 60 Mitarbeiter", Employees(60, 60, 60)),
        ("50-70", Employees(60, 50, 70)),
        ("50 bis 70", Employees(60, 50, 70)),
        ("zwischen 50 und 70 Leuten", Employees(60, 50, 70)),
        ("between 50 and 75 people", Employees(63, 50, 75)),
        ("about sixty", Employees(60, 60, 60)),
        ("around 60 people", Employees(60, 60, 60)),
        ("we are a 60-person metal shop", Employees(60, 60, 60)),
        ("Wir sind ein 60-köpfiges Team", Employees(60, 60, 60)),
        ("sechzig Mitarbeiterinnen und Mitarbeiter", Employees(60, 60, 60)),
        ("wir sind 60", Employees(60, 60, 60)),
        ("über 500", Employees(500, 500, 500)),
        ("2 Standorte, 60 Mitarbeiter", Employees(60, 60, 60)),
        ("1.200 Beschäftigte", Employees(1200, 1200, 1200)),
        ("60 full-time employees", Employees(60, 60, 60)),
    ],
)
def test_employees(text, expected, language):
    assert parse_employees(text, language) == expected


@BOTH
@pytest.mark.parametrize(
    "text",
    ["", "keine Ahnung", "60 Maschinen", "seit 1962", "60 %", "0", "-5", "0,4", "20000000",
     "10^999 Mitarbeiter", "1e400", "99999999999999999999999", "we have 2 sites and 3 lines",
     "a few hundred", "einige hundert Mitarbeiter"],
)  # fmt: skip
def test_no_employees(text, language):
    assert parse_employees(text, language) is None


@pytest.mark.parametrize(
    ("count", "band"),
    [(1, "micro"), (9, "micro"), (10, "small"), (49, "small"), (50, "medium"),
     (249, "medium"), (250, "large"), (480, "large")],
)  # fmt: skip
def test_size_bands(count, band):
    assert size_band(count) == band


# --- money ---------------------------------------------------------------------------


@BOTH
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("150k", Amount(150_000)),
        ("150.000 EUR", Amount(150_000)),
        ("150,000 €", Amount(150_000)),
        ("anderthalb Hunderttausend", Amount(150_000)),
        ("1,5 Mio", Amount(1_500_000)),
        ("1,5 Mio. €", Amount(1_500_000)),
        ("zwischen 100 und 200 Tsd", Amount(150_000, "EUR", 100_000, 200_000)),
        ("100-200k", Amount(150_000, "EUR", 100_000, 200_000)),
        ("150 TEUR", Amount(150_000)),
        ("€150k", Amount(150_000)),
        ("CHF 1'500'000", Amount(1_500_000, "CHF")),
        ("2 Millionen Franken", Amount(2_000_000, "CHF")),
        ("$2m", Amount(2_000_000, "USD")),
        ("about 50,000 dollars", Amount(50_000, "USD")),
        ("£50,000", Amount(50_000, "GBP")),
        ("Budget: 80.000", Amount(80_000)),
        ("150.000,- €", Amount(150_000)),
        ("bis zu 200k", Amount(200_000)),
        ("not sure, maybe 100k", Amount(100_000)),
    ],
)
def test_amounts(text, expected, language):
    assert parse_amount(text, language) == expected


@BOTH
@pytest.mark.parametrize(
    "text",
    ["kein Budget", "noch kein festes Budget", "no budget yet", "weiß nicht",
     "weiß ich noch nicht", "keine Ahnung", "not sure", "I don't know", "noch offen",
     "keine Angabe"],
)  # fmt: skip
def test_budget_said_to_be_unknown(text, language):
    amount = parse_amount(text, language)
    assert amount == Amount.unknown()
    assert amount is not None and not amount.known


@BOTH
@pytest.mark.parametrize(
    "text",
    ["", "P400", "60 Mitarbeiter", "-5 Euro", "10^999 Euro", "99999999999999999999999",
     "2000000000000 EUR", "1e400 €", "ja", "Wir haben 2 Standorte"],
)  # fmt: skip
def test_no_amount(text, language):
    assert parse_amount(text, language) is None


def test_amount_low_and_high_default_to_the_value():
    assert Amount(5).low == Amount(5).high == 5
    assert Amount(5).known and Amount(5).currency == "EUR"


# --- timeline ------------------------------------------------------------------------


@BOTH
@pytest.mark.parametrize(
    ("text", "months"),
    [
        ("sofort", 0),
        ("asap", 0),
        ("so schnell wie möglich", 0),
        ("as soon as possible", 0),
        ("in zwei Monaten", 2),
        ("in 2 Monaten", 2),
        ("in 2 Wochen", 1),
        ("in two weeks", 1),
        ("in 2-3 Monaten", 3),
        ("in einem halben Jahr", 6),
        ("in half a year", 6),
        ("in anderthalb Jahren", 18),
        ("innerhalb eines Jahres", 12),
        ("within a year", 12),
        ("nächsten Monat", 1),
        ("next month", 1),
        ("Q2", 5),
        ("im 2. Quartal", 5),
        ("im zweiten Quartal", 5),
        ("Q2 2027", 5),
        ("Q1/2027", 2),
        ("Q4", 0),
        ("nächstes Frühjahr", 4),
        ("next spring", 4),
        ("im Herbst", 0),
        ("this autumn", 0),
        ("im Sommer", 7),
        ("Ende des Jahres", 1),
        ("end of the year", 1),
        ("Anfang nächsten Jahres", 2),
        ("early next year", 2),
        ("Mitte 2027", 8),
        ("im März", 4),
        ("by June", 7),
        ("im Dezember", 1),
        ("bis 30.06.2027", 7),
        ("2028", 14),
        ("bald", 1),
    ],
)
def test_timelines(text, months, language):
    assert parse_timeline(text, language, today=TODAY) == Timeline(months)


@pytest.mark.parametrize(
    ("text", "months"),
    [("in ana Woche", 1), ("binnen am Monat", 1), ("so in am halben Jahr", 6)],
)
def test_bavarian_articles_count_one_after_in(text, months):
    assert parse_timeline(text, "de", today=TODAY) == Timeline(months)


@BOTH
@pytest.mark.parametrize(
    "text",
    ["noch kein Zeitplan", "no timeline yet", "weiß ich noch nicht", "not sure",
     "keine Eile", "no rush", "steht noch nicht fest", "haven't decided yet",
     "it has not been settled yet", "the date hasn't been fixed"],
)  # fmt: skip
def test_timeline_said_to_be_unknown(text, language):
    timeline = parse_timeline(text, language, today=TODAY)
    assert timeline == Timeline.unknown()
    assert timeline is not None and not timeline.known


@BOTH
@pytest.mark.parametrize(
    "text",
    ["", "Presse", "vor 2 Monaten", "seit 2 Jahren", "in 500 Jahren", "im Jahr 2025",
     "Q3 2025", "in 10^999 Jahren", "we may buy", "Jan from sales", "ja gerne",
     "we have decided", "the date has been fixed"],
)  # fmt: skip
def test_no_timeline(text, language):
    assert parse_timeline(text, language, today=TODAY) is None


@pytest.mark.parametrize(
    ("today", "text", "months"),
    [
        (date(2027, 1, 10), "Q2", 3),
        (date(2027, 1, 10), "Q1", 0),
        (date(2026, 7, 1), "Q2", 9),
        (date(2026, 7, 1), "nächstes Frühjahr", 8),
        (date(2027, 2, 1), "next spring", 13),
        (date(2027, 2, 1), "im Frühjahr", 1),
        (date(2026, 12, 5), "Ende des Jahres", 0),
        (date(2026, 3, 15), "im März", 0),
        (date(2026, 4, 15), "im März", 11),
    ],
)
def test_timelines_depend_on_today(today, text, months):
    assert parse_timeline(text, "de", today=today) == Timeline(months)


# --- postal codes, cities, countries --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "hint", "expected"),
    [
        ("33602", None, PostalCode("DE", "33602")),
        ("D-33602", None, PostalCode("DE", "33602")),
        ("DE 33602", None, PostalCode("DE", "33602")),
        ("PLZ: 01067", None, PostalCode("DE", "01067")),
        ("33602 Bielefeld", None, PostalCode("DE", "33602")),
        ("A-1010", None, PostalCode("AT", "1010")),
        ("AT 1010", None, PostalCode("AT", "1010")),
        ("1010", "AT", PostalCode("AT", "1010")),
        ("1010 Wien", None, PostalCode("AT", "1010")),
        ("CH-8001", None, PostalCode("CH", "8001")),
        ("8001", "ch", PostalCode("CH", "8001")),
        ("1234 AB", None, PostalCode("NL", "1234 AB")),
        ("1234ab", "NL", PostalCode("NL", "1234 AB")),
        ("1000", "BE", PostalCode("BE", "1000")),
        ("1050", "DK", PostalCode("DK", "1050")),
        ("12345", "SE", PostalCode("SE", "123 45")),
        ("SE-123 45", None, PostalCode("SE", "123 45")),
        ("0150", "NO", PostalCode("NO", "0150")),
        ("00100", "FI", PostalCode("FI", "00100")),
        ("SW1A 1AA", None, PostalCode("GB", "SW1A 1AA")),
        ("sw1a1aa", "UK", PostalCode("GB", "SW1A 1AA")),
        ("90210", "US", PostalCode("US", "90210")),
        ("Bielefeld", None, PostalCode("DE", "33602")),
    ],
)
def test_postal_codes(text, hint, expected):
    assert parse_postal_code(text, "de", country_hint=hint) == expected
    assert parse_postal_code(text, "en", country_hint=hint) == expected


def test_a_city_fills_in_a_code_only_for_its_own_country():
    assert parse_postal_code("Bielefeld, Deutschland", "de", "DE") == PostalCode("DE", "33602")
    assert parse_postal_code("Bielefeld", "de", "AT") is None
    assert parse_city("Wien").code == "1010"


@pytest.mark.parametrize(
    ("text", "hint"),
    [("", None), ("1010", None), ("123 45", None), ("00999", None), ("150.000", None),
     ("99999999999999999999999", None), ("1234 ab", None), ("abc", "XX"), ("33602", "AT")],
)  # fmt: skip
def test_no_postal_code(text, hint):
    assert parse_postal_code(text, "de", country_hint=hint) is None


@pytest.mark.parametrize(
    ("text", "name", "country", "code"),
    [
        ("Bielefeld", "Bielefeld", "DE", "33602"),
        ("in muenchen", "München", "DE", "80331"),
        ("Munich", "München", "DE", "80331"),
        ("Köln", "Köln", "DE", "50667"),
        ("in Essen", "Essen", "DE", "45127"),
        ("Wien", "Wien", "AT", "1010"),
        ("Vienna", "Wien", "AT", "1010"),
        ("Zurich", "Zürich", "CH", "8001"),
        ("The Hague", "Den Haag", "NL", "2511 BT"),
        ("St. Gallen", "St. Gallen", "CH", "9000"),
        ("Copenhagen", "Kopenhagen", "DK", "1550"),
        ("Göteborg", "Göteborg", "SE", "411 01"),
        ("Reykjavik", "Reykjavík", "IS", "101"),
    ],
)
def test_cities(text, name, country, code):
    assert parse_city(text) == City(name, country, PostalCode(country, code))


@pytest.mark.parametrize("text", ["", "wir essen gern", "bergen", "Presse", "Paris"])
def test_no_city(text):
    assert parse_city(text) is None


def test_city_table_is_big_enough():
    cities = city_table().values
    assert len(cities) >= 40 and {"DE", "AT", "CH", "NL", "BE", "DK", "SE", "NO", "FI"} <= {
        city.country for city in cities
    }


@BOTH
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Deutschland", "DE"),
        ("Germany", "DE"),
        ("Österreich", "AT"),
        ("Oesterreich", "AT"),
        ("Austria", "AT"),
        ("aus der Schweiz", "CH"),
        ("Switzerland", "CH"),
        ("Niederlande", "NL"),
        ("Holland", "NL"),
        ("the Netherlands", "NL"),
        ("Belgien", "BE"),
        ("Luxemburg", "LU"),
        ("Dänemark", "DK"),
        ("Schweden", "SE"),
        ("Norwegen", "NO"),
        ("Finnland", "FI"),
        ("Island", "IS"),
        ("Frankreich", "FR"),
        ("Polen", "PL"),
        ("Italien", "IT"),
        ("UK", "GB"),
        ("USA", "US"),
        ("we are from the US", "US"),
        ("DE", "DE"),
        ("CH", "CH"),
    ],
)
def test_countries(text, expected, language):
    assert parse_country(text, language) == expected


@BOTH
@pytest.mark.parametrize("text", ["", "tell us more", "an island", "NO", "de", "turkey"])
def test_no_country(text, language):
    assert parse_country(text, language) is None


# --- contact -------------------------------------------------------------------------


@BOTH
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("meine Mail ist a.b@firma-x.de", Email("a.b@firma-x.de", False)),
        ("A.B@Firma-X.DE", Email("A.B@firma-x.de", False)),
        ("max@gmail.com", Email("max@gmail.com", True)),
        ("x@GMX.net", Email("x@gmx.net", True)),
        ("x@yahoo.co.uk", Email("x@yahoo.co.uk", True)),
        ("x@hotmail.de", Email("x@hotmail.de", True)),
        ("you can reach me at <info@nordwerk.example>.", Email("info@nordwerk.example", False)),
        ("mailto:info@nordwerk.example", Email("info@nordwerk.example", False)),
        ("anna@müller.de", Email("anna@müller.de", False)),
        ("foo@bar.com, danke", Email("foo@bar.com", False)),
    ],
)
def test_emails(text, expected, language):
    assert parse_email(text, language) == expected


@BOTH
@pytest.mark.parametrize(
    "text",
    ["", "a@@b.de", "a@b", "a@b.c", "x" * 65 + "@a.de", ".a@b.de", "a..b@c.de",
     "a@" + "b" * 250 + ".de", "a at b dot de", "@firma.de"],
)  # fmt: skip
def test_no_email(text, language):
    assert parse_email(text, language) is None


def test_freemail_prefixes_and_domains():
    assert is_freemail("outlook.de") and is_freemail("web.de") and is_freemail("proton.me")
    assert not is_freemail("nordwerk.example") and not is_freemail("webde.com")


@BOTH
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0521 555 0100", "+495215550100"),
        ("+49 (0) 521 5550100", "+495215550100"),
        ("0049 521 5550100", "+495215550100"),
        ("+49 521 555 0100", "+495215550100"),
        ("Tel.: 0521/555-0100", "+495215550100"),
        ("(0521) 5550100", "+495215550100"),
        ("ruf mich an: 0171 1234567", "+491711234567"),
        ("+43 1 234567", "+431234567"),
        ("+41 44 123 45 67", "+41441234567"),
        ("0041 44 123 45 67", "+41441234567"),
    ],
)
def test_phones(text, expected, language):
    assert parse_phone(text, language) == Phone(expected)


def test_email_and_phone_need_no_language():
    assert parse_email("a@b.de") == Email("a@b.de", False)
    assert parse_phone("0521 5550100") == Phone("+495215550100")


def test_national_numbers_follow_the_default_country():
    assert parse_phone("01 234567", "de", default_country="AT") == Phone("+431234567")
    assert parse_phone("044 123 45 67", "de", default_country="CH") == Phone("+41441234567")


@BOTH
@pytest.mark.parametrize(
    "text",
    ["", "12345", "0123", "01067", "am 01.12.2026", "33602", "+4", "keine Nummer",
     "+49 521 555 0100 1234 5678 9999", "521 5550100"],
)  # fmt: skip
def test_no_phone(text, language):
    assert parse_phone(text, language) is None


@BOTH
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ich bin Anna Müller", "Anna Müller"),
        ("mein Name ist Jonas Weber", "Jonas Weber"),
        ("I'm Dr. Anna-Lena O'Brien", "Anna-Lena O'Brien"),
        ("my name is peter van der berg", "Peter van der Berg"),
        ("Herr Schmidt", "Schmidt"),
        ("Frau Dr. Lea Hoffmann", "Lea Hoffmann"),
        ("anna müller", "Anna Müller"),
        ("Hallo, ich bin Tim Krüger.", "Tim Krüger"),
        ("François Lefèvre", "François Lefèvre"),
        ("Zoë", "Zoë"),
        ("A. Müller", "A. Müller"),
        ("Björn-Ole Sørensen", "Björn-Ole Sørensen"),
        ("this is jonas", "Jonas"),
    ],
)
def test_names(text, expected, language):
    assert parse_name(text, language) == PersonName(expected)


@BOTH
@pytest.mark.parametrize(
    "text",
    ["", "Tim123", "a@b.de", "www.example.com", "keine Angabe", "nein", "ich",
     "Ana María José García López", "Ich möchte eine Presse kaufen", "Ich möchte kaufen",
     "https://x.de", "Schöne Grüße"],
)  # fmt: skip
def test_no_name(text, language):
    assert parse_name(text, language) is None


# --- company, industry, role ----------------------------------------------------------


@BOTH
@pytest.mark.parametrize(
    ("text", "name", "form"),
    [
        ("Müller Metallbau GmbH & Co. KG", "Müller Metallbau GmbH & Co. KG", "GmbH & Co. KG"),
        ("Müller GmbH und Co KG", "Müller GmbH und Co KG", "GmbH & Co. KG"),
        ("Müller Metallbau GmbH", "Müller Metallbau GmbH", "GmbH"),
        ("Wir sind die Nordwerk Anlagenbau GmbH", "Nordwerk Anlagenbau GmbH", "GmbH"),
        ("nordwerk gmbh", "nordwerk gmbh", "GmbH"),
        ("ich arbeite bei der Bosch GmbH", "Bosch GmbH", "GmbH"),
        ("Lebenshilfe gGmbH", "Lebenshilfe gGmbH", "gGmbH"),
        ("Schulz Blechtechnik e.K.", "Schulz Blechtechnik e.K.", "e.K."),
        ("Schulz e. K.", "Schulz e. K.", "e.K."),
        (
            "Meier UG (haftungsbeschränkt)",
            "Meier UG (haftungsbeschränkt)",
            "UG (haftungsbeschränkt)",
        ),  # fmt: skip
        ("Meier UG", "Meier UG", "UG"),
        ("Siemens AG", "Siemens AG", "AG"),
        ("Henkel AG & Co. KGaA", "Henkel AG & Co. KGaA", "AG & Co. KGaA"),
        ("Schmidt & Söhne OHG", "Schmidt & Söhne OHG", "OHG"),
        ("Volvo AB", "Volvo AB", "AB"),
        ("we are Acme Ltd", "Acme Ltd", "Ltd"),
        ("Acme Inc.", "Acme Inc.", "Inc."),
        ("Acme LLC", "Acme LLC", "LLC"),
        ("Philips N.V.", "Philips N.V.", "N.V."),
        ("Damen B.V.", "Damen B.V.", "B.V."),
        ("Maersk A/S", "Maersk A/S", "A/S"),
        ("Kone Oy", "Kone Oy", "Oy"),
        ("Fiat S.p.A.", "Fiat S.p.A.", "S.p.A."),
        ("Polmet Sp. z o.o.", "Polmet Sp. z o.o.", "Sp. z o.o."),
        ("Firma Schulz", "Schulz", None),
        ("company: Acme", "Acme", None),
        ("Nordwerk", "Nordwerk", None),
    ],
)
def test_companies(text, name, form, language):
    assert parse_company(text, language) == Company(name, form)


@BOTH
@pytest.mark.parametrize(
    "text",
    ["", "GmbH", "keine Angabe", "Privatperson", "x" * 130, "Wir sind ein kleiner Betrieb",
     "Was kostet die P400?", "weiß ich nicht", "a@b.de", "Guten Morgen", "Danke schön"],
)  # fmt: skip
def test_no_company(text, language):
    assert parse_company(text, language) is None


@BOTH
@pytest.mark.parametrize(
    ("text", "key", "section", "division"),
    [
        ("Metallbau", "metalworking", "C", "25"),
        ("Metallverarbeitung", "metalworking", "C", "25"),
        ("Wir sind ein Metallbaubetrieb", "metalworking", "C", "25"),
        ("Blechbearbeitungsbetrieb", "metalworking", "C", "25"),
        ("Zerspanung", "metalworking", "C", "25"),
        ("Schlosserei", "metalworking", "C", "25"),
        ("metal shop", "metalworking", "C", "25"),
        ("sheet metal work", "metalworking", "C", "25"),
        ("Automobilzulieferer", "automotive_supplier", "C", "29"),
        ("Kfz-Zulieferer", "automotive_supplier", "C", "29"),
        ("automotive supplier", "automotive_supplier", "C", "29"),
        ("Maschinenbau", "mechanical_engineering", "C", "28"),
        ("Sondermaschinenbau", "mechanical_engineering", "C", "28"),
        ("machine builder", "mechanical_engineering", "C", "28"),
        ("Kunststoffverarbeitung", "other_manufacturing", "C", "22"),
        ("Lebensmittelherstellung", "other_manufacturing", "C", "10"),
        ("Moebelbau", "other_manufacturing", "C", "31"),
        ("electronics", "other_manufacturing", "C", "26"),
        ("manufacturing", "other_manufacturing", "C", None),
        ("Einzelhandel", "other", "G", None),
        ("Metallhandel", "other", "G", None),
        ("logistics", "other", "H", None),
        ("IT", "other", "J", "62"),
        ("Unternehmensberatung", "other", "M", "70"),
        ("construction", "other", "F", None),
        ("Hochschule", "other", "P", "85"),
    ],
)
def test_industries(text, key, section, division, language):
    assert parse_industry(text, language) == Industry(key, section, division)


@BOTH
@pytest.mark.parametrize("text", ["", "it is fine", "Handwerk", "Herr Bauer", "weiß nicht"])
def test_no_industry(text, language):
    assert parse_industry(text, language) is None


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("we are a small firm making special purpose machinery", "mechanical_engineering"),
        ("we're a family firm, we build special-purpose machines", "mechanical_engineering"),
        ("Wir sind ein Kfz-Zulieferer", "automotive_supplier"),
    ],
)
def test_industries_in_sentences_pass_over_hyphens_and_punctuation(text, key):
    found = extract_all(text, "en" if text.startswith("we") else "de", today=TODAY)
    assert found["industry"].key == key


@pytest.mark.parametrize(
    "text",
    ["Wir wollen unsere Fertigung modernisieren", "We plan to extend our production line"],
)
def test_a_department_of_theirs_is_no_industry(text):
    assert "industry" not in extract_all(text, "de", today=TODAY)


@BOTH
@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Inhaber", "owner_md"),
        ("Geschäftsführerin", "owner_md"),
        ("Technische Geschäftsführerin", "owner_md"),
        ("GF", "owner_md"),
        ("CEO", "owner_md"),
        ("managing director", "owner_md"),
        ("Vorstand", "owner_md"),
        ("Produktionsleiterin", "head_of_production"),
        ("Leiter der Produktion", "head_of_production"),
        ("plant manager", "head_of_production"),
        ("COO", "head_of_production"),
        ("Einkaufsleiter", "purchasing_lead"),
        ("Leiterin Einkauf", "purchasing_lead"),
        ("procurement manager", "purchasing_lead"),
        ("Ingenieurin", "engineer"),
        ("Vertriebsingenieur", "engineer"),
        ("ich arbeite als Konstrukteurin", "engineer"),
        ("Schichtleiter", "team_lead"),
        ("Meister", "team_lead"),
        ("supervisor", "team_lead"),
        ("Werkstudentin", "student"),
        ("auf Jobsuche", "job_seeker"),
        ("looking for a job", "job_seeker"),
        ("Vertriebsleiter", "other"),
        ("Marketing", "other"),
    ],
)
def test_roles(text, key, language):
    found = parse_role(text, language)
    assert found is not None and found.key == key
    # A role the table does not know is kept in the visitor's words.
    assert found.words == (text if key == "other" else None)


@BOTH
@pytest.mark.parametrize(
    "text",
    ["", "keine Angabe", "weiß ich nicht", "Was kostet die P400?", "Ich bin 42", "hallo",
     "sag ich nich", "not telling you"],
)  # fmt: skip
def test_no_role(text, language):
    assert parse_role(text, language) is None


# --- volunteered ---------------------------------------------------------------------


METAL_SHOP = {
    "employees": Employees(60, 60, 60),
    "industry": Industry("metalworking", "C", "25"),
    "postal_code": PostalCode("DE", "33602"),
    "country": "DE",
    "town": "Bielefeld",
}


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Wir sind ein Metallbaubetrieb mit 60 Mitarbeitern in Bielefeld", "de"),
        ("we are a 60-person metal shop in Bielefeld", "en"),
        ("we are a 60-person metal shop in Bielefeld", "de"),
    ],
)
def test_a_metal_shop_volunteers_size_industry_and_place(text, language):
    assert extract_all(text, language, today=TODAY) == METAL_SHOP


def test_a_managing_director_volunteers_role_company_and_size():
    text = "Ich bin Geschäftsführer der Müller Metallbau GmbH, wir sind rund 60 Leute"
    assert extract_all(text, "de", today=TODAY) == {
        "role": Role("owner_md"),
        "company": Company("Müller Metallbau GmbH", "GmbH"),
        "employees": Employees(60, 60, 60),
    }


def test_a_sentence_volunteers_budget_timeline_and_contact():
    text = "Budget ca. 150.000 €, Lieferung in 3 Monaten, PLZ 33602, Tel 0521 5550100, a@x.de"
    assert extract_all(text, "de", today=TODAY) == {
        "budget": Amount(150_000),
        "timeline": Timeline(3),
        "postal_code": PostalCode("DE", "33602"),
        "country": "DE",
        "phone": Phone("+495215550100"),
        "email": Email("a@x.de", False),
    }


def test_an_english_sentence_volunteers_role_company_place_budget_and_quarter():
    text = "I'm the purchasing manager at Acme Ltd in Rotterdam, budget around €200k, Q2 2027"
    assert extract_all(text, "en", today=TODAY) == {
        "role": Role("purchasing_lead"),
        "company": Company("Acme Ltd", "Ltd"),
        "budget": Amount(200_000),
        "timeline": Timeline(5),
        "postal_code": PostalCode("NL", "3011 AD"),
        "country": "NL",
        "town": "Rotterdam",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Wir kommen aus Österreich, noch kein Budget",
            {"country": "AT", "budget": Amount.unknown()},
        ),  # fmt: skip
        (
            "Wir sitzen in 1010 Wien",
            {"country": "AT", "postal_code": PostalCode("AT", "1010"), "town": "Wien"},
        ),
        (
            "01067 Dresden, Tel 0351 1234567",
            {
                "country": "DE",
                "postal_code": PostalCode("DE", "01067"),
                "town": "Dresden",
                "phone": Phone("+493511234567"),
            },
        ),  # fmt: skip
        ("no timeline yet", {"timeline": Timeline.unknown()}),
        ("Wir sind heute 60 Mitarbeiter", {"employees": Employees(60, 60, 60)}),
        ("we will soon be 60 people", {"employees": Employees(60, 60, 60)}),
    ],
)
def test_volunteered_places_and_unknowns(text, expected):
    assert extract_all(text, "de", today=TODAY) == expected


@BOTH
@pytest.mark.parametrize(
    "text",
    ["", "60", "Wir sind 60", "33602", "150000", "weiß nicht", "Was kostet eine P400?",
     "Liefern Sie in die Schweiz?", "Wir haben seit 2020 eine P200", "0521 5550100",
     "Ich möchte Ihren Geschäftsführer sprechen", "Bis wann können Sie liefern?"],
)  # fmt: skip
def test_bare_numbers_and_questions_volunteer_nothing(text, language):
    assert extract_all(text, language, today=TODAY) == {}


# --- data tables ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("loader", "content", "message"),
    [
        (industry_table, "industries:\n  - {key: steel, nace_section: C, words: [x]}\n",
         "industries entry 1 (steel)"),
        (industry_table, "industries:\n  - {key: other, nace_section: CC, words: [x]}\n",
         "nace_section"),
        (industry_table, "industries:\n  - {key: other, nace_section: C}\n", "'words'"),
        (industry_table, "wrong: []\n", "top-level list 'industries'"),
        (role_table, "roles:\n  - {key: owner_md, words: [x]}\n  - just text\n",
         "roles entry 2 is not a mapping"),
        (role_table, "roles:\n  - {key: other, words: [x]}\n", "roles entry 1 (other)"),
        (city_table, "cities:\n  - {names: [Oslo], country: XX, postal_code: '0150'}\n",
         "must be an ISO code"),
        (city_table, "cities:\n  - {names: [X], country: DE, postal_code: '123'}\n",
         "not a DE postal code"),
        (city_table, "cities: [\n", "cannot be read as YAML"),
    ],
)  # fmt: skip
def test_malformed_tables_name_file_and_entry(tmp_path: Path, loader, content, message):
    path = tmp_path / "table.yml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match="table.yml") as error:
        loader(path)
    assert message in str(error.value)


def test_norway_is_a_country_code_not_false(tmp_path: Path):
    """YAML 1.1 reads an unquoted NO as false; the word lists are read as words."""
    path = tmp_path / "cities.yml"
    path.write_text("cities:\n  - {names: [Oslo], country: NO, postal_code: '0150'}\n")
    assert city_table(path).first(token_doc("Oslo", "en")).country == "NO"


def test_malformed_freemail_list_names_file_and_entry(tmp_path: Path):
    path = tmp_path / "freemail.yml"
    path.write_text("domains: [gmail.com, 'a b']\nprefixes: []\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"freemail.yml: domains entry 2"):
        is_freemail("gmail.com", path)
