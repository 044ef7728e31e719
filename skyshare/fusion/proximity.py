"""Points near a point: a coarse latitude/longitude grid for gated nearest-neighbour search.

Track-to-track association by position (:mod:`skyshare.fusion.partner_assoc`) asks, for
each of up to ~20,000 tracks, which of ~20,000 others lies nearest within a gate of a
few km; comparing every pair would be 4e8 distances.  Points go instead into cells of
``cell_m`` metres or more on a side, so whatever lies within ``cell_m`` of a point is in
the 3 x 3 block of cells around it.

The grid is a stack of latitude bands ``cell_deg`` high, each cut into as many
longitude cells as keep every cell at least ``cell_m`` wide *one band further towards
the pole* than the band itself.  That margin makes the 3 x 3 block valid from the
neighbouring bands too (a point in the band above or below never sits further
poleward than that), whatever latitude scale the caller measures distances with, and
the cells wrap at the 180th meridian.  Near the poles a band has 1-3 cells and all of
them are searched.

Cells live in an open-addressing hash from ``band << 32 | cell`` to the cell's first
point, and a cell's points are chained through ``nxt``: points can be added one at a
time while searching (the clustering of anonymous partner tracks adds each new
cluster head as it goes), and an empty grid costs only its arrays.
"""

from __future__ import annotations

import functools
import math
from typing import Final, NamedTuple

import numba as nb
import numpy as np
import numpy.typing as npt

from skyshare.fusion.keymap import map_capacity

# Conservative metres per degree: fewer than the least the WGS84 ellipsoid gives
# (110,574 m per degree of latitude at the equator, 111,319 m x cos(lat) of longitude),
# so cells computed with them are always at least ``cell_m`` wide.
_M_PER_DEG_LAT_MIN: Final = 110_000.0
_M_PER_DEG_LON_EQ_MIN: Final = 111_000.0
_GOLDEN: Final = np.uint64(0x9E3779B97F4A7C15)
MAX_NEIGHBOUR_CELLS: Final = 6
_CELL_STEP_M: Final = 1000.0  # cells are a whole number of km (at least twice the radius)
_FREE: Final = -1  # key of a free hash entry


class Grid(NamedTuple):
    """A grid of points (by index into the caller's arrays), as the kernels receive it."""

    cell_m: float
    cell_deg: float  # latitude band height
    band_cells: npt.NDArray[np.int64]  # longitude cells of each band
    cells: npt.NDArray[np.int64]  # (size, 2) hash of (cell key (-1: free), first point)
    nxt: npt.NDArray[np.int64]  # next point in the same cell (-1: last)


def new_grid(capacity: int, radius_m: float) -> Grid:
    """An empty grid for up to ``capacity`` points and search radii up to ``radius_m``."""
    if not (math.isfinite(radius_m) and radius_m > 0):
        raise ValueError(f"search radius must be a positive number of metres, not {radius_m!r}")
    cell_m = _CELL_STEP_M * math.ceil(2.0 * radius_m / _CELL_STEP_M)  # few sizes: cached
    size = map_capacity(max(capacity, 1))
    cell_deg = min(cell_m / _M_PER_DEG_LAT_MIN, 180.0)
    return Grid(float(cell_m), float(cell_deg), _band_cells(cell_m, cell_deg),
                np.full((size, 2), _FREE, np.int64), np.full(max(capacity, 1), -1, np.int64))


@functools.lru_cache(maxsize=16)  # a node asks for the same few radii at every merge
def _band_cells(cell_m: float, cell_deg: float) -> npt.NDArray[np.int64]:
    """Longitude cells of each band: each >= cell_m wide one band further poleward
    (read-only: shared by every grid of these dimensions)."""
    lo = -90.0 + np.arange(int(180.0 / cell_deg) + 1) * cell_deg
    edge = np.minimum(np.maximum(np.abs(lo), np.abs(lo + cell_deg)) + cell_deg, 90.0)
    width_m = 360.0 * _M_PER_DEG_LON_EQ_MIN * np.cos(np.radians(edge))
    cells: npt.NDArray[np.int64] = np.maximum(1, (width_m / cell_m).astype(np.int64))
    cells.flags.writeable = False
    return cells


@nb.njit(cache=True, nogil=True, inline="always")
def _band(grid: Grid, lat: float) -> tuple[int, bool]:
    """The band of ``lat`` and whether ``lat`` lies in its upper half."""
    x = (min(max(lat, -90.0), 90.0) + 90.0) / grid.cell_deg
    b = min(int(x), len(grid.band_cells) - 1)
    return b, x - b >= 0.5


@nb.njit(cache=True, nogil=True, inline="always")
def _lon_cell(lon: float, n: int) -> tuple[int, bool]:
    """The cell of ``lon`` among ``n`` and whether ``lon`` lies in its eastern half."""
    x = (lon + 180.0) / 360.0
    x = (x - math.floor(x)) * n  # wrapped into [0, n)
    c = min(int(x), n - 1)
    return c, x - c >= 0.5


@nb.njit(cache=True, nogil=True, inline="always")
def _slot(cells: npt.NDArray[np.int64], key: int) -> int:
    """Index of ``key`` in the hash, or of the free entry where it would go."""
    mask = len(cells) - 1
    i = int((np.uint64(key) * _GOLDEN) >> np.uint64(32)) & mask
    while cells[i, 0] != key and cells[i, 0] != _FREE:
        i = (i + 1) & mask
    return i


@nb.njit(cache=True, nogil=True, inline="always")
def _cell_key(band: int, cell: int) -> int:
    return (band << 32) | cell


@nb.njit(cache=True, nogil=True, inline="always")
def add(grid: Grid, point: int, lat: float, lon: float) -> None:
    """Put ``point`` (an index < capacity, added once) at ``lat, lon`` (finite)."""
    band = _band(grid, lat)[0]
    key = _cell_key(band, _lon_cell(lon, grid.band_cells[band])[0])
    i = _slot(grid.cells, key)
    if grid.cells[i, 0] == _FREE:
        grid.cells[i, 0] = key
        grid.cells[i, 1] = -1
    grid.nxt[point] = grid.cells[i, 1]
    grid.cells[i, 1] = point


@nb.njit(cache=True, nogil=True, inline="always")
def neighbour_heads(grid: Grid, lat: float, lon: float, out: npt.NDArray[np.int64]) -> int:
    """First points of the (up to 6) cells that can hold points within the radius.

    Cells are twice the radius across, so only the two bands and, in each, the two
    cells on the side of the point's half of its cell can (all cells of a band of
    three or fewer).  Writes them to ``out`` (length >= MAX_NEIGHBOUR_CELLS) and returns
    how many; walk each chain with ``grid.nxt`` until -1.
    """
    n_out = 0
    b0, upper = _band(grid, lat)
    b1 = b0 + 1 if upper else b0 - 1
    for band in (b0, b1):
        if band < 0 or band >= len(grid.band_cells):
            continue
        n = grid.band_cells[band]
        c0, east = _lon_cell(lon, n)
        c1 = (c0 + 1 if east else c0 - 1 + n) % n
        count = n if n <= 3 else 2
        for k in range(count):
            cell = k if n <= 3 else (c0 if k == 0 else c1)
            i = _slot(grid.cells, _cell_key(band, cell))
            if grid.cells[i, 0] != _FREE:
                out[n_out] = grid.cells[i, 1]
                n_out += 1
    return n_out


def fill_grid(grid: Grid, lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64],
              points: npt.NDArray[np.int64]) -> None:
    """Add ``points`` (indices into ``lat``/``lon``, finite positions) to ``grid``."""
    _fill(grid, lat, lon, points)


@nb.njit(cache=True, nogil=True)
def _fill(grid: Grid, lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64],
          points: npt.NDArray[np.int64]) -> None:
    for p in points:
        add(grid, p, lat[p], lon[p])
