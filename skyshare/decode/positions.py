"""Resolving CPR positions with per-aircraft state, and refusing implausible ones.

Policy (the decoder never invents a position):

* Airborne, first fix: only globally, from an even/odd pair received within
  :data:`PAIR_MAX_S` whose two latitudes fall in the same NL zone (DO-260B
  A.1.7.7); never against the receiver, since an airborne target can be farther
  than the 180 NM of local decoding.
* Airborne, afterwards: locally against the aircraft's last position if that is at
  most :data:`LOCAL_MAX_AGE_S` old (at :data:`AIR_MAX_KT` an aircraft cannot leave
  the 180 NM of local decoding in that time).
* Surface: locally (45 NM) against the last position if recent enough that the
  aircraft cannot have left 45 NM (10 min after a surface position, 60 s after an
  airborne one); otherwise globally from an even/odd surface pair received within
  :data:`SURFACE_PAIR_MAX_S`, the receiver (or the fallback reference) only
  choosing among the four candidates 90 degrees apart.  A single surface message
  is never decoded against the receiver: when the receiver position is wrong or
  is a fallback for a wide network, that would place the aircraft at the wrong
  airport, silently.
* Every new position is checked against the previous one: a jump implying more
  than :data:`AIR_MAX_KT` (or :data:`SURFACE_MAX_KT` between surface positions),
  beyond :data:`SLACK_NM` of quantisation, is refused and the state kept.  After
  :data:`MAX_REJECTS` refusals in a row the last position is dropped, so that a
  wrong state heals with the next global pair instead of blocking an aircraft.
"""

from __future__ import annotations

import math
from typing import Final

import numba as nb

from skyshare.decode.aircraft import AircraftTable
from skyshare.decode.cpr import airborne_global, airborne_local, surface_global, surface_local

PAIR_MAX_S: Final = 10.0
SURFACE_PAIR_MAX_S: Final = 25.0
LOCAL_MAX_AGE_S: Final = 600.0
SURFACE_FROM_AIR_MAX_AGE_S: Final = 60.0
AIR_MAX_KT: Final = 1000.0
SURFACE_MAX_KT: Final = 175.0
"""Top of the surface movement scale: a take-off roll exceeds 100 kt on the ground."""
SLACK_NM: Final = 0.25
MAX_REJECTS: Final = 4
EARTH_RADIUS_NM: Final = 3440.065

# Outcomes of one position message.
NO_POSITION: Final = 0
GLOBAL: Final = 1
LOCAL: Final = 2
IMPLAUSIBLE: Final = 3
ZONE_MISMATCH: Final = 4


@nb.njit(cache=True, nogil=True)
def distance_nm(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine, spherical Earth)."""
    p1 = math.radians(lat1)
    p2 = math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2.0 * EARTH_RADIUS_NM * math.asin(math.sqrt(min(1.0, a)))


@nb.njit(cache=True, nogil=True, inline="always")
def _plausible(table: AircraftTable, slot: int, t: float, lat: float, lon: float,
               surface: bool) -> bool:
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return False
    age = abs(t - table.pos_time[slot])
    if not age <= LOCAL_MAX_AGE_S:
        return True  # nothing recent to compare with
    vmax = SURFACE_MAX_KT if surface and table.pos_surface[slot] else AIR_MAX_KT
    d = distance_nm(table.pos_lat[slot], table.pos_lon[slot], lat, lon)
    return bool(d <= vmax * age / 3600.0 + SLACK_NM)


@nb.njit(cache=True, nogil=True, inline="always")
def _accept(table: AircraftTable, slot: int, t: float, lat: float, lon: float,
            surface: bool) -> None:
    table.pos_time[slot] = t
    table.pos_lat[slot] = lat
    table.pos_lon[slot] = lon
    table.pos_surface[slot] = 1 if surface else 0
    table.rejects[slot] = 0


@nb.njit(cache=True, nogil=True, inline="always")
def _reject(table: AircraftTable, slot: int) -> int:
    table.rejects[slot] += 1
    if table.rejects[slot] >= MAX_REJECTS:
        table.pos_time[slot] = -math.inf
        table.rejects[slot] = 0
    return IMPLAUSIBLE


@nb.njit(cache=True, nogil=True, inline="always")
def airborne(table: AircraftTable, slot: int, t: float, odd: bool, lat_cpr: int,
             lon_cpr: int) -> tuple[int, float, float]:
    """Outcome, lat, lon of an airborne CPR message; updates the aircraft state."""
    p = 1 if odd else 0
    other_time = table.cpr_time[slot, 1 - p]
    table.cpr_time[slot, p] = t
    table.cpr_lat[slot, p] = lat_cpr
    table.cpr_lon[slot, p] = lon_cpr
    if abs(t - table.pos_time[slot]) <= LOCAL_MAX_AGE_S:
        lat, lon = airborne_local(lat_cpr, lon_cpr, odd, table.pos_lat[slot],
                                  table.pos_lon[slot])
        if not _plausible(table, slot, t, lat, lon, False):
            return _reject(table, slot), math.nan, math.nan
        _accept(table, slot, t, lat, lon, False)
        return LOCAL, lat, lon
    if not abs(t - other_time) <= PAIR_MAX_S:
        return NO_POSITION, math.nan, math.nan
    if odd:
        lat, lon = airborne_global(table.cpr_lat[slot, 0], table.cpr_lon[slot, 0], lat_cpr,
                                   lon_cpr, True)
    else:
        lat, lon = airborne_global(lat_cpr, lon_cpr, table.cpr_lat[slot, 1],
                                   table.cpr_lon[slot, 1], False)
    if not math.isfinite(lat):
        return ZONE_MISMATCH, math.nan, math.nan
    _accept(table, slot, t, lat, lon, False)
    return GLOBAL, lat, lon


@nb.njit(cache=True, nogil=True, inline="always")
def surface(table: AircraftTable, slot: int, t: float, odd: bool, lat_cpr: int,
            lon_cpr: int, ref_lat: float, ref_lon: float) -> tuple[int, float, float]:
    """Outcome, lat, lon of a surface CPR message; updates the aircraft state."""
    p = 1 if odd else 0
    other_time = table.scpr_time[slot, 1 - p]
    table.scpr_time[slot, p] = t
    table.scpr_lat[slot, p] = lat_cpr
    table.scpr_lon[slot, p] = lon_cpr
    age = abs(t - table.pos_time[slot])
    max_age = LOCAL_MAX_AGE_S if table.pos_surface[slot] else SURFACE_FROM_AIR_MAX_AGE_S
    if age <= max_age:
        lat, lon = surface_local(lat_cpr, lon_cpr, odd, table.pos_lat[slot],
                                 table.pos_lon[slot])
        outcome = LOCAL
    elif math.isfinite(ref_lat) and math.isfinite(ref_lon) \
            and abs(t - other_time) <= SURFACE_PAIR_MAX_S:
        if odd:
            lat, lon = surface_global(table.scpr_lat[slot, 0], table.scpr_lon[slot, 0],
                                      lat_cpr, lon_cpr, True, ref_lat, ref_lon)
        else:
            lat, lon = surface_global(lat_cpr, lon_cpr, table.scpr_lat[slot, 1],
                                      table.scpr_lon[slot, 1], False, ref_lat, ref_lon)
        if not math.isfinite(lat):
            return ZONE_MISMATCH, math.nan, math.nan
        outcome = GLOBAL
    else:
        return NO_POSITION, math.nan, math.nan
    if not _plausible(table, slot, t, lat, lon, True):
        return _reject(table, slot), math.nan, math.nan
    _accept(table, slot, t, lat, lon, True)
    return outcome, lat, lon
