"""Mode S / ADS-B frames to reports: the stateful, batched decoder.

:class:`ModeSDecoder` takes frame batches (``FRAME_DTYPE``) and returns one report
(``REPORT_DTYPE``) per accepted frame, in time order.  The work is one numba loop
over the batch (:func:`_decode_frames`); aircraft state lives in an
:class:`~skyshare.decode.aircraft.AircraftTable`.

Which frames are accepted (every other one is counted by kind and skipped):

* DF17/18 (``source`` ADSB) with a clean CRC, or with one repaired bit (never in
  the DF field) if their address was verified within :data:`VERIFY_WINDOW_S`:
  a repair must not be the only evidence for an address.
* DF18 control field: CF 0 (ADS-B device with an ICAO address) is decoded as
  DF17; CF 1 (non-ICAO ADS-B), 2 and 5 (fine TIS-B) and 6 (ADS-R) are decoded
  with the same ME formats and flagged NON_ICAO, their state kept apart from ICAO
  addresses; CF 3 (coarse TIS-B), 4 (management) and 7 (reserved) are
  "df-unsupported".
* DF11 whose parity leaves a syndrome below 80 (0, or an II/SI interrogator code).
* DF0/4/5/16/20/21 (``source`` MODES): the address is the AP syndrome, accepted
  only if a DF11 or DF17/18 CF0 verified it within :data:`VERIFY_WINDOW_S`
  ("unknown-address" otherwise; one message never makes an aircraft).
* Exercise frames keep state apart from real ones: an exercise frame never
  verifies, pairs with, or positions a real aircraft, and vice versa.

``counts`` keys: the outcomes of :data:`OUTCOME_KINDS`, "decoded" (reports
produced) and the kinds of skipped frames (also reported per sensor to
``bad_for``), then the events of
:data:`EVENT_KINDS` ("crc-corrected", "position", "cpr-implausible",
"cpr-zone-mismatch").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final

import numba as nb
import numpy as np
import numpy.typing as npt

from skyshare.badinput import BadInput
from skyshare.decode import adsb, positions, surveillance
from skyshare.decode.aircraft import (
    MAX_LOAD,
    NON_ICAO_KEY,
    AircraftTable,
    find,
    find_or_add,
    new_table,
    rebuilt,
)
from skyshare.decode.altitude import ac12_ft
from skyshare.decode.columns import FrameColumns, ReportColumns, frame_columns, report_columns
from skyshare.decode.crc import syndrome_one
from skyshare.decode.jit import kernel
from skyshare.decode.repair import error_bit
from skyshare.model import (
    REPORT_DTYPE,
    FrameBatch,
    FrameFlag,
    ReportBatch,
    ReportFlag,
    SourceKind,
    empty_reports,
)

__all__ = ["EVENT_KINDS", "OUTCOME_KINDS", "VERIFY_WINDOW_S", "ModeSDecoder", "frame_hash"]

VERIFY_WINDOW_S: Final = 60.0
"""How long a verified address stays good for address recovery and bit repair."""
DF11_MAX_SYNDROME: Final = 80
EXERCISE_KEY: Final = 1 << 25

OUTCOME_KINDS: Final = ("decoded", "crc-fail", "unknown-address", "mode-ac", "df-unsupported",
                     "bad-length", "bad-time")
"""Outcome of each frame; index 0 is an accepted frame, the others are skipped."""
OK, CRC_FAIL, UNKNOWN_ADDRESS, MODE_AC, DF_UNSUPPORTED, BAD_LENGTH, BAD_TIME = range(7)
EVENT_KINDS: Final = ("crc-corrected", "position", "cpr-implausible", "cpr-zone-mismatch")
EV_CORRECTED, EV_POSITION, EV_IMPLAUSIBLE, EV_ZONE = range(4)

F_EXERCISE: Final = int(ReportFlag.EXERCISE)
F_CORRECTED: Final = int(ReportFlag.CRC_CORRECTED)
F_RECOVERED: Final = int(ReportFlag.ADDRESS_RECOVERED)
F_NON_ICAO: Final = int(ReportFlag.NON_ICAO)
F_ON_GROUND: Final = int(ReportFlag.ON_GROUND)
F_LOCAL: Final = int(ReportFlag.POSITION_LOCAL)
FRAME_EXERCISE: Final = int(FrameFlag.EXERCISE)
ADSB: Final = int(SourceKind.ADSB)
MODES: Final = int(SourceKind.MODES)
FNV_OFFSET: Final = np.uint64(0xCBF29CE484222325)
FNV_PRIME: Final = np.uint64(0x100000001B3)


@nb.njit(cache=True, nogil=True)
def frame_hash(data: npt.NDArray[np.uint8], n: int) -> np.uint64:
    """FNV-1a (64 bits) of the first ``n`` bytes; never 0 (0 means 'no hash')."""
    h = FNV_OFFSET
    for i in range(n):
        h = (h ^ np.uint64(data[i])) * FNV_PRIME
    return h if h != 0 else np.uint64(1)


@nb.njit(cache=True, nogil=True, inline="always")
def _begin(out: ReportColumns, k: int, fr: FrameColumns, i: int, df: int, address: int,
           source: int, data: npt.NDArray[np.uint8], length: int) -> None:
    """Row ``k``: the frame's own fields, every decoded field 'unknown'."""
    out.time[k] = fr.time[i]
    out.sensor[k] = fr.sensor[i]
    out.source[k] = source
    out.df[k] = df
    out.flags[k] = F_EXERCISE if fr.flags[i] & FRAME_EXERCISE else 0
    out.icao24[k] = address
    out.typecode[k] = 0xFF
    out.category[k] = 0
    for j in range(8):
        out.callsign[k, j] = 0
    out.squawk[k] = -1
    out.lat[k] = math.nan
    out.lon[k] = math.nan
    out.alt_baro[k] = math.nan
    out.alt_geo[k] = math.nan
    out.groundspeed[k] = math.nan
    out.track[k] = math.nan
    out.vertical_rate[k] = math.nan
    out.airspeed[k] = math.nan
    out.heading[k] = math.nan
    out.emergency[k] = 0
    out.nic[k] = 0xFF
    out.nacp[k] = 0xFF
    out.nacv[k] = 0xFF
    out.sil[k] = 0xFF
    out.rssi[k] = fr.rssi[i]
    out.frame_hash[k] = frame_hash(data, length)


@nb.njit(cache=True, nogil=True)
def _bytes_int(data: npt.NDArray[np.uint8], first: int, n: int) -> int:
    v = 0
    for j in range(first, first + n):
        v = (v << 8) | int(data[j])
    return v


@nb.njit(cache=True, nogil=True, inline="always")
def _mark_verified(table: AircraftTable, slot: int, t: float) -> None:
    if not table.verified[slot] >= t:
        table.verified[slot] = t
    if not table.seen[slot] >= t:
        table.seen[slot] = t


@nb.njit(cache=True, nogil=True, inline="always")
def _verified_recently(table: AircraftTable, slot: int, t: float) -> bool:
    return slot >= 0 and abs(t - table.verified[slot]) <= VERIFY_WINDOW_S


@nb.njit(cache=True, nogil=True, inline="always")
def _position(me: int, tc: int, t: float, out: ReportColumns, k: int, table: AircraftTable,
              slot: int, ref_lat: float, ref_lon: float, events: npt.NDArray[np.int64]) -> None:
    if tc >= 9:
        odd, lat_cpr, lon_cpr = adsb.airborne_fields(me, tc, out, k, table, slot)
        outcome, lat, lon = positions.airborne(table, slot, t, odd, lat_cpr, lon_cpr)
    else:
        odd, lat_cpr, lon_cpr = adsb.surface_fields(me, tc, out, k, table, slot)
        outcome, lat, lon = positions.surface(table, slot, t, odd, lat_cpr, lon_cpr, ref_lat,
                                              ref_lon)
    if outcome == positions.GLOBAL or outcome == positions.LOCAL:
        out.lat[k] = lat
        out.lon[k] = lon
        events[EV_POSITION] += 1
        if outcome == positions.LOCAL:
            out.flags[k] |= F_LOCAL
    elif outcome == positions.IMPLAUSIBLE:
        events[EV_IMPLAUSIBLE] += 1
    elif outcome == positions.ZONE_MISMATCH:
        events[EV_ZONE] += 1


@nb.njit(cache=True, nogil=True, inline="always")
def _extended(fr: FrameColumns, i: int, df: int, syn: int, table: AircraftTable,
              ref_lat: float, ref_lon: float, out: ReportColumns, k: int,
              events: npt.NDArray[np.int64], buf: npt.NDArray[np.uint8]) -> int:
    """DF17/18: outcome code; on success row ``k`` is written."""
    t = fr.time[i]
    data = fr.data[i]
    corrected = syn != 0
    if corrected:
        bit = error_bit(syn)
        if bit < 0:
            return CRC_FAIL
        for j in range(14):
            buf[j] = data[j]
        buf[bit >> 3] ^= np.uint8(0x80 >> (bit & 7))
        data = buf
    cf = int(data[0]) & 7
    non_icao = df == 18 and cf != 0
    if df == 18 and (cf == 3 or cf == 4 or cf == 7):
        return DF_UNSUPPORTED
    address = _bytes_int(data, 1, 3)
    key = address | (NON_ICAO_KEY if non_icao else 0)
    if fr.flags[i] & FRAME_EXERCISE:
        key |= EXERCISE_KEY
    if corrected:
        slot = find(table.keys, key)
        if not _verified_recently(table, slot, t):
            return CRC_FAIL
        events[EV_CORRECTED] += 1
    else:
        slot = find_or_add(table, key)
        _mark_verified(table, slot, t)
    _begin(out, k, fr, i, df, address, ADSB, data, 14)
    if corrected:
        out.flags[k] |= F_CORRECTED
    if non_icao:
        out.flags[k] |= F_NON_ICAO
    if df == 17 and surveillance.capability_on_ground(cf):
        out.flags[k] |= F_ON_GROUND
    me = _bytes_int(data, 4, 7)
    tc = me >> 51
    out.typecode[k] = tc
    if 1 <= tc <= 4:
        adsb.identification(me, tc, out, k)
    elif 5 <= tc <= 18 or 20 <= tc <= 22:
        _position(me, tc, t, out, k, table, slot, ref_lat, ref_lon, events)
    elif tc == 19:
        adsb.velocity(me, out, k, table, slot)
    elif tc == 0:
        out.alt_baro[k] = ac12_ft(adsb.me_bits(me, 9, 12))
    elif tc == 28:
        adsb.status(me, out, k)
    elif tc == 29:
        adsb.target_state(me, out, k, table, slot)
    elif tc == 31:
        adsb.operational_status(me, out, k, table, slot)
    return OK


@nb.njit(cache=True, nogil=True, inline="always")
def _short_or_reply(fr: FrameColumns, i: int, df: int, syn: int, length: int,
                    table: AircraftTable, out: ReportColumns, k: int) -> int:
    """DF11 (verifies its address) and DF0/4/5/16/20/21 (need a verified address)."""
    t = fr.time[i]
    data = fr.data[i]
    exercise = EXERCISE_KEY if fr.flags[i] & FRAME_EXERCISE else 0
    hdr = _bytes_int(data, 0, 4)
    if df == 11:
        if syn >= DF11_MAX_SYNDROME:
            return CRC_FAIL
        address = hdr & 0xFFFFFF
        _mark_verified(table, find_or_add(table, address | exercise), t)
        _begin(out, k, fr, i, df, address, MODES, data, length)
        if surveillance.capability_on_ground((hdr >> 24) & 7):
            out.flags[k] |= F_ON_GROUND
        return OK
    slot = find(table.keys, syn | exercise)
    if not _verified_recently(table, slot, t):
        return UNKNOWN_ADDRESS
    if not table.seen[slot] >= t:
        table.seen[slot] = t
    _begin(out, k, fr, i, df, syn, MODES, data, length)
    out.flags[k] |= F_RECOVERED
    mb = _bytes_int(data, 4, 7) if length == 14 else 0
    surveillance.reply(df, hdr, mb, out, k)
    return OK


@nb.njit(cache=True, nogil=True)
def _frame_length(df: int) -> int:
    """Length in bytes of a supported DF, 0 for unsupported ones."""
    if df == 0 or df == 4 or df == 5 or df == 11:
        return 7
    if df == 16 or df == 17 or df == 18 or df == 20 or df == 21:
        return 14
    return 0


@kernel
def _decode_frames(fr: FrameColumns, order: npt.NDArray[np.int64], start: int,
                   table: AircraftTable, sensor_lat: npt.NDArray[np.float64],
                   sensor_lon: npt.NDArray[np.float64], ref_lat: float, ref_lon: float,
                   out: ReportColumns, k: int, outcome: npt.NDArray[np.uint8],
                   events: npt.NDArray[np.int64], buf: npt.NDArray[np.uint8]) -> tuple[int, int]:
    """Decode frames ``order[start:]``; returns (next index, rows written).

    Stops early (next index < len(order)) when the aircraft table reaches its load
    limit, so that the caller can rebuild it and call again.

    A :func:`~skyshare.decode.jit.kernel` (compiled without reference counting);
    the helpers that take the column tuples are inlined into it, since passing
    those tuples by value on every call would cost more than the decoding.
    """
    limit = int(table.keys.shape[0] * MAX_LOAD)
    n = order.shape[0]
    for j in range(start, n):
        if table.used[0] >= limit:
            return j, k
        i = order[j]
        code = _decode_one(fr, i, table, sensor_lat, sensor_lon, ref_lat, ref_lon, out, k,
                           events, buf)
        outcome[i] = code
        if code == OK:
            k += 1
    return n, k


@nb.njit(cache=True, nogil=True, inline="always")
def _decode_one(fr: FrameColumns, i: int, table: AircraftTable,
                sensor_lat: npt.NDArray[np.float64], sensor_lon: npt.NDArray[np.float64],
                ref_lat: float, ref_lon: float, out: ReportColumns, k: int,
                events: npt.NDArray[np.int64], buf: npt.NDArray[np.uint8]) -> int:
    if not math.isfinite(fr.time[i]):
        return BAD_TIME
    length = int(fr.length[i])
    if length == 2:
        return MODE_AC
    if length != 7 and length != 14:
        return BAD_LENGTH
    data = fr.data[i]
    df = int(data[0]) >> 3
    expected = _frame_length(df)
    if expected == 0:
        return DF_UNSUPPORTED
    if expected != length:
        return BAD_LENGTH
    syn = int(syndrome_one(data, length))
    if df == 17 or df == 18:
        s = int(fr.sensor[i])
        if s < sensor_lat.shape[0] and math.isfinite(sensor_lat[s]) \
                and math.isfinite(sensor_lon[s]):
            ref_lat = sensor_lat[s]
            ref_lon = sensor_lon[s]
        return _extended(fr, i, df, syn, table, ref_lat, ref_lon, out, k, events, buf)
    return _short_or_reply(fr, i, df, syn, length, table, out, k)


@nb.njit(cache=True, nogil=True)
def _is_sorted(t: npt.NDArray[np.float64]) -> bool:
    for i in range(1, t.shape[0]):  # noqa: SIM110 (numba: no all() over a generator)
        if not t[i] >= t[i - 1]:
            return False
    return True


class ModeSDecoder:
    """Stateful Mode S / ADS-B decoder over frame batches (see the module docstring).

    ``sensor_positions`` (lat, lon degrees per sensor index, NaN when unknown) and
    ``reference`` (the fallback) serve only to choose among the candidates of a
    surface position pair (see :mod:`skyshare.decode.positions`): surface frames
    from a sensor without either get no position until the aircraft has one.
    ``bad_for(sensor)`` receives every skipped frame, counted by kind.
    """

    def __init__(self, sensor_positions: npt.NDArray[np.float64] | None = None,
                 reference: tuple[float, float] | None = None,
                 bad_for: Callable[[int], BadInput] | None = None) -> None:
        if sensor_positions is None:
            sensor_positions = np.empty((0, 2))
        positions_ = np.asarray(sensor_positions, dtype=np.float64).reshape(-1, 2)
        self._sensor_lat = np.ascontiguousarray(positions_[:, 0])
        self._sensor_lon = np.ascontiguousarray(positions_[:, 1])
        self._ref = (math.nan, math.nan) if reference is None else \
            (float(reference[0]), float(reference[1]))
        self._bad_for = bad_for
        self._table = new_table()
        self._buf = np.zeros(14, dtype=np.uint8)  # a repaired frame
        self.counts: dict[str, int] = dict.fromkeys(OUTCOME_KINDS + EVENT_KINDS, 0)

    def decode(self, frames: FrameBatch) -> ReportBatch:
        """Reports of the accepted frames of ``frames``, in time order."""
        n = len(frames)
        if n == 0:
            return empty_reports(0)
        fr = frame_columns(frames)
        out = np.empty(n, dtype=REPORT_DTYPE)
        cols = report_columns(out)
        if _is_sorted(fr.time):
            order = np.arange(n, dtype=np.int64)
        else:
            order = np.argsort(fr.time, kind="stable").astype(np.int64, copy=False)
        outcome = np.zeros(n, dtype=np.uint8)
        events = np.zeros(len(EVENT_KINDS), dtype=np.int64)
        start, k = 0, 0
        while True:
            start, k = _decode_frames(fr, order, start, self._table, self._sensor_lat,
                                      self._sensor_lon, self._ref[0], self._ref[1], cols, k,
                                      outcome, events, self._buf)
            if start >= n:
                break
            self._table = rebuilt(self._table, float(fr.time[order[start]]))
        self._tally(outcome, events, fr.sensor)
        return out[:k]

    def _tally(self, outcome: npt.NDArray[np.uint8], events: npt.NDArray[np.int64],
               sensor: npt.NDArray[np.uint16]) -> None:
        per_kind = np.bincount(outcome, minlength=len(OUTCOME_KINDS))
        for kind, n in zip(OUTCOME_KINDS, per_kind.tolist(), strict=True):
            self.counts[kind] += n
        for kind, n in zip(EVENT_KINDS, events.tolist(), strict=True):
            self.counts[kind] += n
        if self._bad_for is None or per_kind[0] == len(outcome):
            return
        skipped = np.flatnonzero(outcome != OK)
        key = sensor[skipped].astype(np.int64) * len(OUTCOME_KINDS) + outcome[skipped]
        keys, counts = np.unique(key, return_counts=True)
        for key_, n in zip(keys.tolist(), counts.tolist(), strict=True):
            s, kind = divmod(key_, len(OUTCOME_KINDS))
            self._bad_for(s).add(OUTCOME_KINDS[kind], n)
