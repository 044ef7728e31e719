"""SBS-1 BaseStation CSV (port 30003) -> reports, columnar.

A line holds 22 comma-separated fields::

    MSG,3,1,1,4CA2D6,1,2024/06/06,09:38:39.147,2024/06/06,09:38:39.147,RYR1234,
    36000,450,270,43.6,1.37,-64,7700,0,0,0,0

message type, transmission type (1-8), session, aircraft, hex ident (``~`` marks a
non-ICAO address), flight id, date and time generated, date and time logged,
callsign, altitude (ft), ground speed (kt), track (deg), latitude, longitude,
vertical rate (ft/min), squawk, alert, emergency, SPI, is-on-ground (flags are
``-1``/``1`` for set, ``0`` or empty for not).  Trailing fields may be missing
(at least the first 10 are required); fields past the 22nd are ignored.

Transmission types 1-4 are ADS-B (``SourceKind.ADSB``), 5-8 Mode S surveillance
replies (``SourceKind.MODES``).  Lines of the other message types (``AIR``, ``ID``,
``STA``, ``SEL``, ``CLK``) are skipped and counted as ``sbs-other``; malformed lines
as ``sbs-bad-line``.  One compiled pass parses every line of a block.
"""

from __future__ import annotations

from typing import Final

import numba as nb
import numpy as np
import numpy.typing as npt

from skyshare.badinput import BadInput
from skyshare.model import (
    NO_SQUAWK,
    Emergency,
    ReportBatch,
    ReportFlag,
    SourceKind,
    empty_reports,
)
from skyshare.sources.hexcodec import HEX_VALUE
from skyshare.sources.sbs import MAX_LINE

MIN_FIELDS: Final = 10  # up to the date and time logged
N_FIELDS: Final = 22
MIN_LINE_BYTES: Final = 14  # "MSG,1,,,1,,,,,\n"

# bits of the per-line ``marks`` column
_ALERT, _EMERGENCY, _SPI, _GROUND, _NON_ICAO = 1, 2, 4, 8, 16
# counters
_OTHER, _BAD, _GOOD_BYTES = range(3)
# message types, as their letters packed into an integer
_MSG: Final = 0x4D5347
_AIR, _ID, _STA, _SEL, _CLK = 0x414952, 0x4944, 0x535441, 0x53454C, 0x434C4B


@nb.njit(cache=True, nogil=True)
def _strip(buf: npt.NDArray[np.uint8], s: int, e: int) -> tuple[int, int]:
    while s < e and (buf[s] == 0x20 or buf[s] == 0x09 or buf[s] == 0x0D):
        s += 1
    while e > s and (buf[e - 1] == 0x20 or buf[e - 1] == 0x09 or buf[e - 1] == 0x0D):
        e -= 1
    return s, e


@nb.njit(cache=True, nogil=True)
def _word(buf: npt.NDArray[np.uint8], s: int, e: int) -> int:
    """Up to 4 ASCII bytes packed big-endian into an int; -1 if longer."""
    if e - s > 4:
        return -1
    code = 0
    for i in range(s, e):
        code = (code << 8) | buf[i]
    return code


@nb.njit(cache=True, nogil=True)
def _is_other_type(kind: int) -> bool:
    return kind in (_AIR, _ID, _STA, _SEL, _CLK)


@nb.njit(cache=True, nogil=True)
def _parse_int(buf: npt.NDArray[np.uint8], s: int, e: int) -> tuple[bool, int]:
    """A decimal integer with optional sign; (False, 0) if malformed or empty."""
    neg = False
    if s < e and (buf[s] == 0x2D or buf[s] == 0x2B):
        neg = buf[s] == 0x2D
        s += 1
    if s == e or e - s > 12:
        return False, 0
    value = 0
    for i in range(s, e):
        d = buf[i] - 0x30
        if d < 0 or d > 9:
            return False, 0
        value = value * 10 + d
    return True, -value if neg else value


@nb.njit(cache=True, nogil=True)
def _parse_float(buf: npt.NDArray[np.uint8], s: int, e: int) -> tuple[bool, float]:
    """A decimal number (sign, digits, '.', digits, exponent); NaN when empty."""
    if s == e:
        return True, np.nan
    neg = False
    if buf[s] == 0x2D or buf[s] == 0x2B:
        neg = buf[s] == 0x2D
        s += 1
    mantissa = np.int64(0)
    scale = 0  # decimal exponent of the mantissa
    digits = 0
    dot = False
    i = s
    while i < e:
        c = buf[i]
        if 0x30 <= c <= 0x39:
            if digits < 18:
                mantissa = mantissa * 10 + (c - 0x30)
                if dot:
                    scale -= 1
            elif not dot:
                scale += 1
            digits += 1
        elif c == 0x2E and not dot:
            dot = True
        else:
            break
        i += 1
    if digits == 0:
        return False, np.nan
    if i < e:  # exponent
        if buf[i] != 0x45 and buf[i] != 0x65:
            return False, np.nan
        ok, exponent = _parse_int(buf, i + 1, e)
        if not ok or abs(exponent) > 400:
            return False, np.nan
        scale += exponent
    value = float(mantissa)
    value = value * 10.0 ** scale if scale >= 0 else value / 10.0 ** (-scale)
    if not np.isfinite(value) or value > 3.0e38:  # must fit a float32 column
        return False, np.nan
    return True, -value if neg else value


@nb.njit(cache=True, nogil=True)
def _parse_flag(buf: npt.NDArray[np.uint8], s: int, e: int) -> int:
    """-1/1 (any non-zero integer): 1; 0 or empty: 0; malformed: -1."""
    if s == e:
        return 0
    ok, value = _parse_int(buf, s, e)
    if not ok:
        return -1
    return 1 if value != 0 else 0


@nb.njit(cache=True, nogil=True)
def _parse_squawk(buf: npt.NDArray[np.uint8], s: int, e: int) -> int:
    """Up to 4 octal digits read as a decimal number (7700); -1 empty, -2 malformed."""
    if s == e:
        return -1
    if e - s > 4:
        return -2
    value = 0
    for i in range(s, e):
        d = buf[i] - 0x30
        if d < 0 or d > 7:
            return -2
        value = value * 10 + d
    return value


@nb.njit(cache=True, nogil=True)
def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    y -= 1 if m <= 2 else 0
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m - 3 if m > 2 else m + 9) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


@nb.njit(cache=True, nogil=True)
def _split3(buf: npt.NDArray[np.uint8], s: int, e: int, sep1: int, sep2: int,
            bounds: npt.NDArray[np.int64]) -> bool:
    """Split ``buf[s:e]`` into 3 parts at separators ``sep1``/``sep2`` -> ``bounds``."""
    k = 0
    bounds[0] = s
    for i in range(s, e):
        if buf[i] == sep1 or buf[i] == sep2:
            if k == 2:
                return False
            k += 1
            bounds[2 * k - 1] = i
            bounds[2 * k] = i + 1
    bounds[5] = e
    return k == 2


@nb.njit(cache=True, nogil=True)
def _parse_datetime(buf: npt.NDArray[np.uint8], ds: int, de: int, ts: int, te: int) -> float:
    """``YYYY/MM/DD`` and ``HH:MM:SS.fff`` read as UTC -> UNIX seconds; NaN if bad."""
    b = np.empty(6, dtype=np.int64)
    if not _split3(buf, ds, de, 0x2F, 0x2D, b):  # '/' or '-'
        return np.nan
    ok1, year = _parse_int(buf, b[0], b[1])
    ok2, month = _parse_int(buf, b[2], b[3])
    ok3, day = _parse_int(buf, b[4], b[5])
    if not (ok1 and ok2 and ok3) or not (1 <= month <= 12 and 1 <= day <= 31):
        return np.nan
    if not _split3(buf, ts, te, 0x3A, 0x3A, b):  # ':'
        return np.nan
    ok1, hour = _parse_int(buf, b[0], b[1])
    ok2, minute = _parse_int(buf, b[2], b[3])
    ok3, second = _parse_float(buf, b[4], b[5])
    if not (ok1 and ok2 and ok3) or not (0 <= hour <= 23 and 0 <= minute <= 59
                                         and 0 <= second < 61):
        return np.nan
    days = _days_from_civil(year, month, day)
    return float(days * 86400 + hour * 3600 + minute * 60) + second


@nb.njit(cache=True, nogil=True)
def _hex_ident(buf: npt.NDArray[np.uint8], s: int, e: int) -> tuple[int, bool]:
    """1-6 hex digits, optionally after '~' (non-ICAO) -> (address or -1, non_icao)."""
    non_icao = s < e and buf[s] == 0x7E
    if non_icao:
        s += 1
    if s == e or e - s > 6:
        return -1, non_icao
    value = 0
    for i in range(s, e):
        v = HEX_VALUE[buf[i]]
        if v == 0xFF:
            return -1, non_icao
        value = (value << 4) | v
    return value, non_icao


@nb.njit(cache=True, nogil=True)
def _split_fields(buf: npt.NDArray[np.uint8], s: int, e: int,
                  fs: npt.NDArray[np.int64], fe: npt.NDArray[np.int64]) -> int:
    """Stripped bounds of the first 22 fields (missing ones empty); the field count."""
    n = 0
    start = s
    for i in range(s, e + 1):
        if i == e or buf[i] == 0x2C:
            if n < N_FIELDS:
                fs[n], fe[n] = _strip(buf, start, i)
            n += 1
            start = i + 1
    for k in range(min(n, N_FIELDS), N_FIELDS):
        fs[k] = e
        fe[k] = e
    return n


@nb.njit(cache=True, nogil=True)
def _parse_line(buf: npt.NDArray[np.uint8], fs: npt.NDArray[np.int64],
                fe: npt.NDArray[np.int64], use_time: bool, row: int,
                cols: npt.NDArray[np.float64], ints: npt.NDArray[np.int64],
                callsign: npt.NDArray[np.uint8]) -> bool:
    """Fields 1-21 of one MSG line into row ``row`` of the outputs; False if malformed.

    ``cols``: time, altitude, ground speed, track, lat, lon, vertical rate;
    ``ints``: transmission type, address, squawk, marks."""
    ok, tt = _parse_int(buf, fs[1], fe[1])
    if not ok or not 1 <= tt <= 8:
        return False
    address, non_icao = _hex_ident(buf, fs[4], fe[4])
    if address < 0:
        return False
    time = np.nan
    if use_time:
        time = _parse_datetime(buf, fs[6], fe[6], fs[7], fe[7])
        if np.isnan(time):
            time = _parse_datetime(buf, fs[8], fe[8], fs[9], fe[9])
        if np.isnan(time):
            return False
    cols[row, 0] = time
    if fe[10] - fs[10] > 8:
        return False
    for k in range(8):
        c = buf[fs[10] + k] if fs[10] + k < fe[10] else 0
        if c != 0 and not 0x20 <= c <= 0x7E:
            return False
        callsign[row, k] = c
    for col in range(1, 7):  # fields 11-16
        ok, value = _parse_float(buf, fs[10 + col], fe[10 + col])
        if not ok:
            return False
        cols[row, col] = value
    if not (abs(cols[row, 4]) <= 90.0 or np.isnan(cols[row, 4])):
        return False
    if not (abs(cols[row, 5]) <= 180.0 or np.isnan(cols[row, 5])):
        return False
    squawk = _parse_squawk(buf, fs[17], fe[17])
    if squawk == -2:
        return False
    marks = _NON_ICAO if non_icao else 0
    for k, bit in enumerate((_ALERT, _EMERGENCY, _SPI, _GROUND)):
        flag = _parse_flag(buf, fs[18 + k], fe[18 + k])
        if flag < 0:
            return False
        marks |= bit * flag
    ints[row, 0] = tt
    ints[row, 1] = address
    ints[row, 2] = squawk
    ints[row, 3] = marks
    return True


@nb.njit(cache=True, nogil=True)
def parse_sbs(buf: npt.NDArray[np.uint8], use_time: bool, cols: npt.NDArray[np.float64],
              ints: npt.NDArray[np.int64], callsign: npt.NDArray[np.uint8],
              counts: npt.NDArray[np.int64]) -> int:
    """Every line of ``buf`` (the last may lack its newline) -> rows written."""
    fs = np.empty(N_FIELDS, dtype=np.int64)
    fe = np.empty(N_FIELDS, dtype=np.int64)
    n_buf = buf.shape[0]
    i = 0
    n = 0
    while i < n_buf:
        end = i
        while end < n_buf and buf[end] != 0x0A:
            end += 1
        s, e = _strip(buf, i, end)
        if end - i > MAX_LINE:
            counts[_BAD] += 1
        elif s < e:
            n_fields = _split_fields(buf, s, e, fs, fe)
            kind = _word(buf, fs[0], fe[0])
            if kind == _MSG and n_fields >= MIN_FIELDS:
                if _parse_line(buf, fs, fe, use_time, n, cols, ints, callsign):
                    counts[_GOOD_BYTES] += end + 1 - i
                    n += 1
                else:
                    counts[_BAD] += 1
            elif _is_other_type(kind):
                counts[_OTHER] += 1
                counts[_GOOD_BYTES] += end + 1 - i
            else:
                counts[_BAD] += 1
        i = end + 1
    return n


def _emergency(marks: npt.NDArray[np.int64], squawk: npt.NDArray[np.int64]
               ) -> npt.NDArray[np.uint8]:
    """The emergency flag as Emergency.GENERAL, made specific by a 7500/7600 squawk."""
    out = np.where((marks & _EMERGENCY) != 0, np.uint8(Emergency.GENERAL), np.uint8(0))
    flagged = out != 0
    out[flagged & (squawk == 7500)] = Emergency.UNLAWFUL_INTERFERENCE
    out[flagged & (squawk == 7600)] = Emergency.NO_COMMUNICATIONS
    return out


def _flags(marks: npt.NDArray[np.int64], tt: npt.NDArray[np.int64],
           has_position: npt.NDArray[np.bool_]) -> npt.NDArray[np.uint16]:
    table = ((_GROUND, ReportFlag.ON_GROUND), (_SPI, ReportFlag.SPI),
             (_ALERT, ReportFlag.ALERT), (_NON_ICAO, ReportFlag.NON_ICAO))
    flags = np.zeros(len(marks), dtype=np.uint16)
    for bit, flag in table:
        flags[(marks & bit) != 0] |= np.uint16(flag)
    flags[(tt == 2) & has_position] |= np.uint16(ReportFlag.POSITION_SURFACE)
    return flags


class SbsDecoder:
    """SBS lines -> :data:`~skyshare.model.ReportBatch` (``df`` 0xFF, no frame hash).

    ``use_message_time`` False (live feeds): every report's time is the ``recv_time``
    of the read.  True (recordings): the "generated" date and time of the line, read
    as UTC (the "logged" one when it is missing); a line with neither is malformed.
    """

    def __init__(self, sensor: int, bad: BadInput, use_message_time: bool = False) -> None:
        self.sensor = sensor
        self.bad = bad
        self.use_message_time = use_message_time
        self.good_bytes = 0
        """Bytes of the lines that were read (MSG and the other known types)."""

    def decode(self, lines: bytes, recv_time: float) -> ReportBatch:
        """Reports of every MSG line in ``lines`` (whole lines; the last may lack
        its newline)."""
        buf = np.frombuffer(bytes(lines), dtype=np.uint8)
        n_max = len(buf) // MIN_LINE_BYTES + 1
        cols = np.empty((n_max, 7), dtype=np.float64)
        ints = np.empty((n_max, 4), dtype=np.int64)
        callsign = np.zeros((n_max, 8), dtype=np.uint8)
        counts = np.zeros(3, dtype=np.int64)
        n = parse_sbs(buf, self.use_message_time, cols, ints, callsign, counts)
        self.good_bytes += int(counts[_GOOD_BYTES])
        self.bad.add("sbs-bad-line", int(counts[_BAD]), "a malformed SBS line")
        if counts[_OTHER]:  # valid lines that carry no report: counted, not logged
            self.bad.counts["sbs-other"] += int(counts[_OTHER])
        return self._reports(n, cols[:n], ints[:n], callsign[:n], recv_time)

    def _reports(self, n: int, cols: npt.NDArray[np.float64], ints: npt.NDArray[np.int64],
                 callsign: npt.NDArray[np.uint8], recv_time: float) -> ReportBatch:
        out = empty_reports(n)
        tt, squawk, marks = ints[:, 0], ints[:, 2], ints[:, 3]
        out["time"] = cols[:, 0] if self.use_message_time else recv_time
        out["sensor"] = self.sensor
        out["source"] = np.where(tt <= 4, np.uint8(SourceKind.ADSB), np.uint8(SourceKind.MODES))
        out["df"] = 0xFF
        out["icao24"] = ints[:, 1]
        out["callsign"] = np.ascontiguousarray(callsign).view("S8").ravel()
        out["squawk"] = np.where(squawk >= 0, squawk, NO_SQUAWK)
        for col, name in enumerate(("alt_baro", "groundspeed", "track", "lat", "lon",
                                    "vertical_rate"), start=1):
            out[name] = cols[:, col]
        out["emergency"] = _emergency(marks, squawk)
        has_position = np.isfinite(cols[:, 4]) & np.isfinite(cols[:, 5])
        out["flags"] = _flags(marks, tt, has_position)
        return out
