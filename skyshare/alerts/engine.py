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

After a restart the alerts active at the stop come back from the audit log
(:meth:`AlertEngine.restore`) with their condition unknown (``Alert.restored``).  Track
ids do not survive a restart, so a restored alert is matched by (rule, volume, aircraft
address): the first condition with that key re-adopts it (no second alert for the same
emergency); an alert whose aircraft is seen again without the condition for
``clear_after_s`` is cleared.  One without an address cannot be matched and stays until
a duty officer resolves its case.

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
from skyshare.model import NO_ADDRESS, TrackBatch, TrackFlag

_VOLUME_SHIFT: Final = 32
_RULE_SHIFT: Final = 56
_LOW_32: Final = (1 << _VOLUME_SHIFT) - 1


def condition_keys(conditions: Conditions) -> npt.NDArray[np.int64]:
    """One int64 per (rule, volume, track_id): rule | volume + 1 | track id."""
    return ((conditions["rule"].astype(np.int64) << _RULE_SHIFT)
            | ((conditions["volume"].astype(np.int64) + 1) << _VOLUME_SHIFT)
            | conditions["track_id"].astype(np.int64))


def address_key(rule: int, volume: int, icao24: int) -> int:
    """The key a restored alert is re-adopted by: (rule, volume, aircraft address), laid
    out like :func:`condition_keys` with the address in place of the track id."""
    return (rule << _RULE_SHIFT) | ((volume + 1) << _VOLUME_SHIFT) | icao24


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
    restored: bool = False
    """Rebuilt from the audit log after a restart and not seen by the rules since: the
    condition may or may not still hold."""
    sensor: str | None = None
    """A readiness alert's sensor (then ``evidence`` places the sensor, not a track)."""
    detail: str = ""
    """What a readiness alert found, in words (the latest reasons)."""

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
        self._restored: dict[int, Alert] = {}  # address key -> restored, not re-adopted
        self._unkeyed: list[Alert] = []  # restored without an address: never matched
        self._seen_without: dict[int, float] = {}  # address key -> aircraft seen, no condition

    def new_id(self) -> str:
        """The next alert id of this node (readiness alerts take theirs here too)."""
        return f"{self.node}-{next(self._serial)}"

    @property
    def active(self) -> list[Alert]:
        """Active alerts, those restored and not seen again included."""
        return [*self._active.values(), *self._restored.values(), *self._unkeyed]

    def restore(self, alerts: list[Alert]) -> None:
        """Take back the alerts active when the node stopped (see the module docstring);
        each is marked ``restored`` until the rules see its condition again."""
        for alert in alerts:
            alert.restored = True
            address = int(alert.evidence["icao24"])
            if address == NO_ADDRESS:
                self._unkeyed.append(alert)
            else:
                self._restored[address_key(int(alert.rule), alert.volume, address)] = alert

    def update(self, conditions: Conditions, tracks: TrackBatch, now: float) -> Changes:
        """Apply the conditions evaluated on ``tracks`` at ``now``."""
        keys = condition_keys(conditions)
        keys, first = np.unique(keys, return_index=True)
        conditions = conditions[first]
        changes = Changes()
        active_keys = np.fromiter(self._active, np.int64, len(self._active))
        held = np.isin(keys, active_keys)
        if self._restored:
            held |= self._readopt(keys, conditions, tracks, held, now, changes)
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

    def _readopt(self, keys: npt.NDArray[np.int64], conditions: Conditions,
                 tracks: TrackBatch, held: npt.NDArray[np.bool_], now: float,
                 changes: Changes) -> npt.NDArray[np.bool_]:
        """Move restored alerts whose condition holds again (same rule, volume and
        address, whatever the track id) to the active ones; clear those whose aircraft
        has been seen without it for ``clear_after_s``.  Returns the conditions adopted."""
        address = tracks["icao24"][conditions["row"]].astype(np.int64)
        by_address = (keys & ~np.int64(_LOW_32)) | address
        wanted = np.fromiter(self._restored, np.int64, len(self._restored))
        adopted: npt.NDArray[np.bool_] = ((~held & (address != int(NO_ADDRESS)))
                                          & np.isin(by_address, wanted))
        for i in np.flatnonzero(adopted).tolist():
            alert = self._restored.pop(int(by_address[i]), None)
            if alert is None:  # two tracks with one address: the first takes it
                adopted[i] = False
                continue
            alert.track_id, alert.restored = int(conditions["track_id"][i]), False
            self._active[int(keys[i])] = alert
        seen = wanted[np.isin(wanted & _LOW_32, tracks["icao24"].astype(np.int64))]
        self._clear_returned([k for k in seen.tolist() if k in self._restored], now, changes)
        return adopted

    def _clear_returned(self, seen: list[int], now: float, changes: Changes) -> None:
        """Restored alerts whose aircraft is in the picture without the condition: the
        condition is over once that has lasted ``clear_after_s``."""
        self._seen_without = {k: self._seen_without.get(k, now) for k in seen}
        for key in seen:
            if now - self._seen_without[key] >= self.config.clear_after_s:
                alert = self._restored.pop(key)
                alert.cleared_at, alert.restored = now, False
                del self._seen_without[key]
                changes.cleared.append(alert)

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
                id=self.new_id(), rule=Rule(int(conditions["rule"][i])),
                track_id=int(conditions["track_id"][i]), volume=int(conditions["volume"][i]),
                raised_at=now, evidence=track, latest=track,
                value=float(conditions["value"][i]), verified=bool(ok[row]),
                exercise=bool(track["flags"] & TrackFlag.EXERCISE), last_held=now)
            self._active[key] = alert
            changes.raised.append(alert)
