"""One node of the federation benchmark, run in its own process (``run_node``).

The loop is :meth:`skyshare.node.Node.step` and ``Node._pipeline_loop`` with a
synthetic receiver in place of sockets and decoding: every ``interval_s`` the worker
thread fuses the reports heard since the last step (``Tracker.update``), takes the own
picture (``snapshot(now)``), filters and signs what the ``sources: own`` agreements let
out (``Federation.outgoing``) and has the event loop publish it at once
(``send_soon``), merges what partners sent (``Federation.merge``), publishes the
picture, filters and signs what the ``sources: all`` agreements let out; then the event
loop publishes that (``send_pending``) and sleeps what is left of the interval (set by
the node's cadence, :mod:`skyshare.cadence`, as in ``Node._pipeline_loop``).  Status
messages go out every ``status_interval_s`` as in ``Node._federation_loop``.

Instrumentation, the only departures from the node's code: :class:`MeasuredFederation`
notes the bytes and arrival time of each track message next to the Federation's own
inbox (to read row times and envelope fields for the latency figures without a second
signature check), and times the inbox's processing inside ``merge`` and the encoding
inside ``outgoing`` (wall and thread CPU time, so that waiting for a core, with six
nodes on two cores, can be told from work).
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import itertools
import json
import logging
import math
import os
import signal
import struct
import time
import traceback
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.queues import Queue
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
from federation_stats import NODE_STAGES, STAGES, STEP_DTYPE, LatencyHist, NodeResult, Progress
from federation_terms import Box

from skyshare.cadence import Cadence
from skyshare.fusion.partners import FIRST_PARTNER_ONLY_ID, PartnerTracks
from skyshare.fusion.tracker import Tracker
from skyshare.model import (
    ReportBatch,
    ReportFlag,
    SourceKind,
    TrackBatch,
    empty_reports,
)
from skyshare.picture import Picture
from skyshare.share.agreements import Agreement
from skyshare.share.egress import EgressFilter, Outgoing
from skyshare.share.federation import Federation
from skyshare.share.federation import warm_up as warm_up_federation
from skyshare.share.settings import FederationConfig
from skyshare.share.setup import Layout
from skyshare.share.wire import WIRE_TRACK_DTYPE
from skyshare.synth.traffic import Traffic, hash_u64, hash_uniform

log = logging.getLogger("bench.federation")

REPORT_PERIOD_S: Final = 0.5  # ADS-B airborne positions: ~2 per second ...
REPORT_JITTER_S: Final = 0.1  # ... at randomised intervals of 0.4-0.6 s
COARSE_EVERY_S: Final = 1.0  # how often the receiver refreshes its view of every aircraft
COARSE_MARGIN_DEG: Final = 0.05  # an aircraft moves < 0.003 deg/s: ample
_PREFIX: Final = struct.Struct("<4sI")
_PHASE, _JITTER, _FRAME = 901, 902, 903  # hash streams of the synthetic receiver


@dataclass(frozen=True)
class NodeSpec:
    """What a node process needs (picklable: sent to a spawned process)."""

    name: str
    root: Path  # the federation folder written by init_federation
    coverage: Box
    aircraft: int
    seed: int
    traffic_start: float  # UNIX s; the same in every process, so the traffic is the same
    interval_s: float
    warmup_s: float
    seconds: float
    progress_s: float
    max_interval_s: float
    profile: Path | None = None  # write a cProfile of the measured steps here


# --------------------------------------------------------------------------- receiver
class Receiver:
    """A synthetic ADS-B receiver: the position reports heard between two steps.

    Every aircraft transmits at ``REPORT_PERIOD_S`` +- ``REPORT_JITTER_S`` from a phase
    of its own; the schedule is a hash of (seed, slot, count), so receivers in every
    process hear one transmission at the same instant (overlapping coverage hears the
    same messages).  A report carries the time it was heard, which is before the step
    that fuses it, as a real node's frames are."""

    def __init__(self, traffic: Traffic, coverage: Box, seed: int, start: float) -> None:
        self.traffic, self.coverage, self.seed = traffic, coverage, seed
        slots = np.arange(traffic.n, dtype=np.int64)
        self.next_t = start + REPORT_PERIOD_S * hash_uniform(seed, slots, 0, _PHASE)
        self.count = np.zeros(traffic.n, np.int64)
        self.near = coverage.widened(COARSE_MARGIN_DEG)
        self.coarse_at = -math.inf
        self.coarse = np.zeros(traffic.n, np.bool_)

    def reports(self, now: float) -> ReportBatch:
        if now - self.coarse_at >= COARSE_EVERY_S:
            state = self.traffic.state(now)
            self.coarse, self.coarse_at = self.near.contains(state.lat, state.lon), now
        slots, times, counts = [], [], []
        while True:  # a late step hears every transmission it missed
            due = np.flatnonzero(self.next_t <= now)
            if not len(due):
                break
            slots.append(due)
            times.append(self.next_t[due])
            self.count[due] += 1
            counts.append(self.count[due])
            jitter = hash_uniform(self.seed, due, self.count[due], _JITTER)
            self.next_t[due] += REPORT_PERIOD_S + REPORT_JITTER_S * (2 * jitter - 1)
        if not slots:
            return empty_reports(0)
        slot, t, count = (np.concatenate(x) for x in (slots, times, counts))
        near = self.coarse[slot]
        slot, t, count = slot[near], t[near], count[near]
        st = self.traffic.sample(slot, t)
        heard = self.coverage.contains(st.lat, st.lon)
        r = empty_reports(int(np.count_nonzero(heard)))
        r["time"], r["sensor"], r["source"], r["df"] = t[heard], 0, SourceKind.ADSB, 17
        r["typecode"], r["nic"], r["nacp"], r["nacv"], r["sil"] = 11, 8, 9, 1, 3
        r["icao24"], r["callsign"] = st.icao24[heard], st.callsign[heard]
        r["category"], r["squawk"] = st.category[heard], st.squawk[heard]
        r["lat"], r["lon"], r["alt_baro"] = st.lat[heard], st.lon[heard], st.alt_baro[heard]
        r["groundspeed"], r["track"] = st.groundspeed[heard], st.track[heard]
        r["vertical_rate"] = st.vertical_rate[heard]
        r["flags"] = np.where(st.on_ground[heard], np.uint16(ReportFlag.ON_GROUND), 0)
        r["frame_hash"] = hash_u64(self.seed, slot[heard], count[heard], _FRAME)
        return r


# --------------------------------------------------------------------------- federation
class MeasuredFederation(Federation):
    """A Federation that also notes what arrives, and times the inbox's processing inside
    ``merge`` and the encoding inside ``outgoing`` (instrumentation only)."""

    def __init__(self, me: str, node_name: str, config: FederationConfig,
                 data_dir: Path) -> None:
        super().__init__(me, node_name, config, data_dir)
        self.arrivals: deque[tuple[bytes, float]] = deque()
        self.ingest = Stopwatch.part()
        self.encode = Stopwatch.part()

    def on_message(self, subj: str, data: bytes) -> None:
        super().on_message(subj, data)
        if subj.startswith("sky.tracks."):
            self.arrivals.append((data, time.time()))

    def take_arrivals(self) -> list[tuple[bytes, float]]:
        """Arrivals so far; taken before ``merge``, so each was merged by it (a message
        arriving in between is merged too but counted at the next step: conservative)."""
        return [self.arrivals.popleft() for _ in range(len(self.arrivals))]

    def _accept(self, subj: str, data: bytes, received: float) -> None:
        with Stopwatch.timing(self.ingest):
            super()._accept(subj, data, received)

    def _queue_tracks(self, a: Agreement, out: Outgoing, now: float) -> int:
        with Stopwatch.timing(self.encode):
            return super()._queue_tracks(a, out, now)


class Stopwatch:
    """Wall and thread-CPU seconds of the consecutive stages of one step."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self._at = (time.perf_counter(), time.thread_time())

    def lap(self, stage: str) -> None:
        """The time since the last lap goes to ``stage`` (added, if it has some)."""
        at = (time.perf_counter(), time.thread_time())
        self.wall[stage] = self.wall.get(stage, 0.0) + at[0] - self._at[0]
        self.cpu[stage] = self.cpu.get(stage, 0.0) + at[1] - self._at[1]
        self._at = at

    def split(self, stage: str, into: tuple[str, str], part: list[float]) -> None:
        """Split a lapped stage in two: ``part`` (wall, cpu) measured inside it, the rest."""
        first, rest = into
        self.wall[first], self.cpu[first] = part
        self.wall[rest] = self.wall.pop(stage) - part[0]
        self.cpu[rest] = self.cpu.pop(stage) - part[1]
        part[:] = [0.0, 0.0]

    @staticmethod
    def part() -> list[float]:
        return [0.0, 0.0]

    @staticmethod
    @contextlib.contextmanager
    def timing(part: list[float]) -> Iterator[None]:
        """Add the wall and thread-CPU time of the block to ``part``."""
        w, c = time.perf_counter(), time.thread_time()
        try:
            yield
        finally:
            part[0] += time.perf_counter() - w
            part[1] += time.thread_time() - c


def peek(data: bytes) -> tuple[str, float, npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """(agreement, sent, rows' last_seen, rows relayed) of a track message Federation
    accepted (read straight from the wire layout: the Federation checked it)."""
    _, hlen = _PREFIX.unpack_from(data)
    header = json.loads(data[_PREFIX.size:_PREFIX.size + hlen])
    rows = np.frombuffer(data, WIRE_TRACK_DTYPE, count=header["rows"],
                         offset=_PREFIX.size + hlen)
    return (str(header["agreement"]), float(header["sent"]),
            rows["last_seen"].astype(np.float64), rows["track_id"] >= FIRST_PARTNER_ONLY_ID)


# --------------------------------------------------------------------------- the node
class BenchNode:
    """The node loop and its measurements (see the module docstring)."""

    def __init__(self, spec: NodeSpec) -> None:
        layout = Layout.load(spec.root)
        fed = layout.root
        config = FederationConfig(agreements=layout.agreements,
                                  credentials=fed / "nats" / "creds" / f"{spec.name}.json",
                                  public_keys=fed / "keys" / "public",
                                  key=fed / "keys" / f"{spec.name}.key")
        self.spec = spec
        self.fed = MeasuredFederation(spec.name, f"bench-{spec.name}", config,
                                      fed / spec.name / "data")
        self.tracker = Tracker()
        self.picture = Picture()
        self.traffic = Traffic(spec.aircraft, seed=spec.seed, start_time=spec.traffic_start)
        self.receiver = Receiver(self.traffic, spec.coverage, spec.seed, math.inf)
        self.measure_from = self.last_start = self.step_start = math.inf
        self.hists: dict[tuple[str, str], LatencyHist] = {}
        self.tick = LatencyHist()
        self.steps: list[tuple[float, ...]] = []
        self.reports = 0
        self.own = self.common = 0
        self.profiler = cProfile.Profile(time.thread_time) if spec.profile else None

    def begin(self, start: float) -> None:
        """Start hearing aircraft at ``start`` (UNIX s); measure after the warm-up."""
        self.receiver = Receiver(self.traffic, self.spec.coverage, self.spec.seed, start)
        self.measure_from, self.last_start = start + self.spec.warmup_s, start

    def step(self) -> tuple[Stopwatch, tuple[int, ...]]:
        """One pipeline step, as Node.step (worker thread): its timings and row counts."""
        watch = Stopwatch()
        now = time.time()
        reports = self.receiver.reports(now)
        watch.lap("reports")
        self.tracker.update(reports)
        self.tracker.expire(now)
        own = self.tracker.snapshot(now)
        watch.lap("tracker")
        queued = self.fed.outgoing(own, own, now, "own")  # as Node.step does
        self.fed.send_soon()
        watch.lap("outgoing")
        arrivals = self.fed.take_arrivals()
        common = self.fed.merge(own, now)
        watch.lap("merge")
        watch.split("merge", ("ingest", "fuse"), self.fed.ingest)
        self.picture.publish(common, now)
        published = time.time()
        self.fed.published(published)
        watch.lap("picture")
        queued += self.fed.outgoing(own, common, now, "all")
        watch.lap("outgoing")
        watch.split("outgoing", ("encode", "egress"), self.fed.encode)
        if published >= self.measure_from:
            self._record(arrivals, published)
            self.reports += len(reports)
        watch.lap("record")
        self.own, self.common = len(own), len(common)
        filtered = sum(len(own) if a.sources == "own" else len(common)
                       for a in self.fed.agreements.outgoing(self.spec.name)
                       if a.active_at(now))
        self.step_start = now
        return watch, (len(own), len(common), filtered, queued, len(arrivals))

    def profiled_step(self) -> tuple[Stopwatch, tuple[int, ...]]:
        """:meth:`step`, under cProfile once measuring when the spec asks for it."""
        if self.profiler is None or self.step_start < self.measure_from:
            return self.step()
        self.profiler.enable()
        try:
            return self.step()
        finally:
            self.profiler.disable()

    def _record(self, arrivals: list[tuple[bytes, float]], published: float) -> None:
        for data, received in arrivals:
            agreement, sent, seen, relayed = peek(data)
            parts = [(agreement, ~relayed), (agreement + "/relayed", relayed)]
            for name, rows in parts if relayed.any() else [(agreement, slice(None))]:
                s = seen[rows]
                n = len(s)
                for measure, values in (("report", published - s), ("sender", sent - s),
                                        ("after", np.full(n, published - sent)),
                                        ("transit", np.full(n, received - sent)),
                                        ("wait", np.full(n, published - received))):
                    self.hists.setdefault((name, measure), LatencyHist()).add(values)
            if self.fed.agreements[agreement].min_delay_s == 0:
                self.tick.add(published - seen)

    async def run(self, queue: Queue[object]) -> None:
        """Steps until the end of the measured window, then the result goes to ``queue``."""
        spec = self.spec
        end = self.measure_from + spec.seconds
        await asyncio.sleep(max(0.0, self.last_start - time.time()))
        status = asyncio.create_task(self._status_loop())
        cpu0 = wall0 = math.nan
        base = Counter[str]()
        next_tick, tick = self.measure_from + spec.progress_s, 0
        cadence = Cadence(spec.interval_s, spec.max_interval_s)
        try:
            while time.time() < end:
                started = time.monotonic()
                if math.isnan(cpu0) and time.time() >= self.measure_from:
                    cpu0, wall0, base = _cpu_s(), time.time(), self.counters()
                    queue.put(self._progress(0))  # the baseline of the first tick's rates
                watch, counts = await asyncio.to_thread(self.profiled_step)
                worker_cpu = sum(watch.cpu.values())  # the step's thread
                with Stopwatch.timing(send := Stopwatch.part()):
                    await self.fed.send_pending()
                watch.wall["send"], watch.cpu["send"] = send
                now = time.monotonic()
                wake = now + cadence.rest(now - started, worker_cpu)  # as Node's loop
                self._note_step(watch, counts)
                if time.time() >= next_tick:
                    tick += 1
                    queue.put(self._progress(tick))
                    next_tick += spec.progress_s
                await asyncio.sleep(max(0.0, wake - time.monotonic()))
            if time.time() >= next_tick:  # the tick at the very end of the window
                queue.put(self._progress(tick + 1))
            queue.put(self._result(_cpu_s() - cpu0, time.time() - wall0, base))
            if self.profiler is not None and spec.profile is not None:
                self.profiler.dump_stats(spec.profile)
        finally:
            status.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await status
            try:
                await self.fed.bus.close()
            except Exception as exc:  # nats-py, when the server went away: see the report
                log.warning("closing the bus failed: %r", exc)

    def _note_step(self, watch: Stopwatch, counts: tuple[int, ...]) -> None:
        start = self.step_start
        gap, self.last_start = start - self.last_start, start
        if start < self.measure_from:
            return
        row: dict[str, float] = {"start": start, "gap": gap}
        for times, suffix in ((watch.wall, ""), (watch.cpu, "_cpu")):
            times["node"] = sum(times[s] for s in NODE_STAGES)
            times["step"] = times["node"] + times["reports"] + times["record"]
            row.update({stage + suffix: times[stage] for stage in STAGES})
        names = STEP_DTYPE.names or ()
        self.steps.append(tuple(row[n] for n in names[:len(row)]) + counts)

    async def _status_loop(self) -> None:
        while True:
            await self.fed.send_status()
            await asyncio.sleep(self.fed.config.status_interval_s)

    def _progress(self, tick: int) -> Progress:
        st = self.fed.status.values()
        column = STEP_DTYPE.names.index("step") if STEP_DTYPE.names else 0
        recent = np.array([s[column] for s in self.steps[-int(self.spec.progress_s
                                                               / self.spec.interval_s):]])
        out = Progress(self.spec.name, tick, len(self.steps), self.reports, self.own,
                       self.common, sum(s.sent.rows for s in st),
                       sum(s.received.rows for s in st), self.tick.quantile(0.99),
                       float(np.quantile(recent, 0.99)) if len(recent) else math.nan)
        self.tick = LatencyHist()
        return out

    def counters(self) -> Counter[str]:
        """Cumulative counts since the node started (differences are taken)."""
        fed, out = self.fed, Counter[str]()
        for s in fed.status.values():
            for name, flow in (("sent", s.sent), ("received", s.received)):
                out[f"messages_{name}"] += flow.messages
                out[f"rows_{name}"] += flow.rows
                out[f"bytes_{name}"] += flow.bytes
            out.update({f"dropped:{k}": v for k, v in s.dropped.items()})
        out.update({f"dropped:{k}": v for k, v in fed.dropped_unknown.items()})
        for p in fed.partners.stats():
            out["stale_rows"] += p.stale_dropped
            out["bad_rows"] += p.bad_input
        return out

    def _result(self, cpu_s: float, wall_s: float, base: Counter[str]) -> NodeResult:
        c = self.counters()
        c.subtract(base)
        bus = self.fed.bus.stats
        return NodeResult(
            node=self.spec.name, wall_s=wall_s, cpu_s=cpu_s,
            steps=np.array(self.steps, dtype=STEP_DTYPE), hists=self.hists,
            reports=self.reports, messages_sent=c["messages_sent"], rows_sent=c["rows_sent"],
            bytes_sent=c["bytes_sent"], messages_received=c["messages_received"],
            rows_received=c["rows_received"], bytes_received=c["bytes_received"],
            dropped={k.split(":", 1)[1]: v for k, v in c.items()
                     if k.startswith("dropped:") and v},
            stale_rows=c["stale_rows"], bad_rows=c["bad_rows"],
            bus={"disconnects": bus.disconnects, "reconnects": bus.reconnects,
                 "permission_violations": bus.permission_violations,
                 "handler_errors": bus.handler_errors},
            federation_latency=self.fed.latency.quantiles())


def _cpu_s() -> float:
    t = os.times()
    return t.user + t.system


async def _main(spec: NodeSpec, queue: Queue[object], go: Event,
                start_at: Synchronized[float]) -> None:
    node = BenchNode(spec)
    warm_up(node.traffic, spec.coverage, spec.seed, node.fed.agreements.outgoing(spec.name))
    await node.fed.start()
    queue.put(("ready", spec.name))
    while not go.is_set():  # keep the event loop (and the NATS connection) serviced
        await asyncio.sleep(0.02)
    node.begin(float(start_at.value))
    await node.run(queue)


def warm_up(traffic: Traffic, coverage: Box, seed: int,
            agreements: Iterable[Agreement]) -> None:
    """Compile (or load from numba's cache) every kernel before the clock starts.

    The library's warm-ups miss specialisations a node meets in its first seconds: the
    partner merge's kernels are specialised per layout of the callsign columns, and a
    strided column of 0 or 1 rows is contiguous to numba (every node starts with an
    empty picture); the tracker's dedup table is rehashed once it holds 4096 entries."""
    warm_up_federation()
    t = time.time()
    tracker = Tracker()
    tracker.update(Receiver(traffic, coverage, seed, t - 2.0).reports(t))
    tracker.expire(t)
    own: TrackBatch = tracker.snapshot(t)
    many = empty_reports(5000)
    many["time"], many["frame_hash"] = t, np.arange(1, 5001)
    many["icao24"], many["source"] = np.arange(5000), SourceKind.ADSB
    Tracker().update(many)
    if len(own) >= 3:
        for n_own, n_partner in itertools.product((0, 1, 3), repeat=2):
            partners = PartnerTracks(["a"])
            partners.ingest(0, own[:n_partner], np.zeros(0, np.uint32), t, t)
            partners.merge(own[:n_own], t)
    for a in agreements:
        EgressFilter(a, None).select(own, own, t)  # throwaway filters: the node's stay new


def run_node(spec: NodeSpec, queue: Queue[object], go: Event,
             start_at: Synchronized[float]) -> None:
    """Process entry point: run one node; any failure is reported to the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    logging.basicConfig(level=logging.WARNING,
                        format=f"[{spec.name}] %(levelname)s %(name)s: %(message)s")
    # asyncio warns "returning true from eof_received() has no effect when using ssl" as
    # nats-py closes a TLS connection: harmless, and it would interleave with the results
    logging.getLogger("asyncio").setLevel(logging.ERROR)
    try:
        asyncio.run(_main(spec, queue, go, start_at))
    except BaseException:
        queue.put(("error", spec.name, traceback.format_exc()))
        raise
