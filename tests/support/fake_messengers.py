"""One local fake of the five messenger platforms' APIs, and the signed requests they send.

`FakeMessengers` answers, under one base URL, the calls Lotse makes, in each
platform's real shapes (paths, auth, bodies, answers and errors):

- Telegram Bot API `/telegram/bot<token>/<method>` (getMe, setWebhook, sendMessage;
  form or multipart bodies as aiogram sends them; 401 for another token);
- Meta Graph API `/facebook/v19.0/me/messages` (JSON, the token as a bearer header or
  `?access_token=`; an OAuthException
  code 190 for another token);
- Twilio `/twilio/2010-04-01/Accounts/<sid>/Messages.json` (form, HTTP Basic auth;
  201 with the message resource, 401 code 20003 otherwise);
- Slack Web API `/slack/api/chat.postMessage` (JSON, bearer token; `ok: false,
  error: invalid_auth` otherwise);
- Bot Framework: a token endpoint, OpenID metadata and a key set
  (`/botframework/...`), and the connector's `/botframework/v3/conversations/<id>/
  activities`, which needs the issued token. The fake holds the RSA key the Bot
  Framework would sign inbound requests with (`bot_framework_jwt`).

Every call that sends a message is recorded in `sent` (platform, path, parsed body).
The `*_update` functions build realistic inbound payloads, and the `signed_*`
functions sign them as the platform does.
"""

from __future__ import annotations

import base64
import cgi
import hashlib
import hmac
import io
import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from bot.channels.authenticity import twilio_signature
from tests.support.fake_servers import FakeApiServer, QuietJsonHandler, ServedInThread

TELEGRAM_TOKEN = "7123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
TELEGRAM_BOT_NAME = "nordwerk_bot"
TELEGRAM_SECRET = "tg-secret-4f9c2a"
FACEBOOK_PAGE_TOKEN = "EAAGm0PX4ZCpsBAFakePageToken"
FACEBOOK_APP_SECRET = "fb-app-secret-7d1e"
FACEBOOK_VERIFY_TOKEN = "nordwerk-verify"
TWILIO_SID = "AC" + "0" * 30 + "1"
TWILIO_TOKEN = "twilio-auth-token-9b2f"
TWILIO_NUMBER = "whatsapp:+4952112345"
SLACK_TOKEN = "xoxb-1111-2222-FakeSlackBotToken"
SLACK_SECRET = "slack-signing-secret-3c8d"
TEAMS_APP_ID = "5f1c9a3e-0d2b-4c7e-9a61-2b3c4d5e6f70"
TEAMS_PASSWORD = "teams-app-password"
BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"


@dataclass(frozen=True)
class Sent:
    platform: str
    path: str
    body: dict[str, Any]

    @property
    def text(self) -> str:
        """The visible text of the message, whatever the platform's shape."""
        body = self.body
        if self.platform == "facebook":
            return str(body.get("message", {}).get("text", ""))
        if self.platform == "twilio":
            return str(body.get("Body", ""))
        if self.platform == "botframework" and body.get("attachments"):
            return str(body["attachments"][0]["content"].get("text", ""))
        return str(body.get("text", ""))

    @property
    def recipient(self) -> str:
        body = self.body
        return str(
            {
                "telegram": body.get("chat_id"),
                "facebook": body.get("recipient", {}).get("id"),
                "twilio": body.get("To"),
                "slack": body.get("channel"),
                "botframework": body.get("recipient", {}).get("id"),
            }[self.platform]
        )


class FakeMessengers(ServedInThread):
    def __init__(self) -> None:
        self._serve(FakeApiServer(self, _Handler))
        self.lock = threading.Lock()
        self.sent: list[Sent] = []
        self.calls: list[tuple[str, str]] = []  # (platform, method or path)
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.key_id = "fake-key-1"
        self.issued_tokens: set[str] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def record(self, platform: str, path: str, body: dict[str, Any]) -> None:
        with self.lock:
            self.sent.append(Sent(platform, path, body))

    def sent_to(self, platform: str, recipient: str) -> list[Sent]:
        with self.lock:
            return [s for s in self.sent if s.platform == platform and s.recipient == recipient]

    def wait_for(
        self, platform: str, recipient: str, count: int = 1, timeout: float = 60
    ) -> list[Sent]:
        """The messages sent to `recipient` once there are at least `count` (and no more
        arrive for half a second), else AssertionError."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.sent_to(platform, recipient)
            if len(found) >= count:
                time.sleep(0.5)
                return self.sent_to(platform, recipient)
            time.sleep(0.05)
        raise AssertionError(f"{platform}: {count} message(s) to {recipient} never arrived")

    # -- Bot Framework's side of authentication -----------------------------------------

    def jwk(self) -> dict[str, Any]:
        public = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        return {**public, "kid": self.key_id, "use": "sig", "endorsements": ["msteams"]}

    def bot_framework_jwt(self, service_url: str, app_id: str = TEAMS_APP_ID) -> str:
        now = int(time.time())
        claims = {
            "iss": BOT_FRAMEWORK_ISSUER,
            "aud": app_id,
            "nbf": now - 5,
            "exp": now + 3600,
            "serviceUrl": service_url,
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.key_id})


class _Handler(QuietJsonHandler):
    def send_json(self, status: int, headers: dict[str, str], body: Any) -> None:
        super().send_json(status, {"Content-Type": "application/json", **headers}, body)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _form(self, raw: bytes) -> dict[str, Any]:
        kind = self.headers.get("Content-Type", "")
        if kind.startswith("multipart/form-data"):
            environ = {
                "REQUEST_METHOD": "POST",
                "CONTENT_TYPE": kind,
                "CONTENT_LENGTH": str(len(raw)),
            }
            fields = cgi.FieldStorage(io.BytesIO(raw), environ=environ, keep_blank_values=True)
            return {k: fields.getfirst(k) for k in fields.keys()}  # noqa: SIM118
        if kind.startswith("application/json"):
            return json.loads(raw or b"{}")
        return {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}

    def do_GET(self) -> None:
        fake: FakeMessengers = self.server.fake
        path = urlsplit(self.path).path
        if path == "/botframework/openid":
            self.send_json(
                200,
                {},
                {
                    "issuer": BOT_FRAMEWORK_ISSUER,
                    "jwks_uri": f"{fake.url}/botframework/keys",
                    "id_token_signing_alg_values_supported": ["RS256"],
                },
            )
        elif path == "/botframework/keys":
            self.send_json(200, {}, {"keys": [fake.jwk()]})
        else:
            self.send_json(404, {}, {"error": "not found"})

    def do_POST(self) -> None:
        raw = self._body()
        parts = urlsplit(self.path)
        platform, _, rest = parts.path.lstrip("/").partition("/")
        handler = getattr(self, f"_{platform}", None)
        if handler is None:
            self.send_json(404, {}, {"error": "not found"})
            return
        with self.server.fake.lock:
            self.server.fake.calls.append((platform, rest))
        handler("/" + rest, parse_qs(parts.query), raw)

    def _telegram(self, path: str, query: dict[str, list[str]], raw: bytes) -> None:
        _, token_part, method = path.split("/", 2)
        if token_part != f"bot{TELEGRAM_TOKEN}":
            self.send_json(401, {}, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            return
        body = self._form(raw)
        method = method.lower()
        if method == "getme":
            result: Any = {
                "id": 7123456789,
                "is_bot": True,
                "first_name": "Nordwerk",
                "username": TELEGRAM_BOT_NAME,
            }
        elif method == "setwebhook":
            result = True
        elif method == "sendmessage":
            if "reply_markup" in body and isinstance(body["reply_markup"], str):
                body["reply_markup"] = json.loads(body["reply_markup"])
            self.server.fake.record("telegram", path, body)
            result = {
                "message_id": len(self.server.fake.sent),
                "date": int(time.time()),
                "chat": {"id": int(body["chat_id"]), "type": "private"},
                "text": body.get("text", ""),
            }
        else:
            result = True
        self.send_json(200, {}, {"ok": True, "result": result})

    def _facebook(self, path: str, query: dict[str, list[str]], raw: bytes) -> None:
        # The Graph API takes the token as a bearer header or in the query.
        bearer = self.headers.get("Authorization") == f"Bearer {FACEBOOK_PAGE_TOKEN}"
        if not bearer and query.get("access_token") != [FACEBOOK_PAGE_TOKEN]:
            self.send_json(
                400,
                {},
                {
                    "error": {
                        "message": "Invalid OAuth access token.",
                        "type": "OAuthException",
                        "code": 190,
                    }
                },
            )
            return
        body = json.loads(raw or b"{}")
        if "message" in body:
            self.server.fake.record("facebook", path, body)
        recipient = body.get("recipient", {}).get("id")
        self.send_json(200, {}, {"recipient_id": recipient, "message_id": f"m_{uuid.uuid4().hex}"})

    def _twilio(self, path: str, query: dict[str, list[str]], raw: bytes) -> None:
        expected = "Basic " + base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
        if self.headers.get("Authorization") != expected or TWILIO_SID not in path:
            self.send_json(
                401,
                {},
                {
                    "code": 20003,
                    "message": "Authenticate",
                    "status": 401,
                    "more_info": "https://www.twilio.com/docs/errors/20003",
                },
            )
            return
        body = self._form(raw)
        self.server.fake.record("twilio", path, body)
        sid = "SM" + uuid.uuid4().hex
        self.send_json(
            201,
            {},
            {
                "sid": sid,
                "account_sid": TWILIO_SID,
                "to": body.get("To"),
                "from": body.get("From"),
                "body": body.get("Body"),
                "status": "queued",
                "num_segments": "1",
                "uri": f"/2010-04-01/Accounts/{TWILIO_SID}/Messages/{sid}.json",
            },
        )

    def _slack(self, path: str, query: dict[str, list[str]], raw: bytes) -> None:
        if self.headers.get("Authorization") != f"Bearer {SLACK_TOKEN}":
            self.send_json(200, {}, {"ok": False, "error": "invalid_auth"})
            return
        body = self._form(raw)
        self.server.fake.record("slack", path, body)
        self.send_json(
            200,
            {},
            {
                "ok": True,
                "channel": body.get("channel"),
                "ts": f"{time.time():.6f}",
                "message": {"type": "message", "text": body.get("text")},
            },
        )

    def _botframework(self, path: str, query: dict[str, list[str]], raw: bytes) -> None:
        fake: FakeMessengers = self.server.fake
        if path == "/token":
            form = self._form(raw)
            if form.get("client_id") != TEAMS_APP_ID or form.get("client_secret") != TEAMS_PASSWORD:
                self.send_json(401, {}, {"error": "invalid_client"})
                return
            token = uuid.uuid4().hex
            with fake.lock:
                fake.issued_tokens.add(token)
            self.send_json(
                200,
                {},
                {
                    "token_type": "Bearer",
                    "expires_in": 3599,
                    "ext_expires_in": 3599,
                    "access_token": token,
                },
            )
            return
        given = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
        if given not in fake.issued_tokens:
            self.send_json(401, {}, {"error": {"code": "Unauthorized"}})
            return
        fake.record("botframework", path, json.loads(raw or b"{}"))
        self.send_json(201, {}, {"id": uuid.uuid4().hex})


# -- realistic inbound requests, signed as each platform signs them ----------------------


# Telegram numbers its updates one after another (the webhook's key for an update sent again).
_UPDATE_IDS = itertools.count(100_000_000 + uuid.uuid4().int % 800_000_000)


def telegram_update(chat_id: int, text: str, first_name: str = "Anna") -> dict[str, Any]:
    now = int(time.time())
    person = {
        "id": chat_id,
        "is_bot": False,
        "first_name": first_name,
        "last_name": "Muster",
        "language_code": "de",
    }
    return {
        "update_id": next(_UPDATE_IDS),
        "message": {
            "message_id": now % 100000,
            "from": person,
            "date": now,
            "chat": {
                "id": chat_id,
                "first_name": first_name,
                "last_name": "Muster",
                "type": "private",
            },
            "text": text,
        },
    }


def telegram_headers(secret: str = TELEGRAM_SECRET) -> dict[str, str]:
    return {"X-Telegram-Bot-Api-Secret-Token": secret, "Content-Type": "application/json"}


def facebook_event(psid: str, text: str) -> dict[str, Any]:
    now = int(time.time() * 1000)
    return {
        "object": "page",
        "entry": [
            {
                "id": "104708662217521",
                "time": now,
                "messaging": [
                    {
                        "sender": {"id": psid},
                        "recipient": {"id": "104708662217521"},
                        "timestamp": now,
                        "message": {"mid": f"m_{uuid.uuid4().hex}", "text": text},
                    }
                ],
            }
        ],
    }


def meta_headers(body: bytes, secret: str = FACEBOOK_APP_SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    legacy = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    return {
        "X-Hub-Signature-256": f"sha256={digest}",
        "X-Hub-Signature": f"sha1={legacy}",
        "Content-Type": "application/json",
    }


def twilio_form(phone: str, text: str, profile_name: str = "Anna Muster") -> dict[str, str]:
    return {
        "SmsMessageSid": "SM" + uuid.uuid4().hex,
        "NumMedia": "0",
        "ProfileName": profile_name,
        "MessageType": "text",
        "SmsSid": "SM" + uuid.uuid4().hex,
        "WaId": phone.lstrip("+"),
        "SmsStatus": "received",
        "Body": text,
        "To": TWILIO_NUMBER,
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": TWILIO_SID,
        "From": f"whatsapp:{phone}",
        "ApiVersion": "2010-04-01",
    }


def twilio_headers(url: str, form: dict[str, str], token: str = TWILIO_TOKEN) -> dict[str, str]:
    return {
        "X-Twilio-Signature": twilio_signature(token, url, form),
        "Content-Type": "application/x-www-form-urlencoded",
    }


def twilio_body(form: dict[str, str]) -> bytes:
    return urlencode(form).encode()


def slack_event(user: str, channel: str, text: str) -> dict[str, Any]:
    now = time.time()
    return {
        "token": "XXYYZZ",
        "team_id": "T0NORDWERK",
        "api_app_id": "A0LOTSE",
        "event": {
            "type": "message",
            "channel_type": "im",
            "user": user,
            "text": text,
            "ts": f"{now:.6f}",
            "channel": channel,
            "event_ts": f"{now:.6f}",
        },
        "type": "event_callback",
        "event_id": "Ev" + uuid.uuid4().hex[:10].upper(),
        "event_time": int(now),
        "authed_users": ["U0LOTSEBOT"],
    }


def slack_headers(body: bytes, secret: str = SLACK_SECRET, at: int | None = None) -> dict[str, str]:
    timestamp = str(int(time.time()) if at is None else at)
    base = f"v0:{timestamp}:".encode() + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "X-Slack-Signature": f"v0={digest}",
        "X-Slack-Request-Timestamp": timestamp,
        "Content-Type": "application/json",
    }


def teams_activity(user: str, text: str, service_url: str, conversation: str) -> dict[str, Any]:
    return {
        "type": "message",
        "id": uuid.uuid4().hex[:16],
        "channelId": "msteams",
        "timestamp": "2026-11-26T09:15:00.000Z",
        "serviceUrl": service_url,
        "from": {"id": user, "name": "Anna Muster", "aadObjectId": str(uuid.uuid4())},
        "conversation": {
            "conversationType": "personal",
            "tenantId": str(uuid.uuid4()),
            "id": conversation,
        },
        "recipient": {"id": f"28:{TEAMS_APP_ID}", "name": "Nordwerk"},
        "text": text,
        "textFormat": "plain",
        "locale": "de-DE",
        "channelData": {"tenant": {"id": str(uuid.uuid4())}},
    }
