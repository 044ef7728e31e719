"""Spatial look-ups for many tracks at once: a grid of bounding boxes for candidate pairs,
and the compiled kernel that finds where straight paths cross polygon edges.

The numba kernels compile (or load from numba's cache) on their first call, not on
import."""

from __future__ import annotations

import numba as nb
import numpy as np
import numpy.typing as npt
import shapely

from skyshare.airspace.common import BoolArray, FloatArray, IntArray


def _expand(starts: IntArray, counts: IntArray) -> tuple[IntArray, IntArray]:
    """(owner i, value) for each value in range(starts[i], starts[i] + counts[i])."""
    owner = np.repeat(np.arange(len(counts), dtype=np.intp), counts)
    first = np.cumsum(counts) - counts
    return owner, np.arange(len(owner), dtype=np.intp) - np.repeat(first - starts, counts)


class _BoxGrid:
    """Bounding boxes binned on a uniform lon/lat grid: candidate pairs in numpy.

    Measured faster than a shapely STRtree here because the queries (20,000 points or
    segments per update) need no GEOS geometry to be built."""

    def __init__(self, bounds: FloatArray) -> None:
        b = bounds.reshape(-1, 4)
        self.x0, self.y0, self.x1, self.y1 = (np.ascontiguousarray(b[:, k]) for k in range(4))
        self.usable = np.flatnonzero(np.isfinite(b).all(axis=1))  # empty geometries: NaN
        b = b[self.usable]
        self.cell, self.ox, self.oy, self.nx, self.ny = 1.0, 0.0, 0.0, 1, 1
        self.start = self.count = np.zeros(1, np.intp)
        self.boxes = np.zeros(0, np.intp)
        if len(b) == 0:
            return
        side = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
        self.cell = max(float(np.median(side)), 1e-3)
        self.ox, self.oy = float(b[:, 0].min()), float(b[:, 1].min())
        while True:
            self.nx = int((b[:, 2].max() - self.ox) // self.cell) + 1
            self.ny = int((b[:, 3].max() - self.oy) // self.cell) + 1
            if self.nx * self.ny <= 1 << 20:
                break
            self.cell *= 2.0
        box, cells, _ = self._cells(b[:, 0], b[:, 1], b[:, 2], b[:, 3], limit=1 << 62)
        order = np.argsort(cells, kind="stable")
        self.boxes = self.usable[box[order]]
        self.count = np.bincount(cells, minlength=self.nx * self.ny).astype(np.intp)
        self.start = np.cumsum(self.count) - self.count

    def _ix(self, x: FloatArray, y: FloatArray) -> tuple[IntArray, IntArray]:
        with np.errstate(over="ignore"):  # absurd coordinates land in the edge cells
            ix = np.clip(np.floor((x - self.ox) / self.cell), 0, self.nx - 1).astype(np.intp)
            iy = np.clip(np.floor((y - self.oy) / self.cell), 0, self.ny - 1).astype(np.intp)
        return ix, iy

    def _cells(self, x0: FloatArray, y0: FloatArray, x1: FloatArray, y1: FloatArray,
               limit: int) -> tuple[IntArray, IntArray, BoolArray]:
        """(box, cell id) for every cell each box touches, and which boxes were left out
        for touching more than ``limit`` cells."""
        ix0, iy0 = self._ix(x0, y0)
        ix1, iy1 = self._ix(x1, y1)
        wide = ix1 - ix0 + 1
        n = wide * (iy1 - iy0 + 1)
        over = n > limit
        row, k = _expand(np.zeros(len(x0), np.intp), np.where(over, 0, n))
        return row, (iy0[row] + k // wide[row]) * self.nx + ix0[row] + k % wide[row], over

    def _overlap(self, qi: IntArray, bi: IntArray, x0: FloatArray, y0: FloatArray,
                 x1: FloatArray, y1: FloatArray) -> BoolArray:
        return ((x0[qi] <= self.x1[bi]) & (self.x0[bi] <= x1[qi]) & (y0[qi] <= self.y1[bi])
                & (self.y0[bi] <= y1[qi]))

    def query(self, x0: FloatArray, y0: FloatArray, x1: FloatArray,
              y1: FloatArray) -> tuple[IntArray, IntArray]:
        """(query, box) of every query box [x0, x1] x [y0, y1] overlapping a box, each pair
        once: it is kept only in the cell holding its overlap's lower corner.  A query
        with a NaN matches nothing; one over more than 64 cells (a bogus speed) is
        compared with every box instead."""
        rows = np.flatnonzero(~(np.isnan(x0) | np.isnan(y0) | np.isnan(x1) | np.isnan(y1)))
        x0, y0, x1, y1 = x0[rows], y0[rows], x1[rows], y1[rows]
        row, cell, over = self._cells(x0, y0, x1, y1, limit=64)
        hit, k = _expand(self.start[cell], self.count[cell])
        bi, cell, qi = self.boxes[k], cell[hit], row[hit]
        cx, cy = self._ix(np.maximum(x0[qi], self.x0[bi]), np.maximum(y0[qi], self.y0[bi]))
        keep = (cy * self.nx + cx == cell) & self._overlap(qi, bi, x0, y0, x1, y1)
        qi, bi = qi[keep], bi[keep]
        huge = np.flatnonzero(over)
        if len(huge) and len(self.usable):
            qh, bh = _expand(np.zeros(len(huge), np.intp), np.full(len(huge), len(self.usable)))
            qh, bh = huge[qh], self.usable[bh]
            keep = self._overlap(qh, bh, x0, y0, x1, y1)
            qi, bi = np.r_[qi, qh[keep]], np.r_[bi, bh[keep]]
        return rows[qi], bi


def _edge_table(geoms: npt.NDArray[np.object_]) -> tuple[FloatArray, IntArray, IntArray]:
    """Every ring edge (ax, ay, bx, by) of every geometry, grouped by geometry: (edges,
    first edge, edge count) per geometry."""
    parts, part_owner = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    same = ring[1:] == ring[:-1]
    edges = np.hstack([coords[:-1][same], coords[1:][same]]).astype(np.float64)
    owner = np.asarray(part_owner, np.intp)[np.asarray(ring_part, np.intp)[ring[:-1][same]]]
    count = np.bincount(owner, minlength=len(geoms)).astype(np.intp)
    return edges, np.cumsum(count) - count, count


@nb.njit(cache=True, nogil=True)
def _crossing(px: float, py: float, dx: float, dy: float, edge: FloatArray) -> float:
    """Fraction s in [0, 1] of the path p + s * d where it crosses ``edge`` (ax, ay, bx, by),
    or -1.  The edge is half-open (its end excluded) so a vertex is crossed once."""
    ax, ay, bx, by = edge[0], edge[1], edge[2], edge[3]
    if (max(px, px + dx) < min(ax, bx) or min(px, px + dx) > max(ax, bx)
            or max(py, py + dy) < min(ay, by) or min(py, py + dy) > max(ay, by)):
        return -1.0
    ex, ey, wx, wy = bx - ax, by - ay, ax - px, ay - py
    den = dx * ey - dy * ex
    if den == 0.0:
        return -1.0  # parallel (a collinear overlap is not a crossing)
    s, u = (wx * ey - wy * ex) / den, (wx * dy - wy * dx) / den
    return s if 0.0 <= s <= 1.0 and 0.0 <= u < 1.0 else -1.0


@nb.njit(cache=True, nogil=True)
def _crossings(px: FloatArray, py: FloatArray, dx: FloatArray, dy: FloatArray,
               first: IntArray, count: IntArray, edges: FloatArray) -> tuple[IntArray, FloatArray]:
    """(pair, s) of every crossing of pair i's path with the edges first[i] ... of its
    polygon (a compiled loop: a numpy version spent 15 ms expanding 200,000 pair-edges)."""
    n = 0
    for i in range(len(px)):
        for e in range(first[i], first[i] + count[i]):
            n += _crossing(px[i], py[i], dx[i], dy[i], edges[e]) >= 0.0
    pair, frac = np.empty(n, np.intp), np.empty(n, np.float64)
    n = 0
    for i in range(len(px)):
        for e in range(first[i], first[i] + count[i]):
            s = _crossing(px[i], py[i], dx[i], dy[i], edges[e])
            if s >= 0.0:
                pair[n], frac[n] = i, s
                n += 1
    return pair, frac
