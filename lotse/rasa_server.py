"""`python -m lotse.rasa_server run ...`: Rasa's own command line, with Lotse's speed-up.

The same arguments as `rasa`; see `lotse/rasa_speedups.py` for what changes.
"""

from __future__ import annotations

from lotse.rasa_speedups import apply


def main() -> None:
    apply()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
