"""CAT034 radar service messages as columns: north markers, sector crossings, the
antenna's rotation period and the radar's position.

One row of :data:`SERVICE_DTYPE` per CAT034 record framed by :mod:`.records`, filled
by one compiled pass over the items.  Items read: I034/010 data source (SAC, SIC),
I034/000 message type (1 north marker, 2 sector crossing, 3 geographical filtering,
4 jamming strobe), I034/030 time of day, I034/020 sector azimuth, I034/041 antenna
rotation period, I034/120 3D position of the data source (WGS-84 latitude, longitude,
height).  The rest (system configuration and processing modes, counters, windows)
stay framed, unread.
"""

from __future__ import annotations

from typing import Final

import numba as nb
import numpy as np
import numpy.typing as npt

from skyshare.decode.asterix.records import Records, category_rows, signed, uint_be

NORTH_MARKER, SECTOR_CROSSING = 1, 2
SERVICE_DTYPE: Final = np.dtype([
    ("record", "<i4"),  # row of Records.records
    ("sac", "u1"), ("sic", "u1"),
    ("message_type", "u1"),  # I034/000; 0: absent
    ("tod", "<f8"),  # s since midnight UTC (I034/030); NaN
    ("sector_deg", "<f8"),  # I034/020, from north, clockwise; NaN
    ("rotation_s", "<f8"),  # I034/041 antenna rotation period; NaN
    ("lat", "<f8"), ("lon", "<f8"),  # I034/120, degrees WGS-84; NaN
    ("height_m", "<f8"),  # I034/120, above the WGS-84 ellipsoid; NaN
])


@nb.njit(cache=True, nogil=True)
def _decode(data: npt.NDArray[np.uint8], rec_of: npt.NDArray[np.int64],
            frn: npt.NDArray[np.int64], offset: npt.NDArray[np.int64],
            row_of_record: npt.NDArray[np.int64], out: npt.NDArray[np.void]) -> None:
    for k in range(len(frn)):
        row = row_of_record[rec_of[k]]
        if row < 0:
            continue
        o, p, f = out[row], offset[k], frn[k]
        if f == 1:  # I034/010
            o.sac, o.sic = data[p], data[p + 1]
        elif f == 2:  # I034/000
            o.message_type = data[p]
        elif f == 3:  # I034/030, 1/128 s
            o.tod = uint_be(data, p, 3) / 128.0
        elif f == 4:  # I034/020, 360/2^8 deg
            o.sector_deg = data[p] * (360.0 / 256.0)
        elif f == 5:  # I034/041, 1/128 s
            o.rotation_s = uint_be(data, p, 2) / 128.0
        elif f == 11:  # I034/120: height (m), lat, lon (180/2^23 deg, two's complement)
            o.height_m = signed(uint_be(data, p, 2), 16)
            o.lat = signed(uint_be(data, p + 2, 3), 24) * (180.0 / 8388608.0)
            o.lon = signed(uint_be(data, p + 5, 3), 24) * (180.0 / 8388608.0)


def decode_service(data: npt.NDArray[np.uint8], framed: Records) -> npt.NDArray[np.void]:
    """One SERVICE_DTYPE row per CAT034 record of ``framed`` (framed over ``data``)."""
    rows = category_rows(framed, 34)
    out = np.zeros(len(rows.records), SERVICE_DTYPE)
    out["record"] = rows.records
    for name in ("tod", "sector_deg", "rotation_s", "lat", "lon", "height_m"):
        out[name] = np.nan
    _decode(data, rows.item_record, rows.item_frn, rows.item_offset, rows.row_of_record, out)
    return out
