"""CAT034 service messages as columns, checked against libasterix's decoding of every
CAT034 record of the real radar capture in ../shared/data/asterix."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from asterix.generated import Cat_034_1_29
from asterix_oracle import oracle_records, subitem

from skyshare.badinput import BadInput
from skyshare.decode.asterix.cat034 import NORTH_MARKER, SECTOR_CROSSING, decode_service
from skyshare.decode.asterix.records import split_records
from skyshare.sources.asterix import read_pcap, split_blocks


def oracle(datagram: bytes) -> list[dict[str, float]]:
    out = []
    for _, rec in oracle_records(datagram, {34: Cat_034_1_29}):
        row: dict[str, float] = {}
        row["sac"] = subitem(rec, "010", "SAC").as_uint()
        row["sic"] = subitem(rec, "010", "SIC").as_uint()
        row["message_type"] = rec.get_item("000").variation.content.as_uint()
        if (i030 := rec.get_item("030")) is not None:
            row["tod"] = i030.variation.content.as_quantity("s")
        if (i020 := rec.get_item("020")) is not None:
            row["sector_deg"] = i020.variation.content.as_quantity("°")
        if (i041 := rec.get_item("041")) is not None:
            row["rotation_s"] = i041.variation.content.as_quantity("s")
        if (i120 := rec.get_item("120")) is not None:
            v = i120.variation
            for name, key, unit in (("HGT", "height_m", "m"), ("LAT", "lat", "°"),
                                    ("LON", "lon", "°")):
                row[key] = v.get_item(name).variation.content.as_quantity(unit)
        out.append(row)
    return out


def test_every_service_message_of_the_radar_capture_matches_libasterix(
        data_dir: Path) -> None:
    grams = read_pcap(data_dir / "asterix" / "cat034_cat048.pcap", BadInput())
    bad = BadInput()
    framed = split_records(grams.data, split_blocks(grams.data, bad, grams.bounds), bad)
    service = decode_service(grams.data, framed)
    expected = [row for d in range(len(grams))
                for row in oracle(grams.data[grams.bounds[d]:grams.bounds[d + 1]].tobytes())]
    assert len(service) == len(expected) == 34
    for got, want in zip(service, expected, strict=True):
        for name in SERVICE_FIELDS:
            value = got[name].item()
            if name in want:
                assert value == pytest.approx(want[name], rel=1e-9, abs=1e-9), name
            else:
                assert math.isnan(value), name
    kinds = set(service["message_type"].tolist())
    assert kinds == {NORTH_MARKER, SECTOR_CROSSING}
    north = service[service["message_type"] == NORTH_MARKER]
    assert np.all(north["rotation_s"] > 0) and np.all(np.isfinite(north["lat"]))


SERVICE_FIELDS = ("sac", "sic", "message_type", "tod", "sector_deg", "rotation_s", "lat",
                  "lon", "height_m")
