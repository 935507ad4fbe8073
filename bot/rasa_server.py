"""`python -m bot.rasa_server run ...`: Rasa's own command line, with Lotse's changes.

The same arguments as `rasa`. Before Rasa starts: the speed-up of
`bot/rasa_speedups.py` and kept connections to the action server
(`bot/kept_connections.py`), and failures made loud: tracker store failures
(`bot/loud_tracker_store.py`: retried, then the turn fails, never answered from memory)
and custom action failures (`bot/loud_actions.py`: the turn fails, not saved without the
action's events). `/healthz`, `/readyz` and `/metrics` on Rasa's app
(`bot/rasa_ops.py`). Request bodies are bounded to MAX_BODY_BYTES (Sanic's default is
100 MB, read before a webhook's signature is checked), unless SANIC_REQUEST_MAX_SIZE
says otherwise; the REST channel bounds its own more tightly (`bot/channels/rest.py`).
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

from bot.rasa_speedups import apply

MAX_BODY_BYTES = 1024 * 1024  # as the balancer's; platforms' webhook calls are far smaller


def bound_bodies(environ: MutableMapping[str, str]) -> None:
    """Sanic reads SANIC_REQUEST_MAX_SIZE when Rasa makes its app."""
    environ.setdefault("SANIC_REQUEST_MAX_SIZE", str(MAX_BODY_BYTES))


def main() -> None:
    bound_bodies(os.environ)
    apply()
    from bot import kept_connections, loud_actions, loud_tracker_store, rasa_ops
    from lotse import log_redaction
    from lotse.settings import load_settings

    kept_connections.install()
    loud_tracker_store.install()
    loud_actions.install()
    log_redaction.install()
    rasa_ops.install(load_settings().secrets.metrics_token)
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
