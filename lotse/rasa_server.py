"""`python -m lotse.rasa_server run ...`: Rasa's own command line, with Lotse's changes.

The same arguments as `rasa`. Before Rasa starts: the speed-up of
`lotse/rasa_speedups.py`, and failures made loud: tracker store failures
(`bot/loud_tracker_store.py`: retried, then the turn fails, never answered from memory)
and custom action failures (`bot/loud_actions.py`: the turn fails, not saved without the
action's events).
"""

from __future__ import annotations

from lotse.rasa_speedups import apply


def main() -> None:
    apply()
    from bot import loud_actions, loud_tracker_store
    from lotse import log_redaction

    loud_tracker_store.install()
    loud_actions.install()
    log_redaction.install()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
