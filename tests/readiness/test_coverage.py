"""Observed coverage outlines against an independent computation on real positions.

The oracle places every position of the real Toulouse recording (the latitudes and
longitudes decoded by rs1090, shipped with it) by ECEF vector algebra: distance from
the angle between unit vectors, bearing from the projections on the sensor's north and
east axes; the furthest point per bearing bin and altitude band is the outline.  The
outline built from the same positions must be that one, and the outline built from our
own decoding of the recording's frames must agree with it.
"""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from skyshare.decode.modes import ModeSDecoder
from skyshare.model import empty_frames, empty_plots, empty_reports
from skyshare.readiness.coverage import BUCKETS, CoverageOutlines
from skyshare.readiness.settings import ReadinessConfig

SITE = (43.63, 1.37)  # beside Toulouse-Blagnac, where the recording was made
R_NM = 6371008.8 / 1852.0
T0 = 1_717_664_319.0


def rows(data_dir: Path) -> list[dict[str, Any]]:
    with gzip.open(data_dir / "modes" / "tutorial_17ac.jsonl.gz", "rt") as f:
        return [json.loads(line) for line in f]


def oracle(lat: np.ndarray, lon: np.ndarray, alt: np.ndarray, config: ReadinessConfig
           ) -> tuple[np.ndarray, np.ndarray]:
    """(outline [band, bin], bearing) of the points, by vectors on the unit sphere."""
    def unit(la: np.ndarray, lo: np.ndarray) -> np.ndarray:
        la, lo = np.radians(la), np.radians(lo)
        return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], -1)

    s = unit(np.array(SITE[0]), np.array(SITE[1]))
    p = unit(lat, lon)
    dist = R_NM * np.arctan2(np.linalg.norm(np.cross(s, p), axis=-1), p @ s)
    la, lo = math.radians(SITE[0]), math.radians(SITE[1])
    east = np.array([-math.sin(lo), math.cos(lo), 0.0])
    north = np.array([-math.sin(la) * math.cos(lo), -math.sin(la) * math.sin(lo), math.cos(la)])
    bearing = np.degrees(np.arctan2(p @ east, p @ north)) % 360.0
    bins = (bearing // config.coverage_bearing_deg).astype(int) % config.bearing_bins
    edges = [-math.inf, *config.coverage_bands_ft, math.inf]
    out = np.zeros((len(edges), config.bearing_bins))
    np.maximum.at(out[0], bins, dist)
    for band in range(1, len(edges)):
        inside = (alt >= edges[band - 1]) & (alt < edges[band])
        np.maximum.at(out[band], bins[inside], dist[inside])
    return out, bearing


@pytest.fixture(scope="module")
def recording(data_dir: Path) -> list[dict[str, Any]]:
    return rows(data_dir)


# the recording follows flights from Toulouse to London: every position counts here
WIDE = ReadinessConfig(coverage_max_range_nm=1000)


def test_outline_of_real_positions_is_the_furthest_point_per_bearing_and_band(
        recording: list[dict[str, Any]]) -> None:
    config = WIDE
    placed = [r for r in recording if "latitude" in r]
    lat = np.array([r["latitude"] for r in placed])
    lon = np.array([r["longitude"] for r in placed])
    alt = np.array([math.nan if r.get("altitude") is None else float(r["altitude"])
                    for r in placed])
    want, bearing = oracle(lat, lon, alt, config)
    on_edge = np.abs((bearing + 1e-7) % config.coverage_bearing_deg) < 2e-7
    assert on_edge.sum() < 5  # a handful at most lie exactly on a bin edge: left out
    reports = empty_reports(int((~on_edge).sum()))
    reports["lat"], reports["lon"], reports["alt_baro"] = lat[~on_edge], lon[~on_edge], \
        alt[~on_edge]
    want, _ = oracle(lat[~on_edge], lon[~on_edge], alt[~on_edge], config)
    outlines = CoverageOutlines(config, ["toulouse"], [SITE])
    outlines.observe_reports(reports, T0)
    got = outlines.outline(0, T0)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
    assert outlines.used == len(reports)
    assert want[0].max() > 50  # the recording reaches far: the test sees real geometry


def test_outline_from_our_decoding_of_the_frames_matches(recording: list[dict[str, Any]]
                                                         ) -> None:
    config = WIDE
    frames = empty_frames(len(recording))
    for i, r in enumerate(recording):
        raw = bytes.fromhex(r["frame"])
        frames["data"][i, :len(raw)] = np.frombuffer(raw, np.uint8)
        frames["length"][i] = len(raw)
        frames["time"][i] = r["timestamp"]
    reports = ModeSDecoder(reference=SITE).decode(frames)
    outlines = CoverageOutlines(config, ["toulouse"], [SITE])
    outlines.observe_reports(reports, T0)
    got = outlines.outline(0, T0)[0]
    placed = [r for r in recording if "latitude" in r]
    want, _ = oracle(np.array([r["latitude"] for r in placed]),
                     np.array([r["longitude"] for r in placed]),
                     np.full(len(placed), math.nan), config)
    assert math.isclose(got.max(), want[0].max(), rel_tol=1e-3)
    seen = want[0] > 0
    close = np.abs(got - want[0]) <= 0.05 * np.maximum(want[0], 1.0)
    assert close[seen].mean() > 0.95
    assert not (got[~seen] > 0).any()  # nothing where rs1090 placed nothing


def test_positions_beyond_the_limit_and_without_a_sensor_position_are_ignored() -> None:
    config = ReadinessConfig(coverage_max_range_nm=100)
    outlines = CoverageOutlines(config, ["near", "unplaced"], [SITE, (None, None)])
    r = empty_reports(4)
    r["sensor"] = [0, 0, 1, 7]  # 7: not a sensor of the node
    r["lat"], r["lon"] = [SITE[0] + 1, SITE[0] + 2, SITE[0] + 1, SITE[0] + 1], SITE[1]
    outlines.observe_reports(r, T0)
    grid = outlines.outline(0, T0)
    assert outlines.used == 1 and math.isclose(grid[0].max(), 60.0, rel_tol=0.01)  # 1° north
    assert grid[0].argmax() == 0  # due north: the first bin
    assert not outlines.outline(1, T0).any()
    assert outlines.summary(1, T0) is None


def test_outline_forgets_what_is_older_than_its_span() -> None:
    config = ReadinessConfig(coverage_keep_s=100)
    outlines = CoverageOutlines(config, ["s"], [SITE])
    r = empty_reports(1)
    r["lat"], r["lon"] = SITE[0], SITE[1] + 1
    outlines.observe_reports(r, T0)
    assert outlines.outline(0, T0 + 50).any()
    bucket = 100 / BUCKETS
    assert not outlines.outline(0, T0 + 100 + bucket).any()


def test_radar_plots_are_placed_by_range_and_azimuth() -> None:
    config = ReadinessConfig()
    outlines = CoverageOutlines(config, ["radar"], [SITE])
    p = empty_plots(3)
    p["radar_lat"], p["radar_lon"], p["radar_h"] = SITE[0], SITE[1], 150.0
    p["range_m"] = [100_000.0, 150_000.0, 200_000.0]
    p["azimuth_deg"] = [90.5, 181.0, 271.0]
    p["alt"] = [30000.0, np.nan, 20000.0]  # the second: primary only, no height
    outlines.observe_plots(p, T0)
    grid = outlines.outline(0, T0)
    for rng, az, band in ((100_000, 90.5, 3), (150_000, 181.0, 0), (200_000, 271.0, 2)):
        b = int(az // config.coverage_bearing_deg)
        ground = grid[0, b] * 1852.0
        # ground range about the slant range (a sphere's distances are 0.1 % off WGS-84's)
        assert rng * 0.99 < ground <= rng * 1.005, (az, ground)
        assert grid[band, b] == grid[0, b]
    assert outlines.used == 3


def test_outlines_are_kept_across_a_restart(tmp_path: Path) -> None:
    config = ReadinessConfig()
    first = CoverageOutlines(config, ["a", "b"], [SITE, (45.0, 5.0)])
    rng = np.random.default_rng(1)
    r = empty_reports(200)
    r["sensor"] = rng.integers(0, 2, 200)
    r["lat"] = 44.0 + rng.uniform(-2, 2, 200)
    r["lon"] = 3.0 + rng.uniform(-2, 2, 200)
    r["alt_baro"] = rng.uniform(0, 40000, 200)
    first.observe_reports(r, T0)
    first.save(tmp_path)
    renamed = CoverageOutlines(config, ["b", "c", "a"], [(45.0, 5.0), SITE, SITE])
    assert renamed.load(tmp_path, T0 + 60) > 0
    np.testing.assert_array_equal(renamed.outline(2, T0 + 60), first.outline(0, T0))
    np.testing.assert_array_equal(renamed.outline(0, T0 + 60), first.outline(1, T0))
    assert not renamed.outline(1, T0 + 60).any()  # a new sensor starts empty
    late = CoverageOutlines(config, ["a", "b"], [SITE, (45.0, 5.0)])
    assert late.load(tmp_path, T0 + 2 * config.coverage_keep_s) == 0  # too old to show
    (tmp_path / "coverage.parquet").write_bytes(b"not parquet")
    assert CoverageOutlines(config, ["a"], [SITE]).load(tmp_path, T0) == 0  # logged, skipped


def test_geojson_vertices_lie_at_the_outline_ranges() -> None:
    config = ReadinessConfig(coverage_bearing_deg=10)
    outlines = CoverageOutlines(config, ["s"], [SITE])
    rng = np.random.default_rng(2)
    r = empty_reports(500)
    r["lat"] = SITE[0] + rng.uniform(-1.5, 1.5, 500)
    r["lon"] = SITE[1] + rng.uniform(-1.5, 1.5, 500)
    r["alt_baro"] = rng.uniform(0, 40000, 500)
    outlines.observe_reports(r, T0)
    doc = outlines.geojson(T0, [True])
    bands = {f["properties"]["band"]: f for f in doc["features"]}
    assert set(bands) == {0, 1, 2, 3}
    ring = np.array(bands[0]["geometry"]["coordinates"][0])
    grid = outlines.outline(0, T0)[0]
    assert len(ring) == (grid > 0).sum() + 1 and (ring[0] == ring[-1]).all()
    ranges, bearing = oracle(ring[:-1, 1], ring[:-1, 0], np.full(len(ring) - 1, math.nan),
                             config)
    np.testing.assert_allclose(ranges[0], grid, rtol=1e-4, atol=1e-3)  # each in its bin
    assert (np.diff(bearing) > 0).all()  # in bearing order: an outline, not a star
    sparse = CoverageOutlines(config, ["s"], [SITE])
    sparse.observe_reports(r[:1], T0)
    (feature,) = (f for f in sparse.geojson(T0)["features"] if f["properties"]["band"] == 0)
    assert feature["geometry"]["coordinates"][0][1] == [SITE[1], SITE[0]]  # closed at the site
    assert bands[0]["properties"]["exercise"] is True


def test_reach_is_the_outline_at_each_points_bearing_and_band() -> None:
    config = ReadinessConfig()
    outlines = CoverageOutlines(config, ["s"], [SITE])
    r = empty_reports(2)  # seen: 60 NM due north at 30,000 ft, 30 NM due east, no altitude
    r["lat"], r["lon"] = [SITE[0] + 1.0, SITE[0]], [SITE[1], SITE[1] + 30 / 60 / 0.7238]
    r["alt_baro"] = [30000.0, np.nan]
    outlines.observe_reports(r, T0)
    lat = np.array([SITE[0] + 0.5, SITE[0] + 0.5, SITE[0], SITE[0] - 0.5])
    lon = np.array([SITE[1], SITE[1], SITE[1] + 0.2, SITE[1]])
    alt = np.array([35000.0, 5000.0, np.nan, 30000.0])
    reach = outlines.reach_nm(0, lat, lon, alt, T0)
    assert math.isclose(reach[0], 60.0, rel_tol=0.01)  # north, high: seen that far
    assert reach[1] == 0.0  # north but low: nothing seen in that band
    assert reach[2] == 0.0  # east, altitude unknown: no band is known to reach there
    assert reach[3] == 0.0  # south: never seen
    assert not outlines.reach_nm(5, lat, lon, alt, T0).any()  # not a sensor
    # due west, seen in every band, furthest high: an unknown altitude gets the nearest
    west = empty_reports(3)
    west["lat"] = np.full(3, SITE[0])
    west["lon"] = SITE[1] - np.array([20.0, 40.0, 80.0]) / 60 / 0.7238
    west["alt_baro"] = [5000.0, 15000.0, 35000.0]
    outlines.observe_reports(west, T0)
    edge = outlines.reach_nm(0, np.full(4, SITE[0]), np.full(4, SITE[1] - 0.1),
                             np.array([np.nan, 5000.0, 15000.0, 35000.0]), T0)
    np.testing.assert_allclose(edge, [20.0, 20.0, 40.0, 80.0], rtol=0.02)
