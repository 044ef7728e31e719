"""CAT021 ADS-B target reports (a ground station's, editions 2.1-2.7) as reports.

One row of :data:`~skyshare.model.REPORT_DTYPE` per CAT021 record framed by
:mod:`.records` (source ADSB, ``df`` 0xFF, type code unknown), filled by one compiled
pass over the items; an item a record lacks, or holds out of its range, leaves its
columns unknown (NaN, the model's sentinels).  Items read:

* time: I021/073 time of message reception for position, else /071 time of
  applicability for position, /075 reception for velocity, /077 report transmission
  (a time of day at or past 86,400 s counts as absent); put on the UTC day nearest
  ``around``, which also dates a record without any;
* I021/040 target report descriptor: ATP other than 24-bit ICAO (a duplicate,
  surface-vehicle, anonymous or reserved address type) -> ``NON_ICAO``; GBS ->
  ``ON_GROUND``; SIM -> ``EXERCISE`` (a simulated target is not real traffic, as a
  CAT048 SIM plot); TST (test target) and RAB (field monitor, a fixed transponder):
  the record is left out, as :func:`skyshare.radar.plots.radar_plots` leaves out CAT048
  test and field-monitor plots.  ARC, RC and the later extensions (CL, CPR, LDPJ ...)
  have no column and are not read;
* I021/080 target address; I021/130 position (180/2^23 deg), I021/131 high-resolution
  position (180/2^30 deg, preferred); I021/145 flight level (1/4 FL, -15 to 1,500 FL)
  -> ``alt_baro``; I021/140 geometric height (6.25 ft, -1,500 to 150,000 ft) ->
  ``alt_geo``;
* I021/160 airborne ground vector (2^-14 NM/s, 360/2^16 deg; RE, range exceeded: the
  speed is unknown); I021/155 barometric vertical rate, else I021/157 geometric
  (``VRATE_GEO``), 6.25 ft/min (RE: unknown); I021/151 true airspeed (``AIRSPEED_TAS``,
  preferred) else I021/150 IAS (a Mach number stays unknown: knots need the air's
  temperature); I021/152 magnetic heading (``HEADING_MAGNETIC``);
* I021/170 identification; I021/070 Mode 3/A; I021/020 emitter category as the Mode S
  set and code (see :data:`EMITTER_CATEGORY`); I021/200 target status: PS as
  :class:`~skyshare.model.Emergency` (ME, a military emergency, as GENERAL when PS says
  none), SS alert -> ``ALERT``, SS SPI -> ``SPI``;
* I021/090 quality: NACv, NIC, then NACp and SIL (a reserved code: unknown).  A
  version 0 (DO-260) transmitter, as I021/210 tells, sends NUCr and NUCp there
  instead: NUCr is NACv's scale, NUCp is read as the NIC of the airborne type code
  that carries it (:data:`NIC_OF_NUCP`, as :func:`skyshare.decode.adsb.nic_airborne`
  does).  Without I021/210 the version is taken to be 1 or 2.

``frame_hash`` is the FNV-1a of the items that describe the aircraft (FRN, then bytes;
not the ground station's own items: data source, track number, service, times, MOPS
version, amplitude, receiver, data ages, RE/SP, nor the descriptor, whose check bits
each station sets), so the copies two ground stations make of one squitter dedupe as
copies of one Mode S frame do (:mod:`skyshare.fusion.dedup`); 0 when none is present.
"""

from __future__ import annotations

import math
from typing import Final, Protocol

import numba as nb
import numpy as np
import numpy.typing as npt

from skyshare.decode.asterix.cat048 import IA5_6BIT, callsign_column
from skyshare.decode.asterix.records import (
    Records,
    category_rows,
    signed,
    squawk_of,
    uint_be,
    unix_time_of_day,
)
from skyshare.decode.asterix.uap import CAT021
from skyshare.decode.modes import FNV_OFFSET, FNV_PRIME
from skyshare.model import Emergency, ReportBatch, ReportFlag, SourceKind, empty_reports

KNOTS_PER_NM_S: Final = 3600.0
DAY_S: Final = 86400.0

EMITTER_CATEGORY: Final = np.zeros(256, np.uint8)
"""I021/020 ECAT -> the report's category byte (0xA3 is "A3"; 0: unknown).  Set A
(TC 4): 1-6 light to high performance -> A1-A6, 10 rotorcraft -> A7.  Set B (TC 3): 11
glider -> B1, 12 lighter-than-air -> B2, 16 parachutist -> B3, 15 ultralight -> B4, 13
UAV -> B6, 14 space vehicle -> B7.  Set C (TC 2): 20-24 surface emergency vehicle to
line obstacle -> C1-C5.  0 (no information) and the reserved codes: unknown."""
for _ecat, _cat in {1: 0xA1, 2: 0xA2, 3: 0xA3, 4: 0xA4, 5: 0xA5, 6: 0xA6, 10: 0xA7,
                    11: 0xB1, 12: 0xB2, 16: 0xB3, 15: 0xB4, 13: 0xB6, 14: 0xB7,
                    20: 0xC1, 21: 0xC2, 22: 0xC3, 23: 0xC4, 24: 0xC5}.items():
    EMITTER_CATEGORY[_ecat] = _cat

NIC_OF_NUCP: Final = np.array([0, 1, 2, 4, 5, 6, 7, 8, 10, 11] + [0xFF] * 6, np.uint8)
"""NUCp 0-9 -> the NIC of the airborne position type code (18 - NUCp) carrying it; the
undefined 10-15 -> unknown."""
_MAX_QUALITY: Final = (("nacv", 4), ("nic", 11), ("nacp", 11))  # above: reserved codes

_STATION_ITEMS: Final = frozenset((
    "I021/010", "I021/040", "I021/161", "I021/015", "I021/071", "I021/072", "I021/073",
    "I021/074", "I021/075", "I021/076", "I021/077", "I021/210", "I021/016", "I021/132",
    "I021/400", "I021/295", "I021/RE", "I021/SP"))
_HASHED: Final = np.zeros(len(CAT021) + 1, np.bool_)  # by FRN: an aircraft's item
for _frn, _item in enumerate(CAT021, start=1):
    _HASHED[_frn] = _item is not None and _item.name not in _STATION_ITEMS

SCRATCH_DTYPE: Final = np.dtype([  # per row, beside the report, during the pass
    ("tod", "<f8"),  # s since midnight of the best time item so far; NaN
    ("rank", "i1"),  # of that item: 4 /073, 3 /071, 2 /075, 1 /077; 0 none
    ("version", "i1"),  # I021/210 VN; -1 absent
    ("drop", "?"),  # a test target or a field monitor
    ("hash", "<u8"),
    ("hashed", "?"),
])
_RANK_OF_FRN: Final = np.zeros(len(CAT021) + 1, np.int8)
_RANK_OF_FRN[[12, 5, 14, 28]] = [4, 3, 2, 1]

_NON_ICAO: Final = int(ReportFlag.NON_ICAO)
_ON_GROUND: Final = int(ReportFlag.ON_GROUND)
_EXERCISE: Final = int(ReportFlag.EXERCISE)
_SPI: Final = int(ReportFlag.SPI)
_ALERT: Final = int(ReportFlag.ALERT)
_TAS: Final = int(ReportFlag.AIRSPEED_TAS)
_VRATE_GEO: Final = int(ReportFlag.VRATE_GEO)
_MAGNETIC: Final = int(ReportFlag.HEADING_MAGNETIC)
_GENERAL: Final = int(Emergency.GENERAL)


class ReportRow(Protocol):
    """The :data:`~skyshare.model.REPORT_DTYPE` fields the kernel's helpers write."""

    flags: int
    lat: float
    lon: float
    nic: int
    nacp: int
    nacv: int
    sil: int
    emergency: int
    alt_baro: float
    alt_geo: float
    groundspeed: float
    track: float
    vertical_rate: float
    airspeed: float
    heading: float


class ScratchRow(Protocol):
    """One :data:`SCRATCH_DTYPE` row."""

    drop: bool
    hash: np.uint64
    hashed: bool


@nb.njit(cache=True, nogil=True, inline="always")
def _descriptor(o: ReportRow, s: ScratchRow, data: npt.NDArray[np.uint8], p: int) -> None:
    """I021/040: ATP, RAB; then (first extension) GBS, SIM, TST."""
    b = int(data[p])
    if b >> 5 != 0:
        o.flags = o.flags | _NON_ICAO
    if b & 0x02:
        s.drop = True
    if b & 1:
        e = int(data[p + 1])
        if e & 0x40:
            o.flags = o.flags | _ON_GROUND
        if e & 0x20:
            o.flags = o.flags | _EXERCISE
        if e & 0x10:
            s.drop = True


@nb.njit(cache=True, nogil=True, inline="always")
def _position(o: ReportRow, data: npt.NDArray[np.uint8], p: int, n: int, lsb: float) -> None:
    """I021/130 (``n`` 3) or /131 (4): latitude then longitude, two's complement."""
    lat = signed(uint_be(data, p, n), 8 * n) * lsb
    lon = signed(uint_be(data, p + n, n), 8 * n) * lsb
    if abs(lat) <= 90.0 and abs(lon) <= 180.0:
        o.lat, o.lon = lat, lon


@nb.njit(cache=True, nogil=True, inline="always")
def _quality(o: ReportRow, data: npt.NDArray[np.uint8], p: int) -> None:
    """I021/090: NACv (or NUCr), NIC (or NUCp); then NICbaro, SIL, NACp."""
    b = int(data[p])
    o.nacv = b >> 5
    o.nic = (b >> 1) & 0x0F
    if b & 1:
        e = int(data[p + 1])
        o.sil = (e >> 5) & 3
        o.nacp = (e >> 1) & 0x0F


@nb.njit(cache=True, nogil=True, inline="always")
def _status(o: ReportRow, b: int) -> None:
    """I021/200: ME, PS, SS."""
    ps = (b >> 2) & 7
    o.emergency = _GENERAL if ps == 0 and b & 0x20 else ps
    ss = b & 3
    if ss == 1 or ss == 2:
        o.flags = o.flags | _ALERT
    elif ss == 3:
        o.flags = o.flags | _SPI


@nb.njit(cache=True, nogil=True, inline="always")
def _rate(v: int) -> float:
    """I021/155 and /157: RE, then 6.25 ft/min on 15 bits; NaN when out of range."""
    return math.nan if v & 0x8000 else signed(v & 0x7FFF, 15) * 6.25


@nb.njit(cache=True, nogil=True, inline="always")
def _kinematics(o: ReportRow, f: int, data: npt.NDArray[np.uint8], p: int) -> None:
    """Heights, speeds, rates and heading (FRN ``f``; any other FRN: nothing)."""
    if not (f == 9 or f == 10 or f == 16 or f == 21 or f == 22 or 24 <= f <= 26):
        return  # not read: not even its first two bytes, which a 1-byte item lacks
    v = uint_be(data, p, 2)
    if f == 9:  # I021/150: IM (0: IAS, 2^-14 NM/s; 1: Mach), then 15 bits
        if not v & 0x8000 and not o.flags & _TAS:
            o.airspeed = (v & 0x7FFF) / 16384.0 * KNOTS_PER_NM_S
    elif f == 10:  # I021/151: RE, then 1 kt on 15 bits
        if not v & 0x8000:
            o.airspeed = v & 0x7FFF
            o.flags = o.flags | _TAS
    elif f == 16:  # I021/140, 6.25 ft
        h = signed(v, 16) * 6.25
        if -1500.0 <= h <= 150000.0:
            o.alt_geo = h
    elif f == 21:  # I021/145, 1/4 FL
        fl = signed(v, 16) / 4.0
        if -15.0 <= fl <= 1500.0:
            o.alt_baro = fl * 100.0
    elif f == 22:  # I021/152, 360/2^16 deg
        o.heading = v * (360.0 / 65536.0)
        o.flags = o.flags | _MAGNETIC
    elif f == 24:  # I021/155
        o.vertical_rate = _rate(v)
    elif f == 25 and math.isnan(o.vertical_rate):  # I021/157, when /155 gave none
        rate = _rate(v)
        if not math.isnan(rate):
            o.vertical_rate = rate
            o.flags = o.flags | _VRATE_GEO
    elif f == 26:  # I021/160: RE, GS 2^-14 NM/s on 15 bits, TA 360/2^16 deg
        if not v & 0x8000:
            o.groundspeed = v / 16384.0 * KNOTS_PER_NM_S
        o.track = uint_be(data, p + 2, 2) * (360.0 / 65536.0)


@nb.njit(cache=True, nogil=True, inline="always")
def _hash(s: ScratchRow, data: npt.NDArray[np.uint8], f: int, p: int, n: int) -> None:
    h = s.hash ^ np.uint64(f)
    h *= FNV_PRIME
    for k in range(p, p + n):
        h = (h ^ np.uint64(data[k])) * FNV_PRIME
    s.hash = h
    s.hashed = True


@nb.njit(cache=True, nogil=True)
def _decode(data: npt.NDArray[np.uint8], rec_of: npt.NDArray[np.int64],
            frn: npt.NDArray[np.int64], offset: npt.NDArray[np.int64],
            length: npt.NDArray[np.int64], row_of_record: npt.NDArray[np.int64],
            out: npt.NDArray[np.void], scratch: npt.NDArray[np.void],
            callsigns: npt.NDArray[np.uint8], ia5: npt.NDArray[np.uint8],
            ecat: npt.NDArray[np.uint8], hashed: npt.NDArray[np.bool_],
            rank_of: npt.NDArray[np.int8]) -> None:
    for k in range(len(frn)):
        row = row_of_record[rec_of[k]]
        if row < 0:
            continue
        o, s, p, f = out[row], scratch[row], offset[k], frn[k]
        if hashed[f]:
            _hash(s, data, f, p, length[k])
        if rank_of[f] > s.rank:  # I021/073, /071, /075, /077: 1/128 s
            tod = uint_be(data, p, 3) / 128.0
            if tod < DAY_S:
                s.tod, s.rank = tod, rank_of[f]
        elif f == 2:
            _descriptor(o, s, data, p)
        elif f == 6:  # I021/130
            _position(o, data, p, 3, 180.0 / 8388608.0)
        elif f == 7:  # I021/131
            _position(o, data, p, 4, 180.0 / 1073741824.0)
        elif f == 11:  # I021/080
            o.icao24 = uint_be(data, p, 3)
        elif f == 17:
            _quality(o, data, p)
        elif f == 18:  # I021/210: spare, VNS, VN (3 bits), LTT
            s.version = (data[p] >> 3) & 7
        elif f == 19:  # I021/070
            o.squawk = squawk_of(uint_be(data, p, 2) & 0x0FFF)
        elif f == 23:
            _status(o, int(data[p]))
        elif f == 29:  # I021/170: eight 6-bit characters
            bits = uint_be(data, p, 6)
            for c in range(8):
                callsigns[row, c] = ia5[(bits >> (42 - 6 * c)) & 0x3F]
        elif f == 30:  # I021/020
            o.category = ecat[data[p]]
        else:
            _kinematics(o, f, data, p)


def _around_rows(around: float | npt.NDArray[np.float64], framed: Records,
                 records: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    near = np.asarray(around, np.float64)
    if near.ndim == 0:
        return np.full(len(records), float(near))
    if near.shape != (len(framed.records),):
        raise ValueError(f"around: one time for all records or one per framed record "
                         f"({len(framed.records)}), not {near.shape}")
    return near[records]


def decode_adsb(data: npt.NDArray[np.uint8], framed: Records, sensor: int,
                around: float | npt.NDArray[np.float64]) -> ReportBatch:
    """The ADS-B reports of the CAT021 records of ``framed`` (framed over ``data``) from
    ``sensor``: one row per record, in order, but for test targets and field monitors.

    ``around`` (UNIX s, when the data arrived; one for all, or one per record of
    ``framed``) puts each time of day on its UTC day and dates records without one.
    """
    rows = category_rows(framed, 21)
    n = len(rows.records)
    out = empty_reports(n)
    out["sensor"], out["source"], out["df"] = sensor, SourceKind.ADSB, 0xFF
    scratch = np.zeros(n, SCRATCH_DTYPE)
    scratch["tod"], scratch["version"], scratch["hash"] = np.nan, -1, FNV_OFFSET
    callsigns = np.full((n, 8), ord(" "), np.uint8)
    _decode(data, rows.item_record, rows.item_frn, rows.item_offset,
            framed.items["length"].astype(np.int64), rows.row_of_record, out, scratch,
            callsigns, IA5_6BIT, EMITTER_CATEGORY, _HASHED, _RANK_OF_FRN)
    out["callsign"] = callsign_column(callsigns, rows, 29)
    version0 = (scratch["version"] == 0) & (out["nic"] != 0xFF)
    out["nic"][version0] = NIC_OF_NUCP[out["nic"][version0]]
    for name, top in _MAX_QUALITY:
        out[name][out[name] > top] = 0xFF
    near = _around_rows(around, framed, rows.records)
    tod = scratch["tod"]
    out["time"] = np.where(np.isfinite(tod), unix_time_of_day(tod, near), near)
    h = scratch["hash"]
    out["frame_hash"] = np.where(scratch["hashed"], np.where(h == 0, np.uint64(1), h),
                                 np.uint64(0))
    kept: ReportBatch = out[~scratch["drop"]]
    return kept
