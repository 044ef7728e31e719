"""Beast framing: a real recording, round trips, hostile bytes and any chunking."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skyshare.badinput import BadInput
from skyshare.decode.crc import syndrome
from skyshare.model import FRAME_DTYPE, FrameBatch, FrameFlag, empty_frames
from skyshare.sources.beast import BeastFramer, encode_beast, rssi_to_signal, signal_to_rssi

SETTINGS = settings(deadline=None, max_examples=80)
ESC = 0x1A


def frames_equal(a: FrameBatch, b: FrameBatch) -> bool:
    if len(a) != len(b):
        return False
    return all(np.array_equal(a[name], b[name], equal_nan=a[name].dtype.kind == "f")
               for name in FRAME_DTYPE.names or ())


def frame_bytes(frames: FrameBatch) -> list[bytes]:
    return [bytes(f["data"][: f["length"]]) for f in frames]


def naive_beast(raw: bytes) -> list[tuple[int, int, bytes]]:
    """An independent, obviously-correct reader of a clean Beast stream."""
    out = []
    i = 0
    while i < len(raw):
        assert raw[i] == ESC
        n = {0x31: 2, 0x32: 7, 0x33: 14}[raw[i + 1]]
        i += 2
        body = bytearray()
        while len(body) < 7 + n:
            if raw[i] == ESC:
                assert raw[i + 1] == ESC
                i += 1
            body.append(raw[i])
            i += 1
        out.append((int.from_bytes(body[:6], "big"), body[6], bytes(body[7:])))
    return out


@st.composite
def frame_batches(draw: st.DrawFn, max_size: int = 12) -> FrameBatch:
    """Random frames as a receiver would send them; bytes biased towards 0x1a."""
    n = draw(st.integers(0, max_size))
    frames = empty_frames(n)
    byte = st.one_of(st.just(ESC), st.integers(0, 255))
    for i in range(n):
        length = draw(st.sampled_from([2, 7, 14]))
        frames["length"][i] = length
        frames["data"][i, :length] = draw(st.lists(byte, min_size=length, max_size=length))
        clock = draw(st.one_of(st.just(0), st.just(0x1A1A1A1A1A1A),
                               st.integers(1, (1 << 48) - 1)))
        frames["clock"][i] = clock
        flags = (FrameFlag.CLOCK_VALID if clock else 0) | (FrameFlag.MODE_AC if length == 2
                                                           else 0)
        frames["flags"][i] = flags
        signal = draw(st.one_of(st.just(ESC), st.integers(0, 255)))
        frames["rssi"][i] = signal_to_rssi(np.array([signal], np.uint8))[0]
    frames["time"] = 7.0
    return frames


def without_keepalives(frames: FrameBatch) -> FrameBatch:
    """What the framer returns: all-zero Mode A/C frames are dump1090's keepalive."""
    keepalive = ((frames["length"] == 2) & (frames["clock"] == 0) & np.isnan(frames["rssi"])
                 & (frames["data"][:, :2] == 0).all(axis=1))
    kept: FrameBatch = frames[~keepalive]
    return kept


def feed_chunks(data: bytes, cuts: list[int], sensor: int = 0) -> tuple[FrameBatch, BadInput]:
    bad = BadInput("test")
    framer = BeastFramer(sensor, bad)
    parts = []
    edges = [0, *sorted(cuts), len(data)]
    for a, b in itertools.pairwise(edges):
        parts.append(framer.feed(data[a:b], 7.0))
    return np.concatenate(parts), bad


# ----------------------------------------------------------------------------- real data
def test_real_recording_frames(data_dir: Path) -> None:
    raw = (data_dir / "modes" / "sample_dump1090.beast").read_bytes()
    bad = BadInput("sample")
    frames = BeastFramer(3, bad).feed(raw, 1.5)
    assert bad.total == 0
    assert len(frames) == 239
    oracle = naive_beast(raw)
    assert frame_bytes(frames) == [body for _, _, body in oracle]
    assert frames["clock"].tolist() == [clock for clock, _, _ in oracle]
    assert (rssi_to_signal(frames["rssi"]).tolist() == [sig for _, sig, _ in oracle])
    assert (frames["sensor"] == 3).all() and (frames["time"] == 1.5).all()
    assert (frames["flags"] == FrameFlag.CLOCK_VALID).all()
    df = frames["data"][:, 0] >> 3
    counts = dict(zip(*np.unique(df, return_counts=True), strict=True))
    assert counts == {0: 44, 4: 39, 5: 12, 11: 90, 16: 1, 17: 23, 20: 16, 21: 14}
    assert ((frames["length"] == 14) == (df >= 16)).all()


def test_real_recording_crc(data_dir: Path) -> None:
    raw = (data_dir / "modes" / "sample_dump1090.beast").read_bytes()
    frames = BeastFramer(0, BadInput()).feed(raw, 0.0)
    data = frames["data"]
    df = data[:, 0] >> 3
    syn = syndrome(data, frames["length"])
    assert (syn[df == 17] == 0).all()
    assert (syn[df == 11] < 0x80).all()  # DF11: the syndrome is the interrogator code
    assert (syn[df == 11] == 0).sum() > 0
    announced = (data[:, 1].astype(np.uint32) << 16 | data[:, 2].astype(np.uint32) << 8
                 | data[:, 3])[(df == 11) | (df == 17)]
    address_parity = np.isin(df, [0, 4, 5, 16, 20, 21])
    assert np.isin(syn[address_parity], announced).all()


def test_real_recording_round_trip_is_byte_exact(data_dir: Path) -> None:
    raw = (data_dir / "modes" / "sample_dump1090.beast").read_bytes()
    frames = BeastFramer(0, BadInput()).feed(raw, 0.0)
    assert encode_beast(frames) == raw


def test_recording_time_from_clock(data_dir: Path) -> None:
    raw = (data_dir / "modes" / "sample_dump1090.beast").read_bytes()
    frames = BeastFramer(0, BadInput(), clock_epoch=1.7e9).feed(raw, 0.0)
    assert frames["time"][0] == 1.7e9
    assert frames["time"][-1] - frames["time"][0] == pytest.approx(23.9, abs=0.05)
    assert (np.diff(frames["time"]) >= 0).all()


def test_clock_wrap_keeps_time_increasing() -> None:
    frames = empty_frames(3)
    frames["length"] = 7
    frames["clock"] = [(1 << 48) - 12_000_000, (1 << 48) - 1, 12_000_000 - 1]
    frames["flags"] = FrameFlag.CLOCK_VALID
    framer = BeastFramer(0, BadInput(), clock_epoch=100.0)
    times = framer.feed(encode_beast(frames), 0.0)["time"]
    assert times.tolist() == pytest.approx([100.0, 101.0, 102.0], abs=1e-6)


# ----------------------------------------------------------------------------- round trips
@SETTINGS
@given(frame_batches())
def test_encode_then_frame_round_trip(frames: FrameBatch) -> None:
    bad = BadInput()
    back = BeastFramer(0, bad).feed(encode_beast(frames), 7.0)
    assert bad.total == 0
    assert frames_equal(back, without_keepalives(frames))


@SETTINGS
@given(frame_batches(), st.lists(st.integers(0, 400), max_size=6))
def test_any_chunking_gives_the_same_frames(frames: FrameBatch, cuts: list[int]) -> None:
    data = encode_beast(frames)
    back, bad = feed_chunks(data, [c % (len(data) + 1) for c in cuts])
    assert bad.total == 0
    assert frames_equal(back, without_keepalives(frames))


# ----------------------------------------------------------------------------- hostile bytes
@SETTINGS
@given(st.binary(max_size=120) | st.lists(st.sampled_from(b"\x1a\x1a\x31\x32\x33\x34\x00\xff"),
                                          max_size=120).map(bytes))
def test_arbitrary_bytes_split_anywhere_equal_unsplit(data: bytes) -> None:
    whole, bad_whole = feed_chunks(data, [])
    for cut in range(len(data) + 1):
        split, bad_split = feed_chunks(data, [cut])
        assert frames_equal(split, whole)
        assert bad_split.counts == bad_whole.counts
    bytewise, bad_bytewise = feed_chunks(data, list(range(len(data))))
    assert frames_equal(bytewise, whole)
    assert bad_bytewise.counts == bad_whole.counts


def is_subsequence(needles: list[bytes], haystack: list[bytes]) -> bool:
    it = iter(haystack)
    return all(any(n == h for h in it) for n in needles)


@SETTINGS
@given(frame_batches(max_size=6), st.lists(st.binary(max_size=40), min_size=7, max_size=7))
def test_valid_frames_between_garbage_are_recovered(frames: FrameBatch,
                                                    garbage: list[bytes]) -> None:
    # An odd run of 0x1a at the end of garbage escapes the next frame's 0x1a: that is
    # the protocol's one ambiguity, so garbage here never ends in 0x1a.
    garbage = [g.rstrip(b"\x1a") for g in garbage]
    stream = bytearray(garbage[0])
    for i in range(len(frames)):
        stream += encode_beast(frames[i: i + 1]) + garbage[i + 1]
    got, _ = feed_chunks(bytes(stream), [len(stream) // 2])
    assert is_subsequence(frame_bytes(without_keepalives(frames)), frame_bytes(got))


def test_bad_escape_unknown_type_and_garbage_are_counted() -> None:
    good = empty_frames(1)
    good["length"] = 7
    good["data"][0, :7] = [0x5D, 0x48, 0x52, 0x0A, 0x1A, 0x1A, 0x1A]
    one = encode_beast(good)
    stream = (one + b"\x1a\x07junk" + one + b"\x1a\x35abc" + one + b"hello" + one
              + one[:9] + one + b"\x1a\x34status!" + one)
    bad = BadInput()
    frames = BeastFramer(0, bad).feed(stream, 0.0)
    assert len(frames) == 6
    assert frame_bytes(frames) == frame_bytes(good) * 6
    assert bad.counts == {"beast-bad-escape": 2, "beast-unknown-type": 1, "beast-garbage": 1}


def test_dump1090_keepalive_is_dropped() -> None:
    keepalive = b"\x1a\x31" + bytes(9)
    real = b"\x1a\x31" + bytes(7) + b"\x77\x00"
    bad = BadInput()
    framer = BeastFramer(0, bad)
    assert framer.feed(keepalive, 0.0).size == 0
    assert frame_bytes(framer.feed(real + keepalive, 0.0)) == [b"\x77\x00"]
    assert bad.total == 0 and framer.good_bytes == 3 * len(keepalive)


def test_incomplete_frame_waits_for_the_next_read() -> None:
    good = empty_frames(1)
    good["length"] = 14
    data = encode_beast(good)
    framer = BeastFramer(0, BadInput())
    assert len(framer.feed(data[:5], 0.0)) == 0
    assert framer.pending_bytes == 5
    assert len(framer.feed(data[5:], 0.0)) == 1
    assert framer.pending_bytes == 0


def test_truncated_stream_is_counted_at_finish() -> None:
    good = empty_frames(1)
    good["length"] = 14
    bad = BadInput()
    framer = BeastFramer(0, bad)
    framer.feed(encode_beast(good)[:-3], 0.0)
    assert len(framer.finish(0.0)) == 0
    assert bad.counts == {"beast-truncated": 1}


def test_signal_byte_and_rssi() -> None:
    signal = np.arange(256, dtype=np.uint8)
    rssi = signal_to_rssi(signal)
    assert np.isnan(rssi[0]) and rssi[255] == 0.0
    assert rssi_to_signal(rssi).tolist() == signal.tolist()
    assert rssi_to_signal(np.array([-80.0, 3.0], np.float32)).tolist() == [1, 255]


def test_encode_rejects_other_lengths() -> None:
    frames = empty_frames(1)
    frames["length"] = 5
    with pytest.raises(ValueError, match="2-, 7- and 14-byte"):
        encode_beast(frames)
