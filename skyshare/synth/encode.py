"""True DF17 extended squitters from columns (ICAO Doc 9871, DO-260B), vectorised.

Each encoder takes equal-length arrays (one row per frame) and returns a
:data:`~skyshare.model.FrameBatch` of 14-byte frames with a valid CRC-24 parity and
``time``/``clock``/``sensor`` left at zero for the caller to fill.  The 56-bit ME
field is assembled in a ``uint64`` per row, so there is no per-frame Python code.

Registers (ME field bit numbers 1-56, MSB first, as in Doc 9871 Appendix A):

* identification (BDS 0,8; TC 1-4): TC(5) CA(3) eight 6-bit characters;
* airborne position (BDS 0,5; TC 9-18, barometric): TC(5) SS(2) NIC-B(1) ALT(12)
  T(1) F(1) LAT-CPR(17) LON-CPR(17); altitude in 25 ft steps (Q = 1), positions in
  17-bit CPR (Doc 9871 C.2.6);
* airborne velocity (BDS 0,9; TC 19 subtype 1, ground speed): TC(5) ST(3) IC(1)
  IFR(1) NACv(3) S-EW(1) V-EW(10) S-NS(1) V-NS(10) VrSrc(1) S-Vr(1) Vr(9) (2) S-Dif(1)
  Dif(7), velocities in knots + 1 and vertical rate in 64 ft/min + 1 (0: unknown);
* emergency/priority status (BDS 6,1; TC 28 subtype 1): TC(5) ST(3) ES(3) Mode A(13).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from skyshare.decode.crc import write_parity
from skyshare.model import FrameBatch, empty_frames

__all__ = ["altitude_code", "cpr_encode", "encode_airborne_position", "encode_emergency",
           "encode_identification", "encode_velocity", "mode_a_code", "nl"]

F8 = npt.NDArray[np.float64]
U64 = npt.NDArray[np.uint64]

DF17_AIRBORNE: Final = (17 << 3) | 5  # DF17, CA 5: level 2+ transponder, airborne
CPR_BITS: Final = 17
CPR_SCALE: Final = float(1 << CPR_BITS)
NZ: Final = 15

# 6-bit character set of the identification register: A-Z = 1-26, space = 32, 0-9 = 48-57
_CHAR_CODE: Final = np.full(256, 0xFF, dtype=np.uint8)
for _c in range(ord("A"), ord("Z") + 1):
    _CHAR_CODE[_c] = _c - 64
    _CHAR_CODE[_c + 32] = _c - 64  # lower case read as upper case
for _c in range(ord("0"), ord("9") + 1):
    _CHAR_CODE[_c] = _c
_CHAR_CODE[ord(" ")] = 32
_CHAR_CODE[0] = 32  # the padding of a numpy S8 string

# type code by NIC (DO-260B Table 2-14, NIC supplements A = 0): (TC, NIC-B)
_TC_BY_NIC: Final = np.array([18, 17, 16, 16, 15, 14, 13, 12, 11, 11, 10, 9], dtype=np.uint64)
_NICB_BY_NIC: Final = np.array([0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0], dtype=np.uint64)

EMERGENCY_BY_SQUAWK: Final = {7700: 1, 7600: 4, 7500: 5}
"""Emergency state of TC 28 for the special codes (general, no comms, unlawful)."""


def _transition_latitudes() -> F8:
    """Latitudes where NL(lat) steps down from 59 to 1 (Doc 9871 C.2.6.2 formula)."""
    a = 1.0 - np.cos(np.pi / (2 * NZ))
    n = np.arange(59, 1, -1, dtype=np.float64)
    lat: F8 = np.degrees(np.arccos(np.sqrt(a / (1.0 - np.cos(2 * np.pi / n)))))
    lat[-1] = 87.0  # NL = 2 up to 87 degrees by definition
    return lat


_NL_TRANSITIONS: Final = _transition_latitudes()


def nl(lat: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Number of longitude zones (59 at the equator ... 2 at 87 degrees, 1 beyond).

    A latitude exactly on a transition keeps the higher count, as the formula gives
    (and Doc 9871 states for 87 degrees)."""
    return 59 - np.searchsorted(_NL_TRANSITIONS, np.abs(np.asarray(lat, dtype=np.float64)),
                                side="left").astype(np.int64)


def _floor_mod(a: F8, b: F8 | float) -> F8:
    return a - b * np.floor(a / b)


def cpr_encode(lat: npt.ArrayLike, lon: npt.ArrayLike, odd: npt.ArrayLike,
               surface: bool = False) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """17-bit CPR latitude and longitude (Doc 9871 C.2.6.7).

    ``YZ = floor(2^17 MOD(lat, Dlat) / Dlat + 1/2)``; the longitude zone count is
    that of the latitude the receiver will decode (``Rlat``), not of ``lat``.  Surface
    encoding uses 90 degree zones (the 17 low bits of the 19-bit encoding).
    """
    lat_a = np.asarray(lat, dtype=np.float64)
    lon_a = np.asarray(lon, dtype=np.float64)
    i = np.asarray(odd, dtype=bool).astype(np.float64)
    span = 90.0 if surface else 360.0
    dlat = span / (60.0 - i)
    yz = np.floor(CPR_SCALE * _floor_mod(lat_a, dlat) / dlat + 0.5)
    rlat = dlat * (yz / CPR_SCALE + np.floor(lat_a / dlat))
    dlon = span / np.maximum(nl(rlat) - i, 1.0)
    xz = np.floor(CPR_SCALE * _floor_mod(lon_a, dlon) / dlon + 0.5)
    mask = (1 << CPR_BITS) - 1
    return yz.astype(np.int64) & mask, xz.astype(np.int64) & mask


def altitude_code(alt_ft: npt.ArrayLike) -> npt.NDArray[np.uint64]:
    """12-bit AC field in 25 ft steps (Q bit set); 0 (no altitude) for NaN."""
    alt = np.asarray(alt_ft, dtype=np.float64)
    finite = np.isfinite(alt)
    n = np.clip(np.floor((np.where(finite, alt, 0.0) + 1000.0) / 25.0 + 0.5), 0, 2047)
    n = n.astype(np.uint64)
    code = ((n >> np.uint64(4)) << np.uint64(5)) | np.uint64(0x10) | (n & np.uint64(0xF))
    return np.where(finite, code, np.uint64(0))


def mode_a_code(squawk: npt.ArrayLike) -> npt.NDArray[np.uint64]:
    """13-bit Mode A identity field C1 A1 C2 A2 C4 A4 X B1 D1 B2 D2 B4 D4 from a
    squawk written as four octal digits (7700)."""
    sq = np.asarray(squawk, dtype=np.int64)
    a, b, c, d = (sq // 1000) % 10, (sq // 100) % 10, (sq // 10) % 10, sq % 10
    bits = [(c, 0), (a, 0), (c, 1), (a, 1), (c, 2), (a, 2), (None, 0),
            (b, 0), (d, 0), (b, 1), (d, 1), (b, 2), (d, 2)]
    code = np.zeros(sq.shape, dtype=np.uint64)
    for digit, bit in bits:
        code <<= np.uint64(1)
        if digit is not None:
            code |= ((digit >> bit) & 1).astype(np.uint64)
    return code


def _frames(icao24: npt.ArrayLike, me: U64) -> FrameBatch:
    """DF17 frames with address ``icao24`` and ME field ``me``, parity written."""
    address = np.asarray(icao24, dtype=np.uint32)
    n = len(me)
    out = empty_frames(n)
    out["length"] = 14
    data = np.zeros((n, 14), dtype=np.uint8)
    data[:, 0] = DF17_AIRBORNE
    for j in range(3):
        data[:, 1 + j] = (address >> np.uint32(8 * (2 - j))) & 0xFF
    for j in range(7):
        data[:, 4 + j] = (me >> np.uint64(8 * (6 - j))) & np.uint64(0xFF)
    write_parity(data, np.full(n, 14, dtype=np.uint8))
    out["data"] = data
    return out


def _field(value: npt.ArrayLike, shift: int) -> U64:
    return np.asarray(value).astype(np.uint64) << np.uint64(shift)


def encode_identification(icao24: npt.ArrayLike, callsign: npt.ArrayLike,
                          category: npt.ArrayLike) -> FrameBatch:
    """Identification and category (TC 4/3/2/1 for categories 0xA_/0xB_/0xC_/0xD_).

    ``callsign``: up to 8 characters (A-Z, 0-9, space) as bytes or str; ``category``:
    0xA3 for "A3" ... (0 is sent as A0, no category information)."""
    cs = np.asarray(callsign).astype("S8")
    chars = np.frombuffer(cs.tobytes(), dtype=np.uint8).reshape(-1, 8)
    codes = _CHAR_CODE[chars]
    if (codes == 0xFF).any():
        bad = cs[(codes == 0xFF).any(axis=1)][0]
        raise ValueError(f"callsign {bad!r} has characters outside A-Z, 0-9 and space")
    cat = np.asarray(category, dtype=np.uint8)
    cat = np.where(cat == 0, np.uint8(0xA0), cat)
    tc = 0xE - (cat >> 4).astype(np.int64)  # A -> 4, B -> 3, C -> 2, D -> 1
    if ((tc < 1) | (tc > 4) | ((cat & 0xF) > 7)).any():
        raise ValueError("categories must be 0 or 0xA0-0xD7")
    me = _field(tc, 51) | _field(cat & 7, 48)
    for j in range(8):
        me |= _field(codes[:, j], 42 - 6 * j)
    return _frames(icao24, me)


def encode_airborne_position(icao24: npt.ArrayLike, lat: npt.ArrayLike, lon: npt.ArrayLike,
                             alt_baro_ft: npt.ArrayLike, odd: npt.ArrayLike,
                             nic: npt.ArrayLike = 8) -> FrameBatch:
    """Airborne position with barometric altitude; the type code follows ``nic``
    (0-11; default 8, i.e. TC 11 with NIC-B 0: containment radius < 0.1 NM)."""
    nic_a = np.broadcast_to(np.clip(np.asarray(nic, dtype=np.int64), 0, 11), np.shape(lat))
    yz, xz = cpr_encode(lat, lon, odd)
    me = (_TC_BY_NIC[nic_a] << np.uint64(51)) | (_NICB_BY_NIC[nic_a] << np.uint64(48))
    me |= altitude_code(alt_baro_ft) << np.uint64(36)
    me |= _field(np.asarray(odd, dtype=bool), 34) | _field(yz, 17) | _field(xz, 0)
    return _frames(icao24, me)


def _velocity_component(v: F8) -> tuple[U64, U64]:
    """Sign bit and (|v| + 1) in 10 bits (0: unknown, 1023: more than 1021.5 kt)."""
    finite = np.isfinite(v)
    mag = np.clip(np.floor(np.abs(np.where(finite, v, 0.0)) + 0.5) + 1, 1, 1023)
    return (v < 0).astype(np.uint64), np.where(finite, mag, 0).astype(np.uint64)


def encode_velocity(icao24: npt.ArrayLike, groundspeed_kt: npt.ArrayLike,
                    track_deg: npt.ArrayLike, vertical_rate_fpm: npt.ArrayLike,
                    nacv: int = 1) -> FrameBatch:
    """Airborne velocity over ground (TC 19 subtype 1) with barometric vertical rate."""
    gs = np.asarray(groundspeed_kt, dtype=np.float64)
    trk = np.radians(np.asarray(track_deg, dtype=np.float64))
    s_ew, v_ew = _velocity_component(gs * np.sin(trk))
    s_ns, v_ns = _velocity_component(gs * np.cos(trk))
    vr = np.asarray(vertical_rate_fpm, dtype=np.float64)
    finite = np.isfinite(vr)
    vr_mag = np.clip(np.floor(np.abs(np.where(finite, vr, 0.0)) / 64.0 + 0.5) + 1, 1, 511)
    vr_code = np.where(finite, vr_mag, 0).astype(np.uint64)
    me = _field(np.full(gs.shape, 19), 51) | _field(np.full(gs.shape, 1), 48)
    me |= _field(np.full(gs.shape, nacv & 7), 43)
    me |= (s_ew << np.uint64(42)) | (v_ew << np.uint64(32))
    me |= (s_ns << np.uint64(31)) | (v_ns << np.uint64(21))
    me |= _field(np.ones(gs.shape), 20)  # VrSrc 1: barometric
    me |= ((vr < 0).astype(np.uint64) << np.uint64(19)) | (vr_code << np.uint64(10))
    return _frames(icao24, me)


def encode_emergency(icao24: npt.ArrayLike, squawk: npt.ArrayLike) -> FrameBatch:
    """Emergency/priority status with the Mode A code (TC 28 subtype 1); the state is
    general (7700), no communications (7600), unlawful interference (7500) or none."""
    sq = np.asarray(squawk, dtype=np.int64)
    state = np.select([sq == code for code in EMERGENCY_BY_SQUAWK],
                      list(EMERGENCY_BY_SQUAWK.values()), 0)
    me = _field(np.full(sq.shape, 28), 51) | _field(np.full(sq.shape, 1), 48)
    me |= _field(state, 45) | (mode_a_code(sq) << np.uint64(32))
    return _frames(icao24, me)
