"""Latency over a sliding window: how long data took from a sensor to the picture."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt


@dataclass
class LatencyWindow:
    """Frame-to-picture latencies of the frames published in the last ``span_s``."""

    span_s: float = 10.0
    batches: deque[tuple[float, npt.NDArray[np.float64]]] = field(default_factory=deque)

    def add(self, published: float, latencies: npt.NDArray[np.float64]) -> None:
        self.batches.append((published, latencies))
        while self.batches and self.batches[0][0] < published - self.span_s:
            self.batches.popleft()

    def quantiles(self) -> tuple[float, float]:
        if not self.batches:
            return math.nan, math.nan
        v = np.concatenate([b for _, b in self.batches])
        if not len(v):
            return math.nan, math.nan
        p50, p99 = np.quantile(v, [0.5, 0.99])
        return float(p50), float(p99)
