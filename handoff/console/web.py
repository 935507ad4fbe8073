"""Small helpers shared by the console's app and its handlers."""

from __future__ import annotations

import json
from typing import Any

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff.desk import Actor

COOKIE = "lotse_console"


def error(status: int, message: str, **extra: Any) -> HTTPResponse:
    return response.json({"error": message, **extra}, status=status)


def actor_of(request: Request) -> Actor:
    session = request.ctx.session
    return Actor(session.username, session.role, session.staff_id)


def body_of(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        raise ValueError("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ValueError("expected a JSON object")
    return body


def text_of(body: dict[str, Any], key: str, limit: int = 2000) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"`{key}` must be a non-empty text")
    return value.strip()[:limit]
