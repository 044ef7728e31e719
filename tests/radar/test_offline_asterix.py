"""``skyshare decode`` and ``track`` on the real radar capture (CAT034 + CAT048 pcap)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from asterix_oracle import oracle_plots

from skyshare.badinput import BadInput
from skyshare.cli import main
from skyshare.decode.asterix.cat034 import decode_service
from skyshare.decode.asterix.records import split_records
from skyshare.sources.asterix import read_pcap, split_blocks

EARTH_M = 6_371_000.0


def spherical_place(rho: float, azimuth: float, height: float, lat0: float, lon0: float,
                    h0: float) -> tuple[float, float]:
    """Textbook radar placement on a sphere: ground arc from slant range and heights."""
    r0, r1 = EARTH_M + h0, EARTH_M + height
    arc = math.acos((r0 * r0 + r1 * r1 - rho * rho) / (2 * r0 * r1))
    p0, a = math.radians(lat0), math.radians(azimuth)
    p1 = math.asin(math.sin(p0) * math.cos(arc) + math.cos(p0) * math.sin(arc) * math.cos(a))
    l1 = math.radians(lon0) + math.atan2(math.sin(a) * math.sin(arc) * math.cos(p0),
                                         math.cos(arc) - math.sin(p0) * math.sin(p1))
    return math.degrees(p1), math.degrees(l1)


def test_decode_places_every_plot_where_its_radar_says(data_dir: Path, tmp_path: Path) -> None:
    pcap = data_dir / "asterix" / "cat034_cat048.pcap"
    out = tmp_path / "plots.csv"
    assert main(["decode", str(pcap), "-o", str(out)]) == 0
    rows = list(csv.DictReader(out.read_text().splitlines()))
    grams = read_pcap(pcap, BadInput())
    bad = BadInput(quiet=True)
    service = decode_service(grams.data, split_records(
        grams.data, split_blocks(grams.data, bad, grams.bounds), bad))
    site = service[np.isfinite(service["lat"])][0]
    want = [p for d in range(len(grams))
            for p in oracle_plots(grams.data[grams.bounds[d]:grams.bounds[d + 1]].tobytes())
            if 1 <= int(p.get("typ", 0)) <= 7 and "range_m" in p]
    assert len(rows) == len(want) > 100
    for row, plot in zip(rows, want, strict=True):
        assert row["source"] in ("radar_psr", "radar_ssr")
        if "icao24" in plot:
            assert int(row["icao24"], 16) == plot["icao24"]
        if "fl" in plot:
            assert float(row["alt_baro"]) == pytest.approx(100 * float(plot["fl"]))
            lat, lon = spherical_place(float(plot["range_m"]), float(plot["azimuth_deg"]),
                                       100 * float(plot["fl"]) * 0.3048, float(site["lat"]),
                                       float(site["lon"]), float(site["height_m"]))
            # the sphere differs from the WGS-84 ellipsoid by up to ~0.5 % of the range
            tolerance = 0.006 * float(plot["range_m"]) + 50.0
            d = math.hypot((float(row["lat"]) - lat) * 111_200.0,
                           (float(row["lon"]) - lon) * 111_200.0 * math.cos(math.radians(lat)))
            assert d < tolerance


def test_track_gives_one_track_per_aircraft(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "tracks.csv"
    assert main(["track", str(data_dir / "asterix" / "cat034_cat048.pcap"), "-o",
                 str(out)]) == 0
    rows = list(csv.DictReader(out.read_text().splitlines()))
    by_address: dict[str, set[str]] = {}
    for row in rows:
        if row["icao24"]:
            by_address.setdefault(row["icao24"], set()).add(row["track_id"])
    assert by_address and all(len(ids) == 1 for ids in by_address.values())


def test_a_radar_position_that_is_not_one_is_refused(data_dir: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["decode", str(data_dir / "asterix" / "cat034_cat048.pcap"), "-o",
                 str(tmp_path / "x.csv"), "--radar", "95,1"])
    assert code != 0
    assert "--radar '95,1'" in capsys.readouterr().err
