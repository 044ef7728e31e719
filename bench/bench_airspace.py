"""Airspace checks per picture update: 20,000 tracks against 500 volumes on one core.

Builds (outside the timed part) 20,000 tracks spread over Europe (36-60 N, 10 W-30 E;
altitudes 0-45,000 ft with 5 % unknown, ground speeds 60-500 kt, random tracks and
vertical rates) and 500 random volumes 10-60 km across: a third circles sampled every
2 degrees as OpenAir DC records become, a third convex polygons, a third star-shaped
(concave) polygons; mixed limits (GND/SFC, ft AMSL, AGL, FL, UNL); a third carry a
schedule (UTC windows or weekly windows, some switching within the horizon).  Times
:meth:`VolumeSet.inside` and :meth:`VolumeSet.entering` (horizon 120 s) per call,
median of ``--repeat`` calls, and prints milliseconds per picture update.  Target: the
whole rule evaluation under 50 ms per update on one core, so these two well under that
(< 25 ms).

    python bench/bench_airspace.py [--tracks 20000] [--volumes 500] [--repeat 20]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from shapely.geometry import Polygon

from skyshare.airspace import Schedule, Volume, VolumeSet, WeeklyWindow, parse_limit

T0 = 1_795_420_800.0  # 2026-11-23T08:00:00Z, a Monday
M_PER_DEG = 111_195.0
TARGET_MS = 25.0
LIMITS = [("GND", "FL95"), ("SFC", "2500 ft AMSL"), ("1000ft AGL", "FL245"), ("FL100", "UNL"),
          ("1500 ft AMSL", "FL195"), ("GND", "600m"), ("FL245", "FL660")]


def shape(rng: np.random.Generator, lat: float, lon: float, kind: int) -> Polygon:
    """A random polygon 10-60 km across around (lat, lon): circle, convex or star."""
    radius_m = rng.uniform(5_000.0, 30_000.0)
    if kind == 0:
        angles = np.radians(np.arange(0.0, 360.0, 2.0))
        radii = np.full(len(angles), radius_m)
    else:
        n = int(rng.integers(5, 13)) if kind == 1 else int(rng.integers(8, 25))
        angles = np.sort(rng.uniform(0.0, 2 * np.pi, n))
        radii = radius_m * (np.ones(n) if kind == 1 else rng.uniform(0.4, 1.0, n))
    dlat = radii * np.cos(angles) / M_PER_DEG
    dlon = radii * np.sin(angles) / (M_PER_DEG * math.cos(math.radians(lat)))
    poly = Polygon(np.column_stack([lon + dlon, lat + dlat]))
    return poly if poly.is_valid else poly.convex_hull


def schedule(rng: np.random.Generator) -> Schedule:
    if rng.random() < 0.5:  # windows starting around now: some activate within the horizon
        start = T0 + rng.uniform(-600.0, 300.0)
        return Schedule(False, ((start, start + rng.uniform(600.0, 7200.0)),))
    start = int(rng.integers(0, 24 * 60))
    return Schedule(False, (), (WeeklyWindow(frozenset({0, 2, 4}), start,
                                             (start + int(rng.integers(30, 600))) % 1440),))


def volumes(n: int, seed: int = 3) -> list[Volume]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        lat, lon = rng.uniform(37.0, 59.0), rng.uniform(-9.0, 29.0)
        lower, upper = LIMITS[i % len(LIMITS)]
        out.append(Volume(f"V{i}", f"volume {i}", "restricted", shape(rng, lat, lon, i % 3),
                          parse_limit(lower), parse_limit(upper),
                          schedule(rng) if i % 3 == 0 else Schedule(), f"bench:{i}"))
    return out


def tracks(n: int, seed: int = 5) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    alt = rng.uniform(0.0, 45_000.0, n)
    alt[rng.random(n) < 0.05] = np.nan
    alt_geo = alt + rng.normal(0.0, 200.0, n)
    alt_geo[rng.random(n) < 0.3] = np.nan
    return {"lat": rng.uniform(36.0, 60.0, n), "lon": rng.uniform(-10.0, 30.0, n),
            "alt": alt, "alt_geo": alt_geo, "gs": rng.uniform(60.0, 500.0, n),
            "track": rng.uniform(0.0, 360.0, n), "vrate": rng.normal(0.0, 1500.0, n)}


def median_ms(fn: object, repeat: int) -> float:
    assert callable(fn)
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1e3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=20_000)
    parser.add_argument("--volumes", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--horizon", type=float, default=120.0)
    args = parser.parse_args()

    vs = VolumeSet(volumes(args.volumes))
    tr = tracks(args.tracks)
    inside = vs.inside(tr["lat"], tr["lon"], tr["alt"], tr["alt_geo"], T0)
    entering = vs.entering(tr["lat"], tr["lon"], tr["alt"], tr["alt_geo"], tr["gs"],
                           tr["track"], tr["vrate"], T0, args.horizon)
    ms_inside = median_ms(lambda: vs.inside(tr["lat"], tr["lon"], tr["alt"], tr["alt_geo"], T0),
                          args.repeat)
    ms_entering = median_ms(lambda: vs.entering(tr["lat"], tr["lon"], tr["alt"], tr["alt_geo"],
                                                tr["gs"], tr["track"], tr["vrate"], T0,
                                                args.horizon), args.repeat)
    total = ms_inside + ms_entering
    print(f"{args.tracks} tracks, {args.volumes} volumes, horizon {args.horizon:g} s, "
          f"median of {args.repeat} calls")
    print(f"  inside:   {ms_inside:7.2f} ms/update  ({len(inside[0])} track-volume pairs)")
    print(f"  entering: {ms_entering:7.2f} ms/update  ({len(entering[0])} pairs)")
    verdict = "meets" if total < TARGET_MS else "MISSES"
    print(f"  total:    {total:7.2f} ms/update  ({verdict} the {TARGET_MS:g} ms budget)")


if __name__ == "__main__":
    main()
