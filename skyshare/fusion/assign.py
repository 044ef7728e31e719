"""Global nearest neighbour (GNN) assignment of measurements to tracks, in numba.

The gated pairs of a frame form a sparse bipartite graph; it splits into clusters
(connected components), nearly all of one plot and one track.  Each cluster is solved
exactly by the Hungarian method (Kuhn-Munkres with potentials, O(n^3) on the cluster):
the assignment that uses as many pairs as possible at the least total cost, every
plot to at most one track and every track to at most one plot.  Pairs outside the gate
are never assigned.
"""

from __future__ import annotations

import math
from typing import Final

import numba as nb
import numpy as np
import numpy.typing as npt

I8 = npt.NDArray[np.int64]
F8 = npt.NDArray[np.float64]
FORBIDDEN: Final = 1e12  # cost of a pair outside the gate inside a cluster's matrix


@nb.njit(cache=True, nogil=True)
def _find(parent: I8, i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@nb.njit(cache=True, nogil=True)
def hungarian(cost: F8, out: I8) -> None:
    """Minimum-cost assignment of the rows of ``cost`` (n x m, n <= m) to distinct
    columns: ``out[row]`` = column.  Potentials method (e-maxx), O(n^2 m)."""
    n, m = cost.shape
    u = np.zeros(n + 1)
    v = np.zeros(m + 1)
    p = np.zeros(m + 1, np.int64)  # p[col] = row (1-based) assigned to col
    way = np.zeros(m + 1, np.int64)
    minv = np.empty(m + 1)
    used = np.empty(m + 1, np.bool_)
    for i in range(1, n + 1):
        p[0] = i
        j0 = 0
        minv[:] = math.inf
        used[:] = False
        while True:
            used[j0] = True
            i0 = p[j0]
            delta = math.inf
            j1 = 0
            for j in range(1, m + 1):
                if not used[j]:
                    cur = cost[i0 - 1, j - 1] - u[i0] - v[j]
                    if cur < minv[j]:
                        minv[j] = cur
                        way[j] = j0
                    if minv[j] < delta:
                        delta = minv[j]
                        j1 = j
            for j in range(m + 1):
                if used[j]:
                    u[p[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if p[j0] == 0:
                break
        while True:
            j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
            if j0 == 0:
                break
    for j in range(1, m + 1):
        if p[j] > 0:
            out[p[j] - 1] = j - 1


@nb.njit(cache=True, nogil=True)
def gnn(pair_plot: I8, pair_track: I8, pair_cost: F8, n_plots: int, n_tracks: int,
        plot_track: I8) -> None:
    """``plot_track[i]``: the track (index) assigned to plot ``i`` (-1: none) among the
    gated pairs ``(pair_plot, pair_track, pair_cost)``."""
    plot_track[:n_plots] = -1
    n_pairs = len(pair_plot)
    if n_pairs == 0:
        return
    parent = np.arange(n_plots + n_tracks)
    for k in range(n_pairs):  # clusters: union of each pair's plot and track
        a = _find(parent, pair_plot[k])
        b = _find(parent, n_plots + pair_track[k])
        if a != b:
            parent[a] = b
    root = np.empty(n_pairs, np.int64)
    for k in range(n_pairs):
        root[k] = _find(parent, pair_plot[k])
    order = np.argsort(root, kind="mergesort")
    plot_local = np.full(n_plots, -1, np.int64)
    track_local = np.full(n_tracks, -1, np.int64)
    start = 0
    while start < n_pairs:
        end = start
        while end < n_pairs and root[order[end]] == root[order[start]]:
            end += 1
        if end - start == 1:  # a lone pair: nothing competes
            k = order[start]
            plot_track[pair_plot[k]] = pair_track[k]
            start = end
            continue
        plots = np.empty(end - start, np.int64)
        tracks = np.empty(end - start, np.int64)
        n_p = n_t = 0
        for e in range(start, end):
            k = order[e]
            if plot_local[pair_plot[k]] < 0:
                plot_local[pair_plot[k]] = n_p
                plots[n_p] = pair_plot[k]
                n_p += 1
            if track_local[pair_track[k]] < 0:
                track_local[pair_track[k]] = n_t
                tracks[n_t] = pair_track[k]
                n_t += 1
        transpose = n_p > n_t  # the method wants rows <= columns
        rows, cols = (n_t, n_p) if transpose else (n_p, n_t)
        cost = np.full((rows, cols), FORBIDDEN)
        for e in range(start, end):
            k = order[e]
            i, j = plot_local[pair_plot[k]], track_local[pair_track[k]]
            if transpose:
                cost[j, i] = pair_cost[k]
            else:
                cost[i, j] = pair_cost[k]
        out = np.empty(rows, np.int64)
        hungarian(cost, out)
        for r in range(rows):
            c = out[r]
            if cost[r, c] >= FORBIDDEN:
                continue
            if transpose:
                plot_track[plots[c]] = tracks[r]
            else:
                plot_track[plots[r]] = tracks[c]
        for i in range(n_p):
            plot_local[plots[i]] = -1
        for j in range(n_t):
            track_local[tracks[j]] = -1
        start = end
