"""Small helpers shared by the console's app and its handlers."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence
from typing import Any

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from crm_adapter.phone import MAX_RAW_CHARS, normalised_phone
from crm_adapter.store.local import EMAIL_LENGTH, normalised_email
from handoff.desk import Actor
from lotse.settings import Network

COOKIE = "lotse_console"
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def error(status: int, message: str, **extra: Any) -> HTTPResponse:
    return response.json({"error": message, **extra}, status=status)


def actor_of(request: Request) -> Actor:
    session = request.ctx.session
    return Actor(session.username, session.role, session.staff_id)


def client_address(peer: str, forwarded: Sequence[str], trusted: Sequence[Network]) -> str:
    """The address a request counts as for login throttling (`handoff.auth`).

    The socket `peer`; only when the peer is one of the `trusted` proxies, the
    X-Forwarded-For hop (`forwarded`: the header's lines) nearest to it that is not
    itself a trusted proxy: those hops were added by the proxies, earlier ones are
    whatever the client wrote. A hop that is no address ends the walk (the last
    trusted hop counts). IPv6 addresses count by their /64 (one host has many), an
    IPv4-mapped one as the IPv4 address; "unknown" without a peer. Pure."""
    address = _address(peer)
    if address is None:
        return "unknown"
    hops = [hop.strip() for line in forwarded for hop in line.split(",") if hop.strip()]
    while _trusted(address, trusted) and hops:
        hop = _address(hops.pop())
        if hop is None:
            break
        address = hop
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _address(text: str) -> Address | None:
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, trusted: Sequence[Network]) -> bool:
    return any(address.version == net.version and address in net for net in trusted)


def body_of(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python recurses
        raise ValueError("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ValueError("expected a JSON object")
    return body


def text_of(body: dict[str, Any], key: str, limit: int = 2000) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"`{key}` must be a non-empty text")
    return value.strip()[:limit]


def person_of(email: Any, phone: Any) -> tuple[str | None, str | None]:
    """The (email, phone) a privacy request names: exactly one (None or blank is none),
    a text the CRM store would take as one (`normalised_email`, `crm_adapter.phone`),
    stripped. ValueError with a message for the admin otherwise; no message repeats
    the value."""
    email, phone = (None if _blank(v) else v for v in (email, phone))
    if email is None and phone is None:
        raise ValueError("give an email address or a phone number")
    if email is not None and phone is not None:
        raise ValueError("give an email address or a phone number, not both")
    value = email if email is not None else phone
    if not isinstance(value, str):
        raise ValueError("the email address or phone number must be a text")
    value = value.strip()
    if email is not None:
        if len(value) > EMAIL_LENGTH:
            raise ValueError(f"an email address has at most {EMAIL_LENGTH} characters")
        try:
            normalised_email(value)
        except ValueError:
            raise ValueError("that is not an email address") from None
        return value, None
    if len(value) > MAX_RAW_CHARS:
        raise ValueError(f"a phone number has at most {MAX_RAW_CHARS} characters")
    if normalised_phone(value) is None:
        raise ValueError("that is not a phone number (e.g. +49 151 12345678)")
    return None, value


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
