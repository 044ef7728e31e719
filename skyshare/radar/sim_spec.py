"""What a simulated radar is: where it stands, how it turns, what it sees and how well
(:class:`RadarSpec`, one per radar of :class:`~skyshare.radar.sim.RadarSimulator`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from skyshare.errors import ConfigError

__all__ = ["MAX_RANGE_M", "NM", "RadarSpec"]

NM: Final = 1852.0
MAX_RANGE_M: Final = 65535.0 / 256.0 * NM
"""The longest slant range I048/040 can hold (just under 256 NM)."""


@dataclass(frozen=True, kw_only=True)
class RadarSpec:
    """One radar (the fields read as YAML keys); everything but the name and the
    position has a default: a Mode S approach radar with a primary channel.

    Coverage is the line of sight over the WGS-84 ellipsoid: a target is seen when its
    slant range is at most ``range_m`` and its elevation above the antenna's horizontal
    plane (from the exact ECEF geometry) is at least ``min_elevation_deg``.  With
    ``refraction`` the elevation is the apparent one of the 4/3-earth model: the
    geometric elevation plus ``r / (2 R) (1 - 3/4)`` rad at slant range ``r`` (``R``
    the mean earth radius), so the radar horizon reaches about 15 % further.  Terrain
    is not modelled; nor is the cone of silence overhead.
    """

    name: str
    sac: int = 0
    sic: int = 1
    lat: float
    lon: float
    alt_m: float = 30.0
    """Antenna height above the WGS-84 ellipsoid."""
    rotation_s: float = 4.0
    """Antenna rotation period (0.5 s to 60 s); the antenna turns clockwise."""
    range_m: float = 120 * NM
    """Instrumented range (slant), at most 256 NM."""
    min_elevation_deg: float = 0.0
    refraction: bool = True
    pd_psr: float = 0.9
    """Probability that the primary channel detects a target in coverage, each scan."""
    pd_ssr: float = 0.98
    """Probability that the secondary channel gets a reply from a working transponder."""
    range_sigma_m: float = 40.0
    azimuth_sigma_deg: float = 0.07
    clutter_per_scan: float = 5.0
    """Mean number of false primary plots a revolution (Poisson), uniform in slant range
    and azimuth over the coverage."""
    mode_s: bool = True
    """Mode S (roll-call: the 24-bit address and identification too) or conventional
    SSR (Mode 3/A and Mode C only)."""
    psr: bool = True
    """Whether the radar has a primary channel (PSR plots and clutter)."""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ConfigError(f"a radar needs a name, not {self.name!r}", where="radars.name")
        for name in ("sac", "sic"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 255:
                self._fail(name, f"must be an integer from 0 to 255, not {value!r}")
        self._number("lat", -90.0, 90.0)
        self._number("lon", -180.0, 180.0)
        self._number("alt_m", -500.0, 10_000.0)
        self._number("rotation_s", 0.5, 60.0)
        self._number("range_m", 0.0, MAX_RANGE_M, open_low=True)
        self._number("min_elevation_deg", -10.0, 80.0)
        for name in ("pd_psr", "pd_ssr"):
            self._number(name, 0.0, 1.0)
        self._number("range_sigma_m", 0.0, 10_000.0)
        self._number("azimuth_sigma_deg", 0.0, 10.0)
        self._number("clutter_per_scan", 0.0, 10_000.0)
        for name in ("refraction", "mode_s", "psr"):
            if not isinstance(getattr(self, name), bool):
                self._fail(name, f"must be true or false, not {getattr(self, name)!r}")

    @property
    def ident(self) -> int:
        """SAC and SIC as one number (what tells radars apart on the wire)."""
        return self.sac << 8 | self.sic

    def _fail(self, name: str, message: str) -> None:
        raise ConfigError(message, where=f"radars.{self.name}.{name}")

    def _number(self, name: str, low: float, high: float, open_low: bool = False) -> None:
        value = getattr(self, name)
        ok = (isinstance(value, int | float) and not isinstance(value, bool)
              and math.isfinite(value) and (value > low if open_low else value >= low)
              and value <= high)
        if not ok:
            bracket = "(" if open_low else "["
            self._fail(name, f"must be a number in {bracket}{low:g}, {high:g}], not {value!r}")
