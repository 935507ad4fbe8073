"""The staff console: a Sanic web app serving the console page and its JSON API.

Every `/console/api/` route but login needs a session cookie (HttpOnly, SameSite
Strict, Secure unless LOTSE_CONSOLE_INSECURE_COOKIES=1); every request that changes
something also needs a JSON body and the session's CSRF token in `X-CSRF-Token`, and
a foreign `Origin` is refused. Handlers are thin: the desk (`handoff.desk`) decides.
The API is described in `openapi.yaml` (served at /console/api/openapi.json). Bodies
are bounded; nothing a visitor or agent wrote is logged.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from console import handlers, i18n, insights
from console.feed import ChangeFeed
from console.web import COOKIE, error
from crm_adapter.delivery_worker import DeliveryWorker
from crm_adapter.port import ConsentRequired, CrmError, CrmPort
from handoff.auth import InvalidSession, StaffAuth, UnknownUser
from handoff.bot_port import BotUnavailable, RasaBot
from handoff.canned_responses import CANNED_FILE
from handoff.desk import BadTarget, Desk, NotAllowed
from handoff.ownership import IllegalTransition
from handoff.store import Conflict, UnknownHandoff
from insights.report import Insights
from lotse.settings import Network
from lotse.translations import supported
from privacy.personal_stores import PersonalStores

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
OPENAPI = Path(__file__).parent / "openapi.yaml"
MAX_BODY_BYTES = 64 * 1024
SWEEP_SECONDS = 2.0
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
PUBLIC_PATHS = ("/console/api/login",)


@dataclass
class ConsoleContext:
    desk: Desk
    auth: StaffAuth
    crm: CrmPort | None
    bot: RasaBot | None
    secure_cookies: bool = True
    session_lifetime: timedelta = timedelta(hours=12)
    notifier: DeliveryWorker | None = None  # sends the outbox's notifications
    privacy: PersonalStores | None = None  # admins' export and erasure of a person's data
    insights: Insights | None = None  # the admins' dashboard (console/insights.py)
    # Reverse proxies whose X-Forwarded-For names the client (LOTSE_CONSOLE_TRUSTED_PROXY).
    trusted_proxies: tuple[Network, ...] = ()
    # The prepared answers' file (LOTSE_CANNED_RESPONSES), which admins edit.
    canned_responses: Path = CANNED_FILE


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if not origin:
        return True
    try:
        netloc = urlsplit(origin).netloc
    except ValueError:  # no URL at all ("http://["): not this console's origin
        return False
    return netloc == request.headers.get("host", "")


async def authenticate(ctx: ConsoleContext, request: Request) -> HTTPResponse | None:
    if not request.path.startswith("/console/api/"):
        return None
    if request.method not in ("GET", "HEAD"):
        if not _same_origin(request):
            return error(403, "cross-origin requests are refused")
        if request.content_type.split(";")[0].strip() != "application/json":
            return error(415, "send JSON (Content-Type: application/json)")
    if request.path in PUBLIC_PATHS:
        return None
    token = request.cookies.get(COOKIE) or ""
    try:
        session = await asyncio.to_thread(ctx.auth.session, token)
    except InvalidSession:
        return error(401, "please log in")
    if request.method not in ("GET", "HEAD") and not ctx.auth.check_csrf(
        session, request.headers.get("x-csrf-token")
    ):
        return error(403, "missing or wrong CSRF token")
    request.ctx.session = session
    return None


def secure(_request: Request, reply: HTTPResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        reply.headers.setdefault(name, value)


async def translate_errors(request: Request, exception: Exception) -> HTTPResponse:
    if isinstance(exception, NotAllowed):
        return error(403, str(exception))
    if isinstance(exception, (Conflict, IllegalTransition)):
        return error(409, "someone else changed this conversation first; reload it")
    if isinstance(exception, UnknownHandoff):
        return error(404, "no such conversation")
    if isinstance(exception, UnknownUser):
        return error(404, "no such user")
    if isinstance(exception, ConsentRequired):
        return error(409, "the visitor has not consented to storing personal data")
    if isinstance(exception, (BadTarget, ValueError, KeyError)):
        return error(422, str(exception))
    if isinstance(exception, (CrmError, BotUnavailable)):
        return error(503, "a service behind the console is not available; try again")
    raise exception


def make_app(ctx: ConsoleContext, name: str = "lotse_console") -> Sanic:
    app = Sanic(name)
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    app.config.RESPONSE_TIMEOUT = 3600  # the event stream stays open
    app.config.KEEP_ALIVE_TIMEOUT = 75
    app.ctx.console = ctx
    app.ctx.feed = ChangeFeed(ctx.desk.store.latest_event_id)
    app.register_middleware(partial(authenticate, ctx), "request")
    app.register_middleware(secure, "response")
    for exception in (NotAllowed, Conflict, IllegalTransition, UnknownHandoff, UnknownUser,
                      ConsentRequired,
                      BadTarget, ValueError, KeyError, CrmError, BotUnavailable):  # fmt: skip
        app.error_handler.add(exception, translate_errors)
    handlers.register(app)
    insights.register(app)
    _pages(app)

    @app.before_server_start
    async def start_background(app_: Sanic, _loop: Any) -> None:
        app_.add_task(app_.ctx.feed.run())
        app_.add_task(sweep(ctx.desk))
        if ctx.notifier is not None:
            app_.add_task(deliver(ctx.notifier))

    return app


async def sweep(desk: Desk) -> None:
    """Waiting handoffs nobody claimed in time go back to the bot (any replica may do it)."""
    while True:
        await asyncio.sleep(SWEEP_SECONDS)
        try:
            await asyncio.to_thread(desk.expire)
        except Exception:  # noqa: BLE001 - keep sweeping; the error is logged by the desk
            log.exception("sweeping unclaimed handoffs failed")


async def deliver(notifier: DeliveryWorker) -> None:
    """Sends queued notifications (callback tasks, meeting invitations, codes) every few
    seconds."""
    while True:
        await asyncio.sleep(SWEEP_SECONDS)
        try:
            await asyncio.to_thread(notifier.run_once)
        except Exception:  # noqa: BLE001 - keep delivering; the worker logs no personal data
            log.exception("delivering notifications failed")


def _pages(app: Sanic) -> None:
    spec = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))

    async def page(_request: Request) -> HTTPResponse:
        return await response.file(STATIC / "console.html", mime_type="text/html; charset=utf-8")

    async def static(_request: Request, name: str) -> HTTPResponse:
        file = (STATIC / name).resolve()
        if (
            file.parent != STATIC.resolve()
            or not file.is_file()
            or file.suffix not in (".js", ".css")
        ):
            return error(404, "not found")
        kind = "text/javascript" if file.suffix == ".js" else "text/css"
        return await response.file(file, mime_type=f"{kind}; charset=utf-8")

    async def openapi(_request: Request) -> HTTPResponse:
        return response.json(spec)

    async def catalogue(_request: Request, name: str) -> HTTPResponse:
        # Public like the page itself: the login form is translated before anyone is known.
        language, _, suffix = name.partition(".")
        if supported(language) is None or suffix != "json":
            return error(404, "not found")
        texts = i18n.translator(language)
        return response.json({"language": texts.language, "messages": texts.messages})

    async def root(_request: Request) -> HTTPResponse:
        return response.redirect("/console/")

    app.add_route(page, "/console/", methods=["GET"], name="page")
    app.add_route(static, "/console/static/<name:str>", methods=["GET"], name="static")
    app.add_route(catalogue, "/console/locale/<name:str>", methods=["GET"],
                  name="catalogue")  # fmt: skip
    app.add_route(openapi, "/console/api/openapi.json", methods=["GET"], name="openapi")
    app.add_route(root, "/", methods=["GET"], name="root")
