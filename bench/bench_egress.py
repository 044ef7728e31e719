"""Egress filtering per picture update: 20,000 tracks through one agreement, one core.

The picture is the alerts benchmark's (``bench_alerts.py``: tracks over Europe, 36-60 N,
10 W-30 E, altitudes 0-45,000 ft with 5 % unknown) with own-sensor provenance.  The
agreement is a realistic one: two shared regions (star-shaped polygons of 50-200
vertices, one with an altitude band), three excluded addresses (present in the
picture), identity not granted, 1 Hz.  Each call advances every track by one second of
flight, so every track has changed and is due: the filter does all its work on every
row.  Prints, median of ``--updates`` calls:

- ``select`` (every rule, blanking, rate state) in track updates per second, against
  the target of 1,000,000 per core; and the same with a 5 s delay line;
- the region test alone (polygons and bands), ours (compiled slab ray cast) against
  shapely 2 ``contains_xy`` on prepared polygons plus the same band test in numpy, the
  straightforward peer, measured in the same run; the ratio is peer time / ours.

    python bench/bench_egress.py [--tracks 20000] [--updates 30]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import shapely
from bench_alerts import advance, picture  # same directory
from shapely.geometry import Polygon

from skyshare.model import TrackBatch, empty_tracks
from skyshare.share.agreements import Agreement, Exclusions
from skyshare.share.egress import EgressFilter
from skyshare.share.regions import RegionIndex, SharedRegion

T0 = 1_795_420_800.0
TARGET_PER_S = 1_000_000


def star(rng: np.random.Generator, lat: float, lon: float, radius_deg: float,
         vertices: int) -> Polygon:
    """A concave star-shaped polygon (lon, lat) with ``vertices`` vertices."""
    angles = np.sort(rng.uniform(0.0, 2 * np.pi, vertices))
    radii = radius_deg * rng.uniform(0.6, 1.0, vertices)
    poly = Polygon(np.column_stack([lon + radii * np.sin(angles) / math.cos(math.radians(lat)),
                                    lat + radii * np.cos(angles)]))
    assert poly.is_valid, "the star must be a simple polygon"
    return poly


def agreement(rng: np.random.Generator, addresses: tuple[int, ...], delay_s: float) -> Agreement:
    regions = (SharedRegion("border", star(rng, 47.0, 5.0, 4.0, 180)),
               SharedRegion("upper-east", star(rng, 50.0, 14.0, 5.0, 60), 24_500.0, 66_000.0))
    return Agreement("bench", "west", "central", regions,
                     fields=("position", "squawk", "quality"), sources="own",
                     min_delay_s=delay_s, max_rate_hz=1.0,
                     exclude=Exclusions(addresses, (0xB4,), True),
                     valid_from=T0 - 86_400.0, valid_until=T0 + 86_400.0)


def time_select(t: TrackBatch, a: Agreement, updates: int) -> tuple[list[float], int]:
    """(seconds per select call, rows sent in total) over ``updates`` calls 1 s apart."""
    f = EgressFilter(a, None)
    none = empty_tracks(0)
    f.select(t, none, T0 - 10.0)  # compile and warm up
    times, sent = [], 0
    for i in range(updates):
        now = T0 + i
        advance(t, 1.0)
        t["last_seen"] = now
        start = time.perf_counter()
        out = f.select(t, none, now)
        times.append(time.perf_counter() - start)
        sent += len(out.tracks)
    return times, sent


def peer_inside(regions: tuple[SharedRegion, ...], t: TrackBatch) -> np.ndarray:
    """The same region and band test with shapely 2 (prepared polygons) and numpy."""
    lat, lon = t["lat"], t["lon"]
    alt = np.where(np.isnan(t["alt"]), t["alt_geo"], t["alt"]).astype(np.float64)
    out = np.zeros(len(t), bool)
    for r in regions:
        hit = shapely.contains_xy(r.geometry, lon, lat)
        if r.has_band:
            lower = -np.inf if r.lower_ft is None else r.lower_ft
            upper = np.inf if r.upper_ft is None else r.upper_ft
            hit &= ~np.isnan(alt) & (alt >= lower) & (alt <= upper)
        out |= hit
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tracks", type=int, default=20_000)
    parser.add_argument("--updates", type=int, default=30)
    args = parser.parse_args()

    t = picture(args.tracks)
    rng = np.random.default_rng(17)
    addresses = tuple(int(x) for x in rng.choice(t["icao24"], 3, replace=False))
    a = agreement(rng, addresses, 0.0)
    times, sent = time_select(t, a, args.updates)
    delayed, sent_delayed = time_select(picture(args.tracks), agreement(
        np.random.default_rng(17), addresses, 5.0), args.updates)

    index = RegionIndex(a.regions)
    for r in a.regions:
        shapely.prepare(r.geometry)
    ours_s, peer_s = [], []
    for _ in range(args.updates):
        start = time.perf_counter()
        ours = index.inside(t["lat"], t["lon"], t["alt"], t["alt_geo"])
        ours_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        theirs = peer_inside(a.regions, t)
        peer_s.append(time.perf_counter() - start)
    assert (ours == theirs).all(), "the region tests disagree"

    n = args.tracks
    per_s = n / float(np.median(times))
    vertices = [len(shapely.get_coordinates(r.geometry)) - 1 for r in a.regions]
    print(f"{n} tracks, {args.updates} updates 1 s apart, every track changed, one core; "
          f"regions of {' and '.join(map(str, vertices))} vertices, "
          f"{ours.mean():.0%} of tracks inside")
    print(f"  select: median {np.median(times) * 1e3:6.2f} ms, p95 "
          f"{np.quantile(times, 0.95) * 1e3:6.2f} ms per update = {per_s:,.0f} track "
          f"updates/s ({sent / args.updates:,.0f} rows sent per update); target "
          f"{TARGET_PER_S:,}/s: {'met' if per_s >= TARGET_PER_S else 'MISSED'} "
          f"({per_s / TARGET_PER_S:.1f}x)")
    print(f"  select with a 5 s delay line: median {np.median(delayed) * 1e3:6.2f} ms = "
          f"{n / float(np.median(delayed)):,.0f} track updates/s "
          f"({sent_delayed / args.updates:,.0f} rows sent per update)")
    ours_ms, peer_ms = float(np.median(ours_s)) * 1e3, float(np.median(peer_s)) * 1e3
    print(f"  region test alone: skyshare RegionIndex {ours_ms:.2f} ms vs shapely "
          f"contains_xy (prepared) + numpy bands {peer_ms:.2f} ms: "
          f"{peer_ms / max(ours_ms, 1e-9):.1f}x")


if __name__ == "__main__":
    main()
