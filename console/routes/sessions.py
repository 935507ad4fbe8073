"""Logging in and out, who is logged in, and their console language ("de", "en" or
null for the browser's). Login throttling counts the client by `web.client_address`
(X-Forwarded-For only from a trusted proxy)."""

from __future__ import annotations

import math
from typing import Any

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from console.routing import Routes, blocking
from console.web import COOKIE, body_of, client_address, error
from handoff.auth import BadCredentials, TooManyAttempts
from lotse.metrics import LOGINS_REFUSED
from lotse.translations import LANGUAGES


def user_view(session: Any) -> dict[str, Any]:
    return {"username": session.username, "role": session.role, "staff_id": session.staff_id}


def register(routes: Routes) -> None:
    @routes("/console/api/login", ["POST"], "login")
    async def login(request: Request) -> HTTPResponse:
        console = routes.console
        body = body_of(request)
        username = str(body.get("username") or "")[:64]
        password = str(body.get("password") or "")[:256]
        forwarded = request.headers.getall("x-forwarded-for", [])
        client = client_address(request.ip, forwarded, console.trusted_proxies)
        try:
            session = await blocking(console.auth.login, username, password, client)
        except TooManyAttempts as refused:
            LOGINS_REFUSED.labels("too_many_attempts").inc()
            wait = max(1, math.ceil(refused.retry_after))
            reply = error(429, f"too many attempts; try again in {wait} s")
            reply.headers["Retry-After"] = str(wait)
            return reply
        except BadCredentials:
            LOGINS_REFUSED.labels("bad_credentials").inc()
            return error(401, "wrong username or password")
        reply = response.json({"user": user_view(session), "csrf_token": session.csrf_token})
        reply.cookies[COOKIE] = session.token
        cookie = reply.cookies[COOKIE]
        cookie["httponly"] = True
        cookie["samesite"] = "Strict"
        cookie["path"] = "/console"
        cookie["max-age"] = int(console.session_lifetime.total_seconds())
        if console.secure_cookies:
            cookie["secure"] = True
        return reply

    @routes("/console/api/logout", ["POST"], "logout")
    async def logout(request: Request) -> HTTPResponse:
        await blocking(routes.console.auth.logout, request.cookies.get(COOKIE) or "")
        reply = response.json({"ok": True})
        reply.cookies[COOKIE] = ""
        reply.cookies[COOKIE]["path"] = "/console"
        reply.cookies[COOKIE]["max-age"] = 0
        return reply

    @routes("/console/api/me", ["GET"], "me")
    async def me(request: Request) -> HTTPResponse:
        session = request.ctx.session
        member = routes.console.desk.model.staff.get(session.staff_id or "")
        return response.json({
            **user_view(session),
            "name": member.name if member else session.username,
            "csrf_token": session.csrf_token,
            "language": session.language,
        })  # fmt: skip

    @routes("/console/api/me/language", ["PUT"], "set_language")
    async def set_language(request: Request) -> HTTPResponse:
        language = body_of(request).get("language")
        if language is not None and language not in LANGUAGES:
            raise ValueError("language is de, en or null (the browser's)")
        await blocking(routes.console.auth.set_language, request.ctx.session.username, language)
        return response.json({"language": language})
