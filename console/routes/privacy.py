"""A person's data (DSGVO) for admins: export and erasure with the `lotse privacy`
command's code (`privacy/export.py`, `privacy/erasure.py`), one at a time, audited with
their login; a bad email or number is a 400. The person is in the POST's body: an email
or number in a URL would stay in proxy logs and the browser's history."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import TypeVar

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from console.routing import Routes, admin_only, blocking
from console.web import body_of, error, person_of
from lotse.translations import N_
from privacy.erasure import DataErasure
from privacy.export import DataExport, as_text
from privacy.personal_stores import PersonalStores

T = TypeVar("T")
# One export or erasure at a time: they share the tracker store's SQLite connection.
PRIVACY_LOCK = threading.Lock()


def privately(work: Callable[[], T]) -> T:
    with PRIVACY_LOCK:
        return work()


def register(routes: Routes) -> None:
    def privacy_request(
        request: Request, refusal: str, confirmed: bool = False
    ) -> tuple[PersonalStores, str | None, str | None] | HTTPResponse:
        """The stores and the person an admin's privacy request names, or its refusal."""
        admin_only(request, refusal)
        try:
            body = body_of(request)
            email, phone = person_of(body.get("email"), body.get("phone"))
        except ValueError as bad:
            return error(400, str(bad))
        if confirmed and body.get("confirm") is not True:
            return error(400, "erasing cannot be undone: send `confirm: true`")
        if routes.console.privacy is None:
            return error(503, N_("the console has no access to the personal data stores"))
        return routes.console.privacy, email, phone

    @routes("/console/api/privacy/export", ["POST"], "privacy_export")
    async def privacy_export(request: Request) -> HTTPResponse:
        named = privacy_request(request, N_("only an admin may export a person's data"))
        if isinstance(named, HTTPResponse):
            return named
        stores, email, phone = named
        export = partial(DataExport(stores).export, email, phone,
                         requested_by=request.ctx.session.username)  # fmt: skip
        document = await blocking(privately, export)
        return response.text(as_text(document) + "\n", content_type="application/json", headers={
            "Content-Disposition":
                f'attachment; filename="lotse-export-{document["exported_at"][:10]}.json"',
            "Cache-Control": "no-store",
        })  # fmt: skip

    @routes("/console/api/privacy/erase", ["POST"], "privacy_erase")
    async def privacy_erase(request: Request) -> HTTPResponse:
        refusal = N_("only an admin may erase a person's data")
        named = privacy_request(request, refusal, confirmed=True)
        if isinstance(named, HTTPResponse):
            return named
        stores, email, phone = named
        erase = partial(DataErasure(stores).erase, email, phone,
                        requested_by=request.ctx.session.username)  # fmt: skip
        erased = await blocking(privately, erase)
        return response.json({"leads": erased.leads, "conversations": erased.conversations})
