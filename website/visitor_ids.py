"""Visitor ids for the web chat: issued by the server, unguessable, signed.

An id is `web-<token>.<signature>`: `token` is 16 random bytes (22 url-safe
characters), `signature` the HMAC-SHA256 of the token under the site's key, cut to
16 bytes (22 url-safe characters). 49 characters, all in `[A-Za-z0-9._-]`, so Rasa's
REST channel (`bot.channels.rest.clean_sender`) keeps an id unchanged. Whoever holds an
id can talk in and read that conversation, so the token is the secret; the signature
lets the website refuse made-up ids before anything reaches Rasa or the store.

The key comes from LOTSE_VISITOR_KEY (any string of at least 32 characters, e.g. 64 hex
digits; its UTF-8 bytes are the key) or else from the key file, made once with 32
random bytes (mode 0600) so ids survive restarts. Website replicas behind one balancer
must share the key: set LOTSE_VISITOR_KEY on all of them. Plain Python, no HTTP; the key
is a secret and never logged. `load_visitor_key` raises `SettingsError`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

from lotse.settings import SettingsError

KEY_VARIABLE = "LOTSE_VISITOR_KEY"
KEY_FILE_NAME = "visitor.key"
KEY_FILE_BYTES = 32
TOKEN_BYTES = 16
SIGNATURE_BYTES = 16
PREFIX = "web-"
_DOMAIN = b"lotse-visitor-id:v1:"  # a key used elsewhere never signs a visitor id
_SHAPE = re.compile(r"web-([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{22})", re.ASCII)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class VisitorIds:
    """Issues and checks visitor ids under one key. Thread-safe (no state but the key)."""

    def __init__(self, key: bytes) -> None:
        if len(key) < KEY_FILE_BYTES:
            raise ValueError(f"a visitor id key needs at least {KEY_FILE_BYTES} bytes")
        self._key = key

    def __repr__(self) -> str:
        return "VisitorIds(key=<secret>)"

    def _signature(self, token: str) -> str:
        digest = hmac.new(self._key, _DOMAIN + token.encode("ascii"), hashlib.sha256).digest()
        return _b64(digest[:SIGNATURE_BYTES])

    def issue(self) -> str:
        """A new id; never issued before (128 random bits)."""
        token = _b64(secrets.token_bytes(TOKEN_BYTES))
        return f"{PREFIX}{token}.{self._signature(token)}"

    def verify(self, raw: object) -> str | None:
        """`raw` when it is an id this key issued, else None. Never raises; the
        signature is compared in constant time."""
        if not isinstance(raw, str) or len(raw) > 128:
            return None
        shape = _SHAPE.fullmatch(raw)
        if shape is None:
            return None
        token, signature = shape.groups()
        return raw if hmac.compare_digest(signature, self._signature(token)) else None


def load_visitor_key(key: str | None, key_file: Path) -> bytes:
    """`key` (LOTSE_VISITOR_KEY, checked by `lotse.settings`), else the key in
    `key_file`, made (mode 0600, its folder too if missing) with random bytes when it
    does not exist yet. Creating it is safe against a second process doing the same:
    one file wins, both read it."""
    if key is not None:
        return key.encode("utf-8")
    if not key_file.exists():
        _create_key_file(key_file)
    key = key_file.read_bytes()
    if len(key) < KEY_FILE_BYTES:
        raise SettingsError(
            f"the visitor id key file {key_file} holds {len(key)} bytes, fewer than "
            f"{KEY_FILE_BYTES}; delete it to make a new one (issued ids become invalid) "
            f"or set {KEY_VARIABLE}"
        )
    return key


def _create_key_file(key_file: Path) -> None:
    key_file.parent.mkdir(parents=True, exist_ok=True)
    draft = key_file.with_name(f".{key_file.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as out:
            os.fchmod(out.fileno(), 0o600)  # exactly, whatever the umask
            out.write(secrets.token_bytes(KEY_FILE_BYTES))
            out.flush()
            os.fsync(out.fileno())
        # A hard link appears complete or not at all and fails if the name is taken.
        os.link(draft, key_file)
    except FileExistsError:
        pass  # another process made it first; its key is the one
    finally:
        draft.unlink(missing_ok=True)
