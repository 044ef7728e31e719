"""CAT062 system tracks (a partner centre's, or any SDPS's) as columns.

One row of :data:`SYSTEM_TRACK_DTYPE` per CAT062 record framed by :mod:`.records`,
filled by one compiled pass over the items; an item a record lacks leaves its columns
unknown.  Units are the node's (seconds, degrees, metres, m/s, feet, ft/min); the
squawk is four octal digits written in decimal.

Items read (editions 1.16-1.21): I062/010 data source, I062/070 time of track
information, I062/105 WGS-84 position, I062/100 Cartesian position, I062/185 Cartesian
velocity, I062/060 Mode 3/A, I062/245 target identification, I062/380 aircraft-derived
address (ADR), I062/040 track number, I062/080 track status (first part: MON, SPI, MRH,
SRC, CNF), I062/136 measured flight level, I062/130 geometric altitude, I062/135
barometric altitude, I062/220 rate of climb or descent.
"""

from __future__ import annotations

from typing import Final

import numba as nb
import numpy as np
import numpy.typing as npt

from skyshare.decode.asterix.cat048 import IA5_6BIT, callsign_column
from skyshare.decode.asterix.records import Records, category_rows, signed, squawk_of, uint_be
from skyshare.model import NO_ADDRESS, NO_SQUAWK

FT: Final = 0.3048
SYSTEM_TRACK_DTYPE: Final = np.dtype([
    ("record", "<i4"),  # row of Records.records
    ("sac", "u1"), ("sic", "u1"),
    ("tod", "<f8"),  # s since midnight UTC (I062/070); NaN
    ("lat", "<f8"), ("lon", "<f8"),  # I062/105; NaN (also when off the globe)
    ("x_m", "<f8"), ("y_m", "<f8"),  # I062/100, in the system's plane; NaN
    ("vx_mps", "<f4"), ("vy_mps", "<f4"),  # I062/185; NaN
    ("squawk", "<i2"),  # I062/060; NO_SQUAWK
    ("callsign", "S8"),  # I062/245
    ("icao24", "<u4"),  # I062/380 ADR; NO_ADDRESS
    ("track_number", "<i4"),  # I062/040; -1
    ("status", "u1"),  # I062/080 first part, FX cleared; 0 when absent
    ("fl", "<f4"),  # I062/136 measured flight level (FL); NaN
    ("alt_geo_ft", "<f4"),  # I062/130; NaN
    ("alt_baro_ft", "<f4"),  # I062/135; NaN
    ("vertical_rate_fpm", "<f4"),  # I062/220; NaN
])
STATUS_TENTATIVE: Final = 0x02  # I062/080 CNF: the track is not confirmed yet
STATUS_SPI: Final = 0x40

_FLOATS: Final = ("tod", "lat", "lon", "x_m", "y_m", "vx_mps", "vy_mps", "fl", "alt_geo_ft",
                  "alt_baro_ft", "vertical_rate_fpm")


@nb.njit(cache=True, nogil=True)
def _decode(data: npt.NDArray[np.uint8], rec_of: npt.NDArray[np.int64],
            frn: npt.NDArray[np.int64], offset: npt.NDArray[np.int64],
            row_of_record: npt.NDArray[np.int64], out: npt.NDArray[np.void],
            callsigns: npt.NDArray[np.uint8], ia5: npt.NDArray[np.uint8]) -> None:
    for k in range(len(frn)):
        row = row_of_record[rec_of[k]]
        if row < 0:
            continue
        o, p, f = out[row], offset[k], frn[k]
        if f == 1:  # I062/010
            o.sac, o.sic = data[p], data[p + 1]
        elif f == 4:  # I062/070, 1/128 s
            o.tod = uint_be(data, p, 3) / 128.0
        elif f == 5:  # I062/105, 180/2^25 deg (the field holds +-11,520 deg: garbage
            lat = signed(uint_be(data, p, 4), 32) * (180.0 / 33554432.0)  # beyond the
            lon = signed(uint_be(data, p + 4, 4), 32) * (180.0 / 33554432.0)  # globe: NaN)
            if abs(lat) <= 90.0 and abs(lon) <= 180.0:
                o.lat, o.lon = lat, lon
        elif f == 6:  # I062/100, 0.5 m
            o.x_m = signed(uint_be(data, p, 3), 24) * 0.5
            o.y_m = signed(uint_be(data, p + 3, 3), 24) * 0.5
        elif f == 7:  # I062/185, 0.25 m/s
            o.vx_mps = signed(uint_be(data, p, 2), 16) * 0.25
            o.vy_mps = signed(uint_be(data, p + 2, 2), 16) * 0.25
        elif f == 9:  # I062/060
            code = uint_be(data, p, 2) & 0x0FFF
            o.squawk = squawk_of(code)
        elif f == 10:  # I062/245: STI (2 bits), spare, then eight 6-bit characters
            bits = uint_be(data, p + 1, 6)
            for c in range(8):
                callsigns[row, c] = ia5[(bits >> (42 - 6 * c)) & 0x3F]
        elif f == 11:  # I062/380: ADR is the first subfield
            if data[p] & 0x80:
                q = p + 1
                while data[q - 1] & 1:  # the rest of the primary subfield
                    q += 1
                o.icao24 = uint_be(data, q, 3)
        elif f == 12:  # I062/040
            o.track_number = uint_be(data, p, 2)
        elif f == 13:  # I062/080, first part
            o.status = data[p] & 0xFE
        elif f == 17:  # I062/136, 1/4 FL
            o.fl = signed(uint_be(data, p, 2), 16) / 4.0
        elif f == 18:  # I062/130, 6.25 ft
            o.alt_geo_ft = signed(uint_be(data, p, 2), 16) * 6.25
        elif f == 19:  # I062/135: QNH bit, then 1/4 FL on 15 bits
            o.alt_baro_ft = signed(uint_be(data, p, 2) & 0x7FFF, 15) * 25.0
        elif f == 20:  # I062/220, 6.25 ft/min
            o.vertical_rate_fpm = signed(uint_be(data, p, 2), 16) * 6.25


def decode_system_tracks(data: npt.NDArray[np.uint8],
                         framed: Records) -> npt.NDArray[np.void]:
    """One SYSTEM_TRACK_DTYPE row per CAT062 record of ``framed`` (framed over ``data``)."""
    rows = category_rows(framed, 62)
    n = len(rows.records)
    out = np.zeros(n, SYSTEM_TRACK_DTYPE)
    out["record"] = rows.records
    for name in _FLOATS:
        out[name] = np.nan
    out["squawk"], out["icao24"], out["track_number"] = NO_SQUAWK, NO_ADDRESS, -1
    callsigns = np.full((n, 8), ord(" "), np.uint8)
    _decode(data, rows.item_record, rows.item_frn, rows.item_offset, rows.row_of_record,
            out, callsigns, IA5_6BIT)
    out["callsign"] = callsign_column(callsigns, rows, 10)
    return out
