"""CAT034 written from columns: the service messages a radar sends beside its plots
(north markers, sector crossings, its rotation period and position).

:func:`encode_service` turns :data:`~.cat034.SERVICE_DTYPE` rows into data blocks of at
most ``max_block`` bytes (one UDP datagram each).  CAT034 carries a few messages a
second, so the records are built with plain numpy, column by column: every item's
bytes side by side in one matrix, a mask of the items present, and the records are
the masked bytes row after row.

Items written (FRN in the CAT034 UAP): I034/010 data source (1, always), I034/000
message type (2, unless 0), I034/030 time of day (3, 1/128 s), I034/020 sector azimuth
(4, 360/2^8 deg), I034/041 antenna rotation period (5, 1/128 s) and I034/120 3D position
of the data source (11: height in m, latitude and longitude in 180/2^23 deg; written
only when all three are known).  A NaN column leaves its item out.  Values are rounded
to the items' resolutions; a rotation period or height the item cannot hold is
clipped; a longitude of +180 deg is written as -180 deg (the same meridian).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from skyshare.decode.asterix.write048 import MAX_BLOCK

__all__ = ["encode_service"]

CATEGORY: Final = 34
_HEADER: Final = 3  # CAT, LEN
_LAT_LON_SCALE: Final = float(1 << 23) / 180.0
# (FSPEC byte, bit) of each item, in record order; FRN 1-5 in the first byte, 11 in the second
_ITEMS: Final = (("010", 2, 0, 0x80), ("000", 1, 0, 0x40), ("030", 3, 0, 0x20),
                 ("020", 1, 0, 0x10), ("041", 2, 0, 0x08), ("120", 8, 1, 0x10))
_RECORD_MAX: Final = 2 + sum(width for _, width, _, _ in _ITEMS)
U8 = npt.NDArray[np.uint8]


def _big_endian(values: npt.NDArray[np.int64], width: int) -> U8:
    """The low ``width`` bytes of each value, most significant first: shape (n, width)."""
    v = values.astype(np.uint64)
    shifts = np.arange(width - 1, -1, -1, dtype=np.uint64) * np.uint64(8)
    return ((v[:, None] >> shifts) & np.uint64(0xFF)).astype(np.uint8)


def _scaled(column: npt.NDArray[np.float64], scale: float) -> npt.NDArray[np.int64]:
    """``column * scale`` rounded to integers (0 where the column is NaN)."""
    finite = np.isfinite(column)
    return np.rint(np.where(finite, column, 0.0) * scale).astype(np.int64)


def _items(rows: npt.NDArray[np.void]) -> list[tuple[npt.NDArray[np.bool_], U8]]:
    """(present, bytes) of every item of :data:`_ITEMS`, in that order."""
    n = len(rows)
    msg = rows["message_type"].astype(np.int64)
    i010 = np.stack([rows["sac"].astype(np.uint8), rows["sic"].astype(np.uint8)], axis=1)
    tod = rows["tod"].astype(np.float64)
    sector = rows["sector_deg"].astype(np.float64)
    rotation = rows["rotation_s"].astype(np.float64)
    lat, lon = rows["lat"].astype(np.float64), rows["lon"].astype(np.float64)
    height = rows["height_m"].astype(np.float64)
    wrapped_lon = (_scaled(lon, _LAT_LON_SCALE) + (1 << 23)) % (1 << 24) - (1 << 23)
    i120 = np.hstack([
        _big_endian(np.clip(_scaled(height, 1.0), -(1 << 15), (1 << 15) - 1) & 0xFFFF, 2),
        _big_endian(np.clip(_scaled(lat, _LAT_LON_SCALE), -(1 << 23), (1 << 23) - 1)
                    & 0xFFFFFF, 3),
        _big_endian(wrapped_lon & 0xFFFFFF, 3)])
    return [
        (np.ones(n, np.bool_), i010),
        (msg != 0, _big_endian(msg & 0xFF, 1)),
        (np.isfinite(tod), _big_endian(_scaled(tod, 128.0) % (1 << 24), 3)),
        (np.isfinite(sector), _big_endian(_scaled(sector, 256.0 / 360.0) % 256, 1)),
        (np.isfinite(rotation), _big_endian(np.clip(_scaled(rotation, 128.0), 0, 0xFFFF), 2)),
        (np.isfinite(lat) & np.isfinite(lon) & np.isfinite(height), i120),
    ]


def encode_service(rows: npt.NDArray[np.void], max_block: int = MAX_BLOCK) -> list[bytes]:
    """CAT034 data blocks of ``rows`` (SERVICE_DTYPE), in row order, each at most
    ``max_block`` bytes."""
    if max_block < _HEADER + _RECORD_MAX:
        raise ValueError(f"max_block must be at least {_HEADER + _RECORD_MAX} bytes, "
                         f"not {max_block}")
    n = len(rows)
    if n == 0:
        return []
    items = _items(rows)
    fspec = np.zeros((n, 2), np.uint8)
    for (present, _), (_, _, byte, bit) in zip(items, _ITEMS, strict=True):
        fspec[present, byte] |= bit
    second = fspec[:, 1] != 0
    fspec[second, 0] |= 1  # FX: a second FSPEC byte follows
    matrix = np.hstack([fspec] + [b for _, b in items])
    mask = np.hstack([np.ones((n, 1), np.bool_), second[:, None]]
                     + [np.repeat(p[:, None], b.shape[1], axis=1) for p, b in items])
    lengths = mask.sum(axis=1)
    ends = np.cumsum(lengths)
    data = matrix[mask]  # the records back to back (row-major: record by record)
    per_block = (max_block - _HEADER) // _RECORD_MAX
    blocks = []
    for first in range(0, n, per_block):
        last = min(first + per_block, n)
        body = data[ends[first] - lengths[first]:ends[last - 1]].tobytes()
        size = _HEADER + len(body)
        blocks.append(bytes([CATEGORY, size >> 8, size & 0xFF]) + body)
    return blocks
