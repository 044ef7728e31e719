"""GNN assignment against exhaustive search."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skyshare.fusion.assign import gnn, hungarian


def best_by_search(mask: np.ndarray, cost: np.ndarray) -> tuple[int, float]:
    """(pairs used, total cost) of the best assignment: most pairs, then least cost."""
    n_plots, n_tracks = mask.shape
    best = (0, 0.0)
    for choice in itertools.product(range(-1, n_tracks), repeat=n_plots):
        used = [t for t in choice if t >= 0]
        if len(used) != len(set(used)):
            continue
        if any(t >= 0 and not mask[i, t] for i, t in enumerate(choice)):
            continue
        total = sum(cost[i, t] for i, t in enumerate(choice) if t >= 0)
        if len(used) > best[0] or (len(used) == best[0] and total < best[1]):
            best = (len(used), total)
    return best


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 5), st.integers(1, 5), st.integers(0, 2**32 - 1))
def test_gnn_is_the_best_assignment(n_plots: int, n_tracks: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    mask = rng.random((n_plots, n_tracks)) < 0.5
    cost = rng.random((n_plots, n_tracks)) * 10
    plots, tracks = np.nonzero(mask)
    got = np.empty(n_plots, np.int64)
    gnn(plots.astype(np.int64), tracks.astype(np.int64), cost[plots, tracks], n_plots,
        n_tracks, got)
    used = got[got >= 0]
    assert len(used) == len(set(used.tolist()))
    assert all(mask[i, t] for i, t in enumerate(got) if t >= 0)
    count, total = best_by_search(mask, cost)
    assert len(used) == count
    assert abs(sum(cost[i, t] for i, t in enumerate(got) if t >= 0) - total) < 1e-9


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 6), st.integers(0, 3), st.integers(0, 2**32 - 1))
def test_hungarian_minimises_the_total(n: int, extra: int, seed: int) -> None:
    cost = np.random.default_rng(seed).random((n, n + extra))
    got = np.empty(n, np.int64)
    hungarian(cost, got)
    assert len(set(got.tolist())) == n
    best = min(sum(cost[i, c] for i, c in enumerate(cols))
               for cols in itertools.permutations(range(n + extra), n))
    assert abs(cost[np.arange(n), got].sum() - best) < 1e-9
