"""What the router is told of a conversation: the lead's answers that routing reads and
whether sales or technical service is meant.

Pure Python. `routing_request(lead, language, reason, topic, said, texts)`: words of
the visitor's message naming a team (`need_named`, handoff.yml) win; otherwise service
is meant when the bot could not answer (`out_of_depth`), the lead's need is service, or
the last question was on a service topic (`service_topics`); else sales. The product
line, country, postal code and size come from the lead's answered questions (None for
an unknown lead, a declined or missing answer).
"""

from __future__ import annotations

from typing import Any

from crm_adapter.port import ANSWERED, Lead
from handoff.routing import RoutingRequest
from handoff.texts import HandoffTexts


def answer_value(lead: Lead | None, attribute: str, key: str) -> Any:
    """A key of the lead's answered `attribute`, or None."""
    answer = lead.answers.get(attribute) if lead else None
    if answer is None or answer.status != ANSWERED or not answer.value:
        return None
    return answer.value.get(key)


def service_meant(
    lead: Lead | None, reason: str, topic: str | None, said: str, texts: HandoffTexts
) -> bool:
    named = texts.need_named(said)
    if named is not None:
        return named == "service"
    return (
        reason == "out_of_depth"
        or answer_value(lead, "need", "product_line") == "service"
        or (topic is not None and topic in texts.service_topics)
    )


def routing_request(
    lead: Lead | None, language: str, reason: str, topic: str | None, said: str,
    texts: HandoffTexts,
) -> RoutingRequest:  # fmt: skip
    product_line = answer_value(lead, "need", "product_line")
    employees = answer_value(lead, "employees", "count")
    return RoutingRequest(
        language=language,
        need="service" if service_meant(lead, reason, topic, said, texts) else "sales",
        product_line=product_line if isinstance(product_line, str) else None,
        country=answer_value(lead, "location", "country"),
        postal_code=answer_value(lead, "location", "postal_code"),
        employees=employees if isinstance(employees, int) else None,
    )
