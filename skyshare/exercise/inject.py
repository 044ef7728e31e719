"""The exercise's sensors: each simulated sensor's frames, sent to its node as a real
sensor's would be.

An ADS-B receiver (:class:`~skyshare.synth.feed.SyntheticFeed` on the scenario's
traffic: its radio horizon, random loss) pushes Beast or AVR over TCP to the node's
``listen:`` sensor, as a receiver feeding a remote aggregator does; a radar
(:class:`~skyshare.radar.sim.RadarSimulator`: coverage, detection probabilities, noise,
clutter) sends CAT048 plots and CAT034 north markers over UDP to the node's ``udp:``
sensor, with I048/020 SIM set.  The node's sensors are configured ``exercise: true``,
so everything read from them is marked EXERCISE at the codec.

Sensor events: a *failed* sensor sends nothing (an ADS-B receiver also drops its
connection, and reconnects when it comes back); a *degraded* one loses ``loss`` of its
frames and mixes ``garbage`` bytes of noise per good byte into its stream.

Time runs with the wall clock: every :data:`STEP_S` the frames of the elapsed time are
sent, stamped with the time they are sent.  :func:`warm_up` compiles the encoders and
the simulators first: a kernel compiling inside the loop would hold every sensor up
(and the loop skips lost time rather than burst it out).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

import numpy as np

from skyshare.exercise.scenario import Scenario, ScenarioSensor, SensorEvent
from skyshare.exercise.traffic import ScenarioTraffic
from skyshare.model import FrameBatch
from skyshare.radar.sim import RadarSimulator
from skyshare.radar.sim_output import datagrams_between
from skyshare.sources.avr import encode_avr
from skyshare.sources.beast import encode_beast
from skyshare.synth.feed import SyntheticFeed

log = logging.getLogger("skyshare.exercise")

STEP_S: Final = 0.1
SERIES_BIN_S: Final = 10.0
M_TO_FT: Final = 3.28084


@dataclass
class SensorLog:
    """What one simulated sensor sent: messages per :data:`SERIES_BIN_S` bin."""

    name: str
    messages: int = 0
    bins: dict[int, int] = field(default_factory=dict)

    def add(self, t_s: float, n: int) -> None:
        if n:
            self.messages += n
            key = int(t_s // SERIES_BIN_S)
            self.bins[key] = self.bins.get(key, 0) + n

    def series(self, duration_s: float) -> list[list[float]]:
        """[[t, messages/s], ...] for every bin of the exercise."""
        n = math.ceil(duration_s / SERIES_BIN_S)
        return [[k * SERIES_BIN_S, round(self.bins.get(k, 0) / SERIES_BIN_S, 2)]
                for k in range(n)]


def _window(events: list[SensorEvent], t_s: float) -> SensorEvent | None:
    """The sensor event in force at ``t_s`` (the last started), if any."""
    now = [e for e in events if e.at_s <= t_s < e.end_s]
    return now[-1] if now else None


class _Sender:
    """One sensor's frames for [t0, t1) (exercise seconds), degraded as scripted."""

    def __init__(self, sensor: ScenarioSensor, index: int, traffic: ScenarioTraffic,
                 events: list[SensorEvent], seed: int) -> None:
        self.sensor = sensor
        self.events = events
        self.start = traffic.start_time
        self.rng = np.random.default_rng([seed, index])
        self.log = SensorLog(sensor.name)
        self.feed: SyntheticFeed | None = None
        self.radar: RadarSimulator | None = None
        if sensor.radar is not None:
            self.radar = RadarSimulator(traffic, [sensor.radar],  # type: ignore[arg-type]
                                        seed=seed * 1000 + index, exercise=True)
        else:
            self.feed = SyntheticFeed(traffic, sensor=0,  # type: ignore[arg-type]
                                      receiver=(sensor.lat, sensor.lon),
                                      receiver_alt_ft=sensor.alt_m * M_TO_FT,
                                      loss=sensor.loss, seed=seed * 1000 + index)

    def payloads(self, t0: float, t1: float) -> tuple[SensorEvent | None, list[bytes]]:
        """The event in force and what to send for exercise time [t0, t1)."""
        event = _window(self.events, t0)
        if event is not None and event.kind == "fail":
            return event, []
        loss = event.loss if event is not None else 0.0
        if self.radar is not None:
            grams = [g for _, _, g in datagrams_between(self.radar, self.start + t0,
                                                        self.start + t1)]
            if loss > 0:
                grams = [g for g in grams if self.rng.random() >= loss]
            self.log.add(t0, len(grams))
            return event, grams
        assert self.feed is not None
        frames = self.feed.frames_between(self.start + t0, self.start + t1)
        if loss > 0:
            frames = frames[self.rng.random(len(frames)) >= loss]
        self.log.add(t0, len(frames))
        data = self._encode(frames)
        if event is not None and event.garbage > 0 and data:
            data = self._garble(data, event.garbage)
        return event, [data] if data else []

    def _encode(self, frames: FrameBatch) -> bytes:
        if not len(frames):
            return b""
        if self.sensor.format == "avr":
            return encode_avr(frames, with_clock=True)
        return encode_beast(frames)

    def _garble(self, data: bytes, garbage: float) -> bytes:
        """``data`` with ``garbage`` bytes of noise per byte spliced in at random places."""
        noise = self.rng.integers(0, 256, int(len(data) * garbage), np.uint8).tobytes()
        cuts = np.sort(self.rng.integers(0, len(data), 4))
        parts, last, k = [], 0, len(noise) // 4
        for i, cut in enumerate(cuts.tolist()):
            parts += [data[last:cut], noise[i * k:(i + 1) * k]]
            last = cut
        parts.append(data[last:])
        return b"".join(parts)


WARM_UP_S: Final = 8.0  # two radar turns: plots and north markers both get encoded


def warm_up(scenario: Scenario) -> None:
    """Produce (and drop) a few seconds of every kind of sensor's output in
    ``scenario``, so its kernels are compiled before exercise time starts."""
    traffic = ScenarioTraffic(scenario, time.time())
    kinds: dict[tuple[str, bool], ScenarioSensor] = {}
    for s in scenario.sensors:
        kinds.setdefault((s.format, s.radar is not None), s)
    garbled = SensorEvent(sensor="", kind="degrade", at_s=0.0, duration_s=WARM_UP_S,
                          loss=0.1, garbage=0.1)
    for i, sensor in enumerate(kinds.values()):
        sender = _Sender(sensor, i, traffic, [garbled], scenario.seed + 1)
        sender.payloads(0.0, WARM_UP_S)


class Injector:
    """Every sensor of a scenario, sending to ``targets`` (sensor name -> (host, port))."""

    def __init__(self, scenario: Scenario, traffic: ScenarioTraffic,
                 targets: dict[str, tuple[str, int]]) -> None:
        self.scenario = scenario
        self.targets = targets
        self.senders = [
            _Sender(s, i, traffic,
                    [e for e in scenario.sensor_events if e.sensor == s.name], scenario.seed)
            for i, s in enumerate(scenario.sensors)]
        self.elapsed_s = 0.0
        self._unreachable: set[str] = set()

    @property
    def logs(self) -> list[SensorLog]:
        return [s.log for s in self.senders]

    async def run(self, stop: asyncio.Event, clock: Callable[[], float] = time.time) -> None:
        """Send until the scenario's end (or ``stop``); exercise time 0 is the traffic's
        ``start_time``."""
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.setblocking(False)
        writers: dict[str, asyncio.StreamWriter | None] = {s.sensor.name: None
                                                           for s in self.senders}
        start = self.senders[0].start if self.senders else clock()
        done_s = 0.0
        try:
            while not stop.is_set() and done_s < self.scenario.duration_s:
                now_s = min(clock() - start, self.scenario.duration_s)
                if now_s - done_s > 1.0:  # a held-up loop: skip, never a burst
                    done_s = now_s - STEP_S
                if now_s > done_s:
                    for sender in self.senders:
                        await self._send(sender, done_s, now_s, writers, udp)
                    done_s = now_s
                self.elapsed_s = done_s
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), STEP_S)
        finally:
            udp.close()
            for writer in writers.values():
                if writer is not None:
                    writer.close()
                    with contextlib.suppress(OSError):
                        await writer.wait_closed()

    async def _send(self, sender: _Sender, t0: float, t1: float,
                    writers: dict[str, asyncio.StreamWriter | None],
                    udp: socket.socket) -> None:
        name = sender.sensor.name
        event, payloads = sender.payloads(t0, t1)
        host, port = self.targets[name]
        if sender.radar is not None:
            for gram in payloads:
                with contextlib.suppress(OSError):  # nobody listening yet: lost, as UDP is
                    udp.sendto(gram, (host, port))
            return
        writer = writers[name]
        if event is not None and event.kind == "fail":
            if writer is not None:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
                writers[name] = None
            return
        if writer is None or writer.is_closing():
            try:
                _, writer = await asyncio.open_connection(host, port)
            except OSError as exc:
                if name not in self._unreachable:  # once, not ten times a second
                    log.warning("exercise sensor %s: cannot reach %s:%d (%s); retrying",
                                name, host, port, exc)
                self._unreachable.add(name)
                return
            self._unreachable.discard(name)
            writers[name] = writer
        try:
            for data in payloads:
                writer.write(data)
            await writer.drain()
        except OSError:
            writer.close()
            writers[name] = None
