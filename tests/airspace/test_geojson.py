"""The GeoJSON parsers: the fixture, every error with its file and feature, and hostile
documents."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from airspace_helpers import DATA, T0, collection, feature
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from skyshare.airspace import (
    AirspaceFileError,
    Limit,
    LimitRef,
    WeeklyWindow,
    load_geojson,
    parse_geojson,
    parse_regions,
)


# --------------------------------------------------------------------------- GeoJSON loader
def test_geojson_fixture() -> None:
    r1, d2, p3 = load_geojson(DATA / "zones.geojson")
    assert (r1.id, r1.kind, d2.id, d2.kind, p3.id, p3.kind) == (
        "EX-R1", "restricted", "EX-D2", "danger", "EX-P3", "prohibited")
    assert r1.source == f"{DATA / 'zones.geojson'}:feature 0"
    assert (r1.lower.value, r1.lower.ref, r1.upper.value) == (95.0, LimitRef.FL, 245.0)
    assert d2.upper.value == pytest.approx(600 / 0.3048) and d2.lower.ref is LimitRef.GND
    assert (p3.lower, p3.upper.value) == (Limit(1000.0, LimitRef.AMSL, "1000"), 2500.0)
    assert r1.schedule.windows == ((T0, T0 + 4 * 3600), (T0 + 86400, T0 + 86400 + 4 * 3600))
    assert d2.schedule.weekly == (WeeklyWindow(frozenset(range(5)), 480, 960),
                                  WeeklyWindow(frozenset({5}), 1320, 120))
    assert p3.schedule.always
    assert d2.geometry.geom_type == "MultiPolygon"
    assert not d2.geometry.contains(Point(4.2, 47.2))  # in the hole
    assert d2.geometry.contains(Point(4.05, 47.2)) and d2.geometry.contains(Point(5.1, 47.1))


# --------------------------------------------------------------------------- errors
BOWTIE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
OPEN = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0.5]]]}
FAR = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 95], [0, 0]]]}
TEXT = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], ["a", 1], [0, 0]]]}


@pytest.mark.parametrize(("feat", "message"), [
    (feature(OPEN), "ring 0 is not closed"),
    (feature(BOWTIE), "invalid polygon: Self-intersection"),
    (feature(FAR), "bad coordinate [1.0, 95.0] in ring 0: out of range"),
    (feature(TEXT), "bad coordinate value 'a'"),
    (feature({"type": "Point", "coordinates": [0, 0]}), "geometry type 'Point' is not supported"),
    (feature(lower=None), "missing limits: no 'lower' property"),
    (feature(upper="FL 9 9"), "unknown altitude syntax 'FL 9 9'"),
    (feature(lower="FL200", upper="FL100"), "lower limit 'FL200' is not below upper"),
    (feature(upper="GND"), "GND/SFC can only be a lower limit"),
    (feature(**{"class": None}), "missing 'class' or 'type' property"),
    (feature(schedule={"windows": [["2026-11-23T08:00Z", "2026-11-23T07:00Z"]]}), "ends"),
    (feature(schedule={"windows": [["2026-11-23T08:00", "2026-11-23T09:00"]]}),
     "has no UTC offset"),
    (feature(schedule={"windows": ["2026-11-23T08:00Z"]}), "list of [start, end]"),
    (feature(schedule={"weekly": [{"days": ["Funday"], "from": "08:00", "to": "09:00"}]}),
     "must be a list of Mon, Tue"),
    (feature(schedule={"weekly": [{"days": ["Mon"], "from": "25:00", "to": "09:00"}]}),
     "bad time of day '25:00'"),
    (feature(schedule={"weekly": [{"days": ["Mon"], "from": "08:00", "to": "08:00"}]}),
     "is empty"),
    (feature(schedule={"weekly": [{"days": ["Mon"], "from": "08:00"}]}),
     "must have exactly 'days', 'from' and 'to'"),
    (feature(schedule={"daily": []}), "must be an object with 'windows' and/or 'weekly'"),
    (feature(schedule={}), "must be an object with"),
])
def test_geojson_errors_name_file_and_feature(feat: dict[str, Any], message: str) -> None:
    good = feature(id="OK")
    with pytest.raises(AirspaceFileError) as info:
        parse_geojson(collection(good, feat), "bad.geojson")
    err = info.value
    assert (err.path, err.feature, err.line) == ("bad.geojson", 1, None)
    assert err.where == "bad.geojson:feature 1 (id 'A')"
    assert str(err).startswith("bad.geojson:feature 1 (id 'A'): ")
    assert message in str(err)


def test_geojson_document_errors() -> None:
    with pytest.raises(AirspaceFileError, match=r"^x\.geojson:3: not valid JSON"):
        parse_geojson('{"type": "FeatureCollection",\n "features": [\n  oops]}', "x.geojson")
    with pytest.raises(AirspaceFileError, match=r"^x\.geojson: not a GeoJSON FeatureCollection"):
        parse_geojson('{"type": "Feature"}', "x.geojson")
    with pytest.raises(AirspaceFileError, match=r"^x\.geojson:feature 0: not a GeoJSON Feature"):
        parse_geojson('{"type": "FeatureCollection", "features": [1]}', "x.geojson")
    nameless = feature()
    del nameless["properties"]["id"]
    with pytest.raises(AirspaceFileError, match=r"feature 0: missing 'id' \(or 'name'\)"):
        parse_geojson(collection(nameless), "x.geojson")


# --------------------------------------------------------------------------- duplicate ids
TOP_LEVEL_ID = {**feature(id=None), "id": "R1"}  # the feature's own id, not a property


@pytest.mark.parametrize(("first", "second", "where", "ident"), [
    (feature(id="R1"), feature(id="R1", name="other"), "dup.geojson:feature 2 (id 'R1')", "R1"),
    (feature(id=None, name="Zone"), feature(id=None, name="Zone"), "dup.geojson:feature 2",
     "Zone"),
    (TOP_LEVEL_ID, feature(id="R1"), "dup.geojson:feature 2 (id 'R1')", "R1"),
    (feature(id="R1"), feature(id=None, name="R1"), "dup.geojson:feature 2", "R1"),
])
def test_geojson_duplicate_ids_name_both_features(first: dict[str, Any], second: dict[str, Any],
                                                  where: str, ident: str) -> None:
    with pytest.raises(AirspaceFileError) as info:
        parse_geojson(collection(first, feature(id="other"), second), "dup.geojson")
    assert info.value.where == where
    assert (f"id {ident!r} is already used by the airspace at dup.geojson:feature 0; the id "
            "is the 'id' property, else the feature's id, else 'name': give each feature its "
            "own 'id'") in str(info.value)


def test_geojson_repeated_names_with_their_own_ids_load() -> None:
    volumes = parse_geojson(collection(feature(id="a", name="Z"), feature(id="b", name="Z")))
    assert [(v.id, v.name) for v in volumes] == [("a", "Z"), ("b", "Z")]


# --------------------------------------------------------------------------- fuzz
@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=8),
                    lambda c: st.lists(c, max_size=4) | st.dictionaries(
                        st.sampled_from(["type", "features", "geometry", "properties",
                                         "coordinates", "id", "class", "lower", "upper",
                                         "schedule", "windows", "weekly", "partner"]), c,
                        max_size=5), max_leaves=30))
def test_geojson_parsers_raise_only_their_error(doc: Any) -> None:
    text = json.dumps(doc)
    for parse in (parse_geojson, parse_regions):
        with contextlib.suppress(AirspaceFileError):
            parse(text, "fuzz.geojson")
