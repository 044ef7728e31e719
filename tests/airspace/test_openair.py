"""The OpenAir parser on hand-written fixtures: geometry against the tests' own
geodesy, every error with its file and line, and hostile input."""

from __future__ import annotations

import contextlib
import itertools
import math
from collections import Counter
from pathlib import Path

import pytest
from airspace_helpers import (
    CIRCLE,
    HEAD,
    NM,
    OPENAIR,
    SQUARE,
    T0,
    R,
    area_m2,
    dms,
    haversine_m,
    offset,
    utc,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from skyshare.airspace import (
    AirspaceFileError,
    Limit,
    LimitRef,
    Schedule,
    Volume,
    load_openair,
    parse_openair,
)
from skyshare.errors import ConfigError


def ac_lines(path: Path) -> list[int]:
    lines = path.read_text().split("\n")
    return [i for i, line in enumerate(lines, 1) if line.startswith("AC ")]


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


# --------------------------------------------------------------------------- errors
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


# --------------------------------------------------------------------------- duplicate ids
def record(name: str = "", ident: str = "") -> str:
    """An OpenAir record (a circle), with an AN line and an AI line when given."""
    return ("AC R\n" + (f"AN {name}\n" if name else "") + (f"AI {ident}\n" if ident else "")
            + "AL GND\nAH FL100\n" + CIRCLE)


@pytest.mark.parametrize(("text", "line", "ident"), [
    (record("A", "R-1") + record("B", "R-1"), 8, "R-1"),  # the same AI
    (record("TMA X") + record("TMA X"), 7, "TMA X"),  # no AI: the same name
    (record("R-1") + record("B", "R-1"), 7, "R-1"),  # an AI that is another one's name
])
def test_openair_duplicate_ids_name_both_records(text: str, line: int, ident: str) -> None:
    with pytest.raises(AirspaceFileError) as info:
        parse_openair(text, "dup.openair")
    assert info.value.where == f"dup.openair:{line}"
    assert (f"starting here: id {ident!r} is already used by the airspace at dup.openair:1; "
            "the id is AI, else AN: give each airspace its own AI") in str(info.value)


def test_openair_repeated_names_with_their_own_ids_load() -> None:
    sectors = parse_openair(record("TMA X", "TMA X 1") + record("TMA X", "TMA X 2"), "t.txt")
    assert [(v.id, v.name) for v in sectors] == [("TMA X 1", "TMA X"), ("TMA X 2", "TMA X")]
    anonymous = parse_openair(record() + record(), "t.txt")  # ids are their places
    assert [v.id for v in anonymous] == ["t.txt:1", "t.txt:6"]


def test_openair_ids_of_an_earlier_file() -> None:
    ids: dict[str, Volume] = {}
    first = parse_openair(record("A", "R-1"), "a.txt", ids=ids)
    assert ids == {"R-1": first[0]}
    with pytest.raises(AirspaceFileError, match=r"^b\.txt:7: .*already used by the airspace "
                       r"at a\.txt:1;"):
        parse_openair(record("B") + record("C", "R-1"), "b.txt", ids=ids)


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
