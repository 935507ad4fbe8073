"""`python -m lotse.action_server --host H --port P`: Rasa's action server, for Rasa only.

Rasa SDK's own command listens on every interface (0.0.0.0) and allows any CORS
origin. Lotse's action server listens on the given host (`lotse run`: LOTSE_HOST,
127.0.0.1 by default), sends no CORS headers (no browser calls it), and, when
LOTSE_ACTION_SECRET is set, answers only requests carrying it in
`X-Lotse-Action-Secret` (compared in constant time): 401 without the header, 403 with
a wrong one. The Rasa servers send it (endpoints.yml, `action_endpoint.headers`);
`lotse run` makes one up per run unless it is set. `/health` stays open.
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os

from rasa_sdk.endpoint import create_app
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from lotse import log_redaction

SECRET_VARIABLE = "LOTSE_ACTION_SECRET"
SECRET_HEADER = "X-Lotse-Action-Secret"
ACTIONS = "bot.actions"
log = logging.getLogger(__name__)


def guard(app: Sanic, secret: str) -> None:
    """Refuses every request but `/health` that lacks the shared secret."""

    @app.middleware("request")
    async def shared_secret(request: Request) -> HTTPResponse | None:
        if request.path == "/health":
            return None
        given = request.headers.get(SECRET_HEADER)
        if given is None:
            log.warning("action server: refused a request without the shared secret")
            return response.json({"error": "missing secret"}, status=401)
        if not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("action server: refused a request with a wrong shared secret")
            return response.json({"error": "wrong secret"}, status=403)
        return None


def build_app(secret: str | None) -> Sanic:
    app = create_app(ACTIONS, cors_origins=None)
    if secret:
        guard(app, secret)
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5055)
    args = parser.parse_args(argv)
    log_redaction.install()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s - %(message)s"
    )
    app = build_app(os.environ.get(SECRET_VARIABLE) or None)
    log.info("action server on http://%s:%d", args.host, args.port)
    app.run(args.host, args.port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
