"""Field decoding (altitude, identity, registers) and the decoder's frame handling."""

from __future__ import annotations

import math

import pyModeS
import pytest
import rs1090
from modes_test_frames import (
    df4,
    df5,
    df11,
    df17,
    frames,
    me_airborne,
    me_identification,
    me_velocity,
    with_parity,
)
from pyModeS._altcode import altcode_to_altitude
from pyModeS._idcode import idcode_to_squawk
from pyModeS.decoder.bds.bds06 import _decode_movement

from skyshare.badinput import BadInput
from skyshare.decode.adsb import movement_kt, nic_airborne, nic_surface
from skyshare.decode.aircraft import MIN_CAPACITY
from skyshare.decode.altitude import ac12_ft, ac13_ft, id13_squawk
from skyshare.decode.modes import EVENT_KINDS, OUTCOME_KINDS, ModeSDecoder
from skyshare.model import REPORT_DTYPE, Emergency, FrameFlag, ReportFlag, SourceKind

A = 0x4CA216


def test_ac13_all_codes_as_pymodes() -> None:
    for code in range(8192):
        expected = altcode_to_altitude(code)
        got = ac13_ft(code)
        assert (math.isnan(got) and expected is None) or got == expected, code


def test_id13_all_codes_as_pymodes() -> None:
    for code in range(8192):
        assert f"{id13_squawk(code):04d}" == idcode_to_squawk(code), code


def test_ac12_all_codes_as_pymodes() -> None:
    for code in range(0, 4096, 3):
        frame = df17(A, (11 << 51) | (code << 36)).hex()
        expected = pyModeS.decode(frame).get("altitude")
        got = ac12_ft(code)
        assert (math.isnan(got) and expected is None) or got == expected, code


def test_movement_as_pymodes() -> None:
    for mov in range(128):
        expected = _decode_movement(mov)
        got = movement_kt(mov)
        assert (math.isnan(got) and expected is None) or got == expected, mov


@pytest.mark.parametrize(("tc", "nic_a", "nic_b", "nic"), [
    (9, 0, 0, 11), (10, 0, 0, 10), (11, 1, 1, 9), (11, 0, 0, 8), (12, 0, 0, 7),
    (13, 0, 1, 6), (14, 0, 0, 5), (15, 0, 0, 4), (16, 1, 1, 3), (16, 0, 0, 2),
    (17, 0, 0, 1), (18, 0, 0, 0), (20, 0, 0, 11), (21, 0, 0, 10), (22, 0, 0, 0),
])
def test_nic_airborne(tc: int, nic_a: int, nic_b: int, nic: int) -> None:
    assert nic_airborne(tc, nic_a, nic_b) == nic


@pytest.mark.parametrize(("tc", "nic_a", "nic_c", "nic"), [
    (5, 0, 0, 11), (6, 0, 0, 10), (7, 1, 0, 9), (7, 0, 0, 8), (8, 1, 1, 7), (8, 1, 0, 6),
    (8, 0, 1, 6), (8, 0, 0, 0),
])
def test_nic_surface(tc: int, nic_a: int, nic_c: int, nic: int) -> None:
    assert nic_surface(tc, nic_a, nic_c) == nic


def test_empty_batch_and_counts() -> None:
    decoder = ModeSDecoder()
    out = decoder.decode(frames([]))
    assert out.dtype == REPORT_DTYPE and len(out) == 0
    assert set(decoder.counts) == set(OUTCOME_KINDS + EVENT_KINDS)


def test_identification_and_category() -> None:
    data = [df17(A, me_identification("EIN5GV__".replace("_", " "), tc=4, ca=3)),
            df17(A, me_identification("VEH1", tc=2, ca=3)),
            df17(A, me_identification("ABC", tc=3, ca=0))]
    r = ModeSDecoder().decode(frames(data))
    assert r["callsign"].tolist() == [b"EIN5GV", b"VEH1", b"ABC"]
    assert r["category"].tolist() == [0xA3, 0xC3, 0]
    assert (r["source"] == SourceKind.ADSB).all()
    assert r["typecode"].tolist() == [4, 2, 3]


def test_velocity_ground() -> None:
    r = ModeSDecoder().decode(frames([df17(A, me_velocity(-300, 400, -1280, geo=False)),
                                      df17(A, me_velocity(10, 0, 640))]))
    assert r["groundspeed"][0] == 500.0
    assert r["track"][0] == pytest.approx(360.0 - 36.8698976, abs=1e-4)
    assert r["vertical_rate"].tolist() == [-1280.0, 640.0]
    assert not r["flags"][0] & ReportFlag.VRATE_GEO
    assert r["flags"][1] & ReportFlag.VRATE_GEO
    assert r["track"][1] == 90.0


def test_velocity_airspeed_and_operational_status() -> None:
    # TC31 airborne, version 2, NIC-A 1, NACp 9, SIL 3, HRD 0 (true north)
    op = (31 << 51) | (2 << 13) | (1 << 12) | (9 << 8) | (3 << 4)
    # TC19 subtype 3: heading 90 deg (256/1024), TAS 251 kt, vertical rate unknown
    air = (19 << 51) | (3 << 48) | (1 << 42) | (256 << 32) | (1 << 31) | (252 << 21)
    r = ModeSDecoder().decode(frames([df17(A, air), df17(A, op), df17(A, air),
                                      df17(A, me_airborne(50.0, 4.0, 3000, 0, tc=11))]))
    assert r["airspeed"][0] == 251.0 and r["heading"][0] == 90.0
    assert r["flags"][0] & ReportFlag.AIRSPEED_TAS
    assert r["flags"][0] & ReportFlag.HEADING_MAGNETIC  # unknown reference: magnetic
    assert not r["flags"][2] & ReportFlag.HEADING_MAGNETIC  # TC31 said true north
    assert (r["nacp"][1], r["sil"][1]) == (9, 3)
    assert (r["nic"][3], r["nacp"][3], r["sil"][3]) == (8, 9, 3)  # NIC-A 1, NIC-B 0


def test_gnss_height_as_rs1090() -> None:
    for code in (0, 1000, 1234, 2500):  # 1000: Q = 0 (Gillham); 2500: invalid Gillham
        frame = df17(A, (20 << 51) | (code << 36))
        r = ModeSDecoder().decode(frames([frame]))
        expected = rs1090.decode(frame.hex())["altitude"]
        assert (math.isnan(r["alt_geo"][0]) and expected is None) or r["alt_geo"][0] == expected
        assert math.isnan(r["alt_baro"][0]) and r["nic"][0] == 11


def test_emergency_status() -> None:
    id13_7700 = 0b0101010101010  # C1 A1 C2 A2 C4 A4 X B1 D1 B2 D2 B4 D4 for 7700
    assert id13_squawk(id13_7700) == 7700
    me = (28 << 51) | (1 << 48) | (Emergency.GENERAL << 45) | (id13_7700 << 32)
    r = ModeSDecoder().decode(frames([df17(A, me)]))
    assert r["emergency"][0] == Emergency.GENERAL and r["squawk"][0] == 7700


def test_df18_control_field() -> None:
    me = me_identification("TEST1")
    data = [df17(A + cf, me, df=18, ca=cf) for cf in range(8)]
    decoder = ModeSDecoder()
    r = decoder.decode(frames(data))
    assert r["icao24"].tolist() == [A, A + 1, A + 2, A + 5, A + 6]
    non_icao = (r["flags"] & ReportFlag.NON_ICAO) != 0
    assert non_icao.tolist() == [False, True, True, True, True]
    assert decoder.counts["df-unsupported"] == 3
    # A non-ICAO address never vouches for a Mode S reply.
    assert len(decoder.decode(frames([df4(A + 1, 1000)], [9.0]))) == 0


def test_all_call_and_address_recovery() -> None:
    decoder = ModeSDecoder()
    assert len(decoder.decode(frames([df4(A, 12000)], [0.0]))) == 0
    assert decoder.counts["unknown-address"] == 1
    data = [df11(A, ic=3), df4(A, 12000, fs=2), df5(A, 0x1234, fs=4),
            df4(A, 12025, fs=1, df=20), df5(A, 0, fs=5)]
    r = decoder.decode(frames(data, [1.0, 2.0, 3.0, 4.0, 5.0]))
    assert r["df"].tolist() == [11, 4, 5, 20, 5]
    assert (r["icao24"] == A).all()
    assert (r["source"] == SourceKind.MODES).all()
    assert not r["flags"][0] & ReportFlag.ADDRESS_RECOVERED
    assert (r["flags"][1:] & ReportFlag.ADDRESS_RECOVERED).all()
    assert r["alt_baro"][1] == 12000.0 and r["alt_baro"][3] == 12025.0
    assert r["squawk"][2] == id13_squawk(0x1234) and r["squawk"][4] == 0
    assert r["flags"][1] & ReportFlag.ALERT and not r["flags"][1] & ReportFlag.ON_GROUND
    assert r["flags"][2] & ReportFlag.ALERT and r["flags"][2] & ReportFlag.SPI
    assert r["flags"][3] & ReportFlag.ON_GROUND
    assert r["flags"][4] & ReportFlag.SPI and not r["flags"][4] & ReportFlag.ALERT
    assert len(decoder.decode(frames([df4(A, 12000)], [65.0]))) == 0  # 60 s later


def test_df11_with_a_wrong_parity_is_refused() -> None:
    decoder = ModeSDecoder()
    body = bytes([(11 << 3) | 5]) + A.to_bytes(3, "big")
    assert len(decoder.decode(frames([with_parity(body, 80)]))) == 0
    assert decoder.counts["crc-fail"] == 1


def test_time_order_and_frame_fields() -> None:
    data = [df4(A, 1000), df11(A), df4(A, 1000)]
    batch = frames(data, [2.0, 1.0, 2.0], flags=FrameFlag.EXERCISE)
    batch["sensor"] = [1, 2, 3]
    batch["rssi"] = [-10.0, -20.0, -30.0]
    r = ModeSDecoder().decode(batch)
    assert r["time"].tolist() == [1.0, 2.0, 2.0]
    assert r["sensor"].tolist() == [2, 1, 3]
    assert r["rssi"].tolist() == [-20.0, -10.0, -30.0]
    assert (r["flags"] & ReportFlag.EXERCISE).all()
    assert r["frame_hash"][1] == r["frame_hash"][2] != r["frame_hash"][0]


def test_many_aircraft_grow_the_table() -> None:
    n = 3 * MIN_CAPACITY
    decoder = ModeSDecoder()
    addresses = [(0x100000 + 7919 * i) & 0xFFFFFF for i in range(n)]
    decoder.decode(frames([df11(a) for a in addresses], [0.0] * n))
    r = decoder.decode(frames([df4(a, 5000) for a in addresses], [1.0] * n))
    assert len(r) == n
    assert sorted(r["icao24"].tolist()) == sorted(addresses)


def test_bad_input_is_counted_per_sensor() -> None:
    bad: dict[int, BadInput] = {}
    decoder = ModeSDecoder(bad_for=lambda s: bad.setdefault(s, BadInput(str(s))))
    batch = frames([b"\x00\x01", df4(A, 100), df17(A, 0)[:-1] + b"\x00", b"\x8d"])
    batch["sensor"] = [0, 1, 1, 2]
    assert len(decoder.decode(batch)) == 0
    assert bad[0].counts == {"mode-ac": 1}
    assert bad[1].counts == {"unknown-address": 1, "crc-fail": 1}
    assert bad[2].counts == {"bad-length": 1}
    assert decoder.counts["crc-fail"] == 1
