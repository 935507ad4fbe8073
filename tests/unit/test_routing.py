"""Routing with the shipped routing.yml: every rule, round robin, capacity, absence,
language, the fallback queue and the explanation; and the routing file's checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff.routing import (
    RoutingDecision,
    RoutingRequest,
    StaffStatus,
    explain,
    in_language,
    route,
)
from handoff.routing_model import (
    ROUTING_FILE,
    RoutingModelError,
    load_routing_model,
    parse_routing_model,
)

MODEL = load_routing_model()
SHIPPED = ROUTING_FILE.read_text(encoding="utf-8")
ALL_ONLINE = {staff_id: StaffStatus(online=True, load=0) for staff_id in MODEL.staff}


def decide(
    presence: dict[str, StaffStatus] | None = None,
    last_assigned: dict[str, str] | None = None,
    **fields: object,
) -> RoutingDecision:
    request = RoutingRequest(**{"language": "de", **fields})  # type: ignore[arg-type]
    return route(request, MODEL, ALL_ONLINE if presence is None else presence, last_assigned or {})


def with_status(**statuses: StaffStatus) -> dict[str, StaffStatus]:
    return {**ALL_ONLINE, **statuses}


# --- the shipped file ---------------------------------------------------------------


def test_the_shipped_file_has_the_demo_company_team() -> None:
    assert list(MODEL.teams) == ["sales", "service"]
    assert MODEL.teams["sales"].label == {"de": "Vertrieb", "en": "Sales"}
    assert MODEL.teams["service"].label == {"de": "Technischer Service", "en": "Technical service"}
    assert MODEL.teams["sales"].claim_timeout_seconds == 120
    assert MODEL.team_members("sales") == ("anna", "jonas", "lea", "marco", "sofie", "paul", "nina")
    assert MODEL.team_members("service") == ("tim", "eva")
    assert MODEL.staff["lea"].languages == ("de",)
    assert MODEL.staff["sofie"].languages == ("en", "de")
    assert MODEL.staff["nina"].products == frozenset({"software"})
    assert MODEL.staff["anna"].products is None
    assert MODEL.staff["anna"].email == "anna.becker@nordwerk.example"
    assert all(member.capacity == 3 for member in MODEL.staff.values())
    assert MODEL.staff["tim"].working_hours == MODEL.teams["service"].office_hours
    assert [rule.name for rule in MODEL.rules] == [
        "technical_service",
        "software_expert",
        "key_account",
        "germany_0_3",
        "germany_4_6",
        "germany_7_9",
        "austria_switzerland",
        "benelux_nordics_world",
    ]
    assert MODEL.fallback_team == "sales"


def test_labels_for_agent_messages() -> None:
    assert MODEL.label_of("anna", "de") == "Anna, Vertrieb"
    assert MODEL.label_of("anna", "en") == "Anna, Sales"
    assert MODEL.label_of("tim", "de") == "Tim, Technischer Service"
    assert MODEL.label_of("eva", "en") == "Eva, Technical service"


# --- every rule -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("postal_code", "rule", "rep"),
    [
        ("01067", "germany_0_3", "anna"),
        ("00001", "germany_0_3", "anna"),
        ("33602", "germany_0_3", "anna"),
        ("39999", "germany_0_3", "anna"),
        ("40000", "germany_4_6", "jonas"),
        ("50667", "germany_4_6", "jonas"),
        ("69999", "germany_4_6", "jonas"),
        ("70000", "germany_7_9", "lea"),
        ("80331", "germany_7_9", "lea"),
        ("99999", "germany_7_9", "lea"),
        (" 45 133 ", "germany_4_6", "jonas"),
    ],
)
def test_german_postal_bands(postal_code: str, rule: str, rep: str) -> None:
    decision = decide(country="DE", postal_code=postal_code)
    assert (decision.rule, decision.team, decision.responsible, decision.assignee) == (
        rule,
        "sales",
        (rep,),
        rep,
    )


@pytest.mark.parametrize(
    ("country", "rule", "rep"),
    [
        ("AT", "austria_switzerland", "marco"),
        ("CH", "austria_switzerland", "marco"),
        ("ch", "austria_switzerland", "marco"),
        ("NL", "benelux_nordics_world", "sofie"),
        ("BE", "benelux_nordics_world", "sofie"),
        ("SE", "benelux_nordics_world", "sofie"),
        ("US", "benelux_nordics_world", "sofie"),
    ],
)
def test_countries_outside_germany(country: str, rule: str, rep: str) -> None:
    for language in ("de", "en"):
        decision = decide(language=language, country=country, postal_code="1010")
        assert (decision.rule, decision.responsible, decision.assignee) == (rule, (rep,), rep)


@pytest.mark.parametrize(
    "where",
    [
        {"country": "AT"},
        {"country": "DE", "postal_code": "33602"},
        {"country": "DE", "postal_code": "80331"},
        {"country": "SE"},
        {},
    ],
)
def test_a_software_lead_goes_to_nina_whatever_the_region(where: dict[str, str]) -> None:
    decision = decide(product_line="software", employees=900, **where)
    assert (decision.rule, decision.team, decision.assignee) == ("software_expert", "sales", "nina")


def test_nina_is_not_given_other_product_lines() -> None:
    decision = decide(product_line="presses", country="AT")
    assert decision.assignee == "marco"
    assert "nina" not in decision.responsible


def test_key_accounts_over_500_employees_go_to_paul_anywhere() -> None:
    for where in ({"country": "DE", "postal_code": "80331"}, {"country": "US"}, {}):
        decision = decide(employees=501, product_line="presses", **where)
        assert (decision.rule, decision.assignee) == ("key_account", "paul")


def test_exactly_500_employees_is_the_regional_rep() -> None:
    decision = decide(employees=500, country="DE", postal_code="45133")
    assert (decision.rule, decision.assignee) == ("germany_4_6", "jonas")


def test_service_questions_go_to_the_technical_service_team() -> None:
    decision = decide(need="service", product_line="presses", country="AT", employees=900)
    assert decision.rule == "technical_service"
    assert decision.team == "service"
    assert decision.responsible == ("tim", "eva")


def test_service_alternates_between_tim_and_eva() -> None:
    last: dict[str, str] = {}
    assigned = []
    for _ in range(4):
        decision = decide(need="service", last_assigned=last)
        assert decision.assignee is not None
        assigned.append(decision.assignee)
        last[decision.rule or ""] = decision.assignee
    assert assigned == ["tim", "eva", "tim", "eva"]


def test_round_robin_skips_a_busy_colleague_and_ignores_an_unknown_last_one() -> None:
    busy = with_status(eva=StaffStatus(online=True, load=3))
    decision = decide(busy, {"technical_service": "tim"}, need="service")
    assert decision.assignee == "tim"
    assert "Eva Lange skipped: at capacity 3/3." in decision.explanation
    assert decide(last_assigned={"technical_service": "anna"}, need="service").assignee == "tim"


# --- who is there ---------------------------------------------------------------------


def test_a_rep_at_capacity_leaves_it_in_the_team_queue() -> None:
    full = with_status(jonas=StaffStatus(online=True, load=3))
    decision = decide(full, country="DE", postal_code="45133")
    assert (decision.rule, decision.team, decision.responsible) == (
        "germany_4_6",
        "sales",
        ("jonas",),
    )
    assert decision.assignee is None
    assert "Jonas Weber skipped: at capacity 3/3." in decision.explanation
    assert "Sales team queue" in explain(decision)


def test_an_absent_rep_leaves_it_in_the_team_queue() -> None:
    away = with_status(anna=StaffStatus(online=False, load=0))
    decision = decide(away, country="DE", postal_code="33602")
    assert (decision.rule, decision.responsible, decision.assignee) == (
        "germany_0_3",
        ("anna",),
        None,
    )
    assert "Anna Becker skipped: offline." in decision.explanation


def test_staff_without_presence_count_as_offline() -> None:
    decision = decide({}, need="service")
    assert decision.assignee is None and decision.team == "service"
    assert "Tim Krüger skipped: offline." in decision.explanation
    assert "Eva Lange skipped: offline." in decision.explanation


def test_service_with_both_away_waits_in_the_service_queue() -> None:
    away = with_status(tim=StaffStatus(False, 0), eva=StaffStatus(True, 5))
    decision = decide(away, need="service")
    assert (decision.team, decision.assignee) == ("service", None)
    assert "Technical service team queue" in explain(decision)


# --- language -------------------------------------------------------------------------


def test_an_english_lead_in_postal_area_7_falls_through_to_the_sales_queue() -> None:
    # Lea speaks only German. No later rule covers Germany, so the lead waits in the
    # sales team queue, where any colleague who speaks English can take it.
    decision = decide(language="en", country="DE", postal_code="70173")
    assert (decision.rule, decision.team, decision.responsible, decision.assignee) == (
        None,
        "sales",
        (),
        None,
    )
    lines = decision.explanation
    assert lines[0].startswith("Rule germany_7_9 matched")
    assert "Lea Hoffmann skipped: does not speak en." in lines
    assert "Nobody of rule germany_7_9 can take it; trying the next rules." in lines
    assert "Sales team queue" in lines[-1]


def test_a_german_lead_in_postal_area_7_goes_to_lea() -> None:
    assert decide(language="de", country="DE", postal_code="70173").assignee == "lea"


def test_an_english_key_account_in_postal_area_7_goes_to_paul() -> None:
    decision = decide(language="en", country="DE", postal_code="70173", employees=800)
    assert decision.assignee == "paul"


# --- nothing matches ------------------------------------------------------------------


@pytest.mark.parametrize(
    "where",
    [
        {},
        {"country": None, "postal_code": "45133"},
        {"country": "Germany"},
        {"country": "DE"},  # a German lead without a postal code
    ],
)
def test_an_unknown_region_goes_to_the_fallback_queue(where: dict[str, str]) -> None:
    decision = decide(**where)
    assert (decision.rule, decision.team, decision.responsible, decision.assignee) == (
        None,
        "sales",
        (),
        None,
    )
    assert explain(decision).startswith("No rule gives this to anybody")
    assert "Sales team queue" in explain(decision)


# --- the explanation ------------------------------------------------------------------


def test_the_explanation_names_the_rule_and_why_it_matched() -> None:
    decision = decide(country="DE", postal_code="45133")
    assert decision.explanation == (
        "Rule germany_4_6 matched (country is DE; postal code 45133 starts with 4): "
        "Germany, postal codes 4xxxx to 6xxxx.",
        "Assigned to Jonas Weber.",
    )
    assert explain(decision) == "\n".join(decision.explanation)


def test_the_explanation_names_the_round_robin_pick() -> None:
    decision = decide(last_assigned={"technical_service": "tim"}, need="service")
    assert decision.explanation[0].startswith("Rule technical_service matched (need is service)")
    assert decision.explanation[-1] == (
        "Assigned to Eva Lange: next in turn after Tim Krüger (round robin)."
    )
    key = decide(employees=501)
    assert key.explanation[0].startswith("Rule key_account matched (501 employees, over 500)")


def test_routing_is_pure() -> None:
    presence = dict(ALL_ONLINE)
    last = {"technical_service": "tim"}
    first = decide(presence, last, need="service")
    assert decide(presence, last, need="service") == first
    assert presence == ALL_ONLINE and last == {"technical_service": "tim"}


# --- checking the routing file --------------------------------------------------------


def broken(old: str, new: str) -> tuple[str, int]:
    """The shipped file with `old` replaced by `new`, and the line `new` starts on."""
    assert SHIPPED.count(old) == 1, old
    text = SHIPPED.replace(old, new)
    return text, SHIPPED[: SHIPPED.index(old)].count("\n") + 1


def fails(text: str) -> str:
    with pytest.raises(RoutingModelError) as raised:
        parse_routing_model(text, Path("routing.yml"))
    return str(raised.value)


def test_the_shipped_text_parses_like_the_loaded_file() -> None:
    assert parse_routing_model(SHIPPED, ROUTING_FILE) == MODEL


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "    capacity: 3\n    email: anna.becker",
            "    capacty: 3\n    email: anna.becker",
            "unknown key 'capacty' in staff 'anna'",
        ),
        (
            "    when: {need: service}",
            "    when: {needs: service}",
            "unknown key 'needs' in rule 'technical_service'.when",
        ),
        ("    to: {staff: [nina]}", "    to: {staff: [nino]}", "unknown staff id 'nino'"),
        ("    to: {team: service}", "    to: {team: support}", "unknown team 'support'"),
        (
            "    name: Tim Krüger\n    team: service",
            "    name: Tim Krüger\n    team: hotline",
            "unknown team 'hotline'",
        ),
        ('        mon: "08:00-17:00"', '        mon: "17:00-08:00"', "start is not before"),
        ('        mon: "08:00-17:00"', '        mon: "8 to 5"', "must look like 08:00-17:00"),
        ('        mon: "08:00-17:00"', '        mon: "08:00-25:00"', "hour must be in 0..23"),
        ('        mon: "08:00-17:00"', '        mo: "08:00-17:00"', "unknown key 'mo'"),
        ("    languages: [de]\n", "    languages: [de, fr]\n", "'fr' in staff 'lea'.languages"),
        ("  - name: germany_4_6\n", "  - name: germany_0_3\n", "'germany_0_3' appears twice"),
        ("      extra: []\n    #", "      extra: [2026-02-30]\n    #", "'2026-02-30'"),
        ("      country: DE  ", "      country: XX  ", "no holiday calendar for country 'XX'"),
        (
            "      subdivision: NW\n      # Further",
            "      subdivision: NRW\n      # Further",
            "team 'sales'.holidays.subdivision: 'NRW' is not a subdivision of DE (known: BB, BE,",
        ),
        ("    products: [software]", "    products: [sofware]", "'sofware' in staff 'nina'"),
        ("fallback_team: sales", "fallback_team: marketing", "unknown team 'marketing'"),
        ("      timezone: Europe/Berlin  ", "      timezone: Europe/Bielefeld  ", "time zone"),
        ("    when: {need: service}", "    when: {need: repair}", "'repair' is not one of"),
        (
            "    when: {country: [AT, CH]}",
            "    when: {country: [Austria]}",
            "'Austria' in rule 'austria_switzerland'.when.country is not a two-letter",
        ),
        (
            "    to: {staff: [paul]}",
            "    to: {staff: [paul], team: sales}",
            "either 'staff' or 'team'",
        ),
        (
            "    label: {de: Technischer Service, en: Technical service}",
            "    label: {de: Technischer Service}",
            "needs a text for en",
        ),
    ],
)
def test_mistakes_name_the_file_and_line(old: str, new: str, message: str) -> None:
    text, line = broken(old, new)
    error = fails(text)
    assert message in error
    assert error.startswith("routing.yml:")
    reported = int(error.split(":")[1])
    # The error points at the changed line or, for a value spread over lines, the one
    # after it.
    assert reported in (line, line + 1), error


def test_a_missing_key_is_reported() -> None:
    text, _ = broken("    email: eva.lange@nordwerk.example\n", "")
    assert "staff 'eva' needs 'email'" in fails(text)
    assert "needs 'fallback_team'" in fails(SHIPPED.replace("fallback_team: sales", ""))


def test_bad_yaml_and_an_empty_file_are_reported() -> None:
    assert "not valid YAML" in fails("teams: [\n")
    assert fails("") == "routing.yml: the file is empty"


def test_defaults_for_capacity_timeout_products_and_working_hours(tmp_path: Path) -> None:
    text = (
        "teams:\n"
        "  sales:\n"
        "    label: {de: Vertrieb, en: Sales}\n"
        "    email: vertrieb@example.com\n"
        "    office_hours: {timezone: Europe/Berlin, days: {mon: '08:00-17:00'}}\n"
        "    holidays: {country: DE}\n"
        "staff:\n"
        "  ada:\n"
        "    name: Ada Lovelace\n"
        "    team: sales\n"
        "    languages: [en]\n"
        "    email: ada@example.com\n"
        "    working_hours: {sat: '10:00-12:00'}\n"
        "routing_rules:\n"
        "  - name: everyone\n"
        "    description: Every lead.\n"
        "    to: {staff: [ada]}\n"
        "fallback_team: sales\n"
    )
    path = tmp_path / "routing.yml"
    path.write_text(text, encoding="utf-8")
    model = load_routing_model(path)
    assert model.teams["sales"].claim_timeout_seconds == 120
    ada = model.staff["ada"]
    assert (ada.capacity, ada.products) == (3, None)
    assert ada.working_hours.describe("en") == "Sat 10:00–12:00"
    decision = route(RoutingRequest(language="en"), model, {"ada": StaffStatus(True, 0)}, {})
    assert (decision.rule, decision.assignee) == ("everyone", "ada")


def test_an_unreadable_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(RoutingModelError, match="cannot read the routing file"):
        load_routing_model(tmp_path / "missing.yml")


# --- rule descriptions and team names in the staff member's language -----------------

AUSTRIA = (
    "    description:\n      de: Österreich und die Schweiz.\n      en: Austria and Switzerland.\n"
)


def test_a_rules_description_has_a_text_per_language_or_one_for_all() -> None:
    rule = next(r for r in MODEL.rules if r.name == "austria_switzerland")
    assert rule.description == "Austria and Switzerland."  # what the explanation records
    assert rule.description_in("de") == "Österreich und die Schweiz."
    text, _ = broken(AUSTRIA, "    description: Österreich und die Schweiz.\n")
    single = next(r for r in parse_routing_model(text, Path("x")).rules if r.name == rule.name)
    assert single.description_in("de") == single.description_in("en") == single.description


def test_a_description_per_language_needs_both_languages() -> None:
    text, _ = broken(AUSTRIA, "    description:\n      de: Österreich und die Schweiz.\n")
    assert "needs a text for en" in fails(text)


def test_recorded_lines_quote_the_description_and_team_in_the_staff_members_language() -> None:
    lines = decide(country="AT").explanation + decide(country=None).explanation
    german = [in_language(line, MODEL, "de") for line in lines]
    assert "Rule austria_switzerland matched (country is AT): Österreich und die Schweiz." in german
    assert german[-1].endswith("it waits in the Vertrieb team queue.")
    assert [in_language(line, MODEL, "en") for line in lines] == list(lines)
    gone = "Rule gone matched: Whatever."
    assert in_language(gone, MODEL, "de") == gone
