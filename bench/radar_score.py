"""Scoring of ``bench_radar.py``, applied identically to both trackers.

At each evaluation time the confirmed tracks (estimates) are assigned to the truth (the
aircraft some radar detected in the last two scans) by ``linear_sum_assignment`` on the
horizontal distance capped at ``c`` (2 km), measured in the local plane of each truth;
pairs at ``c`` or more are not assigned.  From that one assignment:

* position RMSE over the assigned pairs;
* OSPA (``p = 1``, cut-off ``c``): ``(sum of capped distances + c |m - n|) / max(m, n)``,
  averaged over the evaluation times;
* track breaks: per truth, each change of the track id assigned to it after it was
  first tracked (a swap from one evaluation to the next, or re-acquisition by another
  id after evaluations without a track);
* false tracks: distinct track ids assigned to no truth in at least 80 % of the
  evaluation times at which they were shown.

Each truth comes with a *kind* (an int the caller chooses), so errors and breaks can be
split by kind for diagnostics.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from skyshare.fusion.geo import scales

F8 = npt.NDArray[np.float64]
I8 = npt.NDArray[np.int64]
FALSE_SHARE = 0.8


@dataclass(frozen=True)
class Picture:
    """Positions at one time: ids and WGS-84 lat/lon (deg)."""

    ids: I8
    lat: F8
    lon: F8

    def __len__(self) -> int:
        return len(self.ids)


def distances(truth: Picture, est: Picture) -> F8:
    """(n_truth, n_est) horizontal distances (m) in each truth's local plane."""
    sn_se = np.array([scales(float(a)) for a in truth.lat]).reshape(-1, 2)
    dn = (est.lat[None, :] - truth.lat[:, None]) * sn_se[:, :1]
    de = ((est.lon[None, :] - truth.lon[:, None] + 180.0) % 360.0 - 180.0) * sn_se[:, 1:]
    out: F8 = np.hypot(de, dn)
    return out


@dataclass
class Scorer:
    cutoff_m: float = 2000.0
    errors: dict[tuple[int, int], tuple[float, int]] = field(default_factory=dict)
    """(evaluation, truth id) -> (distance m, kind), assigned pairs only."""
    breaks: list[tuple[int, int, int, bool]] = field(default_factory=list)
    """(evaluation, truth id, kind, True: a swap / False: after a gap)."""
    ospa: list[float] = field(default_factory=list)
    _last: dict[int, int] = field(default_factory=dict)  # truth -> last track id
    _held_before: set[int] = field(default_factory=set)  # truths tracked last time
    _shown: Counter[int] = field(default_factory=Counter)
    _unassigned: Counter[int] = field(default_factory=Counter)
    _truths: int = 0

    def add(self, truth: Picture, kind: I8, est: Picture) -> None:
        """One evaluation time; ``kind[i]``: the kind of truth ``i``."""
        c, ti = self.cutoff_m, len(self.ospa)
        m, n = len(est), len(truth)
        self._truths += n
        self._shown.update(est.ids.tolist())
        if m == 0 or n == 0:
            self.ospa.append(0.0 if m == n else c)
            self._unassigned.update(est.ids.tolist())
            self._held_before = set()
            return
        d = distances(truth, est)
        capped = np.minimum(d, c)
        rows, cols = linear_sum_assignment(capped)
        self.ospa.append(float(capped[rows, cols].sum() + c * abs(m - n)) / max(m, n))
        ok = d[rows, cols] < c
        rows, cols = rows[ok], cols[ok]
        unassigned = np.ones(m, bool)
        unassigned[cols] = False
        self._unassigned.update(est.ids[unassigned].tolist())
        held = set()
        for r, col in zip(rows.tolist(), cols.tolist(), strict=True):
            who, track, k = int(truth.ids[r]), int(est.ids[col]), int(kind[r])
            self.errors[(ti, who)] = (float(d[r, col]), k)
            last = self._last.get(who)
            if last is not None and last != track:
                self.breaks.append((ti, who, k, who in self._held_before))
            self._last[who] = track
            held.add(who)
        self._held_before = held

    def rmse(self, kinds: tuple[int, ...] | None = None,
             pairs: set[tuple[int, int]] | None = None) -> float:
        """RMSE (m) over the assigned pairs, of ``kinds`` and within ``pairs`` if given."""
        e = np.array([d for key, (d, k) in self.errors.items()
                      if (kinds is None or k in kinds) and (pairs is None or key in pairs)])
        return math.sqrt(float(np.mean(e * e))) if len(e) else math.nan

    def median(self) -> float:
        return float(np.median([d for d, _ in self.errors.values()])) if self.errors else math.nan

    def false_tracks(self) -> int:
        return sum(1 for i, k in self._shown.items() if self._unassigned[i] >= FALSE_SHARE * k)

    def track_ids(self) -> int:
        return len(self._shown)

    def covered(self) -> float:
        return len(self.errors) / self._truths if self._truths else math.nan

    def mean_ospa(self) -> float:
        return float(np.mean(self.ospa)) if self.ospa else math.nan
