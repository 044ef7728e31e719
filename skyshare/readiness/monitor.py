"""A node's readiness: its sensors' health and coverage, its partners' links.

Three threads touch it, each through one method:

- the pipeline (worker thread), every step: :meth:`Readiness.observe` takes the step's
  sensor output and decoded reports (receiver clocks, reports decoded per sensor,
  positions for the coverage outlines), all as column operations;
- the event loop, once a second: :meth:`Readiness.sample` reads each sensor's running
  counters, adds what came since into its history and judges every sensor
  (:func:`~skyshare.readiness.assess.assess`), publishing the result in
  :attr:`Readiness.sensors` (a tuple replaced whole, so readers need no lock);
- the alert service and the web layer read :attr:`Readiness.sensors`,
  :meth:`Readiness.sensor_conditions`, :meth:`Readiness.working` and the JSON
  views.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final, Protocol

import numpy as np

from skyshare.alerts.rules import Rule
from skyshare.alerts.sensors import SensorCondition
from skyshare.model import ReportBatch
from skyshare.readiness.assess import STATES, SensorReadiness, assess
from skyshare.readiness.clock import ClockWatch
from skyshare.readiness.coverage import CoverageOutlines
from skyshare.readiness.exercises import FOLDER, ExerciseResult, LastExercise
from skyshare.readiness.series import COLUMNS, CounterSeries, error_count
from skyshare.readiness.settings import ReadinessConfig
from skyshare.sources.base import SensorSpec, SensorStatus, SourceOutput

SERIES_SPAN_S: Final = 600  # what the readiness page plots
SERIES_BIN_S: Final = 10
FOLDER_NAME: Final = "readiness"
FLOW_KEYS: Final = ("tracks", "bytes", "age_s")


class PartnerSource(Protocol):
    """What readiness reads of the federation (rows shaped as
    :mod:`skyshare.web.federation_view` documents them)."""

    def partners_json(self, now: float) -> list[dict[str, object]]: ...


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

    def sensor_json(self, r: SensorReadiness, now: float) -> dict[str, Any]:
        spec, status = self.specs[r.index], self.statuses[r.index]
        series = self.series[r.index]
        clock = r.clock
        return {
            "name": r.name, "index": r.index, "format": spec.format, "mode": spec.mode,
            "address": spec.address, "lat": spec.lat, "lon": spec.lon, "alt_m": spec.alt_m,
            "exercise": r.exercise, "state": r.state, "reasons": list(r.reasons),
            "since": self.since(r.index), "connected": r.connected,
            "silent_s": _round(r.silent_s, 1), "rate": round(r.rate, 2),
            "baseline_rate": _round(r.baseline_rate, 2), "window_s": self.config.window_s,
            "messages": r.messages, "errors": r.errors, "decoded": r.decoded,
            "error_ratio": _round(r.error_ratio, 4), "decoded_ratio": _round(r.decoded_ratio, 4),
            "totals": {"bytes": status.bytes, "messages": status.frames,
                       "bad_input": dict(status.bad.counts)},
            "gaps": {"count": r.gaps.count, "longest_s": r.gaps.longest_s,
                     "recent": [list(g) for g in r.gaps.recent],
                     "span_s": self.config.history_s, "min_s": self.config.gap_s},
            "clock": None if clock is None else {
                "drift_ppm": _round(clock.drift_ppm, 2), "jitter_ms": _round(clock.jitter_ms, 3),
                "offset_s": round(clock.offset_s, 6), "resets": clock.resets,
                "samples": clock.samples, "span_s": clock.span_s},
            "coverage": self.coverage.summary(r.index, now),
            "series": [[t, round(m, 2), round(e, 2)] for t, m, e
                       in series.binned(now, SERIES_SPAN_S, SERIES_BIN_S)],
        }

    def json(self, now: float, partners: PartnerSource | None) -> dict[str, Any]:
        """``GET /api/readiness`` (see :mod:`skyshare.web.readiness_api`)."""
        sensors = [self.sensor_json(r, now) for r in self.sensors]
        exercise = self.exercises.get()
        rows = partner_rows(partners.partners_json(now) if partners is not None else [],
                            exercise)
        counts = dict.fromkeys(STATES, 0)
        for r in self.sensors:
            counts[r.state] += 1
        return {
            "partner": self.partner, "now": now, "started": self.started,
            "state": overall(self.sensors, rows),
            "sensor_states": counts, "sensors": sensors, "partners": rows,
            "exercise": None if exercise is None else {
                **exercise.json(), "partner": exercise.partners.get(self.partner)},
            "thresholds": {k: getattr(self.config, k) for k in (
                "silent_after_s", "gap_s", "window_s", "max_error_ratio", "min_rate_ratio",
                "baseline_s", "min_baseline_rate", "max_clock_drift_ppm", "coverage_keep_s")},
        }


def overall(sensors: Sequence[SensorReadiness], partners: list[dict[str, Any]]) -> str:
    """``ok`` when every sensor is ok and every partner connected; ``degraded`` when
    something is degraded, lagging or still waiting; ``impaired`` when a sensor is
    silent or a partner down."""
    states = {r.state for r in sensors}
    links = {p.get("state") for p in partners}
    if "silent" in states or "down" in links:
        return "impaired"
    if states & {"degraded", "waiting"} or "lagging" in links:
        return "degraded"
    return "ok"


def partner_rows(rows: list[dict[str, object]], exercise: ExerciseResult | None
                 ) -> list[dict[str, Any]]:
    """Readiness of each partner: the federation's view of the link, cut to what
    readiness shows, with the partner's part of the last exercise."""
    out = []
    for row in rows:
        name = str(row.get("partner", "?"))
        received, sent = _mapping(row, "received"), _mapping(row, "sent")
        out.append({
            "partner": name, "state": row.get("state", "down"),
            "silent_s": row.get("silent_s"), "lag_s": row.get("lag_s"),
            "latency_p99_s": row.get("latency_p99_s"),
            "received": {k: received.get(k) for k in FLOW_KEYS},
            "sent": {k: sent.get(k) for k in FLOW_KEYS},
            "dropped": sum(v for v in _mapping(row, "dropped").values()
                           if isinstance(v, int | float) and not isinstance(v, bool)),
            "last_exercise": None if exercise is None else exercise.partners.get(name),
        })
    return out


def _mapping(row: dict[str, object], key: str) -> dict[str, object]:
    value = row.get(key)
    return value if isinstance(value, dict) else {}


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, digits)

