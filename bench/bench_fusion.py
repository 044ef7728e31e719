"""Fusion throughput: address-keyed reports of 20,000 simultaneous aircraft.

Builds (outside the timed part) the reports a dense receiver network delivers for N
aircraft over S seconds: per aircraft, airborne positions and velocities at 2 Hz each
and an identification every 5 s, with Gaussian noise; about 30 % of all rows are
duplicate copies of a transmission heard by an overlapping receiver (same frame_hash,
another sensor, a few ms later).  The reports are fed to :class:`Tracker` in batches
of ``--batch-s`` seconds of traffic (the live node uses ~50 ms), with ``expire`` and
``snapshot`` once per simulated second as the node does.  Target: >= 500,000 reports/s
on one core.

Peer, measured in the same run when installed (``pip install stonesoup``): Stone Soup,
a KalmanPredictor + KalmanUpdater (2-D constant velocity, position measurement) applied
per report to a subset of the same reports, one track per aircraft, scaled to reports/s.
It does only the filtering (no dedup, association, identity or lifecycle), so the ratio
flatters the peer.

    python bench/bench_fusion.py [--aircraft 20000] [--seconds 20] [--batch-s 0.2]
"""

from __future__ import annotations

import argparse
import itertools
import time
from datetime import UTC, datetime

import numpy as np

from skyshare.fusion import Tracker
from skyshare.fusion.geo import scales
from skyshare.model import ReportBatch, SourceKind, TrackFlag, empty_reports

T0 = 1_700_000_000.0
KT = 1852.0 / 3600.0
TARGET = 500_000.0


def traffic(aircraft: int, seconds: float, dup_share: float, seed: int = 7) -> ReportBatch:
    """Time-sorted reports of ``aircraft`` straight-flying aircraft (see module doc)."""
    rng = np.random.default_rng(seed)
    lat0, lon0 = rng.uniform(36.0, 60.0, aircraft), rng.uniform(-10.0, 30.0, aircraft)
    speed, heading = rng.uniform(60.0, 260.0, aircraft), rng.uniform(0.0, 2 * np.pi, aircraft)
    ve, vn = speed * np.sin(heading), speed * np.cos(heading)
    m_lat = 111_132.0
    m_lon = np.array([scales(float(x))[1] for x in lat0])
    parts = []
    for kind, period in (("pos", 0.5), ("vel", 0.5), ("ident", 5.0)):
        phase = rng.uniform(0.0, period, aircraft)
        ticks = int(np.ceil(seconds / period))
        t = (phase[:, None] + period * np.arange(ticks)[None, :]).ravel()
        who = np.repeat(np.arange(aircraft), ticks)
        keep = t < seconds
        t, who = t[keep], who[keep]
        r = empty_reports(len(t))
        r["time"], r["icao24"] = T0 + t, 0x100000 + who
        r["source"], r["df"], r["sensor"] = SourceKind.ADSB, 17, who % 8
        r["frame_hash"] = rng.integers(1, 2**63, len(t), dtype=np.uint64)
        r["rssi"] = rng.uniform(-30.0, -3.0, len(t))
        if kind == "pos":
            r["typecode"], r["nacp"], r["nic"] = 11, 9, 8
            r["lat"] = lat0[who] + (vn[who] * t + rng.normal(0, 10.0, len(t))) / m_lat
            r["lon"] = lon0[who] + (ve[who] * t + rng.normal(0, 10.0, len(t))) / m_lon[who]
            r["alt_baro"] = np.round(rng.uniform(100, 400, aircraft)[who]) * 100.0
        elif kind == "vel":
            r["typecode"], r["nacv"] = 19, 2
            e = ve[who] + rng.normal(0, 1.0, len(t))
            n = vn[who] + rng.normal(0, 1.0, len(t))
            r["groundspeed"] = np.hypot(e, n) / KT
            r["track"] = np.degrees(np.arctan2(e, n)) % 360.0
            r["vertical_rate"] = 0.0
        else:
            r["typecode"], r["category"] = 4, 0xA3
            r["callsign"] = np.char.mod(b"SKY%04d", who % 10000)
        parts.append(r)
    unique = np.concatenate(parts)
    copies = unique[rng.random(len(unique)) < dup_share / (1.0 - dup_share)].copy()
    copies["time"] += rng.uniform(0.0, 0.005, len(copies))
    copies["sensor"] = (copies["sensor"] + 1 + rng.integers(0, 7, len(copies))) % 8
    everything = np.concatenate([unique, copies])
    return everything[np.argsort(everything["time"], kind="stable")]


def run_skyshare(reports: ReportBatch, batch_s: float) -> tuple[float, float, Tracker, int]:
    """(seconds in update, seconds in expire+snapshot, tracker, rows) over all batches."""
    warm = Tracker()  # compile (or load the numba cache) outside the timing
    warm.update(reports[:1000])
    warm.expire(T0 + 1.0)
    warm.snapshot(T0 + 1.0)
    tracker = Tracker()
    edges = np.searchsorted(reports["time"], T0 + np.arange(0.0, 1e6, batch_s))
    edges = np.unique(np.append(edges[edges < len(reports)], len(reports)))
    t_update = t_picture = 0.0
    rows = 0
    next_picture = T0 + 1.0
    for lo, hi in itertools.pairwise(edges):
        chunk = reports[lo:hi]
        start = time.perf_counter()
        rows += len(tracker.update(chunk))
        t_update += time.perf_counter() - start
        now = float(chunk["time"][-1])
        if now >= next_picture:
            start = time.perf_counter()
            tracker.expire(now)
            tracker.snapshot(now)
            t_picture += time.perf_counter() - start
            next_picture += 1.0
    return t_update, t_picture, tracker, rows


def run_stonesoup(reports: ReportBatch, n: int) -> float | str:
    """Reports/s of Stone Soup's Kalman predict+update on ``n`` position reports."""
    try:
        from stonesoup.models.measurement.linear import LinearGaussian
        from stonesoup.models.transition.linear import (
            CombinedLinearGaussianTransitionModel,
            ConstantVelocity,
        )
        from stonesoup.predictor.kalman import KalmanPredictor
        from stonesoup.types.detection import Detection
        from stonesoup.types.hypothesis import SingleHypothesis
        from stonesoup.types.state import GaussianState
        from stonesoup.updater.kalman import KalmanUpdater
    except ImportError as exc:
        return f"no peer: Stone Soup is not installed ({exc.name}; pip install stonesoup)"
    positions = reports[np.isfinite(reports["lat"])][:n]
    transition = CombinedLinearGaussianTransitionModel([ConstantVelocity(9.0),
                                                        ConstantVelocity(9.0)])
    measurement = LinearGaussian(ndim_state=4, mapping=(0, 2), noise_covar=np.eye(2) * 150.0)
    predictor, updater = KalmanPredictor(transition), KalmanUpdater(measurement)
    tracks: dict[int, GaussianState] = {}
    start = time.perf_counter()
    for r in positions:
        when = datetime.fromtimestamp(float(r["time"]), tz=UTC)
        z = np.array([[r["lon"] * 75_000.0], [r["lat"] * 111_132.0]])  # metres, roughly
        prior = tracks.get(int(r["icao24"]))
        if prior is None:
            tracks[int(r["icao24"])] = GaussianState(
                np.array([[z[0, 0]], [0.0], [z[1, 0]], [0.0]]),
                np.diag([150.0, 250.0**2, 150.0, 250.0**2]), timestamp=when)
            continue
        prediction = predictor.predict(prior, timestamp=when)
        detection = Detection(z, timestamp=when, measurement_model=measurement)
        tracks[int(r["icao24"])] = updater.update(SingleHypothesis(prediction, detection))
    return len(positions) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aircraft", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--batch-s", type=float, default=0.2)
    parser.add_argument("--duplicates", type=float, default=0.3, help="share of copies")
    parser.add_argument("--peer-reports", type=int, default=20_000)
    args = parser.parse_args()

    start = time.perf_counter()
    reports = traffic(args.aircraft, args.seconds, args.duplicates)
    print(f"built {len(reports):,} reports of {args.aircraft:,} aircraft over "
          f"{args.seconds:g} s in {time.perf_counter() - start:.1f} s")
    t_update, t_picture, tracker, rows = run_skyshare(reports, args.batch_s)
    counts = tracker.counts
    rate = len(reports) / t_update
    snap = tracker.snapshot()
    confirmed_with_position = int(np.sum(snap["flags"] & np.uint16(TrackFlag.HAS_POSITION) != 0))
    print(f"skyshare: {rate:,.0f} reports/s in update ({len(reports):,} reports, "
          f"{t_update:.2f} s; batches of {args.batch_s:g} s)  target >= {TARGET:,.0f}: "
          f"{'PASS' if rate >= TARGET else 'FAIL'}")
    print(f"          {len(reports) / (t_update + t_picture):,.0f} reports/s including "
          f"expire+snapshot once per second ({t_picture:.2f} s)")
    print(f"          tracks: {tracker.live_tracks:,} live, {len(snap):,} confirmed "
          f"({confirmed_with_position:,} with position); {rows:,} track updates")
    print(f"          duplicates {counts['duplicates']:,} "
          f"({counts['duplicates'] / len(reports):.0%}), "
          f"rejected-implausible {counts['rejected-implausible']:,}, "
          f"tracks-created {counts['tracks-created']:,}")
    peer = run_stonesoup(reports, args.peer_reports)
    if isinstance(peer, str):
        print(peer)
    else:
        print(f"stonesoup: {peer:,.0f} reports/s (KalmanPredictor+KalmanUpdater per position "
              f"report, {args.peer_reports:,} reports)  skyshare/stonesoup = {rate / peer:,.0f}x")
    print(f"total bench time {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
