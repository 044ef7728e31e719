"""The one error tree of skyshare.

Every error a user can meet derives from :class:`SkyshareError` and carries the data
needed to fix its cause.  Foreign errors are mapped to these at module boundaries
(``raise ConfigError(...) from exc``).
"""

from __future__ import annotations


class SkyshareError(Exception):
    """Root of every error skyshare raises on purpose."""


class ConfigError(SkyshareError):
    """A configuration value is missing or wrong; ``where`` names the file/key."""

    def __init__(self, message: str, *, where: str = "") -> None:
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class InputFormatError(SkyshareError):
    """Input whose format cannot be recognised or is not supported."""

    def __init__(self, message: str, *, path: str = "") -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class AddressError(SkyshareError):
    """A HOST:PORT (or PORT) argument that cannot be parsed."""

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"{text!r}: {reason} (expected HOST:PORT, e.g. 127.0.0.1:30005)")
