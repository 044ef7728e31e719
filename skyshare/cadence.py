"""How often the pipeline steps: as often as asked, less often when the CPU is short.

A node steps every ``pipeline_interval_s`` (50 ms): decode and fuse what arrived, merge
what partners sent, share.  A step that takes longer than that is followed at once by
the next.  That is right while the node has the CPU to itself: a busy single node
(20,000 aircraft heard by four receivers, steps of 50 ms) keeps its latency lowest so.
It is wrong when the CPU is short (a small box, or several nodes sharing one): stepping
back to back keeps every core saturated, every step waits for a core, and latency grows
far beyond the interval.  Measured with six nodes on two cores
(``bench/bench_federation.py``, p99 report-to-partner-picture for agreements at 3-5
Hz): back to back at 15 steps/s, 230-284 ms over three runs; a fixed 80 ms cadence,
181 ms, as a step that waits less for a core more than makes up for the longer wait
between steps.

:class:`Cadence` tells the two apart by how much of a step's wall time its thread
spent without the CPU (waiting for a core, or for the GIL), the median over the last
:data:`WINDOW` steps.  Once that is above :data:`CONTENDED` the CPU is short, until it
falls below :data:`RELAXED`.  While it is short, the interval is the median step time
of the window over :data:`DUTY` (a step takes under half the interval), between the
interval asked for and ``max_interval_s``.  Six nodes on two cores wait ~70 % of a step
stepping back to back and ~27 % at a fixed 80 ms; the busy single node ~13 %.  With
six nodes, :data:`DUTY` 0.3, 0.35, 0.45, 0.5 and 0.55 gave 236, 231, 193, 201 and
236 ms.  (Growing or shrinking the interval step by step on the wait alone swung it
between its bounds: the median lags the interval it reacts to.)
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from typing import Final

CONTENDED: Final = 0.5
"""A median wait above this fraction of a step's wall time: the CPU is short ..."""
RELAXED: Final = 0.3
"""... until the median wait falls below this fraction."""
DUTY: Final = 0.45
"""While the CPU is short, the fraction of the interval a step should take."""
WINDOW: Final = 32
"""Steps whose medians decide."""


class Cadence:
    """The pipeline's interval between step starts, adapted to how short the CPU is."""

    def __init__(self, interval_s: float, max_interval_s: float) -> None:
        if not (math.isfinite(interval_s) and interval_s > 0):
            raise ValueError(f"interval_s must be a positive number, not {interval_s!r}")
        if not (math.isfinite(max_interval_s) and max_interval_s >= interval_s):
            raise ValueError(f"max_interval_s ({max_interval_s!r}) must be at least "
                             f"interval_s ({interval_s!r})")
        self.floor, self.ceiling = float(interval_s), float(max_interval_s)
        self.interval_s = self.floor
        self.short = False  # whether the CPU is short now
        self._times: deque[float] = deque(maxlen=WINDOW)
        self._waits: deque[float] = deque(maxlen=WINDOW)

    def rest(self, elapsed_s: float, cpu_s: float) -> float:
        """Note a step that took ``elapsed_s`` of wall time and ``cpu_s`` of its thread's
        CPU time; the seconds to wait before the next one starts."""
        wait = elapsed_s - cpu_s
        self._times.append(elapsed_s)
        self._waits.append(wait / elapsed_s if elapsed_s > 0 and wait > 0 else 0.0)
        waiting = statistics.median(self._waits)
        if waiting > CONTENDED:
            self.short = True
        elif waiting < RELAXED:
            self.short = False
        wanted = statistics.median(self._times) / DUTY if self.short else self.floor
        self.interval_s = min(max(wanted, self.floor), self.ceiling)
        return max(0.0, self.interval_s - elapsed_s)
