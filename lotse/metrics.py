"""The process's Prometheus metrics (`prometheus_client`), served at `/metrics`.

Each process exposes its own (docs/operations.md lists which process has which):
- `lotse_turns_total{channel,status}`, `lotse_turn_seconds{channel}`: the messages Rasa
  answered through a channel's webhook and how long each took (the Rasa process);
- `lotse_fallbacks_total{kind}`: messages the bot did not understand (`nlu_fallback`)
  or took for off-topic (`out_of_scope`) (the Rasa process);
- `lotse_delivery_failures_total{connector,outcome}`: deliveries to a CRM or a
  notification channel that failed, to be retried (`retry`) or given up (`dead`)
  (the delivery worker, the console for notifications);
- `lotse_messenger_events_total{channel,outcome}`: messenger webhook messages stored
  (`stored`) or recognised as sent again by the platform (`repeated`), and
  `lotse_messenger_dead_letters_total{channel,kind}`: messages to a messenger given up
  (`refused`, `unknown`, `busy`, `expired`) (the Rasa process);
- `lotse_logins_refused_total{reason}`: staff console logins refused (the console);
- the stores' gauges, read when scraped (`wiring.store_metrics`, the console):
  `lotse_handoffs_waiting`, `lotse_outbox_pending{connector}`,
  `lotse_outbox_oldest_seconds{connector}`, `lotse_outbox_dead{connector}`,
  `lotse_messenger_inbox_open` (messenger messages whose turn has not run yet) and
  `lotse_messenger_undelivered` (messages to a messenger given up: the dead letters,
  listed for admins at /console/api/undelivered).
No label holds personal data: channels, connectors and reasons are names from the
configuration.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

disable_created_metrics()  # no `_created` series: the counters' start says nothing here

TURNS = Counter(
    "lotse_turns", "Messages answered through a channel's webhook", ["channel", "status"]
)
TURN_SECONDS = Histogram(
    "lotse_turn_seconds", "Time from a message's arrival to the bot's answer", ["channel"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)  # fmt: skip
FALLBACKS = Counter(
    "lotse_fallbacks", "Messages not understood (nlu_fallback) or off-topic (out_of_scope)",
    ["kind"],
)  # fmt: skip
DELIVERY_FAILURES = Counter(
    "lotse_delivery_failures", "Deliveries to a CRM or a notification channel that failed",
    ["connector", "outcome"],
)  # fmt: skip
MESSENGER_EVENTS = Counter(
    "lotse_messenger_events", "Messenger webhook messages stored, or recognised as sent again",
    ["channel", "outcome"],
)  # fmt: skip
DEAD_LETTERS = Counter(
    "lotse_messenger_dead_letters",
    "Messages to a messenger given up (refused, no answer, busy too long, expired)",
    ["channel", "kind"],
)  # fmt: skip
LOGINS_REFUSED = Counter("lotse_logins_refused", "Staff console logins refused", ["reason"])


def exposition() -> tuple[bytes, str]:
    """The process's metrics in Prometheus' text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
