"""What a benchmark node measures and sends back to ``bench_federation.py``.

Latencies are kept as histograms of 1 ms bins (up to 10 s, then one overflow bin, and
the exact maximum), one per (agreement, measure) at each receiving node: a node takes
tens of thousands of partner rows a second and the parent only needs quantiles, so
histograms travel back instead of every sample.  A quantile is read as the upper edge
of its bin: never lower than the true value, at most 1 ms higher.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt

BIN_S: Final = 0.001
N_BINS: Final = 10_000

MEASURES: Final = {
    "report": "report at the source node -> merged picture published at the receiver "
              "(row last_seen -> publish)",
    "sender": "report -> the sender's step that sent it (envelope 'sent'): batching, "
              "tracker, rate limit / delay",
    "after": "envelope 'sent' -> merged picture published at the receiver (after egress)",
    "transit": "envelope 'sent' -> message handed to the receiver's Federation (rest of "
               "the sender's step, encode, publish, TLS, nats-server, receive)",
    "wait": "message arrived -> merged picture published (waiting for the next step, "
            "merge, publish)",
}
"""Each latency measured per partner row accepted at a receiver (all on the one clock
that every process shares)."""

STAGES: Final = ("reports", "tracker", "ingest", "fuse", "picture", "egress", "encode",
                 "send", "record", "node", "step")
STEP_DTYPE: Final = np.dtype([("start", "f8"), *((s, "f8") for s in STAGES),
                              *((s + "_cpu", "f8") for s in STAGES),
                              ("gap", "f8"), ("own", "u4"), ("common", "u4"),
                              ("filtered", "u4"), ("queued", "u4"), ("arrivals", "u4")])
"""One row per node step: each stage's wall time and the CPU time of the thread that ran
it (``<stage>_cpu``), in seconds; ``gap``: since the previous step began; row counts
(``filtered``: track updates through egress filters, ``queued``: rows sent)."""
NODE_STAGES: Final = ("tracker", "ingest", "fuse", "picture", "egress", "encode", "send")
STAGE_NOTES: Final = {
    "reports": "synthetic receiver (harness, stands in for decoding)",
    "tracker": "Tracker.update + expire + snapshot(now)",
    "ingest": "Federation.merge, its inbox: decode, signature, checks, PartnerTable.ingest",
    "fuse": "Federation.merge, the rest: expire + PartnerTracks.merge",
    "picture": "Picture.publish",
    "egress": "Federation.outgoing minus encode: the agreements' EgressFilter.select",
    "encode": "Federation.outgoing, its encoding: envelopes, encode_tracks, Ed25519",
    "send": "Federation.send_pending after the step (the sources: own agreements' messages "
            "go out during the merge, on the event loop: outside the steps)",
    "record": "benchmark bookkeeping (latency histograms)",
    "node": "the node's own work: tracker + ingest + fuse + picture + egress + encode + send",
    "step": "whole step: node + synthetic reports + bookkeeping",
}


@dataclass
class LatencyHist:
    """Counts of latencies in 1 ms bins (see the module docstring)."""

    counts: npt.NDArray[np.int64] = field(
        default_factory=lambda: np.zeros(N_BINS + 1, np.int64))
    max_s: float = -math.inf

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    def add(self, values: npt.NDArray[np.float64]) -> None:
        if not len(values):
            return
        bins = np.clip((values / BIN_S).astype(np.int64), 0, N_BINS)
        tally = np.bincount(bins)  # as long as the largest bin, not N_BINS: cheap
        self.counts[:len(tally)] += tally
        self.max_s = max(self.max_s, float(values.max()))

    def merge(self, other: LatencyHist) -> None:
        self.counts += other.counts
        self.max_s = max(self.max_s, other.max_s)

    def quantile(self, q: float) -> float:
        """Seconds (upper bin edge); NaN when empty."""
        total = self.total
        if not total:
            return math.nan
        k = int(np.searchsorted(np.cumsum(self.counts), math.ceil(q * total)))
        return min((k + 1) * BIN_S, self.max_s) if k < N_BINS else self.max_s


@dataclass(frozen=True)
class Progress:
    """Cumulative counters of one node at a progress tick (parent prints the rates)."""

    node: str
    tick: int
    steps: int
    reports: int
    own: int
    common: int
    rows_sent: int
    rows_received: int
    p99_report_s: float  # over this tick only, agreements without a delay
    p99_step_s: float  # over this tick only


@dataclass(frozen=True)
class NodeResult:
    """Everything one node measured during the measured window (counts too)."""

    node: str
    wall_s: float
    cpu_s: float  # user + system of the whole process (event loop and worker thread)
    steps: npt.NDArray[np.void]  # STEP_DTYPE
    hists: dict[tuple[str, str], LatencyHist]  # (agreement id[/relayed], measure)
    reports: int
    messages_sent: int
    rows_sent: int
    bytes_sent: int
    messages_received: int
    rows_received: int
    bytes_received: int
    dropped: dict[str, int]  # reason -> messages refused by Federation's checks
    stale_rows: int  # partner rows not newer than the one held
    bad_rows: int
    bus: dict[str, int]  # BusStats counters
    federation_latency: tuple[float, float]  # Federation.latency p50, p99 (last 10 s)
