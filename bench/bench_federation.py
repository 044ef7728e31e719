"""Six federated nodes on loopback: report-to-fused-picture latency across partners.

What runs: one nats-server (TLS, a user per partner, permissions from the agreements:
the folder ``skyshare federation init`` writes) and ``--nodes`` partners p1..pN, each a
separate process running a node's loop every 50 ms, stretched by the node's cadence up
to 250 ms while steps wait for a core (``skyshare.cadence``; ``federation_node.py``:
the code of ``Node.step``: Tracker -> Federation.outgoing for ``sources: own``
agreements, sent at once -> Federation.merge -> Picture.publish -> Federation.outgoing
for ``sources: all`` -> send_pending, status every second).  ``--aircraft`` synthetic aircraft
(``skyshare.synth.traffic``) fly over Europe; each partner's receiver hears those in its
cell of a grid plus a 0.5 degree overlap with its neighbours, ~2 positions/s per
aircraft, as ADS-B-like reports (REPORT_DTYPE rows: decoding Mode S frames is measured
by bench_decode.py and bench_end_to_end.py, and six decoders would not fit two cores
beside everything else).  Every node shares with every other under its own agreement
(``federation_terms.py``: regions, fields, 1-5 Hz, two ``sources: all``, one 2 s delay).

What is measured, after a warm-up, per partner row accepted at a receiver (one clock for
all processes): report at the source node -> merged picture published at the receiver
(target: p99 < 250 ms), overall and per agreement class.  An agreement's rate limit holds
a row back up to 1/rate by design, so the target is also shown for the agreements faster
than the aircraft report (2/s): 3-5 Hz; and for the part after the sender's egress alone
(envelope ``sent`` -> picture); the delayed feed and relayed rows are shown apart.  Per
node: the step's stage timings, wall and thread CPU (tracker, inbox ingest, partner
fusion, picture, egress, encode, send), throughput, CPU per process (six nodes share the
machine's cores: wall time includes waiting for one); and the egress filter's throughput
on one core (``bench_egress.py``'s measurement at 20,000 tracks, run again here once the
federation has stopped).

    .venv/bin/python bench/bench_federation.py --seconds 30
    .venv/bin/python bench/bench_federation.py --aircraft 2000 --seconds 10
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import os
import queue as queue_module
import socket
import sys
import tempfile
import time
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Final

import numpy as np
from federation_node import NodeSpec, run_node, warm_up
from federation_report import (
    print_agreements,
    print_latency,
    print_nodes,
    print_stages,
    progress_line,
)
from federation_stats import NodeResult, Progress
from federation_terms import Partner, Terms, agreement_terms, partition, write_agreements

from skyshare.config import NodeConfig
from skyshare.share.agreements import load_agreements
from skyshare.share.natsserver import NatsCluster
from skyshare.share.setup import Layout, init_federation
from skyshare.synth.traffic import Traffic

SEED: Final = 11
READY_TIMEOUT_S: Final = 300.0  # six processes loading numba kernels on two cores
TICK_HZ: Final = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_of(pid: int | None) -> float:
    """User + system CPU seconds of a process (0 when it is gone)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK_HZ


def own_cpu() -> float:
    t = os.times()
    return t.user + t.system


def set_up(root: Path, aircraft: int, nodes: int, start: float
           ) -> tuple[Layout, list[Partner], list[Terms]]:
    """The grid, the agreements and the federation folder (NATS config, keys, creds)."""
    traffic = Traffic(aircraft, seed=SEED, start_time=start)
    state = traffic.state(start)
    partners = partition(state.lat, state.lon, nodes)
    terms = agreement_terms(partners)
    (root / "agreements.yaml").parent.mkdir(parents=True, exist_ok=True)
    write_agreements(root / "agreements.yaml", terms, partners)
    layout = init_federation(root / "fed", [root / "agreements.yaml"], port=free_port())
    agreements = load_agreements(layout.agreements)
    warm_up(traffic, partners[0].coverage, SEED, agreements)  # fills numba's cache once,
    return layout, partners, terms  # before the node processes all want it at once


def spawn(layout: Layout, partners: list[Partner], args: argparse.Namespace, start: float,
          ) -> tuple[list[BaseProcess], Queue[object], Event, Synchronized[float]]:
    ctx = mp.get_context("spawn")
    results: Queue[object] = ctx.Queue()
    go = ctx.Event()
    start_at: Synchronized[float] = ctx.Value("d", 0.0)
    procs: list[BaseProcess] = []
    for p in partners:
        spec = NodeSpec(p.name, layout.root, p.coverage, args.aircraft, SEED, start,
                        args.interval, args.warmup, args.seconds, args.progress,
                        max(args.max_interval, args.interval),
                        args.profile if p.name == args.profile_node else None)
        proc = ctx.Process(target=run_node, args=(spec, results, go, start_at),
                           name=f"node-{p.name}", daemon=True)
        proc.start()
        procs.append(proc)
    return procs, results, go, start_at


def receive(results: Queue[object], procs: list[BaseProcess],
            timeout_s: float) -> object:
    """The next message of a node; fails when a node died or said it failed."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            item = results.get(timeout=0.2)
        except queue_module.Empty:
            dead = [p.name for p in procs if p.exitcode not in (None, 0)]
            if dead:
                raise RuntimeError(f"node process(es) {', '.join(dead)} died") from None
            if time.monotonic() > deadline:
                raise TimeoutError(f"no word from the nodes in {timeout_s:.0f} s") from None
            continue
        if isinstance(item, tuple) and item[0] == "error":
            raise RuntimeError(f"node {item[1]} failed:\n{item[2]}")
        return item


def run(args: argparse.Namespace, root: Path) -> None:
    start = time.time()
    layout, partners, terms = set_up(root, args.aircraft, args.nodes, start)
    cores = len(os.sched_getaffinity(0))
    print(f"{args.nodes} nodes (processes) on loopback, 1 nats-server (TLS), "
          f"{args.aircraft:,} aircraft, {len(terms)} agreements, a step every "
          f"{args.interval * 1e3:.0f} ms (up to {max(args.max_interval, args.interval) * 1e3:.0f}"
          f" ms when short of CPU); {args.seconds:g} s measured after {args.warmup:g} s of "
          "warm-up")
    print(f"machine: {os.cpu_count()} CPU(s), {cores} usable: the {args.nodes} nodes, "
          "nats-server and this parent share them")
    print("input: synthetic ADS-B-like reports (not Mode S frames: decoding is benchmarked "
          f"elsewhere and {args.nodes} decoders would not fit {cores} cores)")
    cells = ", ".join(f"{p.name} {p.cell.south:.1f}..{p.cell.north:.1f}N "
                      f"{p.cell.west:.1f}..{p.cell.east:.1f}E" for p in partners)
    print(f"cells: {cells}")
    with layout.cluster() as cluster:
        procs, results, go, start_at = spawn(layout, partners, args, start)
        try:
            collect(args, cluster, procs, results, go, start_at, terms, cores)
        finally:
            for p in procs:
                if p.is_alive():
                    p.terminate()
            for p in procs:
                p.join(5)
                if p.is_alive():
                    p.kill()
                    p.join(5)


def collect(args: argparse.Namespace, cluster: NatsCluster, procs: list[BaseProcess],
            results: Queue[object], go: Event, start_at: Synchronized[float],
            terms: list[Terms], cores: int) -> None:
    ready = 0
    while ready < len(procs):
        receive(results, procs, READY_TIMEOUT_S)
        ready += 1
    begin = time.time() + 0.5
    start_at.value = begin
    go.set()
    measure_from = begin + args.warmup
    nats_pid = cluster.servers[0].pid
    print(f"all {len(procs)} nodes ready; running")
    ticks: dict[int, list[Progress]] = {}
    done: list[NodeResult] = []
    nats0 = parent0 = nats1 = parent1 = math.nan
    while len(done) < len(procs):
        item = receive(results, procs, args.warmup + args.seconds + 120.0)
        if math.isnan(nats0) and time.time() >= measure_from:
            nats0, parent0 = cpu_of(nats_pid), own_cpu()
        if isinstance(item, Progress):
            ticks.setdefault(item.tick, []).append(item)
            if len(ticks[item.tick]) == len(procs) and item.tick > 0:
                print(progress_line(item.tick, args.progress, ticks[item.tick],
                                    ticks.get(item.tick - 1)), flush=True)
        elif isinstance(item, NodeResult):
            if math.isnan(nats1):
                nats1, parent1 = cpu_of(nats_pid), own_cpu()
            done.append(item)
    if math.isnan(nats0):  # no message came in the window: the nodes stalled
        nats0, parent0 = nats1, parent1
    done.sort(key=lambda r: int(r.node[1:]))
    print_latency(done, terms)
    print_nodes(done, nats1 - nats0, parent1 - parent0, cores)
    print_stages(done, args.interval, max(args.max_interval, args.interval))
    if args.verbose:
        print_agreements(done, terms)


def egress_headline(tracks: int = 20_000) -> None:
    """bench_egress.py's measurement, on an idle machine (the federation has stopped)."""
    from bench_alerts import picture
    from bench_egress import TARGET_PER_S, agreement, time_select

    t = picture(tracks)
    rng = np.random.default_rng(17)
    addresses = tuple(int(x) for x in rng.choice(t["icao24"], 3, replace=False))
    times, _ = time_select(t, agreement(rng, addresses, 0.0), 20)
    per_s = tracks / float(np.median(times))
    print(f"\nEgress filter alone (bench_egress.py's measurement, {tracks:,} tracks, one "
          f"core, run after the federation stopped): {per_s:,.0f} track updates/s; target "
          f"{TARGET_PER_S:,}/s: {'met' if per_s >= TARGET_PER_S else 'MISSED'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="measured time")
    parser.add_argument("--aircraft", type=int, default=20_000)
    parser.add_argument("--nodes", type=int, default=6)
    parser.add_argument("--warmup", type=float, default=5.0,
                        help="seconds run before measuring (tracks confirm, links settle)")
    parser.add_argument("--interval", type=float, default=NodeConfig.pipeline_interval_s,
                        help="node step, s (default: %(default)s, as a node's)")
    parser.add_argument("--max-interval", type=float,
                        default=NodeConfig.pipeline_max_interval_s,
                        help="the longest the step interval stretches to while steps wait "
                             "for a core (default: %(default)s, as a node's; = --interval: "
                             "a fixed cadence)")
    parser.add_argument("--progress", type=float, default=5.0, help="progress every, s")
    parser.add_argument("--keep", type=Path, help="write the federation folder here")
    parser.add_argument("--profile", type=Path, metavar="FILE",
                        help="write a cProfile of one node's measured steps here (read it "
                             "with python -m pstats FILE)")
    parser.add_argument("--profile-node", default="p3", metavar="NAME",
                        help="the node --profile profiles (default: %(default)s)")
    parser.add_argument("--verbose", action="store_true", help="print every agreement")
    parser.add_argument("--no-egress", action="store_true",
                        help="skip the egress filter's one-core measurement")
    args = parser.parse_args()
    if not 2 <= args.nodes <= 16:
        parser.error("--nodes must be 2..16 (a track's partner bits)")
    try:
        if args.keep:
            run(args, args.keep)
        else:
            with tempfile.TemporaryDirectory(prefix="bench-federation-") as tmp:
                run(args, Path(tmp))
        if not args.no_egress:
            egress_headline()
    except KeyboardInterrupt:
        print("\ninterrupted: node processes and nats-server stopped", file=sys.stderr)
        sys.exit(130)
    except (RuntimeError, TimeoutError) as exc:  # a node failed: the others were stopped
        print(f"\nbenchmark failed, node processes and nats-server stopped: {exc}",
              file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
