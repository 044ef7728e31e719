"""CAT062 written from columns: read back by our decoder and by libasterix (edition
1.18), value for value, for the real system track, for random tracks on the items'
grids, for any floats at all (within half a resolution step, or clipped), and for the
node's picture."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from asterix.generated import Cat_062_1_18
from asterix_oracle import check_row, oracle_system_tracks
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from skyshare.badinput import BadInput
from skyshare.decode.asterix.cat062 import SYSTEM_TRACK_DTYPE, decode_system_tracks
from skyshare.decode.asterix.records import split_records
from skyshare.decode.asterix.write062 import (
    STATUS_DTYPE,
    encode_picture,
    encode_system_tracks,
    system_tracks_from_picture,
)
from skyshare.model import NO_ADDRESS, NO_SQUAWK, Emergency, TrackFlag, empty_tracks
from skyshare.sources.asterix import split_blocks

NAMES = tuple(n for n in SYSTEM_TRACK_DTYPE.names or () if n != "record")
FLOATS = {n for n in NAMES if SYSTEM_TRACK_DTYPE[n].kind == "f"}
UNKNOWN = {"sac": 0, "sic": 0, "squawk": int(NO_SQUAWK), "callsign": b"",
           "icao24": int(NO_ADDRESS), "track_number": -1, "status": 0}
# column: (resolution, lowest, highest) of its item
GRID = {"tod": (1 / 128, 0.0, (2**24 - 1) / 128), "lat": (180 / 2**25, -90.0, 90.0),
        "lon": (180 / 2**25, -180.0, 180.0),
        "x_m": (0.5, -2**23 * 0.5, (2**23 - 1) * 0.5),
        "y_m": (0.5, -2**23 * 0.5, (2**23 - 1) * 0.5),
        "vx_mps": (0.25, -2**15 * 0.25, (2**15 - 1) * 0.25),
        "vy_mps": (0.25, -2**15 * 0.25, (2**15 - 1) * 0.25),
        "fl": (0.25, -2**15 / 4, (2**15 - 1) / 4),
        "alt_geo_ft": (6.25, -2**15 * 6.25, (2**15 - 1) * 6.25),
        "alt_baro_ft": (25.0, -2**14 * 25.0, (2**14 - 1) * 25.0),
        "vertical_rate_fpm": (6.25, -2**15 * 6.25, (2**15 - 1) * 6.25)}


def decode(blocks: list[bytes]) -> np.ndarray:
    data = np.frombuffer(b"".join(blocks), np.uint8)
    bad = BadInput()
    tracks = decode_system_tracks(data, split_records(data, split_blocks(data, bad), bad))
    assert not bad.counts
    return tracks


def same(a: np.ndarray, b: np.ndarray) -> None:
    for name in NAMES:
        if a[name].dtype.kind == "f":
            np.testing.assert_allclose(a[name], b[name], atol=1e-6, err_msg=name)
        else:
            assert np.array_equal(a[name], b[name]), name


def oracle(blocks: list[bytes]) -> list[dict[str, object]]:
    return [row for block in blocks for row in oracle_system_tracks(block, Cat_062_1_18)]


def real_track(data_dir: Path) -> np.ndarray:
    raw = (data_dir / "asterix" / "cat062_ed1.16_record.bin").read_bytes()
    return decode([raw])


def test_the_real_system_track_comes_back_the_same(data_dir: Path) -> None:
    track = real_track(data_dir)
    blocks, dropped = encode_system_tracks(track)
    assert dropped == 0 and len(blocks) == 1
    same(track, decode(blocks))
    (want,) = oracle(blocks)
    check_row(track[0], want, NAMES, FLOATS, UNKNOWN)


def octal(n: int) -> int:
    return int(oct(n)[2:])


def on_grid(data: st.DataObject, name: str, n: int) -> np.ndarray:
    """``n`` values of a column on its item's grid, in its range, or NaN."""
    lsb, low, high = GRID[name]
    steps = data.draw(hnp.arrays(np.int64, n, elements=st.integers(
        math.ceil(low / lsb), math.floor(high / lsb))))
    known = data.draw(hnp.arrays(np.bool_, n))
    return np.where(known, steps * lsb, np.nan)


def random_tracks(data: st.DataObject, n: int) -> np.ndarray:
    t = np.zeros(n, SYSTEM_TRACK_DTYPE)
    t["sac"] = data.draw(hnp.arrays(np.uint8, n))
    t["sic"] = data.draw(hnp.arrays(np.uint8, n))
    for name in GRID:
        t[name] = on_grid(data, name, n)
    t["tod"] = np.where(np.isnan(t["tod"]), 0.0, t["tod"])  # a record needs its time
    for x, y in (("lat", "lon"), ("x_m", "y_m"), ("vx_mps", "vy_mps")):  # both or neither
        known = np.isfinite(t[x]) & np.isfinite(t[y])
        t[x], t[y] = np.where(known, t[x], np.nan), np.where(known, t[y], np.nan)
    squawks = data.draw(hnp.arrays(np.int64, n, elements=st.integers(-1, 4095)))
    t["squawk"] = [NO_SQUAWK if s < 0 else octal(s) for s in squawks]
    t["callsign"] = data.draw(hnp.arrays("S8", n, elements=st.sampled_from(
        [b"", b"RYR5XW", b"A1", b"ABCDEFGH", b"1 2"])))
    t["icao24"] = data.draw(hnp.arrays(np.uint32, n, elements=st.sampled_from(
        [int(NO_ADDRESS), 0, 0x4CA123, 0xFFFFFF])))
    t["track_number"] = data.draw(hnp.arrays(np.int32, n, elements=st.integers(0, 65535)))
    t["status"] = data.draw(hnp.arrays(np.uint8, n)) & 0xFE
    return t


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_random_tracks_round_trip_and_libasterix_reads_them(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 60))
    tracks = random_tracks(data, n)
    max_block = data.draw(st.integers(59, 1400))
    blocks, dropped = encode_system_tracks(tracks, max_block=max_block)
    assert dropped == 0 and all(len(b) <= max_block for b in blocks)
    same(tracks, decode(blocks))
    wants = oracle(blocks)
    assert len(wants) == n
    for track, want in zip(tracks, wants, strict=True):
        check_row(track, want, NAMES, FLOATS, UNKNOWN)
        assert want["service"] == 0 and want.get("sti", 0) == 0
        assert want.get("adr_only", True) and want.get("qnh", 0) == 0
        assert "sim" not in want  # no extension asked for: I062/080 in one part


def any_float(width: int) -> st.SearchStrategy[float]:
    return st.one_of(st.floats(width=width), st.floats(-1e6, 1e6, width=width))


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_floats_come_back_within_half_a_step_or_clipped(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 20))
    tracks = np.zeros(n, SYSTEM_TRACK_DTYPE)
    tracks["squawk"], tracks["icao24"] = NO_SQUAWK, NO_ADDRESS
    for name in GRID:
        dtype = SYSTEM_TRACK_DTYPE[name]
        tracks[name] = data.draw(hnp.arrays(dtype, n, elements=any_float(8 * dtype.itemsize)))
    tracks["tod"] = np.abs(np.nan_to_num(tracks["tod"], posinf=0, neginf=0)) % 86400
    tracks["track_number"] = data.draw(hnp.arrays(np.int32, n, elements=st.integers(-3, 9)))
    blocks, dropped = encode_system_tracks(tracks, max_block=200)
    assert all(len(b) <= 200 for b in blocks)
    kept = tracks[tracks["track_number"] >= 0]
    assert dropped == n - len(kept)
    got = decode(blocks)
    for track, want in zip(got, oracle(blocks), strict=True):  # libasterix agrees
        check_row(track, want, NAMES, FLOATS, UNKNOWN)
    off_globe = ~((np.abs(kept["lat"]) <= 90) & (np.abs(kept["lon"]) <= 180))
    for name, (lsb, low, high) in GRID.items():
        value = kept[name].astype(np.float64)
        if name in ("lat", "lon"):
            value = np.where(off_globe, np.nan, value)
        elif name in ("x_m", "y_m", "vx_mps", "vy_mps"):
            pair = {"x_m": "y_m", "y_m": "x_m", "vx_mps": "vy_mps", "vy_mps": "vx_mps"}
            value = np.where(np.isfinite(kept[pair[name]]), value, np.nan)
        value = np.where(np.isinf(value), np.nan, value)
        expected = np.clip(value, low, high)
        tolerance = np.where((value >= low) & (value <= high), lsb / 2, lsb) + 1e-9
        decoded = got[name].astype(np.float64)
        assert np.array_equal(np.isnan(decoded), np.isnan(expected)), name
        known = ~np.isnan(expected)
        assert np.all(np.abs(decoded[known] - expected[known]) <= tolerance[known]), name


def test_tracks_without_number_or_time_are_dropped_and_counted() -> None:
    tracks = np.zeros(4, SYSTEM_TRACK_DTYPE)
    tracks["track_number"], tracks["tod"] = [1, -1, 2, 3], [10.0, 10.0, np.nan, 86399.0]
    for name in GRID:
        if name != "tod":
            tracks[name] = np.nan
    blocks, dropped = encode_system_tracks(tracks)
    assert dropped == 2 and decode(blocks)["track_number"].tolist() == [1, 3]
    with pytest.raises(ValueError, match="max_block"):
        encode_system_tracks(tracks, max_block=40)
    with pytest.raises(ValueError, match="service_id"):
        encode_system_tracks(tracks, service_id=256)
    with pytest.raises(ValueError, match="status"):
        encode_system_tracks(tracks, status=np.zeros(3, STATUS_DTYPE))


def test_positions_at_the_edges_of_the_globe_and_callsigns_in_any_case() -> None:
    tracks = np.zeros(5, SYSTEM_TRACK_DTYPE)
    for name in GRID:
        tracks[name] = np.nan
    tracks["tod"], tracks["track_number"] = 0.0, np.arange(5)
    tracks["squawk"], tracks["icao24"] = NO_SQUAWK, NO_ADDRESS
    tracks["lat"] = [90.0, -90.0, 90.001, 10.0, 0.0]
    tracks["lon"] = [180.0, -180.0, 0.0, 180.001, 0.0]
    tracks["callsign"] = [b"dlh4ab", b"A#B", b"", b"", b""]
    blocks, _ = encode_system_tracks(tracks)
    wants = oracle(blocks)
    assert [(w.get("lat"), w.get("lon")) for w in wants] == [
        (90.0, 180.0), (-90.0, -180.0), (None, None), (None, None), (0.0, 0.0)]
    assert [w.get("callsign") for w in wants[:2]] == [b"DLH4AB", b"A B"]
    same_as_libasterix = decode(blocks)
    for track, want in zip(same_as_libasterix, wants, strict=True):
        check_row(track, want, NAMES, FLOATS, UNKNOWN)


def picture() -> np.ndarray:
    t = empty_tracks(4)
    t["track_id"] = [7, 65536 + 9, 12, 13]
    t["last_seen"] = 1_700_000_000.5 + np.arange(4)  # 2023-11-14 22:13:20.5 UTC
    t["lat"], t["lon"] = [50.0, -33.9, np.nan, 0.0], [8.5, 151.2, np.nan, -180.0]
    t["groundspeed"], t["track"] = [450.0, 0.0, np.nan, 120.0], [90.0, 10.0, 5.0, 225.0]
    t["alt"], t["alt_geo"] = [37000.0, 1200.0, np.nan, 25.0], [37550.0, np.nan, np.nan, 50.0]
    t["vertical_rate"] = [0.0, -800.0, np.nan, 64.0]
    t["squawk"], t["callsign"] = [7700, 1200, -1, 17], [b"DLH4AB", b"", b"", b"N12"]
    t["icao24"] = [0x3C6586, 0x7C0001, int(NO_ADDRESS), 0x00ABCD]
    t["flags"] = [TrackFlag.CONFIRMED | TrackFlag.SPI,
                  TrackFlag.CONFIRMED | TrackFlag.EXERCISE | TrackFlag.COASTING,
                  TrackFlag.NONE, TrackFlag.CONFIRMED | TrackFlag.NON_ICAO
                  | TrackFlag.ON_GROUND]
    t["emergency"] = [Emergency.GENERAL, 0, 0, 0]
    t["sensors"], t["partners"] = [0b1, 0b110, 0b100, 0b1], [0, 0, 0, 1]
    return t


def test_the_picture_as_system_tracks() -> None:
    tracks = picture()
    rows = system_tracks_from_picture(tracks, 25, 200)
    assert rows["track_number"].tolist() == [7, 9, 12, 13]
    assert rows["tod"][0] == pytest.approx(80000.5)  # 22:13:20.5
    kt = 1852 / 3600
    assert rows["vx_mps"][0] == pytest.approx(450 * kt) and abs(rows["vy_mps"][0]) < 1e-3
    assert rows["vx_mps"][3] == pytest.approx(-120 * kt * math.sqrt(0.5), rel=1e-5)
    assert np.isnan(rows["vx_mps"][2]) and np.isnan(rows["x_m"]).all()
    assert rows["fl"][0] == 370 and rows["alt_baro_ft"][1] == 1200
    assert rows["icao24"][3] == NO_ADDRESS  # not an ICAO address: no ADR
    #          MON   SPI     |    tentative  |  SRC GNSS
    assert rows["status"].tolist() == [0x80 | 0x40 | 0x04, 0, 0x80 | 0x02, 0x04]


def test_libasterix_reads_the_picture_we_write() -> None:
    tracks = picture()
    blocks, dropped = encode_picture(tracks, 25, 200, service_id=3, max_block=120)
    assert dropped == 0 and len(blocks) > 1 and all(len(b) <= 120 for b in blocks)
    rows = system_tracks_from_picture(tracks, 25, 200)
    got = decode(blocks)
    wants = oracle(blocks)
    for row, track, want in zip(rows, got, wants, strict=True):
        check_row(track, want, NAMES, FLOATS, UNKNOWN)
        assert want["service"] == 3 and (want["sac"], want["sic"]) == (25, 200)
        for name in ("lat", "lon", "alt_geo_ft", "vertical_rate_fpm", "fl"):
            if math.isfinite(row[name]):
                assert want[name] == pytest.approx(row[name], abs=GRID[name][0] / 2)
            else:
                assert name not in want
    # the status extensions: EMS (fifth part), SIM (second), CST (fourth), SFC (sixth)
    assert [(w.get("sim"), w.get("cst"), w.get("ems"), w.get("sfc")) for w in wants] == [
        (0, 0, 1, None), (1, 1, None, None), (None, None, None, None), (0, 0, 0, 1)]
    assert wants[0]["sds"] == 3 and "callsign" not in wants[1]
    assert wants[1]["tod"] == pytest.approx(80001.5) and "icao24" not in wants[3]
