"""How the platforms call a webhook: each sends an event again when it gets no 2xx answer
in its time, a few times, with growing pauses (shortened here), as they document it.

- Slack: waits 3 s; sends again up to 3 times (at once, after 1 min and 5 min; here
  PAUSE_SECONDS), adding `X-Slack-Retry-Num` and `X-Slack-Retry-Reason`
  (`http_timeout`, `http_error`).
- Meta (Messenger): waits 20 s; sends again with backoff.
- Telegram, Twilio, Bot Framework: their own waits (Twilio 15 s); send again on an
  error or a timeout.

`deliver` returns every answer the webhook gave (None for a timeout), oldest first.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import requests

PAUSE_SECONDS = 0.5


@dataclass(frozen=True)
class Patience:
    seconds: float  # how long the platform waits for the answer
    resends: int  # how often it sends an event again


PATIENCE = {
    "slack": Patience(3.0, 3),
    "facebook": Patience(20.0, 3),
    "telegram": Patience(20.0, 3),
    "twilio": Patience(15.0, 1),
    "botframework": Patience(15.0, 2),
}


def deliver(channel: str, url: str, body: bytes, headers: dict[str, str]) -> list[int | None]:
    """Sends the event as `channel`'s platform does, again until it gets a 2xx."""
    patience = PATIENCE[channel]
    answers: list[int | None] = []
    for attempt in range(patience.resends + 1):
        sent = dict(headers)
        if attempt and channel == "slack":
            reason = "http_timeout" if answers[-1] is None else "http_error"
            sent |= {"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": reason}
        try:
            reply = requests.post(url, data=body, headers=sent, timeout=patience.seconds)
            status: int | None = reply.status_code
        except requests.Timeout:
            status = None
        answers.append(status)
        if status is not None and 200 <= status < 300:
            break
        time.sleep(PAUSE_SECONDS)
    return answers
