"""argon2id password hashes (argon2-cffi's defaults follow RFC 9106's recommendations)."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


@functools.cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


#: Verified against when the username is unknown, so both failures take the same time.
@functools.cache
def dummy_hash() -> str:
    return hash_password("not a real password")


MIN_POLICY_LENGTH = 10


@functools.cache
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords (bundled with zxcvbn, no network needed)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str, *, username: str = "") -> str | None:
    """Why ``password`` is refused, or None: too short, too common, or the username itself."""
    if len(password) < MIN_POLICY_LENGTH:
        return "short"
    lowered = password.lower()
    if lowered in common_passwords() or (username and username.lower() in lowered):
        return "common"
    return None
