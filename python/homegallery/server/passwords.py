"""Password hashes: argon2 for new ones, HomeGallery's older forms for imported configs.

A config holds hashes only. ``$argon2id$…`` is what ``homegallery serve
--hash-password`` writes (memory-hard, salted, tunable); ``{SHA}<base64 sha1>`` and
``{SHA256-salted}<base64 salt>.<base64 sha256(salt + password)>`` are what HomeGallery
writes, accepted so its users can log in with the config they have, and reported as
weak at start-up so they replace them.

A login costs one argon2 check whoever it names: a user with an argon2 hash gets
theirs; an unknown name, and a user with a HomeGallery hash (a SHA check takes
microseconds), get a check of a decoy hash made with the parameters the configured
argon2 hashes use. So the time of an answer tells nothing about which names exist.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
from collections import Counter
from collections.abc import Iterable

from argon2 import PasswordHasher, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError

from homegallery.errors import HomeGalleryError

_HASHER = PasswordHasher()
_SHA1 = "{SHA}"
_SHA256_SALTED = "{SHA256-salted}"
_DECOYS: dict[str, str] = {}  # argon2 settings → a hash of a random password
_DECOYS_LOCK = threading.Lock()


class PasswordHashError(HomeGalleryError, ValueError):
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


def _argon2_settings(stored: str) -> str | None:
    """``$argon2id$v=19$m=65536,t=3,p=4`` of an argon2 hash: what checking it costs."""
    parts = stored.split("$")
    if not stored.startswith("$argon2") or len(parts) != 6:
        return None
    try:
        extract_parameters(stored)
    except InvalidHashError:
        return None
    return "$".join(parts[:4])


def decoy_hash(stored_hashes: Iterable[str]) -> str:
    """An argon2 hash no password matches, as costly to check as most configured ones.

    Made with the parameters most of ``stored_hashes`` use (the defaults of
    :func:`hash_password` when none is argon2); once per parameters and process.
    """
    examples: dict[str, str] = {}
    counts: Counter[str] = Counter()
    for stored in stored_hashes:
        settings = _argon2_settings(stored)
        if settings is not None:
            examples.setdefault(settings, stored)
            counts[settings] += 1
    settings = counts.most_common(1)[0][0] if counts else ""
    with _DECOYS_LOCK:
        if settings not in _DECOYS:
            hasher = (
                PasswordHasher.from_parameters(extract_parameters(examples[settings]))
                if settings
                else _HASHER
            )
            _DECOYS[settings] = hasher.hash(secrets.token_urlsafe(24))
        return _DECOYS[settings]


def verify_login(stored: str | None, password: str, decoy: str) -> bool:
    """Whether ``password`` is right for a user whose hash is ``stored`` (None: no such
    user), at the cost of one argon2 check in every case (see the module's docstring).

    Raises :class:`PasswordHashError` for a stored hash in no known form.
    """
    if stored is not None and stored.startswith("$argon2"):
        return verify_password(stored, password)
    verify_password(decoy, password)
    return stored is not None and verify_password(stored, password)
