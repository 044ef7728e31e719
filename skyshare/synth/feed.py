"""What a receiver would hear from synthetic traffic: frames, a Beast server, recordings.

Each aircraft squitters like a DO-260B transponder: airborne position about twice a
second (even and odd CPR alternating), velocity about twice a second, identification
and the aircraft status with the Mode A code about every 5 s (status every 0.8 s in
an emergency), each at a phase of its own and jittered by up to +-10 % of the
period.  Transmission times are a hash of (seed, slot, message count),
so any split of a time span into :meth:`SyntheticFeed.frames_between` calls gives the
same frames.

With a ``receiver`` position only aircraft above its radio horizon are heard, the
signal level falls with distance, and ``clock`` counts the 12 MHz ticks of the
*reception* time (transmission time plus the propagation delay), as a receiver's
clock would for multilateration; ``time`` is always the transmission time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time as _time
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from skyshare.model import FrameBatch, FrameFlag, empty_frames, frame_hex
from skyshare.sources.avr import encode_avr
from skyshare.sources.beast import encode_beast
from skyshare.synth.encode import (
    encode_airborne_position,
    encode_emergency,
    encode_identification,
    encode_velocity,
)
from skyshare.synth.traffic import EMERGENCY_SQUAWKS, Traffic, TrafficState, hash_uniform

__all__ = ["RecordingFormat", "SyntheticFeed", "serve_beast", "write_recording"]

log = logging.getLogger(__name__)

TICKS_PER_S: Final = 12e6
LIGHT_NM_PER_S: Final = 299_792_458.0 / 1852.0
JITTER: Final = 0.1
"""Transmission times vary by up to +-10 % of the period."""
STEP_S: Final = 0.1
""":func:`serve_beast` sends the frames of each 100 ms."""
EMERGENCY_PERIOD_S: Final = 0.8
"""Aircraft squawking 7500/7600/7700 broadcast their status this often (DO-260B)."""
MAX_CATCH_UP_S: Final = 1.0
"""In realtime, a longer gap (a held-up event loop) is skipped, not sent in a burst."""
MAX_CLIENT_BUFFER: Final = 8 << 20
"""A Beast client that falls this many bytes behind is dropped."""
RecordingFormat = Literal["beast", "avr", "jsonl"]


class _Kind(IntEnum):
    """Message kinds, and the hash streams of their schedules."""

    POSITION = 101
    VELOCITY = 102
    IDENTIFICATION = 103
    STATUS = 104
    EMERGENCY = 105
    LOSS = 110
    RSSI = 120


@dataclass(frozen=True)
class _Schedule:
    """Transmissions of one message kind in a time span."""

    slot: npt.NDArray[np.int64]
    count: npt.NDArray[np.int64]  # message number of the slot (even/odd CPR: count & 1)
    time: npt.NDArray[np.float64]


class SyntheticFeed:
    """Frames a receiver would hear from ``traffic``.

    ``receiver``: (lat, lon) of the antenna; None hears every airborne aircraft at a
    random level.  ``mode_a_period_s``: period of the aircraft status message (TC 28)
    that carries the Mode A code, as version 2 transponders send it; None: only
    aircraft squawking 7500/7600/7700 send it (every 0.8 s, which they always do).
    ``loss``: fraction of frames dropped at random.  ``clock_epoch``: UNIX time of
    clock tick 0 (default: one minute before the traffic's start).
    """

    def __init__(self, traffic: Traffic, *, sensor: int = 0,
                 receiver: tuple[float, float] | None = None, receiver_alt_ft: float = 0.0,
                 position_period_s: float = 0.5, velocity_period_s: float = 0.5,
                 identification_period_s: float = 5.0, mode_a_period_s: float | None = 5.0,
                 loss: float = 0.0, exercise: bool = False, clock_epoch: float | None = None,
                 seed: int | None = None) -> None:
        self.traffic = traffic
        self.sensor = sensor
        self.receiver = receiver
        self.receiver_alt_ft = receiver_alt_ft
        self.position_period_s = position_period_s
        self.velocity_period_s = velocity_period_s
        self.identification_period_s = identification_period_s
        self.mode_a_period_s = mode_a_period_s
        self.loss = loss
        self.exercise = exercise
        self.clock_epoch = (math.floor(traffic.start_time) - 60.0 if clock_epoch is None
                            else float(clock_epoch))
        self.seed = traffic.seed if seed is None else seed

    # -- schedule
    def _schedule(self, t0: float, t1: float, period: float, kind: int) -> _Schedule:
        """Transmissions in [t0, t1): slot ``s`` sends message ``k`` at
        ``phase_s + k period + jitter_sk``."""
        slots = np.arange(self.traffic.n, dtype=np.int64)
        phase = hash_uniform(self.seed, slots, -1, kind) * period
        spread = JITTER * period
        first = np.floor((t0 - phase - spread) / period).astype(np.int64)
        last = np.floor((t1 - phase + spread) / period).astype(np.int64)
        width = int((last - first).max(initial=-1)) + 1
        if width <= 0:
            empty = np.zeros(0, dtype=np.int64)
            return _Schedule(empty, empty, np.zeros(0))
        count = first[:, None] + np.arange(width)
        slot = np.broadcast_to(slots[:, None], count.shape)
        jitter = (2.0 * hash_uniform(self.seed, slot, count, kind) - 1.0) * spread
        when = phase[:, None] + count * period + jitter
        keep = (when >= t0) & (when < t1)
        return _Schedule(slot[keep], count[keep], when[keep])

    # -- frames
    def frames_between(self, t0: float, t1: float) -> FrameBatch:
        """Frames transmitted in [t0, t1), sorted by time."""
        plan = {
            _Kind.POSITION: self._schedule(t0, t1, self.position_period_s, _Kind.POSITION),
            _Kind.VELOCITY: self._schedule(t0, t1, self.velocity_period_s, _Kind.VELOCITY),
            _Kind.IDENTIFICATION: self._schedule(t0, t1, self.identification_period_s,
                                                 _Kind.IDENTIFICATION),
        }
        if self.mode_a_period_s is not None:
            plan[_Kind.STATUS] = self._schedule(t0, t1, self.mode_a_period_s, _Kind.STATUS)
        if self.traffic.has_squawk_overrides:  # only overrides make emergency codes
            plan[_Kind.EMERGENCY] = self._schedule(t0, t1, EMERGENCY_PERIOD_S, _Kind.EMERGENCY)
        slots = np.concatenate([p.slot for p in plan.values()])
        times = np.concatenate([p.time for p in plan.values()])
        state = self.traffic.sample(slots, times)
        batches: list[FrameBatch] = []
        start = 0
        for kind, sched in plan.items():
            rows = np.arange(start, start + len(sched.slot))
            start += len(sched.slot)
            heard = self._heard(state, rows, sched, kind)
            batches.append(self._encode(kind, state, rows[heard], sched.slot[heard],
                                        sched.count[heard]))
        frames = np.concatenate(batches) if batches else empty_frames(0)
        return frames[np.argsort(frames["time"], kind="stable")]

    def _heard(self, state: TrafficState, rows: npt.NDArray[np.int64], sched: _Schedule,
               kind: int) -> npt.NDArray[np.bool_]:
        heard = ~state.on_ground[rows] & ~self.traffic.transponder_silent(
            state.icao24[rows], state.time[rows])
        if kind == _Kind.EMERGENCY:
            heard &= np.isin(state.squawk[rows], EMERGENCY_SQUAWKS)
        if self.loss > 0:
            heard &= hash_uniform(self.seed, sched.slot, sched.count, kind + _Kind.LOSS) \
                >= self.loss
        if self.receiver is not None:
            rng = self._range_nm(state, rows)
            horizon = 1.23 * (np.sqrt(np.maximum(state.alt_baro[rows], 0.0))
                              + math.sqrt(max(self.receiver_alt_ft, 0.0)))
            heard &= rng <= horizon
        return heard

    def _range_nm(self, state: TrafficState,
                  rows: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        assert self.receiver is not None
        lat0, lon0 = np.radians(self.receiver[0]), np.radians(self.receiver[1])
        lat, lon = np.radians(state.lat[rows]), np.radians(state.lon[rows])
        a = (np.sin((lat - lat0) / 2) ** 2
             + np.cos(lat0) * np.cos(lat) * np.sin((lon - lon0) / 2) ** 2)
        ground = 2 * 3440.065 * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
        height = (state.alt_baro[rows] - self.receiver_alt_ft) / 6076.12
        return np.asarray(np.hypot(ground, height))

    def _encode(self, kind: int, state: TrafficState, rows: npt.NDArray[np.int64],
                slot: npt.NDArray[np.int64], count: npt.NDArray[np.int64]) -> FrameBatch:
        icao = state.icao24[rows]
        if kind == _Kind.POSITION:
            frames = encode_airborne_position(icao, state.lat[rows], state.lon[rows],
                                              state.alt_baro[rows], (count & 1) == 1)
        elif kind == _Kind.VELOCITY:
            frames = encode_velocity(icao, state.groundspeed[rows], state.track[rows],
                                     state.vertical_rate[rows])
        elif kind == _Kind.IDENTIFICATION:
            frames = encode_identification(icao, state.callsign[rows], state.category[rows])
        else:
            frames = encode_emergency(icao, state.squawk[rows])
        t = state.time[rows]
        frames["time"] = t
        frames["sensor"] = self.sensor
        flags = FrameFlag.CLOCK_VALID | (FrameFlag.EXERCISE if self.exercise else FrameFlag.NONE)
        frames["flags"] = int(flags)
        u = hash_uniform(self.seed, slot, count, kind + _Kind.RSSI)
        since_epoch = t - self.clock_epoch  # exact; the delay is then added at full precision
        if self.receiver is None:
            frames["rssi"] = -30.0 + 27.0 * u
        else:
            rng = self._range_nm(state, rows)
            level = -3.0 - 27.0 * np.log10(np.maximum(rng, 5.0) / 5.0) / math.log10(50.0)
            frames["rssi"] = np.clip(level + 3.0 * (u - 0.5), -30.0, -3.0)
            since_epoch = since_epoch + rng / LIGHT_NM_PER_S
        ticks = np.floor(since_epoch * TICKS_PER_S + 0.5).astype(np.int64)
        frames["clock"] = np.maximum(ticks & ((1 << 48) - 1), 1).astype(np.uint64)
        return frames


# ----------------------------------------------------------------------------- outputs
def write_recording(feed: SyntheticFeed, path: str | Path, duration_s: float,
                    fmt: RecordingFormat = "beast", *, start: float | None = None) -> int:
    """Write ``duration_s`` seconds of the feed from ``start`` (default: the traffic's
    start) to ``path`` as Beast, AVR (``@`` lines with the 12 MHz clock) or JSON
    lines (``timestamp``, ``frame``, ``rssi``); returns the number of frames."""
    if fmt not in ("beast", "avr", "jsonl"):
        raise ValueError(f"unknown recording format {fmt!r} (beast, avr or jsonl)")
    t = feed.traffic.start_time if start is None else float(start)
    end = t + duration_s
    written = 0
    with Path(path).open("wb") as out:
        while t < end:
            t1 = min(t + 1.0, end)
            frames = feed.frames_between(t, t1)
            out.write(_serialise(frames, fmt))
            written += len(frames)
            t = t1
    return written


def _serialise(frames: FrameBatch, fmt: RecordingFormat) -> bytes:
    if fmt == "beast":
        return encode_beast(frames)
    if fmt == "avr":
        return encode_avr(frames, with_clock=True)
    lines = (json.dumps({"timestamp": float(ts), "frame": hx.lower(), "rssi": round(float(r), 1)})
             for ts, hx, r in zip(frames["time"], frame_hex(frames), frames["rssi"], strict=True))
    return "".join(f"{line}\n" for line in lines).encode()


async def serve_beast(feed: SyntheticFeed, host: str, port: int, *, stop: asyncio.Event,
                      realtime: bool = True, speedup: float = 1.0) -> None:
    """Serve the feed as Beast on ``host:port`` to every client until ``stop`` is set.

    Realtime: every 100 ms the frames of the elapsed simulated time are sent; the
    simulated clock starts at the current time and runs ``speedup`` times as fast as
    the wall clock (so with 1.0 frames carry the time they are sent).  Otherwise the
    feed starts at the traffic's start and runs as fast as the clients read (it waits
    for a first client).  Clients that fall far behind are dropped.
    """
    clients: set[asyncio.StreamWriter] = set()

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        clients.add(writer)
        with contextlib.suppress(ConnectionError, OSError):
            while await reader.read(4096):  # ignore what clients send; wait for EOF
                pass
        clients.discard(writer)
        writer.close()

    server = await asyncio.start_server(on_client, host, port)
    try:
        await _stream(feed, clients, stop, realtime, speedup)
    finally:
        server.close()
        for w in list(clients):
            w.close()
        with contextlib.suppress(Exception):
            await server.wait_closed()


async def _stream(feed: SyntheticFeed, clients: set[asyncio.StreamWriter], stop: asyncio.Event,
                  realtime: bool, speedup: float) -> None:
    wall0 = _time.time()
    sim = wall0 if realtime else feed.traffic.start_time
    while not stop.is_set():
        if realtime:
            wake = wall0 + math.ceil((_time.time() - wall0) / STEP_S + 1e-9) * STEP_S
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(0.0, wake - _time.time()))
            sim_next = wall0 + (_time.time() - wall0) * speedup
            if sim_next - sim > MAX_CATCH_UP_S * speedup:
                # the loop was held up: skip the gap, as a receiver that was off would,
                # rather than send a burst that live readers would stamp all at once
                log.debug("synthetic feed skipped %.1f s", sim_next - sim - STEP_S * speedup)
                sim = sim_next - STEP_S * speedup
        else:
            if not clients:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.05)
                continue
            sim_next = sim + STEP_S
        if clients and sim_next > sim:
            # compiled kernels release the GIL: generating off the loop keeps it responsive
            frames = await asyncio.to_thread(feed.frames_between, sim, sim_next)
            await _send(clients, encode_beast(frames), wait=not realtime)
        sim = max(sim, sim_next)


async def _send(clients: set[asyncio.StreamWriter], data: bytes, wait: bool) -> None:
    for w in list(clients):
        if w.is_closing() or w.transport.get_write_buffer_size() > MAX_CLIENT_BUFFER:
            if not w.is_closing():
                log.warning("dropping a Beast client that stopped reading")
            clients.discard(w)
            w.close()
            continue
        try:
            w.write(data)
            if wait:
                await w.drain()
        except (ConnectionError, OSError):
            clients.discard(w)
            w.close()
