"""Login sessions in a signed cookie that survives server restarts.

The cookie holds the user name, an expiry and a random session id, signed with
HMAC-SHA256 under a secret kept beside the catalog (created once, readable by the
owner only). The signature also covers the user's stored password hash, so changing
a password in the config ends every session of that user. Logging out records the
session id as ended (:mod:`.revocations`, on disk beside the secret), so the cookie
stays refused after a restart until it would have expired anyway.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from pathlib import Path

from homegallery.atomic import atomic_open
from homegallery.server.revocations import Revocations

COOKIE_NAME = "homegallery_session"
_SECRET_BYTES = 32
_SESSION_ID_BYTES = 16


def load_secret(path: Path) -> bytes:
    """The signing secret at ``path``, created (mode 0600) when missing or too short."""
    try:
        secret = path.read_bytes()
        if len(secret) >= _SECRET_BYTES:
            return secret
    except FileNotFoundError:
        pass
    secret = secrets.token_bytes(_SECRET_BYTES)
    path.parent.mkdir(parents=True, exist_ok=True)
    # atomic_open's temporary file comes from mkstemp: owner-only (0600) from the start.
    with atomic_open(path) as handle:
        handle.write(secret)
    return secret


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Sessions:
    """Issues and checks session tokens ``<user>.<expiry>.<session id>.<signature>``."""

    def __init__(self, secret: bytes, days: int, revocations: Revocations | None = None) -> None:
        self._secret = secret
        self.max_age = days * 86400
        self.revocations = revocations if revocations is not None else Revocations()

    def _signature(self, payload: str, password_hash: str) -> str:
        message = f"{payload}|{password_hash}".encode()
        return _b64(hmac.new(self._secret, message, hashlib.sha256).digest())

    def issue(self, username: str, password_hash: str, now: float | None = None) -> str:
        expires = int((now if now is not None else time.time()) + self.max_age)
        session = _b64(secrets.token_bytes(_SESSION_ID_BYTES))
        payload = f"{_b64(username.encode())}.{expires}.{session}"
        return f"{payload}.{self._signature(payload, password_hash)}"

    def username(self, token: str) -> str | None:
        """The user a well-formed token names (not yet checked: see :meth:`verify`)."""
        try:
            name, _, _, _ = token.split(".")
            return _unb64(name).decode()
        except (ValueError, UnicodeDecodeError):
            return None

    def verify(self, token: str, password_hash: str, now: float | None = None) -> bool:
        """Whether the token is genuine, current, not ended, for this password hash."""
        try:
            name, expires_text, session, signature = token.split(".")
            expires = int(expires_text)
        except ValueError:
            return False
        expected = self._signature(f"{name}.{expires_text}.{session}", password_hash)
        if not hmac.compare_digest(expected, signature):
            return False
        if expires < (now if now is not None else time.time()):
            return False
        return session not in self.revocations

    def revoke(self, token: str, password_hash: str, now: float | None = None) -> bool:
        """Ends a genuine, current session for good; False (nothing kept) for any other
        token, so that made-up cookies cannot fill the file of ended sessions."""
        if not self.verify(token, password_hash, now):
            return False
        _, expires_text, session, _ = token.split(".")
        self.revocations.revoke(session, int(expires_text), now)
        return True
