"""Serve the demo website: `python -m website.server --host H --port P --rasa-url URL
--data-dir DIR` (`lotse run` starts it so).

Wires the Sanic app of `website.app` from the settings: the guard (`website.guard`:
the visitor id key from LOTSE_VISITOR_KEY or DIR/visitor.key, the rate limits, the
origins, the trusted proxies), the handoff feed (`website.updates.FeedWatcher` on the
desk of `wiring.services`), the proxy to Rasa's REST channel with its token, and the
readiness of `/readyz` (Lotse's database). One process, one worker, one event loop;
no request log. A setting that cannot be used stops the start with its message.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from sanic import Sanic

from bot.channels.rest_access import token_headers
from dialogue.content import load_content
from lotse import log_redaction
from lotse.readiness import Readiness, database_check
from lotse.settings import ROOT, SettingsError, load_settings
from website.app import Feed, SiteContext, make_app
from website.guard import Guard, load_guard
from website.rasa_proxy import RasaProxy
from website.updates import FeedWatcher
from wiring.services import desk, services

DATA_DIR = ROOT / "var"
BACKLOG = 128  # dozens of visitors (and their long polls) may connect at the same moment


def make_site(
    rasa_url: str, guard: Guard | None = None, feed: Feed | None = None,
    name: str = "lotse_website",
) -> Sanic:  # fmt: skip
    """The site's app; `guard` defaults to `load_guard` on the settings and `var/`,
    `feed` to a `FeedWatcher` on the handoff desk. Raises SettingsError."""
    settings = load_settings()
    site = SiteContext(
        content=load_content(),
        guard=guard or load_guard(settings, DATA_DIR),
        feed=feed or FeedWatcher(desk()),
        rasa=RasaProxy(rasa_url, token_headers(settings)),  # Rasa's REST channel is not public
        readiness=Readiness({"database": database_check(lambda: services().engine)}),
        metrics_token=settings.secrets.metrics_token,
    )
    return make_app(site, name)


def main() -> None:
    try:
        settings = load_settings()
    except SettingsError as error:
        sys.exit(f"website: {error}")
    parser = argparse.ArgumentParser(description="Serve the Nordwerk demo site with the chat.")
    parser.add_argument("--host", default=settings.host)
    parser.add_argument("--port", type=int, default=settings.web_port)
    parser.add_argument("--rasa-url", default=settings.rasa_url)
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR, help="where visitor.key is kept")
    args = parser.parse_args()
    log_redaction.install()
    logging.basicConfig(level=logging.WARNING)
    try:
        app = make_site(args.rasa_url, load_guard(settings, args.data_dir))
    except SettingsError as error:
        sys.exit(f"website: {error}")
    app.run(host=args.host, port=args.port, workers=1, backlog=BACKLOG,
            access_log=False, motd=False)  # fmt: skip


if __name__ == "__main__":
    main()
