"""Password hashing: scrypt (RFC 7914) with its parameters stored beside each hash.

A stored password reads ``scrypt$n=32768,r=8,p=1$<salt b64>$<hash b64>`` (16-byte
random salt, 32-byte hash, standard base64 with padding).  Because every hash carries
its own parameters, the cost of new hashes can be raised later while old ones still
verify.  Passwords are NFC-normalised first, so the same password typed on systems that
compose accents differently still matches.  A stored string verifies only in its
canonical spelling and with exactly these lengths: any edit of it fails, even one that
base64 decodes to the same bytes (``AB==`` and ``AC==`` do) or a truncated hash (scrypt's
shorter outputs are prefixes of its longer ones).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import unicodedata
from typing import Final

from skyshare.errors import ConfigError

MIN_PASSWORD_CHARS: Final = 10
DEFAULT_N: Final = 2**15  # with r=8: 32 MiB and about 0.1 s per hash
DEFAULT_R: Final = 8
DEFAULT_P: Final = 1
# bounds on parameters read from a stored string, so that an edited file cannot make a
# login allocate gigabytes or run for minutes
MAX_N: Final = 2**20
MAX_R: Final = 32
MAX_P: Final = 16
MAX_MEMORY: Final = 256 * 2**20
SALT_BYTES: Final = 16
HASH_BYTES: Final = 32
_STORED: Final = re.compile(
    r"scrypt\$n=([0-9]{1,8}),r=([0-9]{1,3}),p=([0-9]{1,3})\$([A-Za-z0-9+/=]{4,100})"
    r"\$([A-Za-z0-9+/=]{4,100})", re.ASCII)


def hash_password(password: str, *, n: int = DEFAULT_N, r: int = DEFAULT_R,
                  p: int = DEFAULT_P) -> str:
    """The stored form of ``password``: scrypt with a fresh salt, parameters included.

    Raises :class:`ConfigError` for a password shorter than :data:`MIN_PASSWORD_CHARS`
    or parameters outside what :func:`verify_password` accepts.
    """
    if not params_ok(n, r, p):
        raise ConfigError(f"scrypt n={n}, r={r}, p={p}: n must be a power of 2 in "
                          f"2..{MAX_N}, r 1..{MAX_R}, p 1..{MAX_P}, memory at most "
                          f"{MAX_MEMORY // 2**20} MiB", where="password hash")
    if len(unicodedata.normalize("NFC", password)) < MIN_PASSWORD_CHARS:
        raise ConfigError(f"too short: use at least {MIN_PASSWORD_CHARS} characters "
                          "(a few unrelated words are easy to remember)", where="password")
    salt = secrets.token_bytes(SALT_BYTES)
    return _format(n, r, p, salt, _scrypt(password, salt, n, r, p, HASH_BYTES))


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches ``stored``; False for anything malformed, never raises."""
    parsed = _parse(stored)
    if parsed is None:
        return False
    n, r, p, salt, expected = parsed
    try:
        derived = _scrypt(password, salt, n, r, p, len(expected))
    except (ValueError, MemoryError, UnicodeError):
        return False
    return hmac.compare_digest(derived, expected)


def decoy_hash(n: int = DEFAULT_N) -> str:
    """A well-formed stored string that no password matches, with cost ``n``.

    Checking a password against it costs the same scrypt run as a real user's hash, so
    a login for a name that does not exist takes as long as one that does.
    """
    return _format(n, DEFAULT_R, DEFAULT_P, bytes(SALT_BYTES), bytes(HASH_BYTES))


def params_ok(n: int, r: int, p: int) -> bool:
    """True for scrypt parameters this module writes and reads."""
    return (2 <= n <= MAX_N and n & (n - 1) == 0 and 1 <= r <= MAX_R and 1 <= p <= MAX_P
            and _memory(n, r, p) <= MAX_MEMORY)


def _memory(n: int, r: int, p: int) -> int:
    # what OpenSSL checks against maxmem (its default limit, 32 MiB, is just too small
    # for n=2**15, r=8)
    return 128 * r * (n + p + 2)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    secret = unicodedata.normalize("NFC", password).encode("utf-8", "surrogatepass")
    return hashlib.scrypt(secret, salt=salt, n=n, r=r, p=p, dklen=dklen,
                          maxmem=_memory(n, r, p) + 2**20)


def _format(n: int, r: int, p: int, salt: bytes, digest: bytes) -> str:
    b64 = base64.b64encode
    return f"scrypt$n={n},r={r},p={p}${b64(salt).decode()}${b64(digest).decode()}"


def _parse(stored: str) -> tuple[int, int, int, bytes, bytes] | None:
    match = _STORED.fullmatch(stored)
    if match is None:
        return None
    n, r, p = int(match[1]), int(match[2]), int(match[3])
    try:
        salt = base64.b64decode(match[4], validate=True)
        expected = base64.b64decode(match[5], validate=True)
    except (binascii.Error, ValueError):
        return None
    # lengths exactly as written: a shorter hash would still verify, being a prefix of
    # the full one
    if (not params_ok(n, r, p) or len(salt) != SALT_BYTES or len(expected) != HASH_BYTES
            or _format(n, r, p, salt, expected) != stored):  # one spelling per hash
        return None
    return n, r, p, salt, expected
