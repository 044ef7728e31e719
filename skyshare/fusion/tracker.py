"""The tracker: address-keyed system tracks from the reports of many receivers.

:class:`Tracker` owns the state (a :class:`~skyshare.fusion.state.TrackStore` and a
:class:`~skyshare.fusion.dedup.DedupTable`) and runs the compiled loop of
:mod:`skyshare.fusion.fuse` over each batch.  Not thread-safe: one caller at a time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from skyshare.config_fields import require_positive
from skyshare.errors import ConfigError
from skyshare.fusion.dedup import DedupTable
from skyshare.fusion.fuse import fuse
from skyshare.fusion.lifecycle import expire
from skyshare.fusion.measurements import KNOT
from skyshare.fusion.output import predict_rows
from skyshare.fusion.params import (
    COUNTER_NAMES,
    DELETED,
    POSITIONS_DROPPED,
    REPORTS,
    UPDATES,
    KernelParams,
)
from skyshare.fusion.state import LIVE, TrackStore
from skyshare.model import REPORT_DTYPE, TRACK_DTYPE, ReportBatch, TrackBatch, TrackFlag

__all__ = ["Tracker", "TrackerConfig"]


@dataclass(frozen=True)
class TrackerConfig:
    """Tracker settings (YAML ``tracker:`` section); every field has a working default."""

    dedup_window_s: float = 1.0
    """Copies of one transmission (same frame_hash) from other sensors within this: one."""
    confirm_messages: int = 2
    """Distinct messages before a track is CONFIRMED (shown); at least 2."""
    coast_after_s: float = 15.0
    """No position (or, without one, no message) for this long: COASTING."""
    delete_after_s: float = 60.0
    """No message for this long: deleted (airborne); a position this old is dropped."""
    delete_surface_after_s: float = 300.0
    """The same for tracks ON_GROUND (parked aircraft transmit seldom)."""
    max_speed_kt: float = 1000.0
    """Plausibility gate for airborne positions (and reported speeds)."""
    max_surface_speed_kt: float = 250.0
    """Plausibility gate for surface positions (take-off roll included)."""
    process_noise_mps2: float = 3.0
    """Horizontal white-noise acceleration, m/s^2 (density = value^2 per second)."""
    vertical_noise_fps2: float = 3.0
    """Vertical white-noise acceleration of the altitude filter, ft/s^2."""
    position_sigma_m: float = 50.0
    """1-sigma per axis of a position without NACp (radar x4, MLAT x2)."""
    velocity_sigma_mps: float = 2.0
    """1-sigma per axis of a velocity without NACv."""
    gate_sigmas: float = 5.0
    """Standard deviations allowed on top of max speed x time in the gates."""
    reinit_after_rejections: int = 3
    """Consecutive, mutually consistent rejected positions that restart the position."""

    def __post_init__(self) -> None:
        require_positive(self, "tracker")
        if self.confirm_messages < 2:
            raise ConfigError("a track needs at least 2 messages to be confirmed",
                              where="tracker.confirm_messages")

    def kernel_params(self) -> KernelParams:
        return KernelParams(
            dedup_window_s=float(self.dedup_window_s),
            confirm_messages=int(self.confirm_messages),
            coast_after_s=float(self.coast_after_s),
            delete_after_s=float(self.delete_after_s),
            delete_surface_after_s=float(self.delete_surface_after_s),
            max_speed_mps=self.max_speed_kt * KNOT,
            max_surface_speed_mps=self.max_surface_speed_kt * KNOT,
            q_horizontal=float(self.process_noise_mps2) ** 2,
            q_vertical=float(self.vertical_noise_fps2) ** 2,
            position_sigma_m=float(self.position_sigma_m),
            velocity_sigma_mps=float(self.velocity_sigma_mps),
            gate_sigmas=float(self.gate_sigmas),
            reinit_after=int(self.reinit_after_rejections),
        )


_CONFIRMED = np.uint16(TrackFlag.CONFIRMED)
FUTURE_TOLERANCE_S: Final = 3600.0  # report times later than the wall clock + this: garbage


class Tracker:
    """Fuses report batches into address-keyed system tracks.

    Policies (each in its stage module):

    * one measurement per transmission: copies with the same ``frame_hash`` from other
      sensors within ``dedup_window_s`` only add their sensor/source bits (dedup.py);
    * tracks are keyed by (address, EXERCISE, NON_ICAO): exercise reports never touch a
      real track; reports without an address are counted ("no-address") and ignored;
    * a track is tentative until ``confirm_messages`` distinct messages, then CONFIRMED;
      only confirmed tracks produce rows and appear in snapshots;
    * positions failing the speed gate are counted ("rejected-implausible") and leave
      the state alone; ``reinit_after_rejections`` consecutive rejected positions that
      agree with each other restart the position there ("tracks-reinitialised");
    * a report older than its track's last update only counts (messages, sensors,
      "out-of-order");
    * COASTING after ``coast_after_s`` without a position; positions and altitudes
      older than the deletion timeout are dropped; tracks are deleted after
      ``delete_after_s`` (``delete_surface_after_s`` when ON_GROUND) without a message,
      by :meth:`expire` or, for a stale track that is heard again, by :meth:`update`
      (a new track_id; ids increase and are never reused).
    """

    def __init__(self, config: TrackerConfig = TrackerConfig(), capacity: int = 4096) -> None:
        self.config = config
        self._params = config.kernel_params()
        self._store = TrackStore(capacity)
        self._dedup = DedupTable()
        self._stats = np.zeros(len(COUNTER_NAMES), np.int64)

    @property
    def counts(self) -> dict[str, int]:
        """Counters since start ("reports", "duplicates", "rejected-implausible", ...)."""
        return {name: int(v) for name, v in zip(COUNTER_NAMES, self._stats, strict=True)}

    @property
    def live_tracks(self) -> int:
        """Tracks in memory, tentative and confirmed."""
        return int(self._store.arrays.meta[LIVE])

    def update(self, reports: ReportBatch) -> TrackBatch:
        """Fuse ``reports``: one row per report that updated a CONFIRMED track.

        Rows are in time order (the order of ``reports`` when they are sorted), each the
        track as that report left it (``last_seen`` = the report's time).  Duplicate
        copies and out-of-order reports give no row.
        """
        if reports.dtype != REPORT_DTYPE:
            raise TypeError(f"expected REPORT_DTYPE reports, got {reports.dtype}")
        reports = _time_sorted(reports)
        n = len(reports)
        self._stats[REPORTS] += n
        out = np.empty(n, TRACK_DTYPE)
        callsigns = reports["callsign"].view(np.uint64)
        latest = time.time() + FUTURE_TOLERANCE_S
        start = n_out = 0
        while True:
            self._dedup.reserve(n - start)
            start, n_out = fuse(reports, callsigns, start, self._store.arrays,
                                self._dedup.arrays, self._params, out, n_out,
                                self._stats, latest)
            if start >= n:
                break
            self._store.grow()
        self._stats[UPDATES] += n_out
        return out[:n_out]

    def expire(self, now: float) -> npt.NDArray[np.uint32]:
        """Coast, drop stale positions and delete stale tracks at ``now``; deleted ids."""
        a = self._store.arrays
        deleted = np.zeros(int(a.meta[LIVE]), np.uint32)
        n_deleted, n_dropped = expire(a, float(now), self._params, deleted)
        self._stats[DELETED] += n_deleted
        self._stats[POSITIONS_DROPPED] += n_dropped
        return deleted[:n_deleted]

    def snapshot(self, now: float | None = None) -> TrackBatch:
        """All CONFIRMED live tracks; positions predicted to ``now`` when given."""
        a = self._store.arrays
        slots = np.flatnonzero((a.rec["track_id"] != 0) & (a.rec["flags"] & _CONFIRMED != 0))
        rows = a.rec[slots]
        if now is not None and len(rows):
            predict_rows(rows, a.kin[slots], float(now), self._params)
        return rows


def _time_sorted(reports: ReportBatch) -> ReportBatch:
    """Reports in time order (stable; NaN last), as one contiguous array."""
    t = reports["time"]
    if len(t) > 1 and not bool(np.all(t[1:] >= t[:-1])):
        return reports[np.argsort(t, kind="stable")]
    return np.ascontiguousarray(reports)
