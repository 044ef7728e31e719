"""AVR framing: line forms, round trips, bad lines and any chunking."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skyshare.badinput import BadInput
from skyshare.model import FrameBatch, FrameFlag, empty_frames, frame_hex
from skyshare.sources.avr import MAX_LINE, AvrFramer, encode_avr
from skyshare.sources.beast import BeastFramer

SETTINGS = settings(deadline=None, max_examples=80)


@st.composite
def frame_batches(draw: st.DrawFn, max_size: int = 12) -> FrameBatch:
    n = draw(st.integers(0, max_size))
    frames = empty_frames(n)
    for i in range(n):
        length = draw(st.sampled_from([2, 7, 14]))
        frames["length"][i] = length
        frames["data"][i, :length] = list(draw(st.binary(min_size=length, max_size=length)))
        clock = draw(st.one_of(st.just(0), st.integers(1, (1 << 48) - 1)))
        frames["clock"][i] = clock
        frames["flags"][i] = ((FrameFlag.CLOCK_VALID if clock else 0)
                              | (FrameFlag.MODE_AC if length == 2 else 0))
    frames["time"] = 3.0
    return frames


def feed_chunks(data: bytes, cuts: list[int]) -> tuple[FrameBatch, BadInput]:
    bad = BadInput("test")
    framer = AvrFramer(0, bad)
    edges = [0, *sorted(cuts), len(data)]
    parts = [framer.feed(data[a:b], 3.0) for a, b in itertools.pairwise(edges)]
    parts.append(framer.finish(3.0))
    return np.concatenate(parts), bad


def same(a: FrameBatch, b: FrameBatch, clock: bool = True) -> bool:
    names = ["data", "length", "time"] + (["clock", "flags"] if clock else [])
    return len(a) == len(b) and all(np.array_equal(a[n], b[n]) for n in names)


def test_line_forms() -> None:
    text = (b"*8D4840D6202CC371C32CE0576098;\n"
            b"@0000159A3B2C5D4840D6202CC371C32CE0576098;\r\n"
            b"*02E18CA8F1D2ED\n"  # no ';'
            b"  *7700;  \n"  # Mode A/C, spaces around
            b"\n"
            b"*5d48520a0b0c0d;")  # lower case; the last line has no newline
    bad = BadInput()
    framer = AvrFramer(2, bad)
    frames = np.concatenate([framer.feed(text, 9.0), framer.finish(9.0)])
    assert bad.total == 0
    assert frame_hex(frames) == ["8D4840D6202CC371C32CE0576098", "5D4840D6202CC371C32CE0576098",
                                 "02E18CA8F1D2ED", "7700", "5D48520A0B0C0D"]
    assert frames["clock"].tolist() == [0, 0x159A3B2C, 0, 0, 0]
    assert frames["flags"].tolist() == [0, FrameFlag.CLOCK_VALID, 0, FrameFlag.MODE_AC, 0]
    assert np.isnan(frames["rssi"]).all() and (frames["time"] == 9.0).all()
    assert (frames["sensor"] == 2).all()


def test_dump1090_keepalive_is_dropped() -> None:
    bad = BadInput()
    frames = AvrFramer(0, bad).feed(b"*0000;\n*7700;\n@0000000000010000;\n", 0.0)
    assert frame_hex(frames) == ["7700", "0000"]
    assert bad.total == 0


def test_last_line_without_newline_is_read_at_finish() -> None:
    framer = AvrFramer(0, BadInput())
    assert len(framer.feed(b"*02E18CA8F1D2ED;", 0.0)) == 0
    assert frame_hex(framer.finish(0.0)) == ["02E18CA8F1D2ED"]


def test_bad_lines_are_counted_and_good_ones_kept() -> None:
    good = b"*8D4840D6202CC371C32CE0576098;\n"
    text = (good + b"*8D4840D6202CC371C32CE057609;\n" + good + b"*8D4840D6202CC371C32CE05760XY;\n"
            + good + b"hello\n" + good + b"@12345;\n" + good + b"*" + b"0" * 400 + b";\n" + good)
    frames, bad = feed_chunks(text, [])
    assert len(frames) == 6
    assert set(frame_hex(frames)) == {"8D4840D6202CC371C32CE0576098"}
    assert bad.counts == {"avr-bad-length": 3, "avr-bad-hex": 1, "avr-bad-line": 1}


def test_endless_line_does_not_grow_the_buffer() -> None:
    bad = BadInput()
    framer = AvrFramer(0, bad)
    for _ in range(100):
        framer.feed(b"*" * 1000, 0.0)
    assert len(framer._tail) <= MAX_LINE
    frames = framer.feed(b"\n*02E18CA8F1D2ED;\n", 0.0)
    assert frame_hex(frames) == ["02E18CA8F1D2ED"]
    assert bad.counts == {"avr-bad-length": 1}


@SETTINGS
@given(frame_batches(), st.booleans())
def test_encode_then_frame_round_trip(frames: FrameBatch, with_clock: bool) -> None:
    back, bad = feed_chunks(encode_avr(frames, with_clock=with_clock), [])
    assert bad.total == 0
    if not with_clock:
        frames["clock"] = 0
        frames["flags"] &= ~np.uint8(FrameFlag.CLOCK_VALID)
    keepalive = ((frames["length"] == 2) & (frames["clock"] == 0)
                 & (frames["data"][:, :2] == 0).all(axis=1))  # '*0000;' from dump1090
    assert same(back, frames[~keepalive])


@SETTINGS
@given(st.binary(max_size=100) | st.lists(st.sampled_from([b"*", b"@", b";", b"\n", b"\r",
                                                            b"8D", b"00", b"0", b"x"]),
                                          max_size=60).map(b"".join))
def test_arbitrary_bytes_split_anywhere_equal_unsplit(data: bytes) -> None:
    whole, bad_whole = feed_chunks(data, [])
    for cut in range(len(data) + 1):
        split, bad_split = feed_chunks(data, [cut])
        assert same(split, whole)
        assert bad_split.counts == bad_whole.counts


@SETTINGS
@given(frame_batches(max_size=6),
       st.lists(st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"") + b"\n"),
                min_size=7, max_size=7))
def test_valid_lines_between_garbage_lines_are_recovered(frames: FrameBatch,
                                                         garbage: list[bytes]) -> None:
    text = bytearray(garbage[0])
    for i in range(len(frames)):
        text += encode_avr(frames[i: i + 1]) + garbage[i + 1]
    got, _ = feed_chunks(bytes(text), [len(text) // 3])
    wanted = [h for h in frame_hex(frames) if h != "0000"]  # '*0000;' is a keepalive
    it = iter(frame_hex(got))
    assert all(any(w == g for g in it) for w in wanted)


def test_avr_and_beast_agree_on_the_real_recording(data_dir: Path) -> None:
    raw = (data_dir / "modes" / "sample_dump1090.beast").read_bytes()
    beast = BeastFramer(0, BadInput()).feed(raw, 1.0)
    avr, bad = feed_chunks(encode_avr(beast, with_clock=True), [1000, 5000])
    assert bad.total == 0
    assert frame_hex(avr) == frame_hex(beast)
    assert avr["clock"].tolist() == beast["clock"].tolist()


def test_recording_time_from_clock() -> None:
    long_zero = b"0" * 28
    framer = AvrFramer(0, BadInput(), clock_epoch=50.0)
    frames = framer.feed(b"*" + long_zero + b";\n@000000B71B00" + long_zero + b";\n*"
                         + long_zero + b";\n", 0.0)
    assert frames["time"].tolist() == pytest.approx([50.0, 50.0, 50.0])
    later = framer.feed(b"@000001C9C380" + long_zero + b";\n", 0.0)
    assert later["time"].tolist() == pytest.approx([51.5])
