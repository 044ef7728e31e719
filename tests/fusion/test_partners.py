"""Partner tracks in the fused picture: association, merge, ordering, clocks, ids."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skyshare.errors import ConfigError
from skyshare.fusion.geo import scales
from skyshare.fusion.partner_table import PartnerTable
from skyshare.fusion.partners import FIRST_PARTNER_ONLY_ID, PartnerTracks, warm_up
from skyshare.model import (
    NO_ADDRESS,
    NO_SQUAWK,
    SourceKind,
    TrackBatch,
    TrackFlag,
    empty_tracks,
)

T0 = 1_700_000_000.0
NONE = np.zeros(0, np.uint32)
PARTNER = 1 << SourceKind.PARTNER
ADSB = 1 << SourceKind.ADSB
SHOWN = TrackFlag.CONFIRMED | TrackFlag.HAS_POSITION


def row(track_id: int, lat: float = 48.0, lon: float = 11.0, *, icao24: int = int(NO_ADDRESS),
        t: float = T0, alt: float = 30_000.0, flags: int = SHOWN, **fields: Any) -> TrackBatch:
    """One TRACK_DTYPE row, seen and positioned at ``t`` (first seen a minute before)."""
    r = empty_tracks(1)
    r["track_id"], r["icao24"], r["flags"] = track_id, icao24, flags
    r["lat"], r["lon"], r["alt"] = lat, lon, alt
    r["first_seen"], r["last_seen"] = t - 60.0, t
    r["last_pos"] = t if flags & TrackFlag.HAS_POSITION else math.nan
    for name, value in fields.items():
        r[name] = value
    return r


def batch(*rows: TrackBatch) -> TrackBatch:
    return np.concatenate([empty_tracks(0), *rows])


def moved(lat: float, lon: float, east_m: float, north_m: float) -> tuple[float, float]:
    m_lat, m_lon = scales(lat)
    return lat + north_m / m_lat, lon + east_m / m_lon


def send(fed: PartnerTracks, partner: int, rows: TrackBatch, t: float = T0, *,
         skew: float = 0.0, latency: float = 0.05,
         removed: npt.NDArray[np.uint32] = NONE) -> Any:
    """Deliver ``rows`` (times on the partner's clock) sent at partner time ``t + skew``."""
    return fed.ingest(partner, rows, removed, t + skew, t + latency)


def by_id(picture: TrackBatch, track_id: int) -> Any:
    hits = picture[picture["track_id"] == track_id]
    assert len(hits) == 1, f"track {track_id} appears {len(hits)} times"
    return hits[0]


# --------------------------------------------------------------------------- address
def test_rows_with_the_address_of_an_own_track_join_it() -> None:
    fed = PartnerTracks(["north", "east"])
    own = row(7, icao24=0x3C6444, callsign=b"DLH1", sources=ADSB)
    send(fed, 0, row(101, icao24=0x3C6444, sources=ADSB))
    send(fed, 1, row(555, icao24=0x3C6444, sources=1 << SourceKind.RADAR_SSR))
    picture = fed.merge(own, T0 + 0.5)
    assert len(picture) == 1
    t = picture[0]
    assert t["track_id"] == 7 and t["callsign"] == b"DLH1"
    assert t["sources"] == ADSB | PARTNER and t["partners"] == 0b11
    assert t["lat"] == own["lat"][0]


def test_a_partner_position_replaces_the_own_one_only_when_clearly_newer() -> None:
    fed = PartnerTracks(["north"])
    own = row(7, icao24=0x3C6444, t=T0)
    lat, lon = moved(48.0, 11.0, 300.0, 0.0)
    send(fed, 0, row(101, lat, lon, icao24=0x3C6444, t=T0 + 0.5, pos_sigma=12.0), T0 + 0.5)
    assert fed.merge(own, T0 + 0.6)[0]["lat"] == 48.0  # 0.5 s newer: within the margin
    send(fed, 0, row(101, lat, lon, icao24=0x3C6444, t=T0 + 3.0, pos_sigma=12.0), T0 + 3.0)
    t = fed.merge(own, T0 + 3.1)[0]
    assert (t["lat"], t["lon"], t["pos_sigma"]) == (lat, lon, np.float32(12.0))
    assert t["last_pos"] == pytest.approx(T0 + 3.05)  # local clock: + minimum latency
    assert t["track_id"] == 7 and t["flags"] & TrackFlag.HAS_POSITION


def test_identity_is_filled_only_where_the_own_track_lacks_it() -> None:
    fed = PartnerTracks(["north"])
    own = row(7, icao24=0x3C6444, squawk=1000)
    send(fed, 0, row(101, icao24=0x3C6444, callsign=b"DLH1", squawk=7700, category=0xA3,
                     nacp=9))
    t = fed.merge(own, T0)[0]
    assert t["callsign"] == b"DLH1" and t["category"] == 0xA3 and t["nacp"] == 9
    assert t["squawk"] == 1000  # the own squawk is known: kept


# --------------------------------------------------------------------------- position
def test_anonymous_row_joins_the_nearest_own_track_within_the_gate() -> None:
    fed = PartnerTracks(["north"], gate_m=2000.0)
    near, far = moved(48.0, 11.0, 1500.0, 0.0), moved(48.0, 11.0, 1900.0, 0.0)
    own = batch(row(1, *near, icao24=0x111111), row(2, *far, icao24=0x222222))
    send(fed, 0, row(101, 48.0, 11.0))
    picture = fed.merge(own, T0)
    assert list(picture["track_id"]) == [1, 2]
    assert by_id(picture, 1)["partners"] == 1 and by_id(picture, 2)["partners"] == 0


def test_anonymous_row_outside_the_gate_stays_a_track_of_its_own() -> None:
    fed = PartnerTracks(["north"], gate_m=2000.0)
    own = row(1, *moved(48.0, 11.0, 2100.0, 0.0), icao24=0x111111)
    send(fed, 0, row(101, 48.0, 11.0))
    picture = fed.merge(own, T0)
    assert len(picture) == 2 and by_id(picture, 1)["partners"] == 0
    alone = picture[picture["track_id"] >= FIRST_PARTNER_ONLY_ID][0]
    assert alone["icao24"] == NO_ADDRESS and alone["sources"] == PARTNER


def test_the_gate_widens_with_the_age_of_a_position() -> None:
    fed = PartnerTracks(["north"], gate_m=2000.0)
    own = row(1, *moved(48.0, 11.0, 2800.0, 0.0), icao24=0x111111, t=T0 - 4.0)
    send(fed, 0, row(101, 48.0, 11.0))  # own position 4 s old: it may have flown 1 km
    assert len(fed.merge(own, T0)) == 1


@pytest.mark.parametrize(("own_alt", "joins"), [(31_000.0, True), (31_500.0, False),
                                                 (math.nan, True)])
def test_altitude_gate(own_alt: float, joins: bool) -> None:
    fed = PartnerTracks(["north"], gate_ft=1000.0)
    own = row(1, *moved(48.0, 11.0, 500.0, 0.0), icao24=0x111111, alt=own_alt)
    send(fed, 0, row(101, 48.0, 11.0, alt=30_400.0))
    assert (len(fed.merge(own, T0)) == 1) is joins


def test_anonymous_rows_of_two_partners_cluster_when_no_own_track_is_there() -> None:
    fed = PartnerTracks(["north", "east", "west"])
    send(fed, 0, row(101, 48.0, 11.0))
    send(fed, 1, row(202, *moved(48.0, 11.0, 400.0, 300.0)))
    send(fed, 2, row(303, *moved(48.0, 11.0, -300.0, 0.0), icao24=0x3C6444))
    send(fed, 2, row(304, *moved(48.0, 11.0, 50_000.0, 0.0)), T0 + 0.1)
    picture = fed.merge(empty_tracks(0), T0 + 0.2)
    assert len(picture) == 2
    merged = picture[picture["icao24"] == 0x3C6444][0]
    assert merged["partners"] == 0b111


def test_anonymous_row_joins_the_nearer_of_own_and_partner_addressed_tracks() -> None:
    """An aircraft a partner knows by address is not folded into a nearby own track."""
    fed = PartnerTracks(["north", "east"])
    own = row(1, *moved(48.0, 11.0, 1500.0, 0.0), icao24=0x111111)
    send(fed, 0, row(101, *moved(48.0, 11.0, 50.0, 0.0), icao24=0x3C6444))
    send(fed, 1, row(202, 48.0, 11.0))
    picture = fed.merge(own, T0)
    assert len(picture) == 2 and by_id(picture, 1)["partners"] == 0
    assert picture[picture["icao24"] == 0x3C6444][0]["partners"] == 0b11
    # with the addressed row gone, the anonymous one joins the own track in its gate
    send(fed, 0, empty_tracks(0), T0 + 0.1, removed=np.array([101], np.uint32))
    picture = fed.merge(own, T0 + 0.2)
    assert len(picture) == 1 and picture[0]["partners"] == 0b10


def test_two_rows_of_one_partner_never_merge_into_one_track() -> None:
    fed = PartnerTracks(["north"])
    own = row(1, 48.0, 11.0, icao24=0x111111)
    send(fed, 0, batch(row(101, *moved(48.0, 11.0, 100.0, 0.0)),
                       row(102, *moved(48.0, 11.0, -200.0, 0.0))))
    picture = fed.merge(own, T0)
    assert len(picture) == 2  # the nearer row joins the own track, the other stays apart
    assert [c.remote_track_id for c in fed.provenance(1)] == [101]


# --------------------------------------------------------------------------- exercise
def test_exercise_rows_never_meet_real_tracks() -> None:
    fed = PartnerTracks(["north", "east"])
    own = row(1, icao24=0x3C6444)
    exercise = SHOWN | TrackFlag.EXERCISE
    send(fed, 0, row(101, icao24=0x3C6444, flags=exercise))
    send(fed, 1, row(102, *moved(48.0, 11.0, 10.0, 0.0), flags=exercise))
    picture = fed.merge(own, T0)
    assert by_id(picture, 1)["partners"] == 0
    partner_only = picture[picture["track_id"] >= FIRST_PARTNER_ONLY_ID]
    assert len(partner_only) == 1  # the two exercise rows are the same exercise aircraft
    assert partner_only[0]["flags"] & TrackFlag.EXERCISE


# --------------------------------------------------------------------------- no double counting
_scene = st.lists(st.tuples(st.booleans(), st.sampled_from(["none", "addr", "anon"]),
                            st.sampled_from(["none", "addr", "anon"]), st.booleans()),
                  min_size=1, max_size=25)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_scene, st.integers(0, 2**32 - 1))
def test_each_aircraft_appears_once_with_its_provenance(scene: list[tuple[bool, str, str, bool]],
                                                        seed: int) -> None:
    """Aircraft 40 km apart, each seen or not by own sensors and by two partners (with or
    without its address): the picture has one row per aircraft anyone sees."""
    rng = np.random.default_rng(seed)
    fed = PartnerTracks(["north", "east"])
    own, shared = [], [[], []]
    truth = []
    for k, (own_sees, seen_a, seen_b, exercise) in enumerate(scene):
        lat, lon = moved(45.0, 5.0, 40_000.0 * (k % 5), 40_000.0 * (k // 5))
        icao24, flags = 0x400000 + k, SHOWN | (TrackFlag.EXERCISE if exercise else 0)
        if own_sees:
            own.append(row(k + 1, lat, lon, icao24=icao24, flags=flags, sources=ADSB))
        for p, seen in enumerate((seen_a, seen_b)):
            if seen != "none":
                jitter = moved(lat, lon, *rng.normal(0.0, 150.0, 2))
                shared[p].append(row(1000 * p + k + 1, *jitter, flags=flags,
                                     t=T0 - rng.uniform(0.0, 2.0),
                                     icao24=icao24 if seen == "addr" else int(NO_ADDRESS)))
        partners = (seen_a != "none") | (seen_b != "none") << 1
        if own_sees or partners:
            truth.append((lat, lon, own_sees, partners))
    for p in (0, 1):
        send(fed, p, batch(*shared[p]))
    picture = fed.merge(batch(*own), T0 + 0.5)
    assert len(picture) == len(truth)
    assert np.all(np.diff(picture["track_id"].astype(np.int64)) > 0)
    for lat, lon, own_sees, partners in truth:
        d = np.hypot(picture["lat"] - lat, picture["lon"] - lon)
        t = picture[np.argmin(d)]
        assert d.min() < 0.05  # within ~5 km: its own row
        assert t["partners"] == partners
        assert bool(t["sources"] & PARTNER) == bool(partners)
        assert bool(t["sources"] & ADSB) == own_sees
        assert (t["track_id"] < FIRST_PARTNER_ONLY_ID) == own_sees
        assert {c.partner_index for c in fed.provenance(int(t["track_id"]))} == {
            p for p in (0, 1) if partners >> p & 1}


# --------------------------------------------------------------------------- provenance and ids
def test_provenance_names_partner_remote_id_and_source_kinds() -> None:
    fed = PartnerTracks(["north", "east"])
    send(fed, 1, row(42, icao24=0x3C6444, t=T0 + 3.0, sources=ADSB | 1 << SourceKind.MLAT),
         skew=3.0)
    picture = fed.merge(row(7, icao24=0x3C6444), T0 + 1.0)
    (c,) = fed.provenance(int(picture[0]["track_id"]))
    assert (c.partner, c.partner_index, c.remote_track_id) == ("east", 1, 42)
    assert c.source_kinds == ("adsb", "mlat")
    assert c.last_seen == pytest.approx(T0 + 0.05)  # partner time moved to ours (+ latency)
    assert fed.provenance(12345) == []


def test_partner_only_ids_are_stable_and_never_reused() -> None:
    fed = PartnerTracks(["north", "east"])
    send(fed, 0, batch(row(101, icao24=0x111111), row(102, 50.0, 11.0)))
    first = fed.merge(empty_tracks(0), T0)
    ids = sorted(int(i) for i in first["track_id"])
    assert all(i >= FIRST_PARTNER_ONLY_ID for i in ids)
    for k in range(1, 4):  # updates, and a second partner sharing the addressed aircraft
        send(fed, 0, batch(row(101, icao24=0x111111, t=T0 + k), row(102, 50.0, 11.0, t=T0 + k)),
             T0 + k)
        send(fed, 1, row(9, icao24=0x111111, t=T0 + k), T0 + k)
        assert sorted(int(i) for i in fed.merge(empty_tracks(0), T0 + k)["track_id"]) == ids
    # the addressed aircraft is tracked by own sensors for a while, then partner-only again
    assert len(fed.merge(row(5, icao24=0x111111, t=T0 + 3), T0 + 3)) == 2
    again = fed.merge(empty_tracks(0), T0 + 3.5)
    new_id = int(again[again["icao24"] == 0x111111][0]["track_id"])
    assert new_id > max(ids)


# --------------------------------------------------------------------------- ordering and clocks
@pytest.mark.parametrize("skew", [-5.0, 5.0])
def test_reordered_updates_are_dropped_as_stale(skew: float) -> None:
    fed = PartnerTracks(["north"])
    newer = row(101, *moved(48.0, 11.0, 1000.0, 0.0), t=T0 + 2.0 + skew)
    older = row(101, 48.0, 11.0, t=T0 + 1.0 + skew)
    assert send(fed, 0, newer, T0 + 2.0, skew=skew).accepted == 1
    result = send(fed, 0, older, T0 + 1.0, skew=skew, latency=2.0)  # delivered late
    assert (result.accepted, result.stale) == (0, 1)
    assert send(fed, 0, newer, T0 + 2.0, skew=skew).stale == 1  # a duplicate too
    t = fed.merge(empty_tracks(0), T0 + 2.5)[0]
    assert t["lon"] == newer["lon"][0]
    assert fed.stats()[0].stale_dropped == 2


@pytest.mark.parametrize("skew", [-5.0, 5.0])
def test_clock_skew_makes_partner_data_neither_fresher_nor_staler(skew: float) -> None:
    fed = PartnerTracks(["north"])
    lat, lon = moved(48.0, 11.0, 500.0, 0.0)
    own = row(7, icao24=0x3C6444, t=T0 - 1.0)
    # 3 s older than the own position (on the partner's skewed clock): the own one stays
    send(fed, 0, row(101, lat, lon, icao24=0x3C6444, t=T0 - 4.0 + skew), T0, skew=skew)
    assert fed.merge(own, T0 + 0.1)[0]["lat"] == 48.0
    # 3 s newer than the own position: the partner's position wins
    send(fed, 0, row(101, lat, lon, icao24=0x3C6444, t=T0 + 2.0 + skew), T0 + 2.0, skew=skew)
    t = fed.merge(own, T0 + 2.1)[0]
    assert t["lat"] == lat
    assert abs(t["last_pos"] - (T0 + 2.0)) <= 0.05 + 1e-6  # off by the latency at most
    assert fed.stats()[0].clock_offset_s == pytest.approx(0.05 - skew)


@pytest.mark.parametrize("skew", [-5.0, 5.0])
def test_expiry_uses_the_partner_clock_offset(skew: float) -> None:
    fed = PartnerTracks(["north"], timeout_s=60.0)
    send(fed, 0, row(101, t=T0 - 58.0 + skew), T0, skew=skew)
    send(fed, 0, row(102, t=T0 - 62.0 + skew), T0, skew=skew)
    fed.expire(T0 + 0.5)
    assert fed.stats()[0].tracks_held == 1 and fed.stats()[0].expired == 1
    assert len(fed.merge(empty_tracks(0), T0 + 0.5)) == 1
    assert len(fed.merge(empty_tracks(0), T0 + 3.0)) == 0  # old in merge even before expire
    fed.expire(T0 + 3.0)
    assert fed.stats()[0].tracks_held == 0


def test_clock_offset_is_the_minimum_over_recent_messages() -> None:
    fed = PartnerTracks(["north"])
    rng = np.random.default_rng(1)
    latencies = rng.uniform(0.02, 0.5, 100)
    for k, latency in enumerate(latencies):
        send(fed, 0, empty_tracks(0), T0 + k, skew=-7.0, latency=latency)
    offset = fed.stats()[0].clock_offset_s
    assert offset == pytest.approx(7.0 + latencies[-32:].min())


def test_removed_ids_go_at_once_and_older_rows_do_not_bring_them_back() -> None:
    fed = PartnerTracks(["north"])
    send(fed, 0, batch(row(101), row(102, 50.0, 11.0)))
    result = send(fed, 0, empty_tracks(0), T0 + 1.0, removed=np.array([101, 999], np.uint32))
    assert result.removed == 1 and fed.stats()[0].tracks_held == 1
    assert len(fed.merge(empty_tracks(0), T0 + 1.0)) == 1
    assert send(fed, 0, row(101, t=T0 + 0.5), T0 + 0.5, latency=1.0).stale == 1  # late
    assert send(fed, 0, row(101, t=T0 + 2.0), T0 + 2.0).accepted == 1  # shared again
    assert fed.stats()[0].tracks_held == 2


# --------------------------------------------------------------------------- blanked identity
def test_blanked_identity_stays_blank_and_never_overwrites_own_identity() -> None:
    fed = PartnerTracks(["north"])
    own = row(1, icao24=0x3C6444, callsign=b"DLH1", squawk=1000, t=T0 - 5.0)
    send(fed, 0, batch(row(101, *moved(48.0, 11.0, 100.0, 0.0)), row(102, 50.0, 11.0)))
    picture = fed.merge(own, T0)
    t = by_id(picture, 1)
    assert (t["icao24"], t["callsign"], t["squawk"]) == (0x3C6444, b"DLH1", 1000)
    assert t["partners"] == 1 and t["lon"] != 11.0  # position taken from the newer row
    alone = picture[picture["track_id"] >= FIRST_PARTNER_ONLY_ID][0]
    assert (alone["icao24"], alone["callsign"], alone["squawk"]) == (NO_ADDRESS, b"", NO_SQUAWK)
    assert alone["nacp"] == 0xFF and alone["sensors"] == 0 and np.isnan(alone["rssi"])


# --------------------------------------------------------------------------- merge details
def test_only_confirmed_tracks_and_sorted_ids() -> None:
    fed = PartnerTracks(["north"])
    own = batch(row(9, icao24=0x1), row(3, 49.0, 11.0, icao24=0x2),
                row(5, 50.0, 11.0, icao24=0x3, flags=TrackFlag.HAS_POSITION))
    send(fed, 0, batch(row(1, 51.0, 11.0), row(2, 52.0, 11.0, flags=TrackFlag.HAS_POSITION)))
    picture = fed.merge(own, T0)
    assert list(picture["track_id"][:2]) == [3, 9] and len(picture) == 3
    assert np.all(picture["flags"] & TrackFlag.CONFIRMED)
    assert own["track_id"][0] == 9  # the caller's batch is left alone


def test_partner_positions_are_dead_reckoned_over_short_gaps_only() -> None:
    fed = PartnerTracks(["north"], timeout_s=120.0)
    send(fed, 0, row(101, 48.0, 11.0, groundspeed=360.0, track=0.0), T0, latency=0.0)
    lat_10s = fed.merge(empty_tracks(0), T0 + 10.0)[0]["lat"]
    assert lat_10s - 48.0 == pytest.approx(360 * 1852 / 3600 * 10 / scales(48.0)[0], rel=1e-3)
    assert fed.merge(empty_tracks(0), T0 + 40.0)[0]["lat"] == 48.0  # too old to guess


def test_freshest_partner_position_wins_for_a_partner_only_aircraft() -> None:
    fed = PartnerTracks(["north", "east"])
    send(fed, 0, row(101, 48.0, 11.0, icao24=0x3C6444, t=T0 - 2.0, callsign=b"OLD"), T0)
    send(fed, 1, row(202, 48.001, 11.0, icao24=0x3C6444, t=T0 - 1.0), T0)
    (t,) = fed.merge(empty_tracks(0), T0)
    assert t["lat"] == 48.001 and t["callsign"] == b"OLD" and t["partners"] == 0b11
    assert t["first_seen"] == pytest.approx(T0 - 62.0 + 0.05)


def test_partner_table_must_fit_the_partner_bits() -> None:
    with pytest.raises(ConfigError, match="at most 16"):
        PartnerTracks([f"p{i}" for i in range(17)])
    for bad in ("North", "north\n", "no.rth", "n*", ""):
        with pytest.raises(ConfigError, match="must match"):
            PartnerTracks([bad])
    with pytest.raises(ConfigError, match="unique"):
        PartnerTracks(["a", "a"])
    with pytest.raises(ConfigError, match="gate_m"):
        PartnerTracks(["a"], gate_m=-1.0)


# --------------------------------------------------------------------------- hostile input
_F64 = st.floats(allow_nan=True, allow_infinity=True)
_hostile_row = st.fixed_dictionaries({
    "track_id": st.integers(0, 6),
    "icao24": st.sampled_from([0x3C6444, 0x3C6445, int(NO_ADDRESS), 0]),
    "flags": st.integers(0, 0xFFFF),
    "lat": st.one_of(st.floats(47.0, 49.0), _F64),
    "lon": st.one_of(st.floats(10.0, 12.0), _F64),
    "alt": st.floats(allow_nan=True, allow_infinity=True, width=32),
    "groundspeed": st.floats(allow_nan=True, allow_infinity=True, width=32),
    "track": st.floats(allow_nan=True, allow_infinity=True, width=32),
    "squawk": st.integers(-(2**15), 2**15 - 1),
    "emergency": st.integers(0, 255),
    "last_seen": st.one_of(st.floats(T0 - 100.0, T0 + 20.0), _F64),
    "last_pos": st.one_of(st.floats(T0 - 100.0, T0 + 20.0), _F64),
    "first_seen": _F64,
    "callsign": st.binary(max_size=8),
})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 1), st.lists(_hostile_row, max_size=8),
                          st.lists(st.integers(0, 6), max_size=3),
                          st.one_of(st.floats(T0 - 10.0, T0 + 10.0), _F64)), max_size=6))
def test_hostile_messages_never_crash_and_keep_the_tables_sane(
        messages: list[tuple[int, list[dict[str, Any]], list[int], float]]) -> None:
    fed = PartnerTracks(["north", "east"])
    own = row(1, icao24=0x3C6444)
    for partner, rows, removed, sent in messages:
        batch_ = empty_tracks(len(rows))
        for i, fields in enumerate(rows):
            for name, value in fields.items():
                batch_[name][i] = value
        result = fed.ingest(partner, batch_, np.array(removed, np.uint32), sent, T0)
        assert result.accepted + result.stale + result.bad <= len(rows)
        picture = fed.merge(own, T0 + 1.0)
        ids = picture["track_id"].astype(np.int64)
        assert np.all(np.diff(ids) > 0) and np.all(picture["flags"] & TrackFlag.CONFIRMED)
        assert np.all(picture["sensors"][ids >= FIRST_PARTNER_ONLY_ID] == 0)
        has = picture["flags"] & TrackFlag.HAS_POSITION != 0
        assert np.all(np.abs(picture["lat"][has]) <= 90)
        assert np.all(np.isfinite(picture["lon"][has]))
        fed.expire(T0 + 1.0)
    for stats in fed.stats():
        assert stats.tracks_held <= 7


_op = st.one_of(
    st.tuples(st.just("send"), st.lists(st.tuples(st.integers(0, 5), st.integers(-30, 30)),
                                        max_size=6),
              st.lists(st.integers(1, 5), max_size=2), st.integers(-30, 30)),
    st.tuples(st.just("expire"), st.integers(-40, 40)))


@settings(max_examples=200, deadline=None)
@given(st.lists(_op, max_size=12))
def test_partner_table_behaves_like_a_dict_of_newest_rows(ops: list[Any]) -> None:
    """Against a reference model: newest row per id; removal marks; expiry."""
    table = PartnerTable("north", window=4)
    held: dict[int, float] = {}
    removed_at: dict[int, float] = {}
    for op in ops:
        if op[0] == "expire":
            cutoff = T0 + op[1]
            table.expire(cutoff)
            held = {i: t for i, t in held.items() if t >= cutoff}
            removed_at = {i: t for i, t in removed_at.items() if t >= cutoff}
        else:
            _, rows, removed, sent = op
            sent = T0 + sent
            batch_ = empty_tracks(len(rows))
            batch_["track_id"] = [i for i, _ in rows]
            batch_["last_seen"] = [T0 + t for _, t in rows]
            table.ingest(batch_, np.array(removed, np.uint32), sent, sent + 0.1)
            newest: dict[int, float] = {}
            for i, t in rows:
                if i != 0 and T0 + t <= sent + 10.0:
                    newest[i] = max(newest.get(i, -math.inf), T0 + t)
            for i, t in newest.items():
                if t > max(held.get(i, -math.inf), removed_at.get(i, -math.inf)):
                    held[i] = t
            for i in removed:
                held.pop(i, None)
                removed_at[i] = max(removed_at.get(i, -math.inf), sent)
        assert table.rows["track_id"].tolist() == sorted(held)
        assert table.rows["last_seen"].tolist() == [held[i] for i in sorted(held)]
        assert len(table.received) == len(table.rows)


def test_rows_of_the_wrong_dtype_are_a_programming_error() -> None:
    fed = PartnerTracks(["north"])
    with pytest.raises(TypeError, match="TRACK_DTYPE"):
        fed.ingest(0, np.zeros(1, [("x", "f8")]), NONE, T0, T0)


def test_without_partners_the_picture_is_the_confirmed_own_tracks() -> None:
    fed = PartnerTracks([])
    own = batch(row(9, icao24=0x1), row(3, 49.0, 11.0, icao24=0x2),
                row(5, 50.0, 11.0, icao24=0x3, flags=TrackFlag.HAS_POSITION))
    picture = fed.merge(own, T0)
    assert list(picture["track_id"]) == [3, 9]
    assert picture.tobytes() == own[[1, 0]].tobytes()
    with pytest.raises(IndexError, match="not in the federation"):
        fed.ingest(-1, own, NONE, T0, T0)


def test_warm_up_runs() -> None:
    warm_up()
