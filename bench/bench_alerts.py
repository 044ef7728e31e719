"""Alert rule evaluation per picture update: 20,000 tracks, 500 airspace volumes, one core.

The picture is the airspace benchmark's (``bench_airspace.py``: tracks over Europe,
500 random volumes with mixed limits and schedules) as a real TRACK_DTYPE batch, with
1 % of the tracks squawking 7500/7600/7700, 1 % silent for 30 s (transponder loss
candidates), 1 % descending fast, and 30 receivers for the coverage model.  Each
update moves every track by one second of flight, then times

- ``evaluate``: every rule (:func:`skyshare.alerts.rules.evaluate`), the figure the
  issue budgets at 50 ms;
- ``service``: rules + engine + workflow + the audit log append of whatever changed
  (:meth:`AlertService.update` with a real SQLite log), what the node runs.

For scale, the same run times shapely's own bulk query (``STRtree.query(points,
predicate="within")`` over fresh point geometries) for the point-in-volume part alone,
the way a straightforward shapely 2 implementation would do it, and prints the ratio.

    python bench/bench_alerts.py [--tracks 20000] [--volumes 500] [--updates 30]
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely
from bench_airspace import T0, tracks, volumes  # same directory

from skyshare.airspace import VolumeSet
from skyshare.alerts.rules import RulesConfig, SensorRangeCoverage, evaluate
from skyshare.alerts.service import AlertsConfig, AlertService
from skyshare.model import SourceKind, TrackFlag, empty_tracks
from skyshare.store.audit import AuditLog

BUDGET_MS = 50.0


def picture(n: int, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    raw = tracks(n)
    t = empty_tracks(n)
    t["track_id"] = np.arange(1, n + 1)
    t["icao24"] = 0x300000 + np.arange(n)
    t["flags"] = np.uint16(TrackFlag.CONFIRMED | TrackFlag.HAS_POSITION)
    t["callsign"] = b"BENCH"
    t["squawk"] = rng.integers(1000, 6000, n)
    t["lat"], t["lon"], t["alt"], t["alt_geo"] = raw["lat"], raw["lon"], raw["alt"], raw["alt_geo"]
    t["groundspeed"], t["track"], t["vertical_rate"] = raw["gs"], raw["track"], raw["vrate"]
    t["last_pos"] = t["last_seen"] = T0
    t["sensors"] = np.uint64(1) << rng.integers(0, 30, n).astype(np.uint64)
    t["sources"] = np.uint8(1 << SourceKind.ADSB)
    special = rng.permutation(n)
    k = n // 100
    t["squawk"][special[:k]] = rng.choice([7500, 7600, 7700], k)
    t["last_pos"][special[k:2 * k]] = T0 - 30.0
    t["vertical_rate"][special[2 * k:3 * k]] = -8000.0
    t["alt"][special[2 * k:3 * k]] = 20_000.0
    return t


def advance(t: np.ndarray, dt: float) -> None:
    """Every track flies ``dt`` seconds straight (positions only; rules do not care)."""
    d_m = t["groundspeed"].astype(np.float64) * 0.514444 * dt
    rad = np.radians(t["track"].astype(np.float64))
    t["lat"] += d_m * np.cos(rad) / 111_195.0
    t["lon"] += d_m * np.sin(rad) / (111_195.0 * np.cos(np.radians(t["lat"])))
    moving = t["last_pos"] > T0 - 10  # the silent ones stay silent
    t["last_pos"][moving] += dt
    t["last_seen"] = t["last_pos"]


def quantiles(ms: list[float]) -> str:
    a = np.array(ms)
    return f"median {np.median(a):6.2f} ms, p95 {np.quantile(a, 0.95):6.2f} ms, " \
           f"max {a.max():6.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=20_000)
    parser.add_argument("--volumes", type=int, default=500)
    parser.add_argument("--updates", type=int, default=30)
    args = parser.parse_args()

    vols = volumes(args.volumes)
    airspace = VolumeSet(vols)
    rng = np.random.default_rng(11)
    coverage = SensorRangeCoverage(tuple(zip(rng.uniform(38, 58, 30).tolist(),
                                             rng.uniform(-8, 28, 30).tolist(), strict=True)),
                                   range_nm=200.0)
    config = RulesConfig(volume_kinds=tuple(v.kind for v in vols))
    t = picture(args.tracks)
    evaluate(t, T0, config, airspace, coverage)  # compile and warm up

    with tempfile.TemporaryDirectory() as tmp:
        log = AuditLog(Path(tmp) / "audit.sqlite", "bench")
        service = AlertService("bench", AlertsConfig(), log, airspace=airspace, volumes=vols,
                               coverage=coverage)
        eval_ms, service_ms, conditions, events = [], [], 0, 0
        for i in range(args.updates):
            now = T0 + i
            advance(t, 1.0)
            start = time.perf_counter()
            c = evaluate(t, now, config, airspace, coverage)
            eval_ms.append((time.perf_counter() - start) * 1e3)
            start = time.perf_counter()
            events += len(service.update(t, now))
            service_ms.append((time.perf_counter() - start) * 1e3)
            conditions = len(c)
        log.close()

    geoms = np.array([v.geometry for v in vols], dtype=object)
    tree = shapely.STRtree(geoms)
    peer_ms, ours_ms = [], []
    for _ in range(max(5, args.updates // 3)):
        start = time.perf_counter()
        tree.query(shapely.points(t["lon"], t["lat"]), predicate="within")
        peer_ms.append((time.perf_counter() - start) * 1e3)
        start = time.perf_counter()
        airspace.inside(t["lat"], t["lon"], t["alt"], t["alt_geo"], T0)
        ours_ms.append((time.perf_counter() - start) * 1e3)
    ours_inside = float(np.median(ours_ms))

    print(f"{args.tracks} tracks, {args.volumes} volumes, {args.updates} updates, one core")
    print(f"  evaluate (all rules): {quantiles(eval_ms)}  ({conditions} conditions)")
    print(f"  service (rules + engine + workflow + audit): {quantiles(service_ms)}  "
          f"({events} audit events)")
    p95 = float(np.quantile(eval_ms, 0.95))
    print(f"  budget {BUDGET_MS:g} ms per update: "
          f"{'met' if p95 < BUDGET_MS else 'MISSED'} at p95 ({BUDGET_MS / p95:.1f}x headroom)")
    peer = float(np.median(peer_ms))
    print(f"  point-in-volume only: skyshare VolumeSet.inside {ours_inside:.2f} ms (with "
          f"limits and schedules) vs shapely STRtree.query {peer:.2f} ms (2-D only): "
          f"{peer / max(ours_inside, 1e-9):.1f}x")
    assert math.isfinite(p95)


if __name__ == "__main__":
    main()
