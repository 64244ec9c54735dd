"""Login sessions in a signed cookie that survives server restarts.

The cookie holds the user name and an expiry, signed with HMAC-SHA256 under a secret
kept beside the catalog (created once, readable by the owner only). The signature
also covers the user's stored password hash, so changing a password in the config
ends every session of that user. Logging out revokes the token in memory until it
expires anyway.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from pathlib import Path

from homegallery.atomic import atomic_open

COOKIE_NAME = "homegallery_session"
_SECRET_BYTES = 32


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
    def __init__(self, secret: bytes, days: int) -> None:
        self._secret = secret
        self.max_age = days * 86400
        self._revoked: dict[str, float] = {}
        self._lock = threading.Lock()

    def _signature(self, payload: str, password_hash: str) -> str:
        message = f"{payload}|{password_hash}".encode()
        return _b64(hmac.new(self._secret, message, hashlib.sha256).digest())

    def issue(self, username: str, password_hash: str, now: float | None = None) -> str:
        expires = int((now if now is not None else time.time()) + self.max_age)
        payload = f"{_b64(username.encode())}.{expires}"
        return f"{payload}.{self._signature(payload, password_hash)}"

    def username(self, token: str) -> str | None:
        """The user a well-formed token names (not yet checked: see :meth:`verify`)."""
        try:
            name, _, _ = token.split(".")
            return _unb64(name).decode()
        except (ValueError, UnicodeDecodeError):
            return None

    def verify(self, token: str, password_hash: str, now: float | None = None) -> bool:
        """Whether the token is genuine, current, not revoked, for this password hash."""
        try:
            name, expires_text, signature = token.split(".")
            expires = int(expires_text)
        except ValueError:
            return False
        expected = self._signature(f"{name}.{expires_text}", password_hash)
        if not hmac.compare_digest(expected, signature):
            return False
        if expires < (now if now is not None else time.time()):
            return False
        with self._lock:
            return token not in self._revoked

    def revoke(self, token: str) -> None:
        now = time.time()
        with self._lock:
            self._revoked = {t: exp for t, exp in self._revoked.items() if exp > now}
            try:
                expires = float(token.split(".")[1])
            except (IndexError, ValueError):
                return
            self._revoked[token] = expires
