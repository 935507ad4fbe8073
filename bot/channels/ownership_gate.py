"""The bot stays silent while a person owns the conversation.

Every channel passes a visitor's message through `OwnershipGate.admit` before Rasa
sees it. With no open handoff the message goes to the bot. While the conversation
waits for a person or a person has it, the message is kept for the staff console
instead and the bot says nothing; only a cancel ("abbrechen", or the widget's button)
while waiting ends the wait and goes to the bot as the `cancel_handoff` intent. The
handoff store is shared by every replica, so this holds whichever replica gets the
message. Message texts are personal data and never logged.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy.exc import SQLAlchemyError

from handoff.ownership import WAITING
from handoff.store import HandoffStore, utc_now
from handoff.texts import HandoffTexts, load_handoff_texts
from wiring.services import services

CANCEL_INTENT = "/cancel_handoff"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Admission:
    to_bot: bool
    text: str  # what the bot gets (the cancel intent after a cancel)


class OwnershipGate:
    def __init__(self, store: HandoffStore, texts: HandoffTexts) -> None:
        self.store = store
        self.texts = texts

    def decide(self, conversation_id: str, text: str) -> Admission:
        handoff = self.store.open_handoff(conversation_id)
        if handoff is None:
            return Admission(True, text)
        if handoff.state == WAITING and self.texts.is_cancel(text):
            now = utc_now()
            self.store.transition(
                handoff, "cancel", "visitor", now, closed_at=now, outcome="cancelled"
            )
            return Admission(True, CANCEL_INTENT)
        self.store.add_message(conversation_id, "visitor", text, handoff.id)
        return Admission(False, text)

    async def admit(self, conversation_id: str, text: str) -> Admission:
        """As `decide`; if the handoff store cannot be read, the bot answers (and the
        failure is logged without the text): a visitor is never left without a reply."""
        try:
            return await asyncio.to_thread(self.decide, conversation_id, text)
        except SQLAlchemyError:
            log.exception("ownership gate: the handoff store failed; the bot answers")
            return Admission(True, text)


@lru_cache(maxsize=1)
def ownership_gate() -> OwnershipGate:
    return OwnershipGate(services().handoffs, load_handoff_texts())
