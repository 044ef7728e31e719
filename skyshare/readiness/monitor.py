"""A node's readiness: its sensors' health and coverage, its partners' links.

Three threads touch it, each through one method:

- the pipeline (worker thread), every step: :meth:`Readiness.observe` takes the step's
  sensor output and decoded reports (receiver clocks, reports decoded per sensor,
  positions for the coverage outlines), all as column operations;
- the event loop, once a second: :meth:`Readiness.sample` reads each sensor's running
  counters, adds what came since into its history and judges every sensor
  (:func:`~skyshare.readiness.assess.assess`), publishing the result in
  :attr:`Readiness.sensors` (a tuple replaced whole, so readers need no lock);
- the alert service reads :meth:`Readiness.sensor_conditions` and
  :meth:`Readiness.working`; the web layer (:mod:`skyshare.web.readiness_api`) turns
  :attr:`Readiness.sensors` and the rest into the API's JSON.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import numpy as np

from skyshare.alerts.rules import Rule
from skyshare.alerts.sensors import SensorCondition
from skyshare.model import ReportBatch
from skyshare.readiness.assess import SensorReadiness, assess
from skyshare.readiness.clock import ClockWatch
from skyshare.readiness.coverage import CoverageOutlines
from skyshare.readiness.exercises import FOLDER, LastExercise
from skyshare.readiness.series import COLUMNS, CounterSeries, error_count
from skyshare.readiness.settings import ReadinessConfig
from skyshare.sources.base import SensorSpec, SensorStatus, SourceOutput

FOLDER_NAME: Final = "readiness"


class Readiness:
    """The readiness of one node's sensors (by index) and partners."""

    def __init__(self, config: ReadinessConfig, specs: Sequence[SensorSpec],
                 statuses: Sequence[SensorStatus], data_dir: Path | None, started: float,
                 partner: str = "") -> None:
        self.config = config
        self.specs = tuple(specs)
        self.statuses = tuple(statuses)
        self.started = started
        self.partner = partner
        self.folder = data_dir / FOLDER_NAME if data_dir is not None else None
        n = len(self.specs)
        self.series = [CounterSeries(config.history_s) for _ in range(n)]
        self.clocks = ClockWatch(config.clock_window_s)
        self.coverage = CoverageOutlines(config, [s.name for s in specs],
                                         [(s.lat, s.lon) for s in specs])
        self.exercises = LastExercise(data_dir / FOLDER if data_dir is not None else None)
        self._decoded = np.zeros(max(n, 1), np.int64)  # reports per sensor, since start
        self._lock = threading.Lock()  # _decoded: the pipeline adds, sample reads
        self._last = np.zeros((max(n, 1), len(COLUMNS)), np.int64)  # counters at last sample
        self._since: list[tuple[str, float]] = [("waiting", started)] * n
        self.sensors: tuple[SensorReadiness, ...] = ()

    def begin(self, now: float) -> None:
        """The node starts reading its sensors: one not heard from by ``now +
        silent_after_s`` is silent."""
        self.started = now
        self._since = [("waiting", now)] * len(self.specs)

    # -- the pipeline's thread
    def observe(self, outputs: Sequence[SourceOutput], reports: ReportBatch, now: float) -> None:
        """One pipeline step: what the sensors delivered and what decoding made of it."""
        plots = [o.plots for o in outputs if len(o.plots)]
        for o in outputs:
            if len(o.frames):
                self.clocks.observe(o.frames)
        decoded = np.bincount(reports["sensor"], minlength=len(self._decoded)) if len(
            reports) else None
        with self._lock:
            if decoded is not None:
                self._decoded += decoded[:len(self._decoded)]
            for p in plots:
                self._decoded += np.bincount(p["sensor"], minlength=len(self._decoded))[
                    :len(self._decoded)]
        self.coverage.observe_reports(reports, now)
        for p in plots:
            self.coverage.observe_plots(p, now)

    # -- the event loop, once a second
    def sample(self, now: float) -> tuple[SensorReadiness, ...]:
        """Add the counters since the last sample to each sensor's history and judge
        every sensor; the result is also :attr:`sensors`."""
        with self._lock:
            decoded = self._decoded.copy()
        judged = []
        for i, (status, series) in enumerate(zip(self.statuses, self.series, strict=True)):
            current = np.array([status.bytes, status.frames, error_count(status.bad.counts),
                                decoded[i], status.good_bytes], np.int64)
            series.add(now, current - self._last[i])
            self._last[i] = current
            clock = self.clocks.estimate(status.index)
            r = assess(status, series, clock, self.config, now, self.started)
            if r.state != self._since[i][0]:
                self._since[i] = (r.state, now)
            judged.append(r)
        self.sensors = tuple(judged)
        return self.sensors

    def since(self, index: int) -> float:
        """When sensor ``index`` entered its current state."""
        return self._since[index][1]

    # -- readers
    def sensor_conditions(self, now: float) -> tuple[list[SensorCondition], set[str]]:
        """The readiness alerts' conditions (see :mod:`skyshare.alerts.sensors`): each
        sensor silent or degraded in the last judgement, and every sensor judged."""
        if not self.config.alerts:
            return [], set()
        found, judged = [], set()
        for r in self.sensors:
            if r.state == "waiting":
                continue
            judged.add(r.name)
            if r.state in ("silent", "degraded"):
                spec = self.specs[r.index]
                found.append(SensorCondition(
                    Rule.SENSOR_SILENT if r.state == "silent" else Rule.SENSOR_DEGRADED,
                    r.name, r.measure, "; ".join(r.reasons), spec.lat, spec.lon, r.exercise))
        return found, judged

    def working(self) -> list[bool]:
        """Per sensor index: connected and not silent (see
        :class:`~skyshare.alerts.rules.SensorRangeCoverage`)."""
        states = {r.index: r.state for r in self.sensors}
        return [status.connected and states.get(i) != "silent"
                for i, status in enumerate(self.statuses)]

    def save(self) -> None:
        """Keep the coverage outlines in the data folder (every minute, and at stop)."""
        if self.folder is not None:
            self.coverage.save(self.folder)

    def load(self, now: float) -> int:
        return self.coverage.load(self.folder, now) if self.folder is not None else 0


def overall(sensors: Sequence[SensorReadiness], links: Sequence[str]) -> str:
    """``ok`` when every sensor is ok and every partner (``links``: their states)
    connected; ``degraded`` when something is degraded, lagging or still waiting;
    ``impaired`` when a sensor is silent or a partner down."""
    states = {r.state for r in sensors}
    if "silent" in states or "down" in set(links):
        return "impaired"
    if states & {"degraded", "waiting"} or "lagging" in set(links):
        return "degraded"
    return "ok"
