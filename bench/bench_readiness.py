"""What readiness costs the pipeline: 20,000 aircraft heard by 4 receivers, one core.

Readiness runs on every pipeline step (:meth:`Readiness.observe`: receiver clocks,
reports decoded per sensor, positions into the coverage outlines) and once a second
(:meth:`Readiness.sample`: every sensor's history and judgement).  The frames are the
synthetic feed's (true DF17, four receivers' worth, 50-ms steps as a busy node gets
them), decoded by our decoder first; the benchmark times, per step,

- ``pipeline``: decoding and fusing the step's frames (what the node does anyway);
- ``observe``: readiness on the same step; the target is a small share of that;
- ``outline``: the coverage outline's part of ``observe`` (the numba kernel, on the
  report columns as they are), and ``numpy``: the same update written the obvious
  numpy way (select the positions, haversine, bearing, ``np.maximum.at``; one band).

No peer computes a receiver's range outline as a library call (dump1090/readsb keep
theirs inside the C program), so the ratio that matters is against our own decoding in
the same run.  (The aircraft fly on great circles at cruise: about half the frames
carry a position.)

    python bench/bench_readiness.py [--aircraft 20000] [--seconds 20]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np

from skyshare.badinput import BadInput
from skyshare.model import FrameBatch
from skyshare.pipeline import Pipeline
from skyshare.readiness.coverage import warm_up
from skyshare.readiness.monitor import Readiness
from skyshare.readiness.settings import ReadinessConfig
from skyshare.sources.base import SensorSpec, SensorStatus, SourceOutput
from skyshare.synth.feed import SyntheticFeed
from skyshare.synth.traffic import Traffic

REGION = (44.0, -2.0, 54.0, 16.0)
RECEIVERS = ((47.0, 2.0), (51.0, 4.0), (48.5, 11.0), (52.0, 13.0))
STEP_S = 0.05
T0 = 1_800_000_000.0


def frames_per_step(aircraft: int, seconds: float) -> list[FrameBatch]:
    traffic = Traffic(aircraft, seed=3, region=REGION, start_time=T0 - 600)
    feeds = [SyntheticFeed(traffic, sensor=i, receiver=r) for i, r in enumerate(RECEIVERS)]
    steps = []
    for k in range(int(seconds / STEP_S)):
        t0 = T0 + k * STEP_S
        parts = [f.frames_between(t0, t0 + STEP_S) for f in feeds]
        for p in parts:
            p["time"] = t0 + STEP_S  # one read per step, stamped on arrival
        steps.append(np.concatenate(parts))
    return steps


def numpy_outline(grid: np.ndarray, sensor: np.ndarray, lat: np.ndarray, lon: np.ndarray,
                  sites: np.ndarray) -> None:
    s_lat, s_lon = np.radians(sites[sensor, 0]), np.radians(sites[sensor, 1])
    p2, dl = np.radians(lat), np.radians(lon) - s_lon
    h = np.sin((p2 - s_lat) / 2) ** 2 + np.cos(s_lat) * np.cos(p2) * np.sin(dl / 2) ** 2
    dist = 2 * 6371008.8 * np.arcsin(np.sqrt(np.minimum(h, 1))) / 1852
    bearing = np.degrees(np.arctan2(np.sin(dl) * np.cos(p2), np.cos(s_lat) * np.sin(p2)
                                    - np.sin(s_lat) * np.cos(p2) * np.cos(dl))) % 360
    np.maximum.at(grid, (sensor, (bearing // 2).astype(int)), dist)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--aircraft", type=int, default=20000)
    ap.add_argument("--seconds", type=float, default=20.0)
    args = ap.parse_args()
    print(f"generating {args.seconds:g} s of {args.aircraft:,} aircraft x {len(RECEIVERS)} "
          "receivers ...", flush=True)
    steps = frames_per_step(args.aircraft, args.seconds)
    specs = [SensorSpec(name=f"rx{i}", index=i, format="beast", mode="connect", lat=r[0],
                        lon=r[1]) for i, r in enumerate(RECEIVERS)]
    statuses = [SensorStatus.for_spec(s, BadInput(quiet=True)) for s in specs]
    readiness = Readiness(ReadinessConfig(), specs, statuses, None, T0)
    pipeline = Pipeline(specs, [s.bad for s in statuses])
    warm_up()
    pipeline.process([SourceOutput.of_frames(steps[0][:100])])
    sites = np.array(RECEIVERS)
    grid = np.zeros((len(RECEIVERS), 180))
    decode_ms, observe_ms, outline_ms, numpy_ms, sample_ms = [], [], [], [], []
    reports_n = positions_n = frames_n = 0
    for k, frames in enumerate(steps):
        outputs = [SourceOutput.of_frames(frames[frames["sensor"] == i])
                   for i in range(len(RECEIVERS))]
        t = time.perf_counter()
        reports = pipeline.decode(outputs)
        pipeline.fuse(reports)
        decode_ms.append((time.perf_counter() - t) * 1e3)
        now = T0 + (k + 1) * STEP_S
        t = time.perf_counter()
        readiness.observe(outputs, reports, now)
        observe_ms.append((time.perf_counter() - t) * 1e3)
        t = time.perf_counter()
        readiness.coverage.observe_reports(reports, now)  # again: a maximum is idempotent
        outline_ms.append((time.perf_counter() - t) * 1e3)
        t = time.perf_counter()
        placed = reports[np.isfinite(reports["lat"])]
        numpy_outline(grid, placed["sensor"].astype(np.intp), placed["lat"], placed["lon"],
                      sites)
        numpy_ms.append((time.perf_counter() - t) * 1e3)
        frames_n, reports_n, positions_n = (frames_n + len(frames), reports_n + len(reports),
                                            positions_n + len(placed))
        if k % round(1 / STEP_S) == 0:
            for s, i in zip(statuses, range(len(RECEIVERS)), strict=True):
                s.record(int((frames["sensor"] == i).sum()), now)
            t = time.perf_counter()
            readiness.sample(now)
            sample_ms.append((time.perf_counter() - t) * 1e3)
    n = len(steps)
    print(f"{n} steps of {STEP_S * 1e3:.0f} ms: {frames_n / args.seconds:,.0f} frames/s, "
          f"{reports_n / args.seconds:,.0f} reports/s, {positions_n / args.seconds:,.0f} "
          "positions/s")

    def line(name: str, ms: list[float]) -> None:
        p95 = sorted(ms)[math.ceil(0.95 * len(ms)) - 1]
        print(f"  {name:8} median {statistics.median(ms):7.3f} ms   p95 {p95:7.3f} ms")

    line("pipeline", decode_ms)
    line("observe", observe_ms)
    line("outline", outline_ms)
    line("numpy", numpy_ms)
    line("sample", sample_ms)
    share = statistics.median(observe_ms) / statistics.median(decode_ms)
    print(f"readiness per step: {share:.1%} of decoding and fusing the same frames; outline "
          f"kernel {statistics.median(numpy_ms) / statistics.median(outline_ms):.1f}x the "
          "obvious numpy")
    for r in readiness.sensors:
        print(f"  {r.name}: {r.state}, {r.rate:,.0f} msg/s, outline to "
              f"{readiness.coverage.outline(r.index, T0 + args.seconds)[0].max():.0f} NM")


if __name__ == "__main__":
    main()
