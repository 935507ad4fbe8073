"""`python -m lotse.rasa_server run ...`: Rasa's own command line, with Lotse's changes.

The same arguments as `rasa`. Before Rasa starts: the speed-up of
`lotse/rasa_speedups.py`, and tracker store failures made loud
(`bot/loud_tracker_store.py`: retried, then the turn fails, never answered from memory).
"""

from __future__ import annotations

from lotse.rasa_speedups import apply


def main() -> None:
    apply()
    from bot.loud_tracker_store import install
    from lotse import log_redaction

    install()
    log_redaction.install()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
