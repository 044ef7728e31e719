"""Responsibility regions: the fixture, overlaps and the owner look-up."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from airspace_helpers import DATA, collection, feature
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from skyshare.airspace import (
    AirspaceFileError,
    Region,
    Regions,
    load_region_files,
    load_regions,
    parse_regions,
)
from skyshare.errors import ConfigError


def test_regions_fixture_owner() -> None:
    regions = load_regions(DATA / "regions.geojson")
    assert regions.partners == ("west-ans", "east-ans")
    assert [r.name for r in regions.regions] == ["West lower", "East", "West upper"]
    owner = regions.owner([45.0, 48.5, 45.0, 30.0, np.nan, 48.5], [3.0, -1.5, 7.0, 3.0, 1.0, 3.0])
    assert owner.tolist() == [0, 0, 1, -1, -1, 0]
    assert owner.dtype == np.intp


def region(partner: str, geometry: Any) -> Region:
    return Region(partner, partner, geometry, f"r.geojson:feature {partner}")


def test_regions_overlap_is_an_error_beyond_the_tolerance() -> None:
    with pytest.raises(ConfigError, match=r"partners 'a' and 'b' overlap by .* km2") as info:
        Regions([region("a", box(0, 0, 1, 1)), region("b", box(0.5, 0, 1.5, 1))])
    assert "r.geojson:feature a and r.geojson:feature b" in info.value.where
    sliver = [region("a", box(0, 0, 1, 1)), region("b", box(0.99999, 0, 2, 1))]
    regions = Regions(sliver)  # about 0.1 km2: a digitising sliver
    assert regions.owner([0.5], [0.999995]).tolist() == [0]  # first region wins
    Regions([region("a", box(0, 0, 1, 1)), region("a", box(0.5, 0, 1.5, 1))])  # same partner
    with pytest.raises(ConfigError):
        Regions(sliver, overlap_tolerance_km2=0.01)


def test_regions_have_no_ids_to_repeat() -> None:
    """A partner may own several regions, even under one name: nothing must be unique."""
    twin = {"type": "Feature", "properties": {"partner": "a", "name": "x"},
            "geometry": feature()["geometry"]}
    regions = parse_regions(collection(twin, twin), "r.geojson")
    assert [(r.partner, r.name) for r in regions] == [("a", "x"), ("a", "x")]
    assert Regions(regions).partners == ("a",)


def test_region_files_load_as_one_set_checked_across_files(tmp_path: Path) -> None:
    def write(name: str, partner: str, west: float) -> Path:
        path = tmp_path / name
        path.write_text(collection({"type": "Feature", "properties": {
            "partner": partner, "name": partner}, "geometry": {"type": "Polygon", "coordinates": [
                [[west, 40.0], [west + 2, 40.0], [west + 2, 42.0], [west, 42.0], [west, 40.0]]]}}))
        return path

    both = load_region_files([write("a.geojson", "a", 0.0), write("b.geojson", "b", 2.0)])
    assert both.partners == ("a", "b")
    assert both.owner([41.0, 41.0], [1.0, 3.0]).tolist() == [0, 1]
    with pytest.raises(ConfigError, match="overlap"):  # each file alone is fine
        load_region_files([tmp_path / "a.geojson", write("c.geojson", "c", 1.0)])


def test_regions_geojson_errors(tmp_path: Path) -> None:
    path = tmp_path / "r.geojson"
    path.write_text(collection({"type": "Feature", "properties": {"name": "x"},
                                "geometry": feature()["geometry"]}))
    with pytest.raises(AirspaceFileError, match=r"r\.geojson:feature 0: missing 'partner'"):
        load_regions(path)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_regions_owner_agrees_with_per_point_oracle(seed: int) -> None:
    rng = np.random.default_rng(seed)
    # a partition of a box into strips cut in random pieces, shared among partners
    xs = np.sort(np.r_[0.0, rng.uniform(0, 10, rng.integers(0, 6)), 10.0])
    regs = []
    for x0, x1 in itertools.pairwise(xs):
        ys = np.sort(np.r_[40.0, rng.uniform(40, 50, rng.integers(0, 4)), 50.0])
        for y0, y1 in itertools.pairwise(ys):
            if rng.random() < 0.85 and x1 > x0 and y1 > y0:
                regs.append(region(f"p{rng.integers(0, 4)}", box(x0, y0, x1, y1)))
    regions = Regions(regs)
    lat, lon = rng.uniform(39, 51, 400), rng.uniform(-1, 11, 400)
    got = regions.owner(lat, lon)
    for k in range(400):
        first = next((r for r in regs if r.geometry.contains(Point(lon[k], lat[k]))), None)
        assert got[k] == (regions.partners.index(first.partner) if first else -1)
