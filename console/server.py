"""Run the staff console: `python -m console.server [--host H] [--port P]`.

Wires the console from the composition root (`wiring.services`): the handoff desk, the staff
logins, the CRM store, the bot's HTTP API, the notification worker (SMTP and
Slack/Teams webhooks from LOTSE_SMTP_* / LOTSE_*_WEBHOOK_URL, read by lotse/notify_settings.py)
and, for admins' export and erasure, every store with personal data (the tracker
store's file too: LOTSE_TRACKER_DB, `privacy/personal_stores.py`).
`lotse run` starts it next to Rasa.
"""

from __future__ import annotations

import argparse
import gc
import logging

from prometheus_client import REGISTRY

from console.app import ConsoleContext, make_app
from handoff.dispatch import notification_worker
from insights.report import Insights, question_order
from lotse import log_redaction
from lotse.ops_routes import add_ops_routes
from lotse.readiness import Readiness, database_check
from lotse.settings import load_settings
from wiring.services import rasa_bot, services
from wiring.store_metrics import StoreMetrics


def context() -> ConsoleContext:
    root = services()  # one engine, the schema migrated once
    root.staff.prepare()  # the first unknown username's login takes no longer than others'
    return ConsoleContext(
        desk=root.desk,
        auth=root.staff,
        crm=root.crm,
        bot=rasa_bot(root.settings),
        secure_cookies=not root.settings.web.console_insecure_cookies,
        notifier=notification_worker(root.engine, root.settings.notify),
        privacy=root.personal_stores,
        insights=Insights(root.engine, questions=question_order()),
        trusted_proxies=root.settings.console_trusted_proxies,
        canned_responses=root.settings.files.canned_responses,
    )


def main() -> None:
    settings = load_settings()
    parser = argparse.ArgumentParser(description="Serve Lotse's staff console.")
    parser.add_argument("--host", default=settings.host)
    parser.add_argument("--port", type=int, default=settings.console_port)
    args = parser.parse_args()
    log_redaction.install()
    logging.basicConfig(level=logging.WARNING)
    app = make_app(context())
    add_ops_routes(app, Readiness({"database": database_check(lambda: services().engine)}),
                   settings.secrets.metrics_token)  # fmt: skip
    REGISTRY.register(StoreMetrics(services))
    # What is loaded now (Rasa's modules come with the transcripts' store) stays: the
    # garbage collector's full passes then skip it, instead of pausing a request for
    # a few hundred milliseconds to walk half a million objects (bench/insights.py).
    gc.freeze()
    app.run(host=args.host, port=args.port, access_log=False, motd=False, workers=1)


if __name__ == "__main__":
    main()
