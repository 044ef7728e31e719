"""Hostile input: random report batches never crash the tracker or poison a track."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skyshare.fusion import Tracker, TrackerConfig
from skyshare.model import (
    NO_ADDRESS,
    TRACK_DTYPE,
    ReportBatch,
    TrackBatch,
    TrackFlag,
    empty_reports,
)

BASE = 1_700_000_000.0
_ANY_F64 = st.floats(allow_nan=True, allow_infinity=True)
_ANY_F32 = st.floats(allow_nan=True, allow_infinity=True, width=32)


def _mixed(sane: st.SearchStrategy[float], garbage: st.SearchStrategy[float]) -> Any:
    """Mostly sane values, sometimes NaN, sometimes anything at all."""
    return st.one_of(sane, sane, sane, sane, st.just(math.nan), garbage)


_report = st.fixed_dictionaries({
    "time": _mixed(st.floats(BASE - 5.0, BASE + 400.0), _ANY_F64),
    "icao24": st.one_of(st.sampled_from([0x400001, 0x400002, 0x400001, int(NO_ADDRESS)]),
                        st.just(0x400001), st.integers(0, 2**32 - 1)),
    "flags": st.one_of(st.just(0), st.just(0), st.integers(0, 0xFFFF)),
    "sensor": st.integers(0, 0xFFFF),
    "source": st.integers(0, 255),
    "lat": _mixed(st.floats(47.9, 48.1), _ANY_F64),
    "lon": _mixed(st.floats(10.9, 11.1), _ANY_F64),
    "alt_baro": _mixed(st.floats(0.0, 40000.0, width=32), _ANY_F32),
    "alt_geo": _mixed(st.floats(0.0, 40000.0, width=32), _ANY_F32),
    "groundspeed": _mixed(st.floats(0.0, 600.0, width=32), _ANY_F32),
    "track": _mixed(st.floats(0.0, 360.0, width=32), _ANY_F32),
    "vertical_rate": _mixed(st.floats(-4000.0, 4000.0, width=32), _ANY_F32),
    "rssi": _ANY_F32,
    "nacp": st.integers(0, 255),
    "nacv": st.integers(0, 255),
    "nic": st.integers(0, 255),
    "sil": st.integers(0, 255),
    "emergency": st.integers(0, 255),
    "category": st.integers(0, 255),
    "typecode": st.integers(0, 255),
    "squawk": st.integers(-(2**15), 2**15 - 1),
    "callsign": st.binary(max_size=8),
    "frame_hash": st.one_of(st.sampled_from([0, 1, 2, 3]), st.integers(0, 2**64 - 1)),
})


def _batch(rows: list[dict[str, Any]]) -> ReportBatch:
    out = empty_reports(len(rows))
    for i, row in enumerate(rows):
        for name, value in row.items():
            out[name][i] = value
    return out


def _check(rows: TrackBatch, confirmed_only: bool) -> None:
    assert rows.dtype == TRACK_DTYPE
    flags = rows["flags"]
    if confirmed_only:
        assert np.all(flags & np.uint16(TrackFlag.CONFIRMED))
    pos = flags & np.uint16(TrackFlag.HAS_POSITION) != 0
    assert np.all(np.abs(rows["lat"][pos]) <= 90.0)
    assert np.all(np.abs(rows["lon"][pos]) <= 180.0)
    sigma = rows["pos_sigma"][pos]
    assert np.all(np.isfinite(sigma) & (sigma > 0))
    speed = rows["groundspeed"]
    assert not np.any(speed[np.isfinite(speed)] < 0)
    assert not np.any(np.isinf(rows["alt"]) | np.isinf(rows["vertical_rate"]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_report, min_size=5, max_size=60), st.lists(st.integers(0, 60), max_size=3),
       st.lists(_mixed(st.floats(BASE, BASE + 600.0), _ANY_F64), min_size=1, max_size=3))
def test_random_batches_never_crash_nor_publish_nan_positions(
        reports: list[dict[str, Any]], cuts: list[int], nows: list[float]) -> None:
    tracker = Tracker(TrackerConfig(), capacity=2)
    batch = _batch(reports)
    bounds = [0, *sorted(cuts), len(batch)]
    ids: set[int] = set()
    for k, (lo, hi) in enumerate(itertools.pairwise(bounds)):
        rows = tracker.update(batch[lo:hi])
        _check(rows, confirmed_only=True)
        now = nows[k % len(nows)]
        deleted = tracker.expire(now)
        ids.update(rows["track_id"].tolist())
        for snap in (tracker.snapshot(), tracker.snapshot(now)):
            _check(snap, confirmed_only=True)
            assert len(set(snap["track_id"].tolist())) == len(snap)
            assert not set(snap["track_id"].tolist()) & set(deleted.tolist())
    counts = tracker.counts
    assert counts["reports"] == len(batch)
    assert counts["tracks-created"] >= counts["tracks-confirmed"]
    assert counts["tracks-created"] - counts["tracks-deleted"] == tracker.live_tracks
    assert 0 not in ids
    assert counts["filter-resets"] == 0


_HOSTILE = np.array([math.nan, math.inf, -math.inf, 1e308, -1e308, 0.0, -0.0, 5e-324, 1e9,
                     -1e9, 361.0, -91.0, 180.0, -180.0, 90.0, -90.0])
_FLOAT_FIELDS = ("time", "lat", "lon", "alt_baro", "alt_geo", "groundspeed", "track",
                 "vertical_rate", "rssi")
_INT_FIELDS = ("sensor", "source", "flags", "nacp", "nacv", "nic", "sil", "emergency",
               "category", "typecode", "squawk", "frame_hash")


def _traffic(rng: np.random.Generator, n: int) -> ReportBatch:
    """Plausible reports of three aircraft (positions, velocities, altitudes, copies)."""
    r = empty_reports(n)
    who = rng.integers(0, 3, n)
    t = BASE + np.sort(rng.uniform(0.0, 120.0, n))
    r["time"], r["icao24"], r["sensor"] = t, 0x400000 + who, rng.integers(0, 4, n)
    r["lat"] = 48.0 + 0.3 * who + (t - BASE) * 0.002 + rng.normal(0, 1e-4, n)
    r["lon"] = 11.0 + rng.normal(0, 1e-4, n)
    r["groundspeed"], r["track"] = rng.uniform(0, 500, n), rng.uniform(0, 360, n)
    r["alt_baro"], r["vertical_rate"] = rng.uniform(0, 40000, n), rng.uniform(-3000, 3000, n)
    r["frame_hash"] = rng.integers(1, 40, n)
    return r


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.0, 0.4), st.floats(0.0, 0.4))
def test_corrupted_traffic_never_publishes_nan_positions(seed: int, float_rate: float,
                                                         int_rate: float) -> None:
    rng = np.random.default_rng(seed)
    batch = _traffic(rng, 300)
    for name in _FLOAT_FIELDS:
        hit = rng.random(len(batch)) < float_rate
        with np.errstate(over="ignore"):  # 1e308 into float32 fields is inf, as intended
            batch[name][hit] = rng.choice(_HOSTILE, int(hit.sum()))
    for name in _INT_FIELDS:
        hit = rng.random(len(batch)) < int_rate
        info = np.iinfo(batch[name].dtype)
        batch[name][hit] = rng.integers(info.min, info.max, int(hit.sum()), endpoint=True,
                                        dtype=batch[name].dtype)
    tracker = Tracker(capacity=1)
    for part in np.array_split(batch, 3):
        _check(tracker.update(part), confirmed_only=True)
        _check(tracker.snapshot(float(part["time"][-1]) + 5.0), confirmed_only=True)
    assert tracker.counts["track-updates"] > 0
    assert tracker.counts["filter-resets"] == 0  # bad fields stopped at measurement, not later
