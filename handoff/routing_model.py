"""The routing a sales-ops person edits (`bot/data/routing.yml`), loaded and checked.

`load_routing_model()` reads the file and returns a `RoutingModel`: the teams with
their office hours, the staff who take conversations, and the ordered routing rules.
Any mistake (an unknown key, a rule naming somebody who is not on the staff list, an
unknown team, a bad time range or weekday, a duplicate rule name, a language other
than de/en, a bad date, a holiday country or subdivision the `holidays` package does
not know) raises `RoutingModelError` whose message names the file and the line, so
Lotse refuses to start (and `lotse build` fails) instead of routing a lead to nobody.
The model holds staff names and work emails (no visitor data). Pure Python: no Rasa,
no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, time
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from handoff.office_hours import WEEKDAYS, Holidays, OfficeHours, holiday_calendar_problem
from lotse.yaml_model import NodeReader

ROUTING_FILE = Path(__file__).resolve().parents[1] / "bot" / "data" / "routing.yml"
LANGUAGES = ("de", "en")
NEEDS = ("sales", "service")
PRODUCT_LINES = ("presses", "conveyors", "software", "service")
DEFAULT_CAPACITY = 3
DEFAULT_CLAIM_TIMEOUT_SECONDS = 120
_TIME_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_KEY = re.compile(r"^[a-z][a-z0-9_]*$")


class RoutingModelError(ValueError):
    """The routing file is not a valid model; the message names file and line."""


@dataclass(frozen=True)
class Team:
    key: str
    label: dict[str, str]
    email: str
    office_hours: OfficeHours
    claim_timeout_seconds: int


@dataclass(frozen=True)
class StaffMember:
    id: str
    name: str
    team: str
    languages: tuple[str, ...]
    capacity: int
    email: str
    products: frozenset[str] | None  # None: sells every product line
    working_hours: OfficeHours

    @property
    def first_name(self) -> str:
        return self.name.split()[0]


@dataclass(frozen=True)
class Conditions:
    """What a rule asks of a request; None means the rule does not look at it."""

    need: str | None = None
    product_line: frozenset[str] | None = None
    employees_over: int | None = None
    country: frozenset[str] | None = None
    postal_prefix: tuple[str, ...] | None = None
    country_not: frozenset[str] | None = None
    language: frozenset[str] | None = None


@dataclass(frozen=True)
class Rule:
    name: str
    descriptions: dict[str, str]  # a text per language (one text in the file: it for each)
    when: Conditions
    staff: tuple[str, ...]  # named people, in round-robin order (empty when `team` is set)
    team: str | None  # a whole team (its members in staff-file order)

    @property
    def description(self) -> str:
        """The English one, as the routing explanation records it."""
        return self.descriptions["en"]

    def description_in(self, language: str) -> str:
        return self.descriptions.get(language, self.description)


@dataclass(frozen=True)
class RoutingModel:
    teams: dict[str, Team]
    staff: dict[str, StaffMember]
    rules: tuple[Rule, ...]
    fallback_team: str

    def team_members(self, team: str) -> tuple[str, ...]:
        """The staff ids of `team`, in the order of the staff list."""
        return tuple(member.id for member in self.staff.values() if member.team == team)

    def label_of(self, staff_id: str, language: str) -> str:
        """How a person signs in the chat: "Anna, Vertrieb" / "Anna, Sales"."""
        member = self.staff[staff_id]
        label = self.teams[member.team].label
        return f"{member.first_name}, {label.get(language, label['en'])}"


class _Reader(NodeReader):
    error = RoutingModelError

    def keyed(self, node: Node, what: str) -> dict[str, tuple[Node, Node]]:
        """A mapping whose keys are names the file chooses (team keys, staff ids)."""
        items = self.mapping(node, what)
        if not items:
            raise self.fail(node, f"{what} must not be empty")
        result = {}
        for key_node, value_node in node.value:
            if not _KEY.match(str(key_node.value)):
                raise self.fail(
                    key_node,
                    f"'{key_node.value}' in {what} must be lower-case letters, digits and _",
                )
            result[str(key_node.value)] = (key_node, value_node)
        return result

    def texts(self, node: Node, what: str) -> list[tuple[Node, str]]:
        """A list of texts; a single text is read as a list of one."""
        items = node.value if isinstance(node, SequenceNode) else [node]
        if not items:
            raise self.fail(node, f"{what} must not be an empty list")
        return [(item, self.text(item, f"an entry of {what}")) for item in items]

    def choices(self, node: Node, what: str, allowed: tuple[str, ...]) -> list[str]:
        values = []
        for item, value in self.texts(node, what):
            if value not in allowed:
                raise self.fail(item, f"'{value}' in {what} is not one of {', '.join(allowed)}")
            values.append(value)
        return values

    def countries(self, node: Node, what: str) -> frozenset[str]:
        codes = set()
        for item, value in self.texts(node, what):
            if not _COUNTRY.match(value.upper()):
                raise self.fail(item, f"'{value}' in {what} is not a two-letter country code")
            codes.add(value.upper())
        return frozenset(codes)

    def email(self, node: Node, what: str) -> str:
        value = self.text(node, what)
        if not _EMAIL.match(value):
            raise self.fail(node, f"{what} '{value}' is not an email address")
        return value


def _days(reader: _Reader, node: Node, what: str) -> dict[int, tuple[time, time]]:
    items = reader.mapping(node, what, set(WEEKDAYS))
    if not items:
        raise reader.fail(node, f"{what} needs at least one working day")
    days = {}
    for name, value in items.items():
        text = reader.text(value, f"{what}.{name}")
        match = _TIME_RANGE.match(text)
        if match is None:
            raise reader.fail(value, f"{what}.{name} must look like 08:00-17:00, not '{text}'")
        hour1, minute1, hour2, minute2 = (int(part) for part in match.groups())
        try:
            start, end = time(hour1, minute1), time(hour2, minute2)
        except ValueError as error:
            raise reader.fail(value, f"{what}.{name} '{text}': {error}") from error
        if not start < end:
            raise reader.fail(value, f"{what}.{name} '{text}': the start is not before the end")
        days[WEEKDAYS.index(name)] = (start, end)
    return days


def _holidays(reader: _Reader, node: Node, what: str) -> Holidays:
    items = reader.mapping(node, what, {"country", "subdivision", "extra"})
    country_node = reader.require(node, items, "country", what)
    country = reader.text(country_node, f"{what}.country").upper()
    problem = holiday_calendar_problem(country, None)
    if problem is not None:
        raise reader.fail(country_node, f"{what}.country: {problem}")
    subdivision = None
    if "subdivision" in items:
        subdivision_node = items["subdivision"]
        subdivision = reader.text(subdivision_node, f"{what}.subdivision")
        problem = holiday_calendar_problem(country, subdivision)
        if problem is not None:
            raise reader.fail(subdivision_node, f"{what}.subdivision: {problem}")
    extra = set()
    if "extra" in items:
        extra_node = items["extra"]
        if not isinstance(extra_node, SequenceNode):
            raise reader.fail(extra_node, f"{what}.extra must be a list of dates (2026-12-24)")
        for item in extra_node.value:
            text = reader.text(item, f"an entry of {what}.extra")
            try:
                extra.add(date.fromisoformat(text))
            except ValueError as error:
                message = f"'{text}' in {what}.extra is not a date like 2026-12-24"
                raise reader.fail(item, message) from error
    return Holidays(country=country, subdivision=subdivision, extra=frozenset(extra))


def _team(reader: _Reader, key: str, node: Node) -> Team:
    what = f"team '{key}'"
    keys = {"label", "email", "office_hours", "holidays", "claim_timeout_seconds"}
    items = reader.mapping(node, what, keys)
    hours_node = reader.require(node, items, "office_hours", what)
    hours = reader.mapping(hours_node, f"{what}.office_hours", {"timezone", "days"})
    zone_node = reader.require(hours_node, hours, "timezone", f"{what}.office_hours")
    zone = reader.text(zone_node, f"{what}.office_hours.timezone")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise reader.fail(zone_node, f"unknown time zone '{zone}' (e.g. Europe/Berlin)") from error
    timeout = DEFAULT_CLAIM_TIMEOUT_SECONDS
    if "claim_timeout_seconds" in items:
        timeout = reader.integer(items["claim_timeout_seconds"], "claim_timeout_seconds", 10)
    return Team(
        key=key,
        label=reader.labels(reader.require(node, items, "label", what), f"{what}.label"),
        email=reader.email(reader.require(node, items, "email", what), f"{what}.email"),
        office_hours=OfficeHours(
            timezone=zone,
            days=_days(
                reader,
                reader.require(hours_node, hours, "days", f"{what}.office_hours"),
                f"{what}.office_hours.days",
            ),
            holidays=_holidays(
                reader, reader.require(node, items, "holidays", what), f"{what}.holidays"
            ),
        ),
        claim_timeout_seconds=timeout,
    )


def _staff_member(reader: _Reader, key: str, node: Node, teams: dict[str, Team]) -> StaffMember:
    what = f"staff '{key}'"
    keys = {"name", "team", "languages", "capacity", "email", "products", "working_hours"}
    items = reader.mapping(node, what, keys)
    team_node = reader.require(node, items, "team", what)
    team_key = reader.text(team_node, f"{what}.team")
    if team_key not in teams:
        known = ", ".join(teams)
        raise reader.fail(team_node, f"{what}: unknown team '{team_key}' (teams: {known})")
    team = teams[team_key]
    languages = reader.choices(
        reader.require(node, items, "languages", what), f"{what}.languages", LANGUAGES
    )
    products: frozenset[str] | None = None
    if "products" in items and not (
        isinstance(items["products"], ScalarNode) and items["products"].value == "all"
    ):
        products = frozenset(reader.choices(items["products"], f"{what}.products", PRODUCT_LINES))
    working_hours = team.office_hours
    if "working_hours" in items:
        working_hours = OfficeHours(
            timezone=team.office_hours.timezone,
            days=_days(reader, items["working_hours"], f"{what}.working_hours"),
            holidays=team.office_hours.holidays,
        )
    capacity = DEFAULT_CAPACITY
    if "capacity" in items:
        capacity = reader.integer(items["capacity"], f"{what}.capacity", 1, 50)
    return StaffMember(
        id=key,
        name=reader.text(reader.require(node, items, "name", what), f"{what}.name"),
        team=team_key,
        languages=tuple(dict.fromkeys(languages)),
        capacity=capacity,
        email=reader.email(reader.require(node, items, "email", what), f"{what}.email"),
        products=products,
        working_hours=working_hours,
    )


def _conditions(reader: _Reader, node: Node, what: str) -> Conditions:
    keys = {
        "need",
        "product_line",
        "employees_over",
        "country",
        "postal_prefix",
        "country_not",
        "language",
    }
    items = reader.mapping(node, what, keys)
    need = None
    if "need" in items:
        need = reader.text(items["need"], f"{what}.need")
        if need not in NEEDS:
            raise reader.fail(items["need"], f"{what}.need '{need}' is not one of sales, service")
    conditions = Conditions(need=need)
    if "product_line" in items:
        lines = reader.choices(items["product_line"], f"{what}.product_line", PRODUCT_LINES)
        conditions = replace(conditions, product_line=frozenset(lines))
    if "employees_over" in items:
        over = reader.integer(items["employees_over"], f"{what}.employees_over", 0)
        conditions = replace(conditions, employees_over=over)
    if "country" in items:
        conditions = replace(
            conditions, country=reader.countries(items["country"], f"{what}.country")
        )
    if "postal_prefix" in items:
        texts = reader.texts(items["postal_prefix"], f"{what}.postal_prefix")
        conditions = replace(conditions, postal_prefix=tuple(value for _, value in texts))
    if "country_not" in items:
        conditions = replace(
            conditions, country_not=reader.countries(items["country_not"], f"{what}.country_not")
        )
    if "language" in items:
        languages = reader.choices(items["language"], f"{what}.language", LANGUAGES)
        conditions = replace(conditions, language=frozenset(languages))
    return conditions


def _rule(
    reader: _Reader, node: Node, teams: dict[str, Team], staff: dict[str, StaffMember]
) -> Rule:
    items = reader.mapping(node, "a rule", {"name", "description", "when", "to"})
    name_node = reader.require(node, items, "name", "a rule")
    name = reader.text(name_node, "a rule's name")
    if not _KEY.match(name):
        raise reader.fail(name_node, f"rule name '{name}' must be lower-case letters, digits, _")
    what = f"rule '{name}'"
    described = reader.require(node, items, "description", what)
    if isinstance(described, MappingNode):  # a text per language
        descriptions = reader.labels(described, f"{what}.description")
    else:
        descriptions = dict.fromkeys(LANGUAGES, reader.text(described, what))
    when = _conditions(reader, items["when"], f"{what}.when") if "when" in items else Conditions()
    to_node = reader.require(node, items, "to", what)
    to = reader.mapping(to_node, f"{what}.to", {"staff", "team"})
    if len(to) != 1:
        raise reader.fail(to_node, f"{what}.to needs either 'staff' or 'team' (one of them)")
    if "team" in to:
        team = reader.text(to["team"], f"{what}.to.team")
        if team not in teams:
            raise reader.fail(to["team"], f"{what}: unknown team '{team}'")
        return Rule(name=name, descriptions=descriptions, when=when, staff=(), team=team)
    ids = []
    for item, staff_id in reader.texts(to["staff"], f"{what}.to.staff"):
        if staff_id not in staff:
            raise reader.fail(item, f"{what}: unknown staff id '{staff_id}'")
        if staff_id in ids:
            raise reader.fail(item, f"{what}: '{staff_id}' is named twice")
        ids.append(staff_id)
    return Rule(name=name, descriptions=descriptions, when=when, staff=tuple(ids), team=None)


def parse_routing_model(text: str, path: Path) -> RoutingModel:
    """The model in `text` (the contents of `path`, which names it in errors)."""
    reader = _Reader(path)
    root = reader.root(text)
    keys = {"version", "teams", "staff", "routing_rules", "fallback_team"}
    items = reader.mapping(root, "the routing file", keys)
    if "version" in items and reader.integer(items["version"], "version") != 1:
        raise reader.fail(items["version"], "only version 1 is known")
    teams_node = reader.require(root, items, "teams", "the routing file")
    teams = {
        key: _team(reader, key, value)
        for key, (_, value) in reader.keyed(teams_node, "teams").items()
    }
    staff_node = reader.require(root, items, "staff", "the routing file")
    staff = {
        key: _staff_member(reader, key, value, teams)
        for key, (_, value) in reader.keyed(staff_node, "staff").items()
    }
    rules_node = reader.require(root, items, "routing_rules", "the routing file")
    if not isinstance(rules_node, SequenceNode):
        raise reader.fail(rules_node, "rules must be a list (first match wins)")
    rules: list[Rule] = []
    for rule_node in rules_node.value:
        rule = _rule(reader, rule_node, teams, staff)
        if any(earlier.name == rule.name for earlier in rules):
            raise reader.fail(rule_node, f"rule name '{rule.name}' appears twice")
        rules.append(rule)
    fallback_node = reader.require(root, items, "fallback_team", "the routing file")
    fallback = reader.text(fallback_node, "fallback_team")
    if fallback not in teams:
        raise reader.fail(fallback_node, f"fallback_team: unknown team '{fallback}'")
    return RoutingModel(teams=teams, staff=staff, rules=tuple(rules), fallback_team=fallback)


@lru_cache(maxsize=4)
def load_routing_model(path: Path = ROUTING_FILE) -> RoutingModel:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RoutingModelError(f"{path}: cannot read the routing file ({error})") from error
    return parse_routing_model(text, path)
