"""The scoring model a marketing person edits (`bot/data/scoring.yml`), loaded and checked.

`load_scoring_model()` reads the file once and returns a `ScoringModel`; any mistake
(a typo in a key, a missing figure, points outside 0-100) raises `ScoringModelError`
whose message names the file and the line, so Lotse refuses to start instead of
failing in the middle of a conversation. Pure Python: no Rasa, no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from yaml.nodes import Node, SequenceNode

from lotse.yaml_model import NodeReader, number_value, shown

SCORING_FILE = Path(__file__).resolve().parents[1] / "bot" / "data" / "scoring.yml"
FIT_ATTRIBUTES = ("company_size", "industry", "role", "region")
LANGUAGES = ("de", "en")


class ScoringModelError(ValueError):
    """The scoring file is not a valid model; the message names file and line."""


@dataclass(frozen=True)
class SizeBand:
    low: int | None
    high: int | None
    points: int

    def contains(self, employees: int) -> bool:
        return (self.low is None or employees >= self.low) and (
            self.high is None or employees <= self.high
        )

    def describe(self) -> str:
        if self.low is None:
            return f"<= {self.high}"
        if self.high is None:
            return f">= {self.low}"
        return f"{self.low}-{self.high}"


@dataclass(frozen=True)
class FitRules:
    labels: dict[str, dict[str, str]]
    size_bands: tuple[SizeBand, ...]
    industry_points: dict[str, int]
    industry_otherwise: int
    role_points: dict[str, int]
    service_area: frozenset[str]
    points_inside: int
    points_outside: int


@dataclass(frozen=True)
class InterestEventKind:
    key: str
    points: int
    label: dict[str, str]


@dataclass(frozen=True)
class InterestRules:
    cap: int
    decay_after_days: int
    decay_factor: float
    events: dict[str, InterestEventKind]
    short_timeline_months: int


@dataclass(frozen=True)
class Threshold:
    fit: int
    interest: int


@dataclass(frozen=True)
class ScoringModel:
    fit: FitRules
    interest: InterestRules
    mql: Threshold
    sql: Threshold


class _Reader(NodeReader):
    error = ScoringModelError

    def number(self, node: Node, what: str) -> float:
        value = number_value(node)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value < 1:
            raise self.fail(node, f"{what} must be a number between 0 and 1, not {shown(node)}")
        return float(value)

    def points_table(self, node: Node, what: str) -> dict[str, int]:
        items = self.mapping(node, what)
        return {key: self.integer(value, f"{what}.{key}", 0, 100) for key, value in items.items()}


def _size_bands(reader: _Reader, node: Node) -> tuple[SizeBand, ...]:
    if not isinstance(node, SequenceNode) or not node.value:
        raise reader.fail(node, "fit.company_size.bands must be a list of {min, max, points}")
    bands = []
    for item in node.value:
        items = reader.mapping(item, "a company-size band", {"min", "max", "points"})
        low = reader.integer(items["min"], "min") if "min" in items else None
        high = reader.integer(items["max"], "max") if "max" in items else None
        if low is None and high is None:
            raise reader.fail(item, "a company-size band needs 'min', 'max' or both")
        if low is not None and high is not None and low > high:
            raise reader.fail(item, f"band min {low} is above its max {high}")
        points_node = reader.require(item, items, "points", "a company-size band")
        bands.append(SizeBand(low, high, reader.integer(points_node, "points", 0, 100)))
    for later in range(1, len(bands)):
        for earlier in range(later):
            if _overlap(bands[earlier], bands[later]):
                raise reader.fail(
                    node.value[later],
                    f"band {bands[later].describe()} overlaps band {bands[earlier].describe()}",
                )
    return tuple(bands)


def _overlap(one: SizeBand, two: SizeBand) -> bool:
    low = max(one.low if one.low is not None else -1, two.low if two.low is not None else -1)
    inf = 10**12
    high = min(one.high if one.high is not None else inf, two.high if two.high is not None else inf)
    return low <= high


def _fit(reader: _Reader, node: Node) -> FitRules:
    items = reader.mapping(node, "fit", set(FIT_ATTRIBUTES))
    labels = {}
    sections = {}
    allowed = {
        "company_size": {"label", "bands"},
        "industry": {"label", "values", "otherwise"},
        "role": {"label", "values"},
        "region": {"label", "inside", "points_inside", "points_outside"},
    }
    for attribute in FIT_ATTRIBUTES:
        section = reader.require(node, items, attribute, "fit")
        sections[attribute] = reader.mapping(section, f"fit.{attribute}", allowed[attribute])
        label = reader.require(section, sections[attribute], "label", f"fit.{attribute}")
        labels[attribute] = reader.labels(label, f"fit.{attribute}.label")
    size, industry, role, region = (sections[a] for a in FIT_ATTRIBUTES)
    inside = reader.require(items["region"], region, "inside", "fit.region")
    if not isinstance(inside, SequenceNode):
        raise reader.fail(inside, "fit.region.inside must be a list of country codes")
    codes = [str(code.value).upper() for code in inside.value]
    for code_node, code in zip(inside.value, codes, strict=True):
        if len(code) != 2 or not code.isalpha():
            raise reader.fail(code_node, f"'{code_node.value}' is not a two-letter country code")
    return FitRules(
        labels=labels,
        size_bands=_size_bands(
            reader, reader.require(items["company_size"], size, "bands", "fit.company_size")
        ),
        industry_points=reader.points_table(
            reader.require(items["industry"], industry, "values", "fit.industry"),
            "fit.industry.values",
        ),
        industry_otherwise=reader.integer(
            reader.require(items["industry"], industry, "otherwise", "fit.industry"),
            "fit.industry.otherwise",
            0,
            100,
        ),
        role_points=reader.points_table(
            reader.require(items["role"], role, "values", "fit.role"), "fit.role.values"
        ),
        service_area=frozenset(codes),
        points_inside=reader.integer(
            reader.require(items["region"], region, "points_inside", "fit.region"),
            "fit.region.points_inside",
            0,
            100,
        ),
        points_outside=reader.integer(
            reader.require(items["region"], region, "points_outside", "fit.region"),
            "fit.region.points_outside",
            0,
            100,
        ),
    )


def _interest(reader: _Reader, node: Node) -> InterestRules:
    keys = {"cap", "decay", "events", "short_timeline_months"}
    items = reader.mapping(node, "interest", keys)
    for key in sorted(keys):
        reader.require(node, items, key, "interest")
    decay = reader.mapping(items["decay"], "interest.decay", {"after_days", "factor"})
    events = {}
    for key, event_node in reader.mapping(items["events"], "interest.events").items():
        event = reader.mapping(event_node, f"interest.events.{key}", {"points", "label"})
        events[key] = InterestEventKind(
            key=key,
            points=reader.integer(
                reader.require(event_node, event, "points", key), f"{key}.points", 0, 100
            ),
            label=reader.labels(reader.require(event_node, event, "label", key), f"{key}.label"),
        )
    return InterestRules(
        cap=reader.integer(items["cap"], "interest.cap", 1, 1000),
        decay_after_days=reader.integer(
            reader.require(items["decay"], decay, "after_days", "interest.decay"),
            "interest.decay.after_days",
            1,
        ),
        decay_factor=reader.number(
            reader.require(items["decay"], decay, "factor", "interest.decay"),
            "interest.decay.factor",
        ),
        events=events,
        short_timeline_months=reader.integer(
            items["short_timeline_months"], "interest.short_timeline_months", 0, 120
        ),
    )


def _threshold(reader: _Reader, node: Node, what: str) -> Threshold:
    items = reader.mapping(node, what, {"fit", "interest"})
    return Threshold(
        fit=reader.integer(reader.require(node, items, "fit", what), f"{what}.fit", 0, 100),
        interest=reader.integer(
            reader.require(node, items, "interest", what), f"{what}.interest", 0, 1000
        ),
    )


def parse_scoring_model(text: str, path: Path) -> ScoringModel:
    """The model in `text` (the contents of `path`, which names it in errors)."""
    reader = _Reader(path)
    root = reader.root(text)
    keys = {"version", "fit", "interest", "lifecycle"}
    items = reader.mapping(root, "the scoring file", keys)
    if reader.integer(reader.require(root, items, "version", "the scoring file"), "version") != 1:
        raise reader.fail(items["version"], "only version 1 is known")
    lifecycle_keys = {"marketing_qualified_lead", "sales_qualified_lead"}
    lifecycle = reader.require(root, items, "lifecycle", "the scoring file")
    stages = reader.mapping(lifecycle, "lifecycle", lifecycle_keys)
    return ScoringModel(
        fit=_fit(reader, reader.require(root, items, "fit", "the scoring file")),
        interest=_interest(reader, reader.require(root, items, "interest", "the scoring file")),
        mql=_threshold(
            reader,
            reader.require(lifecycle, stages, "marketing_qualified_lead", "lifecycle"),
            "lifecycle.marketing_qualified_lead",
        ),
        sql=_threshold(
            reader,
            reader.require(lifecycle, stages, "sales_qualified_lead", "lifecycle"),
            "lifecycle.sales_qualified_lead",
        ),
    )


@lru_cache(maxsize=4)
def load_scoring_model(path: Path = SCORING_FILE) -> ScoringModel:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ScoringModelError(f"{path}: cannot read the scoring file ({error})") from error
    return parse_scoring_model(text, path)
