"""What every airspace module shares: array aliases, the polygon type, and the bad-value
error that the loaders turn into :class:`~skyshare.errors.AirspaceFileError`."""

from __future__ import annotations

import math
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
from shapely.geometry import MultiPolygon, Polygon

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]
Area: TypeAlias = Polygon | MultiPolygon


class _Invalid(ValueError):
    """A bad value; the loader adds where it was (file and line or feature)."""


def _finite(x: int | float, what: str) -> float:
    try:
        value = float(x)
    except OverflowError:
        value = math.inf
    if not math.isfinite(value):
        raise _Invalid(f"{what} {x!r} is not a finite number")
    return value
