"""An elliptical follow-up ("und die große?", "and how long for that one?") answered
for the product or topic of the previous answer.

Thin: the previous answer's topic and product are read from the conversation (the
last FAQ answer, the products the visitor named, or this action's own last subject,
kept in the slot `follow_up_subject`); `dialogue.understanding.follow_up` decides; the
answer is the product's own line for the topic (`products` in `content/faq.yml`) or
the topic's answer. With nothing to follow up on, the bot asks to rephrase.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.conversation import conversation_language
from dialogue.content import FAQ_INTENT_PREFIX, Content, load_content
from dialogue.qualification.interpret import read_need
from dialogue.understanding.follow_up import FollowUp, follow_up_answer, says_more
from dialogue.understanding.patterns import Phrase, compile_phrases
from dialogue.understanding.words import words_of

SUBJECT_SLOT = "follow_up_subject"
OFFER_SLOT = "follow_up_offer"
FAQ_RESPONSE_PREFIX = "utter_" + FAQ_INTENT_PREFIX
NAMED_TOPIC_CONFIDENCE = 0.5
"""A topic the follow-up names itself ("und wie lange dauert die Lieferung dafür")
wins over the previous topic when the classifier gives it this much."""
LOOK_BACK_EVENTS = 60


@lru_cache(maxsize=1)
def content() -> Content:
    return load_content()


@lru_cache(maxsize=1)
def product_phrases() -> dict[str, tuple[Phrase, ...]]:
    return {key: compile_phrases(p.words, typos_from=99) for key, p in content().products.items()}


def previous_subject(events: list[dict[str, Any]]) -> FollowUp | None:
    """Topic and product of the answer before the visitor's latest message."""
    topic = product = None
    before = events[:-1] if events and events[-1].get("event") == "user" else events
    for event in reversed(before[-LOOK_BACK_EVENTS:]):
        kind = event.get("event")
        if kind == "slot" and event.get("name") == SUBJECT_SLOT and topic is None:
            saved_topic, _, saved_product = str(event.get("value") or "").partition("|")
            topic, product = saved_topic or None, product or saved_product or None
        elif kind == "action" and topic is None:
            topic = _topic_of_response(event.get("name"))
        elif kind == "bot" and topic is None:
            topic = _topic_of_response((event.get("metadata") or {}).get("utter_action"))
        elif kind == "user" and product is None:
            product = _product_entity(event.get("parse_data") or {})
        if topic is not None and product is not None:
            break
    return FollowUp(topic, product) if topic is not None else None


def _topic_of_response(name: object) -> str | None:
    if isinstance(name, str) and name.startswith(FAQ_RESPONSE_PREFIX):
        topic = name[len(FAQ_RESPONSE_PREFIX) :]
        return topic if topic in content().topics else None
    return None


def _product_entity(parse_data: dict[str, Any]) -> str | None:
    found = [
        e.get("value") for e in parse_data.get("entities") or [] if e.get("entity") == "product"
    ]
    return next((str(v) for v in reversed(found) if v in content().products), None)


def line_of(topic: str | None, product: str | None) -> str | None:
    """The product line a topic or product is about (presses, software...)."""
    item = content().products.get(product or "")
    if item is not None and item.product_line:
        return item.product_line
    subject = content().topics.get(topic or "")
    return subject.product_line if subject is not None else None


def named_line(text: str) -> str | None:
    """The product line the follow-up names ("and the presses?"), by the need words."""
    reading = read_need(text, "de", date.today())
    return (reading.value or {}).get("product_line") if reading is not None else None


def named_topic(ranking: list[dict[str, Any]]) -> str | None:
    for entry in ranking:
        name = str(entry.get("name") or "")
        if name.startswith(FAQ_INTENT_PREFIX):
            topic = name[len(FAQ_INTENT_PREFIX) :]
            confident = float(entry.get("confidence") or 0.0) >= NAMED_TOPIC_CONFIDENCE
            return topic if confident and topic in content().topics else None
    return None


def follow_up_of(tracker: Tracker) -> FollowUp | None:
    """What the latest message follows up on: topic and product (see module)."""
    message = tracker.latest_message or {}
    words = words_of(message.get("text") or "")
    named = named_topic(message.get("intent_ranking") or [])
    return follow_up_answer(
        words,
        product_phrases(),
        named if says_more(words, product_phrases()) else None,
        previous_subject(list(tracker.events)),
        entity_product=_product_entity(message),
        named_line=named_line(message.get("text") or ""),
        line_of=line_of,
        on_line=content().on_line,
    )


class ActionFollowUp(Action):
    def name(self) -> str:
        return "action_follow_up"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        follow = follow_up_of(tracker)
        if follow is None:
            dispatcher.utter_message(response="utter_ask_rephrase")
            return [SlotSet(OFFER_SLOT, False)]
        language = conversation_language(tracker)
        product_item = content().products.get(follow.product or "")
        line = product_item.lines.get(follow.topic, {}).get(language) if product_item else None
        if line:
            dispatcher.utter_message(text=line)
        else:
            dispatcher.utter_message(response=f"{FAQ_RESPONSE_PREFIX}{follow.topic}")
        topic = content().topics[follow.topic]
        return [
            SlotSet(SUBJECT_SLOT, f"{follow.topic}|{follow.product or ''}"),
            SlotSet(OFFER_SLOT, topic.offer_enquiry),  # the rule offers the enquiry next
        ]
