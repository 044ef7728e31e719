"""Airspace volumes and regions: loaders on hand-written fixtures, every error with its
file and line/feature, and the vectorised checks against slow per-point oracles."""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import shutil
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, Polygon, box

import skyshare.airspace as airspace
from skyshare.airspace import (
    AirspaceFileError,
    Limit,
    LimitRef,
    Region,
    Regions,
    Schedule,
    Volume,
    VolumeSet,
    WeeklyWindow,
    active_mask,
    load_airspace,
    load_geojson,
    load_openair,
    load_regions,
    parse_geojson,
    parse_limit,
    parse_openair,
    parse_regions,
)
from skyshare.errors import ConfigError

DATA = Path(__file__).parent / "data" / "airspace"
OPENAIR = DATA / "sample.openair"
R = 6_371_008.8  # m, the sphere the module documents
NM = 1852.0
F64 = npt.NDArray[np.float64]


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


T0 = utc("2026-11-23T08:00:00")  # a Monday


# --------------------------------------------------------------------------- geodesy (test's own)
def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * R * math.asin(math.sqrt(a))


def offset(lat: float, lon: float, bearing: float, dist_m: float) -> tuple[float, float]:
    """(lat, lon) at ``dist_m`` along ``bearing`` (spherical direct problem)."""
    d, b, p1 = dist_m / R, math.radians(bearing), math.radians(lat)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
    dl = math.atan2(math.sin(b) * math.sin(d) * math.cos(p1),
                    math.cos(d) - math.sin(p1) * math.sin(p2))
    return math.degrees(p2), lon + math.degrees(dl)


def area_m2(geometry: Any) -> float:
    """Area on the sphere through the sinusoidal (equal-area) projection."""
    def project(xy: F64) -> F64:
        lon, lat = np.radians(xy[:, 0]), np.radians(xy[:, 1])
        return np.column_stack([R * lon * np.cos(lat), R * lat])
    return float(shapely.transform(geometry, project).area)


def dms(text: str) -> float:
    d, m, s = (float(x) for x in text.split(":"))
    return d + m / 60 + s / 3600


def ac_lines(path: Path) -> list[int]:
    lines = path.read_text().split("\n")
    return [i for i, line in enumerate(lines, 1) if line.startswith("AC ")]


@pytest.fixture(scope="module")
def openair() -> dict[str, Volume]:
    return {v.name: v for v in load_openair(OPENAIR)}


# --------------------------------------------------------------------------- OpenAir loader
def test_openair_fixture_records_attributes_and_ignored_keys() -> None:
    ignored: Counter[str] = Counter()
    volumes = load_openair(OPENAIR, ignored=ignored)
    assert [v.name for v in volumes] == ["R-TEST POLYGON", "D-TEST CIRCLE", "P-TEST DA",
                                          "R-TEST DB", "CTR TEST"]
    assert [v.kind for v in volumes] == ["restricted", "danger", "prohibited", "restricted",
                                         "ctr"]
    assert volumes[0].id == "R-1"  # AI
    assert volumes[1].id == "D-TEST CIRCLE"  # no AI: the name
    assert [v.source for v in volumes] == [f"{OPENAIR}:{n}" for n in ac_lines(OPENAIR)]
    assert ignored == Counter({"AF": 1, "AG": 1, "SP": 1, "SB": 1})
    r1, circle, da, db, ctr = volumes
    assert (r1.lower, r1.upper) == (Limit(1500.0, LimitRef.AMSL, "1500ft AMSL"),
                                    Limit(95.0, LimitRef.FL, "FL95"))
    assert circle.upper.ref is LimitRef.AMSL
    assert circle.upper.value == pytest.approx(3000 / 0.3048)
    assert (da.lower.ref, da.upper.ref) == (LimitRef.GND, LimitRef.UNL)
    assert db.schedule == Schedule(False, ((T0, T0 + 4 * 3600),))
    assert ctr.schedule.always and r1.schedule.always


def test_openair_dp_polygon(openair: dict[str, Volume]) -> None:
    poly = openair["R-TEST POLYGON"].geometry
    assert poly.bounds == pytest.approx((1.0, 43 + 10 / 60, 1.5, 43.5))
    assert len(poly.exterior.coords) == 5
    assert poly.contains(Point(1.2, 43.3)) and not poly.contains(Point(1.2, 43.6))


def test_openair_dc_circle_area_and_radius(openair: dict[str, Volume]) -> None:
    circle = openair["D-TEST CIRCLE"].geometry
    r = 5 * NM
    assert area_m2(circle) == pytest.approx(math.pi * r * r, rel=2e-3)
    for lon, lat in circle.exterior.coords:
        assert haversine_m(44.0, 2.0, lat, lon) == pytest.approx(r, abs=0.5)
    for bearing in range(0, 360, 45):
        lat, lon = offset(44.0, 2.0, bearing + 7, 4.9 * NM)
        assert circle.contains(Point(lon, lat))
        lat, lon = offset(44.0, 2.0, bearing + 7, 5.1 * NM)
        assert not circle.contains(Point(lon, lat))


def test_openair_da_arc_counter_clockwise(openair: dict[str, Volume]) -> None:
    pie = openair["P-TEST DA"].geometry
    coords = list(pie.exterior.coords)[:-1]
    assert coords[0] == (3.0, 43.0)  # the DP centre
    arc = coords[1:]
    for lon, lat in arc:
        assert haversine_m(43.0, 3.0, lat, lon) == pytest.approx(10 * NM, abs=0.5)
        assert lat >= 43.0 - 1e-3 and lon <= 3.0 + 1e-9  # the north-west quadrant only
    assert arc[0][0] == pytest.approx(3.0) and arc[0][1] > 43.1  # starts due north
    assert arc[-1][1] == pytest.approx(43.0, abs=1e-3) and arc[-1][0] < 2.8  # ends due west
    assert area_m2(pie) == pytest.approx(math.pi * (10 * NM) ** 2 / 4, rel=3e-3)
    inside, outside = offset(43, 3, 315, 5 * NM), offset(43, 3, 45, 5 * NM)
    assert pie.contains(Point(inside[1], inside[0]))
    assert not pie.contains(Point(outside[1], outside[0]))


def test_openair_db_arc_counter_clockwise(openair: dict[str, Volume]) -> None:
    half = openair["R-TEST DB"].geometry
    coords = list(half.exterior.coords)
    north, south = (7.0, dms("46:10:00")), (7.0, dms("45:50:00"))
    assert coords[0] == north and coords[-2] == south  # the given ends, exactly
    radius = R * math.radians(10 / 60)
    for lon, lat in coords[:-1]:
        assert haversine_m(46.0, 7.0, lat, lon) == pytest.approx(radius, abs=1.0)
        assert lon <= 7.0  # counter-clockwise from north to south: the west side
    assert area_m2(half) == pytest.approx(math.pi * radius**2 / 2, rel=3e-3)
    west, east = offset(46, 7, 270, 5 * NM), offset(46, 7, 90, 5 * NM)
    assert half.contains(Point(west[1], west[0])) and not half.contains(Point(east[1], east[0]))


def test_openair_db_arc_between_unequal_radii() -> None:
    """An over-defined DB (ends at 10' and 12' from the centre): the radius goes smoothly
    from one to the other, and the ends are kept as given."""
    text = ("AC R\nAN U\nAL GND\nAH FL100\nV X=46:00:00N 007:00:00E\n"
            "DB 46:10:00N 007:00:00E, 45:48:00N 007:00:00E\n")
    coords = list(parse_openair(text)[0].geometry.exterior.coords)[:-1]
    assert coords[0] == (7.0, dms("46:10:00")) and coords[-1] == (7.0, dms("45:48:00"))
    dist = [haversine_m(46.0, 7.0, lat, lon) for lon, lat in coords]
    assert all(lon >= 7.0 for lon, _ in coords)  # clockwise by default: the east side
    assert dist[0] == pytest.approx(R * math.radians(10 / 60), abs=1.0)
    assert dist[-1] == pytest.approx(R * math.radians(12 / 60), abs=1.0)
    assert all(b - a >= -1e-6 and b - a < 50.0 for a, b in itertools.pairwise(dist))


def test_openair_da_clockwise_and_decimal_minutes(openair: dict[str, Volume]) -> None:
    ctr = openair["CTR TEST"].geometry  # DA 8,90,180 clockwise: the south-east quadrant
    assert area_m2(ctr) == pytest.approx(math.pi * (8 * NM) ** 2 / 4, rel=3e-3)
    se, sw = offset(45, 5, 135, 4 * NM), offset(45, 5, 225, 4 * NM)
    assert ctr.contains(Point(se[1], se[0])) and not ctr.contains(Point(sw[1], sw[0]))


def test_openair_latin1_and_utf8_names() -> None:
    text = "AC R\nAN Zürich Süd\nAL GND\nAH FL100\nV X=47:00:00N 008:00:00E\nDC 2\n"
    assert parse_openair(text.encode("latin-1"))[0].name == "Zürich Süd"
    assert parse_openair(text.encode("utf-8"))[0].name == "Zürich Süd"
    assert parse_openair(b"\xef\xbb\xbf" + text.encode("utf-8"))[0].name == "Zürich Süd"
    crlf = parse_openair(text.replace("\n", "\r\n").encode(), "crlf.txt")
    assert crlf[0].source == "crlf.txt:1"


def test_openair_activation_none_is_never_active() -> None:
    text = ("AC R\nAN X\nAA 2026-11-23T08:00Z/2026-11-23T24:00Z\nAL GND\nAH FL100\n"
            "V X=47:00:00N 008:00:00E\nDC 2\nAC R\nAN Y\nAA NONE\nAL GND\nAH FL100\n"
            "V X=47:00:00N 008:00:00E\nDC 2\n")
    x, y = parse_openair(text)
    assert x.schedule.windows == ((T0, utc("2026-11-24T00:00:00")),)
    assert not y.schedule.always and not y.schedule.active(T0)


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


def test_load_airspace_dispatches_on_extension(tmp_path: Path) -> None:
    shutil.copy(OPENAIR, tmp_path / "a.txt")
    shutil.copy(DATA / "zones.geojson", tmp_path / "z.json")
    assert len(load_airspace(tmp_path / "a.txt")) == 5
    assert len(load_airspace(OPENAIR)) == 5
    assert len(load_airspace(tmp_path / "z.json")) == 3
    with pytest.raises(AirspaceFileError, match=r"a\.kml: unknown airspace file type"):
        load_airspace(tmp_path / "a.kml")
    with pytest.raises(AirspaceFileError, match=r"missing\.txt: cannot read"):
        load_airspace(tmp_path / "missing.txt")


# --------------------------------------------------------------------------- limits
@pytest.mark.parametrize(("text", "value", "ref"), [
    ("FL95", 95.0, LimitRef.FL), ("fl 95", 95.0, LimitRef.FL),
    ("2500 ft AMSL", 2500.0, LimitRef.AMSL), ("2500FT MSL", 2500.0, LimitRef.AMSL),
    ("2500ft", 2500.0, LimitRef.AMSL), ("2500", 2500.0, LimitRef.AMSL),
    ("1000ft AGL", 1000.0, LimitRef.AGL), ("1000 ft SFC", 1000.0, LimitRef.AGL),
    ("1000ft GND", 1000.0, LimitRef.AGL), ("600m", 600 / 0.3048, LimitRef.AMSL),
    ("600M", 600 / 0.3048, LimitRef.AMSL), ("300 m AGL", 300 / 0.3048, LimitRef.AGL),
    ("5000ft STD", 50.0, LimitRef.FL), ("GND", 0.0, LimitRef.GND), ("SFC", 0.0, LimitRef.GND),
    ("UNL", math.inf, LimitRef.UNL), ("Unlimited", math.inf, LimitRef.UNL),
    (1500, 1500.0, LimitRef.AMSL), (1500.5, 1500.5, LimitRef.AMSL)])
def test_parse_limit(text: object, value: float, ref: LimitRef) -> None:
    limit = parse_limit(text)
    assert (limit.value, limit.ref) == (pytest.approx(value), ref)


@pytest.mark.parametrize("text", ["FL", "abc", "10 km", "", "-100ft", "1000ft AGL/FL100",
                                  True, None, float("nan"), "FL95 AGL"])
def test_parse_limit_rejects(text: object) -> None:
    with pytest.raises(ValueError, match="altitude"):
        parse_limit(text)


# --------------------------------------------------------------------------- errors
HEAD = "AC R\nAN T\nAL GND\nAH FL100\n"
CIRCLE = "V X=47:00:00N 008:00:00E\nDC 2\n"
SQUARE = ("DP 47:00:00N 008:00:00E\nDP 47:00:00N 008:10:00E\nDP 47:10:00N 008:10:00E\n"
          "DP 47:10:00N 008:00:00E\n")


@pytest.mark.parametrize(("text", "line", "message"), [
    (HEAD + "DP 47:00:00N 008:61:00E\n", 5, "minutes and seconds must be below 60"),
    (HEAD + "DP 47:00:00N\n", 5, "bad coordinate '47:00:00N'"),
    (HEAD + "DP 95:00:00N 008:00:00E\n", 5, "latitude N/S <= 90"),
    (HEAD + "DP 008:00:00E 47:00:00N\n", 5, "latitude N/S <= 90 then longitude"),
    (HEAD + "XX hello\n", 5, "unknown directive 'XX'"),
    (HEAD + "12 hello\n", 5, "unknown directive in '12 hello'"),
    ("AC R\nAN T\nAL GND\nAH 12 parsecs\n", 4, "unknown altitude syntax '12 parsecs'"),
    ("AC R\nAN T\nAL GND\n" + SQUARE, 1, "airspace 'T' starting here: missing limits: AH"),
    ("AC R\nAN T\n" + SQUARE, 1, "missing limits: AL and AH"),
    ("AC R\nAN T\nAL FL100\nAH FL50\n" + SQUARE, 1, "lower limit 'FL100' is not below upper"),
    ("AC R\nAN T\nAL UNL\nAH FL50\n" + SQUARE, 1, "UNL can only be an upper limit"),
    ("AC R\nAN T\nAL GND\nAH FL50\nAL GND\n", 5, "second AL"),
    (HEAD + "DP 47:00:00N 008:00:00E\nDP 47:10:00N 008:10:00E\nDP 47:00:00N 008:10:00E\n"
     "DP 47:10:00N 008:00:00E\n", 1, "invalid polygon: Self-intersection"),
    (HEAD + "DP 47:00:00N 008:00:00E\nDP 47:10:00N 008:10:00E\n", 1,
     "polygon needs at least 3 distinct points, got 2"),
    (HEAD, 1, "no geometry"),
    (HEAD + "DA 5,0,90\n", 5, "DA without a preceding V X= centre"),
    (HEAD + "DB 47:00:00N 008:00:00E, 47:10:00N 008:00:00E\n", 5, "DB without a preceding"),
    (HEAD + "V X=47:00:00N 008:00:00E\nDA 5,0\n", 6, "bad arc"),
    (HEAD + "V X=47:00:00N 008:00:00E\nDC 0\n", 6, "radius 0 NM is not in"),
    (HEAD + "V X=47:00:00N 008:00:00E\nDC two\n", 6, "bad circle radius 'two'"),
    (HEAD + CIRCLE + SQUARE, 1, "mixes a DC circle with DP/DA/DB points"),
    (HEAD + "V Q=1\n", 5, "bad variable assignment 'Q=1'"),
    (HEAD + "V D=*\n", 5, "bad variable assignment"),
    (HEAD + "DY 47:00:00N 008:00:00E\n", 5, "DY airway segments are not supported"),
    ("DP 47:00:00N 008:00:00E\n", 1, "DP before the first AC record"),
    ("* c\n\nAC\n", 3, "AC without an airspace class"),
    ("AC R\nAA 2026-11-23T08:00/2026-11-23T09:00Z\n", 2, "has no UTC offset"),
    ("AC R\nAA tomorrow/2026-11-23T09:00Z\n", 2, "bad ISO 8601 time 'tomorrow'"),
    ("AC R\nAA 2026-11-23T10:00Z/2026-11-23T09:00Z\n", 2, "ends (2026-11-23T09:00Z) before"),
    ("AC R\nAA 2026-11-23T10:00Z\n", 2, "bad activation"),
])
def test_openair_errors_name_file_and_line(text: str, line: int, message: str) -> None:
    with pytest.raises(AirspaceFileError) as info:
        parse_openair(text, "bad.openair")
    err = info.value
    assert (err.path, err.line, err.where) == ("bad.openair", line, f"bad.openair:{line}")
    assert str(err).startswith(f"bad.openair:{line}: ")
    assert message in str(err)
    assert isinstance(err, ConfigError)


def test_openair_error_from_a_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(HEAD + CIRCLE + "AC Q\nAN second\nAL GND\nAH 2000ft\nDP 1:00:00N\n")
    with pytest.raises(AirspaceFileError, match=rf"^{path}:11: bad coordinate"):
        load_airspace(path)


def feature(geometry: Any = None, **props: Any) -> dict[str, Any]:
    base = {"id": "A", "class": "restricted", "lower": "GND", "upper": "FL100"}
    geometry = geometry or {"type": "Polygon",
                            "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    return {"type": "Feature", "properties": {**base, **props}, "geometry": geometry}


def collection(*features: dict[str, Any]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


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


# --------------------------------------------------------------------------- fuzz
NUM = st.one_of(st.integers(-400, 400).map(str), st.floats(-1e3, 1e3).map(lambda x: f"{x:.3f}"),
                st.sampled_from(["0", "1e400", "99999999999", "0.0000001", "nan", "-0", ""]))
COORD = st.builds(lambda d, m, s, ns, e, m2, ew: f"{d}:{m:02d}:{s:02d}{ns} {e:03d}:{m2:06.3f}{ew}",
                  st.integers(0, 99), st.integers(0, 61), st.integers(0, 61),
                  st.sampled_from(["N", "S", " N", "E"]), st.integers(0, 190),
                  st.floats(0, 61), st.sampled_from(["E", "W", " W", "N"]))
NEAR = st.builds(lambda a, b, c, d: f"47:{a:02d}:{b:02d}N 008:{c:02d}:{d:02d}E",
                 *(st.integers(0, 59) for _ in range(4)))
LINE = st.one_of(
    st.text(max_size=30),
    st.builds(lambda k, a: f"{k} {a}", st.sampled_from(
        ["AC", "AN", "AL", "AH", "AY", "AA", "AI", "AF", "DP", "DA", "DB", "DC", "DY", "V",
         "SP", "TO", "*"]), st.text(alphabet="0123456789:.,NSEWX=+-/ TZfltmFLGNDUSC", max_size=40)),
    st.builds("DP {}".format, st.one_of(NEAR, COORD)),
    st.builds("DA {},{},{}".format, NUM, NUM, NUM),
    st.builds("DB {}, {}".format, st.one_of(NEAR, COORD), st.one_of(NEAR, COORD)),
    st.builds("DC {}".format, NUM),
    st.builds("V X={}".format, st.one_of(NEAR, COORD)),
    st.builds("{} {}".format, st.sampled_from(["AL", "AH"]), st.one_of(NUM, st.sampled_from(
        ["GND", "UNL", "FL50", "FL100", "1000ft AGL", "600m", "FL 9999999999", "5000ft STD"]))),
    st.sampled_from(["AC R", "AC Q", "AN x", "V D=-", "V D=+", "V W=2", "DC 2",
                     "AA 2026-11-23T08:00Z/NONE", "AA NONE", "AA 0001-01-01T00:00+01:00/NONE",
                     "AA 9999-12-31T23:59-01:00/NONE", "DA 5,1e308,-1e308", "AY TRA"]))
HEADS = st.sampled_from(["", "AC R\nAN F\nAL GND\nAH FL100\nV X=47:30:00N 008:30:00E\n"])


@settings(max_examples=500, deadline=None)
@given(HEADS, st.lists(LINE, max_size=25))
def test_openair_parser_raises_only_its_error(head: str, lines: list[str]) -> None:
    try:
        volumes = parse_openair(head + "\n".join(lines), "fuzz.txt")
    except AirspaceFileError as err:
        assert err.where.startswith("fuzz.txt")
        return
    for v in volumes:
        assert v.geometry.is_valid and v.lower.feet < v.upper.feet


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_openair_parser_on_arbitrary_bytes(data: bytes) -> None:
    with contextlib.suppress(AirspaceFileError):
        parse_openair(data, "fuzz.txt")


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


# --------------------------------------------------------------------------- schedules
def test_schedule_windows_are_half_open() -> None:
    s = Schedule(False, ((T0, T0 + 3600.0),))
    assert s.active(T0) and s.active(T0 + 3599.999)
    assert not s.active(T0 - 0.001) and not s.active(T0 + 3600.0)
    vols = [volume(schedule=s), volume(), volume(schedule=Schedule(False))]
    assert active_mask(vols, T0).tolist() == [True, True, False]
    assert active_mask(vols, T0 + 3600).tolist() == [False, True, False]


def weekly_schedule(*windows: tuple[list[str], str, str]) -> Schedule:
    obj = {"weekly": [{"days": d, "from": a, "to": b} for d, a, b in windows]}
    return airspace._parse_schedule(obj)


@pytest.mark.parametrize(("when", "active"), [
    ("2026-11-23T08:00:00", True), ("2026-11-23T07:59:59", False),  # Monday
    ("2026-11-23T15:59:59", True), ("2026-11-23T16:00:00", False),
    ("2026-11-25T12:00:00", True),
    ("2026-11-27T12:00:00", True), ("2026-11-28T12:00:00", False),  # Friday, Saturday
    ("2026-11-28T21:59:59", False), ("2026-11-28T22:00:00", True),  # Saturday night ...
    ("2026-11-29T01:59:59", True), ("2026-11-29T02:00:00", False),  # ... into Sunday
    ("2026-11-29T23:30:00", True), ("2026-11-30T00:59:59", True),  # Sunday into Monday
    ("2026-11-30T01:00:00", False), ("2026-11-29T12:00:00", False),
    ("2026-11-24T23:59:59", False), ("2026-11-25T00:00:00", True),  # Wednesday whole day
    ("2026-11-25T23:59:59", True), ("2026-11-26T00:00:00", False),
])
def test_weekly_schedule_boundaries(when: str, active: bool) -> None:
    s = weekly_schedule((["Mon", "tue", "Wed", "Thursday", "Fri"], "08:00", "16:00"),
                        (["Sat"], "22:00", "02:00"), (["Sun"], "23:00", "01:00"),
                        (["wednesday"], "00:00", "24:00"))
    t = utc(when)
    assert s.active(t) is active
    assert active_mask([volume(schedule=s)], t).tolist() == [active]


def oracle_active(s: Schedule, t: float) -> bool:
    """Independent of the module's week arithmetic: datetime weekday and minutes."""
    if s.always or any(a <= t < b for a, b in s.windows):
        return True
    dt = datetime.fromtimestamp(t, UTC)
    minute = dt.hour * 60 + dt.minute + (dt.second + dt.microsecond / 1e6) / 60
    day = dt.weekday()
    for w in s.weekly:
        if w.end_min > w.start_min:
            if day in w.days and w.start_min <= minute < w.end_min:
                return True
        elif (day in w.days and minute >= w.start_min) or (
                (day - 1) % 7 in w.days and minute < w.end_min):
            return True
    return False


def schedules(rng: np.random.Generator, n: int) -> list[Schedule]:
    out = []
    for _ in range(n):
        kind = rng.integers(0, 4)
        if kind == 0:
            out.append(Schedule())
            continue
        windows = tuple((a, a + rng.uniform(1.0, 400.0))
                        for a in T0 + rng.uniform(-300.0, 600.0, rng.integers(0, 3)))
        weekly = tuple(WeeklyWindow(frozenset(rng.choice(7, rng.integers(1, 4), replace=False)
                                              .tolist()), int(a), int(b))
                       for a, b in rng.integers(0, 1441, (rng.integers(0, 3), 2))
                       if a % 1440 != b % 1440 and a < 1440)
        out.append(Schedule(False, windows if kind != 2 else (), weekly if kind != 1 else ()))
    return out


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_active_mask_and_next_activation_agree_with_oracle(seed: int) -> None:
    rng = np.random.default_rng(seed)
    sched = schedules(rng, 12)
    table = airspace.ScheduleTable(sched)
    for t in np.r_[T0 + rng.uniform(-900, 900, 10), T0 + rng.uniform(0, 14 * 86400, 10)]:
        t = float(np.round(t))  # whole seconds meet window edges exactly
        assert table.active(t).tolist() == [oracle_active(s, t) for s in sched]
        # the next activation within 5 minutes, against a 1-second scan
        owners = np.arange(len(sched))
        now, start = table.next_active(owners, np.full(len(sched), t))
        assert now.tolist() == [oracle_active(s, t) for s in sched]
        for i, s in enumerate(sched):
            scan = next((k for k in range(0, 301) if oracle_active(s, t + k)), None)
            if scan is None:
                assert start[i] - t > 299.0
            else:
                assert scan - 1.0 < start[i] - t <= scan + 1e-6


# --------------------------------------------------------------------------- inside
def volume(geometry: Any = None, lower: str = "GND", upper: str = "UNL",
           schedule: Schedule | None = None, vid: str = "v") -> Volume:
    return Volume(vid, vid, "restricted", geometry or box(0, 0, 1, 1), parse_limit(lower),
                  parse_limit(upper), schedule or Schedule(), "test")


def test_inside_on_fixture_with_altitude_references(openair: dict[str, Volume]) -> None:
    vols = list(openair.values())
    vs = VolumeSet(vols)
    r1 = vols.index(openair["R-TEST POLYGON"])
    lat = np.full(6, 43.3)
    lon = np.full(6, 1.2)
    alt = np.array([9000, 9600, np.nan, np.nan, 1000, 9000], np.float32)
    geo = np.array([9800, 9000, 9000, np.nan, 1400, 1000], np.float32)
    ti, vi = vs.inside(lat, lon, alt, geo, T0)
    # FL95 against baro, 1500 ft AMSL against geo (falling back to the other when unknown)
    assert ti.tolist() == [0, 2, 3] and vi.tolist() == [r1] * 3
    strict = VolumeSet(vols, unknown_alt_inside=False)
    assert strict.inside(lat, lon, alt, geo, T0)[0].tolist() == [0, 2]
    # without altitude only a surface-to-unlimited volume is certain
    pie, circle = vols.index(openair["P-TEST DA"]), vols.index(openair["D-TEST CIRCLE"])
    p = offset(43, 3, 315, 5 * NM)
    c = offset(44, 2, 0, 1 * NM)
    ti, vi = strict.inside([p[0], c[0]], [p[1], c[1]], [np.nan] * 2, [np.nan] * 2, T0)
    assert (ti.tolist(), vi.tolist()) == ([0], [pie])
    assert vs.inside([p[0], c[0]], [p[1], c[1]], [np.nan] * 2, [np.nan] * 2, T0)[1].tolist() \
        == [pie, circle]


def test_inside_respects_activation_and_empty_inputs(openair: dict[str, Volume]) -> None:
    vs = VolumeSet([openair["R-TEST DB"]])
    west = offset(46, 7, 270, 5 * NM)
    args = ([west[0]], [west[1]], [8000.0], [8200.0])
    assert vs.inside(*args, T0 + 60)[0].tolist() == [0]
    assert vs.inside(*args, T0 - 60)[0].tolist() == []
    assert vs.inside(*args, T0 + 4 * 3600)[0].tolist() == []
    assert vs.inside([np.nan], [np.nan], [0.0], [0.0], T0)[0].tolist() == []
    empty = VolumeSet([])
    assert empty.inside(*args, T0)[0].tolist() == []
    assert empty.entering(*args, [100.0], [0.0], [0.0], T0, 120)[0].tolist() == []


def random_volumes(rng: np.random.Generator, n: int, area: tuple[float, float, float, float]
                   ) -> list[Volume]:
    lat0, lon0, lat1, lon1 = area
    limits = [("GND", "UNL"), ("GND", "FL95"), ("1500 ft AMSL", "FL245"), ("FL100", "UNL"),
              ("1000ft AGL", "5000 ft AMSL"), ("SFC", "600m"), ("FL50", "FL150")]
    sched = schedules(rng, n)
    out = []
    for i in range(n):
        lat, lon = rng.uniform(lat0, lat1), rng.uniform(lon0, lon1)
        k = int(rng.integers(3, 40))
        angles = np.sort(rng.uniform(0, 2 * np.pi, k))
        radius = rng.uniform(0.03, 0.3) * rng.uniform(0.3, 1.0, k)
        poly = Polygon(np.column_stack([lon + radius * np.sin(angles) / math.cos(math.radians(lat)),
                                        lat + radius * np.cos(angles)]))
        if not poly.is_valid or poly.area == 0:
            poly = shapely.convex_hull(poly)
        holed = poly.difference(Point(lon, lat).buffer(float(radius.min()) * 0.3))
        if rng.random() < 0.2 and holed.is_valid and not holed.is_empty:  # a hole or notch
            poly = holed
        lower, upper = limits[int(rng.integers(len(limits)))]
        out.append(Volume(f"v{i}", f"v{i}", "restricted", poly, parse_limit(lower),
                          parse_limit(upper), sched[i], "rand"))
    return out


def oracle_vertical(v: Volume, alt: float, geo: float, unknown_inside: bool) -> bool:
    baro = alt if math.isfinite(alt) else geo
    gps = geo if math.isfinite(geo) else alt
    if math.isnan(baro):
        no_floor = v.lower.ref is LimitRef.GND or v.lower.feet <= 0
        return unknown_inside or (no_floor and v.upper.ref is LimitRef.UNL)
    low_alt = baro if v.lower.ref is LimitRef.FL else gps
    high_alt = baro if v.upper.ref is LimitRef.FL else gps
    floor_ok = v.lower.ref is LimitRef.GND or v.lower.feet <= 0 or low_alt >= v.lower.feet
    ceiling_ok = v.upper.ref is LimitRef.UNL or high_alt <= v.upper.feet
    return floor_ok and ceiling_ok


def oracle_inside(v: Volume, lat: float, lon: float, alt: float, geo: float, t: float,
                  unknown_inside: bool = True) -> bool:
    return (oracle_active(v.schedule, t) and v.geometry.contains(Point(lon, lat))
            and oracle_vertical(v, alt, geo, unknown_inside))


def random_tracks(rng: np.random.Generator, n: int, area: tuple[float, float, float, float]
                  ) -> dict[str, F64]:
    lat0, lon0, lat1, lon1 = area
    alt = rng.uniform(-100.0, 30_000.0, n)
    alt[rng.random(n) < 0.15] = np.nan
    geo = alt + rng.normal(0.0, 300.0, n)
    geo[rng.random(n) < 0.3] = np.nan
    gs = rng.uniform(0.0, 500.0, n)
    gs[rng.random(n) < 0.1] = np.nan
    lat = rng.uniform(lat0 - 0.2, lat1 + 0.2, n)
    lat[rng.random(n) < 0.03] = np.nan
    return {"lat": lat, "lon": rng.uniform(lon0 - 0.2, lon1 + 0.2, n), "alt": alt,
            "geo": geo, "gs": gs, "track": rng.uniform(0.0, 360.0, n),
            "vrate": rng.normal(0.0, 2000.0, n) * (rng.random(n) < 0.7)}


AREAS = st.sampled_from([(45.0, 5.0, 46.0, 6.5), (36.0, -10.0, 60.0, 30.0), (-1.0, -1.0, 1.0, 1.0)])


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), AREAS, st.booleans())
def test_inside_agrees_with_per_point_oracle(seed: int, area: tuple[float, float, float, float],
                                             unknown_inside: bool) -> None:
    rng = np.random.default_rng(seed)
    vols = random_volumes(rng, int(rng.integers(1, 15)), area)
    tr = random_tracks(rng, 300, area)
    t = float(T0 + rng.integers(-300, 600))
    vs = VolumeSet(vols, unknown_alt_inside=unknown_inside)
    ti, vi = vs.inside(tr["lat"], tr["lon"], tr["alt"], tr["geo"], t)
    got = set(zip(ti.tolist(), vi.tolist(), strict=True))
    assert len(got) == len(ti)  # each pair once
    want = {(i, j) for i in range(300) for j, v in enumerate(vols)
            if oracle_inside(v, tr["lat"][i], tr["lon"][i], tr["alt"][i], tr["geo"][i], t,
                             unknown_inside)}
    assert got == want
    assert list(zip(ti, vi, strict=True)) == sorted(zip(ti, vi, strict=True))


# --------------------------------------------------------------------------- entering
def reckon(lat: float, lon: float, gs: float, trk: float, dt: F64) -> tuple[F64, F64]:
    """The documented dead reckoning, written out: a straight line in lon/lat scaled at the
    start latitude on the module's sphere."""
    d = gs * NM / 3600.0 * dt
    m_lat = R * math.pi / 180
    return (lat + d * math.cos(math.radians(trk)) / m_lat,
            lon + d * math.sin(math.radians(trk)) / (m_lat * math.cos(math.radians(lat))))


def oracle_path(v: Volume, tr: dict[str, F64], i: int, t: float,
                taus: F64) -> npt.NDArray[np.bool_]:
    """Inside ``v`` at each ``t + tau`` along track i's dead-reckoned path (per point)."""
    moving = math.isfinite(tr["gs"][i]) and math.isfinite(tr["track"][i])
    gs, trk = (tr["gs"][i], tr["track"][i]) if moving else (0.0, 0.0)
    lat, lon = reckon(tr["lat"][i], tr["lon"][i], gs, trk, taus)
    rate = tr["vrate"][i] / 60.0 if math.isfinite(tr["vrate"][i]) else 0.0
    return np.array([oracle_inside(v, la, lo, tr["alt"][i] + rate * tau,
                                   tr["geo"][i] + rate * tau, t + tau)
                     for la, lo, tau in zip(lat, lon, taus, strict=True)])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.sampled_from([30.0, 120.0, 300.0]))
def test_entering_confirmed_by_stepping_tracks_forward(seed: int, horizon: float) -> None:
    rng = np.random.default_rng(seed)
    area = (45.0, 5.0, 45.6, 5.8)
    vols = random_volumes(rng, int(rng.integers(1, 16)), area)
    n = 200
    tr = random_tracks(rng, n, area)
    t = float(T0 + rng.integers(-300, 600))
    vs = VolumeSet(vols)
    ti, vi, eta = vs.entering(tr["lat"], tr["lon"], tr["alt"], tr["geo"], tr["gs"],
                              tr["track"], tr["vrate"], t, horizon)
    got = {(a, b): e for a, b, e in zip(ti.tolist(), vi.tolist(), eta.tolist(), strict=True)}
    assert len(got) == len(ti) and ((eta >= 0) & (eta <= horizon)).all()
    taus = np.arange(0.0, horizon + 0.5, 1.0)
    want = {}
    for i in range(n):
        if not math.isfinite(tr["lat"][i]):
            continue
        for j, v in enumerate(vols):
            lat, lon = reckon(tr["lat"][i], tr["lon"][i], np.nan_to_num(tr["gs"][i]),
                              tr["track"][i], np.array([0.0, horizon]))
            reach = box(min(lon), min(lat), max(lon), max(lat)).buffer(1e-9)
            if not reach.intersects(v.geometry):  # the path cannot meet the volume
                continue
            path = oracle_path(v, tr, i, t, taus)
            if not path[0] and path.any():
                want[(i, j)] = float(taus[np.argmax(path)])
    def confirmed_finely(pair: tuple[int, int]) -> bool:
        """Inside within a second after the reported entry (stepping every 0.5 ms)."""
        fine = np.linspace(got[pair], min(got[pair] + 1.0, horizon), 2001)
        return bool(oracle_path(vols[pair[1]], tr, pair[0], t, fine).any())

    for pair, first in want.items():
        assert pair in got, f"missed entry of track {pair[0]} into volume {pair[1]} at {first}"
        assert got[pair] <= first + 1e-6  # never later than the first step found inside
        if first - got[pair] > 1.0 + 1e-6:  # earlier: a clip between steps, checked finely
            assert confirmed_finely(pair), f"{pair}: entry {got[pair]}, oracle {first}"
    for pair in set(got) - set(want):  # entries shorter than a step: check finely
        i, j = pair
        assert not oracle_inside(vols[j], tr["lat"][i], tr["lon"][i], tr["alt"][i],
                                 tr["geo"][i], t)
        assert confirmed_finely(pair), f"no entry for {pair} near {got[pair]}"


def test_entering_scenarios() -> None:
    square = box(6.0, 45.0, 6.5, 45.5)
    m_lon = R * math.pi / 180 * math.cos(math.radians(45.2))
    vols = [volume(square, "FL50", "FL150", vid="sq"),
            volume(square.buffer(-0.1), "GND", "UNL", Schedule(False, ((T0 + 45, T0 + 99),)),
                   vid="later")]
    vs = VolumeSet(vols)
    lat = np.array([45.2, 45.2, 45.2, 45.2, 45.3, 45.3])
    lon = np.array([6.0 - 18_520 / m_lon, 6.2, 6.2, 5.0, 6.25, 6.25])
    alt = np.array([8000, 4000, 8000, 8000, 20000, 20000], float)
    gs = np.array([360, 0, 100, 360, np.nan, 100], float)  # 360 kt = 185.2 m/s
    trk = np.array([90, 0, 0, 270, np.nan, 180], float)
    vrate = np.array([0, 1000, 0, 0, np.nan, 0], float)
    ti, vi, eta = vs.entering(lat, lon, alt, alt, gs, trk, vrate, T0, 120.0)
    got = {(a, b): e for a, b, e in zip(ti.tolist(), vi.tolist(), eta.tolist(), strict=True)}
    assert got.keys() == {(0, 0), (1, 0), (1, 1), (2, 1), (4, 1), (5, 1)}
    assert got[(0, 0)] == pytest.approx(100.0, abs=1e-3)  # 10 NM at 360 kt
    assert got[(1, 0)] == pytest.approx(60.0, abs=1e-3)  # climbing 1000 ft/min to FL50
    for track in (1, 2, 4, 5):  # inside its area when it activates
        assert got[(track, 1)] == pytest.approx(45.0, abs=1e-3)
    # already inside: not entering, but inside
    assert vs.inside(lat, lon, alt, alt, T0)[0].tolist() == [2]
    assert vs.entering(lat, lon, alt, alt, gs, trk, vrate, T0, 40.0)[0].tolist() == []
    assert vs.entering(lat, lon, alt, alt, gs, trk, vrate, T0, 70.0)[0].tolist() == [1, 1, 2, 4, 5]
    with pytest.raises(ValueError, match="horizon_s"):
        vs.entering(lat, lon, alt, alt, gs, trk, vrate, T0, -1.0)


def test_checks_survive_hostile_tracks() -> None:
    vs = VolumeSet(load_openair(OPENAIR))
    inf, nan = math.inf, math.nan
    lat = [43.3, nan, inf, 1e10, 43.3, 43.3, 43.3, -95.0, 44.0, 43.0]
    lon = [0.9, 1.2, 1.2, 1.2, nan, 1.2, 1.2, 1.2, 1.9, -inf]
    gs = [9999.0, 100, 100, 100, 100, inf, -50, 100, 1e300, 100]
    trk = [90.0, nan, 0, 0, 0, 0, 1e9, 0, 45, 0]
    vrate = [0.0, nan, 0, 0, 0, 0, 0, inf, -inf, 0]
    alt = [5000.0, nan, 0, 0, 0, inf, -inf, 0, 5000, 0]
    ti, vi = vs.inside(lat, lon, alt, alt, T0)
    assert set(ti.tolist()) <= {0, 5, 6, 8} and (vi < len(vs)).all()
    ti, vi, eta = vs.entering(lat, lon, alt, alt, gs, trk, vrate, T0, 120.0)
    assert np.isfinite(eta).all() and (eta >= 0).all() and (eta <= 120).all()
    assert set(ti.tolist()) <= {0, 5, 6, 8}
    got = {(a, b): e for a, b, e in zip(ti.tolist(), vi.tolist(), eta.tolist(), strict=True)}
    assert got[(0, 0)] == pytest.approx(1.58, abs=0.05)  # 0.1 deg of longitude at 9999 kt


ANY = st.floats(allow_nan=True, allow_infinity=True)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(*(st.one_of(ANY, st.floats(-90, 90)) for _ in range(7))),
                min_size=1, max_size=20), st.floats(0, 600))
def test_checks_never_raise_or_warn_on_any_numbers(rows: list[tuple[float, ...]],
                                                   horizon: float) -> None:
    vs = VolumeSet(load_openair(OPENAIR))
    lat, lon, alt, geo, gs, trk, vrate = (np.array(c) for c in zip(*rows, strict=True))
    ti, vi = vs.inside(lat, lon, alt, geo, T0)
    assert ((ti >= 0) & (ti < len(rows)) & (vi >= 0) & (vi < len(vs))).all()
    ti, vi, eta = vs.entering(lat, lon + 2.0, alt, geo, gs, trk, vrate, T0, horizon)
    assert ((eta >= 0) & (eta <= horizon)).all() and (ti < len(rows)).all()


def test_entering_openair_circle_head_on() -> None:
    circle = load_openair(OPENAIR)[1]  # 5 NM around 44N 2E, GND to 3000 m
    lat, lon = offset(44.0, 2.0, 180.0, 20 * NM)
    vs = VolumeSet([circle])
    ti, vi, eta = vs.entering([lat], [lon], [5000.0], [5000.0], [600.0], [0.0], [0.0], T0, 120)
    assert (ti.tolist(), vi.tolist()) == ([0], [0])
    assert eta[0] == pytest.approx(90.0, abs=0.2)  # 15 NM at 600 kt


# --------------------------------------------------------------------------- regions
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


def test_public_api() -> None:
    assert sorted(airspace.__all__) == airspace.__all__
    for name in airspace.__all__:
        assert hasattr(airspace, name)
