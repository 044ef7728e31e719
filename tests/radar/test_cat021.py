"""CAT021 ADS-B reports, every value checked against libasterix's reading of the same
records: the real record in ../shared/data/asterix (edition 2.1), a realistic record
libasterix writes itself, and random records holding any of the first 30 items with
any contents (every item the decoder reads is among them).  The expected reports are
built here from libasterix's fields by the rules the decoder documents (ranges, RE
bits, which item wins, version 0 quality)."""

from __future__ import annotations

import math
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from asterix.base import StringICAO
from asterix.generated import Cat_021_2_1, Cat_021_2_6
from asterix_oracle import check_row, oracle_records
from hypothesis import given, settings
from hypothesis import strategies as st

from skyshare.badinput import BadInput
from skyshare.decode.asterix.cat021 import decode_adsb
from skyshare.decode.asterix.records import Records, split_records
from skyshare.decode.asterix.uap import CAT021
from skyshare.model import NO_ADDRESS, NO_SQUAWK, ReportFlag, SourceKind
from skyshare.sources.asterix import split_blocks

SENSOR = 7
AROUND = 1_700_000_000.3
DAY = 86400.0
FLOATS = {"lat", "lon", "alt_baro", "alt_geo", "groundspeed", "track", "vertical_rate",
          "airspeed", "heading"}
NAMES = ("flags", "icao24", "category", "callsign", "squawk", "emergency", "nic", "nacp",
         "nacv", "sil", *sorted(FLOATS))
UNKNOWN = {"icao24": int(NO_ADDRESS), "category": 0, "callsign": b"",
           "squawk": int(NO_SQUAWK), "emergency": 0, "nic": 255, "nacp": 255, "nacv": 255,
           "sil": 255}
ECAT = {1: 0xA1, 2: 0xA2, 3: 0xA3, 4: 0xA4, 5: 0xA5, 6: 0xA6, 10: 0xA7,  # DO-260B sets
        11: 0xB1, 12: 0xB2, 16: 0xB3, 15: 0xB4, 13: 0xB6, 14: 0xB7,
        20: 0xC1, 21: 0xC2, 22: 0xC3, 23: 0xC4, 24: 0xC5}
NUCP_NIC = {0: 0, 1: 1, 2: 2, 3: 4, 4: 5, 5: 6, 6: 7, 7: 8, 8: 10, 9: 11}  # type codes 18-9


def part(rec: Any, item: str, name: str) -> Any:
    """Subitem ``name`` of a group or extended item; None if the record (or the
    extended item's parts, or the edition) lack it."""
    i = rec.get_item(item)
    if i is None:
        return None
    try:
        sub = i.variation.get_item(name)
    except ValueError:  # not in this edition (a spare there)
        return None
    return None if sub is None else sub.variation.content


def quantity(rec: Any, item: str, unit: str) -> float | None:
    i = rec.get_item(item)
    return None if i is None else float(i.variation.content.as_quantity(unit))


def on_day(tod: float, around: float) -> float:
    """The UNIX time nearest ``around`` with the UTC time of day ``tod``."""
    day = math.floor(around / DAY) * DAY
    return min((day + k * DAY + tod for k in (-1, 0, 1)), key=lambda t: abs(t - around))


def with_re(rec: Any, item: str, name: str, unit: str) -> float | None:
    """A value after its RE (range exceeded) bit: None when absent or exceeded."""
    re = part(rec, item, "RE")
    return None if re is None or re.as_uint() else float(part(rec, item, name).as_quantity(
        unit))


def expected_time(rec: Any, around: float) -> float:
    for item in ("073", "071", "075", "077"):
        tod = quantity(rec, item, "s")
        if tod is not None and tod < DAY:
            return on_day(tod, around)
    return around


def expected_flags(rec: Any) -> tuple[int, bool]:
    """(ReportFlag bits of I021/040 and /200, whether the record is left out)."""
    flags, drop = 0, False
    if (atp := part(rec, "040", "ATP")) is not None:
        flags |= ReportFlag.NON_ICAO if atp.as_uint() else 0
        drop = bool(part(rec, "040", "RAB").as_uint())
    if (gbs := part(rec, "040", "GBS")) is not None:
        flags |= ReportFlag.ON_GROUND if gbs.as_uint() else 0
        flags |= ReportFlag.EXERCISE if part(rec, "040", "SIM").as_uint() else 0
        drop = drop or bool(part(rec, "040", "TST").as_uint())
    if (ss := part(rec, "200", "SS")) is not None:
        flags |= {0: 0, 1: ReportFlag.ALERT, 2: ReportFlag.ALERT, 3: ReportFlag.SPI}[
            ss.as_uint()]
    return flags, drop


def expected_position(rec: Any, want: dict[str, object]) -> None:
    for item in ("131", "130"):
        if (lat := part(rec, item, "LAT")) is not None:
            la, lo = lat.as_quantity("°"), part(rec, item, "LON").as_quantity("°")
            if abs(la) <= 90 and abs(lo) <= 180:
                want["lat"], want["lon"] = la, lo
                return


def expected_kinematics(rec: Any, want: dict[str, object]) -> int:
    """Heights, velocities, rates and speeds; the flags they set."""
    flags = 0
    if (fl := quantity(rec, "145", "FL")) is not None and -15 <= fl <= 1500:
        want["alt_baro"] = fl * 100
    if (h := quantity(rec, "140", "ft")) is not None and -1500 <= h <= 150000:
        want["alt_geo"] = h
    if (ta := part(rec, "160", "TA")) is not None:
        want["track"] = ta.as_quantity("°")
        if (gs := with_re(rec, "160", "GS", "NM/s")) is not None:
            want["groundspeed"] = gs * 3600
    if (rate := with_re(rec, "155", "BVR", "ft/min")) is not None:
        want["vertical_rate"] = rate
    elif (rate := with_re(rec, "157", "GVR", "ft/min")) is not None:
        want["vertical_rate"] = rate
        flags |= ReportFlag.VRATE_GEO
    if (tas := with_re(rec, "151", "TAS", "kt")) is not None:
        want["airspeed"] = tas
        flags |= ReportFlag.AIRSPEED_TAS
    elif (im := part(rec, "150", "IM")) is not None and im.as_uint() == 0:
        as_ = rec.get_item("150").variation.get_item("AS").variation.rule.content((0,))
        want["airspeed"] = as_.as_quantity("NM/s") * 3600
    if (mh := quantity(rec, "152", "°")) is not None:
        want["heading"] = mh
        flags |= ReportFlag.HEADING_MAGNETIC
    return flags


def expected_quality(rec: Any, want: dict[str, object]) -> None:
    if (nacv := part(rec, "090", "NUCRNACV")) is None:
        return
    v0 = (vn := part(rec, "210", "VN")) is not None and vn.as_uint() == 0
    nic = part(rec, "090", "NUCPNIC").as_uint()
    want["nacv"] = nacv.as_uint() if nacv.as_uint() <= 4 else 255
    want["nic"] = NUCP_NIC.get(nic, 255) if v0 else (nic if nic <= 11 else 255)
    if (nacp := part(rec, "090", "NACP")) is not None:
        want["nacp"] = nacp.as_uint() if nacp.as_uint() <= 11 else 255
        want["sil"] = part(rec, "090", "SIL").as_uint()


def callsign(bits: int) -> bytes:
    """libasterix's characters; one outside the 6-bit set (libasterix drops it) is a
    space, as in the CAT048 and CAT062 identifications; trailing spaces dropped."""
    chars = (StringICAO.to_char(bits >> (42 - 6 * c) & 0x3F) or " " for c in range(8))
    return "".join(chars).rstrip(" ").encode()


def expected(rec: Any, around: float) -> dict[str, object] | None:
    """The report libasterix's reading of ``rec`` gives; None for a record left out."""
    flags, drop = expected_flags(rec)
    if drop:
        return None
    want: dict[str, object] = {"time": expected_time(rec, around)}
    if (i080 := rec.get_item("080")) is not None:
        want["icao24"] = i080.variation.content.as_uint()
    expected_position(rec, want)
    flags |= expected_kinematics(rec, want)
    expected_quality(rec, want)
    if (i170 := rec.get_item("170")) is not None:
        want["callsign"] = callsign(i170.variation.content.as_uint())
    if (m3a := part(rec, "070", "MODE3A")) is not None:
        want["squawk"] = int(m3a.as_string())
    if (i020 := rec.get_item("020")) is not None:
        want["category"] = ECAT.get(i020.variation.content.as_uint(), 0)
    if (ps := part(rec, "200", "PS")) is not None:
        me = part(rec, "200", "ME")  # edition 2.1: a spare bit
        want["emergency"] = 1 if ps.as_uint() == 0 and me is not None and me.as_uint() \
            else ps.as_uint()
    want["flags"] = flags
    return want


def oracle(datagram: bytes, spec: Any, around: list[float]) -> list[dict[str, object]]:
    """The reports of a datagram's CAT021 records (``around`` one per record)."""
    wants = [expected(rec, near) for (_, rec), near in
             zip(oracle_records(datagram, {21: spec}), around, strict=True)]
    return [w for w in wants if w is not None]


def frame(datagram: bytes, bad: BadInput | None = None) -> tuple[np.ndarray, Records]:
    bad = bad if bad is not None else BadInput()
    data = np.frombuffer(datagram, np.uint8)
    return data, split_records(data, split_blocks(data, bad), bad)


def check(reports: np.ndarray, wants: list[dict[str, object]]) -> None:
    assert len(reports) == len(wants)
    for report, want in zip(reports, wants, strict=True):
        assert report["time"] == pytest.approx(want["time"], abs=1e-6)
        check_row(report, want, NAMES, FLOATS, UNKNOWN)
        assert report["sensor"] == SENSOR and report["source"] == SourceKind.ADSB
        assert report["df"] == 0xFF and report["typecode"] == 0xFF
        assert np.isnan(report["rssi"]) and np.isnan(report["pos_sigma"])


def block(*records: bytes) -> bytes:
    body = b"".join(records)
    return struct.pack(">BH", 21, 3 + len(body)) + body


def test_the_record_file_matches_libasterix(data_dir: Path) -> None:
    raw = (data_dir / "asterix" / "cat021_ed2.1_record.bin").read_bytes()
    data, framed = frame(raw)
    reports = decode_adsb(data, framed, SENSOR, AROUND)
    check(reports, oracle(raw, Cat_021_2_1, [AROUND]))
    # the record's MOPS version is 0: its NUCp 7 is NIC 8
    assert reports["nic"][0] == 8 and reports["callsign"][0] == b"EZS14ZH"


def created(items: dict[str, Any]) -> bytes:
    return Cat_021_2_6.cv_record.create(items).unparse().to_bytes()  # type: ignore[no-any-return]


REALISTIC: dict[str, Any] = {
    "010": (("SAC", 25), ("SIC", 10)),
    "040": [(("ATP", 0), ("ARC", 1), ("RC", 0), ("RAB", 0), None),
            (("DCR", 0), ("GBS", 0), ("SIM", 0), ("TST", 0), ("SAA", 0), ("CL", 0), None)],
    "071": 43199.0,
    "130": (("LAT", 50.1), ("LON", 8.6)),
    "131": (("LAT", 50.0999), ("LON", 8.6001)),
    "150": (("IM", 0), ("AS", ((0,), 250 / 3600))),
    "151": (("RE", 0), ("TAS", 402.0)),
    "080": 0x3C6586,
    "073": 43200.5,
    "075": 43200.25,
    "140": 37025.0,
    "090": [(("NUCRNACV", 2), ("NUCPNIC", 8), None),
            (("NICBARO", 1), ("SIL", 3), ("NACP", 9), None)],
    "210": ((0), ("VNS", 0), ("VN", 2), ("LTT", 2)),
    "070": (0, ("MODE3A", "7700")),
    "145": 370.0,
    "152": 92.5,
    "200": (("ICF", 0), ("LNAV", 0), ("ME", 0), ("PS", 1), ("SS", 1)),
    "155": (("RE", 0), ("BVR", -1000.0)),
    "157": (("RE", 0), ("GVR", -1012.5)),
    "160": (("RE", 0), ("GS", 450 / 3600), ("TA", 45.0)),
    "077": 43201.0,
    "170": "DLH4AB  ",
    "020": 5,
}


def test_a_realistic_record_libasterix_writes_matches_it() -> None:
    raw = block(created(REALISTIC))
    data, framed = frame(raw)
    reports = decode_adsb(data, framed, SENSOR, AROUND)
    check(reports, oracle(raw, Cat_021_2_6, [AROUND]))
    r = reports[0]  # and the values are the ones written: the in-range paths were taken
    assert (r["squawk"], r["category"], r["callsign"], r["emergency"]) == (7700, 0xA5,
                                                                          b"DLH4AB", 1)
    assert r["lat"] == pytest.approx(50.0999, abs=1e-6) and r["alt_baro"] == 37000
    assert r["airspeed"] == 402 and r["vertical_rate"] == -1000 and r["nic"] == 8
    assert r["time"] % DAY == 43200.5
    assert r["flags"] == ReportFlag.ALERT | ReportFlag.AIRSPEED_TAS | \
        ReportFlag.HEADING_MAGNETIC


def test_items_that_replace_each_other_and_the_records_left_out() -> None:
    """I021/157 when /155 is out of range; IAS when TAS is; /130 when /131 is off the
    globe; simulated targets kept as EXERCISE; test targets and field monitors out;
    heights at the edges of their ranges."""
    base = {"080": 0x123456, "073": 100.0}
    records = [
        {**base, "155": (("RE", 1), ("BVR", 0.0)), "157": (("RE", 0), ("GVR", 500.0))},
        {**base, "151": (("RE", 1), ("TAS", 0.0)), "150": (("IM", 0), ("AS", ((0,), 0.05)))},
        {**base, "150": (("IM", 1), ("AS", ((1,), 0.8)))},  # Mach: no knots
        {**base, "130": (("LAT", 10.0), ("LON", 20.0)),
         "131": (("LAT", 100.0), ("LON", 20.0))},
        {**base, "040": [(("ATP", 3), ("ARC", 0), ("RC", 0), ("RAB", 0), None),
                         (("DCR", 0), ("GBS", 1), ("SIM", 1), ("TST", 0), ("SAA", 0),
                          ("CL", 0), None)]},
        {**base, "040": [(("ATP", 0), ("ARC", 0), ("RC", 0), ("RAB", 1), None)]},
        {**base, "040": [(("ATP", 0), ("ARC", 0), ("RC", 0), ("RAB", 0), None),
                         (("DCR", 0), ("GBS", 0), ("SIM", 0), ("TST", 1), ("SAA", 0),
                          ("CL", 0), None)]},
        {"010": (("SAC", 1), ("SIC", 2))},  # no time at all: dated by around
        {**base, "145": 1500.25, "140": 150006.25},  # just above their ranges
        {**base, "145": -15.0, "140": -1500.0},  # at the bottoms
    ]
    raw = block(*(created(r) for r in records))
    data, framed = frame(raw)
    around = AROUND + np.arange(len(records)) * 10.0
    reports = decode_adsb(data, framed, SENSOR, around)
    check(reports, oracle(raw, Cat_021_2_6, list(around)))
    assert len(reports) == 8
    assert np.isnan(reports["alt_baro"][6]) and np.isnan(reports["alt_geo"][6])
    assert (reports["alt_baro"][7], reports["alt_geo"][7]) == (-1500, -1500)
    assert reports["flags"][0] == ReportFlag.VRATE_GEO and reports["vertical_rate"][0] == 500
    assert reports["airspeed"][1] == pytest.approx(180, abs=0.25)
    assert np.isnan(reports["airspeed"][2])
    assert reports["lat"][3] == pytest.approx(10.0, abs=1e-4)
    assert reports["flags"][4] == ReportFlag.NON_ICAO | ReportFlag.ON_GROUND | \
        ReportFlag.EXERCISE
    assert reports["time"][5] == around[-3]


def test_around_is_one_for_all_or_one_per_record() -> None:
    data, framed = frame(block(created({"073": 86399.0}), created({"073": 1.0})))
    midnight = 1_700_006_400.0  # 2023-11-15 00:00 UTC
    reports = decode_adsb(data, framed, SENSOR, midnight + 0.5)
    assert reports["time"].tolist() == [midnight - 1.0, midnight + 1.0]
    reports = decode_adsb(data, framed, SENSOR, np.array([midnight - 10, midnight + 10]))
    assert reports["time"].tolist() == [midnight - 1.0, midnight + 1.0]
    with pytest.raises(ValueError, match="around"):
        decode_adsb(data, framed, SENSOR, np.zeros(3))


def test_copies_from_two_ground_stations_share_their_frame_hash() -> None:
    aircraft = {"080": 0x3C6586, "130": (("LAT", 50.1), ("LON", 8.6)), "145": 370.0,
                "170": "DLH4AB  "}
    here = created({"010": (("SAC", 1), ("SIC", 1)), "073": 100.0, "077": 100.2,
                    "161": (0, ("TRNUM", 17)), **aircraft})
    there = created({"010": (("SAC", 2), ("SIC", 9)), "073": 100.0078125, "077": 100.6,
                     "040": [(("ATP", 0), ("ARC", 1), ("RC", 1), ("RAB", 0), None)],
                     "016": 4, **aircraft})
    moved = created({**aircraft, "130": (("LAT", 50.2), ("LON", 8.6))})
    station_only = created({"010": (("SAC", 1), ("SIC", 1)), "073": 100.0})
    data, framed = frame(block(here, there, moved, station_only))
    h = decode_adsb(data, framed, SENSOR, AROUND)["frame_hash"]
    assert h[0] == h[1] != 0 and h[2] not in (0, h[0]) and h[3] == 0


ITEMS_1_30 = list(range(1, 31))  # every item the decoder reads, and the station's


@st.composite
def random_record(draw: st.DrawFn) -> bytes:
    """A well-framed CAT021 record of random items with random contents."""
    frns = sorted(draw(st.sets(st.sampled_from(ITEMS_1_30), min_size=1, max_size=30)))
    fspec = bytearray(5)
    body = b""
    for f in frns:
        fspec[(f - 1) // 7] |= 0x80 >> ((f - 1) % 7)
        item = CAT021[f - 1]
        assert item is not None
        if f in (2, 17):  # I021/040 and /090: up to 5 and 4 parts, FX between them
            n = draw(st.integers(1, 5 if f == 2 else 4))
            raw = bytearray(draw(st.binary(min_size=n, max_size=n)))
            for k in range(n):
                raw[k] = raw[k] | 1 if k < n - 1 else raw[k] & 0xFE
            body += bytes(raw)
        else:
            body += draw(st.binary(min_size=item.a, max_size=item.a))
    used = max(k for k in range(5) if fspec[k]) + 1
    for k in range(used - 1):
        fspec[k] |= 1
    return bytes(fspec[:used]) + body


@settings(max_examples=300, deadline=None)
@given(st.lists(random_record(), min_size=1, max_size=6), st.floats(1e9, 2e9))
def test_random_records_match_libasterix(records: list[bytes], around: float) -> None:
    raw = block(*records)
    bad = BadInput()
    data, framed = frame(raw, bad)
    assert not bad.counts and len(framed.records) == len(records)
    check(decode_adsb(data, framed, SENSOR, around),
          oracle(raw, Cat_021_2_6, [around] * len(records)))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([b"\xff\xff\xff\xff\xc0", b""]), st.binary(max_size=400))
def test_any_bytes_decode_without_crashing(fspec: bytes, junk: bytes) -> None:
    """Random bytes (after an FSPEC of the first 30 items, or none) never crash: what
    does not frame is counted, and every value that comes out is within its range."""
    raw = block(fspec + junk)
    bad = BadInput(quiet=True)
    data, framed = frame(raw, bad)
    reports = decode_adsb(data, framed, SENSOR, AROUND)
    assert len(reports) <= len(framed.records)
    if not bad.total:  # then the records tile the block, up to zero padding
        end = int(framed.records["offset"][-1] + framed.records["length"][-1]) \
            if len(framed.records) else 3
        assert not data[end:].any()
    lat, lon = reports["lat"], reports["lon"]
    assert np.all(np.isnan(lat) | (np.abs(lat) <= 90)) and np.all(
        np.isnan(lon) | (np.abs(lon) <= 180))
    alt = reports["alt_baro"]
    assert np.all(np.isnan(alt) | ((alt >= -1500) & (alt <= 150000)))
    assert np.all(np.isfinite(reports["time"])) and np.all(reports["emergency"] <= 7)
    for name, top in (("nic", 11), ("nacp", 11), ("nacv", 4), ("sil", 3)):
        assert np.all((reports[name] <= top) | (reports[name] == 255)), name
    assert set(reports["category"].tolist()) <= {0, *ECAT.values()}
