"""Receiver clocks against our arrival times: drift, jitter and resets.

A Beast or AVR receiver stamps each frame with its own 12 MHz counter
(``FRAME_DTYPE['clock']``, flag ``CLOCK_VALID``); a live reader stamps it with the
time the bytes arrived (``time``).  Their difference, ``time - clock / 12e6``, is the
counter's epoch plus the delay from antenna to us.  Per sensor and second the smallest
difference is kept (the frame that waited least), and a straight line is fitted to
those over ``window_s``: its slope is how much faster or slower than our clock the
receiver's counts (a crystal: tens of ppm; a clock that is not 12 MHz at all, such as
a GPS nanosecond stamp read as Beast ticks, shows as a huge drift), the scatter around
it the jitter of the delay.  A counter that steps back by more than :data:`RESET_S`
worth of ticks has restarted (the receiver did, or a day-long stamp wrapped): the fit
starts afresh and the reset is counted.

Multilateration needs these clocks; readiness shows them and calls a sensor degraded
when its drift passes ``max_clock_drift_ppm``.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass
from typing import Final

import numpy as np

from skyshare.model import FrameBatch, FrameFlag

TICKS_PER_S: Final = 12e6
RESET_S: Final = 1.0
MIN_SAMPLES: Final = 10
MIN_SPAN_S: Final = 20.0


@dataclass(frozen=True)
class ClockEstimate:
    """A sensor's clock as of its last sample."""

    drift_ppm: float | None  # + : the receiver's clock runs fast; None: too few samples
    jitter_ms: float | None  # scatter of the least delay per second around the fit
    offset_s: float  # arrival minus stamp, last second (the counter's epoch + delay)
    resets: int  # jumps seen (receiver restarts)
    samples: int  # seconds in the fit
    span_s: float


class ClockWatch:
    """The clocks of a node's sensors (fed by the pipeline, read by readiness)."""

    def __init__(self, window_s: float = 600.0) -> None:
        self.window_s = window_s
        self._samples: dict[int, deque[tuple[float, float]]] = {}  # (arrival, offset)
        self._resets: dict[int, int] = {}
        self._last_tick: dict[int, int] = {}
        self._lock = threading.Lock()

    def observe(self, frames: FrameBatch) -> None:
        """Take the stamped frames of ``frames`` (any sensors)."""
        if not len(frames):
            return
        stamped = (frames["flags"] & FrameFlag.CLOCK_VALID) != 0
        if stamped.all():
            f = frames  # the usual case: no copy
        elif stamped.any():
            f = frames[stamped]
        else:
            return
        sensors = f["sensor"]
        if sensors[0] == sensors[-1] and (sensors == sensors[0]).all():  # one read: usual
            self._add(int(sensors[0]), f)
            return
        for s in np.unique(sensors).tolist():
            self._add(int(s), f[sensors == s])

    def _add(self, sensor: int, f: FrameBatch) -> None:
        ticks = f["clock"].astype(np.int64)
        back = RESET_S * TICKS_PER_S
        steps = np.flatnonzero(np.diff(ticks) < -back)
        with self._lock:
            last = self._last_tick.get(sensor)
            self._last_tick[sensor] = int(ticks[-1])
            restarted = len(steps) > 0 or (last is not None and int(ticks[0]) < last - back)
            if restarted:
                self._resets[sensor] = self._resets.get(sensor, 0) + 1
                self._samples.pop(sensor, None)
            if len(steps):
                f = f[steps[-1] + 1:]  # what came after the restart
            offsets = f["time"] - f["clock"].astype(np.float64) / TICKS_PER_S
            k = int(np.argmin(offsets))
            t, offset = float(f["time"][k]), float(offsets[k])
            if not (math.isfinite(t) and math.isfinite(offset)):
                return
            samples = self._samples.setdefault(sensor, deque())
            if samples and math.floor(samples[-1][0]) == math.floor(t):
                if offset < samples[-1][1]:  # the least delay of each second is kept
                    samples[-1] = (t, offset)
            else:
                samples.append((t, offset))
            while samples and samples[0][0] < t - self.window_s:
                samples.popleft()

    def estimate(self, sensor: int) -> ClockEstimate | None:
        """The sensor's clock, or None when it never sent a stamped frame."""
        with self._lock:
            samples = list(self._samples.get(sensor, ()))
            resets = self._resets.get(sensor, 0)
        if not samples:
            return None
        t = np.array([s for s, _ in samples], np.float64)
        d = np.array([o for _, o in samples], np.float64)
        span = float(t[-1] - t[0])
        drift = jitter = None
        if len(t) >= MIN_SAMPLES and span >= MIN_SPAN_S:
            x, y = t - t[0], d - d[0]  # small numbers: the fit keeps its precision
            slope, intercept = np.polyfit(x, y, 1)
            residual = y - (slope * x + intercept)
            drift = float(-slope * 1e6)
            jitter = float(np.std(residual) * 1e3)
        return ClockEstimate(drift, jitter, float(d[-1]), resets, len(t), span)
