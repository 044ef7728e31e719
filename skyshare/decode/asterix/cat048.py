"""CAT048 monoradar target reports ("plots") as columns.

One row of :data:`PLOT_DTYPE` per CAT048 record framed by :mod:`.records`, filled by one
compiled pass over the items; an item a record lacks leaves its columns unknown (NaN,
-1, :data:`~skyshare.model.NO_ADDRESS`, empty callsign).  Units are the node's
(seconds, metres, degrees, feet, knots); ``squawk`` is the Mode 3/A code as four octal
digits written in decimal (7700), as everywhere in skyshare.

Items read (the rest stay framed, unread): I048/010 data source (SAC, SIC), I048/140
time of day, I048/020 report type (TYP: PSR, SSR, SSR + PSR, Mode S all-call or
roll-call, with or without PSR; SIM, SPI, RAB, TST bits), I048/040 slant range and
azimuth, I048/070 Mode 3/A code (V, G, L), I048/090 flight level (V, G), I048/220
aircraft address, I048/240 identification, I048/161 track number, I048/200 ground
speed and heading, I048/170 track status (CNF).
"""

from __future__ import annotations

from typing import Final

import numba as nb
import numpy as np
import numpy.typing as npt

from skyshare.decode.asterix.records import CategoryRows, Records, category_rows, squawk_of, uint_be
from skyshare.model import NO_ADDRESS, NO_SQUAWK

NM: Final = 1852.0
KNOTS_PER_NM_S: Final = 3600.0
PLOT_DTYPE: Final = np.dtype([
    ("record", "<i4"),  # row of Records.records
    ("sac", "u1"), ("sic", "u1"),
    ("tod", "<f8"),  # s since midnight UTC (I048/140); NaN: absent
    ("typ", "u1"),  # I048/020 TYP (0 none, 1 PSR, 2 SSR, 3 SSR+PSR, 4-7 Mode S ...); 255
    ("flags", "<u2"),  # PlotFlag bits
    ("range_m", "<f8"),  # slant range (I048/040 RHO)
    ("azimuth_deg", "<f8"),  # from north, clockwise (I048/040 THETA)
    ("squawk", "<i2"),  # Mode 3/A, four octal digits; NO_SQUAWK
    ("fl", "<f4"),  # flight level (I048/090), in FL (100 ft); NaN
    ("icao24", "<u4"),  # NO_ADDRESS
    ("callsign", "S8"),
    ("track_number", "<i4"),  # I048/161; -1
    ("groundspeed_kt", "<f4"),  # I048/200; NaN
    ("heading_deg", "<f4"),
])


class PlotFlag:
    """Bits of PLOT_DTYPE ``flags``."""

    SIMULATED = 1 << 0  # I048/020 SIM
    SPI = 1 << 1  # special position identification
    FIXED_TRANSPONDER = 1 << 2  # RAB: report from a field monitor
    TEST = 1 << 3  # TST (first extension)
    MODE3A_INVALID = 1 << 4  # I048/070 V
    MODE3A_GARBLED = 1 << 5  # G
    MODE3A_SMOOTHED = 1 << 6  # L: not from the last scan
    FL_INVALID = 1 << 7  # I048/090 V
    FL_GARBLED = 1 << 8  # G
    TENTATIVE = 1 << 9  # I048/170 CNF: the radar's track is not confirmed yet


IA5_6BIT: Final = np.frombuffer(  # the 6-bit characters of ICAO Annex 10
    b" ABCDEFGHIJKLMNOPQRSTUVWXYZ" + b" " * 21 + b"0123456789" + b" " * 6, np.uint8)


@nb.njit(cache=True, nogil=True)
def _decode(data: npt.NDArray[np.uint8], rec_of: npt.NDArray[np.int64],
            frn: npt.NDArray[np.int64], offset: npt.NDArray[np.int64],
            row_of_record: npt.NDArray[np.int64], out: npt.NDArray[np.void],
            callsigns: npt.NDArray[np.uint8], ia5: npt.NDArray[np.uint8]) -> None:
    for k in range(len(frn)):
        row = row_of_record[rec_of[k]]
        if row < 0:
            continue
        o = out[row]
        p = offset[k]
        f = frn[k]
        if f == 1:  # I048/010
            o.sac, o.sic = data[p], data[p + 1]
        elif f == 2:  # I048/140, 1/128 s
            o.tod = uint_be(data, p, 3) / 128.0
        elif f == 3:  # I048/020
            b = int(data[p])
            o.typ = b >> 5
            flags = 0
            if b & 0x10:
                flags |= 1 << 0
            if b & 0x04:
                flags |= 1 << 1
            if b & 0x02:
                flags |= 1 << 2
            if b & 0x01 and data[p + 1] & 0x80:
                flags |= 1 << 3
            o.flags = o.flags | flags
        elif f == 4:  # I048/040: RHO 1/256 NM, THETA 360/2^16 deg
            o.range_m = uint_be(data, p, 2) / 256.0 * 1852.0
            o.azimuth_deg = uint_be(data, p + 2, 2) * (360.0 / 65536.0)
        elif f == 5:  # I048/070
            v = uint_be(data, p, 2)
            code = v & 0x0FFF
            o.squawk = squawk_of(code)
            o.flags = o.flags | (((v >> 15) & 1) << 4) | (((v >> 14) & 1) << 5) | (
                ((v >> 13) & 1) << 6)
        elif f == 6:  # I048/090: 1/4 FL, two's complement on 14 bits
            v = uint_be(data, p, 2)
            fl = v & 0x3FFF
            if fl & 0x2000:
                fl -= 0x4000
            o.fl = fl / 4.0
            o.flags = o.flags | (((v >> 15) & 1) << 7) | (((v >> 14) & 1) << 8)
        elif f == 8:  # I048/220
            o.icao24 = uint_be(data, p, 3)
        elif f == 9:  # I048/240: eight 6-bit characters
            bits = uint_be(data, p, 6)
            for c in range(8):
                callsigns[row, c] = ia5[(bits >> (42 - 6 * c)) & 0x3F]
        elif f == 11:  # I048/161
            o.track_number = uint_be(data, p, 2) & 0x0FFF
        elif f == 13:  # I048/200: GSP 2^-14 NM/s, HDG 360/2^16 deg
            o.groundspeed_kt = uint_be(data, p, 2) / 16384.0 * 3600.0
            o.heading_deg = uint_be(data, p + 2, 2) * (360.0 / 65536.0)
        elif f == 14 and data[p] & 0x80:  # I048/170: CNF is the first bit
            o.flags = o.flags | (1 << 9)


def callsign_column(callsigns: npt.NDArray[np.uint8], rows: CategoryRows,
                    frn: int) -> npt.NDArray[np.bytes_]:
    """The decoded 8-character identifications, trailing spaces dropped (as Mode S
    callsigns are), empty where the record has no item ``frn``."""
    present = np.zeros(len(rows.records), np.bool_)
    present[rows.row_of_record[rows.item_record[rows.item_frn == frn]]] = True
    names = np.char.rstrip(callsigns.view("S8").ravel(), b" ")
    out: npt.NDArray[np.bytes_] = np.where(present, names, b"")
    return out


def decode_plots(data: npt.NDArray[np.uint8], framed: Records) -> npt.NDArray[np.void]:
    """One PLOT_DTYPE row per CAT048 record of ``framed`` (records framed over ``data``)."""
    rows = category_rows(framed, 48)
    n = len(rows.records)
    out = np.zeros(n, PLOT_DTYPE)
    out["record"] = rows.records
    for name in ("tod", "range_m", "azimuth_deg", "fl", "groundspeed_kt", "heading_deg"):
        out[name] = np.nan
    out["typ"], out["squawk"], out["icao24"], out["track_number"] = 255, NO_SQUAWK, \
        NO_ADDRESS, -1
    callsigns = np.full((n, 8), ord(" "), np.uint8)
    _decode(data, rows.item_record, rows.item_frn, rows.item_offset, rows.row_of_record,
            out, callsigns, IA5_6BIT)
    out["callsign"] = callsign_column(callsigns, rows, 9)
    return out
