"""Vertical limits as airspace files write them ("FL95", "2500 ft AMSL", "GND", "UNL")."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import Enum
from typing import Final

from skyshare.airspace.common import _finite, _Invalid

FT_PER_M: Final = 1.0 / 0.3048


class LimitRef(Enum):
    """What a vertical limit is measured from."""

    GND = "GND"  # the surface (lower limits only): no lower bound
    AMSL = "AMSL"  # feet above mean sea level
    AGL = "AGL"  # feet above ground, compared as AMSL (no terrain model)
    FL = "FL"  # flight level: pressure altitude / 100 ft
    UNL = "UNL"  # unlimited (upper limits only): no upper bound


@dataclass(frozen=True)
class Limit:
    """A vertical limit as written: ``value`` is the FL number for FL, else feet."""

    value: float
    ref: LimitRef
    text: str = ""

    @property
    def feet(self) -> float:
        """Feet (FL x 100); -inf for GND, +inf for UNL."""
        if self.ref is LimitRef.GND:
            return -math.inf
        if self.ref is LimitRef.UNL:
            return math.inf
        return self.value * 100.0 if self.ref is LimitRef.FL else self.value

    @property
    def barometric(self) -> bool:
        """Compared with the barometric altitude (FL) rather than the geometric one."""
        return self.ref is LimitRef.FL

    def lower_bound(self) -> float:
        """As a lower limit: feet, or -inf at or below the surface."""
        return -math.inf if self.feet <= 0.0 else self.feet


_FL_RE = re.compile(r"FL\s*(\d+(?:\.\d*)?)", re.A)
_ALT_RE = re.compile(r"(\d+(?:\.\d*)?)\s*(FT|F|M)?\s*(AMSL|MSL|ALT|AGL|AGND|ASFC|SFC|GND|STD)?",
                     re.A)
_AGL_WORDS: Final = frozenset({"AGL", "AGND", "ASFC", "SFC", "GND"})


def parse_limit(text: object) -> Limit:
    """A limit from "FL95", "2500 ft AMSL", "1000ft AGL", "600m", "GND", "UNL" or a number
    (feet AMSL).  Raises ``ValueError`` naming the text when it is none of these."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return Limit(_finite(text, "altitude"), LimitRef.AMSL, str(text))
    if not isinstance(text, str):
        raise _Invalid(f"altitude {text!r} is neither a string nor a number")
    s = " ".join(text.upper().split())
    if s in ("GND", "SFC", "SURFACE"):
        return Limit(0.0, LimitRef.GND, text)
    if s in ("UNL", "UNLIM", "UNLIMITED", "UNLTD"):
        return Limit(math.inf, LimitRef.UNL, text)
    if m := _FL_RE.fullmatch(s):
        return Limit(float(m[1]), LimitRef.FL, text)
    if m := _ALT_RE.fullmatch(s):
        feet = float(m[1]) * (FT_PER_M if m[2] == "M" else 1.0)
        if m[3] == "STD":
            return Limit(feet / 100.0, LimitRef.FL, text)
        return Limit(feet, LimitRef.AGL if m[3] in _AGL_WORDS else LimitRef.AMSL, text)
    raise _Invalid(f"unknown altitude syntax {text!r} (expected e.g. FL95, 2500 ft AMSL, "
                   "1000ft AGL, 600m, GND, SFC or UNL)")


def _check_limits(lower: Limit, upper: Limit) -> None:
    if lower.ref is LimitRef.UNL:
        raise _Invalid(f"lower limit {lower.text!r}: UNL can only be an upper limit")
    if upper.ref is LimitRef.GND:
        raise _Invalid(f"upper limit {upper.text!r}: GND/SFC can only be a lower limit")
    if lower.feet >= upper.feet:  # FL compared as FL x 100 ft (standard atmosphere)
        raise _Invalid(f"lower limit {lower.text!r} is not below upper limit {upper.text!r}")
