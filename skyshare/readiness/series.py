"""Per-second history of one sensor's counters: bytes, messages, errors, decoded.

The node samples each sensor's running counters about once a second
(:class:`~skyshare.sources.base.SensorStatus`: bytes and messages received, bad input
by kind; and the reports decoded from it) and adds the differences to the second they
were seen in.  The history is a ring of ``history_s`` one-second slots, so every
question (a rate over a window, the gaps of the last hour, a baseline) is a few array
operations over at most an hour of rows, whatever the traffic.

Which bad input counts as *erroneous*: framing errors (``beast-*``, ``avr-*``,
``asterix-*`` ...), failed CRCs, bad lengths and times.  A Mode S reply from an address
not yet known, a Mode A/C reply or a downlink format we do not decode is normal input
that carries nothing for the picture (:data:`NOT_ERRORS`): a real receiver sends
plenty.  A stretch of garbage between frames is one erroneous item, as the framer
counts it; how much of the stream it took shows in the bytes that framed as good
(``good_bytes``) against all bytes received.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

BYTES, MESSAGES, ERRORS, DECODED, GOOD_BYTES = range(5)
COLUMNS: Final = ("bytes", "messages", "errors", "decoded", "good_bytes")
NOT_ERRORS: Final = frozenset({"unknown-address", "mode-ac", "df-unsupported"})
"""Bad-input kinds that are normal input of a receiver, not errors (see the docstring)."""


def error_count(bad_counts: Mapping[str, int]) -> int:
    """The erroneous items among a sensor's skipped input (kinds in the docstring)."""
    return sum(n for kind, n in bad_counts.items() if kind not in NOT_ERRORS)


@dataclass(frozen=True)
class Gaps:
    """Silences of at least ``gap_s`` in the history (the one going on included)."""

    count: int
    longest_s: float
    recent: tuple[tuple[float, float], ...]  # (start, end) UNIX s, newest last


class CounterSeries:
    """One sensor's counters, per second, over the last ``history_s`` seconds."""

    def __init__(self, history_s: float) -> None:
        self.size = max(1, math.ceil(history_s))
        self._counts = np.zeros((self.size, len(COLUMNS)), np.int64)
        self._second = np.full(self.size, -1, np.int64)  # the second each slot holds
        self.first_heard = math.nan  # first second any byte arrived
        self.last_heard = math.nan  # UNIX s of the last sample with bytes

    def add(self, now: float, deltas: npt.ArrayLike) -> None:
        """Counts (in :data:`COLUMNS` order) that arrived since the last sample, at
        ``now``; negative ones (a counter reset) are taken as zero."""
        values = np.maximum(np.asarray(deltas, np.int64), 0)
        second = math.floor(now)
        slot = second % self.size
        if self._second[slot] != second:
            self._second[slot] = second
            self._counts[slot] = 0
        self._counts[slot] += values
        if values[BYTES] > 0 or values[MESSAGES] > 0:
            if math.isnan(self.first_heard):
                self.first_heard = float(second)
            self.last_heard = now

    def dense(self, now: float, span_s: float) -> tuple[npt.NDArray[np.int64],
                                                         npt.NDArray[np.int64]]:
        """(seconds, counts): the last ``span_s`` whole seconds up to ``now``'s, oldest
        first, with zero counts where nothing was sampled."""
        n = min(self.size, max(1, math.ceil(span_s)))
        seconds = math.floor(now) - np.arange(n - 1, -1, -1, dtype=np.int64)
        slots = seconds % self.size
        held = self._second[slots] == seconds
        counts = np.where(held[:, None], self._counts[slots], 0)
        return seconds, counts

    def totals(self, now: float, span_s: float) -> npt.NDArray[np.int64]:
        """Sums of each column over the last ``span_s`` seconds."""
        return self.dense(now, span_s)[1].sum(axis=0)  # type: ignore[no-any-return]

    def heard_for_s(self, now: float) -> float:
        """How long ago the first byte came (0 when never)."""
        return 0.0 if math.isnan(self.first_heard) else max(0.0, now - self.first_heard)

    def rate(self, now: float, span_s: float) -> float:
        """Messages per second over the last ``span_s`` (or since the first byte, when
        that is more recent)."""
        span = min(span_s, max(1.0, self.heard_for_s(now) + 1.0))
        return float(self.totals(now, span)[MESSAGES]) / span

    def baseline(self, now: float, window_s: float, span_s: float,
                 min_windows: int = 5) -> float | None:
        """The median message rate of the whole windows of ``window_s`` in the
        ``span_s`` before the current window, counting only windows after the first
        byte; None with fewer than ``min_windows`` of them."""
        w = max(1, math.ceil(window_s))
        k = min(int(span_s // w), (self.size - w) // w)
        if k < 1:
            return None
        seconds, counts = self.dense(now - w, k * w)
        rates = counts[:, MESSAGES].reshape(-1, w).sum(axis=1) / w
        starts = seconds.reshape(-1, w)[:, 0]
        heard = rates[starts >= self.first_heard] if not math.isnan(self.first_heard) else []
        return float(np.median(heard)) if len(heard) >= min_windows else None

    def gaps(self, now: float, gap_s: float, keep: int = 10) -> Gaps:
        """Runs of seconds without a byte, at least ``gap_s`` long, after the first byte
        (the silence going on at ``now`` included)."""
        if math.isnan(self.first_heard):
            return Gaps(0, 0.0, ())
        seconds, counts = self.dense(now, self.size)
        after = seconds >= self.first_heard
        quiet = (counts[:, BYTES] == 0) & (counts[:, MESSAGES] == 0) & after
        edges = np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]]))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        lengths = ends - starts
        long_ = lengths >= gap_s
        runs = [(float(seconds[s]), float(seconds[e - 1]) + 1.0)
                for s, e in zip(starts[long_].tolist(), ends[long_].tolist(), strict=True)]
        if runs and runs[-1][1] > now:
            runs[-1] = (runs[-1][0], now)
        return Gaps(len(runs), float(lengths[long_].max()) if runs else 0.0,
                    tuple(runs[-keep:]))

    def binned(self, now: float, span_s: float, bin_s: int) -> list[tuple[float, float, float]]:
        """(bin start, messages/s, errors/s) of the last ``span_s`` in bins of ``bin_s``
        seconds, for the readiness page's plots."""
        n = max(1, min(math.ceil(span_s / bin_s), self.size // bin_s))
        seconds, counts = self.dense(now, n * bin_s)
        sums = counts.reshape(n, bin_s, -1).sum(axis=1)
        starts = seconds.reshape(n, bin_s)[:, 0]
        return [(float(t), m / bin_s, e / bin_s) for t, m, e
                in zip(starts.tolist(), sums[:, MESSAGES].tolist(), sums[:, ERRORS].tolist(),
                       strict=True)]
