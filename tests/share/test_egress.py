"""The egress filter: its rules checked against the test's own per-row oracle (shapely for
the region test), over random tracks, polygons, agreements and time sequences."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from skyshare.model import TRACK_DTYPE, empty_tracks
from skyshare.share.agreements import FIELD_GROUPS, Agreement
from skyshare.share.egress import GROUP_FIELDS, NEVER_SENT, EgressFilter
from skyshare.share.regions import RegionIndex, SharedRegion

from .egress_oracle import (
    ALTS,
    BAND_VALUES,
    CONFIRMED_POS,
    GRANTED,
    OWN_KINDS,
    PARTNER,
    T0,
    Receiver,
    agreements,
    areas,
    check_step,
    next_pictures,
    oracle_inside,
)


# --------------------------------------------------------------------------- the properties
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(agreements(), st.sampled_from([None, 0, 1, 2]), st.integers(1, 16),
       st.integers(0, 2**32 - 1))
def test_filter_obeys_every_rule(a: Agreement, bit: int | None, steps: int, seed: int) -> None:
    """Random pictures at random intervals; every output checked against the oracle."""
    rng = np.random.default_rng(seed)
    f = EgressFilter(a, bit)
    seen_rows: dict[tuple[int, float], tuple[Any, bool]] = {}
    rx = Receiver()
    now = T0
    gap = 1.0 / a.max_rate_hz
    for _ in range(steps):
        now += float(rng.choice([0.05, 0.5, 1.0, 2.0]) if rng.random() < 0.5
                     else rng.uniform(0.01, 3.2))
        common, own, in_own = next_pictures(a, rng, now, seen_rows)
        out = f.select(own.copy(), common.copy(), now)
        assert f.conforming(out.tracks).all()  # what the receiver checks, it passes
        current = {int(r["track_id"]): (r, bool(m)) for r, m in zip(common, in_own,
                                                                      strict=True)}
        check_step(a, bit, out.tracks, out.removed, now, seen_rows, current, rx, gap)
        bound = 12 * (math.ceil(a.min_delay_s * a.max_rate_hz) + 2)
        assert f.stats.pending <= bound


@settings(max_examples=300, deadline=None)
@given(areas(), st.data())
def test_region_kernel_agrees_with_shapely(area: Any, data: st.DataObject) -> None:
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    x0, y0, x1, y1 = area.bounds
    lon = rng.uniform(x0 - 0.5, x1 + 0.5, 400)
    lat = rng.uniform(y0 - 0.5, y1 + 0.5, 400)
    coords = shapely.get_coordinates(area)  # the vertices and their latitudes: edge cases
    lon[:len(coords)], lat[:len(coords)] = coords[:400, 0], coords[:400, 1]
    lon[-50:] = rng.uniform(x0 - 0.5, x1 + 0.5, 50)
    lat[-50:] = coords[rng.integers(0, len(coords), 50), 1]  # on a vertex's latitude
    ours = RegionIndex([SharedRegion("r", area)]).inside(lat, lon, np.zeros(400),
                                                         np.zeros(400))
    theirs = shapely.contains_xy(area, lon, lat)
    away = shapely.distance(area.boundary, shapely.points(lon, lat)) > 1e-9
    assert away.sum() > 300
    assert (ours[away] == theirs[away]).all()


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(BAND_VALUES), st.sampled_from(BAND_VALUES), st.lists(
    st.tuples(ALTS, ALTS), min_size=1, max_size=30))
def test_band_uses_baro_then_geo_and_unknown_only_without_band(
        lower: float | None, upper: float | None, alts: list[tuple[float, float]]) -> None:
    assume(lower is None or upper is None or lower < upper)
    region = SharedRegion("box", shapely.box(0, 40, 10, 50), lower, upper)
    alt, geo = (np.array(v, np.float32) for v in zip(*alts, strict=True))  # as in tracks
    got = RegionIndex([region]).inside(np.full(len(alt), 45.0), np.full(len(alt), 5.0),
                                       alt, geo)
    row = empty_tracks(1)[0]
    row["flags"], row["lat"], row["lon"] = CONFIRMED_POS, 45.0, 5.0
    a = Agreement("a", "west", "central", (region,))
    for k in range(len(alt)):
        row["alt"], row["alt_geo"] = alt[k], geo[k]
        assert got[k] == oracle_inside(a, row)


# --------------------------------------------------------------------------- examples
def box_agreement(**changes: Any) -> Agreement:
    region = SharedRegion("box", shapely.box(0.0, 40.0, 10.0, 50.0))
    return replace(Agreement("a", "west", "central", (region,)), **changes)


def steady(n: int, now: float, **values: Any) -> np.ndarray:
    t = empty_tracks(n)
    t["track_id"] = np.arange(1, n + 1)
    t["flags"], t["lat"], t["lon"], t["alt"] = CONFIRMED_POS, 45.0, 5.0, 30_000.0
    t["sources"], t["last_seen"] = OWN_KINDS, now
    for k, v in values.items():
        t[k] = v
    return t


@settings(max_examples=200, deadline=None)
@given(st.floats(0.05, 20.0), st.sampled_from([0.0, 0.0, 0.3, 2.0]),
       st.lists(st.floats(0.01, 1.5), min_size=1, max_size=60))
def test_rate_limit_at_every_call_interval(rate: float, delay: float,
                                           steps: list[float]) -> None:
    """A track that always qualifies and always changes: sent exactly when the rate
    allows (no delay), never faster (any delay).  Steps are in units of 1 / rate."""
    f = EgressFilter(box_agreement(max_rate_hz=rate, min_delay_s=delay), None)
    now, last = T0, -math.inf
    for step in steps:
        now += step / rate
        out = f.select(steady(1, now), empty_tracks(0), now)
        if delay == 0.0:
            assert len(out.tracks) == (now - last >= 1.0 / rate)
        else:
            assert len(out.tracks) == 0 or now - last >= 1.0 / rate
            assert (now - out.tracks["last_seen"] >= delay).all()
        if len(out.tracks):
            last = now


@pytest.mark.parametrize(("rate", "step"), [(1.0, 0.25), (2.0, 0.1), (0.5, 0.5)])
def test_full_rate_when_called_often(rate: float, step: float) -> None:
    f = EgressFilter(box_agreement(max_rate_hz=rate), None)
    times = []
    for k in range(round(10 / step)):
        now = T0 + k * step
        if len(f.select(steady(1, now), empty_tracks(0), now).tracks):
            times.append(now)
    gaps = np.diff(times)
    assert gaps.min() >= 1 / rate - 1e-9
    assert gaps.max() <= 1 / rate + step + 1e-9  # one update per gap, not fewer


def test_delay_line_releases_each_row_once_its_time_comes() -> None:
    delay, step = 5.0, 0.25
    f = EgressFilter(box_agreement(min_delay_s=delay, max_rate_hz=1.0), None)
    released: list[tuple[float, float]] = []
    for k in range(80):
        now = T0 + k * step
        out = f.select(steady(3, now), empty_tracks(0), now)
        assert len(out.tracks) in (0, 3)
        released += [(now, float(s)) for s in out.tracks["last_seen"][:1]]
    first_now, first_seen = released[0]
    assert first_seen == T0 and first_now == T0 + delay  # not a tick earlier or later
    assert all(now - seen == delay for now, seen in released)  # a steady lag
    assert np.diff([now for now, _ in released]).min() >= 1.0
    assert len(released) == int((79 * step - delay) // 1.0) + 1
    assert f.stats.pending <= 3 * (math.ceil(delay * 1.0) + 2)


def test_full_delay_line_drops_new_samples_never_early_ones() -> None:
    f = EgressFilter(box_agreement(min_delay_s=2.0, max_rate_hz=10.0), None,
                     max_pending_rows=25)
    for k in range(60):
        now = T0 + k * 0.1
        out = f.select(steady(10, now), empty_tracks(0), now)
        assert (now - out.tracks["last_seen"] >= 2.0).all()
        assert f.stats.pending <= 25
    assert f.stats.overflow > 0 and f.stats.sent > 0


def test_revocation_and_expiry_withdraw_everything_once() -> None:
    a = box_agreement(valid_until=T0 + 3.0)
    f = EgressFilter(a, None)
    assert len(f.select(steady(4, T0), empty_tracks(0), T0).tracks) == 4
    out = f.select(steady(4, T0 + 3.0), empty_tracks(0), T0 + 3.0)  # until is exclusive
    assert len(out.tracks) == 0 and sorted(out.removed) == [1, 2, 3, 4]
    out = f.select(steady(4, T0 + 4.0), empty_tracks(0), T0 + 4.0)
    assert len(out.tracks) == 0 and len(out.removed) == 0
    revoked = EgressFilter(replace(a, revoked=True, valid_until=None), None)
    assert len(revoked.select(steady(4, T0), empty_tracks(0), T0).tracks) == 0


def test_tracks_leaving_are_withdrawn_and_queued_rows_dropped() -> None:
    f = EgressFilter(box_agreement(min_delay_s=1.0), None)
    for k in range(5):
        out = f.select(steady(2, T0 + k), empty_tracks(0), T0 + k)
    assert sorted(out.tracks["track_id"]) == [1, 2]
    moved = steady(2, T0 + 5)
    moved["lat"][1] = 60.0
    out = f.select(moved, empty_tracks(0), T0 + 5)
    assert out.removed.tolist() == [2] and out.tracks["track_id"].tolist() == [1]
    out = f.select(steady(2, T0 + 6)[:1], empty_tracks(0), T0 + 6)  # track 2 never again
    assert 2 not in out.tracks["track_id"]


@pytest.mark.parametrize(("bit", "partners", "sources", "kept"), [
    (1, 0b010, PARTNER, False),  # only the receiver contributed: echo
    (1, 0b011, PARTNER, True),  # another partner too
    (1, 0b010, PARTNER | OWN_KINDS, True),  # our own sensors too
    (None, 0b010, PARTNER, True),  # the receiver is not in our table
    (None, 0, PARTNER, False),  # nobody we know of contributed
])
def test_no_echo(bit: int | None, partners: int, sources: int, kept: bool) -> None:
    f = EgressFilter(box_agreement(sources="all"), bit)
    t = steady(1, T0, partners=partners, sources=sources)
    assert len(f.select(empty_tracks(0), t, T0).tracks) == kept
    own_only = EgressFilter(box_agreement(sources="own"), bit)
    assert len(own_only.select(t, t, T0).tracks) == 0  # partner data never leaves as own


def test_every_track_column_is_granted_by_one_group_or_never_sent() -> None:
    columns = [c for g in FIELD_GROUPS for c in GROUP_FIELDS[g]]
    assert sorted([*columns, *NEVER_SENT, "flags"]) == sorted(TRACK_DTYPE.names)
    assert GROUP_FIELDS == GRANTED


def test_unsorted_or_repeated_ids_and_inputs_untouched() -> None:
    t = steady(4, T0)
    t["track_id"] = [3, 1, 3, 2]
    before = t.copy()
    out = EgressFilter(box_agreement(), None).select(t, t, T0)
    assert out.tracks["track_id"].tolist() == [1, 2, 3]
    assert t.tobytes() == before.tobytes()


def test_withdraw_all_for_a_deleted_agreement_keeps_the_rate() -> None:
    f = EgressFilter(box_agreement(min_delay_s=0.5), None)
    f.select(steady(3, T0), empty_tracks(0), T0)
    sent = f.select(steady(3, T0 + 0.5), empty_tracks(0), T0 + 0.5)
    assert len(sent.tracks) == 3
    out = f.withdraw_all(T0 + 0.6)
    assert sorted(out.removed) == [1, 2, 3] and len(out.tracks) == 0
    assert f.stats.pending == 0 and len(f.withdraw_all(T0 + 0.7).removed) == 0
    again = f.select(steady(3, T0 + 1.4), empty_tracks(0), T0 + 1.4)
    assert len(again.tracks) == 0  # 0.9 s after the last send, at 1 Hz: not yet


def test_renewed_terms_withdraw_what_they_no_longer_allow() -> None:
    a = box_agreement()
    f = EgressFilter(a, None)
    t = steady(2, T0)
    t["lon"] = [2.0, 8.0]
    assert len(f.select(t, empty_tracks(0), T0).tracks) == 2
    narrower = replace(a, regions=(SharedRegion("west", shapely.box(0.0, 40.0, 5.0, 50.0)),))
    g = f.renewed(narrower)
    t["last_seen"] = T0 + 0.5
    out = g.select(t, empty_tracks(0), T0 + 0.5)
    assert out.removed.tolist() == [2] and len(out.tracks) == 0  # track 1: rate carries on
    t["last_seen"] = T0 + 1.0
    assert g.select(t, empty_tracks(0), T0 + 1.0).tracks["track_id"].tolist() == [1]
    with pytest.raises(ValueError, match="other partners"):
        f.renewed(replace(a, receiver="east"))
