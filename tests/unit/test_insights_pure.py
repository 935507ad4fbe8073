"""The pure insights modules: statistics against published values, question clusters,
and SVG charts (well-formed, escaped, one mark per data point)."""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET

import pytest

from insights.charts import (
    NO_DATA,
    bar_chart,
    column_chart,
    format_value,
    interval_chart,
    stacked_bar_chart,
)
from insights.clusters import NO_CONTENT_LABEL, Cluster, cluster_texts, stem
from insights.stats import difference_interval, median, rate, wilson_interval

SVG = "{http://www.w3.org/2000/svg}"


def close_to(published: tuple[float, float]) -> object:
    """Published to 4 decimals, so within 1e-4 (stricter than 3 decimals)."""
    return pytest.approx(published, abs=1e-4)


# --- stats -----------------------------------------------------------------------------


def test_rate_is_none_without_a_whole() -> None:
    assert rate(1, 4) == 0.25
    assert rate(0, 0) is None


@pytest.mark.parametrize(
    ("successes", "trials", "expected"),
    [
        # Newcombe (1998), single proportion, method 3 (Wilson score, no correction).
        (81, 263, (0.2553, 0.3662)),
        (15, 148, (0.0624, 0.1605)),
        (0, 20, (0.0, 0.1611)),
        (1, 29, (0.0061, 0.1718)),
    ],
)
def test_wilson_interval_matches_published_values(
    successes: int, trials: int, expected: tuple[float, float]
) -> None:
    assert wilson_interval(successes, trials) == close_to(expected)


def test_wilson_interval_edges() -> None:
    assert wilson_interval(0, 0) is None
    assert wilson_interval(0, 5) == (0.0, pytest.approx(0.4345, abs=1e-4))
    assert wilson_interval(20, 20) == (pytest.approx(0.8389, abs=1e-4), 1.0)
    with pytest.raises(ValueError):
        wilson_interval(5, 4)
    with pytest.raises(ValueError):
        wilson_interval(-1, 4)


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        # Newcombe (1998), difference of independent proportions, method 10.
        ((56, 70, 48, 80), (0.0524, 0.3339)),
        ((9, 10, 3, 10), (0.1705, 0.8090)),
        ((5, 56, 0, 29), (-0.0381, 0.1926)),
        ((0, 10, 0, 20), (-0.1611, 0.2775)),
        ((10, 10, 0, 20), (0.6791, 1.0)),
    ],
)
def test_difference_interval_matches_newcombe(
    counts: tuple[int, int, int, int], expected: tuple[float, float]
) -> None:
    assert difference_interval(*counts) == close_to(expected)


def test_difference_interval_needs_both_groups() -> None:
    assert difference_interval(1, 2, 0, 0) is None
    assert difference_interval(0, 0, 1, 2) is None
    with pytest.raises(ValueError):
        difference_interval(3, 2, 1, 2)


def test_median() -> None:
    assert median([]) is None
    assert median([3.0]) == 3.0
    assert median([5, 1, 3]) == 3.0
    assert median([4, 1, 3, 2]) == 2.5


# --- clusters ----------------------------------------------------------------------------

DELIVERY = [
    "Was kostet die Lieferung nach Polen?",
    "Wie teuer ist die Lieferung nach Polen",
    "Lieferung Polen Kosten?",
]
JOBS = ["Do you have a job opening?", "Are there any job openings"]


def test_similar_questions_cluster_together_in_either_language() -> None:
    clusters = cluster_texts(DELIVERY + JOBS + ["Do you have a job opening?"])

    assert [(c.label, c.count) for c in clusters] == [
        ("job / opening", 3),
        ("lieferung / polen / kosten", 3),
    ]
    jobs, delivery = clusters
    assert jobs.texts == (("Do you have a job opening?", 2), ("Are there any job openings", 1))
    assert {text for text, _ in delivery.texts} == set(DELIVERY)


def test_cluster_keeps_five_examples_most_frequent_first_and_counts_all() -> None:
    texts = [f"Preis für Modell {n}?" for n in range(100, 108)] + ["Preis für Modell 107?"] * 3
    (cluster,) = cluster_texts(texts)

    assert cluster.count == 11
    assert len(cluster.texts) == 5
    assert cluster.texts[0] == ("Preis für Modell 107?", 4)


def test_texts_without_content_words_get_their_own_cluster() -> None:
    clusters = cluster_texts(["???", "Hallo!", "   ", "Lieferung Polen?", "?!"])

    assert Cluster(NO_CONTENT_LABEL, 3, (("?!", 1), ("???", 1), ("Hallo!", 1))) in clusters
    assert sum(c.count for c in clusters) == 4  # the blank text is ignored


def test_clusters_are_deterministic_whatever_the_input_order() -> None:
    texts = DELIVERY * 3 + JOBS * 2 + ["Rechnung per E-Mail?", "Wo ist meine Rechnung"]
    shuffled = list(texts)
    random.Random(7).shuffle(shuffled)

    assert cluster_texts(shuffled) == cluster_texts(texts)
    assert cluster_texts([]) == []


def test_stemming_is_crude_but_shared() -> None:
    assert stem("lieferungen") == stem("lieferung") == "liefer"
    assert stem("openings") == stem("opening") == "open"
    assert stem("kosten") == stem("kostet") == "kost"
    assert stem("jobs") == "jobs"  # a stem shorter than 4 characters is not cut


def test_threshold_must_be_a_fraction() -> None:
    with pytest.raises(ValueError):
        cluster_texts(["a"], threshold=0)


def test_ten_thousand_questions_are_all_clustered() -> None:
    """Correctness only: how fast is `bench/insights.py`'s (no timed tests here)."""
    rng = random.Random(1)
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = ["".join(rng.choices(letters, k=rng.randint(4, 9))) for _ in range(800)]
    topics = [rng.sample(words, k=rng.randint(2, 4)) for _ in range(300)]
    texts = [
        "Wie " + " ".join(rng.sample(topic, k=rng.randint(1, len(topic))) + rng.choices(words))
        for topic in rng.choices(topics, k=10_000)
    ]

    clusters = cluster_texts(texts)

    assert sum(c.count for c in clusters) == 10_000
    assert 1 < len(clusters) < 10_000


# --- charts ------------------------------------------------------------------------------

HOSTILE = "<script>alert(1)</script>"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("class") == "chart"
    assert root.get("width") == "100%"
    assert root.get("viewBox", "").startswith("0 0 ")
    return root


def marks(root: ET.Element) -> list[ET.Element]:
    return [element for element in root.iter() if element.get("class") == "mark"]


def texts(root: ET.Element) -> list[str]:
    return [element.text or "" for element in root.iter(f"{SVG}text")]


def all_charts(title: str) -> list[tuple[str, int]]:
    """Each chart type with data, and the number of data points it was given."""
    return [
        (bar_chart(title, [("A", 3), ("B", 0), (HOSTILE, 1.5)]), 3),
        (stacked_bar_chart(title, [("Q1", [3, 1, 0, 2]), (HOSTILE, [0, 0, 1, 0])], SERIES), 8),
        (interval_chart(title, [("A", 0.3, 0.25, 0.37), (HOSTILE, 0.0, 0.0, 0.16)]), 2),
        (column_chart(title, [("1", 2), ("2", 0), ("3", 7), (HOSTILE, 1)]), 4),
    ]


SERIES = ["beantwortet / answered", "abgelehnt / declined", "abgebrochen / dropped", "offen"]


def test_every_chart_has_one_mark_per_data_point_and_parses() -> None:
    for svg, points in all_charts("Übersicht"):
        root = parse(svg)
        assert root.find(f"{SVG}title").text == "Übersicht"  # type: ignore[union-attr]
        found = marks(root)
        assert len(found) == points
        assert all(mark.get("data-value") is not None for mark in found)


def test_visitor_text_and_titles_are_escaped() -> None:
    for svg, _ in all_charts(f"Fragen {HOSTILE}"):
        assert "<script" not in svg
        assert "&lt;script&gt;" in svg
        parse(svg)


def test_empty_data_shows_a_notice_and_no_marks() -> None:
    empty = [
        bar_chart("Leer", []),
        stacked_bar_chart("Leer", [], SERIES),
        interval_chart("Leer", []),
        column_chart("Leer", []),
    ]
    for svg in empty:
        root = parse(svg)
        assert marks(root) == []
        assert NO_DATA in texts(root)


def test_percent_bars_show_percentages() -> None:
    root = parse(bar_chart("Quote", [("A", 0.42), ("B", 1.0)], percent=True))

    assert "42.0 %" in texts(root)
    assert "100.0 %" in texts(root)
    assert [mark.get("data-value") for mark in marks(root)] == ["0.42", "1"]


def test_values_are_formatted_with_units() -> None:
    assert format_value(12, "s") == "12 s"
    assert format_value(3.25) == "3.25"
    assert format_value(0.5, percent=True) == "50.0 %"
    root = parse(bar_chart("Dauer", [("Median", 95.5)], unit="s"))
    assert "95.5 s" in texts(root)


def test_interval_chart_draws_a_whisker_per_row() -> None:
    root = parse(interval_chart("A/B", [("A", 0.3, 0.25, 0.37), ("B", 0.2, 0.1, 0.3)]))

    whiskers = [element for element in root.iter() if element.get("class") == "whisker"]
    assert len(whiskers) == 2
    assert "30.0 % (25.0–37.0)" in texts(root)


def test_stacked_bars_name_their_series_and_total() -> None:
    root = parse(stacked_bar_chart("Fragen", [("Preis", [3, 1, 0, 2])], SERIES))

    assert set(SERIES) <= set(texts(root))
    assert "6" in texts(root)
    with pytest.raises(ValueError):
        stacked_bar_chart("Fragen", [("Preis", [1, 2])], SERIES)


def test_many_columns_thin_out_their_labels_but_keep_every_mark() -> None:
    days = [(f"{day}.11.", float(day % 5)) for day in range(1, 31)]
    root = parse(column_chart("Gespräche pro Tag", days))

    assert len(marks(root)) == 30
    drawn = [text for text in texts(root) if text.endswith(".11.")]
    assert 2 <= len(drawn) <= 15
    assert drawn[0] == "1.11."
    assert drawn[1] != "2.11."  # thinned out at a fixed step


def test_bad_values_are_refused() -> None:
    with pytest.raises(ValueError):
        bar_chart("x", [("A", -1)])
    with pytest.raises(ValueError):
        column_chart("x", [("A", float("nan"))])
    with pytest.raises(ValueError):
        interval_chart("x", [("A", 0.5, 0.6, 0.7)])
