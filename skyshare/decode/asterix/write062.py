"""CAT062 written from columns: the node's picture as system tracks, for an ATC
system or a partner that reads ASTERIX.

:func:`encode_system_tracks` turns :data:`~.cat062.SYSTEM_TRACK_DTYPE` rows into data
blocks of at most ``max_block`` bytes (one UDP datagram each), edition 1.18 (1.16-1.21
lay these items out alike), one compiled pass.  Items written (FRN): I062/010 data
source (1), I062/015 service identification (3, a constant), I062/070 time of track
information (4, 1/128 s), I062/105 WGS-84 position (5, 180/2^25 deg), I062/100
Cartesian position (6, 0.5 m), I062/185 Cartesian velocity (7, 0.25 m/s), I062/060
Mode 3/A (9), I062/245 target identification (10, STI 0: downlinked), I062/380 aircraft
derived data (11, its ADR subfield only: the identification goes in I062/245, where
:func:`~.cat062.decode_system_tracks` reads it), I062/040 track number (12), I062/080
track status (13), I062/136 measured flight level (17, 1/4 FL), I062/130 geometric
altitude (18, 6.25 ft), I062/135 barometric altitude (19, 1/4 FL, no QNH correction)
and I062/220 rate of climb or descent (20, 6.25 ft/min).

A column left unknown leaves its item out (a position off the globe too); a track
without its track number or its time of track information, both mandatory, cannot be
written: it is dropped and counted.  Values are rounded to the items' resolutions and
clipped to what they can hold.  I062/080 is the ``status`` byte (its first part: MON,
SPI, MRH, SRC, CNF); the extensions that :data:`STATUS_DTYPE` rows ask for follow it:
SIM (second part), CST coasting (fourth), EMS emergency (fifth, with SDS 3, not
defined) and SFC surface target (sixth), the parts between them zero.

:func:`system_tracks_from_picture` and :func:`picture_status` read the fused picture
(:data:`~skyshare.model.TRACK_DTYPE`); :func:`encode_picture` writes it in one call.
"""

from __future__ import annotations

import math
from typing import Final, Protocol

import numba as nb
import numpy as np
import numpy.typing as npt

from skyshare.decode.asterix.cat048 import IA5_6BIT
from skyshare.decode.asterix.cat062 import (
    STATUS_SPI,
    STATUS_TENTATIVE,
    SYSTEM_TRACK_DTYPE,
)
from skyshare.decode.asterix.records import next_block, put_be
from skyshare.decode.asterix.write048 import MAX_BLOCK
from skyshare.model import NO_ADDRESS, TrackBatch, TrackFlag

__all__ = ["STATUS_DTYPE", "encode_picture", "encode_system_tracks", "picture_status",
           "system_tracks_from_picture"]

STATUS_DTYPE: Final = np.dtype([  # what SYSTEM_TRACK_DTYPE's status byte cannot hold
    ("simulated", "?"),  # I062/080 SIM: an exercise track
    ("coasting", "?"),  # CST: no recent update, the state is predicted
    ("emergency", "u1"),  # EMS: skyshare.model.Emergency (0 none: no fifth part)
    ("surface", "?"),  # SFC: on the ground
])
STATUS_MONOSENSOR: Final = 0x80  # I062/080 MON
STATUS_SRC_GNSS: Final = 0x04  # SRC 1: I062/130 comes from GNSS
DAY_S: Final = 86400.0
MPS_PER_KT: Final = 1852.0 / 3600.0
_MAX_RECORD: Final = 3 + 2 + 1 + 3 + 8 + 6 + 4 + 2 + 7 + 4 + 2 + 6 + 2 + 2 + 2 + 2
_CODE: Final = np.full(256, 32, np.uint8)  # ASCII -> 6-bit ICAO character (else space)
for _i, _c in enumerate(IA5_6BIT):
    if _c != ord(" ") or _i == 32:
        _CODE[_c] = _i
        _CODE[bytes([_c]).lower()[0]] = _i


class SystemTrackRow(Protocol):
    """One :data:`~.cat062.SYSTEM_TRACK_DTYPE` row as the kernel reads it."""

    sac: int
    sic: int
    tod: float
    lat: float
    lon: float
    x_m: float
    y_m: float
    vx_mps: float
    vy_mps: float
    squawk: int
    icao24: int
    track_number: int
    status: int
    fl: float
    alt_geo_ft: float
    alt_baro_ft: float
    vertical_rate_fpm: float


class StatusRow(Protocol):
    """One :data:`STATUS_DTYPE` row."""

    simulated: bool
    coasting: bool
    emergency: int
    surface: bool


@nb.njit(cache=True, nogil=True, inline="always")
def _scaled(value: float, lsb: float, bits: int) -> int:
    """``value / lsb`` rounded, clipped to a ``bits``-bit two's complement number, and
    written as its unsigned bits."""
    top = (1 << (bits - 1)) - 1
    v = min(max(value / lsb, -top - 1.0), float(top))  # clipped before the int: no overflow
    return round(v) & ((1 << bits) - 1)


@nb.njit(cache=True, nogil=True, inline="always")
def _status(buf: npt.NDArray[np.uint8], p: int, first: int, s: StatusRow) -> int:
    """I062/080: the first part, then the extensions ``s`` asks for."""
    parts = np.zeros(6, np.uint8)
    parts[0] = first & 0xFE
    n = 1
    if s.simulated:
        parts[1] |= 0x80
        n = 2
    if s.coasting:
        parts[3] |= 0x80
        n = 4
    if s.emergency != 0:
        parts[4] |= 0xC0 | ((s.emergency & 7) << 3)  # SDS 3 (not defined), EMS
        n = 5
    if s.surface:
        parts[5] |= 0x10
        n = 6
    for k in range(n):
        buf[p + k] = parts[k] | (1 if k < n - 1 else 0)
    return p + n


@nb.njit(cache=True, nogil=True)
def _record(buf: npt.NDArray[np.uint8], p: int, r: SystemTrackRow, s: StatusRow,
            cs: npt.NDArray[np.uint8], code: npt.NDArray[np.uint8], service: int) -> int:
    """Write one CAT062 record at ``p`` (FSPEC of three bytes); returns its end."""
    start = p
    fspec = np.zeros(3, np.uint8)
    p += 3
    p = put_be(buf, put_be(buf, p, r.sac, 1), r.sic, 1)
    p = put_be(buf, p, service, 1)
    p = put_be(buf, p, round(r.tod * 128.0 % 16777216.0) % (1 << 24), 3)  # float % first:
    # a time however large or negative cannot overflow the integer
    fspec[0] |= 0x80 | 0x20 | 0x10
    if abs(r.lat) <= 90.0 and abs(r.lon) <= 180.0:  # False for NaN
        p = put_be(buf, p, _scaled(r.lat, 180.0 / 33554432.0, 32), 4)
        p = put_be(buf, p, _scaled(r.lon, 180.0 / 33554432.0, 32), 4)
        fspec[0] |= 0x08
    if math.isfinite(r.x_m) and math.isfinite(r.y_m):
        p = put_be(buf, p, _scaled(r.x_m, 0.5, 24), 3)
        p = put_be(buf, p, _scaled(r.y_m, 0.5, 24), 3)
        fspec[0] |= 0x04
    if math.isfinite(r.vx_mps) and math.isfinite(r.vy_mps):
        p = put_be(buf, p, _scaled(r.vx_mps, 0.25, 16), 2)
        p = put_be(buf, p, _scaled(r.vy_mps, 0.25, 16), 2)
        fspec[0] |= 0x02
    if r.squawk >= 0:
        v = 0  # four octal digits written in decimal, 7 at most each (clipped)
        for scale in (1000, 100, 10, 1):
            v = (v << 3) | min((r.squawk // scale) % 10, 7)
        p = put_be(buf, p, v, 2)
        fspec[1] |= 0x40
    if cs[0] != 0:
        bits = 0
        for c in range(8):
            bits = (bits << 6) | int(code[cs[c]])
        p = put_be(buf, put_be(buf, p, 0, 1), bits, 6)  # STI 0: downlinked from the target
        fspec[1] |= 0x20
    if r.icao24 != 0xFFFFFFFF:
        p = put_be(buf, put_be(buf, p, 0x80, 1), r.icao24 & 0xFFFFFF, 3)  # ADR alone
        fspec[1] |= 0x10
    p = put_be(buf, p, r.track_number & 0xFFFF, 2)
    p = _status(buf, p, r.status, s)
    fspec[1] |= 0x08 | 0x04
    p = _heights(buf, p, r, fspec)
    return _fspec(buf, start, p, fspec)


@nb.njit(cache=True, nogil=True, inline="always")
def _heights(buf: npt.NDArray[np.uint8], p: int, r: SystemTrackRow,
             fspec: npt.NDArray[np.uint8]) -> int:
    """I062/136, /130, /135 and /220 (the third FSPEC byte)."""
    if math.isfinite(r.fl):
        p = put_be(buf, p, _scaled(r.fl, 0.25, 16), 2)
        fspec[2] |= 0x20
    if math.isfinite(r.alt_geo_ft):
        p = put_be(buf, p, _scaled(r.alt_geo_ft, 6.25, 16), 2)
        fspec[2] |= 0x10
    if math.isfinite(r.alt_baro_ft):
        p = put_be(buf, p, _scaled(r.alt_baro_ft, 25.0, 15), 2)  # QNH 0
        fspec[2] |= 0x08
    if math.isfinite(r.vertical_rate_fpm):
        p = put_be(buf, p, _scaled(r.vertical_rate_fpm, 6.25, 16), 2)
        fspec[2] |= 0x04
    return p


@nb.njit(cache=True, nogil=True, inline="always")
def _fspec(buf: npt.NDArray[np.uint8], start: int, end: int,
           fspec: npt.NDArray[np.uint8]) -> int:
    """Put the FSPEC (as short as it can be) right before the items written after the
    three bytes left for it at ``start``; returns the record's end."""
    n = 3 if fspec[2] else 2  # the second byte always holds I062/040 and /080
    for k in range(n - 1):
        fspec[k] |= 1  # FX
    shift = 3 - n
    if shift:
        for k in range(start + 3, end):
            buf[k - shift] = buf[k]
    for k in range(n):
        buf[start + k] = fspec[k]
    return end - shift


@nb.njit(cache=True, nogil=True)
def _encode(rows: npt.NDArray[np.void], status: npt.NDArray[np.void],
            callsigns: npt.NDArray[np.uint8], code: npt.NDArray[np.uint8], service: int,
            max_block: int, buf: npt.NDArray[np.uint8],
            bounds: npt.NDArray[np.int64]) -> tuple[int, int]:
    """(blocks, tracks dropped)."""
    p, n_blocks, dropped = 0, 0, 0
    block = -1
    for i in range(len(rows)):
        r = rows[i]
        if r.track_number < 0 or not math.isfinite(r.tod):
            dropped += 1
            continue
        p, block, n_blocks = next_block(buf, p, block, 62, _MAX_RECORD, max_block, bounds,
                                        n_blocks)
        p = _record(buf, p, r, status[i], callsigns[i], code, service)
    if block >= 0:
        put_be(buf, block + 1, p - block, 2)
    bounds[n_blocks] = p
    return n_blocks, dropped


def _callsign_bytes(names: npt.NDArray[np.bytes_]) -> npt.NDArray[np.uint8]:
    """(n, 8) bytes of the callsigns, a known one padded with spaces, an empty one 0s."""
    out = np.frombuffer(names.astype("S8").tobytes(), np.uint8).reshape(len(names), 8).copy()
    blank = (out == 0) & (np.arange(8) > 0)
    out[blank & (out[:, :1] != 0)] = ord(" ")
    return out


def encode_system_tracks(tracks: npt.NDArray[np.void], max_block: int = MAX_BLOCK,
                         service_id: int = 0, status: npt.NDArray[np.void] | None = None
                         ) -> tuple[list[bytes], int]:
    """CAT062 data blocks of ``tracks`` (SYSTEM_TRACK_DTYPE rows), each at most
    ``max_block`` bytes, with ``service_id`` in I062/015 and, if given, ``status``
    (STATUS_DTYPE, one per track) in I062/080's extensions; and how many tracks could
    not be written (no track number or no time)."""
    if max_block < 3 + _MAX_RECORD:
        raise ValueError(f"max_block must be at least {3 + _MAX_RECORD} bytes, "
                         f"not {max_block}")
    if not 0 <= service_id <= 255:
        raise ValueError(f"service_id must fit a byte (0-255), not {service_id}")
    if status is None:
        status = np.zeros(len(tracks), STATUS_DTYPE)
    if len(status) != len(tracks):
        raise ValueError(f"status: {len(status)} rows for {len(tracks)} tracks")
    buf = np.zeros(len(tracks) * (_MAX_RECORD + 3) + 3, np.uint8)
    bounds = np.zeros(len(tracks) + 2, np.int64)
    rows = np.ascontiguousarray(tracks, SYSTEM_TRACK_DTYPE)
    n_blocks, dropped = _encode(rows, np.ascontiguousarray(status, STATUS_DTYPE),
                                _callsign_bytes(rows["callsign"]), _CODE, service_id,
                                max_block, buf, bounds)
    return [buf[bounds[k]:bounds[k + 1]].tobytes() for k in range(n_blocks)], dropped


def system_tracks_from_picture(tracks: TrackBatch, sac: int, sic: int
                               ) -> npt.NDArray[np.void]:
    """The picture's ``tracks`` (TRACK_DTYPE) as SYSTEM_TRACK_DTYPE rows of the system
    ``sac``/``sic`` (``record`` -1: not read from a record).

    Track numbers are the track ids modulo 65,536 (what I062/040 holds); the time of
    track information is the last update's time of day; the velocity is east and north
    from ground speed and track; the fused barometric altitude gives both the measured
    flight level and the barometric altitude; the Cartesian position stays unknown (the
    node has no system plane).  An address that is not an ICAO one (NON_ICAO) is not
    written as I062/380 ADR: a receiver would take it for the aircraft of that address.
    Status: CNF from CONFIRMED, SPI, MON for a track of one sensor and no partner, SRC
    GNSS when the geometric altitude is known.
    """
    out = np.zeros(len(tracks), SYSTEM_TRACK_DTYPE)
    flags = tracks["flags"].astype(np.int64)
    out["record"], out["sac"], out["sic"] = -1, sac, sic
    out["tod"] = np.mod(tracks["last_seen"], DAY_S)
    out["lat"], out["lon"] = tracks["lat"], tracks["lon"]
    out["x_m"], out["y_m"] = np.nan, np.nan
    speed = tracks["groundspeed"].astype(np.float64) * MPS_PER_KT
    heading = np.radians(tracks["track"].astype(np.float64))
    out["vx_mps"], out["vy_mps"] = speed * np.sin(heading), speed * np.cos(heading)
    out["squawk"], out["callsign"] = tracks["squawk"], tracks["callsign"]
    out["icao24"] = np.where(flags & TrackFlag.NON_ICAO, NO_ADDRESS, tracks["icao24"])
    out["track_number"] = tracks["track_id"] % 65536
    sensors = tracks["sensors"]
    one_sensor = (sensors != 0) & (sensors & (sensors - np.uint64(1)) == 0) & (
        tracks["partners"] == 0)
    out["status"] = (np.where(flags & TrackFlag.CONFIRMED, 0, STATUS_TENTATIVE)
                     | np.where(flags & TrackFlag.SPI, STATUS_SPI, 0)
                     | np.where(one_sensor, STATUS_MONOSENSOR, 0)
                     | np.where(np.isfinite(tracks["alt_geo"]), STATUS_SRC_GNSS, 0))
    out["fl"] = tracks["alt"] / 100.0
    out["alt_baro_ft"] = tracks["alt"]
    out["alt_geo_ft"] = tracks["alt_geo"]
    out["vertical_rate_fpm"] = tracks["vertical_rate"]
    return out


def picture_status(tracks: TrackBatch) -> npt.NDArray[np.void]:
    """STATUS_DTYPE rows of the picture's ``tracks``: EXERCISE tracks simulated,
    COASTING, the emergency, ON_GROUND tracks on the surface."""
    out = np.zeros(len(tracks), STATUS_DTYPE)
    flags = tracks["flags"]
    out["simulated"] = (flags & TrackFlag.EXERCISE) != 0
    out["coasting"] = (flags & TrackFlag.COASTING) != 0
    out["emergency"] = tracks["emergency"]
    out["surface"] = (flags & TrackFlag.ON_GROUND) != 0
    return out


def encode_picture(tracks: TrackBatch, sac: int, sic: int, service_id: int = 0,
                   max_block: int = MAX_BLOCK) -> tuple[list[bytes], int]:
    """The picture's ``tracks`` as CAT062 data blocks (:func:`encode_system_tracks` of
    :func:`system_tracks_from_picture` with :func:`picture_status`)."""
    return encode_system_tracks(system_tracks_from_picture(tracks, sac, sic), max_block,
                                service_id, picture_status(tracks))
