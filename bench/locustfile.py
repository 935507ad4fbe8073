"""Simulated visitors for Locust (`make bench-scaled`, bench/scaled.py drives it).

Two kinds of visitor, each holding one conversation at a time, one message after the
other (the next only after the answer, as a person chats); when a conversation ends
the visitor starts a new one, so the number of open conversations stays at the user
count for the whole run:

- `RestVisitor` speaks Rasa's REST channel (LOTSE_BENCH_RASA, HAProxy in front of
  the replicas): product questions, then a full qualification.
- `WidgetVisitor` speaks the website widget's protocol (LOTSE_BENCH_WEB): a visitor id
  from `/api/chat/visitor`, messages to `/api/chat`, product questions; every fourth
  asks for a person, reads its feed once (`/api/chat/updates`) and cancels the wait.

A message is an error unless it is answered 200 with at least one bot message. Each
visitor waits LOTSE_BENCH_THINK seconds between messages ("0.5-2.0", or "0" for the
ceiling) and appends each conversation (what it sent and had answered, when the first
message went out and the last answer came) to LOTSE_BENCH_SENT as one JSON line, so the
driver can check every message arrived once and in order in the tracker store.
Only synthetic texts: no real person's data.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
import uuid

from locust import HttpUser, between, constant, task

RASA = os.environ.get("LOTSE_BENCH_RASA", "http://127.0.0.1:5005")
WEB = os.environ.get("LOTSE_BENCH_WEB", "http://127.0.0.1:8080")
SENT = os.environ.get("LOTSE_BENCH_SENT", "bench-sent.jsonl")
TIMEOUT = 120
# Seconds a visitor waits before its next message, "low-high" (a person reads and
# types); "0": at once, to find the ceiling.
THINK = os.environ.get("LOTSE_BENCH_THINK", "0.5-2.0")
QUESTIONS = [
    "Was kostet eine P400?", "Wie lange dauert die Lieferung einer Presse?",
    "Bieten Sie Leasing an?", "Wie lange ist die Garantie?",
    "Was kostet NW-Connect im Monat?", "Wie wird das Wetter morgen?",
]  # fmt: skip
_numbers = itertools.count()
_write = threading.Lock()


def qualification(n: int) -> list[str]:
    return [
        "Ja", "Pressen für unsere neue Fertigungslinie", f"Testfirma {n} GmbH", "rund 60 Leute",
        "Metallbau", "Ich bin Geschäftsführer", "33602 Bielefeld", "in zwei Monaten", "Ja",
        f"Test Person {n}", f"bench{n}@lotse-bench.example", "Ja, passt so",
    ]  # fmt: skip


class Conversation(HttpUser):
    abstract = True
    wait_time = between(*(float(x) for x in THINK.split("-"))) if "-" in THINK else constant(0)

    def on_start(self) -> None:
        self.begin()

    def begin(self) -> None:
        """A new conversation."""
        self.number = next(_numbers)
        self.sender = f"bench-{uuid.uuid4().hex[:12]}"
        self.sent: list[str] = []
        self.first = self.last = 0.0
        self.script = iter(self.lines())

    def next_text(self) -> str:
        text = next(self.script, None)
        if text is None:  # this conversation is over: the next one starts
            self.record()
            self.begin()
            text = next(self.script)
        return text

    def lines(self) -> list[str]:
        raise NotImplementedError

    def send(self, url: str, text: str, name: str) -> None:
        body = {"sender": self.sender, "message": text, "metadata": {"language": "de"}}
        started = time.time()
        with self.client.post(url, json=body, name=name, timeout=TIMEOUT,
                              catch_response=True) as reply:  # fmt: skip
            if reply.status_code != 200:
                reply.failure(f"HTTP {reply.status_code}")
            elif not reply.json():
                reply.failure("no answer")
            else:
                self.sent.append(text)
                self.last = time.time()
        self.first = self.first or started

    def record(self) -> None:
        line = {"sender": self.sender, "sent": self.sent, "first": self.first, "last": self.last}
        with _write, open(SENT, "a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")

    def on_stop(self) -> None:
        self.record()


class RestVisitor(Conversation):
    weight = 1

    def lines(self) -> list[str]:
        start = self.number % len(QUESTIONS)
        return [*QUESTIONS[start : start + 2], "Was kostet eine P400?", *qualification(self.number)]

    @task
    def next_message(self) -> None:
        self.send(f"{RASA}/webhooks/rest/webhook", self.next_text(), "rest")


class WidgetVisitor(Conversation):
    weight = 1

    def begin(self) -> None:
        super().begin()
        issued = self.client.post(f"{WEB}/api/chat/visitor", name="widget: visitor id",
                                  timeout=TIMEOUT)  # fmt: skip
        self.sender = issued.json()["visitor_id"]

    def lines(self) -> list[str]:
        start = self.number % len(QUESTIONS)
        questions = [QUESTIONS[(start + i) % len(QUESTIONS)] for i in range(4)]
        if self.number % 4 == 0:
            return [*questions, "Ich möchte mit einem Menschen sprechen", "/cancel_handoff"]
        return questions

    @task
    def next_message(self) -> None:
        text = self.next_text()
        self.send(f"{WEB}/api/chat", text, "widget: chat")
        if text.startswith("Ich möchte mit einem Menschen"):
            self.client.get(f"{WEB}/api/chat/updates", params={"sender": self.sender, "after": 0},
                            name="widget: updates", timeout=TIMEOUT)  # fmt: skip
