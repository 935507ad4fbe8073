"""The console's logins, for admins: list, add, disable and enable."""

from __future__ import annotations

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from console.routing import Routes, admin_only, blocking
from console.web import body_of, text_of


def register(routes: Routes) -> None:
    @routes("/console/api/users", ["GET"], "users")
    async def users(request: Request) -> HTTPResponse:
        admin_only(request)
        listed = await blocking(routes.console.auth.users)
        return response.json({"users": [
            {"username": u.username, "role": u.role, "staff_id": u.staff_id,
             "display_name": u.display_name, "active": u.active}
            for u in listed
        ]})  # fmt: skip

    @routes("/console/api/users", ["POST"], "add_user")
    async def add_user(request: Request) -> HTTPResponse:
        admin_only(request)
        console = routes.console
        body = body_of(request)
        staff_id = body.get("staff_id") or None
        display_name = body.get("display_name") or None
        if staff_id is not None and (
            not isinstance(staff_id, str) or staff_id not in console.desk.model.staff
        ):
            raise ValueError("unknown staff id")
        if display_name is not None and not isinstance(display_name, str):
            raise ValueError("`display_name` must be a text")
        user = await blocking(
            console.auth.add_user, text_of(body, "username", 64), text_of(body, "password", 256),
            text_of(body, "role", 16), staff_id, display_name,
        )  # fmt: skip
        return response.json({"username": user.username, "role": user.role}, status=201)

    @routes("/console/api/users/<username:str>/active", ["POST"], "user_active")
    async def user_active(request: Request, username: str) -> HTTPResponse:
        admin_only(request)
        active = body_of(request).get("active")
        if not isinstance(active, bool):
            raise ValueError("`active` must be true or false")
        await blocking(routes.console.auth.set_active, username, active)
        return response.json({"username": username, "active": active})
