"""Hostile and damaged input: the decoder never crashes and never invents an address."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from modes_test_frames import crc, df11, df17, frames, load_jsonl, me_identification

from skyshare.badinput import BadInput
from skyshare.decode.modes import ModeSDecoder
from skyshare.model import FrameFlag, ReportFlag, empty_frames

ADDRESS = 0x3C6586
CLEAN = df17(ADDRESS, me_identification("DLH4AB"))


def verified_addresses(data: list[bytes]) -> set[int]:
    """Addresses a clean DF11 / DF17 / DF18 (ICAO, CF 0) in ``data`` vouches for."""
    out = set()
    for frame in data:
        if len(frame) < 7:
            continue
        df = frame[0] >> 3
        address = int.from_bytes(frame[1:4], "big")
        syndrome = crc(frame[:-3]) ^ int.from_bytes(frame[-3:], "big")
        if (df == 11 and len(frame) == 7 and syndrome < 80) or (
                df in (17, 18) and len(frame) == 14 and syndrome == 0):
            out.add(address)
    return out


frame_bytes = st.one_of(
    st.binary(min_size=0, max_size=16),
    st.binary(min_size=7, max_size=7),
    st.binary(min_size=14, max_size=14),
    st.binary(min_size=13, max_size=13).map(lambda b: bytes([0x8D]) + b),  # DF17 noise
    st.binary(min_size=6, max_size=6).map(lambda b: bytes([0x20]) + b),  # DF4 noise
    st.sampled_from([CLEAN, df11(ADDRESS), bytes(14), bytes(7), b"\xff" * 14]),
)
times = st.one_of(st.floats(0.0, 100.0), st.just(math.nan), st.just(math.inf))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(frame_bytes, times), max_size=60))
def test_random_bytes_never_crash_nor_invent_addresses(batch: list[tuple[bytes, float]]) -> None:
    data = [frame for frame, _ in batch]
    decoder = ModeSDecoder(reference=(50.0, 4.0))
    reports = decoder.decode(frames(data, [t for _, t in batch]))
    assert len(reports) <= len(data)
    assert set(reports["icao24"].tolist()) <= verified_addresses(data)
    assert sum(decoder.counts[k] for k in ("decoded", "crc-fail", "unknown-address",
                                           "mode-ac", "df-unsupported", "bad-length",
                                           "bad-time")) == len(data)
    assert (reports["frame_hash"] != 0).all()
    assert (np.diff(reports["time"]) >= 0).all()


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_white_noise_batch(seed: int) -> None:
    rng = np.random.default_rng(seed)
    batch = empty_frames(2000)
    batch["data"] = rng.integers(0, 256, size=(2000, 14), dtype=np.uint8)
    batch["length"] = rng.choice(np.array([2, 7, 14, 0, 255], dtype=np.uint8), size=2000)
    batch["time"] = np.sort(rng.uniform(0, 10, 2000))
    reports = ModeSDecoder().decode(batch)
    data = [bytes(batch["data"][i, : batch["length"][i]]) for i in range(len(batch))]
    assert set(reports["icao24"].tolist()) <= verified_addresses(data)


def test_all_zero_frames_are_skipped() -> None:
    bad: dict[int, BadInput] = {}
    decoder = ModeSDecoder(bad_for=lambda s: bad.setdefault(s, BadInput(str(s))))
    data = [bytes(14), bytes(7), bytes(2), b"", b"\xc0" + bytes(13)]
    reports = decoder.decode(frames(data, sensor=3))
    # A zero 7-byte frame is a DF0 whose address (its syndrome, 0) was never verified;
    # a zero 14-byte frame is a DF0 of the wrong length; 0xC0... is DF24 (Comm-D).
    assert len(reports) == 0
    assert bad[3].counts == {"unknown-address": 1, "df-unsupported": 1, "mode-ac": 1,
                             "bad-length": 2}


@settings(max_examples=200, deadline=None)
@given(st.integers(5, 111), st.sampled_from(["DLH4AB", "AFR12", "N123AB"]))
def test_single_bit_errors_are_repaired(bit: int, callsign: str) -> None:
    clean = df17(ADDRESS, me_identification(callsign))
    broken = bytearray(clean)
    broken[bit >> 3] ^= 0x80 >> (bit & 7)
    decoder = ModeSDecoder()
    reports = decoder.decode(frames([clean, bytes(broken)]))
    assert len(reports) == 2
    assert reports[1]["flags"] & ReportFlag.CRC_CORRECTED
    assert reports[1]["icao24"] == ADDRESS
    assert reports[1]["callsign"] == callsign.encode()
    assert reports[1]["frame_hash"] == reports[0]["frame_hash"]
    assert decoder.counts["crc-corrected"] == 1


@settings(deadline=None)
@given(st.integers(0, 4))
def test_the_downlink_format_is_never_repaired(bit: int) -> None:
    broken = bytearray(CLEAN)
    broken[0] ^= 0x80 >> bit
    reports = ModeSDecoder().decode(frames([CLEAN, bytes(broken)]))
    assert len(reports) == 1
    assert not reports["flags"][0] & ReportFlag.CRC_CORRECTED


def test_a_repair_alone_does_not_vouch_for_an_address() -> None:
    broken = bytearray(CLEAN)
    broken[6] ^= 0x04
    decoder = ModeSDecoder()
    assert len(decoder.decode(frames([bytes(broken)]))) == 0
    assert decoder.counts["crc-fail"] == 1
    # ... but after 60 s without a clean frame neither
    decoder.decode(frames([CLEAN], [0.0]))
    assert len(decoder.decode(frames([bytes(broken)], [61.0]))) == 0
    assert len(decoder.decode(frames([bytes(broken)], [59.0]))) == 1


def test_bit_errors_in_real_frames(data_dir: Path) -> None:
    rows = load_jsonl(data_dir / "modes" / "tutorial_17ac.jsonl.gz")
    clean = [bytes.fromhex(r["frame"]) for r in rows if r["df"] == "17"][::400]
    rng = np.random.default_rng(7)
    broken = []
    for frame in clean:
        bit = int(rng.integers(5, 112))
        b = bytearray(frame)
        b[bit >> 3] ^= 0x80 >> (bit & 7)
        broken.append(bytes(b))
    both = [frame for pair in zip(clean, broken, strict=True) for frame in pair]
    reports = ModeSDecoder().decode(frames(both))
    ok, fixed = reports[0::2], reports[1::2]
    assert len(fixed) == len(ok) == len(clean)
    assert (fixed["flags"] & ReportFlag.CRC_CORRECTED).all()
    for a, b in zip(ok, fixed, strict=True):
        for name in ("icao24", "typecode", "callsign", "alt_baro", "groundspeed", "frame_hash"):
            assert a[name] == b[name] or (np.isnan(a[name]) and np.isnan(b[name]))


def test_exercise_frames_stay_apart_from_real_ones() -> None:
    decoder = ModeSDecoder()
    exercise = decoder.decode(frames([CLEAN], flags=FrameFlag.EXERCISE))
    assert exercise["flags"][0] & ReportFlag.EXERCISE
    reply = bytearray(df11(ADDRESS))  # an exercise DF11 does not verify a real reply
    real_df4 = frames([bytes(reply)], [1.0], flags=FrameFlag.EXERCISE)
    decoder.decode(real_df4)
    from modes_test_frames import df4

    real = decoder.decode(frames([df4(ADDRESS, 5000)], [2.0]))
    assert len(real) == 0
    drill = decoder.decode(frames([df4(ADDRESS, 5000)], [3.0], flags=FrameFlag.EXERCISE))
    assert len(drill) == 1 and drill["flags"][0] & ReportFlag.EXERCISE
