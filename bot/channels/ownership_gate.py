"""The bot stays silent while a person owns the conversation.

Every channel passes a visitor's message through `OwnershipGate.admit` before Rasa
sees it; the rule is the desk's (`handoff.desk.Desk.visitor_wrote`). With no open
handoff the message goes to the bot. While the conversation waits for a person or a
person has it, the message is kept for the staff console instead and the bot says
nothing; only a cancel ("abbrechen", or the widget's button)
while waiting ends the wait and goes to the bot as the `cancel_handoff` intent. The
handoff store is shared by every replica, so this holds whichever replica gets the
message. Message texts are personal data and never logged.
"""

from __future__ import annotations

import asyncio
import logging
from functools import lru_cache

from sqlalchemy.exc import SQLAlchemyError

from handoff.desk import Admission, Desk
from wiring.services import services

log = logging.getLogger(__name__)


class OwnershipGate:
    """The desk's rule for a visitor's message (`Desk.visitor_wrote`), off the event
    loop, and never a visitor left without a reply."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    def decide(self, conversation_id: str, text: str) -> Admission:
        return self.desk.visitor_wrote(conversation_id, text)

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
    return OwnershipGate(services().desk)
