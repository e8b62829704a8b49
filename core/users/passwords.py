"""argon2id password hashes, with OWASP's recommended cost (m = 19 MiB, t = 2, p = 1).

argon2-cffi's default (RFC 9106's low-memory profile: 64 MiB, t = 3, p = 4) takes 116 ms of CPU
per sign-in on our 2-core reference machine; OWASP's takes 19 ms and is what its Password
Storage Cheat Sheet recommends as the argon2id baseline. With sign-in lockout and the password
policy beside it, the cheaper hash keeps a morning's wave of sign-ins (the seed's "login → home
page" at 100 users) from queueing every other request for seconds. Hashes of the old cost still
verify, and are re-hashed at the next sign-in (``needs_rehash``)."""

from __future__ import annotations

import functools
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

#: OWASP Password Storage Cheat Sheet, argon2id: 19 MiB, 2 iterations, 1 degree of parallelism.
TIME_COST, MEMORY_COST_KIB, PARALLELISM = 2, 19_456, 1


@functools.cache
def _hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_COST_KIB, parallelism=PARALLELISM)


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


#: Digits and punctuation around a word: "password123456" and "!qwerty2024" are still common.
_DECORATION = re.compile(r"^[\W\d_]+|[\W\d_]+$")
#: Shorter usernames (pinyin surnames such as "li", "he", "xu") occur inside too many good
#: passwords to be refused there.
MIN_USERNAME_CHECK = 3


def password_problem(password: str, *, username: str = "") -> str | None:
    """Why ``password`` is refused, or None: too short, too common (also with digits or
    punctuation added before or after a common one), or containing the username."""
    if len(password) < MIN_POLICY_LENGTH:
        return "short"
    lowered = password.lower()
    word = _DECORATION.sub("", lowered)
    if lowered in common_passwords() or (word and word in common_passwords()):
        return "common"
    username = username.strip().lower()
    if len(username) >= MIN_USERNAME_CHECK and username in lowered:
        return "common"
    return None
