"""SBS-1 BaseStation lines -> reports; framing of lines; bad and other lines."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skyshare.badinput import BadInput
from skyshare.decode.sbs import SbsDecoder
from skyshare.model import (
    NO_SQUAWK,
    REPORT_DTYPE,
    Emergency,
    ReportBatch,
    ReportFlag,
    SourceKind,
)
from skyshare.sources.base import SbsCodec
from skyshare.sources.sbs import MAX_LINE, SbsFramer

SETTINGS = settings(deadline=None, max_examples=60)
DATE = "2024/06/06,09:38:39.147,2024/06/06,09:38:39.147"
T0 = datetime(2024, 6, 6, 9, 38, 39, 147000, tzinfo=UTC).timestamp()
AIRBORNE = f"MSG,3,1,1,4CA2D6,1,{DATE},RYR1234,36000,450,270,43.6,1.37,-64,7700,0,-1,0,0\n"
SURFACE = f"MSG,2,1,1,4CA2D6,1,{DATE},,0,12,90,43.5,1.3,,,,,,-1\n"
IDENT = f"MSG,1,1,1,~3C4B26,1,{DATE},DLH4AB  ,,,,,,,,,,,\n"
SQUAWK = f"MSG,6,1,1,4CA2D6,1,{DATE},,,,,,,,7500,-1,-1,-1,0\r\n"
SURVEILLANCE = f"MSG,5,1,1,4CA2D6,1,{DATE},,35975,,,,,,,0,0,0,0\n"
AIR = f"AIR,,333,3,4CA2D6,3,{DATE}\n"


def decode(text: str, use_message_time: bool = True) -> tuple[ReportBatch, BadInput]:
    bad = BadInput("sbs")
    return SbsDecoder(5, bad, use_message_time).decode(text.encode(), 42.0), bad


def test_fields_of_each_message_type() -> None:
    reports, bad = decode(AIRBORNE + SURFACE + IDENT + SQUAWK + SURVEILLANCE + AIR)
    assert bad.counts == {"sbs-other": 1}
    assert reports.dtype == REPORT_DTYPE
    assert len(reports) == 5
    assert reports["time"].tolist() == pytest.approx([T0] * 5, abs=1e-6)
    assert (reports["sensor"] == 5).all() and (reports["df"] == 0xFF).all()
    assert (reports["frame_hash"] == 0).all() and np.isnan(reports["rssi"]).all()
    assert reports["source"].tolist() == [SourceKind.ADSB] * 3 + [SourceKind.MODES] * 2
    assert reports["icao24"].tolist() == [0x4CA2D6, 0x4CA2D6, 0x3C4B26, 0x4CA2D6, 0x4CA2D6]
    air = reports[0]
    assert air["callsign"] == b"RYR1234" and air["squawk"] == 7700
    assert (air["alt_baro"], air["groundspeed"], air["track"]) == (36000, 450, 270)
    assert (air["lat"], air["lon"], air["vertical_rate"]) == (43.6, 1.37, -64)
    assert air["emergency"] == Emergency.GENERAL
    assert air["flags"] == 0
    surface = reports[1]
    assert surface["flags"] == ReportFlag.ON_GROUND | ReportFlag.POSITION_SURFACE
    assert math.isnan(surface["vertical_rate"]) and surface["squawk"] == NO_SQUAWK
    assert reports[2]["callsign"] == b"DLH4AB" and reports[2]["flags"] == ReportFlag.NON_ICAO
    assert math.isnan(reports[2]["lat"])
    squawk = reports[3]
    assert squawk["squawk"] == 7500
    assert squawk["emergency"] == Emergency.UNLAWFUL_INTERFERENCE
    assert squawk["flags"] == ReportFlag.ALERT | ReportFlag.SPI
    assert reports[4]["alt_baro"] == 35975 and reports[4]["emergency"] == Emergency.NONE


def test_squawk_7600_with_emergency_flag() -> None:
    reports, _ = decode(SQUAWK.replace("7500", "7600"))
    assert reports["emergency"].tolist() == [Emergency.NO_COMMUNICATIONS]


def test_live_feed_time_is_the_read_time() -> None:
    reports, _ = decode(AIRBORNE + IDENT, use_message_time=False)
    assert reports["time"].tolist() == [42.0, 42.0]


def test_live_feed_needs_no_valid_date() -> None:
    reports, bad = decode(AIRBORNE.replace("2024/06/06", "bad"), use_message_time=False)
    assert len(reports) == 1 and bad.total == 0
    reports, bad = decode(AIRBORNE.replace("2024/06/06", "bad"), use_message_time=True)
    assert len(reports) == 0 and bad.counts == {"sbs-bad-line": 1}


@pytest.mark.parametrize("line", [
    "garbage\n",
    "MSG,9,1,1,4CA2D6,1\n",
    AIRBORNE.replace("4CA2D6", "4CA2DZ"),
    AIRBORNE.replace("4CA2D6", "1234567"),
    AIRBORNE.replace("36000", "36k"),
    AIRBORNE.replace("43.6", "93.6"),
    AIRBORNE.replace("7700", "7800"),
    AIRBORNE.replace("RYR1234", "RYR1234XYZ"),
    AIRBORNE.replace(",0,-1,0,0", ",0,yes,0,0"),
    "MSG,3,1,1,4CA2D6\n",
    "MSGX,3,1,1,4CA2D6,1," + DATE + "\n",
    "M" * (MAX_LINE + 10) + "\n",
])
def test_malformed_lines_are_counted_and_neighbours_kept(line: str) -> None:
    reports, bad = decode(AIRBORNE + line + IDENT)
    assert len(reports) == 2
    assert bad.counts == {"sbs-bad-line": 1}


def test_framer_keeps_the_incomplete_line() -> None:
    framer = SbsFramer(BadInput())
    assert framer.feed(AIRBORNE[:30].encode()) == b""
    assert framer.feed(AIRBORNE[30:].encode() + b"MSG,1") == AIRBORNE.encode()
    assert framer.finish() == b"MSG,1"


def test_codec_reads_a_last_line_without_newline() -> None:
    codec = SbsCodec(0, BadInput(), use_message_time=True)
    assert codec.feed((AIRBORNE + IDENT.rstrip()).encode(), 0.0).messages == 1
    out = codec.finish(0.0)
    assert len(out.reports) == 1 and len(out.frames) == 0
    assert out.reports["callsign"][0] == b"DLH4AB"


def feed_chunks(data: bytes, cuts: list[int]) -> tuple[ReportBatch, BadInput]:
    bad = BadInput("test")
    codec = SbsCodec(0, bad, use_message_time=True)
    edges = [0, *sorted(cuts), len(data)]
    parts = [codec.feed(data[a:b], 0.0).reports for a, b in itertools.pairwise(edges)]
    parts.append(codec.finish(0.0).reports)
    return np.concatenate(parts), bad


fragments = st.sampled_from([AIRBORNE, SURFACE, IDENT, SQUAWK, AIR, "MSG,", ",", "\n", "x",
                             "-1", "4CA2D6", DATE]).map(str.encode)


@SETTINGS
@given(st.lists(fragments, max_size=20).map(b"".join) | st.binary(max_size=150))
def test_any_split_gives_the_same_reports(data: bytes) -> None:
    whole, bad_whole = feed_chunks(data, [])
    for cut in range(0, len(data) + 1, 7):
        split, bad_split = feed_chunks(data, [cut])
        assert split.tobytes() == whole.tobytes()
        assert bad_split.counts == bad_whole.counts


@SETTINGS
@given(st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"") + b"\n"),
                min_size=3, max_size=3))
def test_good_lines_between_garbage_lines_are_kept(garbage: list[bytes]) -> None:
    text = garbage[0] + AIRBORNE.encode() + garbage[1] + IDENT.encode() + garbage[2]
    reports, _ = feed_chunks(text, [len(text) // 2])
    callsigns = reports["callsign"].tolist()
    assert b"RYR1234" in callsigns and b"DLH4AB" in callsigns
