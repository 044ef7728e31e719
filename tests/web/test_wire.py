"""The change stream's binary frame: laid out as documented, and read back the same by
an independent Python reader (written here from the docstring) and by the map's own
JavaScript (``static/wire.js`` + ``static/store.js`` run by Node), whose records must
equal the JSON stream's rows for the same tracks."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wire_reader import read_frame  # tests/web, on sys.path for its tests

from skyshare.model import NO_ADDRESS, NO_SQUAWK, UNKNOWN_U8, SourceKind, TrackFlag, empty_tracks
from skyshare.picture import Delta
from skyshare.web import views, wire

STATIC = Path(__file__).resolve().parents[2] / "skyshare" / "web" / "static"
SENSORS = ["rx", "roof", "mlat-hub"]
PARTNERS = ["west", "north", "east-2"]
NOW = 1_790_000_000.0

def random_tracks(rng: np.random.Generator, n: int) -> np.ndarray:
    t = empty_tracks(n)
    t["track_id"] = rng.choice(1_000_000, n, replace=False)
    t["icao24"] = np.where(rng.random(n) < 0.1, NO_ADDRESS, rng.integers(0, 1 << 24, n))
    t["flags"] = rng.integers(0, 128, n) | TrackFlag.CONFIRMED
    letters = np.array(list(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 "), dtype=np.uint8)
    calls = letters[rng.integers(0, len(letters), (n, 8))]
    calls[rng.random(n) < 0.2] = ord(" ")
    t["callsign"] = [bytes(row) for row in calls]
    t["squawk"] = np.where(rng.random(n) < 0.2, NO_SQUAWK,
                           rng.integers(0, 8, (n, 4)) @ np.array([1000, 100, 10, 1]))
    t["category"] = np.where(rng.random(n) < 0.3, 0, rng.choice([0xA1, 0xA3, 0xB2, 0xC1], n))
    t["emergency"] = np.where(rng.random(n) < 0.1, rng.integers(1, 8, n), 0)
    t["lat"] = np.where(rng.random(n) < 0.1, np.nan, rng.uniform(-85, 85, n))
    t["lon"] = rng.uniform(-180, 180, n)
    for name, lo, hi in (("alt", -1000, 45000), ("alt_geo", -1000, 45000),
                         ("groundspeed", 0, 600), ("track", 0, 360),
                         ("vertical_rate", -6000, 6000), ("pos_sigma", 1, 5000),
                         ("rssi", -40, 0)):
        t[name] = np.where(rng.random(n) < 0.15, np.nan, rng.uniform(lo, hi, n))
    for name in ("nic", "nacp", "sil"):
        t[name] = np.where(rng.random(n) < 0.3, UNKNOWN_U8, rng.integers(0, 12, n))
    t["first_seen"] = NOW - rng.uniform(10, 3000, n)
    t["last_seen"] = NOW - rng.uniform(0, 10, n)
    t["last_pos"] = np.where(rng.random(n) < 0.1, np.nan, NOW - rng.uniform(0, 10, n))
    t["messages"] = rng.integers(1, 100_000, n)
    t["sensors"] = rng.integers(1, 1 << len(SENSORS), n).astype(np.uint64)
    t["sources"] = rng.integers(1, 1 << len(SourceKind), n)
    t["partners"] = rng.integers(0, 1 << len(PARTNERS), n)
    return t


def frame_for(tracks: np.ndarray, removed: list[int], full: bool = False) -> bytes:
    delta = Delta(7, NOW - 0.5, tracks, np.array(removed, np.uint32), full=full)
    return wire.encode_delta(delta, NOW, SENSORS, PARTNERS)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 300), st.lists(st.integers(0, 2**32 - 1), max_size=20), st.integers(0, 2**31))
def test_python_reader_gets_back_every_column(n: int, removed: list[int], seed: int) -> None:
    tracks = random_tracks(np.random.default_rng(seed), n)
    frame = read_frame(frame_for(tracks, removed))
    assert frame["count"] == n and frame["type"] == "delta" and frame["version"] == 7
    assert frame["removed_ids"].tolist() == removed
    assert frame["sensors"] == SENSORS
    assert frame["partners"] == PARTNERS
    assert frame["sources"][SourceKind.ADSB] == "adsb"
    assert frame["flags"]["on_ground"] == TrackFlag.ON_GROUND
    cols = frame["columns"]
    for name, kind, field in wire.COLUMNS:
        got = cols[name]
        want = tracks[field]
        if name in ("age", "seen", "seen_pos"):
            want = NOW - want
        if kind in ("f32", "f64"):
            np.testing.assert_allclose(got, want.astype(got.dtype), rtol=0, atol=0, equal_nan=True)
        else:
            assert got.tolist() == want.tolist(), name


def test_frame_is_smaller_than_the_json_message() -> None:
    tracks = random_tracks(np.random.default_rng(1), 2000)
    binary = frame_for(tracks, [], full=True)
    text = json.dumps(
        {"columns": views.track_columns(tracks, NOW, SENSORS, PARTNERS), "removed": []})
    assert len(binary) < len(text) / 2


NODE_SCRIPT = """
import { readFileSync } from 'node:fs';
import { decodeFrame } from '%(static)s/wire.js';
import { TrackStore } from '%(static)s/store.js';
const frozen = Date.now();
Date.now = () => frozen;  // ages are computed against one instant, as the JSON's are
const buf = readFileSync(process.argv[2]);
const frame = decodeFrame(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
const store = new TrackStore(4);
store.apply(frame);
store.clockOffset = frame.now - Date.now() / 1000;  // ages as of the frame's own `now`
const out = [...store.slots()].map((s) => { const r = store.record(s); delete r.trail; return r; });
process.stdout.write(JSON.stringify(out));
"""


def test_the_map_reads_the_same_tracks_as_the_json_stream(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("no node (make test installs nodejs as root)")
    tracks = random_tracks(np.random.default_rng(11), 500)
    path = tmp_path / "frame.bin"
    path.write_bytes(frame_for(tracks, [], full=True))
    script = tmp_path / "read.mjs"
    script.write_text(NODE_SCRIPT % {"static": STATIC.as_posix()})
    done = subprocess.run([node, str(script), str(path)], capture_output=True, text=True,
                          check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    from_js = {r["id"]: r for r in json.loads(done.stdout)}
    expected = views.rows(views.track_columns(tracks, NOW, SENSORS, PARTNERS))
    assert len(from_js) == len(expected)
    tolerance = {"lat": 1e-6, "lon": 1e-6, "age": 0.06, "seen": 0.06, "seen_pos": 0.06}
    for row in expected:
        got = from_js[row["id"]]
        for key, want in row.items():
            have = got[key]
            if want is None or isinstance(want, bool | str | list):
                assert have == want, (key, row["id"], have, want)
            else:  # JSON rounds (6 decimals for lat/lon, 1 for most, ints for altitudes)
                tol = tolerance.get(key, 0.51)
                assert have is not None and abs(have - want) <= tol, (key, have, want)
