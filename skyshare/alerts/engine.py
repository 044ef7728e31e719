"""From conditions to alerts: hysteresis, evidence and clearing.

Each picture update the rules give the conditions that hold now
(:func:`skyshare.alerts.rules.evaluate`).  The engine keys each by (rule, track,
volume) and

- raises an alert when a key has held on ``confirm_updates`` consecutive evaluations
  (one corrupted squawk does not page a duty officer), keeping the track's state at
  that moment as evidence and updating the latest evidence while it holds;
- clears it when its key has been absent for ``clear_after_s`` (a flapping condition
  does not raise a new alert each time it comes back).  A transponder loss stays
  active after its track is deleted from the picture: only the aircraft's return (or a
  duty officer) ends it.

Matching is vectorised on integer keys, so thousands of simultaneous conditions (an
alert storm) cost a few array operations; only alerts raised or cleared become
objects.  Workflow (acknowledge, escalate, hand over) and routing live elsewhere and
read the engine's alerts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count
from typing import Final

import numpy as np
import numpy.typing as npt

from skyshare.alerts.rules import Conditions, Rule, verified
from skyshare.model import TrackBatch, TrackFlag

_VOLUME_SHIFT: Final = 32
_RULE_SHIFT: Final = 56


def condition_keys(conditions: Conditions) -> npt.NDArray[np.int64]:
    """One int64 per (rule, volume, track_id): rule | volume + 1 | track id."""
    return ((conditions["rule"].astype(np.int64) << _RULE_SHIFT)
            | ((conditions["volume"].astype(np.int64) + 1) << _VOLUME_SHIFT)
            | conditions["track_id"].astype(np.int64))


@dataclass(frozen=True)
class EngineConfig:
    confirm_updates: int = 2
    """Consecutive evaluations a condition must hold before its alert is raised."""
    clear_after_s: float = 10.0
    """An active alert whose condition has been gone this long is cleared."""


@dataclass
class Alert:
    """One alert: what, about which track, since when, and the evidence for it."""

    id: str
    rule: Rule
    track_id: int
    volume: int  # -1: not about an airspace volume
    raised_at: float
    evidence: npt.NDArray[np.void]  # the track (TRACK_DTYPE row) when raised
    latest: npt.NDArray[np.void]  # the track at the last evaluation it held
    value: float  # the rule's measure when last seen (s to entry, ft/min, ...)
    verified: bool  # corroborated by more than one sensor or an independent source
    exercise: bool  # from exercise traffic: shown and scored as EXERCISE, never as real
    last_held: float
    cleared_at: float | None = None

    @property
    def active(self) -> bool:
        return self.cleared_at is None


@dataclass
class Changes:
    """What one evaluation did."""

    raised: list[Alert] = field(default_factory=list)
    cleared: list[Alert] = field(default_factory=list)


class AlertEngine:
    """Keeps the active alerts of one node, fed one evaluation per picture update."""

    def __init__(self, node: str, config: EngineConfig | None = None, *,
                 first_serial: int = 1) -> None:
        """Alert ids are ``<node>-<serial>``; a node starts its serials after the last
        seq of its audit log, so ids stay unique across restarts."""
        self.node = node
        self.config = config or EngineConfig()
        self._serial = count(first_serial)
        self._streak: dict[int, int] = {}  # key -> consecutive evaluations held, not raised
        self._active: dict[int, Alert] = {}

    @property
    def active(self) -> list[Alert]:
        return list(self._active.values())

    def update(self, conditions: Conditions, tracks: TrackBatch, now: float) -> Changes:
        """Apply the conditions evaluated on ``tracks`` at ``now``."""
        keys = condition_keys(conditions)
        keys, first = np.unique(keys, return_index=True)
        conditions = conditions[first]
        changes = Changes()
        active_keys = np.fromiter(self._active, np.int64, len(self._active))
        held = np.isin(keys, active_keys)
        for i in np.flatnonzero(held):  # still holding: refresh the latest evidence
            alert = self._active[int(keys[i])]
            alert.latest = tracks[conditions["row"][i]].copy()
            alert.value = float(conditions["value"][i])
            alert.last_held = now
        self._count_streaks(keys[~held], conditions[~held], tracks, now, changes)
        gone = active_keys[~np.isin(active_keys, keys)]
        present = set(tracks["track_id"].tolist()) if len(gone) else set()
        for key in gone.tolist():
            alert = self._active[key]
            if alert.rule == Rule.TRANSPONDER_LOSS and alert.track_id not in present:
                continue  # a lost track is deleted in time; the loss is not over for that
            if now - alert.last_held >= self.config.clear_after_s:
                alert.cleared_at = now
                del self._active[key]
                changes.cleared.append(alert)
        return changes

    def _count_streaks(self, keys: npt.NDArray[np.int64], conditions: Conditions,
                       tracks: TrackBatch, now: float, changes: Changes) -> None:
        streak = {k: self._streak.get(k, 0) + 1 for k in keys.tolist()}
        self._streak = {}  # a streak broken for one evaluation starts again
        ok = verified(tracks)
        for i, key in enumerate(keys.tolist()):
            if streak[key] < self.config.confirm_updates:
                self._streak[key] = streak[key]
                continue
            row = int(conditions["row"][i])
            track = tracks[row].copy()
            alert = Alert(
                id=f"{self.node}-{next(self._serial)}", rule=Rule(int(conditions["rule"][i])),
                track_id=int(conditions["track_id"][i]), volume=int(conditions["volume"][i]),
                raised_at=now, evidence=track, latest=track,
                value=float(conditions["value"][i]), verified=bool(ok[row]),
                exercise=bool(track["flags"] & TrackFlag.EXERCISE), last_held=now)
            self._active[key] = alert
            changes.raised.append(alert)
