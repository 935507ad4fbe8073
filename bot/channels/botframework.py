"""Microsoft Teams through the Bot Framework: Rasa's connector behind Lotse's JWT check.

Credentials: `app_id` and `app_password` of the Azure bot registration; its messaging
endpoint is the public URL of `/webhooks/botframework/webhook`. Every request carries
`Authorization: Bearer <JWT>`; Lotse checks it (`bot.channels.authenticity`: RS256
with a key of the Bot Framework's published set, issuer, audience = the app id,
lifetime, and the `serviceUrl` claim equal to the activity's) and refuses 401/403
before Rasa's connector reads the activity. Rasa's own check is switched off: it
fetches the key set when the connector is built (a network call at start) and
accepts any algorithm the token names. Keys come from LOTSE_BOTFRAMEWORK_OPENID_URL
(default: Microsoft's OpenID metadata), cached, and fetched again for an unknown key
id at most once a minute. Replies are activities posted to the conversation at the
activity's service URL, with a token from LOTSE_BOTFRAMEWORK_TOKEN_URL (default:
Microsoft's login endpoint), cached until shortly before it expires. Buttons become a
hero card with messageBack actions (the click sends the payload, shows the title).
The profile name is the activity's `from.name`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Mapping
from typing import Any

import requests
from jwt.algorithms import RSAAlgorithm
from rasa.core.channels.botframework import BotFramework, BotFrameworkInput
from rasa.core.channels.channel import UserMessage
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.admission import Handler
from bot.channels.authenticity import BotFrameworkVerifier
from bot.channels.messenger import MessengerChannel
from bot.channels.outlet import PlatformBusy
from bot.channels.platform_http import PlatformHttp
from conversations.rendering import Part
from lotse.settings import load_settings

OPENID_URL_VARIABLE = "LOTSE_BOTFRAMEWORK_OPENID_URL"
TOKEN_URL_VARIABLE = "LOTSE_BOTFRAMEWORK_TOKEN_URL"
OPENID_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
TOKEN_URL = "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token"
TOKEN_SCOPE = "https://api.botframework.com/.default"
KEY_REFRESH_SECONDS = 60
TIMEOUT_SECONDS = 10


class PublishedKeys:
    """The Bot Framework's signing keys by key id, fetched at most once a minute."""

    def __init__(self, openid_url: str) -> None:
        self.openid_url = openid_url
        self._keys: dict[str, object] = {}
        self._fetched = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> Mapping[str, object]:
        with self._lock:
            if time.monotonic() - self._fetched >= KEY_REFRESH_SECONDS or not self._fetched:
                self._fetched = time.monotonic()
                # On failure the keys we have stay; an unknown key id is refused.
                with contextlib.suppress(requests.RequestException, ValueError, KeyError):
                    self._keys = self._fetch()
            return self._keys

    def _fetch(self) -> dict[str, object]:
        metadata = requests.get(self.openid_url, timeout=TIMEOUT_SECONDS)
        metadata.raise_for_status()
        found = requests.get(metadata.json()["jwks_uri"], timeout=TIMEOUT_SECONDS)
        found.raise_for_status()
        return {k["kid"]: RSAAlgorithm.from_jwk(json.dumps(k)) for k in found.json()["keys"]}


class BotFrameworkSender:
    """Activities posted to the conversation through `PlatformHttp`, with a token from
    the token endpoint, kept until shortly before it expires. 429 (with Retry-After)
    and 5xx may be sent again; a 401 drops the kept token and may be sent again (with a
    new one); any other error (403 the bot is disabled, 404 the conversation is gone)
    is a refusal."""

    def __init__(self, app_id: str, app_password: str, http: PlatformHttp | None = None) -> None:
        self.app_id = app_id
        self.app_password = app_password
        self.token_url = load_settings().messengers.botframework_token or TOKEN_URL
        self.http = http or PlatformHttp("botframework")
        self._token: tuple[str, float] | None = None  # (token, monotonic expiry)
        self._lock = threading.Lock()

    def token(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() >= self._token[1]:
                given = self.http.post(self.token_url, data={
                    "grant_type": "client_credentials", "client_id": self.app_id,
                    "client_secret": self.app_password, "scope": TOKEN_SCOPE,
                }).check("botframework token")  # fmt: skip
                token, lifetime = given.field("access_token"), given.field("expires_in")
                if not isinstance(token, str) or not isinstance(lifetime, (int, float)):
                    raise PlatformBusy("botframework token: no token in the answer")
                self._token = (token, time.monotonic() + lifetime - 60)
            return self._token[0]

    async def send(self, address: Mapping[str, Any], part: Part) -> None:
        await asyncio.to_thread(self._post, address, activity(address, part))

    def _post(self, address: Mapping[str, Any], body: dict[str, Any]) -> None:
        url = (f"{address['service_url'].rstrip('/')}/v3/conversations/"
               f"{address['conversation']}/activities")  # fmt: skip
        headers = {"Authorization": f"Bearer {self.token()}"}
        answer = self.http.post(url, json=body, headers=headers)
        if answer.status == 401:  # the kept token is no longer good: a new one next time
            with self._lock:
                self._token = None
            raise PlatformBusy("botframework answered 401")
        answer.check("botframework")


def activity(address: Mapping[str, Any], part: Part) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "message",
        "recipient": {"id": address["id"]},
        "from": address.get("bot") or {},
        "text": part.text,
    }
    if part.buttons:
        actions = [
            {"type": "messageBack", "title": b.title, "text": b.payload, "displayText": b.title}
            for b in part.buttons
        ]
        body["text"] = ""
        body["attachments"] = [{
            "contentType": "application/vnd.microsoft.card.hero",
            "content": {"text": part.text, "buttons": actions},
        }]  # fmt: skip
    return body


class LotseBotFrameworkInput(MessengerChannel, BotFrameworkInput):
    signature_header = "Authorization"

    def __init__(self, app_id: str, app_password: str) -> None:
        super().__init__(app_id, app_password)
        openid = load_settings().messengers.botframework_openid or OPENID_URL
        self.verifier = BotFrameworkVerifier(app_id or "", PublishedKeys(openid))

    def _update_cached_jwk_keys(self) -> None:
        """Rasa's key fetch at construction: not used (`authentic` checks every request)."""

    def _validate_auth(self, auth_header: str | None) -> HTTPResponse | None:
        return None  # checked before Rasa sees the request; see the module docstring

    async def authentic(self, request: Request) -> bool:
        body = request.json if isinstance(request.json, dict) else {}
        service_url = body.get("serviceUrl")
        return await asyncio.to_thread(
            self.verifier.verify, request.headers.get(self.signature_header),
            service_url if isinstance(service_url, str) else None,
        )  # fmt: skip

    def address_of(self, message: UserMessage) -> dict[str, Any]:
        output = message.output_channel
        address: dict[str, Any] = {"id": str(message.sender_id)}
        if isinstance(output, BotFramework):
            address["conversation"] = output.conversation.get("id")
            address["bot"] = output.bot
            address["service_url"] = output.global_uri.removesuffix("v3/")
        return address

    def sender(self) -> BotFrameworkSender:
        return BotFrameworkSender(self.app_id, self.app_password)

    def profile_name(self, request: Request) -> str | None:
        body = request.json if isinstance(request.json, dict) else {}
        person = body.get("from")
        return person.get("name") if isinstance(person, dict) else None

    def blueprint(self, on_new_message: Handler) -> Blueprint:
        return self.wrapped(super().blueprint, on_new_message)
