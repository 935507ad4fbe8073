"""A tiny client of Lotse's REST channel for the end-to-end tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import requests


def website_visitor_id(web_url: str) -> str:
    """A visitor id the website issued (`POST /api/chat/visitor`): what the widget uses,
    and what the website's own endpoints accept."""
    reply = requests.post(f"{web_url}/api/chat/visitor", timeout=30)
    assert reply.status_code == 200, reply.text
    return reply.json()["visitor_id"]


@dataclass
class Visitor:
    base_url: str
    metadata: dict = field(default_factory=dict)
    sender: str = field(default_factory=lambda: f"test-{uuid.uuid4().hex[:12]}")

    def say(self, text: object) -> list[dict]:
        reply = requests.post(
            f"{self.base_url}/webhooks/rest/webhook",
            json={"sender": self.sender, "message": text, "metadata": self.metadata},
            timeout=60,
        )
        assert reply.status_code == 200, reply.text
        return reply.json()

    def texts(self, text: object) -> list[str]:
        return [m.get("text", "") for m in self.say(text)]

    def joined(self, text: object) -> str:
        return " ".join(self.texts(text))
