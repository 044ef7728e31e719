"""CAT062 system tracks as columns, checked against libasterix's decoding of the real
CAT062 records in ../shared/data/asterix (editions 1.12 and 1.16).  Not cat062.pcap:
its edition is older than 1.16 (see test_records.py), so the values read from it with
the 1.16-1.21 layout are garbage for any decoder (a latitude of 10,270 degrees)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from asterix.generated import Cat_062_1_19
from asterix_oracle import check_row, oracle_records, subitem
from hypothesis import given, settings
from hypothesis import strategies as st

from skyshare.badinput import BadInput
from skyshare.decode.asterix.cat062 import SYSTEM_TRACK_DTYPE, decode_system_tracks
from skyshare.decode.asterix.records import split_records
from skyshare.model import NO_ADDRESS, NO_SQUAWK
from skyshare.sources.asterix import split_blocks

FLOATS = {"tod", "lat", "lon", "x_m", "y_m", "vx_mps", "vy_mps", "fl", "alt_geo_ft",
          "alt_baro_ft", "vertical_rate_fpm"}
UNKNOWN = {"sac": 0, "sic": 0, "squawk": int(NO_SQUAWK), "callsign": b"",
           "icao24": int(NO_ADDRESS), "track_number": -1, "status": 0}


def oracle(datagram: bytes) -> list[dict[str, object]]:
    out = []
    for _, rec in oracle_records(datagram, {62: Cat_062_1_19}):
        def sub(item: str, name: str, rec: Any = rec) -> Any:
            return subitem(rec, item, name)
        row: dict[str, object] = {}
        if (sac := sub("010", "SAC")) is not None:
            row["sac"], row["sic"] = sac.as_uint(), sub("010", "SIC").as_uint()
        if (i070 := rec.get_item("070")) is not None:
            row["tod"] = i070.variation.content.as_quantity("s")
        if (lat := sub("105", "LAT")) is not None:
            row["lat"], row["lon"] = lat.as_quantity("°"), sub("105", "LON").as_quantity("°")
        if (x := sub("100", "X")) is not None:
            row["x_m"], row["y_m"] = x.as_quantity("m"), sub("100", "Y").as_quantity("m")
        if (vx := sub("185", "VX")) is not None:
            row["vx_mps"], row["vy_mps"] = vx.as_quantity("m/s"), sub("185", "VY").as_quantity(
                "m/s")
        if (m3a := sub("060", "MODE3A")) is not None:
            row["squawk"] = int(m3a.as_string())
        if (cs := sub("245", "CHR")) is not None:
            row["callsign"] = cs.as_string().rstrip(" ").encode()
        if (i380 := rec.get_item("380")) is not None and (
                adr := i380.variation.get_item("ADR")) is not None:
            row["icao24"] = adr.variation.content.as_uint()
        if (i040 := rec.get_item("040")) is not None:
            row["track_number"] = i040.variation.content.as_uint()
        if (i080 := rec.get_item("080")) is not None:
            row["status"] = i080.unparse().to_bytes()[0] & 0xFE
        if (i136 := rec.get_item("136")) is not None:
            row["fl"] = i136.variation.content.as_quantity("FL")
        if (i130 := rec.get_item("130")) is not None:
            row["alt_geo_ft"] = i130.variation.content.as_quantity("ft")
        if (ctb := sub("135", "CTB")) is not None:
            row["alt_baro_ft"] = ctb.as_quantity("FL") * 100.0
        if (i220 := rec.get_item("220")) is not None:
            row["vertical_rate_fpm"] = i220.variation.content.as_quantity("ft/min")
        out.append(row)
    return out


def tracks_of(data: np.ndarray) -> tuple[np.ndarray, BadInput]:
    bad = BadInput(quiet=True)
    return decode_system_tracks(data, split_records(data, split_blocks(data, bad), bad)), bad


def check(track: np.void, want: dict[str, object]) -> None:
    names = tuple(n for n in SYSTEM_TRACK_DTYPE.names or () if n != "record")
    check_row(track, want, names, FLOATS, UNKNOWN)


@pytest.mark.parametrize("name", ["cat062_ed1.12_record.bin", "cat062_ed1.16_record.bin"])
def test_the_record_files_match_libasterix(data_dir: Path, name: str) -> None:
    raw = (data_dir / "asterix" / name).read_bytes()
    (track,), bad = tracks_of(np.frombuffer(raw, np.uint8))
    (want,) = oracle(raw)
    assert not bad.counts
    check(track, want)
    assert np.isfinite(track["lat"]) and track["track_number"] >= 0


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_decode_without_crashing(junk: bytes) -> None:
    body = b"\xbf\xff\xff\x80" + junk  # FSPEC: most items up to I062/220, then whatever
    data = np.frombuffer(bytes([62, (3 + len(body)) >> 8, (3 + len(body)) & 0xFF]) + body,
                         np.uint8)
    tracks, _ = tracks_of(data)
    assert len(tracks) <= 1
    if len(tracks) and np.isfinite(tracks["lat"][0]):  # positions off the globe are NaN
        assert abs(tracks["lat"][0]) <= 90 and abs(tracks["lon"][0]) <= 180
