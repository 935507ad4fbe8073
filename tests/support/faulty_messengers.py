"""The fake messenger platforms of `tests/support/fake_messengers.py`, with scripted faults.

`FaultyMessengers` answers like `FakeMessengers`, except that the calls which send a
message (Telegram's sendMessage, the Graph API's me/messages, Twilio's Messages.json,
Slack's chat.postMessage, the Bot Framework's activities) first take the next fault
scripted for their platform (`script(platform, *faults)`), or DOWN while an outage
lasts (`outage(platform, seconds)`), each as the platform answers it:

- `DOWN`: 503 with an HTML page, what a platform's front proxy answers in an outage;
- `LIMITED`: the platform's rate limit: 429 with `Retry-After: 1` (Telegram also
  `parameters.retry_after`; Slack `error: ratelimited`); Meta answers its rate limit
  with 400 and error code 613, Twilio with 429 and code 20429, neither with Retry-After;
- `SLOW`: the normal answer, after SLOW_SECONDS;
- `SILENT`: the request is read, then the connection is closed without an answer
  (the message may or may not have been taken);
- `BLOCKED`: the platform's refusal that no retry changes (the person blocked the bot,
  left the window, the chat is gone).

Every send call is logged in `attempts` with its time and what it got.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any

from tests.support.fake_messengers import FakeMessengers, _Handler
from tests.support.fake_servers import FakeApiServer

DOWN, LIMITED, SLOW, SILENT, BLOCKED = "down", "limited", "slow", "silent", "blocked"
SLOW_SECONDS = 1.5
RETRY_AFTER_SECONDS = 1

LIMITED_ANSWERS: dict[str, tuple[int, dict[str, str], Any]] = {
    "telegram": (429, {"Retry-After": "1"}, {
        "ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": RETRY_AFTER_SECONDS}}),
    "facebook": (400, {}, {"error": {
        "message": "(#613) Calls to this api have exceeded the rate limit.",
        "type": "OAuthException", "code": 613, "fbtrace_id": "AbCdEf"}}),
    "twilio": (429, {}, {"code": 20429, "message": "Too Many Requests", "status": 429,
                         "more_info": "https://www.twilio.com/docs/errors/20429"}),
    "slack": (429, {"Retry-After": "1"}, {"ok": False, "error": "ratelimited"}),
    "botframework": (429, {"Retry-After": "1"}, {"error": {
        "code": "TooManyRequests", "message": "Too many requests"}}),
}  # fmt: skip
BLOCKED_ANSWERS: dict[str, tuple[int, Any]] = {
    "telegram": (403, {"ok": False, "error_code": 403,
                       "description": "Forbidden: bot was blocked by the user"}),
    "facebook": (400, {"error": {"message": "(#551) This person isn't available right now.",
                                 "type": "OAuthException", "code": 551,
                                 "error_subcode": 1545041}}),
    "twilio": (400, {"code": 63016, "status": 400, "message": "Failed to send freeform "
                     "message because you are outside the allowed window."}),
    "slack": (200, {"ok": False, "error": "channel_not_found"}),
    "botframework": (403, {"error": {"code": "BotDisabled", "message": "The bot is disabled"}}),
}  # fmt: skip


@dataclass(frozen=True)
class Attempt:
    at: float  # time.monotonic()
    platform: str
    fault: str | None  # None: answered normally


def sends_a_message(platform: str, rest: str) -> bool:
    return {
        "telegram": rest.lower().endswith("/sendmessage"),
        "facebook": rest.endswith("/me/messages"),
        "twilio": rest.endswith("/Messages.json"),
        "slack": rest.endswith("/chat.postMessage"),
        "botframework": "/v3/conversations/" in rest,
    }.get(platform, False)


class FaultyMessengers(FakeMessengers):
    def __init__(self) -> None:
        super().__init__()
        self._server.server_close()  # never started: the same fake, another handler
        self._serve(FakeApiServer(self, _FaultyHandler))
        self.faults: dict[str, deque[str]] = defaultdict(deque)
        self.attempts: list[Attempt] = []
        self.fault_lock = threading.Lock()
        self.down_until: dict[str, float] = {}

    def outage(self, platform: str, seconds: float) -> float:
        """`platform`'s API answers DOWN to every send for `seconds` from now; returns
        when (time.monotonic()) it is back."""
        with self.fault_lock:
            self.down_until[platform] = time.monotonic() + seconds
            return self.down_until[platform]

    def script(self, platform: str, *faults: str) -> None:
        with self.fault_lock:
            self.faults[platform].extend(faults)

    def next_fault(self, platform: str) -> str | None:
        with self.fault_lock:
            queue = self.faults[platform]
            fault = queue.popleft() if queue else None
            if fault is None and time.monotonic() < self.down_until.get(platform, 0.0):
                fault = DOWN
            self.attempts.append(Attempt(time.monotonic(), platform, fault))
            return fault

    def attempts_of(self, platform: str) -> list[Attempt]:
        with self.fault_lock:
            return [a for a in self.attempts if a.platform == platform]


class _FaultyHandler(_Handler):
    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        platform, _, rest = path.lstrip("/").partition("/")
        if not sends_a_message(platform, "/" + rest):
            return super().do_POST()
        fake: FaultyMessengers = self.server.fake
        fault = fake.next_fault(platform)
        if fault is None:
            return super().do_POST()
        if fault == SLOW:
            time.sleep(SLOW_SECONDS)
            return super().do_POST()
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if fault == SILENT:
            self.close_connection = True
            return None
        if fault == DOWN:
            page = b"<html><body><h1>503 Service Unavailable</h1></body></html>"
            self.send_response(503)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)
            return None
        if fault == LIMITED:
            status, headers, body = LIMITED_ANSWERS[platform]
            return self.send_json(status, headers, body)
        status, body = BLOCKED_ANSWERS[platform]
        return self.send_json(status, {}, body)


def texts_sent(fake: FakeMessengers, platform: str) -> list[str]:
    """What reached `platform`, in order (each accepted message once per acceptance)."""
    with fake.lock:
        return [s.text for s in fake.sent if s.platform == platform]
