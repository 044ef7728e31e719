"""Judging a sensor from its history: ``ok``, ``degraded``, ``silent`` or ``waiting``.

- ``waiting``: never heard from, and the node started less than ``silent_after_s`` ago;
- ``silent``: no byte for ``silent_after_s`` (never heard from, after that time);
- ``degraded``: heard, but over the last ``window_s`` more than ``max_error_ratio`` of
  its input was erroneous, or its message rate fell below ``min_rate_ratio`` of its
  baseline, or its receiver clock drifts more than ``max_clock_drift_ppm``;
- ``ok`` otherwise.

Each judgement carries its reasons in words, the way the readiness page and the alert
show them.  Pure: the history in, a :class:`SensorReadiness` out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal

from skyshare.readiness.clock import ClockEstimate
from skyshare.readiness.series import (
    BYTES,
    DECODED,
    ERRORS,
    GOOD_BYTES,
    MESSAGES,
    CounterSeries,
    Gaps,
)
from skyshare.readiness.settings import ReadinessConfig
from skyshare.sources.base import SensorStatus

State = Literal["ok", "degraded", "silent", "waiting"]
STATES: Final[tuple[State, ...]] = ("ok", "degraded", "silent", "waiting")


@dataclass(frozen=True)
class SensorReadiness:
    """One sensor as readiness judged it at ``time``."""

    name: str
    index: int
    time: float
    state: State
    reasons: tuple[str, ...]
    exercise: bool
    connected: bool
    silent_s: float | None  # since the last byte; None: never heard
    rate: float  # messages/s over the window
    baseline_rate: float | None
    messages: int  # in the window
    errors: int
    decoded: int
    bytes: int
    good_bytes: int
    gaps: Gaps
    clock: ClockEstimate | None

    @property
    def error_ratio(self) -> float | None:
        """Erroneous share of the window's input (None: no input)."""
        return error_share(self.messages, self.errors, self.bytes, self.good_bytes)

    @property
    def decoded_ratio(self) -> float | None:
        """Share of the window's messages that became reports (None: no messages)."""
        return min(1.0, self.decoded / self.messages) if self.messages else None

    @property
    def measure(self) -> float:
        """The number an alert keeps: seconds silent, else the worst ratio (error share,
        or rate against baseline), else the clock drift in ppm."""
        if self.state == "silent":
            return self.silent_s if self.silent_s is not None else math.inf
        if self.error_ratio is not None and any(r.startswith("errors") for r in self.reasons):
            return self.error_ratio
        if self.baseline_rate and any(r.startswith("rate") for r in self.reasons):
            return self.rate / self.baseline_rate
        drift = self.clock.drift_ppm if self.clock is not None else None
        return drift if drift is not None else math.nan


def assess(status: SensorStatus, series: CounterSeries, clock: ClockEstimate | None,
           config: ReadinessConfig, now: float, started: float) -> SensorReadiness:
    """How ``status``'s sensor stands at ``now`` (the node started at ``started``)."""
    totals = series.totals(now, config.window_s)
    silent_s = None if math.isnan(series.last_heard) else max(0.0, now - series.last_heard)
    rate = series.rate(now, config.window_s)
    baseline = series.baseline(now, config.window_s, config.baseline_s)
    gaps = series.gaps(now, config.gap_s)

    def judged(state: State, reasons: tuple[str, ...]) -> SensorReadiness:
        return SensorReadiness(
            status.name, status.index, now, state, reasons, status.exercise,
            status.connected, silent_s, rate, baseline, int(totals[MESSAGES]),
            int(totals[ERRORS]), int(totals[DECODED]), int(totals[BYTES]),
            int(totals[GOOD_BYTES]), gaps, clock)

    if silent_s is None:
        if now - started < config.silent_after_s:
            return judged("waiting", ("no data yet",))
        return judged("silent", (f"nothing received since the node started "
                                 f"{now - started:.0f} s ago",))
    if silent_s >= config.silent_after_s:
        return judged("silent", (f"nothing received for {silent_s:.0f} s",))
    errors = error_share(int(totals[MESSAGES]), int(totals[ERRORS]), int(totals[BYTES]),
                         int(totals[GOOD_BYTES]))
    reasons = degradation(errors, rate, baseline, clock, config)
    return judged("degraded" if reasons else "ok", reasons)


def error_share(messages: int, errors: int, size: int, good_bytes: int) -> float | None:
    """The erroneous share of a window's input: of its items (frames that failed, bad
    lines, stretches of garbage) or of its bytes (those that framed as nothing good),
    whichever is worse; None without input."""
    items = errors / (messages + errors) if messages + errors else None
    waste = max(0.0, 1.0 - good_bytes / size) if size else None
    shares = [x for x in (items, waste) if x is not None]
    return max(shares) if shares else None


def degradation(errors: float | None, rate: float, baseline: float | None,
                clock: ClockEstimate | None, config: ReadinessConfig) -> tuple[str, ...]:
    """Why a sensor that is heard is degraded (empty: it is not)."""
    reasons = []
    if errors is not None and errors > config.max_error_ratio:
        reasons.append(f"errors: {errors:.0%} of its input over the last "
                       f"{config.window_s:.0f} s (at most {config.max_error_ratio:.0%})")
    if (baseline is not None and baseline >= config.min_baseline_rate
            and rate < config.min_rate_ratio * baseline):
        reasons.append(f"rate: {rate:.1f} messages/s, {rate / baseline:.0%} of its usual "
                       f"{baseline:.1f}/s")
    drift = clock.drift_ppm if clock is not None else None
    if config.max_clock_drift_ppm > 0 and drift is not None and (
            abs(drift) > config.max_clock_drift_ppm):
        reasons.append(f"clock: runs {'fast' if drift > 0 else 'slow'} by {abs(drift):,.0f} "
                       f"ppm (at most {config.max_clock_drift_ppm:,.0f}); is it a 12 MHz "
                       "counter?")
    return tuple(reasons)
