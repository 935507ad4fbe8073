"""The handoff desk: what visitors, the bot and staff do with handoffs, and who may.

Plain Python over the store (`handoff.store`), the routing model and a `BotPort` (the
way to make the bot speak on its own, after a hand-back or a timeout); the console's
web handlers and the bot's actions call these functions and stay thin.

Errors: `NotAllowed` (the person may not do this to this handoff), `Conflict` from
the store (someone else acted first), `IllegalTransition` (the state does not allow
it), `BadTarget` (a transfer to someone unknown). Message texts are personal data:
never logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from handoff.office_hours import OfficeHours
from handoff.ownership import HUMAN, WAITING, IllegalTransition, Reader, may_read
from handoff.routing import RoutingDecision, RoutingRequest, StaffStatus, route
from handoff.routing_model import RoutingModel
from handoff.store import Conflict, Handoff, HandoffStore, Message, NewHandoff, utc_now
from handoff.texts import HandoffTexts
from handoff.typing_indicator import Typing, TypingState

log = logging.getLogger(__name__)
ONLINE_WITHIN = timedelta(seconds=45)
ADMIN = "admin"


WEEKDAYS = {
    "de": ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}


def moment(at: datetime, language: str) -> str:
    """ "Mo 30.11. 8:00" / "Mon 30 Nov 8:00", in the zone `at` carries."""
    day = WEEKDAYS.get(language, WEEKDAYS["de"])[at.weekday()]
    if language == "en":
        return f"{day} {at.day} {at:%b} {at.hour}:{at:%M}"
    return f"{day} {at:%d.%m.} {at.hour}:{at:%M}"


class NotAllowed(PermissionError):
    """The person may not do this with this handoff."""


class BadTarget(ValueError):
    """A transfer to a person or team that does not exist."""


class BotPort(Protocol):
    def trigger(self, conversation_id: str, intent: str) -> list[dict[str, Any]]:
        """Makes the bot act on `intent` now; returns what it said (Rasa message dicts)."""


@dataclass(frozen=True)
class Actor:
    """A logged-in staff member (or admin) acting in the console."""

    username: str
    role: str
    staff_id: str | None


@dataclass(frozen=True)
class Ask:
    """What a conversation brings to a handoff request."""

    conversation_id: str
    reason: str
    routing: RoutingRequest
    channel: str | None = None
    page: str | None = None
    lead_id: int | None = None


@dataclass(frozen=True)
class Queued:
    handoff: Handoff
    position: int
    minutes: int
    text: str


@dataclass(frozen=True)
class Unavailable:
    """No live handoff now: outside office hours (or nobody claimed in time)."""

    decision: RoutingDecision
    team: str
    next_opening: datetime
    person: str | None  # who a callback or meeting would be with (staff id)
    text: str



CANCEL_INTENT = "/cancel_handoff"  # what the bot gets when a visitor cancels the wait


@dataclass(frozen=True)
class Admission:
    """Whether the bot gets a visitor's message, and the text it gets."""

    to_bot: bool
    text: str

class Desk:
    def __init__(
        self,
        store: HandoffStore,
        model: RoutingModel,
        texts: HandoffTexts,
        bot: BotPort | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.model = model
        self.texts = texts
        self.bot = bot
        self.clock = clock
        self.typing = Typing(store.engine)

    # -- routing -------------------------------------------------------------------

    def presence(self, now: datetime) -> dict[str, StaffStatus]:
        online = self.store.online(now, ONLINE_WITHIN)
        loads = self.store.loads()
        return {
            staff_id: StaffStatus(online=staff_id in online, load=loads.get(staff_id, 0))
            for staff_id in self.model.staff
        }

    def visitor_wrote(self, conversation_id: str, text: str) -> Admission:
        """A visitor's message, before the bot sees it. No open handoff: the bot gets
        it. A cancel (`HandoffTexts.is_cancel`) while waiting ends the wait and goes to
        the bot as CANCEL_INTENT. Otherwise a person has or will have the conversation:
        the message is kept for them and the bot stays silent."""
        handoff = self.store.open_handoff(conversation_id)
        if handoff is None:
            return Admission(True, text)
        if handoff.state == WAITING and self.texts.is_cancel(text):
            now = self.clock()
            self.store.transition(
                handoff, "cancel", "visitor", now, closed_at=now, outcome="cancelled"
            )
            return Admission(True, CANCEL_INTENT)
        self.store.add_message(conversation_id, "visitor", text, handoff.id)
        return Admission(False, text)

    def route(self, request: RoutingRequest, now: datetime) -> RoutingDecision:
        return route(request, self.model, self.presence(now), self.store.last_assigned())

    def hours(self, team: str) -> OfficeHours:
        return self.model.teams[team].office_hours

    def person_label(self, staff_id: str | None, language: str) -> str | None:
        return self.model.label_of(staff_id, language) if staff_id else None

    def team_label(self, team: str, language: str) -> str:
        labels = self.model.teams[team].label
        return labels.get(language) or labels["de"]

    # -- the visitor's side --------------------------------------------------------

    def request(self, ask: Ask) -> Queued | Unavailable:
        """Queues the conversation for a person, or says why not now (not idempotent
        only in that a second request while one is open returns the open one)."""
        now = self.clock()
        language = ask.routing.language
        decision = self.route(ask.routing, now)
        hours = self.hours(decision.team)
        if not hours.is_open(now):
            return self.unavailable(decision, language, now, "out_of_hours")
        team = self.model.teams[decision.team]
        handoff = self.store.request(
            NewHandoff(
                conversation_id=ask.conversation_id,
                reason=ask.reason,
                language=language,
                need=ask.routing.need,
                team=decision.team,
                claim_timeout=timedelta(seconds=team.claim_timeout_seconds),
                channel=ask.channel,
                page=ask.page,
                lead_id=ask.lead_id,
                rule=decision.rule,
                responsible=decision.responsible,
                assignee=decision.assignee,
                explanation=decision.explanation,
            ),
            now,
        )
        return self.queued(handoff)

    def queued(self, handoff: Handoff) -> Queued:
        position = self.store.position(handoff)
        minutes = self.expected_minutes(handoff.team, position)
        language = handoff.language
        person = self.person_label(handoff.assignee, language)
        values = {"position": position, "minutes": minutes}
        text = (
            self.texts.text("queued_person", language, person=person, **values)
            if person
            else self.texts.text(
                "queued_team", language, team=self.team_label(handoff.team, language), **values
            )
        )
        return Queued(handoff, position, minutes, text)

    def expected_minutes(self, team: str, position: int) -> int:
        """Position times the team's recent average wait for a claim (the configured
        default per conversation until there are claims on record); at least 1."""
        waits = self.store.recent_waits(team)
        per_conversation = sum(waits) / len(waits) / 60 if waits else self.texts.default_minutes
        return max(1, round(position * per_conversation))

    def unavailable(
        self, decision: RoutingDecision, language: str, now: datetime, why: str
    ) -> Unavailable:
        hours = self.hours(decision.team)
        opening = hours.next_opening(now)
        person = decision.assignee or (decision.responsible[0] if decision.responsible else None)
        when = moment(opening.astimezone(ZoneInfo(hours.timezone)), language)
        text = self.texts.text(
            why,
            language,
            team=self.team_label(decision.team, language),
            hours=hours.describe(language),
            next=when,
            person=self.person_label(person, language) or self.team_label(decision.team, language),
        )
        return Unavailable(decision, decision.team, opening, person, text)

    def expire(self) -> list[Handoff]:
        """Waiting handoffs nobody claimed in time go back to the bot, which offers a
        callback (through the BotPort). Safe to run on every replica at once."""
        now = self.clock()
        expired = []
        for handoff in self.store.expired_waiting(now):
            try:
                done = self.store.transition(handoff, "timeout", None, now, closed_at=now,
                                             outcome="timed_out")  # fmt: skip
            except (Conflict, IllegalTransition):  # claimed or expired by someone else meanwhile
                continue
            expired.append(done)
            self.speak(done, "handoff_timed_out")
        return expired

    def speak(self, handoff: Handoff, intent: str) -> None:
        """The bot says what it says after `intent`; its messages go to the visitor's feed."""
        if self.bot is None:
            return
        try:
            said = self.bot.trigger(handoff.conversation_id, intent)
        except Exception:  # the bot is down: the visitor's next message reaches it anyway
            log.exception("could not make the bot speak after %s (handoff %s)", intent, handoff.id)
            return
        for message in said:
            text = message.get("text")
            if isinstance(text, str) and text.strip():
                self.store.add_message(
                    handoff.conversation_id, "bot", text, handoff.id, buttons=message.get("buttons")
                )

    # -- the staff's side ----------------------------------------------------------

    def member(self, actor: Actor) -> Any:
        return self.model.staff.get(actor.staff_id or "")

    def reader(self, actor: Actor) -> Reader:
        member = self.member(actor)
        team, languages = (member.team, frozenset(member.languages)) if member else (None, None)
        return Reader(actor.staff_id, actor.role == ADMIN, team, languages or frozenset())

    def may_see(self, actor: Actor, handoff: Handoff) -> bool:
        """Whether `actor` may read `handoff`'s conversation now (`ownership.may_read`)."""
        return may_read(
            self.reader(actor), handoff.state, handoff.assignee, handoff.team, handoff.language
        )

    def readable(self, handoff_id: int, actor: Actor) -> Handoff:
        """The handoff, as it is now, if `actor` may read its conversation (messages,
        transcript, lead card, notes); NotAllowed otherwise, UnknownHandoff if there is
        none. Every read by handoff id goes through here, and a handler that read
        something checks again afterwards (the handoff may have moved meanwhile)."""
        handoff = self.store.get(handoff_id)
        if not self.may_see(actor, handoff):
            raise NotAllowed("not your conversation")
        return handoff

    def visible(self, actor: Actor) -> list[Handoff]:
        return [h for h in self.store.open_handoffs() if self.may_see(actor, h)]

    def _owned(self, handoff_id: int, actor: Actor) -> Handoff:
        handoff = self.store.get(handoff_id)
        if handoff.state != HUMAN:
            raise NotAllowed("the conversation is not with a person")
        if actor.role != ADMIN and handoff.assignee != actor.staff_id:
            raise NotAllowed("the conversation is with someone else")
        return handoff

    def claim(self, handoff_id: int, actor: Actor) -> Handoff:
        """Conflict when someone else claimed it first (also in a race: one winner)."""
        handoff = self.store.get(handoff_id)
        if handoff.state != WAITING:
            raise Conflict(f"handoff {handoff_id} is no longer waiting")
        if not self.may_see(actor, handoff) or actor.staff_id is None:
            raise NotAllowed("not yours to claim")
        now = self.clock()
        claimed = self.store.transition(handoff, "claim", actor.username, now,
                                        assignee=actor.staff_id, claimed_at=now)  # fmt: skip
        self._system(claimed, "joined", person=self.person_label(actor.staff_id, claimed.language))
        return claimed

    def reply(self, handoff_id: int, actor: Actor, text: str) -> Message:
        handoff = self._owned(handoff_id, actor)
        if not text.strip():
            raise ValueError("an empty message")
        label = self.person_label(actor.staff_id, handoff.language) or actor.username
        return self.store.add_message(
            handoff.conversation_id, "agent", text, handoff.id, actor.staff_id, label
        )

    def note(self, handoff_id: int, actor: Actor, text: str) -> None:
        handoff = self.readable(handoff_id, actor)
        if not text.strip():
            raise ValueError("an empty note")
        self.store.add_note(handoff, actor.username, text)

    def transfer(
        self, handoff_id: int, actor: Actor, to_staff: str | None = None, to_team: str | None = None
    ) -> Handoff:
        handoff = self._owned(handoff_id, actor)
        if to_staff is not None:
            if to_staff not in self.model.staff:
                raise BadTarget(f"unknown colleague '{to_staff}'")
            team = self.model.staff[to_staff].team
        elif to_team is not None and to_team in self.model.teams:
            team = to_team
        else:
            raise BadTarget(f"unknown team '{to_team}'")
        now = self.clock()
        timeout = timedelta(seconds=self.model.teams[team].claim_timeout_seconds)
        moved = self.store.transition(
            handoff, "transfer", actor.username, now,
            detail={"to_staff": to_staff, "to_team": team},
            assignee=to_staff, team=team, claimed_at=None, claim_deadline=now + timeout,
        )  # fmt: skip
        person = self.person_label(to_staff, moved.language) or self.team_label(
            team, moved.language
        )
        self._system(moved, "transferred", person=person)
        return moved

    def hand_back(self, handoff_id: int, actor: Actor) -> Handoff:
        handoff = self._owned(handoff_id, actor)
        now = self.clock()
        back = self.store.transition(handoff, "hand_back", actor.username, now,
                                     closed_at=now, outcome="handed_back")  # fmt: skip
        self.speak(back, "handed_back")
        return back

    def close(self, handoff_id: int, actor: Actor, outcome: str, reason: str = "") -> Handoff:
        handoff = self.store.get(handoff_id)
        if handoff.state == HUMAN:
            handoff = self._owned(handoff_id, actor)
        elif not self.may_see(actor, handoff):
            raise NotAllowed("not your conversation")
        now = self.clock()
        closed = self.store.transition(
            handoff, "close", actor.username, now,
            closed_at=now, outcome=outcome[:32], outcome_reason=reason.strip()[:500] or None,
        )  # fmt: skip
        person = self.person_label(actor.staff_id, closed.language) or actor.username
        self._system(closed, "closed", person=person)
        return closed

    def _system(self, handoff: Handoff, key: str, **values: object) -> None:
        text = self.texts.text(key, handoff.language, **values)
        self.store.add_message(handoff.conversation_id, "system", text, handoff.id)

    # -- who is typing (handoff.typing_indicator) ----------------------------------

    def visitor_typing(self, conversation_id: str, typing_now: bool) -> bool:
        """The visitor of `conversation_id` types (or stopped); False when no handoff is
        open (nobody would see it), True when recorded."""
        handoff = self.store.open_handoff(conversation_id)
        if handoff is None:
            return False
        try:
            self.typing.report(handoff, "visitor", typing_now, self.clock())
        except ValueError:  # closed a moment ago
            return False
        return True

    def agent_typing(self, handoff_id: int, actor: Actor, typing_now: bool) -> TypingState:
        """The person who has the conversation types (or stopped); NotAllowed for anyone
        else. Returns who types now."""
        handoff = self._owned(handoff_id, actor)
        now = self.clock()
        self.typing.report(handoff, "agent", typing_now, now)
        return self.typing.state(handoff.id, now)

    def typing_in(self, handoff_id: int, actor: Actor) -> TypingState:
        """Who types in a conversation `actor` may read (`readable`); nobody once the
        handoff is no longer open."""
        handoff = self.readable(handoff_id, actor)
        if handoff.state not in (WAITING, HUMAN):
            return TypingState()
        return self.typing.state(handoff.id, self.clock())
