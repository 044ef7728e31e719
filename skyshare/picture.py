"""The current air picture: the latest snapshot of confirmed tracks and its changes.

The pipeline publishes a new snapshot after every fused batch (:meth:`Picture.publish`,
a reference swap, so readers never see a half-written batch).  Readers take
:attr:`Picture.tracks` as it is, query an area with :meth:`Picture.query`, or follow
the change stream: :meth:`Picture.delta_since` returns the tracks that changed and the
ids that disappeared since an earlier snapshot version, computed on sorted id columns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from skyshare.model import TrackBatch, empty_tracks


@dataclass(frozen=True)
class BBox:
    """An area: south-west and north-east corners; ``west > east`` crosses 180°."""

    south: float
    west: float
    north: float
    east: float

    @classmethod
    def parse(cls, text: str) -> BBox:
        """``south,west,north,east`` in degrees."""
        parts = text.split(",")
        if len(parts) != 4:
            raise ValueError("bbox must be south,west,north,east (4 numbers)")
        s, w, n, e = (float(p) for p in parts)
        if not all(math.isfinite(v) for v in (s, w, n, e)):
            raise ValueError("bbox values must be finite numbers")
        if not (-90 <= s <= n <= 90) or not (-180 <= w <= 180 and -180 <= e <= 180):
            raise ValueError("bbox needs -90 <= south <= north <= 90 and longitudes in -180..180")
        return cls(s, w, n, e)

    def contains(self, lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64]
                 ) -> npt.NDArray[np.bool_]:
        in_lat = (lat >= self.south) & (lat <= self.north)
        if self.west <= self.east:
            in_lon = (lon >= self.west) & (lon <= self.east)
        else:
            in_lon = (lon >= self.west) | (lon <= self.east)
        return in_lat & in_lon


@dataclass(frozen=True)
class Snapshot:
    """One published picture: tracks sorted by ``track_id``."""

    version: int
    time: float
    tracks: TrackBatch


@dataclass(frozen=True)
class Delta:
    """What changed between two snapshots."""

    version: int
    time: float
    changed: TrackBatch
    removed: npt.NDArray[np.uint32]
    full: bool  # True: ``changed`` is the whole picture (a new or resynchronised client)


@dataclass
class Picture:
    """Holds the newest snapshot and the recent ones that change streams diff against."""

    _current: Snapshot = field(default_factory=lambda: Snapshot(0, math.nan, empty_tracks()))
    _history: dict[int, Snapshot] = field(default_factory=dict)
    keep_versions: int = 64

    @property
    def snapshot(self) -> Snapshot:
        return self._current

    @property
    def tracks(self) -> TrackBatch:
        return self._current.tracks

    def publish(self, tracks: TrackBatch, now: float) -> Snapshot:
        """Make ``tracks`` the current picture (called by the pipeline only).  Rows already
        sorted by track_id are kept as they are (not copied): the caller hands them over."""
        ids = tracks["track_id"]
        if len(ids) > 1 and not bool(np.all(ids[1:] >= ids[:-1])):
            tracks = tracks[np.argsort(ids, kind="stable")]
        snap = Snapshot(self._current.version + 1, now, tracks)
        self._current = snap
        self._history[snap.version] = snap
        stale = snap.version - self.keep_versions
        if stale in self._history:
            del self._history[stale]
        return snap

    def query(self, bbox: BBox | None = None) -> TrackBatch:
        tracks = self._current.tracks
        if bbox is None:
            return tracks
        return tracks[bbox.contains(tracks["lat"], tracks["lon"])]

    def delta_since(self, version: int) -> Delta:
        """Changes from snapshot ``version`` to now; a full picture if it is too old."""
        new = self._current
        old = self._history.get(version)
        if old is None or version == 0:
            return Delta(new.version, new.time, new.tracks, np.zeros(0, np.uint32), full=True)
        return Delta(new.version, new.time, *diff_tracks(old.tracks, new.tracks), full=False)


def diff_tracks(old: TrackBatch, new: TrackBatch) -> tuple[TrackBatch, npt.NDArray[np.uint32]]:
    """Rows of ``new`` that are new or updated, and ids of ``old`` gone from ``new``.

    Both inputs are sorted by ``track_id``.  A row counts as updated when its
    ``last_seen`` or ``flags`` changed (the two things every state change moves).
    """
    old_ids, new_ids = old["track_id"], new["track_id"]
    pos = np.searchsorted(old_ids, new_ids)
    pos_clipped = np.minimum(pos, max(len(old_ids) - 1, 0))
    found = (pos < len(old_ids)) & (old_ids[pos_clipped] == new_ids) if len(old_ids) else (
        np.zeros(len(new_ids), bool))
    changed = ~found
    if len(old_ids):
        prev = old[pos_clipped]
        moved = (prev["last_seen"] != new["last_seen"]) | (prev["flags"] != new["flags"])
        changed |= found & moved
    gone = ~np.isin(old_ids, new_ids, assume_unique=True)
    return new[changed], old_ids[gone].astype(np.uint32)
