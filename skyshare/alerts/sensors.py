"""Readiness alerts: a sensor silent or degraded beyond its thresholds, as an alert.

Readiness (:mod:`skyshare.readiness`) judges every sensor once a second and hands the
alert service one :class:`SensorCondition` per sensor that is silent or degraded, and
the names of the sensors it could judge (not still waiting for their first byte).
:class:`SensorAlerts` gives them the same hysteresis as the track rules: an alert is
raised when a condition has held on ``confirm_updates`` evaluations in a row and
cleared when it has been gone ``clear_after_s`` from a sensor readiness could judge.
The alert's evidence is a track row placing the sensor (its position, EXERCISE for an
exercise injector's sensor), so routing sends it to the partner whose region holds
the sensor, and the workflow (acknowledge, escalate, hand over) is that of any alert.

After a restart, the alerts active at the stop come back (from the audit log) keyed by
(rule, sensor name): the first condition with that key re-adopts its alert, and one
whose sensor is judged without it for ``clear_after_s`` is cleared.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from skyshare.alerts.engine import Alert, AlertEngine, Changes, EngineConfig
from skyshare.alerts.rules import SENSOR_RULES, Rule
from skyshare.model import TrackFlag, empty_tracks

NO_TRACK: Final = 0xFFFFFFFF
"""``track_id`` of a readiness alert (no track id is this)."""


@dataclass(frozen=True)
class SensorCondition:
    """A sensor that is silent or degraded now, as readiness found it."""

    rule: Rule  # SENSOR_SILENT or SENSOR_DEGRADED
    sensor: str
    value: float  # s silent, the worst ratio, or the clock drift in ppm
    detail: str
    lat: float | None
    lon: float | None
    exercise: bool

    def __post_init__(self) -> None:
        if self.rule not in SENSOR_RULES:
            raise ValueError(f"{self.rule!r} is not a readiness rule")


def sensor_row(lat: float | None, lon: float | None, exercise: bool) -> npt.NDArray[np.void]:
    """A TRACK_DTYPE row that places a sensor: the evidence of its alerts."""
    rows = empty_tracks(1)
    row: npt.NDArray[np.void] = rows[0]
    row["track_id"] = NO_TRACK
    flags = TrackFlag.EXERCISE if exercise else TrackFlag.NONE
    if lat is not None and lon is not None:
        row["lat"], row["lon"] = lat, lon
        flags |= TrackFlag.HAS_POSITION
    row["flags"] = np.uint16(flags)
    return row


Key = tuple[int, str]


class SensorAlerts:
    """The active readiness alerts of a node; ids come from ``engine`` (one series)."""

    def __init__(self, engine: AlertEngine, config: EngineConfig | None = None) -> None:
        self.engine = engine
        self.config = config or EngineConfig()
        self._streak: dict[Key, int] = {}
        self._active: dict[Key, Alert] = {}
        self._restored: dict[Key, Alert] = {}

    @property
    def active(self) -> list[Alert]:
        return [*self._active.values(), *self._restored.values()]

    def restore(self, alerts: Sequence[Alert]) -> None:
        """Take back the readiness alerts active at the stop (see the module docstring)."""
        for alert in alerts:
            if alert.sensor is not None:
                alert.restored, alert.last_held = True, math.nan  # not judged since
                self._restored[(int(alert.rule), alert.sensor)] = alert

    def update(self, conditions: Sequence[SensorCondition], judged: Collection[str],
               now: float) -> Changes:
        """Apply one evaluation: ``conditions`` hold now; ``judged`` names every sensor
        readiness could judge."""
        changes = Changes()
        held: set[Key] = set()
        streak: dict[Key, int] = {}
        for c in conditions:
            key = (int(c.rule), c.sensor)
            held.add(key)
            alert = self._active.get(key) or self._readopt(key)
            if alert is not None:
                self._refresh(alert, c, now)
                continue
            streak[key] = self._streak.get(key, 0) + 1
            if streak[key] >= self.config.confirm_updates:
                del streak[key]
                alert = self._raise(c, now)
                self._active[key] = alert
                changes.raised.append(alert)
        self._streak = streak
        for key, alert in [*self._active.items(), *self._restored.items()]:
            if key in held or key[1] not in judged:
                continue
            if math.isnan(alert.last_held):  # restored: judged without it from now
                alert.last_held = now
            elif now - alert.last_held >= self.config.clear_after_s:
                alert.cleared_at, alert.restored = now, False
                self._active.pop(key, None)
                self._restored.pop(key, None)
                changes.cleared.append(alert)
        return changes

    def _readopt(self, key: Key) -> Alert | None:
        alert = self._restored.pop(key, None)
        if alert is not None:
            alert.restored = False
            self._active[key] = alert
        return alert

    def _refresh(self, alert: Alert, c: SensorCondition, now: float) -> None:
        alert.latest = sensor_row(c.lat, c.lon, c.exercise)
        alert.value, alert.detail, alert.last_held = c.value, c.detail, now

    def _raise(self, c: SensorCondition, now: float) -> Alert:
        row = sensor_row(c.lat, c.lon, c.exercise)
        return Alert(id=self.engine.new_id(), rule=c.rule, track_id=NO_TRACK, volume=-1,
                     raised_at=now, evidence=row, latest=row.copy(), value=c.value,
                     verified=True, exercise=c.exercise, last_held=now, sensor=c.sensor,
                     detail=c.detail)
