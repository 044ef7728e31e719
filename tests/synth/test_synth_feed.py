"""The synthetic feed: message rates, timing, end-to-end decoding, recordings, Beast TCP."""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import socket
import time
from pathlib import Path

import numpy as np
import pyModeS
import pytest
import rs1090

from skyshare.badinput import BadInput
from skyshare.decode.crc import syndrome
from skyshare.model import FrameBatch, FrameFlag, frame_hex
from skyshare.sources.avr import AvrFramer
from skyshare.sources.beast import BeastFramer, encode_beast
from skyshare.synth.feed import SyntheticFeed, serve_beast, write_recording
from skyshare.synth.traffic import Traffic

T0 = 1.7e9


def typecodes(frames: FrameBatch) -> np.ndarray:
    return frames["data"][:, 4] >> 3


def addresses(frames: FrameBatch) -> np.ndarray:
    d = frames["data"].astype(np.uint32)
    return (d[:, 1] << 16) | (d[:, 2] << 8) | d[:, 3]


def test_rates_phases_and_fields() -> None:
    n, span = 200, 20.0
    feed = SyntheticFeed(Traffic(n, seed=1, start_time=T0))
    frames = feed.frames_between(T0, T0 + span)
    assert (np.diff(frames["time"]) >= 0).all()
    assert frames["time"].min() >= T0 and frames["time"].max() < T0 + span
    assert (syndrome(frames["data"], frames["length"]) == 0).all()
    assert (frames["flags"] == FrameFlag.CLOCK_VALID).all() and (frames["sensor"] == 0).all()
    assert ((frames["rssi"] >= -30) & (frames["rssi"] <= -3)).all()
    ticks = (frames["time"] - feed.clock_epoch) * 12e6
    assert np.abs(frames["clock"].astype(np.float64) - ticks).max() <= 1.0
    tc = typecodes(frames)
    per_aircraft_s = {"position": (tc == 11).sum(), "velocity": (tc == 19).sum(),
                      "identification": ((tc >= 1) & (tc <= 4)).sum(), "status": (tc == 28).sum()}
    rates = {k: v / n / span for k, v in per_aircraft_s.items()}
    assert abs(rates["position"] - 2.0) < 0.1 and abs(rates["velocity"] - 2.0) < 0.1
    assert abs(rates["identification"] - 0.2) < 0.02 and abs(rates["status"] - 0.2) < 0.02
    assert len(frames) == sum(per_aircraft_s.values())
    # one aircraft: positions every 0.4-0.6 s, alternating even/odd (F bit: ME bit 22)
    pos = frames[tc == 11]
    mine = pos[addresses(pos) == addresses(pos)[0]]
    assert np.all((np.diff(mine["time"]) > 0.39) & (np.diff(mine["time"]) < 0.61))
    odd = (mine["data"][:, 6] >> 2) & 1
    assert (np.diff(odd) != 0).all()
    # phases are spread: first positions of the aircraft cover the first half second
    first = np.array([pos["time"][addresses(pos) == a].min() for a in np.unique(addresses(pos))])
    assert np.histogram(first - T0, bins=5, range=(0, 0.6))[0].min() > 10


def test_any_split_of_a_span_gives_the_same_frames() -> None:
    feed = SyntheticFeed(Traffic(100, seed=2, start_time=T0))
    whole = feed.frames_between(T0, T0 + 6)
    edges = T0 + np.concatenate([[0], np.sort(np.random.default_rng(0).uniform(0, 6, 25)), [6]])
    parts = np.concatenate([feed.frames_between(a, b) for a, b in itertools.pairwise(edges)])
    assert np.array_equal(whole, parts)


def test_frames_decode_to_the_traffic_truth_in_rs1090() -> None:
    n = 60
    traffic = Traffic(n, seed=3, start_time=T0)
    feed = SyntheticFeed(traffic)
    frames = feed.frames_between(T0, T0 + 12)
    decoded = rs1090.decode(frame_hex(frames), frames["time"].tolist())
    slots = {int(a): i for i, a in enumerate(traffic.state(T0).icao24)}
    checked = {"position": 0, "velocity": 0, "callsign": 0}
    for j, msg in enumerate(decoded):
        slot = slots.get(int(msg["icao24"], 16))
        assert slot is not None
        truth = traffic.sample([slot], [frames["time"][j]])
        if "latitude" in msg:
            dlat = (msg["latitude"] - truth.lat[0]) * 111_195
            dlon = ((msg["longitude"] - truth.lon[0]) * 111_195
                    * math.cos(math.radians(truth.lat[0])))
            assert math.hypot(dlat, dlon) < 4.0
            assert abs(msg["altitude"] - truth.alt_baro[0]) <= 12.5
            checked["position"] += 1
        if msg.get("bds") == "09":
            assert abs(msg["groundspeed"] - truth.groundspeed[0]) <= 1.0
            assert abs((msg["track"] - truth.track[0] + 180) % 360 - 180) <= 1.0
            assert abs(msg["vertical_rate"] - truth.vertical_rate[0]) <= 32
            checked["velocity"] += 1
        if "callsign" in msg:
            assert msg["callsign"] == truth.callsign[0].decode()
            checked["callsign"] += 1
    assert checked["position"] > 0.9 * 2 * 12 * n
    assert checked["velocity"] > 0.9 * 2 * 12 * n and checked["callsign"] >= 2 * n


def test_receiver_horizon_signal_and_clock() -> None:
    traffic = Traffic(500, seed=4, start_time=T0)
    rx = (48.5, 7.5)
    feed = SyntheticFeed(traffic, receiver=rx, sensor=3, exercise=True)
    frames = feed.frames_between(T0, T0 + 4)
    assert (frames["sensor"] == 3).all()
    assert (frames["flags"] == FrameFlag.CLOCK_VALID | FrameFlag.EXERCISE).all()
    heard = np.unique(addresses(frames))
    state = traffic.state(T0 + 2)
    ground = 2 * 3440.065 * np.arcsin(np.sqrt(
        np.sin(np.radians(state.lat - rx[0]) / 2) ** 2 + np.cos(np.radians(rx[0]))
        * np.cos(np.radians(state.lat)) * np.sin(np.radians(state.lon - rx[1]) / 2) ** 2))
    horizon = 1.23 * np.sqrt(state.alt_baro)
    assert set(heard) <= set(state.icao24[ground < horizon + 5])
    assert set(state.icao24[ground < horizon - 5]) <= set(heard)
    assert 20 < len(heard) < 400
    # farther is weaker; the clock counts the reception time (about 6 us per NM later)
    slot_of = {a: i for i, a in enumerate(state.icao24.tolist())}
    at = traffic.sample([slot_of[int(a)] for a in addresses(frames)], frames["time"])
    p0, p1 = np.radians(rx[0]), np.radians(at.lat)
    a = (np.sin((p1 - p0) / 2) ** 2
         + np.cos(p0) * np.cos(p1) * np.sin(np.radians(at.lon - rx[1]) / 2) ** 2)
    far = 2 * 6_371_000.0 * np.arcsin(np.sqrt(a))
    slant = np.hypot(far, at.alt_baro * 0.3048)
    assert np.corrcoef(far, frames["rssi"])[0, 1] < -0.7
    delay = frames["clock"] / 12e6 - (frames["time"] - feed.clock_epoch)
    assert np.abs(delay - slant / 299_792_458).max() < 0.05e-6  # half a 12 MHz tick


def test_emergency_squawk_is_broadcast() -> None:
    traffic = Traffic(30, seed=5, start_time=T0)
    feed = SyntheticFeed(traffic, mode_a_period_s=None)
    assert not (typecodes(feed.frames_between(T0, T0 + 3)) == 28).any()
    target = int(traffic.state(T0).icao24[4])
    traffic.set_squawk(target, 7600)
    frames = feed.frames_between(T0 + 3, T0 + 11)
    status = frames[typecodes(frames) == 28]
    assert 9 <= len(status) <= 11 and (addresses(status) == target).all()
    p = pyModeS.decode(frame_hex(status)[0])
    assert p["squawk"] == "7600" and p["emergency_state"] == 4
    # by default every aircraft sends its code every ~5 s
    every = SyntheticFeed(traffic).frames_between(T0, T0 + 10)
    status = every[typecodes(every) == 28]
    assert len(np.unique(addresses(status))) == 30
    codes = {int(a): pyModeS.decode(h)["squawk"] for a, h in
             zip(addresses(status), frame_hex(status), strict=True)}
    truth = traffic.state(T0)
    assert all(codes[int(a)] == f"{q:04d}" for a, q in zip(truth.icao24, truth.squawk, strict=True))


@pytest.mark.parametrize("fmt", ["beast", "avr", "jsonl"])
def test_recordings_read_back(fmt: str, tmp_path: Path) -> None:
    feed = SyntheticFeed(Traffic(40, seed=6, start_time=T0))
    path = tmp_path / f"rec.{fmt}"
    n = write_recording(feed, path, 3.5, fmt)  # type: ignore[arg-type]
    expected = feed.frames_between(T0, T0 + 3.5)
    assert n == len(expected)
    raw = path.read_bytes()
    if fmt == "jsonl":
        rows = [json.loads(line) for line in raw.decode().splitlines()]
        assert [r["frame"].upper() for r in rows] == frame_hex(expected)
        assert np.allclose([r["timestamp"] for r in rows], expected["time"], rtol=0, atol=1e-6)
        return
    framer = (BeastFramer if fmt == "beast" else AvrFramer)(0, BadInput(), clock_epoch=T0)
    got = framer.feed(raw, 0.0)
    assert not framer.bad.counts
    assert np.array_equal(got["data"], expected["data"])
    assert np.array_equal(got["clock"], expected["clock"])
    assert np.allclose(got["time"] - got["time"][0], expected["time"] - expected["time"][0],
                       rtol=0, atol=1e-6)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_beast_streams_live_frames_over_tcp() -> None:
    port = free_port()
    n = 100
    feed = SyntheticFeed(Traffic(n, seed=7, start_time=time.time()))

    async def main() -> tuple[bytes, float, float]:
        stop = asyncio.Event()
        server = asyncio.create_task(serve_beast(feed, "127.0.0.1", port, stop=stop))
        for _ in range(100):
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:
                await asyncio.sleep(0.02)
        started = time.time()
        data = b""
        while time.time() - started < 1.2:
            data += await asyncio.wait_for(reader.read(65536), 1.0)
        ended = time.time()
        writer.close()
        stop.set()
        await asyncio.wait_for(server, 5)
        return data, started, ended

    data, started, ended = asyncio.run(main())
    framer = BeastFramer(0, BadInput())
    frames = framer.feed(data, ended)
    assert not framer.bad.counts
    assert (syndrome(frames["data"], frames["length"]) == 0).all()
    assert 0.7 * n * 4.2 < len(frames) < 1.5 * n * 4.2 * 1.2
    assert (frames["flags"] & FrameFlag.CLOCK_VALID).all()
    sent = feed.clock_epoch + frames["clock"] / 12e6  # realtime: frames carry the wall time
    assert sent.min() > started - 0.3 and sent.max() < ended + 0.1
    decoded = rs1090.decode(frame_hex(frames[:50]))
    assert all(d["df"] == "17" for d in decoded)



def test_serve_beast_as_fast_as_the_client_reads() -> None:
    port = free_port()
    feed = SyntheticFeed(Traffic(50, seed=8, start_time=T0))
    expected = feed.frames_between(T0, T0 + 10.0)  # ten simulated seconds
    wanted = len(encode_beast(expected))

    async def main() -> bytes:
        stop = asyncio.Event()
        server = asyncio.create_task(
            serve_beast(feed, "127.0.0.1", port, stop=stop, realtime=False))
        for _ in range(100):
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:
                await asyncio.sleep(0.02)
        data = b""
        while len(data) < wanted:
            data += await asyncio.wait_for(reader.read(65536), 5.0)
        writer.close()
        stop.set()
        await asyncio.wait_for(server, 5)
        return data

    started = time.monotonic()
    data = asyncio.run(main())
    assert time.monotonic() - started < 5.0  # far faster than real time
    frames = BeastFramer(0, BadInput()).feed(data, 0.0)
    # from the traffic's start, in order: the frames frames_between gives
    assert np.array_equal(frames["data"][: len(expected)], expected["data"])
