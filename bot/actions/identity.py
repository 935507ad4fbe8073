"""The code that proves an email address typed in the chat (`crm_adapter.store.claims`).

An email answer sends a one-time code to the address (`code_mail` makes the mail from
the texts in qualification.yml); the bot tells the visitor where it went (`code_sent`).
The visitor types the code back whenever it suits them: inside the qualification the
form's validation action checks it (`checked_code`), elsewhere `action_verify_code`
(the message reader's `confirm_code` intent). A right code confirms a new address or
joins the conversation into the contact that has the address, which is then scored
anew (a proven address makes it a lead: `crm_adapter.recording.verified`); before
that, that contact is neither changed nor shown.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.conversation import conversation_language
from bot.actions.leads import crm, visit_of
from crm_adapter import recording
from crm_adapter.identity_code import CODE_MINUTES, code_in
from crm_adapter.port import (
    CONFIRMED,
    EMAIL,
    EXPIRED,
    JOINED,
    KNOWN_ADDRESS,
    NO_CLAIM,
    CrmError,
    CrmPort,
    CrmUnavailable,
    Notification,
    Verification,
)
from crm_adapter.recording import CodeMail
from crm_adapter.scoring_model import load_scoring_model
from dialogue.qualification.replies import Replies

log = logging.getLogger(__name__)


def code_mail(language: str) -> CodeMail:
    """Makes the mail that takes a code to an address, in the conversation's language."""
    replies = Replies(language)

    def mail(code: str, address: str) -> Notification:
        subject = replies.text("code_mail_subject", code=code)
        body = replies.text("code_mail_body", code=code, minutes=str(CODE_MINUTES))
        return Notification(EMAIL, subject, body, (address,))

    return mail


def code_sent(store: CrmPort, lead_id: int, language: str) -> str | None:
    """What to tell the visitor about the code just sent, if one was."""
    claim = store.open_claim(lead_id)
    if claim is None:
        return None
    key = "code_sent_known" if claim.kind == KNOWN_ADDRESS else "code_sent_new"
    return Replies(language).text(key, address=claim.address)


def verified(store: CrmPort, lead_id: int, code: str) -> Verification:
    """Checks the code (`crm_adapter.recording.verified`: scored anew once proven)."""
    return recording.verified(store, lead_id, code, load_scoring_model(),
                              datetime.now(timezone.utc))  # fmt: skip


def verification_text(result: Verification, language: str) -> str:
    replies = Replies(language)
    if result.outcome == CONFIRMED:
        return replies.text("code_confirmed")
    if result.outcome == JOINED:
        return replies.text("code_joined")
    if result.outcome == EXPIRED:
        return replies.text("code_expired")
    if result.outcome == NO_CLAIM:
        return replies.text("code_none")
    if result.attempts_left <= 0:
        return replies.text("code_void")
    return replies.text("code_wrong", left=str(result.attempts_left))


def checked_code(store: CrmPort, lead_id: int, text: str, language: str) -> str | None:
    """Inside the qualification: the reply to a code in `text`, if the lead waits for
    one; None when there is no code or no claim (the text is an answer then)."""
    code = code_in(text)
    if code is None or store.open_claim(lead_id) is None:
        return None
    return verification_text(verified(store, lead_id, code), language)


class ActionVerifyCode(Action):
    def name(self) -> str:
        return "action_verify_code"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        language = conversation_language(tracker)
        code = code_in(tracker.latest_message.get("text") or "")
        try:
            store = crm()
            lead = store.find_lead(visit_of(tracker, language))
            if code is None or lead is None:
                result = Verification(NO_CLAIM, 0)
            else:
                result = verified(store, lead.lead_id, code)
        except CrmUnavailable:
            raise  # the turn fails and is sent again (bot/loud_actions.py)
        except CrmError:
            log.exception("verifying a code: the CRM store failed")
            dispatcher.utter_message(text=Replies(language).text("save_failed"))
            return []
        log.info("code checked: %s", result.outcome)
        dispatcher.utter_message(text=verification_text(result, language))
        return []
