"""The prepared answers (`handoff.canned_responses`): every logged-in staff member reads
them, admins add, change and remove them. An edit reads the file, changes one answer and
writes the whole file atomically, one edit at a time in this process (`EDIT_LOCK`); a
file that does not load is a 503 for reading and editing alike (the error is logged
with the file's line, it holds no personal data)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from console.routing import Routes, admin_only, blocking
from console.web import body_of, error
from handoff.canned_responses import (
    CannedResponses,
    CannedResponsesError,
    load_canned_responses,
    parse_response,
    save_canned_responses,
)
from lotse.translations import N_

log = logging.getLogger(__name__)
EDIT_LOCK = threading.Lock()
UNREADABLE = N_("the prepared answers' file cannot be loaded; an admin must fix it")


class Unreadable(Exception):
    """The file on disk does not load (its error is logged)."""


def register(routes: Routes) -> None:
    def current() -> CannedResponses:
        try:
            return load_canned_responses(routes.console.canned_responses)
        except CannedResponsesError as bad:
            log.error("%s", bad)
            raise Unreadable() from bad

    def edited(change: Callable[[CannedResponses], CannedResponses]) -> CannedResponses:
        with EDIT_LOCK:
            changed = change(current())
            save_canned_responses(changed, routes.console.canned_responses)
            return changed

    async def answer(work: Callable[[], CannedResponses], status: int = 200) -> HTTPResponse:
        try:
            answers = await blocking(work)
        except Unreadable:
            return error(503, UNREADABLE)
        except OSError:
            log.exception("writing the prepared answers failed")
            return error(503, N_("the prepared answers could not be saved; try again"))
        return response.json(answers.as_json(), status=status)

    @routes("/console/api/canned-responses", ["GET"], "canned_responses")
    async def canned_responses(_request: Request) -> HTTPResponse:
        return await answer(current)

    @routes("/console/api/canned-responses/<key:str>", ["PUT"], "put_canned_response")
    async def put_canned_response(request: Request, key: str) -> HTTPResponse:
        admin_only(request, N_("only an admin may edit prepared answers"))
        body = body_of(request)
        given = parse_response(key, body.get("title"), body.get("text"))
        return await answer(lambda: edited(lambda answers: answers.replaced(given)))

    @routes("/console/api/canned-responses/<key:str>", ["DELETE"], "delete_canned_response")
    async def delete_canned_response(request: Request, key: str) -> HTTPResponse:
        admin_only(request, N_("only an admin may edit prepared answers"))
        try:
            return await answer(lambda: edited(lambda answers: answers.without(key)))
        except KeyError:
            return error(404, "no such prepared answer")
