"""Password hashes: argon2 for new ones, HomeGallery's older forms for imported configs.

A config holds hashes only. ``$argon2id$…`` is what ``homegallery serve
--hash-password`` writes (memory-hard, salted, tunable); ``{SHA}<base64 sha1>`` and
``{SHA256-salted}<base64 salt>.<base64 sha256(salt + password)>`` are what HomeGallery
writes, accepted so its users can log in with the config they have, and reported as
weak at start-up so they replace them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from argon2 import PasswordHasher, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
_SHA1 = "{SHA}"
_SHA256_SALTED = "{SHA256-salted}"
# Verified when the user name is unknown, so that a wrong name takes as long as a
# wrong password and the response time tells nothing about which names exist.
_DUMMY_HASH = _HASHER.hash("not a password of anyone")


class PasswordHashError(ValueError):
    """A stored hash in a form this server cannot check."""


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (a fresh random salt each time)."""
    if not password:
        raise ValueError("the password is empty")
    return _HASHER.hash(password)


def is_weak(stored: str) -> bool:
    """True for the unsalted or fast-hash forms kept only for HomeGallery configs."""
    return stored.startswith((_SHA1, _SHA256_SALTED))


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise PasswordHashError(f"not base64: {text[:12]}…") from None


def verify_password(stored: str, password: str) -> bool:
    """Whether ``password`` matches the stored hash (constant time for every form)."""
    if stored.startswith("$argon2"):
        try:
            extract_parameters(stored)  # a malformed hash is a config problem, not a no
            return _HASHER.verify(stored, password)
        except VerificationError:
            return False
        except InvalidHashError:
            raise PasswordHashError("a malformed argon2 hash") from None
    if stored.startswith(_SHA1):
        expected = _b64(stored[len(_SHA1) :])
        actual = hashlib.sha1(password.encode()).digest()
        return hmac.compare_digest(expected, actual)
    if stored.startswith(_SHA256_SALTED):
        salt_text, dot, digest_text = stored[len(_SHA256_SALTED) :].partition(".")
        if not dot:
            raise PasswordHashError("{SHA256-salted} needs <salt>.<hash>")
        # HomeGallery hashes the salt as UTF-8 text (random bytes decoded with
        # replacement characters), so the same decoding gives the same digest.
        salt = _b64(salt_text).decode("utf-8", "replace")
        actual = hashlib.sha256((salt + password).encode()).digest()
        return hmac.compare_digest(_b64(digest_text), actual)
    raise PasswordHashError("not a password hash (argon2, {SHA} or {SHA256-salted})")


def verify_unknown_user(password: str) -> bool:
    """Spends the time of one check and fails: the answer for a name nobody has."""
    verify_password(_DUMMY_HASH, password)
    return False
