"""Password hashing for web logins (argon2, the maintained argon2-cffi library)."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise ValueError("a password needs at least 8 characters")
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_dummy: list[str] = []


def verify_dummy(password: str) -> bool:
    """Spend what verifying a real hash costs, for a username that does not exist (always False)."""
    if not _dummy:
        _dummy.append(_hasher.hash(secrets.token_urlsafe(24)))  # nobody knows what it is a hash of
    verify_password(_dummy[0], password)
    return False
