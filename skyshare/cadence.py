"""How often the pipeline steps: as often as asked, less often when the CPU is short.

A node steps every ``pipeline_interval_s`` (50 ms): decode and fuse what arrived, merge
what partners sent, share.  When a step takes longer than the interval, starting the
next one at once (as a fixed cadence would) keeps the CPU saturated: on a machine
short of cores (a small box, or several nodes sharing one) every process then waits
for a core, and latency grows far beyond the interval.  Measured with six nodes on two
cores (``bench/bench_federation.py``, p99 report-to-partner-picture for agreements at
3-5 Hz): back to back at 15 steps/s, 230-284 ms over three runs; a fixed 80 ms
cadence, 181 ms: a step that waits less for a core more than makes up for the longer
wait between steps.  This cadence with :data:`DUTY` 0.3, 0.35, 0.45, 0.5 and 0.55 gave
236, 231, 193, 201 and 236 ms.

:class:`Cadence` keeps a step to about :data:`DUTY` of the interval: the interval is the
median time of the last :data:`WINDOW` steps (wall time, so waiting for a core counts;
the median, so that a stray slow step does not shake the cadence) over :data:`DUTY`,
never below the interval asked for nor above ``max_interval_s``.  A node with CPU to
spare never leaves the interval asked for.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from typing import Final

DUTY: Final = 0.45
"""The fraction of the interval a step should take, in wall time."""
WINDOW: Final = 32
"""Steps whose median time sets the interval."""


class Cadence:
    """The pipeline's interval between step starts, adapted to how long steps take."""

    def __init__(self, interval_s: float, max_interval_s: float) -> None:
        if not (math.isfinite(interval_s) and interval_s > 0):
            raise ValueError(f"interval_s must be a positive number, not {interval_s!r}")
        if not (math.isfinite(max_interval_s) and max_interval_s >= interval_s):
            raise ValueError(f"max_interval_s ({max_interval_s!r}) must be at least "
                             f"interval_s ({interval_s!r})")
        self.floor, self.ceiling = float(interval_s), float(max_interval_s)
        self.interval_s = self.floor
        self._times: deque[float] = deque(maxlen=WINDOW)

    def rest(self, elapsed_s: float) -> float:
        """Note a step that took ``elapsed_s`` (wall time); the seconds to wait before
        the next one starts."""
        self._times.append(elapsed_s)
        step_s = statistics.median(self._times)
        self.interval_s = min(max(step_s / DUTY, self.floor), self.ceiling)
        return max(0.0, self.interval_s - elapsed_s)
