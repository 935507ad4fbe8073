"""Is an inbound messenger request really from the platform? One check per platform.

Plain Python (no Rasa, no web framework), so each is tested alone; the channel
wrappers (`bot.channels.messenger` and one module per platform) call them before
Rasa's connector sees a request. Every comparison is constant-time
(`hmac.compare_digest`); a missing or malformed header is simply "no". Nothing here
logs, and no result says more than yes or no.

- Meta (Messenger, WhatsApp Cloud API): `X-Hub-Signature-256: sha256=<hex>`, HMAC-SHA256
  of the raw body with the app secret.
- Telegram: `X-Telegram-Bot-Api-Secret-Token` equals the secret given to setWebhook.
- Twilio (WhatsApp): `X-Twilio-Signature`, base64 HMAC-SHA1 with the auth token over the
  full URL followed by every POST parameter, sorted by name, as name + value.
- Slack: `X-Slack-Signature: v0=<hex>`, HMAC-SHA256 with the signing secret over
  `v0:{X-Slack-Request-Timestamp}:{raw body}`; a timestamp more than five minutes off is
  refused (replays).
- Microsoft Bot Framework (Teams): `Authorization: Bearer <JWT>`, RS256-signed by a key
  of the Bot Framework's published key set, issuer `https://api.botframework.com`,
  audience the bot's app id, within its lifetime (five minutes' leeway), and its
  `serviceUrl` claim the activity's service URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import jwt

SLACK_WINDOW_SECONDS = 300
BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
BOT_FRAMEWORK_LEEWAY = 300
_TIMESTAMP = re.compile(r"[0-9]{1,20}")


def _equal(expected: str, given: str | None) -> bool:
    # surrogatepass: Sanic decodes header bytes that are no UTF-8 as lone surrogates.
    return given is not None and hmac.compare_digest(
        expected.encode("utf-8", "surrogatepass"), given.strip().encode("utf-8", "surrogatepass")
    )


def meta_signature_ok(app_secret: bytes, body: bytes, header: str | None) -> bool:
    digest = hmac.new(app_secret, body, hashlib.sha256).hexdigest()
    return _equal(f"sha256={digest}", header)


def telegram_secret_ok(secret: str, header: str | None) -> bool:
    return bool(secret) and _equal(secret, header)


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str | Iterable[str]]) -> str:
    payload = url
    for name in sorted(params):
        values = params[name]
        for value in [values] if isinstance(values, str) else sorted(values):
            payload += name + value
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def twilio_signature_ok(
    auth_token: str, url: str, params: Mapping[str, str | Iterable[str]], header: str | None
) -> bool:
    return _equal(twilio_signature(auth_token, url, params), header)


def slack_signature_ok(
    signing_secret: bytes, body: bytes, timestamp: str | None, header: str | None,
    now: float | None = None, window: float = SLACK_WINDOW_SECONDS,
) -> bool:  # fmt: skip
    # ASCII digits only ("²".isdigit() holds, int("²") fails), and short enough for int().
    if not timestamp or not _TIMESTAMP.fullmatch(timestamp.strip()):
        return False
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > window:
        return False
    base = b"v0:" + timestamp.strip().encode() + b":" + body
    return _equal("v0=" + hmac.new(signing_secret, base, hashlib.sha256).hexdigest(), header)


KeySet = Callable[[], Mapping[str, object]]  # key id -> public key


@dataclass
class BotFrameworkVerifier:
    """Checks the bearer token of a Bot Framework request (see the module docstring).

    `keys` returns the current signing keys by key id (fetched from the Bot Framework's
    OpenID metadata in production; the caller caches them); an unknown key id makes it
    ask once more, since the keys rotate."""

    app_id: str
    keys: KeySet
    _cached: Mapping[str, object] = field(default_factory=dict, repr=False)

    def verify(self, authorization: str | None, service_url: str | None) -> bool:
        scheme, _, token = (authorization or "").partition(" ")
        # A JWT is ASCII (base64url and dots); PyJWT raises UnicodeEncodeError, not a
        # PyJWTError, for a lone surrogate from undecodable header bytes.
        if scheme != "Bearer" or not token or not token.isascii() or not self.app_id:
            return False
        try:
            key = self._key(jwt.get_unverified_header(token).get("kid"))
            if key is None:
                return False
            claims = jwt.decode(
                token, key, algorithms=["RS256"], audience=self.app_id,
                issuer=BOT_FRAMEWORK_ISSUER, leeway=BOT_FRAMEWORK_LEEWAY,
                options={"require": ["exp", "iss", "aud"]},
            )  # fmt: skip
        except jwt.PyJWTError:
            return False
        claimed = claims.get("serviceUrl") or claims.get("serviceurl")
        return claimed is None or (service_url is not None and _equal(claimed, service_url))

    def _key(self, kid: object) -> object | None:
        if not isinstance(kid, str):
            return None
        if kid not in self._cached:
            self._cached = dict(self.keys())
        return self._cached.get(kid)
