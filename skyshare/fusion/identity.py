"""Identity and bookkeeping of a track from one report: who it is and who heard it.

Fields are taken from the newest in-order report that carries them; a report without a
field (unknown sentinel) leaves the track's value alone.
"""

from __future__ import annotations

from typing import Final

import numba as nb
import numpy as np

from skyshare.fusion.measurements import SURFACE, ReportRow, sensor_bit, source_bit
from skyshare.fusion.state import ALT_GEO, SPI_T, TrackArrays
from skyshare.model import ReportFlag, TrackFlag

_UNKNOWN: Final = 0xFF
_STATUS_TYPECODE: Final = 28  # ADS-B aircraft status: carries the emergency state
_MAX_EMERGENCY: Final = 7
_SPI: Final = int(ReportFlag.SPI)
_ON_GROUND: Final = int(TrackFlag.ON_GROUND)


@nb.njit(cache=True, nogil=True)
def note_copy(a: TrackArrays, slot: int, sensor: int, source: int) -> None:
    """Record that ``sensor`` (of kind ``source``) heard the track."""
    rec = a.rec[slot]
    rec.sensors = rec.sensors | sensor_bit(sensor)
    rec.sources = rec.sources | np.uint8(source_bit(source))


@nb.njit(cache=True, nogil=True)
def update_identity(a: TrackArrays, slot: int, r: ReportRow, callsign: np.uint64) -> None:
    """Callsign, squawk, category, emergency, accuracy categories, rssi, SPI time."""
    rec = a.rec[slot]
    if callsign != 0:
        a.callsign[slot] = callsign
    if 0 <= r.squawk <= 7777:
        rec.squawk = r.squawk
    if r.category != 0:
        rec.category = r.category
    if 0 < r.emergency <= _MAX_EMERGENCY:
        rec.emergency = r.emergency
    elif r.typecode == _STATUS_TYPECODE and r.emergency == 0:
        rec.emergency = 0
    if r.nic != _UNKNOWN:
        rec.nic = r.nic
    if r.nacp != _UNKNOWN:
        rec.nacp = r.nacp
    if r.sil != _UNKNOWN:
        rec.sil = r.sil
    if np.isfinite(r.rssi):
        rec.rssi = r.rssi
    if r.flags & _SPI:
        a.kin[slot, SPI_T] = r.time
    if np.isfinite(r.alt_geo) and abs(r.alt_geo) <= 100000.0:
        a.kin[slot, ALT_GEO] = r.alt_geo


@nb.njit(cache=True, nogil=True)
def update_ground_state(a: TrackArrays, slot: int, r: ReportRow, airborne_evidence: bool) -> None:
    """ON_GROUND from surface reports; cleared by an airborne position or altitude."""
    rec = a.rec[slot]
    if r.flags & SURFACE:
        rec.flags = rec.flags | _ON_GROUND
    elif airborne_evidence:
        rec.flags = rec.flags & ~np.uint16(_ON_GROUND)
