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
none open, the bot owns it. The bot speaks only then (`bot_may_speak`). Pure Python.
"""

from __future__ import annotations

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


def bot_may_speak(open_state: str | None) -> bool:
    """Whether the bot answers a visitor whose open handoff is in `open_state` (None: none)."""
    return open_state not in OPEN_STATES
