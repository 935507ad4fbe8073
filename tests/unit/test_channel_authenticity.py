"""Inbound authenticity checks per messenger (bot/channels/authenticity.py): a correct
signature passes; a tampered body, a wrong secret, a missing header, a replay or a
token for another bot does not. Twilio's check is compared with Twilio's own library."""

from __future__ import annotations

import hashlib
import hmac
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from twilio.request_validator import RequestValidator

from bot.channels.authenticity import (
    BotFrameworkVerifier,
    meta_signature_ok,
    slack_signature_ok,
    telegram_secret_ok,
    twilio_signature,
    twilio_signature_ok,
)

BODY = '{"object":"page","entry":[{"messaging":[{"message":{"text":"Grüße 👋"}}]}]}'.encode()


def test_meta_accepts_its_sha256_signature_only():
    secret = b"app-secret"
    good = "sha256=" + hmac.new(secret, BODY, hashlib.sha256).hexdigest()
    assert meta_signature_ok(secret, BODY, good)
    assert not meta_signature_ok(secret, BODY + b" ", good)  # tampered body
    assert not meta_signature_ok(b"other-secret", BODY, good)
    assert not meta_signature_ok(secret, BODY, None)
    legacy = "sha1=" + hmac.new(secret, BODY, hashlib.sha1).hexdigest()
    assert not meta_signature_ok(secret, BODY, legacy)  # the legacy header is not enough


def test_telegram_needs_the_secret_token_it_was_given():
    assert telegram_secret_ok("s3cr3t-token", "s3cr3t-token")
    assert not telegram_secret_ok("s3cr3t-token", "wrong")
    assert not telegram_secret_ok("s3cr3t-token", None)
    assert not telegram_secret_ok("", "")  # no secret configured: nothing passes


def test_twilio_signature_matches_twilios_own_validator():
    url = "https://bot.nordwerk.example/webhooks/twilio/webhook"
    params = {"From": "whatsapp:+4915112345678", "Body": "Grüße 👋", "MessageSid": "SM1"}
    header = RequestValidator("auth-token").compute_signature(url, params)
    assert twilio_signature("auth-token", url, params) == header
    assert twilio_signature_ok("auth-token", url, params, header)
    assert not twilio_signature_ok("auth-token", url, {**params, "Body": "other"}, header)
    assert not twilio_signature_ok("other-token", url, params, header)
    assert not twilio_signature_ok("auth-token", url, params, None)


def test_slack_checks_the_signature_and_refuses_replays():
    secret, now = b"slack-signing-secret", 1_764_000_000.0
    stamp = str(int(now))
    good = "v0=" + hmac.new(secret, f"v0:{stamp}:".encode() + BODY, hashlib.sha256).hexdigest()
    assert slack_signature_ok(secret, BODY, stamp, good, now=now)
    assert not slack_signature_ok(secret, BODY, stamp, good, now=now + 301)  # a replay
    assert not slack_signature_ok(secret, BODY + b"x", stamp, good, now=now)
    assert not slack_signature_ok(secret, BODY, "not-a-number", good, now=now)
    assert not slack_signature_ok(secret, BODY, stamp, None, now=now)


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def token(key: rsa.RSAPrivateKey, **claims: object) -> str:
    now = int(time.time())
    service = "https://smba.trafficmanager.net/emea/"
    body = {"iss": "https://api.botframework.com", "aud": "bot-app-id", "nbf": now - 10,
            "exp": now + 3600, "serviceUrl": service, **claims}  # fmt: skip
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": "key-1"})


def test_bot_framework_accepts_a_token_signed_by_a_published_key(signing_key):
    fetched = []

    def keys() -> dict[str, object]:
        fetched.append(1)
        return {"key-1": signing_key.public_key()}

    verifier = BotFrameworkVerifier("bot-app-id", keys)
    service = "https://smba.trafficmanager.net/emea/"
    assert verifier.verify(f"Bearer {token(signing_key)}", service)
    assert verifier.verify(f"Bearer {token(signing_key)}", service)
    assert len(fetched) == 1  # the keys are kept
    assert not verifier.verify(f"Bearer {token(signing_key)}", "https://evil.example/")
    assert not verifier.verify(f"Bearer {token(signing_key, aud='another-bot')}", service)
    assert not verifier.verify(f"Bearer {token(signing_key, iss='https://evil.example')}", service)
    expired = token(signing_key, exp=int(time.time()) - 400)
    assert not verifier.verify(f"Bearer {expired}", service)
    assert not verifier.verify(None, service) and not verifier.verify("Basic abc", service)
    assert not verifier.verify("Bearer not.a.token", service)


def test_bot_framework_refuses_a_key_it_does_not_know(signing_key):
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    verifier = BotFrameworkVerifier("bot-app-id", lambda: {"key-1": signing_key.public_key()})
    forged = token(stranger)  # same key id, another key
    assert not verifier.verify(f"Bearer {forged}", "https://smba.trafficmanager.net/emea/")
    unknown = jwt.encode({"aud": "bot-app-id"}, stranger, algorithm="RS256",
                         headers={"kid": "key-9"})  # fmt: skip
    assert not verifier.verify(f"Bearer {unknown}", None)
