"""Scripted emergencies for the synthetic demo traffic: now and then an airborne
aircraft squawks 7500, 7600 or 7700 for a while (or, with ``transponder``, every
other time one switches its transponder off, so only primary radar sees it), so the alerts
panel has something to show.  (Exercises, with scoring and EXERCISE marking, are a
separate feature; the demo traffic is synthetic throughout and says so.)"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Final

import numpy as np

from skyshare.alerts.rules import distance_nm
from skyshare.synth.traffic import EMERGENCY_SQUAWKS, Traffic

log = logging.getLogger("skyshare.synth")

MIN_ALTITUDE_FT: Final = 10_000.0  # cruising aircraft: they stay in the picture a while


def start_incident(traffic: Traffic, now: float, rng: np.random.Generator,
                   silence: tuple[float, float, float] | None = None) -> int | None:
    """Make one random airborne aircraft squawk an emergency code, or (``silence``:
    lat, lon, radius NM) one inside that circle switch its transponder off; its address
    (None when nothing flies high enough there)."""
    state = traffic.state(now)
    candidates = ~state.on_ground & (state.alt_baro >= MIN_ALTITUDE_FT)
    if silence is not None:
        lat, lon, radius = silence
        candidates &= distance_nm(state.lat, state.lon, lat, lon) <= radius
    rows = np.flatnonzero(candidates)
    if not len(rows):
        return None
    row = int(rng.choice(rows))
    code = int(rng.choice(EMERGENCY_SQUAWKS))
    address = int(state.icao24[row])
    if silence is not None:
        traffic.set_transponder_off(address, now)
        log.info("demo incident: %s (%06x) switches its transponder off",
                 state.callsign[row].decode(), address)
        return address
    traffic.set_squawk(address, code)
    log.info("demo incident: %s (%06x) squawks %04d", state.callsign[row].decode(),
             address, code)
    return address


async def run_incidents(traffic: Traffic, every_s: float, duration_s: float, seed: int,
                        stop: asyncio.Event,
                        transponder: tuple[float, float, float] | None = None) -> None:
    """An incident every ``every_s`` (the first after 20 s), each lasting ``duration_s``;
    with ``transponder`` (lat, lon, radius NM) every other one is a transponder switched
    off inside that circle."""
    rng = np.random.default_rng(seed)
    ending: list[tuple[float, int]] = []
    next_start = time.time() + min(20.0, every_s)
    count = 0
    while not stop.is_set():
        now = time.time()
        for end, address in [e for e in ending if e[0] <= now]:
            traffic.set_squawk(address, None)
            traffic.set_transponder_off(address, None)
            ending.remove((end, address))
        if now >= next_start:
            started = start_incident(traffic, now, rng,
                                     silence=transponder if count % 2 == 1 else None)
            count += 1
            if started is not None:
                ending.append((now + duration_s, started))
            next_start = now + every_s
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)
