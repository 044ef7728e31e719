"""CAT048 plots as columns, every value checked against libasterix's decoding of the
same records (the real radar capture and record file in ../shared/data/asterix)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from asterix.generated import Cat_048_1_32
from asterix_oracle import oracle_records
from hypothesis import given, settings
from hypothesis import strategies as st

from skyshare.asterix.cat048 import NM, PlotFlag, decode_plots
from skyshare.asterix.framing import read_pcap, split_blocks
from skyshare.asterix.records import split_records
from skyshare.badinput import BadInput
from skyshare.model import NO_ADDRESS, NO_SQUAWK


def oracle(datagram: bytes) -> list[dict[str, object]]:
    """The values libasterix reads from every CAT048 record of a datagram."""
    out = []
    for _, rec in oracle_records(datagram, {48: Cat_048_1_32}):
        def sub(item: str, name: str, rec=rec):  # type: ignore[no-untyped-def]
            i = rec.get_item(item)
            return None if i is None else i.variation.get_item(name).variation.content
        row: dict[str, object] = {}
        if (i010 := rec.get_item("010")) is not None:
            row["sac"] = i010.variation.get_item("SAC").variation.content.as_uint()
            row["sic"] = i010.variation.get_item("SIC").variation.content.as_uint()
        if (i140 := rec.get_item("140")) is not None:
            row["tod"] = i140.variation.content.as_quantity("s")
        if (typ := sub("020", "TYP")) is not None:
            row["typ"] = typ.as_uint()
            row["sim"] = sub("020", "SIM").as_uint()
        if (rho := sub("040", "RHO")) is not None:
            row["range_m"] = rho.as_quantity("NM") * NM
            row["azimuth_deg"] = sub("040", "THETA").as_quantity("°")
        if (m3a := sub("070", "MODE3A")) is not None:
            row["squawk"] = int(m3a.as_string())
            row["m3a_v"] = sub("070", "V").as_uint()
        if (fl := sub("090", "FL")) is not None:
            row["fl"] = fl.as_quantity("FL")
        if (i220 := rec.get_item("220")) is not None:
            row["icao24"] = i220.variation.content.as_uint()
        if (i240 := rec.get_item("240")) is not None:
            row["callsign"] = i240.variation.content.as_string().rstrip(" ").encode()
        if (trn := sub("161", "TRN")) is not None:
            row["track_number"] = trn.as_uint()
        if (gsp := sub("200", "GSP")) is not None:
            row["groundspeed_kt"] = gsp.as_quantity("NM/s") * 3600.0
            row["heading_deg"] = sub("200", "HDG").as_quantity("°")
        out.append(row)
    return out


def plots_of(data: np.ndarray, bounds: np.ndarray | None = None) -> np.ndarray:
    bad = BadInput(quiet=True)
    blocks = split_blocks(data, bad, bounds)
    return decode_plots(data, split_records(data, blocks, bad))


def check(plot: np.void, want: dict[str, object]) -> None:
    floats = {"tod", "range_m", "azimuth_deg", "fl", "groundspeed_kt", "heading_deg"}
    for name in ("sac", "sic", "tod", "typ", "range_m", "azimuth_deg", "squawk", "fl",
                 "icao24", "callsign", "track_number", "groundspeed_kt", "heading_deg"):
        got = plot[name].item()
        if name not in want:
            unknown = {"typ": 255, "squawk": int(NO_SQUAWK), "icao24": int(NO_ADDRESS),
                       "track_number": -1, "callsign": b"", "sac": 0, "sic": 0}
            assert (math.isnan(got) if name in floats else got == unknown[name]), name
        elif name in floats:
            assert got == pytest.approx(want[name], rel=1e-6, abs=1e-6), name
        else:
            assert got == want[name], name
    flags = int(plot["flags"])
    assert bool(flags & PlotFlag.SIMULATED) == bool(want.get("sim", 0))
    assert bool(flags & PlotFlag.MODE3A_INVALID) == bool(want.get("m3a_v", 0))


def test_every_plot_of_the_radar_capture_matches_libasterix(data_dir: Path) -> None:
    grams = read_pcap(data_dir / "asterix" / "cat034_cat048.pcap", BadInput())
    plots = plots_of(grams.data, grams.bounds)
    expected = [row for d in range(len(grams))
                for row in oracle(grams.data[grams.bounds[d]:grams.bounds[d + 1]].tobytes())]
    assert len(plots) == len(expected) == 128
    for plot, want in zip(plots, expected, strict=True):
        check(plot, want)
    assert (plots["icao24"] != NO_ADDRESS).any() and (plots["squawk"] != NO_SQUAWK).any()


def test_the_cat048_record_file_matches_libasterix(data_dir: Path) -> None:
    raw = (data_dir / "asterix" / "cat048_ed1.23_record.bin").read_bytes()
    (plot,) = plots_of(np.frombuffer(raw, np.uint8))
    (want,) = oracle(raw)
    check(plot, want)
    assert plot["callsign"] == b"RYR5XW" and plot["squawk"] == 470  # Mode 3/A 0470


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_decode_without_crashing(junk: bytes) -> None:
    body = b"\xff\xff\xff\x00" + junk  # FSPEC: the first 21 items, then whatever follows
    data = np.frombuffer(bytes([48, (3 + len(body)) >> 8, (3 + len(body)) & 0xFF]) + body,
                         np.uint8)
    plots = plots_of(data)
    assert len(plots) <= 1
    if len(plots):
        assert 0 <= plots["azimuth_deg"][0] < 360 and plots["range_m"][0] >= 0
