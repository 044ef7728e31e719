"""CPR encoding/decoding and the decoder's position policy (skyshare.decode.cpr/positions)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from modes_test_frames import df17, frames, me_airborne, me_surface
from pyModeS.position._cpr import cprNL

from skyshare.decode.cpr import (
    NL_TRANSITIONS,
    airborne_global,
    airborne_local,
    cpr_encode_airborne,
    cpr_encode_surface,
    nl,
    surface_global,
    surface_local,
)
from skyshare.decode.modes import ModeSDecoder
from skyshare.decode.positions import MAX_REJECTS, distance_nm
from skyshare.model import ReportFlag

ADDRESS = 0x4CA216
lats = st.floats(-86.9, 86.9)
lons = st.floats(-180.0, 179.999)


def near_transition(lat: float, margin: float = 0.01) -> bool:
    return bool(np.min(np.abs(NL_TRANSITIONS - abs(lat))) < margin)


def within_one_lsb(lat: float, lon: float, got: tuple[float, float], span: float) -> bool:
    """Decoded within one CPR step (2**-17 of a zone) of the encoded position."""
    step_lat = span / 59.0 / 131072.0
    step_lon = span / max(nl(lat) - 1, 1) / 131072.0
    dlon = (got[1] - lon + 180.0) % 360.0 - 180.0
    return abs(got[0] - lat) <= step_lat and abs(dlon) <= step_lon


def test_nl_table_edges() -> None:
    assert nl(0.0) == 59
    assert nl(-10.0) == nl(10.0) == 59
    assert nl(86.9) == 2
    assert nl(87.0) == nl(-87.0) == nl(89.9) == 1
    assert len(NL_TRANSITIONS) == 58


@settings(deadline=None)
@given(st.floats(0.0, 90.0), st.floats(0.0, 90.0))
def test_nl_monotone_and_as_pymodes(a: float, b: float) -> None:
    lo, hi = min(a, b), max(a, b)
    assert nl(lo) >= nl(hi)
    if not near_transition(a, 1e-9):
        assert nl(a) == cprNL(a) == nl(-a)


@settings(deadline=None)
@given(lats, lons)
def test_airborne_pair_round_trip(lat: float, lon: float) -> None:
    (ye, xe), (yo, xo) = (cpr_encode_airborne(lat, lon, i) for i in (0, 1))
    for latest_odd in (False, True):
        got = airborne_global(int(ye), int(xe), int(yo), int(xo), latest_odd)
        if math.isnan(got[0]):
            assert near_transition(lat)  # the two quantised latitudes straddle NL zones
            continue
        assert within_one_lsb(lat, lon, got, 360.0)


@settings(deadline=None)
@given(lats, lons, st.floats(-1.5, 1.5), st.floats(-1.5, 1.5), st.integers(0, 1))
def test_airborne_local_round_trip(lat: float, lon: float, dlat: float, dlon: float,
                                   odd: int) -> None:
    yz, xz = cpr_encode_airborne(lat, lon, odd)
    ref_lat = max(-89.0, min(89.0, lat + dlat))
    got = airborne_local(int(yz), int(xz), bool(odd), ref_lat, lon + dlon)
    assert within_one_lsb(lat, lon, got, 360.0)


@settings(deadline=None)
@given(lats, lons, st.floats(-0.4, 0.4), st.floats(-0.4, 0.4), st.integers(0, 1))
def test_surface_local_round_trip(lat: float, lon: float, dlat: float, dlon: float,
                                  odd: int) -> None:
    yz, xz = cpr_encode_surface(lat, lon, odd)
    ref_lat = max(-89.0, min(89.0, lat + dlat))
    got = surface_local(int(yz), int(xz), bool(odd), ref_lat, lon + dlon)
    assert within_one_lsb(lat, lon, got, 90.0)


@settings(deadline=None)
@given(lats, lons, st.floats(-40.0, 40.0), st.floats(-40.0, 40.0))
def test_surface_pair_round_trip_with_a_distant_reference(lat: float, lon: float,
                                                          dlat: float, dlon: float) -> None:
    (ye, xe), (yo, xo) = (cpr_encode_surface(lat, lon, i) for i in (0, 1))
    ref_lat = max(-89.0, min(89.0, lat + dlat))
    got = surface_global(int(ye), int(xe), int(yo), int(xo), True, ref_lat, lon + dlon)
    if math.isnan(got[0]):
        assert near_transition(lat)
        return
    assert within_one_lsb(lat, lon, got, 90.0)


# --------------------------------------------------------------------------- decoder policy
def airborne_frames(track: list[tuple[float, float, float]], alt: int = 30000) -> np.ndarray:
    """(time, lat, lon) points as alternating even/odd DF17 position frames."""
    data = [df17(ADDRESS, me_airborne(lat, lon, alt, i % 2)) for i, (_, lat, lon) in
            enumerate(track)]
    return frames(data, [t for t, _, _ in track])


def straight(t0: float, n: int, lat: float, lon: float, dt: float = 0.5,
             kt: float = 450.0) -> list[tuple[float, float, float]]:
    step = kt * dt / 3600.0 / 60.0  # degrees of latitude per message
    return [(t0 + i * dt, lat + i * step, lon) for i in range(n)]


@settings(max_examples=30, deadline=None)
@given(st.floats(-80.0, 80.0), lons)
def test_decoder_follows_an_aircraft(lat: float, lon: float) -> None:
    track = straight(1000.0, 40, lat, lon)
    reports = ModeSDecoder().decode(airborne_frames(track))
    assert len(reports) == len(track)
    assert math.isnan(reports["lat"][0])  # one message is never a fix
    got = ~np.isnan(reports["lat"])
    assert got[1:].sum() >= len(track) - 3  # a pair straddling a zone may wait
    for (_, la, lo), r in zip(track, reports, strict=True):
        if not math.isnan(r["lat"]):
            assert distance_nm(la, lo, r["lat"], r["lon"]) * 1852.0 < 6.0


def test_first_fix_needs_a_pair_within_10_s() -> None:
    track = [(0.0, 50.0, 4.0), (10.5, 50.0, 4.0)]
    reports = ModeSDecoder().decode(airborne_frames(track))
    assert np.isnan(reports["lat"]).all()


def test_pair_straddling_nl_zones_is_refused() -> None:
    boundary = float(NL_TRANSITIONS[20])  # NL changes at this latitude
    track = [(0.0, boundary - 0.004, 4.0), (1.0, boundary + 0.004, 4.0)]
    decoder = ModeSDecoder()
    reports = decoder.decode(airborne_frames(track))
    assert np.isnan(reports["lat"]).all()
    assert decoder.counts["cpr-zone-mismatch"] == 1


def test_implausible_jump_is_refused_and_state_kept() -> None:
    decoder = ModeSDecoder()
    first = decoder.decode(airborne_frames(straight(0.0, 6, 50.0, 4.0)))
    assert not math.isnan(first["lat"][-1])
    # 2 degrees (120 NM) away one second later: local decoding would place it there.
    jump = decoder.decode(airborne_frames([(3.5, 52.0, 4.0), (4.0, 52.0, 4.0)]))
    assert np.isnan(jump["lat"]).all()
    assert decoder.counts["cpr-implausible"] == 2
    back = decoder.decode(airborne_frames(straight(4.5, 2, 50.0 + 9 * 450 / 3600 / 60 / 2,
                                                   4.0)))
    assert not np.isnan(back["lat"]).any()
    assert back["flags"][0] & ReportFlag.POSITION_LOCAL


def test_persistent_contradiction_resets_the_state() -> None:
    decoder = ModeSDecoder()
    decoder.decode(airborne_frames(straight(0.0, 4, 50.0, 4.0)))
    track = straight(2.0, MAX_REJECTS + 3, 52.0, 4.0)
    moved = decoder.decode(airborne_frames(track))
    assert np.isnan(moved["lat"][:MAX_REJECTS]).all()
    _, lat, lon = track[-1]
    assert distance_nm(float(moved["lat"][-1]), float(moved["lon"][-1]), lat, lon) < 0.01


def test_surface_positions_need_a_pair_and_a_reference() -> None:
    lat, lon = 51.4700, -0.4543  # Heathrow, ~900 km from the reference below
    data = [df17(ADDRESS, me_surface(lat, lon, i % 2), ca=4) for i in range(4)]
    without = ModeSDecoder().decode(frames(data))
    assert np.isnan(without["lat"]).all()
    assert (without["flags"] & ReportFlag.ON_GROUND).all()
    assert (without["flags"] & ReportFlag.POSITION_SURFACE).all()
    with_ref = ModeSDecoder(reference=(43.6, 1.4)).decode(frames(data))
    assert math.isnan(with_ref["lat"][0])  # a single message is not decoded against it
    for r in with_ref[1:]:
        assert distance_nm(lat, lon, float(r["lat"]), float(r["lon"])) * 1852.0 < 2.0


def test_sensor_position_is_the_surface_reference() -> None:
    lat, lon = -33.9461, 151.1772  # Sydney
    data = [df17(ADDRESS, me_surface(lat, lon, i % 2)) for i in range(3)]
    sensors = np.array([[np.nan, np.nan], [-33.8, 151.0]])
    reports = ModeSDecoder(sensor_positions=sensors, reference=(43.6, 1.4)).decode(
        frames(data, sensor=1))
    assert distance_nm(lat, lon, float(reports["lat"][-1]), float(reports["lon"][-1])) < 0.01


def test_surface_jump_is_refused() -> None:
    lat, lon = 43.6294, 1.3678
    decoder = ModeSDecoder(reference=(43.6, 1.4))
    decoder.decode(frames([df17(ADDRESS, me_surface(lat, lon, i % 2)) for i in range(3)]))
    # 1.5 km away 2 s later: 1500 kt on the surface
    jump = decoder.decode(frames([df17(ADDRESS, me_surface(lat + 0.0135, lon, 1))], [3.0]))
    assert math.isnan(jump["lat"][0])
    assert decoder.counts["cpr-implausible"] == 1
