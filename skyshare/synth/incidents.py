"""Scripted emergencies for the synthetic demo traffic: now and then an airborne
aircraft squawks 7500, 7600 or 7700 for a while, so the alerts panel has something to
show.  (Exercises, with scoring and EXERCISE marking, are a separate feature; the demo
traffic is synthetic throughout and says so.)"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Final

import numpy as np

from skyshare.synth.traffic import EMERGENCY_SQUAWKS, Traffic

log = logging.getLogger("skyshare.synth")

MIN_ALTITUDE_FT: Final = 10_000.0  # cruising aircraft: they stay in the picture a while


def start_incident(traffic: Traffic, now: float, rng: np.random.Generator) -> int | None:
    """Make one random airborne aircraft squawk an emergency code; its address (None when
    nothing flies high enough)."""
    state = traffic.state(now)
    rows = np.flatnonzero(~state.on_ground & (state.alt_baro >= MIN_ALTITUDE_FT))
    if not len(rows):
        return None
    row = int(rng.choice(rows))
    code = int(rng.choice(EMERGENCY_SQUAWKS))
    traffic.set_squawk(int(state.icao24[row]), code)
    log.info("demo incident: %s (%06x) squawks %04d", state.callsign[row].decode(),
             int(state.icao24[row]), code)
    return int(state.icao24[row])


async def run_incidents(traffic: Traffic, every_s: float, duration_s: float, seed: int,
                        stop: asyncio.Event) -> None:
    """An incident every ``every_s`` (the first after 20 s), each lasting ``duration_s``."""
    rng = np.random.default_rng(seed)
    ending: list[tuple[float, int]] = []
    next_start = time.time() + min(20.0, every_s)
    while not stop.is_set():
        now = time.time()
        for end, address in [e for e in ending if e[0] <= now]:
            traffic.set_squawk(address, None)
            ending.remove((end, address))
        if now >= next_start:
            started = start_incident(traffic, now, rng)
            if started is not None:
                ending.append((now + duration_s, started))
            next_start = now + every_s
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)
