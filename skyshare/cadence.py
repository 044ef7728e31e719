"""How often the pipeline steps: as often as asked, less often when the CPU is short.

A node steps every ``pipeline_interval_s`` (50 ms): decode and fuse what arrived, merge
what partners sent, share.  A step that takes longer than that is followed at once by
the next.  That is right while the node has the CPU to itself: a busy single node
(20,000 aircraft heard by four receivers, steps of 50 ms) keeps its latency lowest so.
It is wrong when the CPU is short (a small box, or several nodes sharing one): stepping
back to back keeps every core saturated, every step waits for a core, and latency grows
far beyond the interval; a step that waits less for a core more than makes up for a
longer wait between steps.

:class:`Cadence` tells the two apart by how much of a step's wall time its thread
spent without the CPU (waiting for a core, or for the GIL): the median over
:data:`WINDOW` steps.  Once per window it moves the interval one step of
:data:`GROWTH` up (to at most ``max_interval_s``) when that median is above
:data:`CONTENDED`, one step down (to the interval asked for) when it is below
:data:`RELAXED`, and otherwise keeps it: a steady cadence.

Measured with six nodes on two cores (``bench/bench_federation.py``, p99
report-to-partner-picture for agreements at 3-5 Hz; steps wait ~70 % of their time
back to back, ~33 % at a fixed 65 ms, ~22 % at 80 ms, where the busy single node waits
~13 %): back to back 230-284 ms over three runs; fixed 65 ms 203 ms; fixed 80 ms
181-208 ms; an interval recomputed at every step from the median step time (it
changed all the time, and cost more CPU per step) 214-257 ms; this cadence 198-217 ms,
settling at 75-90 ms.
"""

from __future__ import annotations

import math
import statistics
from typing import Final

CONTENDED: Final = 0.4
"""A median wait above this fraction of a step's wall time: the CPU is short."""
RELAXED: Final = 0.2
"""A median wait below this fraction: the CPU is not short."""
GROWTH: Final = 1.15
"""The factor of one step of the interval."""
WINDOW: Final = 32
"""Steps whose median wait decides; the interval changes at most once per window."""


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
        self._waits: list[float] = []

    def rest(self, elapsed_s: float, cpu_s: float) -> float:
        """Note a step that took ``elapsed_s`` of wall time and ``cpu_s`` of its thread's
        CPU time; the seconds to wait before the next one starts."""
        wait = elapsed_s - cpu_s
        self._waits.append(wait / elapsed_s if elapsed_s > 0 and wait > 0 else 0.0)
        if len(self._waits) == WINDOW:
            waiting = statistics.median(self._waits)
            self._waits.clear()
            if waiting > CONTENDED:
                self.interval_s = min(self.interval_s * GROWTH, self.ceiling)
            elif waiting < RELAXED:
                self.interval_s = max(self.interval_s / GROWTH, self.floor)
        return max(0.0, self.interval_s - elapsed_s)
