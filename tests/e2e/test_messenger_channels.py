"""Every messenger channel over the running stack, against the fake platforms.

For each of Telegram, Facebook Messenger, WhatsApp (Twilio), Slack and Teams (Bot
Framework): a realistic inbound request, signed as the platform signs it, goes through
Lotse's wrapper and Rasa's connector to the bot, and the bot's reply arrives at the
fake platform's send API, rendered for it (German umlauts and emoji intact); an
unsigned request is refused with 401 and a badly signed one with 403, and neither
reaches the bot; during a handoff, the visitor's messages reach the console and a
colleague's reply arrives at the platform.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
import requests

from conversations.address_book import AddressBook
from conversations.texts import SQLiteTexts
from crm_adapter.port import Visit
from lotse.migrate import migrated_engine
from lotse.settings import Settings
from tests.support import fake_messengers as fm
from tests.support.console_client import add_users, logged_in
from tests.support.mailbox import code_mailed_to, mail_files
from tests.support.rest_client import Visitor
from wiring.services import services_for

pytestmark = pytest.mark.model
CHANNELS = ("telegram", "facebook", "twilio", "slack", "botframework")


@dataclass
class Person:
    """Someone writing on one platform; `recipient` is how the platform's API names them."""

    channel: str
    platform_id: str

    @property
    def recipient(self) -> str:
        if self.channel == "slack":
            return f"D{self.platform_id[1:]}"  # their direct-message channel with the bot
        if self.channel == "twilio":
            return f"whatsapp:{self.platform_id}"
        return self.platform_id

    @property
    def conversation_id(self) -> str:
        return f"{self.channel}:{self.recipient if self.channel == 'twilio' else self.platform_id}"


def someone(channel: str) -> Person:
    digits = str(uuid.uuid4().int)[:12]
    return Person(
        channel,
        {
            "telegram": digits[:10],
            "facebook": "6" + digits[:15],
            "twilio": "+49151" + digits[:8],
            "slack": "U" + uuid.uuid4().hex[:10].upper(),
            "botframework": "29:1" + uuid.uuid4().hex,
        }[channel],
    )


def request_for(
    rasa_url: str,
    fake: fm.FakeMessengers,
    person: Person,
    text: str,
    profile_name: str = "Anna Muster",
) -> tuple[str, bytes, dict[str, str]]:
    """(url, body, headers) of the platform's webhook call carrying `text`, signed."""
    url = f"{rasa_url}/webhooks/{person.channel}/webhook"
    if person.channel == "telegram":
        body = json.dumps(fm.telegram_update(int(person.platform_id), text)).encode()
        return url, body, fm.telegram_headers()
    if person.channel == "facebook":
        body = json.dumps(fm.facebook_event(person.platform_id, text)).encode()
        return url, body, fm.meta_headers(body)
    if person.channel == "twilio":
        form = fm.twilio_form(person.platform_id, text, profile_name)
        return url, fm.twilio_body(form), fm.twilio_headers(url, form)
    if person.channel == "slack":
        body = json.dumps(fm.slack_event(person.platform_id, person.recipient, text)).encode()
        return url, body, fm.slack_headers(body)
    service_url = f"{fake.url}/botframework"
    activity = fm.teams_activity(person.platform_id, text, service_url, f"a:{person.platform_id}")
    body = json.dumps(activity).encode()
    headers = {
        "Authorization": f"Bearer {fake.bot_framework_jwt(service_url)}",
        "Content-Type": "application/json",
    }
    return url, body, headers


def bad_signature(person: Person, fake: fm.FakeMessengers, url: str, body: bytes) -> dict:
    """Headers signed with the wrong secret (or, for Teams, a token for another bot)."""
    if person.channel == "telegram":
        return fm.telegram_headers("not-the-secret")
    if person.channel == "facebook":
        return fm.meta_headers(body, secret="not-the-app-secret")
    if person.channel == "twilio":
        return fm.twilio_headers(url, dict(_form(body)), token="not-the-auth-token")
    if person.channel == "slack":
        return fm.slack_headers(body, secret="not-the-signing-secret")
    token = fake.bot_framework_jwt(f"{fake.url}/botframework", app_id=str(uuid.uuid4()))
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def _form(body: bytes) -> list[tuple[str, str]]:
    return parse_qsl(body.decode())


def say(
    stack: Settings, fake: fm.FakeMessengers, person: Person, text: str, **profile: str
) -> None:
    """Sends `text` as `person`'s platform does and waits until its turn ran (the webhook
    answers once the message is stored; the turn follows, bot/channels/inbox.py)."""
    url, body, headers = request_for(stack.rasa_url, fake, person, text, **profile)
    answer = requests.post(url, data=body, headers=headers, timeout=60)
    assert answer.status_code == 200, (answer.status_code, answer.text)
    inbox = services_for(stack.database_url).inbox
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if all(e["done_at"] is not None for e in inbox.events(person.conversation_id)):
            return
        time.sleep(0.05)
    raise AssertionError("the message's turn did not run within a minute")


def until(read: Callable[[], list], timeout: float = 30) -> list:
    """What `read` returns once it is not empty (Slack hands messages on after answering)."""
    deadline = time.monotonic() + timeout
    while not (found := read()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def buttons_of(sent: fm.Sent) -> list[str]:
    """The titles of the native buttons a message carries, whatever the platform."""
    body = sent.body
    if sent.platform == "telegram":
        rows = (body.get("reply_markup") or {}).get("inline_keyboard", [])
        return [button["text"] for row in rows for button in row]
    if sent.platform == "facebook":
        return [q["title"] for q in body["message"].get("quick_replies", [])]
    if sent.platform == "slack":
        blocks = body.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        return [e["text"]["text"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    if sent.platform == "botframework":
        cards = body.get("attachments") or [{"content": {}}]
        return [b["title"] for b in cards[0]["content"].get("buttons", [])]
    return []


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_signed_message_gets_the_bots_answer_rendered_for_the_platform(
    stack, stack_messengers, channel
):
    person = someone(channel)
    say(stack, stack_messengers, person, "Was kostet eine P400? Grüße 👋")
    sent = stack_messengers.wait_for(channel, person.recipient, count=2)
    texts = [s.text for s in sent]
    assert "P400 ab 140.000 EUR" in texts[0] and "für Ihre Ausführung" in texts[0]
    assert any("Anfrage an unseren Vertrieb" in t for t in texts)
    if channel == "twilio":  # no buttons on WhatsApp through Twilio: numbered choices
        assert "\n1. Ja\n2. Nein" in texts[-1]
        assert all(buttons_of(s) == [] for s in sent)
    else:
        assert buttons_of(sent[-1]) == ["Ja", "Nein"]
    book = AddressBook(migrated_engine(stack.database_url))
    assert book.address(person.conversation_id) is not None


@pytest.mark.parametrize("channel", CHANNELS)
def test_unsigned_or_badly_signed_requests_are_refused(stack, stack_messengers, channel):
    person = someone(channel)
    url, body, headers = request_for(stack.rasa_url, stack_messengers, person, "Hallo")
    signature_header = {
        "telegram": "X-Telegram-Bot-Api-Secret-Token",
        "facebook": "X-Hub-Signature-256",
        "twilio": "X-Twilio-Signature",
        "slack": "X-Slack-Signature",
        "botframework": "Authorization",
    }[channel]
    unsigned = {k: v for k, v in headers.items() if k != signature_header}
    assert requests.post(url, data=body, headers=unsigned, timeout=30).status_code == 401
    forged = bad_signature(person, stack_messengers, url, body)
    assert requests.post(url, data=body, headers=forged, timeout=30).status_code == 403
    tampered = body.replace(b"Hallo", b"Hallx")
    if channel not in ("telegram", "botframework"):  # their tokens do not cover the body
        assert requests.post(url, data=tampered, headers=headers, timeout=30).status_code == 403
    say(stack, stack_messengers, person, "Hallo")  # the same request, signed, gets an answer
    stack_messengers.wait_for(channel, person.recipient)
    assert (
        AddressBook(migrated_engine(stack.database_url)).address(person.conversation_id) is not None
    )


def test_rasas_telegram_set_webhook_route_is_not_served(stack, stack_messengers):
    """Anyone could call it to register the webhook again without the secret (issue 18)."""
    before = sum(1 for platform, path in list(stack_messengers.calls)
                 if platform == "telegram" and path.lower().endswith("/setwebhook"))  # fmt: skip
    for method in ("GET", "POST"):
        url = f"{stack.rasa_url}/webhooks/telegram/set_webhook"
        assert requests.request(method, url, timeout=30).status_code == 404
    after = sum(1 for platform, path in list(stack_messengers.calls)
                if platform == "telegram" and path.lower().endswith("/setwebhook"))  # fmt: skip
    assert after == before


def test_a_slack_replay_outside_five_minutes_is_refused(stack, stack_messengers):
    person = someone("slack")
    url, body, _ = request_for(stack.rasa_url, stack_messengers, person, "Hallo")
    stale = fm.slack_headers(body, at=int(time.time()) - 301)
    assert requests.post(url, data=body, headers=stale, timeout=30).status_code == 403


@pytest.fixture(scope="module")
def staff(stack: Settings) -> Settings:
    add_users(stack.database_url)
    return stack


@pytest.mark.parametrize("channel", CHANNELS)
def test_handoff_in_the_channel_reaches_the_console_and_the_agents_reply_the_platform(
    staff, stack_messengers, channel
):
    person = someone(channel)
    say(staff, stack_messengers, person, "Kann ich bitte mit einem Menschen sprechen?")
    [connecting] = stack_messengers.wait_for(channel, person.recipient)
    assert "Ich verbinde Sie" in connecting.text
    store = services_for(staff.database_url).handoffs
    handoff = store.open_handoff(person.conversation_id)
    assert handoff is not None and handoff.channel == channel
    say(staff, stack_messengers, person, "Wir brauchen eine Presse für Aluminium ✨")
    seen = until(
        lambda: [m.text for m in store.messages(person.conversation_id, senders=["visitor"])]
    )
    assert seen == ["Wir brauchen eine Presse für Aluminium ✨"]  # Slack's arrives after its 200
    jonas = logged_in(f"http://{staff.host}:{staff.console_port}", "jonas")
    assert jonas.post(f"/console/api/handoffs/{handoff.id}/claim").ok
    reply = "Grüß Gott! Für Aluminium empfehle ich die P400 – ich schicke Ihnen Details 📎"
    assert jonas.post(f"/console/api/handoffs/{handoff.id}/messages", {"text": reply}).ok
    texts = [s.text for s in stack_messengers.wait_for(channel, person.recipient, count=3)]
    assert any(t.endswith(reply) for t in texts), texts  # after "... joined" and the bot's line
    assert jonas.post(f"/console/api/handoffs/{handoff.id}/close", {"outcome": "other"}).ok


QUALIFICATION = ["Pressen für unsere neue Fertigungslinie", "Müller Metallbau GmbH",
                 "rund 60 Leute", "Metallbau", "Ich bin Geschäftsführerin", "33602 Bielefeld",
                 "in zwei Monaten", "Ja", "Anna Muster"]  # fmt: skip


def transcript(stack: Settings, conversation_id: str) -> list[str]:
    """What the visitor wrote in a conversation, from Rasa's tracker store."""
    path = Path(stack.database_url.removeprefix("sqlite:///")).parent / "tracker.db"
    events = json.loads(SQLiteTexts(str(path))[conversation_id])["events"]
    return [e.get("text") or "" for e in events if e.get("event") == "user"]


def test_whatsapp_then_website_with_the_same_email_is_one_lead_after_the_code(
    stack, stack_messengers
):
    """The address typed on the website is only a claim until the code mailed to it is
    typed back (issue 18); then the website conversation joins the WhatsApp lead."""
    email = f"anna.{uuid.uuid4().hex[:6]}@mueller-metallbau.example"
    whatsapp = someone("twilio")
    before_whatsapp = mail_files(stack)
    for line in ["Was kostet eine P400?", "1", *QUALIFICATION, email]:  # "1": the first choice
        say(stack, stack_messengers, whatsapp, line)
    code_mailed_to(stack, email, before_whatsapp)  # its own code (a new address), not typed
    texts = [s.text for s in stack_messengers.sent_to("twilio", whatsapp.recipient)]
    assert any("einverstanden" in t for t in texts) and email in texts[-1]
    crm = services_for(stack.database_url).crm
    on_whatsapp = crm.find_by_email(email)
    assert on_whatsapp is not None and on_whatsapp.name == "Anna Muster"

    website = Visitor(stack.rasa_url, metadata={"language": "de", "visitor_id": uuid.uuid4().hex})
    website.joined("Was kostet eine P200?")
    seen = mail_files(stack)
    for line in ["Ja", *QUALIFICATION, email]:
        website.say(line)
    assert crm.find_by_email(email) == on_whatsapp  # a claim: nothing joined yet
    assert "verbunden" in website.joined(code_mailed_to(stack, email, seen))
    lead = crm.find_by_email(email)
    assert lead is not None and lead.lead_id == on_whatsapp.lead_id
    assert {whatsapp.conversation_id, website.sender} <= set(lead.conversation_ids)
    assert [(m.reason, m.target_lead_id) for m in crm.merges(lead.lead_id)] == [
        ("email", lead.lead_id)
    ]
    assert "Was kostet eine P400?" in transcript(stack, whatsapp.conversation_id)
    assert "Was kostet eine P200?" in transcript(stack, website.sender)


def test_a_whatsapp_profile_name_is_used_only_after_consent(stack, stack_messengers):
    person = someone("twilio")
    profile = {"profile_name": "Jörg Weiß 🌻"}
    for line in ["Was kostet eine P400?", "Ja", *QUALIFICATION[:7]]:
        say(stack, stack_messengers, person, line, **profile)
    crm = services_for(stack.database_url).crm
    visit = Visit(person.conversation_id, "twilio")
    assert crm.lead_for(visit).name is None  # asked for consent, not given yet
    say(stack, stack_messengers, person, "Ja", **profile)  # the consent
    lead = crm.lead_for(visit)
    assert lead.name == "Jörg Weiß 🌻" and lead.answers["name"].source == "profile"
    assert lead.phone == person.platform_id  # the WhatsApp number, after the consent
