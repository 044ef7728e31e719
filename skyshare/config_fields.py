"""Field metadata for settings dataclasses read from a configuration file.

:func:`skyshare.config.dataclass_from_mapping` converts a value with the field's
``metadata["convert"](value, base)`` when it has one, ``base`` being the folder of the
configuration file (so paths in a file are relative to the file, wherever the node is
started from).  Kept apart from :mod:`skyshare.config` so that any package can declare
its own settings without importing the whole configuration.
"""

from __future__ import annotations

import math
from dataclasses import fields
from pathlib import Path
from typing import Any, Final

from skyshare.errors import ConfigError


def relative_path(value: object, base: Path) -> Path:
    """A path from the configuration file, relative to the file's folder."""
    if not isinstance(value, str | Path) or not str(value):
        raise ValueError(f"{value!r} is not a path")
    return base / str(value)


def relative_paths(value: object, base: Path) -> tuple[Path, ...]:
    """One path or a list of paths, each relative to the configuration file's folder."""
    items = value if isinstance(value, list | tuple) else [value]
    return tuple(relative_path(v, base) for v in items)


def coordinates(count: int) -> Any:
    """A converter for a fixed-length list of numbers ([lat, lon] ...) into a tuple."""
    def convert(value: object, base: Path) -> tuple[float, ...]:
        if not isinstance(value, list | tuple) or len(value) != count:
            raise ValueError(f"{value!r} is not a list of {count} numbers")
        out = tuple(float(v) for v in value)
        if not all(math.isfinite(v) for v in out):
            raise ValueError(f"{value!r} holds a value that is not a finite number")
        return out
    return convert


PATH: Final = {"convert": relative_path}
"""Field metadata: the value is a path relative to the configuration file."""
PATHS: Final = {"convert": relative_paths}
"""Field metadata: the value is one path or a list of them, relative to the file."""


def require_positive(settings: Any, section: str, names: tuple[str, ...] | None = None,
                     unit: str = "number") -> None:
    """ConfigError naming ``section.field`` unless each of ``names`` (default: every
    field) of a settings dataclass is a finite number above zero."""
    for name in names if names is not None else tuple(f.name for f in fields(settings)):
        value = getattr(settings, name)
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise ConfigError(f"must be a positive {unit}, not {value!r}",
                              where=f"{section}.{name}")
