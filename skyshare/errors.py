"""The one error tree of skyshare.

Every error a user can meet derives from :class:`SkyshareError` and carries the data
needed to fix its cause.  Foreign errors are mapped to these at module boundaries
(``raise ConfigError(...) from exc``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal


class SkyshareError(Exception):
    """Root of every error skyshare raises on purpose."""


class ConfigError(SkyshareError):
    """A configuration value is missing or wrong; ``where`` names the file/key."""

    def __init__(self, message: str, *, where: str = "") -> None:
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class AirspaceFileError(ConfigError):
    """A bad airspace or region file: ``where`` names ``file:line`` or ``file:feature N``."""

    def __init__(self, message: str, *, path: str, line: int | None = None,
                 feature: int | None = None, feature_id: str | None = None) -> None:
        self.path, self.line, self.feature = path, line, feature
        where = path
        if line is not None:
            where = f"{path}:{line}"
        elif feature is not None:
            where = f"{path}:feature {feature}" + (f" (id {feature_id!r})" if feature_id else "")
        super().__init__(message, where=where)


class InputFormatError(SkyshareError):
    """Input whose format cannot be recognised or is not supported."""

    def __init__(self, message: str, *, path: str = "") -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class AuditError(SkyshareError):
    """The audit log cannot be opened, written, read or exported; ``path`` names it."""

    def __init__(self, message: str, *, path: str | Path = "") -> None:
        self.path = str(path)
        super().__init__(f"{path}: {message}" if path else message)


class AddressError(SkyshareError):
    """A HOST:PORT (or PORT) argument that cannot be parsed."""

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"{text!r}: {reason} (expected HOST:PORT, e.g. 127.0.0.1:30005)")


# why an AuthError was raised; see AuthError
AuthReason = Literal["bad_credentials", "throttled", "disabled", "unknown_user",
                     "user_exists", "bad_token"]


class AuthError(SkyshareError):
    """Logging in, using a session or editing a user failed.

    ``reason`` is for code (the web layer picks its HTTP status from it), ``message`` for
    people: one short sentence that says what to do.  Login failures carry
    ``bad_credentials`` and the same message whether or not the user exists, so neither
    the text nor the reason tells an attacker which names are real; ``unknown_user`` and
    ``user_exists`` come only from administration (``skyshare users``); ``disabled`` is
    told only to whoever gave the right password.  ``throttled`` carries
    ``retry_after_s``.
    """

    def __init__(self, reason: AuthReason, message: str, *,
                 retry_after_s: float | None = None) -> None:
        self.reason: AuthReason = reason
        self.message = message
        self.retry_after_s = retry_after_s
        super().__init__(message)
