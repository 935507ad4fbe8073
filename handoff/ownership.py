"""Who owns a conversation: the bot, the queue, a person, or nobody any more.

One handoff is one episode of a conversation away from the bot. Its state moves
only along TRANSITIONS; everything else is refused with `IllegalTransition`, so the
store can apply a transition as one conditional update ("only if the state is still
what I read") and a race (two agents claiming at once) has exactly one winner.

    bot ──request──▶ waiting ──claim──▶ human ──hand_back──▶ bot
                      │  ▲                │
         cancel/timeout  └───transfer─────┤
                      ▼                   └──close──▶ closed
                     bot

The conversation's owner is the state of its open handoff (waiting or human); with
none open, the bot owns it. The bot speaks only then (`bot/channels/ownership_gate.py`
hands every message of an open handoff to the staff instead).

Who may read a conversation through a handoff (its messages, the bot's transcript,
the lead card, the notes) is `may_read`, the one rule the desk and every console
handler go by: an open handoff's assignee, the team's queue for an open unassigned
one, admins always. Once a handoff has ended (handed back, closed, timed out,
cancelled) or moved to someone else, its former assignee reads nothing more through
its id, however the conversation goes on. Pure Python.
"""

from __future__ import annotations

from dataclasses import dataclass

BOT, WAITING, HUMAN, CLOSED = "bot", "waiting", "human", "closed"
STATES = (BOT, WAITING, HUMAN, CLOSED)
OPEN_STATES = (WAITING, HUMAN)

# event -> (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "request": ((BOT,), WAITING),
    "claim": ((WAITING,), HUMAN),
    "transfer": ((HUMAN, WAITING), WAITING),
    "cancel": ((WAITING,), BOT),
    "timeout": ((WAITING,), BOT),
    "hand_back": ((HUMAN,), BOT),
    "close": ((HUMAN, WAITING), CLOSED),
}


class IllegalTransition(ValueError):
    """The event is not allowed in the handoff's current state."""


def next_state(state: str, event: str) -> str:
    """The state `event` leads to from `state`; IllegalTransition if it may not happen."""
    if event not in TRANSITIONS:
        raise IllegalTransition(f"unknown event {event!r}")
    sources, target = TRANSITIONS[event]
    if state not in sources:
        raise IllegalTransition(f"{event!r} is not allowed while the conversation is {state!r}")
    return target


@dataclass(frozen=True)
class Reader:
    """Who asks to read: a staff member (their team and languages) or an admin."""

    staff_id: str | None
    admin: bool = False
    team: str | None = None
    languages: frozenset[str] = frozenset()


def may_read(reader: Reader, state: str, assignee: str | None, team: str, language: str) -> bool:
    """Whether `reader` may read the conversation of a handoff in `state`, assigned to
    `assignee` (a staff id or None), waiting for or with `team`, in `language`.

    - admins: any handoff, also ended ones (they answer for the data, e.g. DSGVO requests);
    - while the handoff is open (waiting or human), its assignee: the one who has it, or
      the one it is routed or transferred to;
    - while it waits with nobody assigned, the members of its team who speak its
      language, so they can decide to claim it;
    - nobody else: not a former assignee once it was handed back, closed, timed out,
      cancelled or moved to someone else."""
    if reader.admin:
        return True
    if state not in OPEN_STATES or reader.staff_id is None:
        return False
    if assignee is not None:
        return assignee == reader.staff_id
    return state == WAITING and reader.team == team and language in reader.languages
