"""The insights report as flat tables: one per CSV of the console's API.

`tables(report)` turns `insights.report.Insights.report`'s answer into lists of flat
rows (`SECTIONS`, in this order); a cluster's texts become one cell. Pure.
"""

from __future__ import annotations

from typing import Any


def tables(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The report as flat tables (one per CSV of the API)."""
    overview = [{"metric": key, "value": value} for key, value in report["overview"].items()]
    clusters = [
        {"label": c["label"], "count": c["count"],
         "texts": " | ".join(f"{t['text']} ({t['count']})" for t in c["texts"])}
        for c in report["unanswered"]["clusters"]
    ]  # fmt: skip
    return {
        "overview": overview,
        "daily": report["daily"],
        "csat": report["csat"],
        "funnel": report["funnel"],
        "unanswered_kinds": report["unanswered"]["by_kind"],
        "unanswered_clusters": clusters,
        "scoring_bands": report["scoring"]["bands"],
        "scoring_rules": report["scoring"]["rules"],
        "experiments": report["experiments"],
    }


SECTIONS = (
    "overview", "daily", "csat", "funnel", "unanswered_kinds", "unanswered_clusters",
    "scoring_bands", "scoring_rules", "experiments",
)  # fmt: skip
