"""The egress rules written out again, per row in plain Python, as an oracle for the
filter (test_egress.py) and for what a partner receives over NATS (test_federation.py);
and the random agreements and pictures both feed it."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from hypothesis import assume
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Polygon

from skyshare.model import TRACK_DTYPE, SourceKind, TrackFlag, empty_tracks
from skyshare.share.agreements import FIELD_GROUPS, Agreement, Exclusions
from skyshare.share.regions import SharedRegion

T0 = 1_790_000_000.0
PARTNER = 1 << SourceKind.PARTNER
OWN_KINDS = (1 << SourceKind.ADSB) | (1 << SourceKind.MLAT)
ADDRESSES = (0x3C6444, 0x4B1805, 0x400001, 0x400002)
CATEGORIES = (0, 0xA1, 0xA7, 0xB4)
CONFIRMED_POS = int(TrackFlag.CONFIRMED | TrackFlag.HAS_POSITION)

# the shared decisions, written out again here (not imported) as the oracle's grant table
GRANTED: dict[str, tuple[str, ...]] = {
    "position": ("track_id", "lat", "lon", "alt", "alt_geo", "groundspeed", "track",
                 "vertical_rate", "pos_sigma", "first_seen", "last_seen", "last_pos"),
    "identity": ("icao24", "callsign", "category"),
    "squawk": ("squawk", "emergency"),
    "quality": ("nic", "nacp", "sil"),
    "provenance": ("sources",),
}
GRANTED_FLAGS = {"position": 0b101111, "identity": 0b10000, "squawk": 0b1000000}


# --------------------------------------------------------------------------- builders
def star(cx: float, cy: float, radii: list[float], jitter: list[float]) -> list[tuple[float,
                                                                                   float]]:
    """A star-shaped ring (lon, lat) around (cx, cy): simple, convex or concave."""
    n = len(radii)
    out = []
    for k, (r, u) in enumerate(zip(radii, jitter, strict=True)):
        a = 2 * math.pi * (k + 0.8 * u) / n
        out.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    return out


@st.composite
def areas(draw: st.DrawFn) -> Polygon | MultiPolygon:
    """Convex, concave, holed and multi-part polygons within lat 40..50, lon 0..10."""
    def one(cx: float, cy: float, scale: float) -> Polygon:
        n = draw(st.integers(4, 14))
        radii = draw(st.lists(st.floats(0.2, 1.0), min_size=n, max_size=n))
        jitter = draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n))
        ring = star(cx, cy, [r * scale for r in radii], jitter)
        kind = draw(st.sampled_from(["star", "convex", "holed"]))
        if kind == "convex":
            return shapely.convex_hull(Polygon(ring))  # type: ignore[no-any-return]
        if kind == "holed":
            hole = star(cx, cy, [0.1 * min(radii) * scale] * 5, [0.0] * 5)
            return Polygon(ring, [hole[::-1]])
        return Polygon(ring)

    cx, cy = draw(st.floats(2.0, 8.0)), draw(st.floats(42.0, 48.0))
    scale = draw(st.floats(0.5, 3.0))
    first = one(cx, cy, scale)
    geometry: Polygon | MultiPolygon = first
    if draw(st.booleans()):
        dx = 2.2 * scale + 0.1  # beside the first, never overlapping
        geometry = MultiPolygon([first, one(cx + dx, cy, scale)])
    assume(shapely.is_valid(geometry) and geometry.area > 0)
    return geometry


BAND_VALUES = [None, -1000.0, 0.0, 10_000.0, 24_500.0, 45_000.0]


@st.composite
def shared_regions(draw: st.DrawFn) -> SharedRegion:
    lower, upper = draw(st.sampled_from(BAND_VALUES)), draw(st.sampled_from(BAND_VALUES))
    if draw(st.booleans()):
        lower = upper = None
    if lower is not None and upper is not None and lower >= upper:
        lower, upper = (None, upper) if draw(st.booleans()) else (lower, None)
    return SharedRegion(f"r{draw(st.integers(0, 99))}", draw(areas()), lower, upper)


@st.composite
def agreements(draw: st.DrawFn) -> Agreement:
    names = st.sampled_from(FIELD_GROUPS[1:])
    extra = draw(st.sets(names))
    start = draw(st.sampled_from([None, T0 - 100.0, T0 + 2.0]))
    end = draw(st.sampled_from([None, T0 + 8.0, T0 + 1000.0]))
    return Agreement(
        id="a", giver="west", receiver="central",
        regions=tuple(draw(st.lists(shared_regions(), min_size=1, max_size=3))),
        fields=tuple(g for g in FIELD_GROUPS if g == "position" or g in extra),
        sources=draw(st.sampled_from(["own", "all"])),
        min_delay_s=draw(st.sampled_from([0.0, 0.0, 0.4, 1.0, 2.5])),
        max_rate_hz=draw(st.sampled_from([0.5, 1.0, 2.0, 20.0])),
        exclude=Exclusions(tuple(sorted(draw(st.sets(st.sampled_from(ADDRESSES), max_size=2)))),
                           tuple(sorted(draw(st.sets(st.sampled_from(CATEGORIES[1:]),
                                                     max_size=2)))),
                           draw(st.booleans())),
        valid_from=start, valid_until=end, revoked=draw(st.integers(0, 9)) == 0)


ALTS = st.one_of(st.just(math.nan), st.floats(-1500.0, 50_000.0), st.sampled_from(
    [0.0, 10_000.0, 24_500.0, 45_000.0]))


def track_rows(a: Agreement, ids: list[int], now: float, seed: int) -> np.ndarray:
    """Random tracks, three in four placed within a shared region's bounding box."""
    n = len(ids)
    rng = np.random.default_rng(seed)
    t = empty_tracks(n)
    t["track_id"] = ids
    bounds = np.array([r.geometry.bounds for r in a.regions])[rng.integers(0, len(a.regions),
                                                                          n)]
    t["lon"], t["lat"] = rng.uniform(-1, 15, n), rng.uniform(39, 51, n)
    for _ in range(4):  # mostly inside a region: tries in its bounding box
        lon, lat = rng.uniform(bounds[:, 0], bounds[:, 2]), rng.uniform(bounds[:, 1], bounds[:, 3])
        hit = shapely.contains_xy(shapely.union_all([r.geometry for r in a.regions]), lon, lat)
        hit &= rng.random(n) < 0.8
        t["lon"][hit], t["lat"][hit] = lon[hit], lat[hit]
    t["lat"][rng.random(n) < 0.05] = math.nan
    t["alt"] = np.where(rng.random(n) < 0.2, math.nan, rng.uniform(-1500, 50_000, n))
    t["alt_geo"] = np.where(rng.random(n) < 0.5, math.nan, rng.uniform(-1500, 50_000, n))
    flags = rng.integers(0, 0x100, n) & ~int(TrackFlag.EXERCISE)
    flags |= np.where(rng.random(n) < 0.2, int(TrackFlag.EXERCISE), 0)
    t["flags"] = flags | np.where(rng.random(n) < 0.85, CONFIRMED_POS, 0)
    t["icao24"] = rng.choice([*ADDRESSES, 0xABCDEF, 0x400003, 0x400004, 0xFFFFFFFF], n)
    t["category"] = rng.choice([*CATEGORIES, 0, 0xA3], n)
    t["sources"] = rng.choice([OWN_KINDS, OWN_KINDS, OWN_KINDS, PARTNER, PARTNER | OWN_KINDS,
                               0], n)
    t["partners"] = np.where(t["sources"] & PARTNER, rng.integers(0, 8, n), 0)
    t["last_seen"] = now - rng.choice([0.0, 0.1, 0.7, 2.0, -0.5], n)
    t["callsign"] = rng.choice([b"AFR123", b"DLH4", b""], n)
    t["squawk"], t["emergency"] = rng.integers(0, 7777, n), rng.integers(0, 7, n)
    for name in ("groundspeed", "track", "vertical_rate", "pos_sigma", "rssi"):
        t[name] = rng.uniform(0, 500, n)
    t["nic"], t["nacp"], t["sil"] = (rng.integers(0, 12, n) for _ in range(3))
    t["first_seen"] = now - 100
    t["last_pos"] = t["last_seen"]
    t["messages"], t["sensors"] = rng.integers(1, 9999, n), rng.integers(1, 2**40, n)
    return t


# --------------------------------------------------------------------------- the oracle
def near_boundary(geometry: Any, lon: float, lat: float) -> bool:
    return bool(shapely.distance(geometry.boundary, shapely.Point(lon, lat)) < 1e-9)


def oracle_inside(a: Agreement, row: Any) -> bool | None:
    """Whether ``row``'s position is inside a region and its band (None: too close to a
    border for the test to judge)."""
    lat, lon = float(row["lat"]), float(row["lon"])
    if not (row["flags"] & TrackFlag.HAS_POSITION and math.isfinite(lat)
            and math.isfinite(lon)):
        return False
    alt = float(row["alt"]) if math.isfinite(row["alt"]) else float(row["alt_geo"])
    undecided = False
    for r in a.regions:
        if math.isnan(alt):
            in_band = r.lower_ft is None and r.upper_ft is None
        else:
            in_band = ((r.lower_ft is None or alt >= r.lower_ft)
                       and (r.upper_ft is None or alt <= r.upper_ft))
        if not in_band:
            continue
        if near_boundary(r.geometry, lon, lat):
            undecided = True
        elif shapely.contains_xy(r.geometry, lon, lat):
            return True
    return None if undecided else False


def oracle_active(a: Agreement, now: float) -> bool:
    if a.revoked:
        return False
    return ((a.valid_from is None or a.valid_from <= now)
            and (a.valid_until is None or now < a.valid_until))


def oracle_qualifies(a: Agreement, row: Any, in_own: bool, bit: int | None) -> bool | None:
    """Rules 1-4 for one row, written per row in plain Python."""
    sources, partners = int(row["sources"]), int(row["partners"])
    if a.sources == "own":
        if not in_own or sources & PARTNER or partners:
            return False
    else:
        others = partners & ~(1 << bit) if bit is not None else partners
        if not (sources & ~PARTNER & 0xFF or others):
            return False
    if int(row["flags"]) & CONFIRMED_POS != CONFIRMED_POS:
        return False
    if int(row["icao24"]) in a.exclude.addresses or int(row["category"]) in (
            a.exclude.categories):
        return False
    if a.exclude.exercise and int(row["flags"]) & TrackFlag.EXERCISE:
        return False
    return oracle_inside(a, row)


def same(x: Any, y: Any) -> bool:
    if isinstance(x, float | np.floating) and math.isnan(x):
        return bool(math.isnan(y))
    return bool(x == y)


def check_blanked(a: Agreement, sent: Any, orig: Any) -> None:
    unknown = empty_tracks(1)[0]
    granted = {c for g in a.fields for c in GRANTED[g]}
    for name in TRACK_DTYPE.names:
        if name == "flags":
            mask = sum(GRANTED_FLAGS.get(g, 0) for g in a.fields)
            assert sent["flags"] == orig["flags"] & mask
        elif name in granted:
            assert same(sent[name], orig[name]), name
        else:
            assert same(sent[name], unknown[name]), name


@dataclass
class Receiver:
    """What the receiving side saw: to check rate, order and withdrawals."""

    sent_at: dict[int, float] = field(default_factory=dict)
    sent_seen: dict[int, float] = field(default_factory=dict)
    held: set[int] = field(default_factory=set)


def snapshot(rows: Iterable[Any]) -> np.ndarray:
    out = np.array(list(rows), dtype=TRACK_DTYPE)
    return out[np.argsort(out["track_id"], kind="stable")] if len(out) else empty_tracks(0)


def check_step(a: Agreement, bit: int | None, tracks: np.ndarray, removed: np.ndarray,
               now: float, seen_rows: dict[tuple[int, float], tuple[Any, bool]],
               current: dict[int, tuple[Any, bool]], rx: Receiver, gap: float) -> None:
    sent_ids = [int(i) for i in tracks["track_id"]]
    assert sent_ids == sorted(set(sent_ids))
    assert not set(sent_ids) & {int(i) for i in removed}
    assert {int(i) for i in removed} <= rx.held  # only what the receiver holds
    rx.held -= {int(i) for i in removed}
    if not oracle_active(a, now):
        assert len(tracks) == 0 and not rx.held  # nothing, and everything withdrawn
    for sent in tracks:
        tid, seen = int(sent["track_id"]), float(sent["last_seen"])
        orig, was_own = seen_rows[(tid, seen)]  # never a row that was not offered
        assert oracle_qualifies(a, orig, was_own, bit) is not False
        row, mine = current[tid]  # still qualifies now (delayed rows too)
        assert oracle_qualifies(a, row, mine, bit) is not False
        check_blanked(a, sent, orig)
        assert now - seen >= a.min_delay_s
        if tid in rx.sent_at:
            assert now - rx.sent_at[tid] >= gap
        if tid in rx.held:  # a track the receiver holds only ever moves forward
            assert seen > rx.sent_seen[tid]
        rx.sent_at[tid], rx.sent_seen[tid] = now, seen
        rx.held.add(tid)
    for tid in rx.held:  # every track the receiver holds still qualifies
        assert tid in current
        row, mine = current[tid]
        assert oracle_qualifies(a, row, mine, bit) is not False
    if a.min_delay_s == 0.0 and oracle_active(a, now):  # nothing withheld without cause
        for tid, (row, mine) in current.items():
            seen = float(row["last_seen"])
            due = (tid not in rx.sent_at or (now - rx.sent_at[tid] >= gap
                                             and seen > rx.sent_seen[tid]))
            if oracle_qualifies(a, row, mine, bit) and due and now - seen >= 0:
                assert tid in sent_ids




def next_pictures(a: Agreement, rng: np.random.Generator, now: float,
                  seen_rows: dict[tuple[int, float], tuple[Any, bool]]
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The next (common, own, in_own) pictures at ``now``: up to ten random tracks of
    ids 1-12, an unchanged track repeating its row exactly, Mode A codes of four octal
    digits (as a tracker makes them); ``seen_rows`` notes each (id, last_seen) row and
    whether it was ever in the own picture."""
    ids = sorted(rng.choice(np.arange(1, 13), rng.integers(0, 11), replace=False).tolist())
    common = track_rows(a, ids, now, int(rng.integers(0, 2**32)))
    common["squawk"] = rng.integers(0, 8, (len(common), 4)) @ np.array([1000, 100, 10, 1])
    for i, row in enumerate(common):
        key = (int(row["track_id"]), float(row["last_seen"]))
        if key in seen_rows:
            common[i] = seen_rows[key][0]
    in_own = rng.random(len(ids)) < 0.7
    for row, mine in zip(common, in_own, strict=True):
        key = (int(row["track_id"]), float(row["last_seen"]))
        seen_rows[key] = (row.copy(), (key in seen_rows and seen_rows[key][1]) or bool(mine))
    return common, common[in_own], in_own
