"""The DF17 encoder against two independent decoders: rs1090 and pyModeS 3."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pyModeS
import pytest
import rs1090
from hypothesis import given, settings
from hypothesis import strategies as st

from skyshare.decode.crc import syndrome
from skyshare.model import FRAME_DTYPE, FrameBatch, frame_hex
from skyshare.synth.encode import (
    altitude_code,
    cpr_encode,
    encode_airborne_position,
    encode_emergency,
    encode_identification,
    encode_velocity,
    mode_a_code,
    nl,
)

N = 1200
CHARS = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"))


def addresses(rng: np.random.Generator, n: int) -> npt.NDArray[np.uint32]:
    return rng.choice(np.arange(1, 0xFFFFFF, dtype=np.uint32), n, replace=False)


def metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    dlon = (lon2 - lon1 + 180.0) % 360.0 - 180.0
    return math.hypot((lat2 - lat1) * 111_195.0,
                      dlon * 111_195.0 * math.cos(math.radians((lat1 + lat2) / 2)))


def cpr_tolerance_m(lat: float, odd: bool) -> float:
    """Half the CPR quantum (about 2.6 m by 2.6 m; longitude cells grow near the poles
    where few zones remain), plus a centimetre."""
    i = int(odd)
    dlat = 360.0 / (60 - i) / 2**17 * 111_195.0
    zones = max(int(nl(lat)) - i, 1)
    dlon = 360.0 / zones / 2**17 * 111_195.0 * math.cos(math.radians(lat))
    return 0.5 * math.hypot(dlat, dlon) + 0.01


def check_frames(frames: FrameBatch) -> list[str]:
    assert frames.dtype == FRAME_DTYPE
    assert (frames["length"] == 14).all()
    assert (frames["data"][:, 0] >> 3 == 17).all()
    assert (syndrome(frames["data"], frames["length"]) == 0).all()
    return frame_hex(frames)


def test_identification_decodes_in_both() -> None:
    rng = np.random.default_rng(1)
    icao = addresses(rng, N)
    lengths = rng.integers(2, 9, N)
    callsigns = np.array(["".join(rng.choice(CHARS, k)) for k in lengths])
    sets = rng.choice([0xA0, 0xB0, 0xC0, 0xD0], N, p=[0.7, 0.1, 0.1, 0.1])
    category = (sets + rng.integers(0, 8, N)).astype(np.uint8)
    hexes = check_frames(encode_identification(icao, callsigns, category))
    theirs = rs1090.decode(hexes)
    for i, (h, r) in enumerate(zip(hexes, theirs, strict=True)):
        p = pyModeS.decode(h)
        assert p["crc_valid"] and p["icao"] == f"{icao[i]:06X}"
        assert p["callsign"] == callsigns[i], (h, p)
        assert p["typecode"] == 0xE - (category[i] >> 4)  # A -> 4, B -> 3, C -> 2, D -> 1
        assert p["category"] == category[i] & 7
        assert r["icao24"] == f"{icao[i]:06x}" and r["bds"] == "08"
        assert r["callsign"] == callsigns[i]


def test_identification_rejects_bad_input() -> None:
    frames = encode_identification(np.array([1]), np.array([b"klm12"]), np.array([0xA3]))
    assert pyModeS.decode(frame_hex(frames)[0])["callsign"] == "KLM12"
    with pytest.raises(ValueError, match="characters"):
        encode_identification(np.array([1]), np.array([b"AB-12"]), np.array([0xA3]))
    with pytest.raises(ValueError, match="categories"):
        encode_identification(np.array([1]), np.array([b"AB12"]), np.array([0xE1]))


def random_positions(rng: np.random.Generator, n: int) -> tuple[npt.NDArray[np.float64], ...]:
    """Half over Europe, half anywhere between the 87th parallels."""
    lat = np.where(rng.random(n) < 0.5, rng.uniform(35, 62, n), rng.uniform(-87, 87, n))
    lon = np.where(rng.random(n) < 0.5, rng.uniform(-12, 30, n), rng.uniform(-180, 180, n))
    alt = rng.uniform(-1000, 50_000, n)
    return lat, lon, alt


def near_nl_transition(lat: float) -> bool:
    """Even and odd of a pair may decode in different NL zones within ~10 m of one."""
    return bool(nl(lat - 1e-4) != nl(lat + 1e-4))


def test_airborne_positions_decode_in_rs1090_as_pairs() -> None:
    rng = np.random.default_rng(2)
    n = N // 2
    icao = addresses(rng, n)
    lat, lon, alt = random_positions(rng, n)
    even = check_frames(encode_airborne_position(icao, lat, lon, alt, np.zeros(n, bool)))
    odd = check_frames(encode_airborne_position(icao, lat, lon, alt, np.ones(n, bool)))
    msgs = [m for pair in zip(even, odd, strict=True) for m in pair]
    times = [float(t) for i in range(n) for t in (2.0 * i, 2.0 * i + 0.5)]
    decoded = rs1090.decode(msgs, times)
    for i in range(n):
        e, o = decoded[2 * i], decoded[2 * i + 1]
        assert e["icao24"] == o["icao24"] == f"{icao[i]:06x}"
        assert e["tc"] == 11 and e["parity"] == "even" and o["parity"] == "odd"
        assert abs(e["altitude"] - alt[i]) <= 12.5 and abs(o["altitude"] - alt[i]) <= 12.5
        if "latitude" not in o:
            assert near_nl_transition(lat[i]), (lat[i], lon[i])
            continue
        error = metres(o["latitude"], o["longitude"], lat[i], lon[i])
        assert error < cpr_tolerance_m(lat[i], True), (lat[i], lon[i])
        if abs(lat[i]) < 80:
            assert error < 4.0


def test_airborne_positions_decode_locally_in_pymodes() -> None:
    rng = np.random.default_rng(3)
    icao = addresses(rng, N)
    lat, lon, alt = random_positions(rng, N)
    odd = rng.random(N) < 0.5
    hexes = check_frames(encode_airborne_position(icao, lat, lon, alt, odd))
    ref_lat = lat + rng.uniform(-1, 1, N)  # a receiver within ~100 NM
    ref_lon = lon + rng.uniform(-1, 1, N)
    for i, h in enumerate(hexes):
        p = pyModeS.decode(h, reference=(float(ref_lat[i]), float(ref_lon[i])))
        assert p["crc_valid"] and p["typecode"] == 11 and p["cpr_format"] == int(odd[i])
        assert abs(p["altitude"] - alt[i]) <= 12.5
        error = metres(p["latitude"], p["longitude"], lat[i], lon[i])
        assert error < cpr_tolerance_m(lat[i], odd[i]), (lat[i], lon[i])


@settings(max_examples=300, deadline=None)
@given(lat=st.floats(-89.9, 89.9), lon=st.floats(-180.0, 180.0), odd=st.booleans())
def test_cpr_round_trips_anywhere(lat: float, lon: float, odd: bool) -> None:
    frames = encode_airborne_position(np.array([0xABCDEF]), np.array([lat]), np.array([lon]),
                                      np.array([10_000.0]), np.array([odd]))
    p = pyModeS.decode(frame_hex(frames)[0], reference=(lat, lon))
    assert metres(p["latitude"], p["longitude"], lat, lon) < cpr_tolerance_m(lat, odd)


def test_cpr_fields_and_rounding() -> None:
    # the worked example of "The 1090 MHz Riddle": 52.2572, 3.9194 -> even (93000, 51372)
    yz, xz = cpr_encode([52.25720214843750], [3.91937255859375], [False])
    assert (int(yz[0]), int(xz[0])) == (93000, 51372)
    # a latitude exactly one zone up: the field wraps to 0, never 2**17
    yz, xz = cpr_encode([6.0 - 1e-12, 0.0], [0.0, 360.0 - 1e-12], [False, False])
    assert yz.tolist() == [0, 0] and xz.tolist() == [0, 0]
    assert nl(0.0) == 59 and nl(10.47) == 59 and nl(10.48) == 58
    assert nl(86.9) == 2 and nl(87.0) == 2 and nl(87.000001) == 1 and nl(-87.5) == 1
    assert (np.diff(nl(np.linspace(0, 90, 10_000))) <= 0).all()


def test_altitude_and_mode_a_fields() -> None:
    # 38000 ft: N = 1560 = 0b11000011000 -> 1100001 1 1000 (Q bit 8th)
    assert int(altitude_code([38_000.0])[0]) == 0b110000111000
    assert int(altitude_code([np.nan])[0]) == 0
    assert int(mode_a_code([7700])[0]) == 0b0101010101010  # C1 A1 C2 A2 C4 A4 X B1 D1 ...
    assert int(mode_a_code([1000])[0]) == 0b0100000000000


def test_velocity_decodes_in_both() -> None:
    rng = np.random.default_rng(4)
    icao = addresses(rng, N)
    gs = rng.uniform(50, 650, N)
    track = rng.uniform(0, 360, N)
    vr = np.round(rng.uniform(-6000, 6000, N))
    vr[:20] = 0.0
    hexes = check_frames(encode_velocity(icao, gs, track, vr))
    theirs = rs1090.decode(hexes)
    for i, (h, r) in enumerate(zip(hexes, theirs, strict=True)):
        assert r["icao24"] == f"{icao[i]:06x}" and r["bds"] == "09"
        assert abs(r["groundspeed"] - gs[i]) <= 1.0
        assert abs((r["track"] - track[i] + 180.0) % 360.0 - 180.0) <= 1.0
        assert abs(r["vertical_rate"] - vr[i]) <= 32.0
        p = pyModeS.decode(h)
        assert p["crc_valid"] and p["typecode"] == 19 and p["subtype"] == 1
        # pyModeS truncates the speed to whole knots
        assert 0 <= r["groundspeed"] - p["groundspeed"] < 1.0
        assert abs((p["track"] - track[i] + 180.0) % 360.0 - 180.0) <= 1.0
        assert abs(p["vertical_rate"] - vr[i]) <= 32.0
        # DO-260B: VrSrc 1 is barometric (rs1090 0.7 reads this bit the other way round)
        assert p["vr_source"] == "BARO"


def test_emergency_status_decodes_in_both() -> None:
    rng = np.random.default_rng(5)
    n = 200
    icao = addresses(rng, n)
    digits = rng.integers(0, 8, (n, 4))
    squawk = digits @ np.array([1000, 100, 10, 1])
    squawk[:30] = np.tile([7500, 7600, 7700], 10)
    hexes = check_frames(encode_emergency(icao, squawk))
    theirs = rs1090.decode(hexes)
    expected_state = {7700: (1, "general"), 7600: (4, "no_communication"),
                      7500: (5, "unlawful_interference")}
    for i, (h, r) in enumerate(zip(hexes, theirs, strict=True)):
        p = pyModeS.decode(h)
        assert p["typecode"] == 28 and p["squawk"] == f"{squawk[i]:04d}"
        assert r["squawk"] == f"{squawk[i]:04d}"
        state, name = expected_state.get(int(squawk[i]), (0, "none"))
        assert p["emergency_state"] == state
        assert r["emergency_state"].replace(" ", "_").lower().startswith(name[:7])
