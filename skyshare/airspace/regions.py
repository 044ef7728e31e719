"""Responsibility regions: which partner (air navigation service) answers for a position."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely

from skyshare.airspace.common import Area, IntArray
from skyshare.airspace.geometry import EARTH_RADIUS_M, _position
from skyshare.airspace.index import _BoxGrid
from skyshare.errors import ConfigError


@dataclass(frozen=True)
class Region:
    """The area a partner (air navigation service) is responsible for."""

    partner: str
    name: str
    geometry: Area
    source: str = ""


class Regions:
    """Responsibility regions; :meth:`owner` says which partner a position belongs to.

    Responsibility must be unambiguous: regions of different partners overlapping by
    more than ``overlap_tolerance_km2`` (a sliver where borders were digitised twice) are
    a :class:`~skyshare.errors.ConfigError`.  Where a position is in several regions
    anyway (same partner, or a tolerated sliver) the first region in order wins."""

    def __init__(self, regions: Iterable[Region], *, overlap_tolerance_km2: float = 1.0) -> None:
        self.regions = tuple(regions)
        self.partners = tuple(dict.fromkeys(r.partner for r in self.regions))
        self._partner = np.array([self.partners.index(r.partner) for r in self.regions],
                                 np.intp)
        self._geoms = np.array([r.geometry for r in self.regions] or [], dtype=object)
        shapely.prepare(self._geoms)
        self._grid = _BoxGrid(np.asarray(shapely.bounds(self._geoms), np.float64))
        self._check_overlaps(overlap_tolerance_km2)

    def _check_overlaps(self, tolerance_km2: float) -> None:
        g = self._grid
        i, j = g.query(g.x0, g.y0, g.x1, g.y1)
        keep = (i < j) & (self._partner[i] != self._partner[j])
        i, j = i[keep], j[keep]
        common = shapely.intersection(self._geoms[i], self._geoms[j])
        km_per_deg = EARTH_RADIUS_M * math.pi / 180.0 / 1000.0
        lat = shapely.get_y(shapely.centroid(common))
        area = (np.asarray(shapely.area(common), np.float64) * km_per_deg**2
                * np.cos(np.radians(np.nan_to_num(lat))))
        for k in np.flatnonzero(area > tolerance_km2)[:1]:
            a, b = self.regions[i[k]], self.regions[j[k]]
            raise ConfigError(f"regions of partners {a.partner!r} and {b.partner!r} overlap by "
                              f"{area[k]:.1f} km2 (more than {tolerance_km2:g} km2): "
                              f"responsibility would be ambiguous", where=f"{a.source} and "
                              f"{b.source}")

    def owner(self, lat: npt.ArrayLike, lon: npt.ArrayLike) -> IntArray:
        """Index into :attr:`partners` of the partner responsible for each position (-1:
        nobody, or no position)."""
        lat_, lon_ = _position(lat, lon)
        ti, ri = self._grid.query(lon_, lat_, lon_, lat_)
        keep = shapely.contains_xy(self._geoms[ri], lon_[ti], lat_[ti])
        first = np.full(len(lat_), len(self.regions), np.intp)
        np.minimum.at(first, ti[keep], ri[keep])
        partner: IntArray = np.r_[self._partner, -1]
        return partner[first]
